package ginfresh

import "errors"

// Errors returned by verification, guards and handlers. They wrap their
// cause (often a golang-jwt error), so errors.Is finds both.
var (
	// ErrInvalidRequest: the Authorization header is malformed (repeated,
	// empty token, oversized), the token came by two methods at once (RFC
	// 6750 §2), or a request body is not what the endpoint takes.
	ErrInvalidRequest = errors.New("ginfresh: invalid request")
	// ErrTokenMissing: the request carries no token at all.
	ErrTokenMissing = errors.New("ginfresh: token missing")
	// ErrTokenInvalid: the token is malformed, tampered with, signed by an
	// unknown key or carries claims that fail validation.
	ErrTokenInvalid = errors.New("ginfresh: token invalid")
	// ErrTokenExpired: the token is past its exp (it is also ErrTokenInvalid).
	ErrTokenExpired = errors.New("ginfresh: token expired")
	// ErrWrongTokenType: a refresh token where an access token is expected,
	// or the other way round (it is also ErrTokenInvalid).
	ErrWrongTokenType = errors.New("ginfresh: wrong token type")
	// ErrTokenRevoked: the token, its family or its subject's sessions were
	// revoked (it is also ErrTokenInvalid).
	ErrTokenRevoked = errors.New("ginfresh: token revoked")
	// ErrTokenReused: a retired refresh token was presented again; its whole
	// family is now revoked (it is also ErrTokenRevoked).
	ErrTokenReused = errors.New("ginfresh: refresh token reused")
	// ErrTokenNotFresh: a valid access token on a route that needs a fresh
	// one, or one whose auth_time is older than the route's MaxAge.
	ErrTokenNotFresh = errors.New("ginfresh: token not fresh")
	// ErrInvalidCredentials: the authenticator refused the username and password.
	ErrInvalidCredentials = errors.New("ginfresh: invalid credentials")
	// ErrSubjectMismatch: fresh-login re-authenticated a different user than
	// the one whose access token the request carries.
	ErrSubjectMismatch = errors.New("ginfresh: subject mismatch")
	// ErrStoreUnavailable: the session store failed or timed out. Nothing was
	// changed that the client was told about.
	ErrStoreUnavailable = errors.New("ginfresh: store unavailable")
	// ErrKeyUnavailable: this instance only verifies tokens and cannot mint them.
	ErrKeyUnavailable = errors.New("ginfresh: no signing key")
	// ErrTooManyAttempts: the client made too many password attempts; the
	// answer's Retry-After says when it may try again (see [Throttle] and
	// [RetryAfter]).
	ErrTooManyAttempts = errors.New("ginfresh: too many attempts")
	// ErrInvalidKey: key material was refused when building a [Key]: the
	// wrong type, curve or size for its algorithm, or a PEM file that is
	// encrypted, malformed or holds more than one block.
	ErrInvalidKey = errors.New("ginfresh: invalid key")
	// ErrKeySetUnavailable: the remote JWK Set of [WithJWKSURL] has never
	// been fetched successfully, so no token can be checked yet.
	ErrKeySetUnavailable = errors.New("ginfresh: key set unavailable")
	// ErrCSRF: a state-changing request that relies on cookies came from
	// another origin, or its X-CSRF-Token header is missing or does not match
	// the token's csrf claim and the CSRF cookie.
	ErrCSRF = errors.New("ginfresh: cross-site request refused")
)

// tokenError wraps cause under a ginfresh sentinel, and under ErrTokenInvalid
// for the sentinels that refine it, so callers can test any of them.
func tokenError(sentinel, cause error) error {
	return wrapped{sentinel, cause}
}

// wrapped reads "sentinel: cause" and unwraps to both.
type wrapped struct{ sentinel, cause error }

func (w wrapped) Error() string {
	if w.cause == nil {
		return w.sentinel.Error()
	}
	return w.sentinel.Error() + ": " + w.cause.Error()
}

func (w wrapped) Unwrap() []error {
	errs := make([]error, 0, 3)
	errs = append(errs, w.sentinel)
	switch w.sentinel {
	case ErrTokenExpired, ErrWrongTokenType, ErrTokenRevoked:
		errs = append(errs, ErrTokenInvalid)
	case ErrTokenReused:
		errs = append(errs, ErrTokenRevoked, ErrTokenInvalid)
	}
	if w.cause != nil {
		errs = append(errs, w.cause)
	}
	return errs
}
