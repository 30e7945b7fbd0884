package ginfresh_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

func TestClaimsFrom(t *testing.T) {
	s := newPipeServer(t)
	tok := s.Login(t, "alice")
	// A route outside the middleware: nothing put claims in its context.
	bare := gin.New()
	var found bool
	bare.GET("/bare", func(c *gin.Context) { _, found = ginfresh.ClaimsFrom(c); c.Status(http.StatusOK) })
	testkit.Status(t, testkit.Serve(bare, testkit.Request{Path: "/bare", Token: tok.AccessToken}), http.StatusOK)
	if found {
		t.Error("ClaimsFrom found claims no middleware or guard installed")
	}

	// Behind a guard the claims are those of the token.
	var got *ginfresh.Claims
	s.Router.GET("/who", s.Auth.RequireAccess(), func(c *gin.Context) {
		got, found = ginfresh.ClaimsFrom(c)
		c.Status(http.StatusOK)
	})
	testkit.Status(t, s.Get("/who", tok.AccessToken), http.StatusOK)
	want := s.Claims(t, ginfresh.Access, tok.AccessToken)
	if !found || got.Subject != "alice" || got.SessionID != want.SessionID || got.ID != want.ID {
		t.Errorf("got %+v, %v; want the claims of the token", got, found)
	}
}

func TestMustClaims(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	v := mustPanic(t, func() { ginfresh.MustClaims(c) })
	if msg, _ := v.(string); !strings.Contains(msg, "MustClaims on a route without") {
		t.Errorf("got panic %v, want one naming the missing guard", v)
	}
}

// TestClaimsFromContext: a service layer that takes a context.Context finds
// the claims when given the *gin.Context or a context derived from it, and
// reports their absence, never a panic, otherwise.
func TestClaimsFromContext(t *testing.T) {
	s := newPipeServer(t)
	tok := s.Login(t, "alice")
	type ctxKey struct{}
	type result struct {
		subject string
		ok      bool
	}
	lookup := func(ctx context.Context) result {
		claims, ok := ginfresh.ClaimsFromContext(ctx)
		if !ok {
			return result{}
		}
		return result{claims.Subject, true}
	}
	var got map[string]result
	handler := func(c *gin.Context) {
		timeout, cancel := context.WithTimeout(c, time.Minute)
		defer cancel()
		got = map[string]result{
			"gin context":          lookup(c),
			"derived with timeout": lookup(timeout),
			"derived with a value": lookup(context.WithValue(c, ctxKey{}, 1)),
			"derived twice":        lookup(context.WithoutCancel(timeout)),
			"request context":      lookup(c.Request.Context()),
			"background":           lookup(context.Background()),
			//lint:ignore SA1029 gin's own key, stored as gin stores it
			"nil gin context": lookup(context.WithValue(context.Background(), gin.ContextKey, (*gin.Context)(nil))),
		}
		c.Status(http.StatusOK)
	}
	s.Router.GET("/guarded", s.Auth.RequireAccess(), handler)
	s.Router.GET("/open", handler)

	alice, none := result{"alice", true}, result{}
	for _, tt := range []struct {
		name, path, token string
		want              map[string]result
	}{
		{"behind a guard", "/guarded", tok.AccessToken, map[string]result{
			"gin context": alice, "derived with timeout": alice, "derived with a value": alice, "derived twice": alice,
			"request context": none, "background": none, "nil gin context": none,
		}},
		// The middleware alone installs the claims of a valid token too.
		{"middleware only", "/open", tok.AccessToken, map[string]result{
			"gin context": alice, "derived with timeout": alice, "derived with a value": alice, "derived twice": alice,
			"request context": none, "background": none, "nil gin context": none,
		}},
		{"no token", "/open", "", map[string]result{
			"gin context": none, "derived with timeout": none, "derived with a value": none, "derived twice": none,
			"request context": none, "background": none, "nil gin context": none,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			testkit.Status(t, s.Get(tt.path, tt.token), http.StatusOK)
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("%s: got %+v, want %+v", name, got[name], want)
				}
			}
		})
	}
}
