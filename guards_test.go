package ginfresh_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// challenge returns the WWW-Authenticate header of w.
func challenge(w *httptest.ResponseRecorder) string { return w.Header().Get("WWW-Authenticate") }

// mustPanic runs f and returns what it panicked with, failing the test if
// it did not panic.
func mustPanic(t *testing.T, f func()) (v any) {
	t.Helper()
	defer func() {
		if v = recover(); v == nil {
			t.Error("no panic")
		}
	}()
	f()
	return nil
}

// Guards work without the middleware: they verify the token themselves.
func TestGuardsWithoutMiddleware(t *testing.T) {
	s := newPipeServer(t)
	r := gin.New()
	subject := func(c *gin.Context) { c.String(http.StatusOK, ginfresh.MustClaims(c).Subject) }
	r.GET("/access", s.Auth.RequireAccess(), subject)
	r.GET("/fresh", s.Auth.RequireFresh(), subject)
	r.GET("/scope", s.Auth.RequireScopes("read"), subject)
	tok := s.Login(t, "alice")
	for _, path := range []string{"/access", "/fresh", "/scope"} {
		t.Run(path, func(t *testing.T) {
			w := testkit.Serve(r, testkit.Request{Path: path, Token: tok.AccessToken})
			testkit.Status(t, w, http.StatusOK)
			if w.Body.String() != "alice" {
				t.Errorf("got %q, want alice", w.Body)
			}
			refusedWithoutCode(t, testkit.Serve(r, testkit.Request{Path: path}))
			testkit.Refused(t, testkit.Serve(r, testkit.Request{Path: path, Token: "garbage"}), http.StatusUnauthorized, "invalid_token")
			testkit.Refused(t, testkit.Serve(r, testkit.Request{Path: path, Token: tok.RefreshToken}), http.StatusUnauthorized, "invalid_token")
		})
	}
}

// Two instances on one router: a guard trusts only what its own instance
// verified, never claims (or a refusal) recorded by another's middleware.
// With the same key the instances differ only in audience, so a guard that
// took the other's verdict would accept tokens meant for another API.
func TestGuardsTrustOnlyTheirOwnInstance(t *testing.T) {
	for _, keys := range []struct {
		name  string
		admin []byte
	}{
		{"same key", pipeKey},
		{"other keys", []byte("admin-key-0123456789-0123456789-0123")},
	} {
		t.Run(keys.name, func(t *testing.T) {
			public := newPipeServer(t, ginfresh.WithAudience("public-api"))
			admin := testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithHMACKey(keys.admin), ginfresh.WithAudience("admin-api"))

			r := gin.New()
			r.Use(public.Auth.Middleware())
			r.GET("/public", public.Auth.RequireAccess(), func(c *gin.Context) { c.String(http.StatusOK, ginfresh.MustClaims(c).Subject) })
			r.POST("/admin", admin.Auth.RequireFresh(), func(c *gin.Context) { c.String(http.StatusOK, ginfresh.MustClaims(c).Audience[0]) })

			publicToken := public.Login(t, "alice").AccessToken
			adminToken := admin.Login(t, "alice").AccessToken
			tests := []struct {
				name     string
				req      testkit.Request
				wantBody string // "": refused as invalid_token
			}{
				{"public token on public route", testkit.Request{Path: "/public", Token: publicToken}, "alice"},
				{"public token on admin route", testkit.Request{Method: http.MethodPost, Path: "/admin", Token: publicToken}, ""},
				{"admin token on admin route", testkit.Request{Method: http.MethodPost, Path: "/admin", Token: adminToken}, "admin-api"},
				{"admin token on public route", testkit.Request{Path: "/public", Token: adminToken}, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					w := testkit.Serve(r, tt.req)
					if tt.wantBody == "" {
						testkit.Refused(t, w, http.StatusUnauthorized, "invalid_token")
						return
					}
					testkit.Status(t, w, http.StatusOK)
					if w.Body.String() != tt.wantBody {
						t.Errorf("got %q, want %q", w.Body, tt.wantBody)
					}
				})
			}
		})
	}
}

func TestRequireFreshMaxAge(t *testing.T) {
	s := newPipeServer(t)
	tok := s.Login(t, "alice")
	post := func(path string) *httptest.ResponseRecorder { return s.Post(path, tok.AccessToken, "") }
	testkit.Status(t, post(testkit.Recent), http.StatusOK)
	// auth_time is the login's whole second; the clock started 678ms past
	// it, so the token is 5m0.678s old one second after this.
	s.Clock.Advance(5*time.Minute - time.Second)
	testkit.Status(t, post(testkit.Recent), http.StatusOK)
	s.Clock.Advance(time.Second)
	w := post(testkit.Recent)
	testkit.Refused(t, w, http.StatusUnauthorized, "insufficient_user_authentication")
	if !strings.Contains(challenge(w), "max_age=300") {
		t.Errorf("got challenge %q, want max_age=300", challenge(w))
	}
	testkit.Status(t, post(testkit.Sensitive), http.StatusOK) // no MaxAge: still fresh
}

func TestRequireFreshMaxAgeSetUp(t *testing.T) {
	s := newPipeServer(t)
	v := mustPanic(t, func() { s.Auth.RequireFresh(ginfresh.MaxAge(-time.Minute)) })
	if v != "ginfresh: RequireFresh(MaxAge(-1m0s)): the age limit is negative" {
		t.Errorf("got panic %v", v)
	}

	r := gin.New()
	r.POST("/now", s.Auth.RequireFresh(ginfresh.MaxAge(500*time.Millisecond)), func(c *gin.Context) { c.Status(http.StatusOK) })
	r.POST("/unlimited", s.Auth.RequireFresh(ginfresh.MaxAge(0)), func(c *gin.Context) { c.Status(http.StatusOK) })
	tok := s.Login(t, "alice")
	s.Clock.Advance(time.Second)
	w := testkit.Serve(r, testkit.Request{Method: http.MethodPost, Path: "/now", Token: tok.AccessToken})
	testkit.Refused(t, w, http.StatusUnauthorized, "insufficient_user_authentication")
	// Sub-second limits round up, never to max_age=0, which no client
	// could meet.
	if !strings.HasSuffix(challenge(w), "max_age=1") {
		t.Errorf("got challenge %q, want max_age=1", challenge(w))
	}
	testkit.Status(t, testkit.Serve(r, testkit.Request{Method: http.MethodPost, Path: "/unlimited", Token: tok.AccessToken}), http.StatusOK)
}

// TestRequireFreshACRValues: a route can demand a login at a level (RFC
// 9470), and its refusal tells the client which level, and how recent.
func TestRequireFreshACRValues(t *testing.T) {
	s := newPipeServer(t)
	s.Router.POST("/recent-mfa", s.Auth.RequireFresh(ginfresh.ACRValues("mfa"), ginfresh.MaxAge(5*time.Minute)), func(c *gin.Context) { c.Status(http.StatusOK) })
	s.Router.POST("/either", s.Auth.RequireFresh(ginfresh.ACRValues("pwd", "mfa")), func(c *gin.Context) { c.Status(http.StatusOK) })
	pwd := s.Login(t, "alice")
	w := s.Post("/auth/login", "", `{"username":"alice","password":"alice-pw","otp":"`+testkit.OTP+`"}`)
	testkit.Status(t, w, http.StatusOK)
	mfa := testkit.DecodeTokens(t, w)
	if acr := s.Claims(t, ginfresh.Access, mfa.AccessToken).ACR; acr != "mfa" {
		t.Fatalf("got acr %q, want mfa", acr)
	}

	tests := []struct {
		name, path, token string
		wantStatus        int
		wantChallenge     []string // parts of the challenge of a refusal
	}{
		{"pwd on mfa route", testkit.MFA, pwd.AccessToken, 401, []string{`error="insufficient_user_authentication"`, `acr_values="mfa"`}},
		{"mfa on mfa route", testkit.MFA, mfa.AccessToken, 200, nil},
		{"pwd on recent mfa route", "/recent-mfa", pwd.AccessToken, 401, []string{`acr_values="mfa"`, "max_age=300"}},
		{"mfa on recent mfa route", "/recent-mfa", mfa.AccessToken, 200, nil},
		{"pwd on either", "/either", pwd.AccessToken, 200, nil},
		{"mfa on either", "/either", mfa.AccessToken, 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := s.Post(tt.path, tt.token, "")
			if tt.wantStatus == 200 {
				testkit.Status(t, w, 200)
				return
			}
			testkit.Refused(t, w, tt.wantStatus, "insufficient_user_authentication")
			for _, part := range tt.wantChallenge {
				if !strings.Contains(challenge(w), part) {
					t.Errorf("got challenge %q, want %s", challenge(w), part)
				}
			}
			if tt.path == testkit.MFA && strings.Contains(challenge(w), "max_age") {
				t.Errorf("got challenge %q: the route sets no MaxAge", challenge(w))
			}
		})
	}

	// The level survives a refresh, freshness does not.
	refreshed := testkit.DecodeTokens(t, s.Refresh(mfa.RefreshToken))
	testkit.Refused(t, s.Post(testkit.MFA, refreshed.AccessToken, ""), http.StatusUnauthorized, "insufficient_user_authentication")

	t.Run("errors.Is", func(t *testing.T) {
		var got error
		s := newPipeServer(t, ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) {
			got = e
			c.Status(e.Status)
		}))
		s.Post(testkit.MFA, s.Login(t, "alice").AccessToken, "")
		var e *ginfresh.Error
		if !errors.Is(got, ginfresh.ErrTokenNotFresh) || !errors.As(got, &e) || e.ACRValues != "mfa" {
			t.Errorf("got %v, want ErrTokenNotFresh with ACRValues mfa", got)
		}
	})

	t.Run("set-up", func(t *testing.T) {
		for _, values := range [][]string{{""}, {"mfa", ""}, {`a"b`}, {"a\\b"}, {"é"}} {
			mustPanic(t, func() { s.Auth.RequireFresh(ginfresh.ACRValues(values...)) })
		}
	})
}

// TestRequireScopes: the scope claim may be a space-separated string (RFC
// 9068 "scope") or an array of strings ("roles", say); every scope a route
// names is required, each as a whole word.
func TestRequireScopes(t *testing.T) {
	// mint starts a session whose tokens carry custom.
	mint := func(t *testing.T, s *testkit.Server, custom map[string]any) string {
		t.Helper()
		tok, err := s.Auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice", Custom: custom})
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	route := func(s *testkit.Server, scopes ...string) string {
		path := "/need/" + strings.Join(scopes, "+")
		s.Router.GET(path, s.Auth.RequireScopes(scopes...), func(c *gin.Context) { c.Status(http.StatusOK) })
		return path
	}

	tests := []struct {
		name       string
		claim      string // WithScopeClaim, "" for the default "scope"
		custom     map[string]any
		scopes     []string
		wantStatus int
	}{
		{"string, one scope", "", map[string]any{"scope": "read write"}, []string{"write"}, 200},
		{"string, every scope", "", map[string]any{"scope": "read write"}, []string{"read", "write"}, 200},
		{"string, extra spaces", "", map[string]any{"scope": "  read\twrite "}, []string{"write"}, 200},
		{"string, a scope lacking", "", map[string]any{"scope": "read write"}, []string{"read", "admin"}, 403},
		{"string, whole words only", "", map[string]any{"scope": "superadmin"}, []string{"admin"}, 403},
		{"string, empty", "", map[string]any{"scope": ""}, []string{"read"}, 403},
		{"array", "", map[string]any{"scope": []string{"read", "write"}}, []string{"write"}, 200},
		{"no claim", "", nil, []string{"read"}, 403},
		{"null claim", "", map[string]any{"scope": nil}, []string{"read"}, 403},
		{"number claim", "", map[string]any{"scope": 42}, []string{"read"}, 403},
		{"another claim", "", map[string]any{"roles": []string{"read"}}, []string{"read"}, 403},
		{"roles array", "roles", map[string]any{"roles": []string{"admin"}}, []string{"admin"}, 200},
		{"roles array, several", "roles", map[string]any{"roles": []string{"editor", "admin"}}, []string{"admin", "editor"}, 200},
		{"roles string", "roles", map[string]any{"roles": "admin editor"}, []string{"editor"}, 200},
		{"roles array, lacking", "roles", map[string]any{"roles": []string{"editor"}}, []string{"admin"}, 403},
		{"roles array, not strings", "roles", map[string]any{"roles": []any{"admin", 1}}, []string{"admin"}, 403},
		{"roles object", "roles", map[string]any{"roles": map[string]bool{"admin": true}}, []string{"admin"}, 403},
		{"roles set, scope ignored", "roles", map[string]any{"scope": "admin"}, []string{"admin"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []ginfresh.Option
			if tt.claim != "" {
				opts = append(opts, ginfresh.WithScopeClaim(tt.claim))
			}
			s := newPipeServer(t, opts...)
			path := route(s, tt.scopes...)
			w := s.Get(path, mint(t, s, tt.custom))
			if tt.wantStatus == 200 {
				testkit.Status(t, w, 200)
				return
			}
			testkit.Refused(t, w, http.StatusForbidden, "insufficient_scope")
			want := `Bearer realm="api", error="insufficient_scope", error_description="The token lacks the scope this route requires.", scope="` + strings.Join(tt.scopes, " ") + `"`
			if challenge(w) != want {
				t.Errorf("got challenge %q, want %q", challenge(w), want)
			}
		})
	}

	// The test authenticator's logins carry "scope": "read write".
	t.Run("login", func(t *testing.T) {
		s := newPipeServer(t)
		tok := s.Login(t, "alice").AccessToken
		testkit.Status(t, s.Post(testkit.Writer, tok, ""), http.StatusOK)
		w := s.Get(testkit.Admin, tok)
		testkit.Refused(t, w, http.StatusForbidden, "insufficient_scope")
		if !strings.Contains(challenge(w), `scope="admin"`) {
			t.Errorf("got challenge %q, want scope=\"admin\"", challenge(w))
		}
		// Without a token, the answer is about the token, not the scope.
		refusedWithoutCode(t, s.Get(testkit.Admin, ""))
	})

	t.Run("errors.Is", func(t *testing.T) {
		var got error
		s := newPipeServer(t, ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) {
			got = e
			c.Status(e.Status)
		}))
		s.Get(testkit.Admin, s.Login(t, "alice").AccessToken)
		var e *ginfresh.Error
		if !errors.Is(got, ginfresh.ErrInsufficientScope) || !errors.As(got, &e) || e.Scope != "admin" || e.Status != http.StatusForbidden {
			t.Errorf("got %v, want a 403 ErrInsufficientScope naming admin", got)
		}
	})
}

func TestRequireScopesSetUp(t *testing.T) {
	s := newPipeServer(t)
	for _, scopes := range [][]string{nil, {}, {""}, {"read", ""}} {
		v := mustPanic(t, func() { s.Auth.RequireScopes(scopes...) })
		if msg, _ := v.(string); !strings.HasPrefix(msg, "ginfresh: RequireScopes") {
			t.Errorf("RequireScopes(%q): got panic %v", scopes, v)
		}
	}
}

// TestGuardsMiddlewareNeverRefuses: the middleware records a bad token for the
// guards but lets the request through, so public routes stay public.
func TestGuardsMiddlewareNeverRefuses(t *testing.T) {
	s := newPipeServer(t)
	var seen []string
	s.Router.GET("/peek", func(c *gin.Context) {
		claims, ok := ginfresh.ClaimsFrom(c)
		if ok {
			seen = append(seen, claims.Subject)
		} else {
			seen = append(seen, "-")
		}
		c.Status(http.StatusOK)
	})
	tok := s.Login(t, "alice")
	for _, h := range []http.Header{
		nil,
		{"Authorization": {"Bearer garbage"}},
		{"Authorization": {"Bearer " + tok.RefreshToken}},
		{"Authorization": {"Bearer a", "Bearer b"}},
		{"Authorization": {"Bearer " + tok.AccessToken}},
	} {
		testkit.Status(t, s.Do(testkit.Request{Path: "/peek", Header: h}), http.StatusOK)
	}
	if want := []string{"-", "-", "-", "-", "alice"}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("got claims %v, want %v", seen, want)
	}
}
