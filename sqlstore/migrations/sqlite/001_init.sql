-- The same tables as on PostgreSQL (see migrations/postgres/001_init.sql):
-- times in microseconds since the Unix epoch, IDs as 16-byte digests,
-- booleans as 0 or 1. WITHOUT ROWID keeps each row in its primary key's
-- b-tree instead of beside it.

CREATE TABLE ginfresh_sessions (
	key        BLOB    NOT NULL PRIMARY KEY,
	started    INTEGER NOT NULL,
	refreshed  INTEGER NOT NULL DEFAULT 0,
	idle_until INTEGER NOT NULL,
	expires    INTEGER NOT NULL,
	revoked    INTEGER NOT NULL DEFAULT 0,
	subject    BLOB    NOT NULL,
	current    BLOB    NOT NULL,
	previous   BLOB    NOT NULL DEFAULT X'',
	id         TEXT    NOT NULL,
	user_agent TEXT    NOT NULL DEFAULT '',
	address    TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX ginfresh_sessions_subject ON ginfresh_sessions (subject, started);
CREATE INDEX ginfresh_sessions_end ON ginfresh_sessions (idle_until);

CREATE TABLE ginfresh_subjects (
	subject   BLOB    NOT NULL PRIMARY KEY,
	cut       INTEGER NOT NULL DEFAULT 0,
	cut_until INTEGER NOT NULL DEFAULT 0,
	horizon   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ginfresh_subjects_horizon ON ginfresh_subjects (horizon);

CREATE TABLE ginfresh_counters (
	key   BLOB    NOT NULL PRIMARY KEY,
	n     INTEGER NOT NULL,
	reset INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ginfresh_counters_reset ON ginfresh_counters (reset);
