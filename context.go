package ginfresh

import (
	"context"

	"github.com/gin-gonic/gin"
)

// Context keys are unexported types, so no other package can read or
// overwrite what ginfresh stores.
type (
	claimsKey     struct{}
	errKey        struct{}
	fromCookieKey struct{}
)

// verifyFailure is what Middleware records for a token that failed, with
// the Auth that refused it: another instance's verdict is not this one's.
type verifyFailure struct {
	owner *Auth
	err   error
	from  sourceKind
}

// verified returns what a's Middleware found for this request's access
// token, if it ran: the guards and handlers take its verdict rather than
// verifying (and asking the store) again.
func (a *Auth) verified(c *gin.Context) (presented, error, bool) {
	if v, ok := c.Get(claimsKey{}); ok {
		if claims, ok := v.(*Claims); ok && claims.owner == a {
			p := presented{Claims: claims, from: fromHeader}
			if o, ok := c.Get(fromCookieKey{}); ok && o == a {
				p.from = fromCookie
			}
			return p, nil, true
		}
	}
	if v, ok := c.Get(errKey{}); ok {
		if f, ok := v.(*verifyFailure); ok && f.owner == a {
			return presented{from: f.from}, f.err, true
		}
	}
	return presented{}, nil, false
}

// ClaimsFrom returns the claims of the request's verified access token, as
// installed by [Auth.Middleware] or a guard. The claims may be shared with
// other requests: do not modify them.
func ClaimsFrom(c *gin.Context) (*Claims, bool) {
	v, ok := c.Get(claimsKey{})
	if !ok {
		return nil, false
	}
	claims, ok := v.(*Claims)
	return claims, ok
}

// MustClaims is [ClaimsFrom] for handlers behind a guard, where the claims
// are always present. It panics otherwise, which is a programming error
// (the route lacks a guard), never a client's.
func MustClaims(c *gin.Context) *Claims {
	claims, ok := ClaimsFrom(c)
	if !ok {
		panic("ginfresh: MustClaims on a route without RequireAccess, RequireFresh or RequireScopes")
	}
	return claims
}

// ClaimsFromContext is [ClaimsFrom] for code that takes a context.Context,
// such as a service layer: pass it the *gin.Context itself (which is a
// context.Context) or any context derived from it. The request's own
// context (c.Request.Context()) does not carry the claims: attaching them
// there would cost every request an allocation.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(gin.ContextKey).(*gin.Context)
	if !ok || c == nil {
		return nil, false
	}
	return ClaimsFrom(c)
}
