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
// # Sessions
//
// Every login starts a refresh-token family in a [Store]. Each refresh
// retires the presented refresh token and hands out a new one; presenting a
// retired one again revokes the family (RFC 9700 §4.14.2). [Auth.RevokeSubject]
// ends every session of a user, and [WithAccessRevocation] makes that reach
// access tokens too.
package ginfresh

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
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

	errorHandler func(*gin.Context, error)
	responses    *responses
	logger       *slog.Logger

	// key material, turned into the JWT format by New
	hmacSecret       []byte
	hmacAlg          string
	signingKey       *Key
	verificationKeys []*Key
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
		hmacAlg:         "HS256",
		cacheSize:       DefaultCacheSize,
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
	// Only a verify-only instance (public keys, no signing key) may go
	// without an authenticator.
	verifyOnly := a.format == nil && a.signingKey == nil && a.hmacSecret == nil && len(a.verificationKeys) > 0
	errs = append(errs, a.buildFormat()...)
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
	a.responses = newResponses(a.realm)
	a.cache = newTokenCache(a.cacheSize)
	return a, nil
}

// buildFormat turns the key options into the JWT format, unless a format
// was given.
func (a *Auth) buildFormat() []error {
	if a.format != nil {
		if a.signingKey != nil || a.hmacSecret != nil || len(a.verificationKeys) > 0 {
			return []error{errors.New("WithFormat holds its own keys; drop WithHMACKey, WithSigningKey and WithVerificationKeys")}
		}
		return nil
	}
	signer := a.signingKey
	if a.hmacSecret != nil {
		if signer != nil {
			return []error{errors.New("WithHMACKey and WithSigningKey both set a signing key; pass one")}
		}
		k, err := NewHMACKey("", a.hmacAlg, a.hmacSecret)
		if err != nil {
			return []error{err}
		}
		signer = k
	}
	if signer == nil && len(a.verificationKeys) == 0 {
		return []error{errors.New("signing key is required (use WithHMACKey or WithSigningKey)")}
	}
	f, err := newJWTFormat(signer, a.verificationKeys)
	if err != nil {
		return []error{err}
	}
	a.format = f
	return nil
}

// canSign reports whether this instance mints tokens (as opposed to a
// resource server that only verifies them).
func (a *Auth) canSign() bool {
	switch f := a.format.(type) {
	case *jwtFormat:
		return f.signer != nil
	case interface{ CanIssue() bool }:
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
