package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" driver, pure Go

	"github.com/ginfresh/ginfresh"
)

// SQLite statements: those of PostgreSQL (see postgresStatements for their
// parameters) in SQLite's words. SQLite runs one writer at a time, and an
// autocommit write takes the write lock before it reads, so a single
// statement needs no row locks and no fence: the process is the server,
// and a cancelled call interrupts its statement, which rolls back.
var sqliteStatements = statements{
	// ?1 subject, ?2 expires, ?3 started. Answers whether the subject's
	// sessions were revoked at or after the start.
	subject: `
INSERT INTO ginfresh_subjects AS s (subject, horizon) VALUES (?1, ?2)
ON CONFLICT (subject) DO UPDATE SET horizon = max(s.horizon, excluded.horizon)
RETURNING ?3 <= cut AND ?3 < cut_until`,
	// ?1 key, ?2 started, ?3 idle, ?4 expires, ?5 subject, ?6 token, ?7 id,
	// ?8 user agent, ?9 address.
	insertSession: `
INSERT INTO ginfresh_sessions (key, started, idle_until, expires, subject, current, id, user_agent, address)
VALUES (?1, ?2, min(?3, ?4), ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (key) DO UPDATE SET started = excluded.started, refreshed = 0, idle_until = excluded.idle_until,
	expires = excluded.expires, revoked = 0, subject = excluded.subject, current = excluded.current,
	previous = X'', id = excluded.id, user_agent = excluded.user_agent, address = excluded.address`,

	// No row: no live session.
	rotate: `
UPDATE ginfresh_sessions SET
	previous = CASE WHEN current = ?2 THEN current ELSE previous END,
	current = CASE WHEN current = ?2 THEN ?3 ELSE current END,
	refreshed = CASE WHEN current = ?2 THEN ?4 ELSE refreshed END,
	idle_until = CASE WHEN current = ?2 THEN min(?5, expires) ELSE idle_until END,
	revoked = current <> ?2 AND NOT (previous = ?2 AND current = ?3)
WHERE key = ?1 AND NOT revoked AND length(current) > 0 AND ?4 < expires AND ?4 <= idle_until
RETURNING revoked`,

	revokeSession: `
UPDATE ginfresh_sessions SET revoked = 1
WHERE key = ?1 AND subject = ?2 AND NOT revoked AND ?3 < expires AND ?3 <= idle_until`,

	cut: `
INSERT INTO ginfresh_subjects AS s (subject, cut, cut_until, horizon) VALUES (?1, ?2, ?3, ?3)
ON CONFLICT (subject) DO UPDATE SET cut = max(s.cut, excluded.cut),
	cut_until = max(s.cut_until, excluded.cut_until), horizon = max(s.horizon, excluded.horizon)`,
	revokeAll: `UPDATE ginfresh_sessions SET revoked = 1 WHERE subject = ?1 AND NOT revoked`,

	revoked: `SELECT revoked FROM ginfresh_sessions WHERE key = ?1`,
	sessions: `
SELECT id, started, refreshed, idle_until, expires, user_agent, address FROM ginfresh_sessions
WHERE subject = ?1 AND NOT revoked AND ?2 < expires AND ?2 <= idle_until
ORDER BY started, key`,

	incr: `
INSERT INTO ginfresh_counters AS c (key, n, reset) VALUES (?1, 1, ?3)
ON CONFLICT (key) DO UPDATE SET
	n = CASE WHEN c.reset <= ?2 THEN 1 ELSE c.n + 1 END,
	reset = CASE WHEN c.reset <= ?2 THEN excluded.reset ELSE c.reset END
RETURNING n, reset`,
	reset: `DELETE FROM ginfresh_counters WHERE key = ?1`,

	sweep: [3]string{`
DELETE FROM ginfresh_sessions WHERE key IN (
	SELECT key FROM ginfresh_sessions WHERE idle_until < ?1 ORDER BY idle_until LIMIT ?2)`, `
DELETE FROM ginfresh_subjects WHERE subject IN (
	SELECT subject FROM ginfresh_subjects WHERE horizon < ?1 ORDER BY horizon LIMIT ?2)`, `
DELETE FROM ginfresh_counters WHERE key IN (
	SELECT key FROM ginfresh_counters WHERE reset < ?1 ORDER BY reset LIMIT ?2)`},

	// BEGIN IMMEDIATE already serialises Migrate.
	schemaTable:   `CREATE TABLE IF NOT EXISTS ginfresh_schema (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))`,
	schemaVersion: `SELECT coalesce(max(version), 0) FROM ginfresh_schema`,
	recordVersion: `INSERT INTO ginfresh_schema (version) VALUES (?1)`,
}

// createSessionSQLite is CreateSession in one transaction: the subject's
// latest cut, then the session unless the cut covers its start.
func (s *Store) createSessionSQLite(ctx context.Context, in ginfresh.Session, token string) error {
	return s.inTx(ctx, func(tx querier) error {
		var refused bool
		if err := tx.QueryRowContext(ctx, s.q.subject, digest(in.Subject), us(in.Expires), us(in.Started)).Scan(&refused); err != nil {
			return err
		}
		if refused {
			return ginfresh.ErrTokenRevoked
		}
		_, err := tx.ExecContext(ctx, s.q.insertSession, digest(in.ID), us(in.Started), us(in.IdleUntil), us(in.Expires),
			digest(in.Subject), tokenDigest(token), in.ID, in.UserAgent, in.Address)
		return err
	})
}

// rotateSQLite is Rotate in one statement.
func (s *Store) rotateSQLite(ctx context.Context, r ginfresh.Rotation) (ginfresh.RotateResult, error) {
	if err := s.acquire(ctx); err != nil {
		return 0, err
	}
	defer s.release()
	var revoked bool
	err := s.db.QueryRowContext(ctx, s.q.rotate,
		digest(r.Session), digest(r.Presented), digest(r.Next), us(r.Now), us(r.IdleUntil)).Scan(&revoked)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ginfresh.SessionEnded, nil
	case err != nil:
		return 0, err
	case revoked:
		return ginfresh.Replayed, nil
	}
	return ginfresh.Rotated, nil
}

// sqliteDSN is the modernc.org/sqlite DSN of the database file at path:
// the query given (driver parameters such as _pragma) plus, unless it sets
// them, WAL (readers never wait for the writer), a busy timeout (writers
// of other processes wait their turn), synchronous=NORMAL (a crash of the
// process loses nothing; a power cut may lose the last transactions) and
// BEGIN IMMEDIATE (a transaction takes the write lock before it reads).
func sqliteDSN(path, query string) (string, error) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", err
	}
	for k, v := range map[string]string{
		"_journal_mode": "WAL",
		"_busy_timeout": "10000",
		"_synchronous":  "NORMAL",
		"_txlock":       "immediate",
	} {
		if _, ok := q[k]; !ok {
			q.Set(k, v)
		}
	}
	if strings.ContainsAny(path, "?#") {
		return "", errors.New("the path may not hold ? or #")
	}
	return path + "?" + q.Encode(), nil
}
