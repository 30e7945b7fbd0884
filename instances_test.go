package ginfresh_test

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// Two instances on one router: a guard trusts only what its own instance
// verified, never claims (or a refusal) recorded by another's middleware.
func TestGuardsTrustOnlyTheirOwnInstance(t *testing.T) {
	public := newFixture(t, ginfresh.WithAudience("public-api"))
	admin := newFixture(t, ginfresh.WithHMACKey([]byte("admin-key-0123456789-0123456789-0123")), ginfresh.WithAudience("admin-api"))

	r := gin.New()
	r.Use(public.auth.Middleware())
	r.GET("/public", public.auth.RequireAccess(), func(c *gin.Context) { c.String(http.StatusOK, ginfresh.MustClaims(c).Subject) })
	r.POST("/admin", admin.auth.RequireFresh(), func(c *gin.Context) {
		claims := ginfresh.MustClaims(c)
		c.String(http.StatusOK, claims.Audience[0])
	})

	publicToken := public.login(t, "alice").AccessToken
	adminToken := admin.login(t, "alice").AccessToken
	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantBody   string
	}{
		{"public token on public route", request{path: "/public", token: publicToken}, http.StatusOK, "alice"},
		{"public token on admin route", request{method: http.MethodPost, path: "/admin", token: publicToken}, http.StatusUnauthorized, ""},
		{"admin token on admin route", request{method: http.MethodPost, path: "/admin", token: adminToken}, http.StatusOK, "admin-api"},
		{"admin token on public route", request{path: "/public", token: adminToken}, http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(r, tt.req)
			require.Equal(t, tt.wantStatus, w.Code, w.Body.String())
			if tt.wantBody != "" {
				assert.Equal(t, tt.wantBody, w.Body.String())
			} else {
				assert.Equal(t, "invalid_token", errorCode(t, w))
			}
		})
	}
}
