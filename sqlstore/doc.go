// Package sqlstore keeps ginfresh sessions, revocations and login-throttle
// counters in PostgreSQL or SQLite, through database/sql, so that they
// outlive the process and every instance on the same database sees one
// truth: a refresh token rotated on one instance is a replay on all of
// them, and a logout on one is a logout everywhere.
//
// [Store] implements ginfresh.Store and ginfresh.Counter. Open it from a
// URL, create its tables, and hand it to ginfresh.WithStore:
//
//	store, err := sqlstore.Open(ctx, os.Getenv("DATABASE_URL")) // postgres://… or sqlite:path
//	…
//	defer store.Close()
//	if err := store.Migrate(ctx); err != nil { … }
//	auth, err := ginfresh.New(ginfresh.WithStore(store), ginfresh.WithAccessRevocation(), …)
//
// [New] takes a *sql.DB the app already has instead. PostgreSQL goes
// through github.com/jackc/pgx/v5/stdlib, SQLite through modernc.org/sqlite
// (pure Go, no cgo).
//
// # Schema
//
// [Store.Migrate] creates the tables from SQL embedded in the package, one
// file per schema version, and records each version it applies in
// ginfresh_schema; it is safe to run on every start and from several
// instances at once, and refuses a schema newer than it knows. The tables
// (see migrations/postgres/001_init.sql) are ginfresh_sessions, one row per
// session; ginfresh_subjects, one row per subject holding its revocation
// cut; and ginfresh_counters. Session IDs are kept as they are, so sessions
// can be listed; subjects, refresh-token IDs and throttle keys only as the
// first 128 bits of their SHA-256, and every row is found by such a digest
// (of the session ID, for sessions), so any string makes a valid key.
// Refresh and access tokens are never stored. Times are microseconds since
// the Unix epoch on the callers' clocks. Every statement finds its rows
// through an index.
//
// # Guarantees
//
// A refresh is one conditional UPDATE … RETURNING: of many concurrent
// refreshes with one token exactly one wins, whichever instance serves
// them, and the others, presenting a retired token, revoke the session as
// a replay. The very same Rotation again (a retried call) answers Rotated
// without changing anything, since the row keeps the previous token's
// digest. A login and [ginfresh.Auth.RevokeSubject] both write the
// subject's row first (on SQLite, one writer at a time anyway), so a login
// racing a revocation is either refused or revoked; the revocation cut
// keeps microseconds: a login a microsecond after it lives.
// A revoked session's row stays, marked, until the session would have
// ended, so [Store.Revoked] (every request, with
// ginfresh.WithAccessRevocation) is one primary-key lookup, answered at
// once on every instance.
//
// # Timeouts
//
// Calls use the caller's context, which ginfresh bounds by its store
// timeout. A change must never land after the caller gave up, or a client
// told "try again" would find its refresh token spent and its retry would
// end the session as a replay. On PostgreSQL the store measures the
// server's clock against its own, and a rotation (a login too) locks its
// row and then checks clock_timestamp() against a fence a little before
// the deadline: a statement that reaches its row late (it waited for a
// lock, the server or the network stalled, the cancel request was lost)
// changes nothing and fails. A stall in the middle of a commit, after the check,
// can still apply a change late; the fence shrinks that window from the
// length of the stall to that of a commit. When a context ends, pgx also
// asks the server to cancel the statement in flight, which then rolls
// back. SQLite runs in the process: a done context interrupts the
// statement, which rolls back, and a wait for the write lock ends with the
// context.
//
// # Expiry
//
// Rows that ended (sessions past their idle deadline or expiry, subjects
// without live sessions or cuts, counters past their window) are deleted
// by [Store.Sweep], which the store runs every minute, a minute after each
// row's end: a bounded batch per table per statement, never a lock on a
// whole table. On PostgreSQL sweeps skip rows other writers hold, so any
// number of instances may sweep at once, and readers never wait for them.
//
// # SQLite
//
// SQLite suits one machine: one or more processes on one database file
// (not a network file system). [Open] sets WAL mode (readers never wait for
// the writer), a 10s busy timeout, synchronous=NORMAL (a crash of the
// process loses nothing, a power cut may lose the last transactions) and
// BEGIN IMMEDIATE. SQLite allows one writer at a time: writes of one
// process queue in the store, honouring their contexts; those of several
// processes wait in SQLite's busy handler.
package sqlstore
