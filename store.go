package ginfresh

import (
	"context"
	"time"
)

// Store keeps refresh-token families (login sessions) and revocations. Each
// method is one atomic step, so a backend can do it in one round trip and
// two instances sharing the backend never both win the same refresh. The
// signatures use only standard types: a backend does not import ginfresh.
//
// Token and session IDs are the jti and sid claims, random and not secret;
// backends may store digests of them. Times come from the caller's clock.
// Any error answers 503 to the client; a backend must not report success
// for a change it did not make.
type Store interface {
	// CreateFamily starts a session for subject whose current refresh token
	// is token. It lives until expires, or until idleUntil passes without a
	// rotation.
	CreateFamily(ctx context.Context, family, subject, token string, now, idleUntil, expires time.Time) error

	// Rotate replaces the family's current token presented by next and
	// pushes its idle deadline to idleUntil (capped at its expiry), as one
	// atomic step; next equal to presented keeps the token (no rotation).
	// On success it returns the family's absolute expiry. When presented is
	// not the current token of a live family, the family is revoked and
	// reused is true: a retired token came back. When the family is unknown,
	// revoked, expired, idle past its deadline, or started before its
	// subject's sessions were revoked, it returns the zero time.
	Rotate(ctx context.Context, family, presented, next string, now, idleUntil time.Time) (expires time.Time, reused bool, err error)

	// RevokeFamily ends a session. Unknown families are not an error.
	RevokeFamily(ctx context.Context, family string) error

	// RevokeSubject ends every session of subject started before at, and
	// marks access tokens issued before at as revoked. The mark may be
	// forgotten after until, when every token it covers has expired.
	RevokeSubject(ctx context.Context, subject string, at, until time.Time) error

	// RevokeToken marks one access token as revoked until it expires; now
	// is the caller's clock, so a backend can turn until into a TTL.
	RevokeToken(ctx context.Context, token string, now, until time.Time) error

	// Revoked reports whether the access token was revoked, or issued
	// before its subject's sessions were revoked.
	Revoked(ctx context.Context, token, subject string, issuedAt, now time.Time) (bool, error)
}

// Counter counts attempts in fixed windows, for the login throttle. A store
// that also implements Counter (both built-in ones do) shares the throttle
// across every instance that shares the store.
type Counter interface {
	// Incr counts one attempt under key and returns the count so far in the
	// current window and when that window ends. A window starts with the
	// first attempt after the previous one ended.
	Incr(ctx context.Context, key string, now time.Time, window time.Duration) (count int64, reset time.Time, err error)
	// Reset forgets key's attempts.
	Reset(ctx context.Context, key string) error
}
