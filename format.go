package ginfresh

// Format turns a claims set into a token string and back. JWT (JWS compact
// serialization) is built in; the paseto module provides PASETO v4. A format
// only signs (or seals) and checks integrity and the token's kind: Auth
// encodes and decodes the claims and checks their values (exp, nbf, iat,
// sub, iss, aud) the same way for every format, so guards, freshness and
// revocation behave alike.
//
// A format may also have a method DeriveKey(label string) []byte that
// returns a secret derived from its signing key under label. The login
// throttle keys its digests with it, so that instances sharing the format's
// key share their counters; without it each instance draws a random key
// (see [Throttle]).
type Format interface {
	// Issue returns payload, a JSON claims set whose dates are NumericDates,
	// as a signed (or sealed) token of kind k.
	Issue(k Kind, payload []byte) (string, error)
	// Verify checks the token's integrity and that it is of kind k, and
	// returns its payload: the claims set Issue was given (the members may
	// come back in another order or escaped otherwise), which the caller
	// owns. Errors wrap [ErrTokenInvalid], [ErrWrongTokenType]
	// for a genuine token of the other kind, or [ErrKeySetUnavailable]
	// when the keys to check it are out of reach.
	Verify(k Kind, token string) ([]byte, error)
	// CanIssue reports whether the format holds a key to issue with. An
	// Auth whose format cannot issue is a resource server: it needs no
	// authenticator, and its session endpoints answer [ErrCannotIssue].
	CanIssue() bool
}

// maxTokenSize caps the tokens any format accepts, in bytes. Real tokens are
// well under 2 KiB; the cap bounds the work an attacker can ask for.
const maxTokenSize = 8 << 10
