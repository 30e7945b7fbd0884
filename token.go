package ginfresh

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
)

// The presented-token pipeline: everything between a request and the
// claims of the token it carries, in the order it runs.
//
//	source → origin check → verify (format, claims, cache, revocation) → double submit
//
// The middleware, the guards and every handler go through present.

// TokenSource is one way a request may carry its token; see
// [WithTokenSources].
type TokenSource struct {
	kind  sourceKind
	param string // the query parameter of UnsafeFromQuery
}

type sourceKind uint8

const (
	fromHeader sourceKind = iota + 1
	fromCookie
	fromQuery
)

func (s TokenSource) String() string {
	switch s.kind {
	case fromHeader:
		return "Authorization header"
	case fromCookie:
		return "cookie"
	case fromQuery:
		return "query parameter " + s.param
	}
	return "unknown source"
}

// FromHeader reads the Bearer token of the Authorization header (RFC 6750
// §2.1). Requests that use it need no CSRF check: a browser never adds the
// header by itself.
func FromHeader() TokenSource { return TokenSource{kind: fromHeader} }

// FromCookie reads the access-token cookie and, at the refresh and logout
// endpoints, the refresh-token cookie (see [WithCookies]). A browser sends
// cookies by itself, even on requests another site makes it send, so a
// state-changing request (any method but GET, HEAD and OPTIONS) whose token
// comes from a cookie must pass the CSRF checks, or it is refused with
// [ErrCSRF]. So must a WebSocket handshake: it is a GET, but a page on any
// site can open a WebSocket with the browser's cookies, so a handshake
// whose token comes from a cookie needs an Origin header naming the
// request's own host or a trusted origin (see [WithTrustedOrigins]).
func FromCookie() TokenSource { return TokenSource{kind: fromCookie} }

// UnsafeFromQuery reads the access token from the query parameter param, on
// WebSocket handshakes only (a GET with Connection: Upgrade, Upgrade:
// websocket, Sec-WebSocket-Key and Sec-WebSocket-Version), because a
// browser's WebSocket API cannot set headers. Other requests ignore the
// parameter. Tokens in URLs leak into access logs, proxies and browser
// history (RFC 6750 §5.3), which is why this is opt-in: prefer a cookie.
func UnsafeFromQuery(param string) TokenSource {
	return TokenSource{kind: fromQuery, param: param}
}

// presented is a verified token and where it came from; a nil Claims
// means the request carried none.
type presented struct {
	*Claims
	token string
	from  sourceKind
}

// Limits on what a request may carry, checked before any decoding.
const (
	maxHeaderSize   = 8 << 10
	maxCookieCopies = 16
)

var (
	errTwoMethods   = fmt.Errorf("%w: the token came by two methods at once", ErrInvalidRequest)
	errManyHeaders  = fmt.Errorf("%w: more than one Authorization header", ErrInvalidRequest)
	errLongHeader   = fmt.Errorf("%w: Authorization header over %d bytes", ErrInvalidRequest, maxHeaderSize)
	errEmptyBearer  = fmt.Errorf("%w: empty bearer token", ErrInvalidRequest)
	errManyCookies  = fmt.Errorf("%w: a cookie sent more than %d times", ErrInvalidRequest, maxCookieCopies)
	errCrossOrigin  = wrapped{ErrCSRF, errors.New("a cross-origin request")}
	errNoCSRFClaim  = wrapped{ErrCSRF, errors.New("the cookie's token carries no csrf claim")}
	errNoCSRFHeader = wrapped{ErrCSRF, errors.New("the X-CSRF-Token header is missing")}
	errCSRFHeader   = wrapped{ErrCSRF, errors.New("the X-CSRF-Token header does not match the token")}
	errCSRFCookie   = wrapped{ErrCSRF, errors.New("the CSRF cookie does not match the token")}
	errNoWSOrigin   = wrapped{ErrCSRF, errors.New("a WebSocket handshake with a token in a cookie must carry one Origin header")}
	errWSOrigin     = wrapped{ErrCSRF, errors.New("the WebSocket handshake comes from an untrusted origin")}
)

// present runs the pipeline for a token of kind k and returns it verified,
// or nil when the request carries none. At an auth endpoint the origin
// check runs whatever the source (a cross-site page must not be able to
// make a browser log in, refresh or log out); elsewhere it guards only
// tokens that came from a cookie.
//
// A cookie may come more than once: a sibling subdomain can plant a second
// one under the same name (Domain=parent). Each copy is tried in turn, and
// the one that verifies and matches the session's CSRF value wins, so a
// planted cookie can never wedge refresh or logout.
func (a *Auth) present(c *gin.Context, k Kind, endpoint bool) (presented, error) {
	if k == Access {
		// The middleware's verdict, if it ran. (The handlers that pass
		// endpoint have checked the origin already.)
		if p, err, ok := a.verified(c); ok {
			return p, err
		}
	}
	return a.read(c, k, endpoint)
}

// read is present without the middleware's verdict: the middleware itself.
func (a *Auth) read(c *gin.Context, k Kind, endpoint bool) (presented, error) {
	r := c.Request
	token, from, err := a.source(r, k)
	if err != nil || from == 0 {
		return presented{}, err
	}
	if endpoint || from == fromCookie {
		if err := a.checkOrigin(r, from); err != nil {
			return presented{}, err
		}
	}
	if from != fromCookie {
		claims, err := a.verify(r.Context(), k, token)
		if err != nil {
			return presented{}, err
		}
		return presented{claims, token, from}, nil
	}
	name := a.cookies.name(k)
	var first error
	for value := range cookieValues(r, name) {
		claims, err := a.verify(r.Context(), k, value)
		if err == nil {
			err = a.doubleSubmit(r, claims.csrf)
		}
		if err == nil {
			return presented{claims, value, fromCookie}, nil
		}
		if first == nil {
			first = err
		}
	}
	return presented{from: fromCookie}, first
}

// source returns the request's token of kind k and where it came from. A
// cookie source answers fromCookie with an empty token: its copies are
// read by present. It allocates nothing for a bearer token.
func (a *Auth) source(r *http.Request, k Kind) (token string, from sourceKind, err error) {
	for _, src := range a.sources {
		var tok string
		switch src.kind {
		case fromHeader:
			tok, err = bearerToken(r)
		case fromCookie:
			var n int
			n, err = countCookie(r, a.cookies.name(k))
			if n > 0 {
				tok = "cookie"
			}
		case fromQuery:
			if k == Access && isWebSocketHandshake(r) {
				tok, err = queryToken(r, src.param)
			}
		}
		if err != nil {
			return "", 0, err
		}
		if tok == "" {
			continue
		}
		if from != 0 {
			return "", 0, errTwoMethods
		}
		token, from = tok, src.kind
	}
	if from == fromCookie {
		token = ""
	}
	return token, from, nil
}

// bearerToken returns the Bearer token of r, "" when there is none. Only
// the Authorization header is read: tokens in query strings or forms leak
// into logs and caches (RFC 6750 §5.3, RFC 9700 §4.3.2). The token is a
// slice of the header value.
func bearerToken(r *http.Request) (string, error) {
	vals := r.Header["Authorization"]
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1:
		return "", errManyHeaders
	}
	v := vals[0]
	if len(v) > maxHeaderSize {
		return "", errLongHeader
	}
	const scheme = "bearer"
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) || (len(v) > len(scheme) && v[len(scheme)] != ' ') {
		return "", nil // another scheme: no bearer token here
	}
	tok := strings.TrimLeft(v[len(scheme):], " ")
	if tok == "" {
		return "", errEmptyBearer
	}
	return tok, nil
}

// cookieValues yields the non-empty values of the cookie name, in the order
// the browser sent them (most specific path first), at most
// maxCookieCopies of them.
func cookieValues(r *http.Request, name string) func(func(string) bool) {
	return func(yield func(string) bool) {
		n := 0
		for _, line := range r.Header["Cookie"] {
			for line != "" {
				var pair string
				pair, line, _ = strings.Cut(line, ";")
				k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if !ok || k != name || v == "" || len(v) > maxTokenSize {
					continue
				}
				if n++; n > maxCookieCopies || !yield(v) {
					return
				}
			}
		}
	}
}

// countCookie counts the copies of the cookie name a request carries; more
// than maxCookieCopies is a malformed request.
func countCookie(r *http.Request, name string) (int, error) {
	n := 0
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var pair string
			pair, line, _ = strings.Cut(line, ";")
			if k, v, ok := strings.Cut(strings.TrimSpace(pair), "="); ok && k == name && v != "" {
				n++
			}
		}
	}
	if n > maxCookieCopies {
		return 0, errManyCookies
	}
	return n, nil
}

// isWebSocketHandshake reports whether r opens a WebSocket (RFC 6455
// §4.1): a GET asking to upgrade to websocket, with a key and version 13.
// Upgrade: websocket alone is not enough.
func isWebSocketHandshake(r *http.Request) bool {
	h := r.Header
	return r.Method == http.MethodGet &&
		headerHasToken(h["Connection"], "upgrade") && headerHasToken(h["Upgrade"], "websocket") &&
		len(h["Sec-Websocket-Key"]) == 1 && h["Sec-Websocket-Key"][0] != "" &&
		len(h["Sec-Websocket-Version"]) == 1 && h["Sec-Websocket-Version"][0] == "13"
}

func headerHasToken(vals []string, token string) bool {
	for _, v := range vals {
		for p := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), token) {
				return true
			}
		}
	}
	return false
}

// queryToken returns the token in the query parameter param.
func queryToken(r *http.Request, param string) (string, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", fmt.Errorf("%w: malformed query string", ErrInvalidRequest)
	}
	vals, ok := q[param]
	switch {
	case !ok:
		return "", nil
	case len(vals) > 1:
		return "", fmt.Errorf("%w: query parameter %s repeated", ErrInvalidRequest, param)
	case vals[0] == "":
		return "", fmt.Errorf("%w: empty token in query parameter %s", ErrInvalidRequest, param)
	case len(vals[0]) > maxTokenSize:
		return "", fmt.Errorf("%w: query parameter %s over %d bytes", ErrInvalidRequest, param, maxTokenSize)
	}
	return vals[0], nil
}

// checkOrigin refuses a cross-origin browser request that changes state
// (Sec-Fetch-Site, else Origin against Host), unless its origin is trusted.
// A WebSocket handshake is a GET, which that check lets through, yet any
// site can open a WebSocket with the browser's cookies and talk on it both
// ways (cross-site WebSocket hijacking): one whose token comes from a
// cookie must carry an Origin, as browsers always do (RFC 6455 §4.1), that
// is same-origin or trusted.
func (a *Auth) checkOrigin(r *http.Request, from sourceKind) error {
	if from == fromCookie && isWebSocketHandshake(r) {
		origins := r.Header["Origin"]
		if len(origins) != 1 || origins[0] == "" {
			return errNoWSOrigin
		}
		// Ask the cross-origin check about a state-changing request with
		// only this Origin, so that same-origin and trusted mean here what
		// they mean for every other request.
		probe := &http.Request{Method: http.MethodPost, Host: r.Host, URL: r.URL, Header: http.Header{"Origin": origins}}
		if a.crossOrigin.Check(probe) != nil {
			return errWSOrigin
		}
		return nil
	}
	if err := a.crossOrigin.Check(r); err != nil {
		return errCrossOrigin
	}
	return nil
}

// doubleSubmit requires, on state-changing requests, that the X-CSRF-Token
// header and a CSRF cookie both equal claim, the csrf claim of the
// cookie-borne token. Another site can make the browser send the cookies
// but can neither read them nor set the header. Compared in constant time.
func (a *Auth) doubleSubmit(r *http.Request, claim string) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if claim == "" {
		return errNoCSRFClaim
	}
	vals := r.Header["X-Csrf-Token"]
	if len(vals) == 0 || vals[0] == "" {
		return errNoCSRFHeader
	}
	if len(vals) > 1 || subtle.ConstantTimeCompare([]byte(vals[0]), []byte(claim)) != 1 {
		return errCSRFHeader
	}
	for v := range cookieValues(r, a.cookies.csrf) {
		if subtle.ConstantTimeCompare([]byte(v), []byte(claim)) == 1 {
			return nil
		}
	}
	return errCSRFCookie
}

// Verify checks a token of kind k and returns its claims: integrity and
// kind (by the format), then exp, nbf, iat, sub, jti, sid, iss and aud
// against the clock and options, then, for access tokens with
// [WithAccessRevocation], the store. Refresh tokens are checked against
// their session by the refresh handler, not here.
func (a *Auth) Verify(ctx context.Context, k Kind, token string) (*Claims, error) {
	if k != Access && k != Refresh {
		return nil, fmt.Errorf("ginfresh: Verify: unknown token kind %d", k)
	}
	return a.verify(ctx, k, token)
}

var (
	errMissingExp = tokenError(ErrTokenInvalid, fmt.Errorf("%w: exp", jwt.ErrTokenRequiredClaimMissing))
	errMissingIat = tokenError(ErrTokenInvalid, fmt.Errorf("%w: iat", jwt.ErrTokenRequiredClaimMissing))
	errMissingSub = tokenError(ErrTokenInvalid, fmt.Errorf("%w: sub is empty", jwt.ErrTokenInvalidSubject))
	errMissingJTI = tokenError(ErrTokenInvalid, fmt.Errorf("%w: jti", jwt.ErrTokenRequiredClaimMissing))
	errMissingSID = tokenError(ErrTokenInvalid, fmt.Errorf("%w: sid", jwt.ErrTokenRequiredClaimMissing))
	errFreshRT    = tokenError(ErrTokenInvalid, errors.New("a refresh token cannot be fresh"))

	// Prebuilt so that refusing the usual bad tokens allocates nothing.
	errExpired  = tokenError(ErrTokenExpired, jwt.ErrTokenExpired)
	errFuture   = tokenError(ErrTokenInvalid, jwt.ErrTokenUsedBeforeIssued)
	errNotYet   = tokenError(ErrTokenInvalid, jwt.ErrTokenNotValidYet)
	errIssuer   = tokenError(ErrTokenInvalid, jwt.ErrTokenInvalidIssuer)
	errAudience = tokenError(ErrTokenInvalid, jwt.ErrTokenInvalidAudience)
	errRevoked  = tokenError(ErrTokenRevoked, nil)
)

// verify is Verify. An access token seen before comes from the cache, and
// every time-based check runs again on it.
func (a *Auth) verify(ctx context.Context, k Kind, token string) (*Claims, error) {
	now := a.now()
	var c *Claims
	if k == Access {
		c = a.cache.Get(token, now)
	}
	if c == nil {
		gen := a.cache.Generation() // before the format reads its keys
		payload, err := a.format.Verify(k, token)
		switch {
		case errors.Is(err, ErrKeySetUnavailable):
			return nil, err // not the token's fault: 503, never a logout
		case err != nil && !errors.Is(err, ErrTokenInvalid):
			return nil, tokenError(ErrTokenInvalid, err)
		case err != nil:
			return nil, err
		}
		// The payload is ours now: the claims keep it as their raw text.
		if c, err = decodeClaims(unsafe.String(unsafe.SliceData(payload), len(payload))); err != nil {
			return nil, tokenError(ErrTokenInvalid, err)
		}
		if err := a.validate(c, k, now); err != nil {
			return nil, err
		}
		c.owner = a
		if k == Access {
			a.cache.Put(token, c, c.ExpiresAt.Add(a.leeway), gen)
		}
	} else if err := a.validate(c, k, now); err != nil {
		a.cache.Drop(token)
		return nil, err
	}
	if k == Access && a.accessRevocation {
		revoked, err := a.revoked(ctx, c, now)
		if err != nil {
			return nil, err
		}
		if revoked {
			return nil, errRevoked
		}
	}
	return c, nil
}

// revoked asks the store about an access token: from memory when it can
// tell (see [LocalRevoker]), else within the store timeout.
func (a *Auth) revoked(ctx context.Context, c *Claims, now time.Time) (bool, error) {
	if a.localRevoker != nil {
		if revoked, sure := a.localRevoker.RevokedLocally(c.SessionID, now); sure {
			return revoked, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, a.storeTimeout)
	defer cancel()
	revoked, err := a.store.Revoked(ctx, c.SessionID, now)
	if err != nil {
		return false, a.log.storeFailed(ctx, "revoked", err)
	}
	return revoked, nil
}

// validate checks claim values. It runs on every request, cached or not,
// and allocates nothing on success or on the usual failures.
func (a *Auth) validate(c *Claims, k Kind, now time.Time) error {
	switch {
	case c.ExpiresAt.IsZero():
		return errMissingExp
	case !now.Before(c.ExpiresAt.Add(a.leeway)):
		return errExpired
	case c.IssuedAt.IsZero():
		return errMissingIat
	case c.IssuedAt.After(now.Add(a.leeway)):
		return errFuture
	case c.NotBefore.After(now.Add(a.leeway)):
		return errNotYet
	case c.Subject == "":
		return errMissingSub
	case c.ID == "":
		return errMissingJTI
	case c.SessionID == "":
		return errMissingSID
	case a.issuer != "" && c.Issuer != a.issuer:
		return errIssuer
	case len(a.audience) > 0 && !slices.ContainsFunc(c.Audience, func(s string) bool { return slices.Contains(a.audience, s) }):
		return errAudience
	case k == Refresh && c.Fresh:
		return errFreshRT
	}
	return nil
}
