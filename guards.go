package ginfresh

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Middleware reads and verifies the request's access token once and stores
// the result in the gin context: the claims for [ClaimsFrom], or the error
// for the guards to answer. It never refuses a request itself, so a route
// without a guard stays public even when the client sends a bad token.
func (a *Auth) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		claims, err := a.verifyRequest(c)
		switch {
		case err != nil:
			c.Set(errKey{}, &verifyFailure{owner: a, err: err})
		case claims != nil:
			c.Set(claimsKey{}, claims)
		}
	}
}

// verifyRequest verifies the request's access token, with the CSRF checks
// when it came from a cookie; (nil, nil) when it carries none.
func (a *Auth) verifyRequest(c *gin.Context) (*Claims, error) {
	token, from, err := a.requestToken(c.Request, AccessToken)
	if err != nil || token == "" {
		return nil, err
	}
	if from == fromCookie {
		return a.verifyCookie(c.Request.Context(), c.Request, token)
	}
	return a.verifyAccess(c.Request.Context(), token)
}

// access returns the request's verified claims, verifying now if
// Middleware did not run.
func (a *Auth) access(c *gin.Context) (*Claims, error) {
	if claims, ok := ClaimsFrom(c); ok && claims.owner == a {
		return claims, nil
	}
	if err, ok := a.verifyError(c); ok {
		return nil, err
	}
	claims, err := a.verifyRequest(c)
	if err != nil {
		return nil, err
	}
	if claims == nil {
		return nil, ErrTokenMissing
	}
	c.Set(claimsKey{}, claims)
	return claims, nil
}

// RequireAccess admits requests with any valid access token, fresh or not.
func (a *Auth) RequireAccess() gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, err := a.access(c); err != nil {
			a.fail(c, err)
		}
	}
}

// FreshOption refines [Auth.RequireFresh].
type FreshOption func(*freshGuard)

type freshGuard struct {
	maxAge time.Duration
}

// MaxAge also requires that the user proved the password at most d ago
// (the token's auth_time), whatever its fresh flag says. Refusals carry
// max_age in the challenge (RFC 9470 §3), in whole seconds rounded up, so a
// client can ask the user for the password before retrying. Zero means no
// age limit; a negative d is a set-up mistake and RequireFresh panics on it.
func MaxAge(d time.Duration) FreshOption {
	return func(g *freshGuard) { g.maxAge = d }
}

// RequireFresh admits only fresh access tokens: ones minted by login or
// fresh-login, never by refresh. Use it on routes that change credentials,
// move money or delete data.
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
	// Built once: refusing a stale token allocates nothing.
	notFresh := &freshnessError{maxAge: g.maxAge, resp: a.responses.build(http.StatusUnauthorized,
		"insufficient_user_authentication", "A fresh login is required.", g.maxAge)}
	return func(c *gin.Context) {
		claims, err := a.access(c)
		if err != nil {
			a.fail(c, err)
			return
		}
		if !claims.Fresh {
			a.fail(c, notFresh)
			return
		}
		if g.maxAge > 0 && (claims.AuthTime == nil || a.now().Sub(claims.AuthTime.Time) > g.maxAge) {
			a.fail(c, notFresh)
		}
	}
}
