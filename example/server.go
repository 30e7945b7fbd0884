package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/example/api"
	"github.com/ginfresh/ginfresh/example/browser"
)

// config is what main reads from the environment.
type config struct {
	secret []byte
	format ginfresh.Format  // nil: JWT signed with secret
	now    func() time.Time // nil: the real clock
	store  ginfresh.Option  // nil: one memory store for both front ends
	log    *slog.Logger     // nil: no security log

	// keyFile names a PEM file with an Ed25519 private key; when set, it
	// signs instead of secret (see keys.go).
	keyFile string
}

// newServer builds the demo: the header-mode API at the root and the
// browser demo under /app and /browser/, on the same users and store.
func newServer(cfg config) (*gin.Engine, error) {
	users := api.DemoUsers()
	opts, err := keyOptions(cfg)
	if err != nil {
		return nil, err
	}
	store := cfg.store
	if store == nil {
		// One store for both front ends, so that revoking a user's sessions
		// reaches both.
		store = ginfresh.WithStore(ginfresh.NewMemoryStore())
	}
	opts = append(opts, store, ginfresh.WithAccessRevocation())
	if cfg.now != nil {
		opts = append(opts, ginfresh.WithTimeFunc(cfg.now))
	}
	if cfg.log != nil {
		opts = append(opts, ginfresh.WithLogger(cfg.log))
	}
	auth, err := ginfresh.New(slices.Concat(opts, []ginfresh.Option{ginfresh.WithAuthenticator(users.Authenticate)})...)
	if err != nil {
		return nil, err
	}

	r := gin.New()
	// The demo faces clients directly: X-Forwarded-For is not to be believed,
	// or a client could pick the address the login throttle counts.
	if err := r.SetTrustedProxies(nil); err != nil {
		return nil, err
	}
	r.Use(recovery(cfg.log))
	// The browser demo (GET /app, cookie mode under /browser/) has an Auth
	// of its own. Mounted before the header-mode middleware, its routes run
	// only their own.
	if _, err := browser.Mount(r, cfg.now, users, opts...); err != nil {
		return nil, err
	}
	r.Use(auth.Middleware())
	r.GET("/", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"endpoints": []string{
			`POST /login {"username","password"[,"otp"]}: fresh access token and refresh token`,
			"POST /refresh (Bearer refresh token): non-fresh access token and the next refresh token",
			`POST /fresh-login {"username","password"[,"otp"]}: fresh access token only`,
			"POST /logout (Bearer refresh or access token): ends the session",
			"GET /public (no token)",
			"GET /protected (Bearer access token)",
			"GET /protected-fresh (Bearer fresh access token)",
			"POST /payments (fresh access token from a login with a one-time code, at most 5 minutes old)",
			`POST /account/change-password {"current_password","new_password"} (fresh, at most 5 minutes old)`,
			"GET /sessions, DELETE /sessions/:sid (your devices; signing one out needs a fresh token)",
			"GET /app: the browser demo, on HttpOnly cookies (routes under /browser/)",
		}})
	})
	auth.RegisterRoutes(r)
	serveJWKS(r, auth, cfg)
	// Public, in the shape /protected answers: the load test's baseline.
	r.GET("/public", api.Whoami(nowOr(cfg.now)))
	api.Routes(r, auth, users, nowOr(cfg.now))
	return r, nil
}

func nowOr(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// recovery answers a panicking handler with 500 and logs the panic and its
// stack, never the request: gin's own Recovery dumps the request's headers
// in debug mode, Cookie and all, tokens included.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if log != nil {
					log.Error("panic", "value", fmt.Sprint(v), "method", c.Request.Method, "path", c.FullPath(), "stack", string(debug.Stack()))
				}
				c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "server_error", "error_description": "The server could not complete the request."})
			}
		}()
		c.Next()
	}
}
