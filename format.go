package ginfresh

// Format turns claims into a token string and back. JWT (JWS compact
// serialization) is built in; the paseto module provides PASETO v4. Whatever
// the format, Auth checks the claim values (exp, nbf, iat, sub, iss, aud) the
// same way after Verify, so guards, freshness and revocation behave alike.
//
// A format that may hold verification keys only also has a method
// CanIssue() bool; when it reports false, the Auth is a resource server: it
// needs no authenticator, and login and refresh answer [ErrKeyUnavailable].
type Format interface {
	// Issue returns claims as a signed (or sealed) token of type typ.
	Issue(typ TokenType, claims *Claims) (string, error)
	// Verify checks the token's integrity and that it is of type typ, and
	// returns its claims. Errors wrap ErrTokenInvalid, or ErrWrongTokenType
	// for a genuine token of the other type.
	Verify(typ TokenType, token string) (*Claims, error)
}

// MaxTokenSize caps the tokens any format accepts, in bytes. Real tokens are
// well under 2 KiB; the cap bounds the work an attacker can ask for.
const MaxTokenSize = 8 << 10
