package ginfresh

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginfresh/ginfresh/internal/keyfetch"
)

// Option configures an [Auth]. Options check their own arguments; [New]
// reports every failing option and every missing setting at once. An option
// that sets one thing may be given once: a second WithAuthenticator is an
// error, not a silent replacement. Options that switch a default off start
// with Without.
type Option func(*config) error

// config is what the options say; New turns it into an Auth. Zero values
// mean "not set".
type config struct {
	given map[string]bool // single-valued options seen, by name

	hmacSecret       []byte
	signingKey       *Key
	verificationKeys []*Key
	jwks             *jwksConfig
	jwksMaxAge       time.Duration
	format           Format

	authenticate Authenticator
	refreshHook  RefreshHook

	accessTTL, refreshTTL        time.Duration
	sessionLifetime, idleTimeout time.Duration
	noRotation                   bool
	accessRevocation             bool
	store                        Store
	storeTimeout                 time.Duration

	issuer   string
	audience []string
	leeway   time.Duration
	now      func() time.Time
	realm    string

	cacheSize    int // -1: off
	sources      []TokenSource
	cookies      cookieConfig
	origins      []string
	errorHandler func(*gin.Context, *Error)
	logger       *slog.Logger
	throttle     *Throttle
	noThrottle   bool
	scopeClaim   string
}

// once refuses a second use of the option name.
func (c *config) once(name string) error {
	if c.given[name] {
		return fmt.Errorf("%s given twice", name)
	}
	if c.given == nil {
		c.given = map[string]bool{}
	}
	c.given[name] = true
	return nil
}

// set is an option that may be given once: it runs apply after that check.
func set(name string, apply func(*config) error) Option {
	return func(c *config) error {
		if err := c.once(name); err != nil {
			return err
		}
		if err := apply(c); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
}

func positive(d time.Duration, dst *time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%v is not a positive duration", d)
	}
	*dst = d
	return nil
}

// --- Keys and formats ----------------------------------------------------

// WithHMACKey signs and verifies HS256 JWTs with a shared secret of at
// least 32 random bytes. Its kid is derived from the secret, so instances
// sharing it agree. For HS384 or HS512 pass [NewHMACKey] to
// [WithSigningKey]. Default: none; a key or [WithFormat] is required.
func WithHMACKey(secret []byte) Option {
	return set("WithHMACKey", func(c *config) error {
		if len(secret) < minHMACKeySize {
			return fmt.Errorf("key is %d bytes, at least %d are required", len(secret), minHMACKeySize)
		}
		c.hmacSecret = append([]byte(nil), secret...)
		return nil
	})
}

// WithSigningKey signs new tokens with k (see [NewHMACKey], [NewSigningKey]
// and [ParsePrivateKeyPEM]); k verifies them too. Default: none.
func WithSigningKey(k *Key) Option {
	return set("WithSigningKey", func(c *config) error {
		if k == nil || !k.CanSign() {
			return errors.New("the key cannot sign (use WithVerificationKeys for public keys)")
		}
		c.signingKey = k
		return nil
	})
}

// WithVerificationKeys adds keys that verify but never sign: the previous
// signing key during a rotation, or the public keys of the service that
// mints tokens when this one only verifies them. It may be given more than
// once. Default: none.
func WithVerificationKeys(keys ...*Key) Option {
	return func(c *config) error {
		if slices.Contains(keys, nil) {
			return errors.New("WithVerificationKeys: nil key")
		}
		c.verificationKeys = append(c.verificationKeys, keys...)
		return nil
	}
}

// WithJWKSURL makes the instance a resource server that verifies tokens with
// the JWK Set published at rawURL (an issuer's [Auth.JWKSHandler], say). It
// cannot mint tokens. The set is fetched on first use, again every
// [JWKSRefresh] in the background, and at once when a token names an unknown
// kid, at most once per [JWKSMinInterval] so random kids cannot make it
// hammer the URL. A failed fetch keeps the last good set. Only keys whose alg
// is allowed (see [JWKSAlgorithms]) are used; a key without alg is ignored,
// because every key must be bound to exactly one algorithm. The URL must be
// https (see [UnsafeJWKSOverHTTP]), and a fetch follows redirects only
// within its origin. Keys given with [WithVerificationKeys] are used as
// well. Default: none.
func WithJWKSURL(rawURL string, opts ...JWKSOption) Option {
	return set("WithJWKSURL", func(c *config) error {
		u, err := url.Parse(rawURL)
		if err != nil {
			return err
		}
		cfg := &jwksConfig{
			url: u.String(), timeout: 5 * time.Second, refresh: 15 * time.Minute, minInterval: time.Minute,
			algs: map[Algorithm]bool{},
		}
		for _, alg := range asymmetricAlgs {
			cfg.algs[alg] = true
		}
		for _, opt := range opts {
			if opt == nil {
				return errors.New("nil option")
			}
			if err := opt(cfg); err != nil {
				return err
			}
		}
		if u.Scheme != "https" && (u.Scheme != "http" || !cfg.overHTTP) {
			return fmt.Errorf("%q must be https (plain http only with UnsafeJWKSOverHTTP)", u.Redacted())
		}
		client := http.Client{Timeout: cfg.timeout}
		if cfg.client != nil {
			client = *cfg.client
		}
		// The caller's client keeps its transport and its own redirect
		// policy, but never leaves the key set's origin.
		client.CheckRedirect = keyfetch.Redirects(client.CheckRedirect)
		cfg.client = &client
		c.jwks = cfg
		return nil
	})
}

// JWKSOption refines [WithJWKSURL].
type JWKSOption func(*jwksConfig) error

type jwksConfig struct {
	url                           string
	client                        *http.Client
	timeout, refresh, minInterval time.Duration
	algs                          map[Algorithm]bool
	overHTTP                      bool
}

// JWKSRefresh sets how old a fetched key set may grow before it is fetched
// again. Default: 15 minutes.
func JWKSRefresh(d time.Duration) JWKSOption {
	return func(c *jwksConfig) error { return named("JWKSRefresh", positive(d, &c.refresh)) }
}

// JWKSMinInterval sets the least time between two fetches, whatever
// triggers them: unknown kids and failed fetches retry no sooner. Default:
// 1 minute.
func JWKSMinInterval(d time.Duration) JWKSOption {
	return func(c *jwksConfig) error { return named("JWKSMinInterval", positive(d, &c.minInterval)) }
}

// JWKSTimeout bounds one fetch, connection to last byte. Default: 5 seconds.
func JWKSTimeout(d time.Duration) JWKSOption {
	return func(c *jwksConfig) error { return named("JWKSTimeout", positive(d, &c.timeout)) }
}

// JWKSHTTPClient fetches with client (for a proxy or custom TLS roots); the
// [JWKSTimeout] still bounds each fetch, and redirects never leave the key
// set's origin whatever the client's own policy. Default: a client with
// that timeout.
func JWKSHTTPClient(client *http.Client) JWKSOption {
	return func(c *jwksConfig) error {
		if client == nil {
			return errors.New("JWKSHTTPClient: nil client")
		}
		c.client = client
		return nil
	}
}

// JWKSAlgorithms narrows the algorithms a fetched key may be bound to, for
// example to what the issuer is known to sign with. HMAC algorithms are
// refused: a shared secret is never taken from a URL. Default: every RS,
// PS and ES algorithm and EdDSA.
func JWKSAlgorithms(algs ...Algorithm) JWKSOption {
	return func(c *jwksConfig) error {
		if len(algs) == 0 {
			return errors.New("JWKSAlgorithms: no algorithm")
		}
		allowed := map[Algorithm]bool{}
		for _, alg := range algs {
			if !slices.Contains(asymmetricAlgs, alg) {
				return fmt.Errorf("JWKSAlgorithms: %q is not an asymmetric algorithm ginfresh supports", alg)
			}
			allowed[alg] = true
		}
		c.algs = allowed
		return nil
	}
}

// UnsafeJWKSOverHTTP lets [WithJWKSURL] fetch keys over plain http, for a
// development setup (docker compose, say) where the issuer has no
// certificate. Anyone on the path can then hand out keys that this service
// trusts: never use it in production. Default: https only.
func UnsafeJWKSOverHTTP() JWKSOption {
	return func(c *jwksConfig) error { c.overHTTP = true; return nil }
}

// WithJWKSMaxAge sets the Cache-Control max-age of [Auth.JWKSHandler]. A
// new key must be published at least this long before it signs (see the
// key rotation procedure in docs/keys.md). Default: 15 minutes.
func WithJWKSMaxAge(d time.Duration) Option {
	return set("WithJWKSMaxAge", func(c *config) error { return positive(d, &c.jwksMaxAge) })
}

// WithFormat replaces the built-in JWT format, for example with PASETO from
// the paseto module. The format holds its keys, so key options may not be
// combined with it. Default: JWT.
func WithFormat(f Format) Option {
	return set("WithFormat", func(c *config) error {
		if f == nil {
			return errors.New("nil format")
		}
		c.format = f
		return nil
	})
}

// --- Logins and sessions --------------------------------------------------

// WithAuthenticator sets the credential check behind [Auth.LoginHandler]
// and [Auth.FreshLoginHandler]. Default: none; without it those two
// handlers answer 501, and the app signs users in with [Auth.Login].
func WithAuthenticator(fn Authenticator) Option {
	return set("WithAuthenticator", func(c *config) error {
		if fn == nil {
			return errors.New("nil authenticator")
		}
		c.authenticate = fn
		return nil
	})
}

// WithRefreshHook reloads the identity behind a session at every refresh,
// so that new tokens carry current claims (roles, tenant) and a disabled
// user's session ends; see [RefreshHook]. It also runs at fresh-login.
// Default: none (refresh copies the claims of the login).
func WithRefreshHook(fn RefreshHook) Option {
	return set("WithRefreshHook", func(c *config) error {
		if fn == nil {
			return errors.New("nil hook")
		}
		c.refreshHook = fn
		return nil
	})
}

// WithAccessTTL sets how long access tokens live. Default: 15 minutes.
func WithAccessTTL(d time.Duration) Option {
	return set("WithAccessTTL", func(c *config) error { return positive(d, &c.accessTTL) })
}

// WithRefreshTTL sets how long each refresh token lives; rotation hands out
// a new one on every refresh. Default: 7 days.
func WithRefreshTTL(d time.Duration) Option {
	return set("WithRefreshTTL", func(c *config) error { return positive(d, &c.refreshTTL) })
}

// WithSessionLifetime sets the absolute lifetime of a login session: no
// refresh succeeds past it, however active the user. Default: 30 days.
func WithSessionLifetime(d time.Duration) Option {
	return set("WithSessionLifetime", func(c *config) error { return positive(d, &c.sessionLifetime) })
}

// WithIdleTimeout ends a session that has not refreshed for d; it must be
// longer than the access TTL plus leeway, so that no access token outlives
// its session. Default: 7 days.
func WithIdleTimeout(d time.Duration) Option {
	return set("WithIdleTimeout", func(c *config) error { return positive(d, &c.idleTimeout) })
}

// WithoutRefreshRotation keeps a session's refresh token until it expires
// or the session ends, instead of handing out a new one on every refresh
// and treating a retired one as stolen (RFC 9700 §4.14.2). Default:
// rotation on.
func WithoutRefreshRotation() Option {
	return set("WithoutRefreshRotation", func(c *config) error { c.noRotation = true; return nil })
}

// WithAccessRevocation makes every access-token check ask the store whether
// the token or its session was revoked, so that logout, a replayed refresh
// token, [Auth.RevokeSession] and [Auth.RevokeSubject] end access tokens at
// once instead of when they expire. In memory that is a map read; the Redis
// store answers from a local copy it keeps in sync (see redisstore); other
// stores make one round trip. Default: off.
func WithAccessRevocation() Option {
	return set("WithAccessRevocation", func(c *config) error { c.accessRevocation = true; return nil })
}

// WithStore keeps sessions and revocations in s, for example the Redis or
// SQL store of the redisstore and sqlstore modules when several instances
// serve one API. Default: a [MemoryStore] private to this Auth.
func WithStore(s Store) Option {
	return set("WithStore", func(c *config) error {
		if s == nil {
			return errors.New("nil store")
		}
		c.store = s
		return nil
	})
}

// WithStoreTimeout bounds every store call: a stalled or unreachable store
// answers 503 temporarily_unavailable within d, never a hung request. At
// most 30 seconds. Default: 2 seconds.
func WithStoreTimeout(d time.Duration) Option {
	return set("WithStoreTimeout", func(c *config) error {
		if d > 30*time.Second {
			return fmt.Errorf("%v is over 30s", d)
		}
		return positive(d, &c.storeTimeout)
	})
}

// --- Claims and checks ----------------------------------------------------

// WithIssuer sets the iss claim of new tokens and requires it of every token.
// Default: none (iss is neither set nor checked).
func WithIssuer(iss string) Option {
	return set("WithIssuer", func(c *config) error {
		if iss == "" {
			return errors.New("empty issuer")
		}
		c.issuer = iss
		return nil
	})
}

// WithAudience sets the aud claim of new tokens and requires every token to
// name at least one of aud. Default: none (aud is neither set nor checked).
func WithAudience(aud ...string) Option {
	return set("WithAudience", func(c *config) error {
		if len(aud) == 0 || slices.Contains(aud, "") {
			return errors.New("no audience, or an empty one")
		}
		c.audience = slices.Clone(aud)
		return nil
	})
}

// WithLeeway tolerates clock skew between servers when checking exp, nbf
// and iat; at most 5 minutes. Default: 0.
func WithLeeway(d time.Duration) Option {
	return set("WithLeeway", func(c *config) error {
		if d < 0 || d > 5*time.Minute {
			return fmt.Errorf("%v is outside 0 to 5m", d)
		}
		c.leeway = d
		return nil
	})
}

// WithTimeFunc sets the clock, for tests. Default: time.Now.
func WithTimeFunc(now func() time.Time) Option {
	return set("WithTimeFunc", func(c *config) error {
		if now == nil {
			return errors.New("nil clock")
		}
		c.now = now
		return nil
	})
}

// WithRealm sets the realm of WWW-Authenticate challenges. Default: "api".
func WithRealm(realm string) Option {
	return set("WithRealm", func(c *config) error {
		if realm == "" || quotable(realm) != realm {
			return fmt.Errorf("%q is empty or has characters a challenge cannot quote", realm)
		}
		c.realm = realm
		return nil
	})
}

// WithScopeClaim names the claim [Auth.RequireScopes] reads: a string of
// space-separated scopes (RFC 9068 "scope") or an array of strings ("roles",
// say). Apps put it in [Identity].Custom. Default: "scope".
func WithScopeClaim(name string) Option {
	return set("WithScopeClaim", func(c *config) error {
		if name == "" {
			return errors.New("empty claim name")
		}
		c.scopeClaim = name
		return nil
	})
}

// WithTokenCache sets how many verified access tokens to remember at most
// (size rounded down to a multiple of 4); 0 turns the cache off. Memory
// stays below about size × (2 × token length + 300 bytes). A token is
// looked up by its exact bytes, and every hit is checked again against the
// clock, the guards and, with [WithAccessRevocation], the store.
// Default: 10 000.
func WithTokenCache(size int) Option {
	return set("WithTokenCache", func(c *config) error {
		if size < 0 {
			return fmt.Errorf("negative size %d", size)
		}
		c.cacheSize = size
		if size == 0 {
			c.cacheSize = -1
		}
		return nil
	})
}

// --- Requests and browsers ------------------------------------------------

// WithTokenSources sets how requests may carry their access tokens, read in
// the given order. A request must use one of them only: a token found by
// two is refused with 400 invalid_request (RFC 6750 §2), whatever the
// order. A source not listed is not read at all. Default: [FromHeader],
// followed by [FromCookie] when [WithCookies] is set.
func WithTokenSources(sources ...TokenSource) Option {
	return set("WithTokenSources", func(c *config) error {
		if len(sources) == 0 {
			return errors.New("no source")
		}
		seen := map[sourceKind]bool{}
		for _, s := range sources {
			switch s.kind {
			case fromHeader, fromCookie:
			case fromQuery:
				if s.param == "" || url.QueryEscape(s.param) != s.param {
					return fmt.Errorf("%q is not a plain query parameter name", s.param)
				}
			default:
				return errors.New("zero TokenSource (use FromHeader, FromCookie or UnsafeFromQuery)")
			}
			if seen[s.kind] {
				return fmt.Errorf("%v listed twice", s)
			}
			seen[s.kind] = true
		}
		c.sources = slices.Clone(sources)
		return nil
	})
}

// WithCookies is cookie mode, for browser apps: login, refresh and
// fresh-login answer the tokens as HttpOnly cookies, out of reach of page
// scripts (and so of XSS), instead of in the JSON body, and logout clears
// them. See docs/browser.md.
//
//   - The access token goes in an HttpOnly cookie for every path, the
//     refresh token in an HttpOnly cookie for refreshPath only, each with
//     Max-Age matching the token. All cookies are Secure (browsers accept
//     that on http://localhost too) and SameSite (see [WithCookieSameSite]).
//   - The JSON body says {"expires_in", "refresh_expires_in", "csrf_token"},
//     so the page can plan refreshes; it never holds a token.
//   - Each session gets a random CSRF value, bound into its tokens and set
//     in a cookie scripts can read. A state-changing request whose token
//     comes from a cookie must repeat it in the X-CSRF-Token header.
//   - Fresh-login needs the session's access token (refresh first if it
//     expired), whose CSRF value the new token keeps.
//
// refreshPath must cover the refresh and logout endpoints, because logout
// ends the session the refresh cookie names: "/auth/" when
// [Auth.RegisterRoutes] mounts them on /auth. Choose a path that covers
// little else, so the refresh token is not sent with every API call.
// Default: off (tokens in the JSON body).
func WithCookies(refreshPath string) Option {
	return set("WithCookies", func(c *config) error {
		if !strings.HasPrefix(refreshPath, "/") || strings.ContainsFunc(refreshPath, func(r rune) bool { return r < 0x21 || r > 0x7e || r == ';' }) {
			return fmt.Errorf("refresh path %q must start with / and hold no spaces, controls or ';'", refreshPath)
		}
		c.cookies.on, c.cookies.refreshPath = true, refreshPath
		return nil
	})
}

// WithCookieNames renames the access-token, refresh-token and CSRF cookies.
// Keep the __Host- and __Secure- prefixes unless you know why not; a
// __Host- refresh cookie needs the refresh path "/". Default:
// "__Host-access-token", "__Secure-refresh-token", "__Host-csrf-token".
func WithCookieNames(access, refresh, csrf string) Option {
	return set("WithCookieNames", func(c *config) error {
		for _, name := range []string{access, refresh, csrf} {
			if name == "" || strings.ContainsFunc(name, func(r rune) bool { return !isTokenChar(r) }) {
				return fmt.Errorf("%q is not a valid cookie name", name)
			}
		}
		if access == refresh || access == csrf || refresh == csrf {
			return errors.New("the three names must differ")
		}
		c.cookies.access, c.cookies.refresh, c.cookies.csrf = access, refresh, csrf
		return nil
	})
}

// WithCookieSameSite sets the SameSite attribute of cookie mode's cookies.
// Lax keeps them off cross-site subresource requests and form posts; Strict
// also off links from other sites; None sends them everywhere, leaving only
// the CSRF checks between another site and your routes. Default: Lax.
func WithCookieSameSite(mode http.SameSite) Option {
	return set("WithCookieSameSite", func(c *config) error {
		switch mode {
		case http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode:
		default:
			return fmt.Errorf("%d is not Lax, Strict or None", mode)
		}
		c.cookies.sameSite = mode
		return nil
	})
}

// WithTrustedOrigins lets browser requests from these origins
// ("https://app.example.com", scheme://host[:port]) through the
// cross-origin check, for a page served from another origin than the API.
// In cookie mode they still need the X-CSRF-Token header; such a page reads
// the value from the csrf_token of the JSON answers, since it cannot read
// the API's cookies. It may be given more than once. Default: none
// (same-origin pages only).
func WithTrustedOrigins(origins ...string) Option {
	return func(c *config) error {
		if len(origins) == 0 {
			return errors.New("WithTrustedOrigins: no origin")
		}
		probe := http.NewCrossOriginProtection()
		for _, o := range origins {
			if err := probe.AddTrustedOrigin(o); err != nil {
				return fmt.Errorf("WithTrustedOrigins: %w", err)
			}
		}
		c.origins = append(c.origins, origins...)
		return nil
	}
}

// --- Answers, logs and throttling -----------------------------------------

// WithErrorHandler replaces the default error answers. The handler gets the
// [*Error] of every failure of the guards, the handlers and [Auth.Fail], and
// must write the response; the chain is aborted after it returns. It can
// render its own body and keep ginfresh's headers with [Error.SetHeaders]:
//
//	func(c *gin.Context, e *ginfresh.Error) {
//		e.SetHeaders(c.Writer.Header())
//		c.JSON(e.Status, gin.H{"code": e.Code, "message": e.Description})
//	}
//
// Default: JSON {"error","error_description"} with the status and headers
// of the Error.
func WithErrorHandler(h func(*gin.Context, *Error)) Option {
	return set("WithErrorHandler", func(c *config) error {
		if h == nil {
			return errors.New("nil handler")
		}
		c.errorHandler = h
		return nil
	})
}

// WithLogger receives security events (logins, failed and throttled logins,
// refreshes, replays, revocations, store failures). It never receives a
// token, a password or a secret: tokens are named by their jti, failed
// accounts by a digest. Default: none.
func WithLogger(l *slog.Logger) Option {
	return set("WithLogger", func(c *config) error {
		if l == nil {
			return errors.New("nil logger")
		}
		c.logger = l
		return nil
	})
}

// WithLoginThrottle sets the limits of the login throttle; zero fields take
// their defaults. PerAccount must not exceed PerClient, Window is at most a
// day, and a Key has at least 32 bytes. Default: on, with the [Throttle]
// defaults.
func WithLoginThrottle(t Throttle) Option {
	return set("WithLoginThrottle", func(c *config) error {
		switch {
		case t.PerAccount < 0 || t.PerClient < 0:
			return errors.New("negative limit")
		case t.Window < 0 || t.Window > 24*time.Hour:
			return fmt.Errorf("window %v is outside 0 to 24h", t.Window)
		case len(t.Key) > 0 && len(t.Key) < minHMACKeySize:
			return fmt.Errorf("%w: Key is %d bytes, at least %d are required", ErrInvalidKey, len(t.Key), minHMACKeySize)
		}
		t = t.withDefaults()
		if t.PerAccount > t.PerClient {
			return fmt.Errorf("PerAccount %d exceeds PerClient %d", t.PerAccount, t.PerClient)
		}
		t.Key = slices.Clone(t.Key) // the caller may reuse its slice
		c.throttle = &t
		return nil
	})
}

// WithoutLoginThrottle turns the login throttle off, for an app that limits
// login attempts elsewhere (a gateway, or its authenticator).
// Default: the throttle is on.
func WithoutLoginThrottle() Option {
	return set("WithoutLoginThrottle", func(c *config) error { c.noThrottle = true; return nil })
}

func named(name string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
