// Package ginfresh adds login, refresh and fresh-token protection to Gin
// applications.
//
// A user who logs in gets a fresh access token and a refresh token.
// Refreshing returns a non-fresh access token that keeps the original
// auth_time, so it never looks newer than the login behind it. Ordinary
// routes accept any valid access token; sensitive ones (change password,
// delete account, payments) accept only fresh ones, and a client holding a
// stale token proves who it is again at fresh-login.
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
// [Auth.Middleware] reads and verifies the token once per request and
// stores its claims in the gin context; a request without a token passes
// through, so public routes stay public. Guards enforce, per route or
// group:
//
//	r.Use(auth.Middleware())
//	auth.RegisterRoutes(r.Group("/auth")) // POST login, refresh, fresh-login, logout
//	r.GET("/profile", auth.RequireAccess(), profile)
//	r.POST("/password", auth.RequireFresh(ginfresh.MaxAge(5*time.Minute)), changePassword)
//	r.GET("/admin", auth.RequireScopes("admin"), admin)
//
// Handlers read the claims with [ClaimsFrom], service layers with
// [ClaimsFromContext], and custom claims with [Custom]. Guards also work
// without the middleware: they verify the token themselves if nothing did.
//
// # Logging in
//
// [Auth.LoginHandler] takes {"username","password"} (and any other fields,
// which the [Authenticator] reads from the [LoginRequest]). Logins that use
// no password (a single sign-on callback, a magic link, a passkey) run in
// the app's own handler through [Auth.Login], which keeps the throttle, the
// log, cookie mode and the answer's shape. [WithRefreshHook] reloads a
// user's claims at every refresh and can end the session of a disabled user.
//
// # Step-up
//
// An [Identity] says how the user authenticated (acr and amr, RFC 9470).
// RequireFresh can demand a level and a recent login ([ACRValues],
// [MaxAge]); a refusal's challenge tells the client what login to perform.
//
// # Sessions
//
// Every login starts a session; every token of it carries its ID as sid.
// Each refresh retires the presented refresh token and hands out a new one;
// presenting a retired one again revokes the session (RFC 9700 §4.14.2).
// [Auth.Sessions] lists a user's sessions, [Auth.RevokeSession] ends one and
// [Auth.RevokeSubject] ends them all; [WithAccessRevocation] makes every
// ending reach access tokens at once. The [Store] keeps sessions: in memory
// by default, or shared through the redisstore and sqlstore modules.
//
// # Errors
//
// Failures are sentinel errors ([ErrTokenMissing], [ErrTokenExpired],
// [ErrTokenNotFresh], …) that wrap their cause, answered as an [*Error]:
// status, code, description and the RFC 6750 / RFC 9470 challenge.
// [WithErrorHandler] renders them the app's way; [Auth.Fail] answers an
// app's own refusal the library's way.
//
// # Keys and formats
//
// Besides an HMAC secret, [WithSigningKey] takes an RSA, ECDSA or Ed25519
// key ([NewSigningKey], [ParsePrivateKeyPEM]), each bound to one
// [Algorithm]. [WithVerificationKeys] adds keys that only verify, for
// rotation; [Auth.JWKSHandler] publishes the public ones. A resource server
// built with only public keys, or with [WithJWKSURL], verifies tokens it
// cannot mint. Tokens are JWTs unless [WithFormat] chooses another
// [Format], such as PASETO v4 from the paseto module.
//
// # Browser apps
//
// [WithCookies] keeps tokens out of page scripts: they travel as HttpOnly
// cookies, and state-changing requests that rely on them must pass two CSRF
// checks ([http.CrossOriginProtection] and a double-submit value bound into
// the session's tokens), or they are refused with [ErrCSRF].
//
// # Guessing
//
// Logins count attempts per account and client and answer 429 with
// Retry-After past the limits; see [Throttle].
package ginfresh

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh/internal/tokencache"
)

// Auth issues, verifies and guards tokens. Build it with [New]; it is safe
// for concurrent use.
type Auth struct {
	format       Format
	store        Store
	localRevoker LocalRevoker // answers for the store from memory, if it can
	unanswered   unanswered   // rotations whose outcome the store never told
	storeTimeout time.Duration
	authenticate Authenticator
	refreshHook  RefreshHook
	now          func() time.Time

	accessTTL, refreshTTL        time.Duration
	sessionLifetime, idleTimeout time.Duration
	leeway                       time.Duration
	rotation, accessRevocation   bool

	issuer     string
	audience   []string
	scopeClaim string

	cache       *tokencache.Cache[Claims]
	sources     []TokenSource
	cookies     cookieConfig
	crossOrigin *http.CrossOriginProtection

	errors       *errorTable
	errorHandler func(*gin.Context, *Error)
	log          *eventLog
	throttle     *throttle
	jwks         *jwksDocument
}

// New returns an Auth with secure defaults changed by opts. It fails, naming
// every problem, when an option is invalid or a required setting is missing.
func New(opts ...Option) (*Auth, error) {
	var c config
	var errs []error
	for _, opt := range opts {
		if opt == nil {
			errs = append(errs, errors.New("nil option"))
		} else if err := opt(&c); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("ginfresh: invalid option: %w", errors.Join(errs...))
	}
	a := &Auth{
		store:            c.store,
		storeTimeout:     cmp.Or(c.storeTimeout, 2*time.Second),
		authenticate:     c.authenticate,
		refreshHook:      c.refreshHook,
		now:              c.now,
		accessTTL:        cmp.Or(c.accessTTL, 15*time.Minute),
		refreshTTL:       cmp.Or(c.refreshTTL, 7*24*time.Hour),
		sessionLifetime:  cmp.Or(c.sessionLifetime, 30*24*time.Hour),
		idleTimeout:      cmp.Or(c.idleTimeout, 7*24*time.Hour),
		leeway:           c.leeway,
		rotation:         !c.noRotation,
		accessRevocation: c.accessRevocation,
		issuer:           c.issuer,
		audience:         c.audience,
		scopeClaim:       cmp.Or(c.scopeClaim, "scope"),
		cookies:          c.cookies.withDefaults(),
		crossOrigin:      http.NewCrossOriginProtection(),
		errorHandler:     c.errorHandler,
		log:              &eventLog{logger: c.logger},
	}
	if a.now == nil { // cmp.Or cannot compare funcs
		a.now = time.Now
	}
	for _, o := range c.origins {
		_ = a.crossOrigin.AddTrustedOrigin(o) // checked by the option
	}
	cacheSize := c.cacheSize
	if cacheSize == 0 {
		cacheSize = 10_000
	}
	a.cache = tokencache.New[Claims](cacheSize)
	var jwks []*Key
	a.format, jwks, errs = buildFormat(&c, a.now, a.cache.Reset, a.log)
	errs = append(errs, a.checkBrowser(&c)...)
	if a.refreshTTL > a.sessionLifetime {
		errs = append(errs, fmt.Errorf("refresh TTL %v exceeds the session lifetime %v", a.refreshTTL, a.sessionLifetime))
	}
	if a.idleTimeout < a.accessTTL+a.leeway {
		// The store forgets an idle session, and with it the revocations
		// of its tokens: none may outlive it.
		errs = append(errs, fmt.Errorf("idle timeout %v is shorter than the access TTL plus leeway %v", a.idleTimeout, a.accessTTL+a.leeway))
	}
	if c.noThrottle && c.throttle != nil {
		errs = append(errs, errors.New("WithLoginThrottle and WithoutLoginThrottle contradict each other; pass one"))
	}
	doc, err := newJWKSDocument(jwks, cmp.Or(c.jwksMaxAge, 15*time.Minute))
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("ginfresh: %w", errors.Join(errs...))
	}
	a.jwks = doc
	if a.store == nil {
		a.store = NewMemoryStore()
	}
	switch s := a.store.(type) {
	case *MemoryStore:
		// Not through the interface: a store embedding *MemoryStore that
		// changes Revoked must not be bypassed by a promoted method.
		a.localRevoker = memoryRevoker{s}
	case LocalRevoker:
		a.localRevoker = s
	}
	a.errors = newErrorTable(cmp.Or(c.realm, "api"))
	a.throttle = newThrottle(c.throttle, c.noThrottle, a.store, a.format, a.now, a.storeTimeout, a.log)
	return a, nil
}

// buildFormat turns the key options into the JWT format, unless a format
// was given, and returns the keys to publish. dropped and log serve a
// remote key set: a withdrawn key's tokens leave the cache, and fetches are
// logged.
func buildFormat(c *config, now func() time.Time, dropped func(), log *eventLog) (Format, []*Key, []error) {
	if c.format != nil {
		// Every JWT key option would be silently ignored: say so instead.
		var ignored []string
		for name, set := range map[string]bool{
			"WithHMACKey": c.hmacSecret != nil, "WithSigningKey": c.signingKey != nil,
			"WithVerificationKeys": len(c.verificationKeys) > 0, "WithJWKSURL": c.jwks != nil,
			"WithJWKSMaxAge": c.jwksMaxAge != 0,
		} {
			if set {
				ignored = append(ignored, name)
			}
		}
		if len(ignored) > 0 {
			return nil, nil, []error{fmt.Errorf("WithFormat holds its own keys; drop %s", strings.Join(ignored, ", "))}
		}
		return c.format, nil, nil
	}
	signer := c.signingKey
	if c.hmacSecret != nil {
		if signer != nil {
			return nil, nil, []error{errors.New("WithHMACKey and WithSigningKey both set a signing key; pass one")}
		}
		k, err := NewHMACKey("", HS256, c.hmacSecret)
		if err != nil {
			return nil, nil, []error{err}
		}
		signer = k
	}
	keys := c.verificationKeys
	if signer != nil {
		keys = append([]*Key{signer}, keys...)
	}
	switch {
	case c.jwks != nil && signer != nil:
		return nil, nil, []error{errors.New("WithJWKSURL is for instances that only verify; it cannot be combined with a signing key")}
	case c.jwks != nil:
		f, err := newRemoteKeys(c.jwks, c.verificationKeys, now, dropped, func(msg string, args ...any) {
			log.alert(context.Background(), msg, args...) // a background fetch: no request
		})
		if err != nil {
			return nil, nil, []error{err}
		}
		return f, keys, nil
	case len(keys) == 0:
		return nil, nil, []error{errors.New("signing key is required (use WithHMACKey, WithSigningKey or WithFormat)")}
	}
	f, err := newJWTFormat(signer, c.verificationKeys)
	if err != nil {
		return nil, nil, []error{err}
	}
	return f, keys, nil
}

// newID returns 128 random bits, base64url-encoded: token and session IDs.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return b64.EncodeToString(b[:])
}
