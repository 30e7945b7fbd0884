package ginfresh

import (
	"context"
	"time"
)

// Store keeps login sessions and revocations. Each method is one atomic
// step, so a backend can do it in one round trip and instances sharing the
// backend never both win the same refresh. The built-in [MemoryStore] suits
// one instance; the redisstore and sqlstore modules share sessions between
// instances. The storetest package is the conformance suite every backend
// runs.
//
// IDs (sid, jti) are random and not secret; subjects may be personal, and
// backends should store only digests of them. Times come from the caller's
// clock; a backend may keep them to the millisecond, but a session's
// Started and a subject's cut to the microsecond at least, so that a login
// a moment after [Auth.RevokeSubject] is told apart from one before it. Any error answers 503 to the client; a backend must not report
// success for a change it did not make, and must not make a change after
// ctx is done: a network backend that cannot recall a call already sent
// makes the server refuse it past ctx's deadline, so that a client told
// "try again" never finds its refresh already spent.
type Store interface {
	// CreateSession records s, whose current refresh token is token (""
	// for a session that hands out access tokens only). The record lives
	// until s.IdleUntil or s.Expires, whichever comes first. When the
	// subject's sessions were revoked at or after s.Started (a login that
	// raced [Auth.RevokeSubject]), it records nothing and returns
	// ErrTokenRevoked.
	CreateSession(ctx context.Context, s Session, token string) error

	// Rotate redeems a refresh token; see [Rotation] and [RotateResult].
	Rotate(ctx context.Context, r Rotation) (RotateResult, error)

	// RevokeSession ends the session id of subject: it can no longer
	// refresh, and Revoked reports its tokens. It returns
	// ErrSessionNotFound when subject has no live session id.
	RevokeSession(ctx context.Context, subject, id string, now time.Time) error

	// RevokeSubject ends every session of subject that exists now, and
	// refuses to create one started at or before at (a login in flight)
	// until until.
	RevokeSubject(ctx context.Context, subject string, at, until time.Time) error

	// Revoked reports whether the session was revoked (by RevokeSession,
	// RevokeSubject or a replay): its access tokens are refused. It runs on
	// every request when access revocation is on.
	Revoked(ctx context.Context, session string, now time.Time) (bool, error)

	// Sessions lists the live sessions of subject, oldest first.
	Sessions(ctx context.Context, subject string, now time.Time) ([]Session, error)
}

// Session is one login session: a family of refresh tokens and the access
// tokens minted from them, which all carry its ID as their sid claim.
type Session struct {
	ID      string
	Subject string
	// Started is when the user logged in, as precisely as the clock tells.
	Started time.Time
	// Refreshed is the last refresh, zero before the first.
	Refreshed time.Time
	// IdleUntil is when the session ends unless it refreshes first; each
	// refresh pushes it on. Expires is when it ends however active.
	IdleUntil time.Time
	Expires   time.Time
	// UserAgent and Address describe the client that logged in: its
	// User-Agent header (at most 256 bytes) and its address as the login
	// throttle names it.
	UserAgent string
	Address   string
}

// Rotation is one refresh. Rotating replaces the session's current refresh
// token, the one with ID Presented, by Next, and pushes the session's idle
// deadline to IdleUntil (never past its expiry); Next equal to Presented
// keeps the token (no rotation).
type Rotation struct {
	Session   string
	Presented string
	Next      string
	Now       time.Time
	IdleUntil time.Time
}

// RotateResult is what a refresh found.
type RotateResult uint8

const (
	// Rotated: Presented was the current token, and Next is now. A repeat
	// of the very same Rotation (a retried call) answers Rotated again
	// without changing anything.
	Rotated RotateResult = iota + 1
	// Replayed: Presented is a retired token of a live session. Someone
	// holds a copy: the store has revoked the session.
	Replayed
	// SessionEnded: the session is unknown, revoked, idle past its
	// deadline, past its expiry, or has no refresh token.
	SessionEnded
)

// LocalRevoker is implemented by a store that can often tell from memory,
// without I/O, whether a session was revoked, as the Redis store does from
// its local copy of revocations while that copy is current. The
// access-token check ([WithAccessRevocation]) asks it first, and calls
// Revoked, within the store timeout, only when it is not sure: checks are
// constant and revocations rare, so the usual check costs neither a round
// trip nor a deadline. A store that wraps such a store and changes what
// Revoked answers must implement RevokedLocally too (answering sure=false
// will do), or the check bypasses its Revoked.
type LocalRevoker interface {
	// RevokedLocally answers Revoked's question without I/O; sure is false
	// when only Revoked can tell.
	RevokedLocally(session string, now time.Time) (revoked, sure bool)
}

// Counter counts attempts in fixed windows, for the login throttle. A store
// that also implements Counter (the built-in ones do) shares the throttle
// between every instance that shares the store.
type Counter interface {
	// Incr counts one attempt under key and returns the count so far in the
	// current window and when that window ends. A window starts with the
	// first attempt after the previous one ended.
	Incr(ctx context.Context, key string, now time.Time, window time.Duration) (count int64, reset time.Time, err error)
	// Reset forgets key's attempts.
	Reset(ctx context.Context, key string) error
}
