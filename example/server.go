package main

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/example/browser"
)

// config is what main reads from the environment.
type config struct {
	secret []byte
	format ginfresh.Format  // nil: JWT signed with secret
	now    func() time.Time // nil: the real clock
	extra  []ginfresh.Option

	// keyFile names a PEM file with an Ed25519 private key; when set, it
	// signs instead of secret (see keys.go).
	keyFile string
}

// newServer builds the demo API: the seeds' endpoints over ginfresh.
func newServer(cfg config) (*gin.Engine, error) {
	u := demoUsers()
	opts, err := keyOptions(cfg)
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		ginfresh.WithAuthenticator(u.authenticate),
		ginfresh.WithAccessRevocation(),
		// One store for the header-mode API and the browser demo, so that
		// revoking a user's sessions reaches both.
		ginfresh.WithStore(ginfresh.NewMemoryStore()),
	)
	if cfg.now != nil {
		opts = append(opts, ginfresh.WithTimeFunc(cfg.now))
	}
	opts = slices.Concat(opts, cfg.extra)
	auth, err := ginfresh.New(opts...)
	if err != nil {
		return nil, err
	}

	r := gin.New()
	// The demo faces clients directly: X-Forwarded-For is not to be believed,
	// or a client could pick the address the login throttle counts.
	if err := r.SetTrustedProxies(nil); err != nil {
		return nil, err
	}
	r.Use(gin.Recovery())
	// The browser demo (GET /app, cookie mode under /browser/) has an Auth
	// of its own. Mounted before the header-mode middleware, its routes run
	// only their own.
	if _, err := browser.Mount(r, cfg.now, opts...); err != nil {
		return nil, err
	}
	r.Use(auth.Middleware())
	r.GET("/", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"endpoints": []string{
			"POST /login {username, password}: fresh access token and refresh token",
			"POST /refresh (Bearer refresh token): non-fresh access token and the next refresh token",
			"POST /fresh-login {username, password}: fresh access token only",
			"POST /logout (Bearer refresh token): ends the session",
			"GET /public (no token)",
			"GET /protected (Bearer access token)",
			"GET /protected-fresh (Bearer fresh access token)",
			"POST /account/change-password {new_password} (Bearer fresh access token)",
			"GET /app: the browser demo, on HttpOnly cookies (routes under /browser/)",
		}})
	})
	auth.RegisterRoutes(r)
	serveJWKS(r, auth, cfg)

	// Public, answering what /protected answers: the load test's baseline.
	r.GET("/public", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"user": "anonymous", "fresh": false}) })

	r.GET("/protected", auth.RequireAccess(), func(c *gin.Context) {
		claims := ginfresh.MustClaims(c)
		c.JSON(http.StatusOK, gin.H{"user": claims.Subject, "fresh": claims.Fresh})
	})
	r.GET("/protected-fresh", auth.RequireFresh(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"user": ginfresh.MustClaims(c).Subject})
	})
	r.POST("/account/change-password", auth.RequireFresh(), func(c *gin.Context) {
		var body struct {
			NewPassword *string `json:"new_password"`
		}
		if err := c.ShouldBindJSON(&body); err != nil || body.NewPassword == nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": "invalid_request", "error_description": "The body must be {\"new_password\": \"...\"}."})
			return
		}
		sub := ginfresh.MustClaims(c).Subject
		if err := u.setPassword(sub, *body.NewPassword); err != nil {
			if errors.Is(err, errWeakPassword) {
				c.JSON(http.StatusBadRequest, gin.H{"error": "invalid_request", "error_description": "The new password must be 8 to 72 bytes."})
				return
			}
			c.JSON(http.StatusInternalServerError, gin.H{"error": "server_error", "error_description": "The password could not be changed."})
			return
		}
		// Every session of the user ends: tokens minted with the old
		// password, this one included, are refused from now on.
		if err := auth.RevokeSubject(c.Request.Context(), sub); err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"error": "temporarily_unavailable", "error_description": "The password changed, but sessions could not be revoked; try again."})
			return
		}
		c.JSON(http.StatusOK, gin.H{"user": sub, "password_changed": true, "sessions_revoked": true})
	})
	return r, nil
}
