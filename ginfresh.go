// Package ginfresh adds login, refresh and fresh-token protection to Gin
// applications.
//
// A user who logs in with a password gets a fresh access token and a
// refresh token. Refreshing returns a non-fresh access token that keeps the
// original auth_time, so it never looks newer than the login behind it.
// Ordinary routes accept any valid access token; sensitive ones (change
// password, delete account, payments) accept only fresh ones, and a client
// holding a stale token proves the password again at fresh-login.
//
// # Setting up
//
// [New] takes options, checks them all and reports every problem at once:
//
//	auth, err := ginfresh.New(
//		ginfresh.WithHMACKey(secret), // at least 32 random bytes
//		ginfresh.WithAuthenticator(checkPassword),
//	)
//
// # Keys
//
// Besides an HMAC secret, [WithSigningKey] takes an RSA, ECDSA or Ed25519
// key ([NewSigningKey], [ParsePrivateKeyPEM]), each bound to one algorithm.
// [WithVerificationKeys] adds keys that only verify, for rotation;
// [Auth.JWKSHandler] publishes the public ones. A resource server built with
// only public keys, or with [WithJWKSURL], verifies tokens it cannot mint.
//
// # Token formats
//
// Tokens are JWTs unless [WithFormat] chooses another [Format], such as
// PASETO v4 from the github.com/ginfresh/ginfresh/paseto module. The format
// only signs and checks integrity; claim checks, freshness, sessions,
// cookies and errors are the same for every format, which the formattest
// package proves for any format that runs it.
//
// # Protecting routes
//
// [Auth.Middleware] reads and verifies the token once per request and stores
// its claims in the gin context; a request without a token passes through, so
// public routes stay public. Guards enforce, per route or group:
//
//	r.Use(auth.Middleware())
//	auth.RegisterRoutes(r.Group("/auth")) // POST login, refresh, fresh-login, logout
//	r.GET("/profile", auth.RequireAccess(), profile)
//	r.POST("/password", auth.RequireFresh(ginfresh.MaxAge(5*time.Minute)), changePassword)
//
// Handlers read the claims with [ClaimsFrom]. Guards also work without the
// middleware: they verify the token themselves if nothing did.
//
// # Errors
//
// Failures are sentinel errors ([ErrTokenMissing], [ErrTokenExpired],
// [ErrTokenNotFresh], …) that wrap their cause. By default they answer JSON
// with the status and WWW-Authenticate challenge of RFC 6750 and RFC 9470
// (error="insufficient_user_authentication" for a stale token);
// [WithErrorHandler] replaces that.
//
// # Browser apps
//
// [WithCookies] keeps tokens out of page scripts: login, refresh and
// fresh-login answer them as HttpOnly cookies, and a request may carry its
// token in a cookie instead of the Authorization header ([WithTokenSources]).
// Because a browser sends cookies by itself, state-changing requests that
// rely on them must pass two CSRF checks, [http.CrossOriginProtection] and a
// double-submit token bound into the session's tokens, or they are refused
// with [ErrCSRF].
//
// # Sessions
//
// Every login starts a refresh-token family in a [Store]. Each refresh
// retires the presented refresh token and hands out a new one; presenting a
// retired one again revokes the family (RFC 9700 §4.14.2). [Auth.RevokeSubject]
// ends every session of a user, and [WithAccessRevocation] makes that reach
// access tokens too.
//
// # Password guessing
//
// Login and fresh-login count attempts per account and client address and
// answer 429 with Retry-After past the limits, in a way that never lets an
// attacker lock a user out of their own client; see [Throttle].
package ginfresh

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Defaults of [New].
const (
	DefaultAccessTTL       = 15 * time.Minute
	DefaultRefreshTTL      = 7 * 24 * time.Hour
	DefaultSessionLifetime = 30 * 24 * time.Hour
	DefaultIdleTimeout     = 7 * 24 * time.Hour
)

// Auth issues, verifies and guards tokens. Build it with [New]; it is safe
// for concurrent use.
type Auth struct {
	format       Format
	store        Store
	authenticate Authenticator
	now          func() time.Time

	accessTTL, refreshTTL        time.Duration
	sessionLifetime, idleTimeout time.Duration
	leeway                       time.Duration
	rotation                     bool
	accessRevocation             bool

	issuer   string
	audience []string
	realm    string

	cache     *tokenCache
	cacheSize int

	// browser apps: sources.go, cookies.go, csrf.go
	sources     []TokenSource
	cookies     cookieConfig
	crossOrigin *http.CrossOriginProtection

	errorHandler func(*gin.Context, error)
	responses    *responses
	logger       *slog.Logger
	throttle     *throttle

	// key material, turned into the JWT format by New
	hmacSecret       []byte
	hmacAlg          string // WithAlgorithm; "" means HS256
	signingKey       *Key
	verificationKeys []*Key
	remote           *remoteConfig // WithJWKSURL

	jwks       *jwksDocument
	jwksMaxAge time.Duration // WithJWKSMaxAge; 0 means DefaultJWKSMaxAge
}

// New returns an Auth with secure defaults changed by opts. It fails, naming
// every problem, when an option is invalid or a required setting is missing.
func New(opts ...Option) (*Auth, error) {
	a := &Auth{
		now:             time.Now,
		accessTTL:       DefaultAccessTTL,
		refreshTTL:      DefaultRefreshTTL,
		sessionLifetime: DefaultSessionLifetime,
		idleTimeout:     DefaultIdleTimeout,
		rotation:        true,
		realm:           "api",
		cacheSize:       DefaultCacheSize,
		cookies:         defaultCookies(),
		crossOrigin:     http.NewCrossOriginProtection(),
	}
	var errs []error
	for _, opt := range opts {
		if opt == nil {
			errs = append(errs, errors.New("nil option"))
			continue
		}
		if err := opt(a); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("ginfresh: invalid option: %w", errors.Join(errs...))
	}
	// Only a verify-only instance (public keys or a key set URL, no
	// signing key) may go without an authenticator.
	verifyOnly := a.format == nil && a.signingKey == nil && a.hmacSecret == nil && (len(a.verificationKeys) > 0 || a.remote != nil)
	errs = append(errs, a.buildFormat()...)
	errs = append(errs, a.checkBrowser()...)
	if a.authenticate == nil && !verifyOnly && (a.format == nil || a.canSign()) {
		errs = append(errs, errors.New("authenticator is required (use WithAuthenticator)"))
	}
	if a.refreshTTL > a.sessionLifetime {
		errs = append(errs, fmt.Errorf("refresh TTL %v exceeds the session lifetime %v", a.refreshTTL, a.sessionLifetime))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("ginfresh: %w", errors.Join(errs...))
	}
	if a.store == nil {
		a.store = NewMemoryStore()
	}
	a.setupThrottle()
	if a.jwks == nil { // WithFormat: the key options are ignored, nothing is published
		a.jwks, _ = newJWKSDocument(nil, a.jwksMaxAge)
	}
	a.responses = newResponses(a.realm)
	a.cache = newTokenCache(a.cacheSize)
	if r, ok := a.format.(*remoteKeys); ok {
		// A token checked with a key the issuer has since withdrawn must
		// not live on in the cache.
		r.removed = a.cache.reset
		r.logf = func(msg string, args ...any) { a.event(context.Background(), msg, args...) }
	}
	return a, nil
}

// buildFormat turns the key options into the JWT format, unless a format
// was given.
func (a *Auth) buildFormat() []error {
	if a.format != nil {
		// Every JWT key option would be silently ignored: say so instead.
		var ignored []string
		for _, o := range []struct {
			set  bool
			name string
		}{
			{a.hmacSecret != nil, "WithHMACKey"}, {a.hmacAlg != "", "WithAlgorithm"},
			{a.signingKey != nil, "WithSigningKey"}, {len(a.verificationKeys) > 0, "WithVerificationKeys"},
			{a.remote != nil, "WithJWKSURL"}, {a.jwksMaxAge != 0, "WithJWKSMaxAge"},
		} {
			if o.set {
				ignored = append(ignored, o.name)
			}
		}
		if len(ignored) > 0 {
			return []error{fmt.Errorf("WithFormat holds its own keys; drop %s", strings.Join(ignored, ", "))}
		}
		return nil
	}
	if a.hmacAlg != "" && a.hmacSecret == nil {
		return []error{errors.New("WithAlgorithm chooses the algorithm of WithHMACKey only; other keys are bound to theirs")}
	}
	signer := a.signingKey
	if a.hmacSecret != nil {
		if signer != nil {
			return []error{errors.New("WithHMACKey and WithSigningKey both set a signing key; pass one")}
		}
		k, err := NewHMACKey("", cmp.Or(a.hmacAlg, "HS256"), a.hmacSecret)
		if err != nil {
			return []error{err}
		}
		signer = k
	}
	var errs []error
	doc, err := newJWKSDocument(append([]*Key{signer}, a.verificationKeys...), a.jwksMaxAge)
	if err != nil {
		errs = append(errs, err)
	}
	a.jwks = doc
	switch {
	case a.remote != nil && signer != nil:
		return append(errs, errors.New("WithJWKSURL is for instances that only verify; it cannot be combined with a signing key"))
	case a.remote != nil:
		r, err := newRemoteKeys(a.remote, a.verificationKeys, a.now)
		if err != nil {
			return append(errs, err)
		}
		a.format = r
	case signer == nil && len(a.verificationKeys) == 0:
		return append(errs, errors.New("signing key is required (use WithHMACKey or WithSigningKey)"))
	default:
		f, err := newJWTFormat(signer, a.verificationKeys)
		if err != nil {
			return append(errs, err)
		}
		a.format = f
	}
	return errs
}

// canSign reports whether this instance mints tokens (as opposed to a
// resource server that only verifies them).
func (a *Auth) canSign() bool {
	if f, ok := a.format.(interface{ CanIssue() bool }); ok {
		return f.CanIssue()
	}
	return a.format != nil
}

// newID returns 128 random bits, base64url-encoded: token IDs and session IDs.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return b64.EncodeToString(b[:])
}
