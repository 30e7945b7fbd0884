package ginfresh

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh/internal/jsonscan"
)

// Middleware reads and verifies the request's access token once and stores
// the result in the gin context: the claims for [ClaimsFrom], or the error
// for the guards to answer. It never refuses a request itself, so a route
// without a guard stays public even when the client sends a bad token.
func (a *Auth) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := a.read(c, Access, false)
		switch {
		case err != nil:
			c.Set(errKey{}, &verifyFailure{owner: a, err: err, from: p.from})
		case p.Claims != nil:
			c.Set(claimsKey{}, p.Claims)
			if p.from == fromCookie {
				c.Set(fromCookieKey{}, a)
			}
		}
	}
}

// access returns the request's verified claims, verifying now if the
// middleware did not run.
func (a *Auth) access(c *gin.Context) (*Claims, error) {
	// The middleware's claims (the usual case, so looked up directly), or
	// its refusal.
	if v, ok := c.Get(claimsKey{}); ok {
		if claims, ok := v.(*Claims); ok && claims.owner == a {
			return claims, nil
		}
	}
	if p, err, ok := a.verified(c); ok {
		return p.Claims, err
	}
	p, err := a.present(c, Access, false)
	if err != nil {
		return nil, err
	}
	if p.Claims == nil {
		return nil, ErrTokenMissing
	}
	c.Set(claimsKey{}, p.Claims)
	return p.Claims, nil
}

// RequireAccess admits requests with any valid access token, fresh or not.
func (a *Auth) RequireAccess() gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, err := a.access(c); err != nil {
			a.Fail(c, err)
		}
	}
}

// FreshOption refines [Auth.RequireFresh].
type FreshOption func(*freshGuard)

type freshGuard struct {
	maxAge time.Duration
	acr    []string
}

// MaxAge also requires that the user authenticated at most d ago (the
// token's auth_time). Refusals carry max_age in the challenge (RFC 9470
// §3), in whole seconds rounded up, so a client can ask the user to log in
// again before retrying. Zero means no age limit; a negative d is a set-up
// mistake, and RequireFresh panics on it.
func MaxAge(d time.Duration) FreshOption {
	return func(g *freshGuard) { g.maxAge = d }
}

// ACRValues also requires that the user authenticated at one of these
// levels (the token's acr, which the authenticator's [Identity] sets): a
// password and a one-time code, say. Refusals carry acr_values in the
// challenge (RFC 9470 §3), so the client knows what login to perform.
func ACRValues(values ...string) FreshOption {
	return func(g *freshGuard) { g.acr = append(g.acr, values...) }
}

// RequireFresh admits only fresh access tokens: ones minted by a login or
// fresh-login, never by a refresh. Use it on routes that change credentials,
// move money or delete data. Refusals are 401
// insufficient_user_authentication ([ErrTokenNotFresh]).
func (a *Auth) RequireFresh(opts ...FreshOption) gin.HandlerFunc {
	var g freshGuard
	for _, opt := range opts {
		opt(&g)
	}
	if g.maxAge < 0 {
		// A route set up wrong must not quietly lose its age limit; like
		// gin's own route conflicts, this stops the program at start-up.
		panic(fmt.Sprintf("ginfresh: RequireFresh(MaxAge(%v)): the age limit is negative", g.maxAge))
	}
	if slices.Contains(g.acr, "") || (len(g.acr) > 0 && quotable(strings.Join(g.acr, " ")) != strings.Join(g.acr, " ")) {
		panic(fmt.Sprintf("ginfresh: RequireFresh(ACRValues(%q)): a value is empty or cannot be quoted", g.acr))
	}
	// Built once: refusing a stale token allocates nothing.
	desc := "A fresh login is required."
	if len(g.acr) > 0 {
		desc = "A fresh login at a stronger level is required."
	}
	notFresh := (&Error{
		Status: http.StatusUnauthorized, Code: "insufficient_user_authentication", Description: desc,
		MaxAge: g.maxAge, ACRValues: strings.Join(g.acr, " "), Err: ErrTokenNotFresh,
	}).render(a.errors.realm)
	return func(c *gin.Context) {
		claims, err := a.access(c)
		switch {
		case err != nil:
			a.Fail(c, err)
		case !claims.Fresh,
			g.maxAge > 0 && a.now().Sub(claims.AuthTime) > g.maxAge,
			len(g.acr) > 0 && !slices.Contains(g.acr, claims.ACR):
			a.Fail(c, notFresh)
		}
	}
}

// RequireScopes admits access tokens that grant every one of scopes, read
// from the claim of [WithScopeClaim]: a string of space-separated scopes or
// an array of strings. Refusals are 403 insufficient_scope with the scopes
// in the challenge (RFC 6750 §3.1).
func (a *Auth) RequireScopes(scopes ...string) gin.HandlerFunc {
	if len(scopes) == 0 || slices.Contains(scopes, "") {
		panic("ginfresh: RequireScopes needs one or more non-empty scopes")
	}
	lacking := (&Error{
		Status: http.StatusForbidden, Code: "insufficient_scope",
		Description: "The token lacks the scope this route requires.",
		Scope:       strings.Join(scopes, " "), Err: ErrInsufficientScope,
	}).render(a.errors.realm)
	return func(c *gin.Context) {
		claims, err := a.access(c)
		if err != nil {
			a.Fail(c, err)
			return
		}
		if !a.grants(claims, scopes) {
			a.Fail(c, lacking)
		}
	}
}

// grants reports whether the token's scope claim holds every one of want.
func (a *Auth) grants(c *Claims, want []string) bool {
	v, err := c.member(a.scopeClaim)
	if err != nil || v == "" {
		return false
	}
	var have []string
	if v[0] == '"' {
		s, ok := jsonscan.Unquote(v)
		if !ok {
			return false
		}
		have = strings.Fields(s)
	} else if !jsonscan.Strings(v, func(s string) { have = append(have, s) }) {
		return false
	}
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
