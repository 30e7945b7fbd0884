package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/ginfresh/ginfresh"
)

// CreateSession implements ginfresh.Store: one statement on PostgreSQL, one
// transaction on SQLite. Either way the subject's row is written first,
// which orders the login against RevokeSubject: a login that started at or
// before a cut it finds is refused, and one that RevokeSubject finds is
// revoked.
func (s *Store) CreateSession(ctx context.Context, in ginfresh.Session, token string) error {
	var err error
	if s.dialect == Postgres {
		err = s.createSessionPostgres(ctx, in, token)
	} else {
		err = s.createSessionSQLite(ctx, in, token)
	}
	if errors.Is(err, ginfresh.ErrTokenRevoked) {
		return ginfresh.ErrTokenRevoked
	}
	return wrap("create session", err)
}

// Rotate implements ginfresh.Store in one conditional UPDATE … RETURNING:
// of concurrent rotations of one token, on any number of instances, the
// row lock lets exactly one win, and each loser, finding the token
// retired, revokes the session as a replay. The same Rotation again (a
// retried call) finds Presented retired and Next current, and answers
// Rotated without changing anything. On PostgreSQL a statement that runs
// past its fence changes nothing and fails.
func (s *Store) Rotate(ctx context.Context, r ginfresh.Rotation) (ginfresh.RotateResult, error) {
	var res ginfresh.RotateResult
	var err error
	if s.dialect == Postgres {
		res, err = s.rotatePostgres(ctx, r)
	} else {
		res, err = s.rotateSQLite(ctx, r)
	}
	return res, wrap("rotate", err)
}

// RevokeSession implements ginfresh.Store in one UPDATE. The row stays,
// marked revoked, until the session would have ended, so that Revoked
// reports its access tokens.
func (s *Store) RevokeSession(ctx context.Context, subject, id string, now time.Time) error {
	if err := s.acquire(ctx); err != nil {
		return wrap("revoke session", err)
	}
	defer s.release()
	res, err := s.db.ExecContext(ctx, s.q.revokeSession, digest(id), digest(subject), us(now))
	if err != nil {
		return wrap("revoke session", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("revoke session", err)
	} else if n == 0 {
		return ginfresh.ErrSessionNotFound
	}
	return nil
}

// RevokeSubject implements ginfresh.Store in one transaction: the cut on
// the subject's row, whose lock (on SQLite, the write lock) waits for
// logins in flight to finish, then every session of the subject revoked,
// those logins' included.
func (s *Store) RevokeSubject(ctx context.Context, subject string, at, until time.Time) error {
	sub := digest(subject)
	return wrap("revoke subject", s.inTx(ctx, func(tx querier) error {
		if _, err := tx.ExecContext(ctx, s.q.cut, sub, us(at), us(until)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q.revokeAll, sub)
		return err
	}))
}

// Revoked implements ginfresh.Store: one primary-key lookup.
func (s *Store) Revoked(ctx context.Context, session string, _ time.Time) (bool, error) {
	var revoked bool
	err := s.db.QueryRowContext(ctx, s.q.revoked, digest(session)).Scan(&revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return revoked, wrap("revoked", err)
}

// Sessions implements ginfresh.Store: one range of the subject's index.
func (s *Store) Sessions(ctx context.Context, subject string, now time.Time) ([]ginfresh.Session, error) {
	rows, err := s.db.QueryContext(ctx, s.q.sessions, digest(subject), us(now))
	if err != nil {
		return nil, wrap("sessions", err)
	}
	defer rows.Close()
	var out []ginfresh.Session
	for rows.Next() {
		x := ginfresh.Session{Subject: subject}
		var started, refreshed, idle, expires int64
		if err := rows.Scan(&x.ID, &started, &refreshed, &idle, &expires, &x.UserAgent, &x.Address); err != nil {
			return nil, wrap("sessions", err)
		}
		x.Started, x.IdleUntil, x.Expires = time.UnixMicro(started), time.UnixMicro(idle), time.UnixMicro(expires)
		if refreshed != 0 {
			x.Refreshed = time.UnixMicro(refreshed)
		}
		out = append(out, x)
	}
	return out, wrap("sessions", rows.Err())
}

// querier is what a transaction offers the steps run in it.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in one transaction, committed when fn returns nil and
// rolled back otherwise (database/sql also rolls back when ctx ends).
// Every transaction of the store writes first, so on SQLite it holds the
// write lock before it reads anything.
func (s *Store) inTx(ctx context.Context, fn func(tx querier) error) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
