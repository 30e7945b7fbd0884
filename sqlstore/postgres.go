package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ginfresh/ginfresh"
)

// PostgreSQL statements. Parameters are cast where PostgreSQL could not
// infer their type. Writes that must not land late compare the server's
// clock_timestamp() (the time of evaluation, unlike now()) with a fence,
// once they hold the row they change: ON CONFLICT's WHERE runs after it
// locked the row, and the rotation locks its row first. (A plain UPDATE
// evaluates its WHERE before it waits for a lock, and again after only if
// the row changed meanwhile.)
var postgresStatements = statements{
	clock: `SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint`,

	// $1 key, $2 subject, $3 token, $4 started, $5 idle, $6 expires, $7 id,
	// $8 user agent, $9 address, $10 fence. Upserting the subject's row
	// locks it, which orders this login against RevokeSubject, and returns
	// its latest cut. Answers (refused, inserted); refused is NULL when the
	// statement ran past its fence.
	createSession: `
WITH sub AS (
	INSERT INTO ginfresh_subjects AS s (subject, horizon)
	SELECT $2::bytea, $6::bigint WHERE clock_timestamp() < $10::timestamptz
	ON CONFLICT (subject) DO UPDATE SET horizon = GREATEST(s.horizon, excluded.horizon)
		WHERE clock_timestamp() < $10::timestamptz
	RETURNING $4::bigint <= s.cut AND $4::bigint < s.cut_until AS refused
), ins AS (
	INSERT INTO ginfresh_sessions (key, started, idle_until, expires, subject, current, id, user_agent, address)
	SELECT $1::bytea, $4::bigint, LEAST($5::bigint, $6::bigint), $6::bigint, $2::bytea, $3::bytea, $7::text, $8::text, $9::text
	FROM sub WHERE NOT sub.refused
	ON CONFLICT (key) DO UPDATE SET started = excluded.started, refreshed = 0, idle_until = excluded.idle_until,
		expires = excluded.expires, revoked = false, subject = excluded.subject, current = excluded.current,
		previous = '\x', id = excluded.id, user_agent = excluded.user_agent, address = excluded.address
	RETURNING true
)
SELECT (SELECT refused FROM sub), EXISTS (SELECT FROM ins)`,

	// $1 key, $2 presented, $3 next, $4 now, $5 idle, $6 fence. One
	// conditional UPDATE decides every case on the row: the current token
	// rotates, the same step again changes nothing, any other token revokes
	// the session. The row is locked first (l), so that the fence is
	// checked once no one else holds it: an UPDATE alone evaluates its
	// WHERE before it waits for the lock, and again after only if the row
	// changed meanwhile. Answers (revoked, late): revoked is NULL when no
	// live session was updated, late whether the fence had passed by then
	// (OFFSET 0 keeps the subquery, and so the UPDATE, first).
	rotate: `
WITH l AS (
	SELECT key FROM ginfresh_sessions WHERE key = $1::bytea FOR UPDATE
), u AS (
	UPDATE ginfresh_sessions SET
		previous = CASE WHEN current = $2::bytea THEN current ELSE previous END,
		current = CASE WHEN current = $2::bytea THEN $3::bytea ELSE current END,
		refreshed = CASE WHEN current = $2::bytea THEN $4::bigint ELSE refreshed END,
		idle_until = CASE WHEN current = $2::bytea THEN LEAST($5::bigint, expires) ELSE idle_until END,
		revoked = current <> $2::bytea AND NOT (previous = $2::bytea AND current = $3::bytea)
	WHERE key = (SELECT key FROM l) AND NOT revoked AND length(current) > 0
		AND $4::bigint < expires AND $4::bigint <= idle_until
		AND clock_timestamp() < $6::timestamptz
	RETURNING revoked
)
SELECT r, clock_timestamp() >= $6::timestamptz FROM (SELECT (SELECT revoked FROM u) AS r OFFSET 0) AS x`,

	// $1 key, $2 subject, $3 now.
	revokeSession: `
UPDATE ginfresh_sessions SET revoked = true
WHERE key = $1::bytea AND subject = $2::bytea AND NOT revoked AND $3::bigint < expires AND $3::bigint <= idle_until`,

	// $1 subject, $2 at, $3 until. A later cut already covers an earlier
	// one, whose lifetime is never cut short.
	cut: `
INSERT INTO ginfresh_subjects AS s (subject, cut, cut_until, horizon) VALUES ($1::bytea, $2::bigint, $3::bigint, $3::bigint)
ON CONFLICT (subject) DO UPDATE SET cut = GREATEST(s.cut, excluded.cut),
	cut_until = GREATEST(s.cut_until, excluded.cut_until), horizon = GREATEST(s.horizon, excluded.horizon)`,
	// $1 subject.
	revokeAll: `UPDATE ginfresh_sessions SET revoked = true WHERE subject = $1::bytea AND NOT revoked`,

	// $1 key.
	revoked: `SELECT revoked FROM ginfresh_sessions WHERE key = $1::bytea`,
	// $1 subject, $2 now.
	sessions: `
SELECT id, started, refreshed, idle_until, expires, user_agent, address FROM ginfresh_sessions
WHERE subject = $1::bytea AND NOT revoked AND $2::bigint < expires AND $2::bigint <= idle_until
ORDER BY started, key`,

	// $1 key, $2 now, $3 the end of a window starting now.
	incr: `
INSERT INTO ginfresh_counters AS c (key, n, reset) VALUES ($1::bytea, 1, $3::bigint)
ON CONFLICT (key) DO UPDATE SET
	n = CASE WHEN c.reset <= $2::bigint THEN 1 ELSE c.n + 1 END,
	reset = CASE WHEN c.reset <= $2::bigint THEN excluded.reset ELSE c.reset END
RETURNING n, reset`,
	// $1 key.
	reset: `DELETE FROM ginfresh_counters WHERE key = $1::bytea`,

	// $1 before, $2 batch. SKIP LOCKED passes over rows a rotation (or
	// another instance's sweep) holds, and FOR UPDATE checks again that a
	// row it takes has not been pushed on meanwhile. The keys come back as
	// an array, so the DELETE looks each up in the primary key.
	sweep: [3]string{`
DELETE FROM ginfresh_sessions WHERE key = ANY (ARRAY (
	SELECT key FROM ginfresh_sessions WHERE idle_until < $1::bigint
	ORDER BY idle_until LIMIT $2::integer FOR UPDATE SKIP LOCKED))`, `
DELETE FROM ginfresh_subjects WHERE subject = ANY (ARRAY (
	SELECT subject FROM ginfresh_subjects WHERE horizon < $1::bigint
	ORDER BY horizon LIMIT $2::integer FOR UPDATE SKIP LOCKED))`, `
DELETE FROM ginfresh_counters WHERE key = ANY (ARRAY (
	SELECT key FROM ginfresh_counters WHERE reset < $1::bigint
	ORDER BY reset LIMIT $2::integer FOR UPDATE SKIP LOCKED))`},

	// Any constant will do, as long as no other app takes it.
	lock:          `SELECT pg_advisory_xact_lock(7215520240914)`,
	schemaTable:   `CREATE TABLE IF NOT EXISTS ginfresh_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
	schemaVersion: `SELECT coalesce(max(version), 0) FROM ginfresh_schema`,
	recordVersion: `INSERT INTO ginfresh_schema (version) VALUES ($1::integer)`,
}

// createSessionPostgres is CreateSession in one statement.
func (s *Store) createSessionPostgres(ctx context.Context, in ginfresh.Session, token string) error {
	var refused sql.NullBool
	var inserted bool
	err := s.db.QueryRowContext(ctx, s.q.createSession,
		digest(in.ID), digest(in.Subject), tokenDigest(token), us(in.Started), us(in.IdleUntil), us(in.Expires),
		in.ID, in.UserAgent, in.Address, s.fence(ctx)).Scan(&refused, &inserted)
	switch {
	case err != nil:
		return err
	case !refused.Valid:
		return errLate
	case refused.Bool:
		return ginfresh.ErrTokenRevoked
	case !inserted:
		return errLate // cannot happen: the subject's row was there
	}
	return nil
}

// rotatePostgres is Rotate in one fenced statement.
func (s *Store) rotatePostgres(ctx context.Context, r ginfresh.Rotation) (ginfresh.RotateResult, error) {
	var revoked sql.NullBool
	var late bool
	err := s.db.QueryRowContext(ctx, s.q.rotate,
		digest(r.Session), digest(r.Presented), digest(r.Next), us(r.Now), us(r.IdleUntil), s.fence(ctx)).Scan(&revoked, &late)
	switch {
	case err != nil:
		return 0, err
	case revoked.Valid && revoked.Bool:
		return ginfresh.Replayed, nil
	case revoked.Valid:
		return ginfresh.Rotated, nil
	case late:
		// Maybe the session ended, maybe not: the client's retry will tell.
		return 0, errLate
	}
	return ginfresh.SessionEnded, nil
}

// openPostgres opens a pool on the PostgreSQL at url. When a call's
// context ends, pgx asks the server to cancel the statement in flight (so
// that it rolls back) and gives up on the connection shortly after if the
// server does not answer.
func openPostgres(url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 100 * time.Millisecond}
	}
	db := stdlib.OpenDB(*cfg)
	// database/sql keeps 2 idle connections by default: under load the rest
	// would be opened and closed on every call.
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}
