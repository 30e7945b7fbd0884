package ginfresh

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
)

// WithTrustedOrigins lets browser requests from these origins
// ("https://app.example.com", scheme://host[:port]) through the
// cross-origin check of cookie mode, for a page served from another origin
// than the API. They still need the X-CSRF-Token header; such a page reads
// the value from the csrf_token of the JSON answers, since it cannot read
// the API's cookies. Default: none (same-origin pages only).
func WithTrustedOrigins(origins ...string) Option {
	return func(a *Auth) error {
		if len(origins) == 0 {
			return errors.New("WithTrustedOrigins: no origin")
		}
		for _, o := range origins {
			if err := a.crossOrigin.AddTrustedOrigin(o); err != nil {
				return fmt.Errorf("WithTrustedOrigins: %w", err)
			}
		}
		a.cookies.originsSet = true
		return nil
	}
}

var (
	errNoCSRFClaim  = wrapped{ErrCSRF, errors.New("the cookie's token carries no csrf claim")}
	errNoCSRFHeader = wrapped{ErrCSRF, errors.New("the " + CSRFHeader + " header is missing")}
	errCSRFHeader   = wrapped{ErrCSRF, errors.New("the " + CSRFHeader + " header does not match the token")}
	errCSRFCookie   = wrapped{ErrCSRF, errors.New("the CSRF cookie does not match the token")}
	errNoWSOrigin   = wrapped{ErrCSRF, errors.New("a WebSocket handshake with a token in a cookie must carry one Origin header")}
	errWSOrigin     = wrapped{ErrCSRF, errors.New("the WebSocket handshake comes from an untrusted origin")}
)

// newCSRF returns a session's CSRF value in cookie mode, "" otherwise.
func (a *Auth) newCSRF() string {
	if !a.cookies.on {
		return ""
	}
	return newID()
}

// checkOrigin refuses a cross-origin browser request that changes state
// (Sec-Fetch-Site, else Origin against Host), unless its origin is trusted.
// It guards every request whose token came from a cookie and, in cookie
// mode, the auth endpoints, login included.
func (a *Auth) checkOrigin(r *http.Request, from sourceKind) error {
	if from != fromCookie && !a.cookies.on {
		return nil
	}
	if from == fromCookie && isWebSocketHandshake(r) {
		return a.checkHandshakeOrigin(r)
	}
	if err := a.crossOrigin.Check(r); err != nil {
		return wrapped{ErrCSRF, err}
	}
	return nil
}

// checkHandshakeOrigin refuses a WebSocket handshake from another origin
// than the request's Host, unless the origin is trusted. A handshake is a
// GET, which the cross-origin check lets through, yet any site can open a
// WebSocket with the browser's cookies and then talk on it both ways
// (cross-site WebSocket hijacking). Browsers always send Origin on a
// handshake (RFC 6455 §4.1), so one without it is refused too.
func (a *Auth) checkHandshakeOrigin(r *http.Request) error {
	origins := r.Header["Origin"]
	if len(origins) != 1 || origins[0] == "" {
		return errNoWSOrigin
	}
	// Ask the cross-origin check about a state-changing request carrying
	// only this Origin, so that same-origin and trusted mean here exactly
	// what they mean for every other request.
	probe := &http.Request{Method: http.MethodPost, Host: r.Host, URL: r.URL, Header: http.Header{"Origin": origins}}
	if a.crossOrigin.Check(probe) != nil {
		return errWSOrigin
	}
	return nil
}

// doubleSubmit requires, on state-changing requests, that the X-CSRF-Token
// header and the CSRF cookie both equal claim, the csrf claim of the
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
	cookie, err := cookieValue(r, a.cookies.csrf)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(cookie), []byte(claim)) != 1 {
		return errCSRFCookie
	}
	return nil
}

// verifyCookie verifies an access token that came from a cookie: the
// origin first, so a cross-site request learns nothing, then the token,
// then the double submit against its claim.
func (a *Auth) verifyCookie(ctx context.Context, r *http.Request, token string) (*Claims, error) {
	if err := a.checkOrigin(r, fromCookie); err != nil {
		return nil, err
	}
	claims, err := a.verifyAccess(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := a.doubleSubmit(r, claims.CSRF); err != nil {
		return nil, err
	}
	return claims, nil
}
