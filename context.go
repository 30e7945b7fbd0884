package ginfresh

import "github.com/gin-gonic/gin"

// Context keys are unexported types, so no other package can read or
// overwrite what ginfresh stores.
type (
	claimsKey struct{}
	errKey    struct{}
)

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
		panic("ginfresh: MustClaims on a route without RequireAccess or RequireFresh")
	}
	return claims
}

// verifyFailure is what Middleware records for a token that failed, with
// the Auth that refused it.
type verifyFailure struct {
	owner *Auth
	err   error
}

// verifyError returns the error a's middleware recorded for the request's
// token, if it saw one that failed. Another instance's verdict is not a's.
func (a *Auth) verifyError(c *gin.Context) (error, bool) {
	v, ok := c.Get(errKey{})
	if !ok {
		return nil, false
	}
	f, ok := v.(*verifyFailure)
	if !ok || f.owner != a {
		return nil, false
	}
	return f.err, true
}
