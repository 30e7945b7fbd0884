package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

// Claims are the service's own claims in every token.
type Claims struct {
	Roles  []string `json:"roles"`
	Tenant string   `json:"tenant"`
}

// common is what both services configure alike: the roles claim the
// guards read, and the service's own error JSON.
func common() []ginfresh.Option {
	return []ginfresh.Option{
		ginfresh.WithScopeClaim("roles"),
		ginfresh.WithAudience("service"),
		ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) {
			e.SetHeaders(c.Writer.Header()) // keeps WWW-Authenticate, Retry-After, no-store
			c.JSON(e.Status, gin.H{"ok": false, "code": e.Code, "message": e.Description})
		}),
	}
}

// issuer signs users in and serves their account.
func issuer(users *userDB, key *ginfresh.Key, store ginfresh.Store) (http.Handler, error) {
	opts := append(common(),
		ginfresh.WithSigningKey(key),
		ginfresh.WithAccessRevocation(),
		ginfresh.WithAuthenticator(func(c *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
			u, err := users.check(c.Request.Context(), req.Username, req.Password)
			if err != nil {
				return ginfresh.Identity{}, err
			}
			return u.identity(), nil
		}),
		// Roles and tenant are read again at every refresh; a disabled
		// user's session ends there.
		ginfresh.WithRefreshHook(func(c *gin.Context, claims *ginfresh.Claims) (ginfresh.Identity, error) {
			u, err := users.byID(c.Request.Context(), claims.Subject)
			if err != nil {
				return ginfresh.Identity{}, err
			}
			return u.identity(), nil
		}),
	)
	if store != nil {
		opts = append(opts, ginfresh.WithStore(store))
	}
	auth, err := ginfresh.New(opts...)
	if err != nil {
		return nil, err
	}
	r := gin.New()
	r.Use(auth.Middleware())
	auth.RegisterRoutes(r.Group("/auth"))
	r.GET("/.well-known/jwks.json", auth.JWKSHandler())
	r.GET("/me", auth.RequireAccess(), func(c *gin.Context) {
		me, err := ginfresh.Custom[Claims](ginfresh.MustClaims(c))
		if err != nil {
			auth.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"id": ginfresh.MustClaims(c).Subject, "roles": me.Roles, "tenant": me.Tenant})
	})
	r.GET("/admin/users", auth.RequireScopes("admin"), func(c *gin.Context) {
		me, _ := ginfresh.Custom[Claims](ginfresh.MustClaims(c))
		list, err := users.inTenant(c.Request.Context(), me.Tenant)
		if err != nil {
			auth.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"users": list})
	})
	r.POST("/account/password", auth.RequireFresh(ginfresh.MaxAge(5*time.Minute)), func(c *gin.Context) {
		var body struct{ Current, New string }
		if c.ShouldBindJSON(&body) != nil {
			auth.Fail(c, ginfresh.ErrInvalidRequest)
			return
		}
		sub := ginfresh.MustClaims(c).Subject
		if err := users.setPassword(c.Request.Context(), sub, body.Current, body.New); err != nil {
			auth.Fail(c, err)
			return
		}
		if err := auth.RevokeSubject(c.Request.Context(), sub); err != nil {
			auth.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	return r, nil
}

// reports verifies the issuer's tokens with its published keys alone: no
// secret, no store.
func reports(jwksURL string, extra ...ginfresh.JWKSOption) (http.Handler, error) {
	auth, err := ginfresh.New(append(common(), ginfresh.WithJWKSURL(jwksURL, extra...))...)
	if err != nil {
		return nil, err
	}
	r := gin.New()
	r.GET("/reports", auth.RequireScopes("reports"), func(c *gin.Context) {
		me, _ := ginfresh.Custom[Claims](ginfresh.MustClaims(c))
		c.JSON(http.StatusOK, gin.H{"tenant": me.Tenant, "reports": []string{"q1", "q2"}})
	})
	return r, nil
}

// signingKey reads the Ed25519 key every issuer instance shares, or makes
// one for a single instance.
func signingKey(path string) (*ginfresh.Key, error) {
	if path == "" {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		return ginfresh.NewSigningKey("", ginfresh.EdDSA, k)
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ginfresh.ParsePrivateKeyPEM("", ginfresh.EdDSA, pem)
}
