-- Sessions, revocation cuts and throttle counters. Times are microseconds
-- since the Unix epoch on the callers' clocks; IDs are stored as the first
-- 16 bytes of their SHA-256, except a session's own ID (in id), which a
-- listing shows.

-- One row per session, revoked or not, until its end (idle_until).
-- Columns are ordered fixed-width first, so no padding is wasted.
CREATE TABLE ginfresh_sessions (
	key        bytea   PRIMARY KEY,           -- digest of the session ID
	started    bigint  NOT NULL,
	refreshed  bigint  NOT NULL DEFAULT 0,    -- 0: never refreshed
	idle_until bigint  NOT NULL,              -- the idle deadline, never past expires: the row's end
	expires    bigint  NOT NULL,
	revoked    boolean NOT NULL DEFAULT false,
	subject    bytea   NOT NULL,              -- digest of the subject
	current    bytea   NOT NULL,              -- digest of the current refresh-token ID; empty: access tokens only
	previous   bytea   NOT NULL DEFAULT '\x', -- digest of the token the last rotation retired
	id         text    NOT NULL,
	user_agent text    NOT NULL DEFAULT '',
	address    text    NOT NULL DEFAULT ''
);
-- Sessions (listing, oldest first) and RevokeSubject.
CREATE INDEX ginfresh_sessions_subject ON ginfresh_sessions (subject, started);
-- Sweep.
CREATE INDEX ginfresh_sessions_end ON ginfresh_sessions (idle_until);

-- One row per subject while a session or a revocation cut of it may
-- matter. Logins and RevokeSubject lock it, so that a login racing a
-- revocation is either refused or revoked.
CREATE TABLE ginfresh_subjects (
	subject   bytea  PRIMARY KEY,  -- digest of the subject
	cut       bigint NOT NULL DEFAULT 0, -- sessions started at or before it are revoked
	cut_until bigint NOT NULL DEFAULT 0, -- until when logins started before the cut are refused
	horizon   bigint NOT NULL            -- the row's end: the latest expiry or cut_until
);
CREATE INDEX ginfresh_subjects_horizon ON ginfresh_subjects (horizon);

-- Login-throttle counters, one per key, for one window each.
CREATE TABLE ginfresh_counters (
	key   bytea  PRIMARY KEY, -- digest of the throttle key
	n     bigint NOT NULL,
	reset bigint NOT NULL     -- the window's end: the row's end
);
CREATE INDEX ginfresh_counters_reset ON ginfresh_counters (reset);
