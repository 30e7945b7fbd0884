// Package browser is the browser half of the example: a page at GET /app
// that signs in with HttpOnly cookies, and the cookie-mode routes under
// /browser/ that it calls. It is a package of its own so that the
// end-to-end test can serve it in-process and drive it with Chromium.
package browser

import (
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/example/api"
)

// RefreshPath scopes the refresh cookie: it covers /browser/refresh and
// /browser/logout (logout must find the session), and keeps the refresh
// token away from every route outside /browser/.
const RefreshPath = "/browser/"

//go:embed static
var static embed.FS

// Demo is the mounted browser half. Its counters let a test check, from the
// server's side, what a browser managed to do.
type Demo struct {
	Auth *ginfresh.Auth

	actions atomic.Int64 // sensitive actions performed
	refused atomic.Int64 // requests refused by the CSRF checks
}

// Actions counts the sensitive actions performed so far.
func (d *Demo) Actions() int64 { return d.actions.Load() }

// Refused counts the requests refused with ginfresh.ErrCSRF so far.
func (d *Demo) Refused() int64 { return d.refused.Load() }

// Mount serves the page at GET /app and the cookie-mode API under /browser/
// on r, with an Auth of its own: opts (key, store, clock, logger) in cookie
// mode, signing in the users of u. now is the clock given to opts, nil for
// time.Now. Mount it before any header-mode middleware, so that only this
// Auth reads the requests of its routes.
func Mount(r gin.IRouter, now func() time.Time, u *api.Users, opts ...ginfresh.Option) (*Demo, error) {
	if now == nil {
		now = time.Now
	}
	auth, err := ginfresh.New(append(opts, ginfresh.WithAuthenticator(u.Authenticate), ginfresh.WithCookies(RefreshPath))...)
	if err != nil {
		return nil, err
	}
	d := &Demo{Auth: auth}
	for _, f := range []struct{ path, file, contentType string }{
		{"/app", "static/index.html", "text/html; charset=utf-8"},
		{"/app/app.js", "static/app.js", "text/javascript; charset=utf-8"},
		{"/app/app.css", "static/app.css", "text/css; charset=utf-8"},
	} {
		body, err := fs.ReadFile(static, f.file)
		if err != nil {
			return nil, err
		}
		r.GET(f.path, page(body, f.contentType))
	}

	g := r.Group("/browser", d.countRefusals, auth.Middleware())
	auth.RegisterRoutes(g)
	api.Routes(g, auth, u, now)
	// The page's sensitive action, counted so a test can see from here
	// what a browser (or a forged request) got done.
	g.POST("/action", auth.RequireFresh(), func(c *gin.Context) {
		n := d.actions.Add(1)
		c.JSON(http.StatusOK, gin.H{"user": ginfresh.MustClaims(c).Subject, "action": "done", "actions": n})
	})
	return d, nil
}

// countRefusals counts the requests the CSRF checks refused.
func (d *Demo) countRefusals(c *gin.Context) {
	c.Next()
	for _, e := range c.Errors {
		if errors.Is(e.Err, ginfresh.ErrCSRF) {
			d.refused.Add(1)
			return
		}
	}
}

// page serves one embedded file. The policy allows scripts and styles from
// this origin only (no inline script), and no framing, so another site can
// neither inject into the page nor overlay it.
func page(body []byte, contentType string) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		c.Data(http.StatusOK, contentType, body)
	}
}
