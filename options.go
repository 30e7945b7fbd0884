package ginfresh

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
)

// Option configures an [Auth]. Options check their own arguments; [New]
// reports every failing option and every missing setting at once.
type Option func(*Auth) error

// Authenticator checks a username and password. It returns the Identity to
// mint tokens for, an error wrapping [ErrInvalidCredentials] when the
// credentials are wrong, or any other error when it could not decide (that
// answers 503, never 401). It should take the same time whether or not the
// user exists.
type Authenticator func(c *gin.Context, username, password string) (Identity, error)

// Identity is who a token is minted for.
type Identity struct {
	// Subject becomes the sub claim; it must not be empty.
	Subject string
	// Claims are custom claims copied into every token of the session
	// (refreshed tokens keep them). They may not use a registered name.
	Claims map[string]any
}

// WithHMACKey signs and verifies with a shared secret of at least
// [MinHMACKeySize] random bytes, using the algorithm set by [WithAlgorithm].
// Its kid is derived from the secret, so instances sharing it agree.
// Default: none; a key, [WithSigningKey] or [WithFormat] is required.
func WithHMACKey(secret []byte) Option {
	return func(a *Auth) error {
		if len(secret) < MinHMACKeySize {
			return fmt.Errorf("WithHMACKey: key is %d bytes, at least %d are required", len(secret), MinHMACKeySize)
		}
		a.hmacSecret = append([]byte(nil), secret...)
		return nil
	}
}

// WithAlgorithm selects the HMAC algorithm of [WithHMACKey]: HS256, HS384 or
// HS512. Default: HS256.
func WithAlgorithm(alg string) Option {
	return func(a *Auth) error {
		if _, ok := hmacHashes[alg]; !ok {
			return fmt.Errorf("WithAlgorithm: %q is not one of HS256, HS384, HS512 (asymmetric keys go through WithSigningKey)", alg)
		}
		a.hmacAlg = alg
		return nil
	}
}

// WithSigningKey signs new tokens with k (see [NewHMACKey], [NewSigningKey]
// and [ParsePrivateKeyPEM]); k verifies them too. Default: none.
func WithSigningKey(k *Key) Option {
	return func(a *Auth) error {
		if k == nil || !k.CanSign() {
			return errors.New("WithSigningKey: the key cannot sign (use WithVerificationKeys for public keys)")
		}
		a.signingKey = k
		return nil
	}
}

// WithVerificationKeys adds keys that verify but never sign: the previous
// signing key during a rotation, or the public keys of the service that mints
// tokens when this one only verifies them. Default: none.
func WithVerificationKeys(keys ...*Key) Option {
	return func(a *Auth) error {
		for _, k := range keys {
			if k == nil {
				return errors.New("WithVerificationKeys: nil key")
			}
		}
		a.verificationKeys = append(a.verificationKeys, keys...)
		return nil
	}
}

// WithFormat replaces the built-in JWT format, for example with PASETO from
// the paseto module. The format holds its keys, so key options may not be
// combined with it. Default: JWT.
func WithFormat(f Format) Option {
	return func(a *Auth) error {
		if f == nil {
			return errors.New("WithFormat: nil format")
		}
		a.format = f
		return nil
	}
}

// WithAuthenticator sets the credential check behind login and fresh-login.
// Default: none; required unless the instance only verifies tokens.
func WithAuthenticator(fn Authenticator) Option {
	return func(a *Auth) error {
		if fn == nil {
			return errors.New("WithAuthenticator: nil authenticator")
		}
		a.authenticate = fn
		return nil
	}
}

func positive(name string, d time.Duration, dst *time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s: %v is not a positive duration", name, d)
	}
	*dst = d
	return nil
}

// WithAccessTTL sets how long access tokens live. Default: 15 minutes.
func WithAccessTTL(d time.Duration) Option {
	return func(a *Auth) error { return positive("WithAccessTTL", d, &a.accessTTL) }
}

// WithRefreshTTL sets how long each refresh token lives; rotation hands out
// a new one on every refresh. Default: 7 days.
func WithRefreshTTL(d time.Duration) Option {
	return func(a *Auth) error { return positive("WithRefreshTTL", d, &a.refreshTTL) }
}

// WithSessionLifetime sets the absolute lifetime of a login session (a
// refresh-token family): no refresh succeeds past it, however active the
// user. Default: 30 days.
func WithSessionLifetime(d time.Duration) Option {
	return func(a *Auth) error { return positive("WithSessionLifetime", d, &a.sessionLifetime) }
}

// WithIdleTimeout ends a session that has not refreshed for d. Default: 7 days.
func WithIdleTimeout(d time.Duration) Option {
	return func(a *Auth) error { return positive("WithIdleTimeout", d, &a.idleTimeout) }
}

// WithRefreshRotation turns refresh-token rotation on or off. With rotation,
// every refresh retires the presented refresh token and returns a new one;
// presenting a retired one again revokes the whole session (RFC 9700
// §4.14.2). Without it, a refresh token stays usable until it expires or is
// revoked. Default: on.
func WithRefreshRotation(on bool) Option {
	return func(a *Auth) error { a.rotation = on; return nil }
}

// WithAccessRevocation makes every access-token check ask the store whether
// the token or its subject's sessions were revoked, so logout and
// [Auth.RevokeSubject] take effect at once instead of when the access token
// expires. It costs one store look-up per request (a map read in memory, one
// round trip on Redis). Default: off.
func WithAccessRevocation() Option {
	return func(a *Auth) error { a.accessRevocation = true; return nil }
}

// WithStore keeps sessions and revocations in s, for example the Redis store
// from the redisstore module when several instances serve one API.
// Default: a [MemoryStore] private to this Auth.
func WithStore(s Store) Option {
	return func(a *Auth) error {
		if s == nil {
			return errors.New("WithStore: nil store")
		}
		a.store = s
		return nil
	}
}

// WithIssuer sets the iss claim of new tokens and requires it of every token.
// Default: none (iss is neither set nor checked).
func WithIssuer(iss string) Option {
	return func(a *Auth) error {
		if iss == "" {
			return errors.New("WithIssuer: empty issuer")
		}
		a.issuer = iss
		return nil
	}
}

// WithAudience sets the aud claim of new tokens and requires every token to
// name at least one of aud. Default: none (aud is neither set nor checked).
func WithAudience(aud ...string) Option {
	return func(a *Auth) error {
		if len(aud) == 0 {
			return errors.New("WithAudience: no audience")
		}
		for _, s := range aud {
			if s == "" {
				return errors.New("WithAudience: empty audience")
			}
		}
		a.audience = append([]string(nil), aud...)
		return nil
	}
}

// WithLeeway tolerates clock skew between servers when checking exp, nbf
// and iat; at most 5 minutes. Default: 0.
func WithLeeway(d time.Duration) Option {
	return func(a *Auth) error {
		if d < 0 || d > 5*time.Minute {
			return fmt.Errorf("WithLeeway: %v is outside 0 to 5m", d)
		}
		a.leeway = d
		return nil
	}
}

// WithTimeFunc sets the clock, for tests. Default: time.Now.
func WithTimeFunc(now func() time.Time) Option {
	return func(a *Auth) error {
		if now == nil {
			return errors.New("WithTimeFunc: nil clock")
		}
		a.now = now
		return nil
	}
}

// WithRealm sets the realm of WWW-Authenticate challenges. Default: "api".
func WithRealm(realm string) Option {
	return func(a *Auth) error {
		for _, r := range realm {
			if r < 0x20 || r == '"' || r == '\\' || r > 0x7e {
				return fmt.Errorf("WithRealm: %q has characters a challenge cannot quote", realm)
			}
		}
		a.realm = realm
		return nil
	}
}

// WithErrorHandler replaces the default error responses. The handler gets
// every error guards and handlers produce (test them with errors.Is against
// the Err… sentinels) and must write the response; the chain is aborted
// after it returns; [RetryAfter] gives the wait a throttled login should
// send as Retry-After. Default: JSON {"error","error_description"} with the
// status and WWW-Authenticate challenge of RFC 6750 and RFC 9470, and
// Retry-After on a 429.
func WithErrorHandler(h func(*gin.Context, error)) Option {
	return func(a *Auth) error {
		if h == nil {
			return errors.New("WithErrorHandler: nil handler")
		}
		a.errorHandler = h
		return nil
	}
}

// WithLogger receives security events (logins, failed and throttled logins,
// refreshes, replays, revocations). It never receives a token, a password or
// a secret: tokens are named by their jti, failed accounts by a digest.
// Default: none.
func WithLogger(l *slog.Logger) Option {
	return func(a *Auth) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		a.logger = l
		return nil
	}
}
