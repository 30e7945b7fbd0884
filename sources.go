package ginfresh

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

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
// endpoints, the refresh-token cookie (see [WithCookies] and
// [WithCookieNames]). A browser sends cookies by itself, even on requests
// another site makes it send, so a state-changing request (any method but
// GET, HEAD and OPTIONS) whose token comes from a cookie must pass the CSRF
// checks described at [WithCookies], or it is refused with [ErrCSRF]. So
// must a WebSocket handshake: it is a GET, but a page on any site can open
// a WebSocket with the browser's cookies and then use it both ways, so a
// handshake whose token comes from a cookie needs an Origin header naming
// the request's own host or a trusted origin (see [WithTrustedOrigins]).
func FromCookie() TokenSource { return TokenSource{kind: fromCookie} }

// UnsafeFromQuery reads the access token from the query parameter param,
// on WebSocket handshakes only (GET with Upgrade: websocket), because a
// browser's WebSocket API cannot set headers. Other requests ignore the
// parameter. Tokens in URLs leak into access logs, proxies and browser
// history (RFC 6750 §5.3), which is why this is opt-in: prefer a cookie, or
// keep access tokens short-lived when you use it. No CSRF check applies:
// a browser never puts a token in a URL by itself, so another site cannot
// open a socket with it unless it already holds the token.
func UnsafeFromQuery(param string) TokenSource {
	return TokenSource{kind: fromQuery, param: param}
}

// WithTokenSources sets how requests may carry their tokens, read in the
// given order. A request must use one of them only: a token found by two
// is refused with 400 invalid_request (RFC 6750 §2), whatever the order. A
// source not listed is not read at all. Default: FromHeader(), followed by
// FromCookie() when [WithCookies] is set.
func WithTokenSources(sources ...TokenSource) Option {
	return func(a *Auth) error {
		if len(sources) == 0 {
			return errors.New("WithTokenSources: no source")
		}
		seen := make(map[sourceKind]bool, len(sources))
		for _, s := range sources {
			switch s.kind {
			case fromHeader, fromCookie:
			case fromQuery:
				if s.param == "" || url.QueryEscape(s.param) != s.param {
					return fmt.Errorf("WithTokenSources: %q is not a plain query parameter name", s.param)
				}
			default:
				return errors.New("WithTokenSources: zero TokenSource (use FromHeader, FromCookie or UnsafeFromQuery)")
			}
			if seen[s.kind] {
				return fmt.Errorf("WithTokenSources: %v listed twice", s)
			}
			seen[s.kind] = true
		}
		a.sources = append([]TokenSource(nil), sources...)
		return nil
	}
}

// reads reports whether kind is one of the configured sources.
func (a *Auth) reads(kind sourceKind) bool {
	for _, s := range a.sources {
		if s.kind == kind {
			return true
		}
	}
	return false
}

// requestToken returns the request's token of type typ and where it came
// from, "" when no configured source carries one. With the default sources
// it is bearerToken and allocates nothing.
func (a *Auth) requestToken(r *http.Request, typ TokenType) (token string, from sourceKind, err error) {
	for _, src := range a.sources {
		var tok string
		switch src.kind {
		case fromHeader:
			tok, err = bearerToken(r)
		case fromCookie:
			name := a.cookies.access
			if typ == RefreshToken {
				name = a.cookies.refresh
			}
			tok, err = cookieValue(r, name)
		case fromQuery:
			if typ == AccessToken && isWebSocketHandshake(r) {
				tok, err = queryToken(r, src.param)
			}
		}
		if err != nil {
			return "", 0, err
		}
		if tok == "" {
			continue
		}
		if token != "" {
			return "", 0, fmt.Errorf("%w: the token came by two methods at once", ErrInvalidRequest)
		}
		token, from = tok, src.kind
	}
	return token, from, nil
}

// cookieValue returns the value of the cookie name, "" when the request has
// none. A name sent twice is refused: with the default prefixed names only a
// cookie planted by another host could cause it. It allocates nothing unless
// it refuses.
func cookieValue(r *http.Request, name string) (string, error) {
	var val string
	found := false
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var pair string
			pair, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || k != name {
				continue
			}
			if found {
				return "", fmt.Errorf("%w: cookie %s sent twice", ErrInvalidRequest, name)
			}
			found, val = true, v
		}
	}
	if len(val) > MaxTokenSize {
		return "", fmt.Errorf("%w: cookie %s over %d bytes", ErrInvalidRequest, name, MaxTokenSize)
	}
	return val, nil
}

// isWebSocketHandshake reports whether r opens a WebSocket (RFC 6455 §4.1).
func isWebSocketHandshake(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	for _, v := range r.Header["Upgrade"] {
		for p := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "websocket") {
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
	case len(vals[0]) > MaxTokenSize:
		return "", fmt.Errorf("%w: query parameter %s over %d bytes", ErrInvalidRequest, param, MaxTokenSize)
	}
	return vals[0], nil
}
