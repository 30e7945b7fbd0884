package ginfresh_test

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// TestErrorHandler: the handler of WithErrorHandler gets every failure as
// an *Error, and its answer is the one sent.
func TestErrorHandler(t *testing.T) {
	var got *ginfresh.Error
	s := keyedServer(t, ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) {
		got = e
		c.String(http.StatusTeapot, "no")
	}))
	w := s.Get(testkit.Protected, "garbage")
	if w.Code != http.StatusTeapot || w.Body.String() != "no" {
		t.Fatalf("got %d %s, want the handler's answer", w.Code, w.Body)
	}
	if got == nil || got.Status != http.StatusUnauthorized || got.Code != "invalid_token" || got.Description == "" {
		t.Fatalf("handler got %+v", got)
	}
	if !errors.Is(got, ginfresh.ErrTokenInvalid) || !errors.Is(got, jwt.ErrTokenMalformed) {
		t.Errorf("%v: want ErrTokenInvalid and its cause, jwt.ErrTokenMalformed", got)
	}
}

// TestErrorsAsData: each refusal reaches the handler as an *Error whose
// fields say how to answer, whose chain holds the sentinel and its cause,
// and whose SetHeaders keeps ginfresh's headers under the app's body.
func TestErrorsAsData(t *testing.T) {
	tests := []struct {
		name          string
		do            func(t *testing.T, s *testkit.Server) *testkit.Request
		wantStatus    int
		wantCode      string
		wantIs        []error
		wantChallenge string // a part of WWW-Authenticate; "" for none at all
		wantRetry     string
	}{
		{"expired", func(t *testing.T, s *testkit.Server) *testkit.Request {
			tok := s.Login(t, "alice")
			s.Clock.Advance(time.Hour)
			return &testkit.Request{Path: testkit.Protected, Token: tok.AccessToken}
		}, 401, "invalid_token", []error{ginfresh.ErrTokenExpired, ginfresh.ErrTokenInvalid, jwt.ErrTokenExpired}, `Bearer realm="api", error="invalid_token"`, ""},
		{"no token", func(*testing.T, *testkit.Server) *testkit.Request {
			return &testkit.Request{Path: testkit.Protected}
		}, 401, "", []error{ginfresh.ErrTokenMissing}, `Bearer realm="api"`, ""},
		{"refresh token as access", func(t *testing.T, s *testkit.Server) *testkit.Request {
			return &testkit.Request{Path: testkit.Protected, Token: s.Login(t, "alice").RefreshToken}
		}, 401, "invalid_token", []error{ginfresh.ErrWrongTokenType, ginfresh.ErrTokenInvalid}, `error="invalid_token"`, ""},
		{"not fresh", func(t *testing.T, s *testkit.Server) *testkit.Request {
			tok := refreshed(t, s, s.Login(t, "alice").RefreshToken)
			return &testkit.Request{Method: http.MethodPost, Path: testkit.MFA, Token: tok.AccessToken}
		}, 401, "insufficient_user_authentication", []error{ginfresh.ErrTokenNotFresh}, `acr_values="mfa"`, ""},
		{"scope", func(t *testing.T, s *testkit.Server) *testkit.Request {
			return &testkit.Request{Path: testkit.Admin, Token: s.Login(t, "alice").AccessToken}
		}, 403, "insufficient_scope", []error{ginfresh.ErrInsufficientScope}, `scope="admin"`, ""},
		{"replayed refresh token", func(t *testing.T, s *testkit.Server) *testkit.Request {
			tok := s.Login(t, "alice")
			refreshed(t, s, tok.RefreshToken)
			return &testkit.Request{Method: http.MethodPost, Path: "/auth/refresh", Token: tok.RefreshToken}
		}, 401, "invalid_token", []error{ginfresh.ErrTokenReused, ginfresh.ErrTokenRevoked, ginfresh.ErrTokenInvalid}, `error="invalid_token"`, ""},
		{"throttled login", func(t *testing.T, s *testkit.Server) *testkit.Request {
			s.Post("/auth/login", "", testkit.Credentials("alice", "nope"))
			return &testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: testkit.Credentials("alice", "nope")}
		}, 429, "too_many_attempts", []error{ginfresh.ErrTooManyAttempts}, "", "900"},
		{"cross-site", func(*testing.T, *testkit.Server) *testkit.Request {
			return &testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: testkit.Credentials("alice", "alice-pw"), Header: http.Header{"Sec-Fetch-Site": {"cross-site"}}}
		}, 403, "csrf_check_failed", []error{ginfresh.ErrCSRF}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *ginfresh.Error
			s := keyedServer(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 1}), ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) {
				got = e
				e.SetHeaders(c.Writer.Header())
				c.JSON(e.Status, gin.H{"code": e.Code, "message": e.Description})
			}))
			req := tt.do(t, s)
			got = nil
			w := s.Do(*req)
			if got == nil {
				t.Fatalf("the handler was not called: %d %s", w.Code, w.Body)
			}
			if w.Code != tt.wantStatus || got.Status != tt.wantStatus || got.Code != tt.wantCode || got.Description == "" {
				t.Errorf("answered %d, handler got %d %q %q; want %d %q", w.Code, got.Status, got.Code, got.Description, tt.wantStatus, tt.wantCode)
			}
			for _, target := range tt.wantIs {
				if !errors.Is(got, target) {
					t.Errorf("errors.Is(%v, %v) = false", got, target)
				}
			}
			if body := jsonObject(t, w); body["code"] != tt.wantCode {
				t.Errorf("body %v: the handler's own", body)
			}
			h := w.Header()
			if h.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", h.Get("Cache-Control"))
			}
			if ch := h.Get("WWW-Authenticate"); (tt.wantChallenge == "") != (ch == "") || !strings.Contains(ch, tt.wantChallenge) {
				t.Errorf("WWW-Authenticate %q, want %q", ch, tt.wantChallenge)
			}
			if h.Get("Retry-After") != tt.wantRetry {
				t.Errorf("Retry-After %q, want %q", h.Get("Retry-After"), tt.wantRetry)
			}
			if tt.wantRetry != "" && got.RetryAfter != 15*time.Minute {
				t.Errorf("RetryAfter %v, want the window", got.RetryAfter)
			}
		})
	}
}

// TestFail: an app's own guard answers the library's way, whether it has
// a sentinel, an *Error of its own, or any other error.
func TestFail(t *testing.T) {
	errDB := errors.New("pq: relation users does not exist")
	mount := func(s *testkit.Server) {
		s.Router.POST("/transfer", func(c *gin.Context) {
			if claims, ok := ginfresh.ClaimsFrom(c); !ok || !claims.Fresh {
				s.Auth.Fail(c, fmt.Errorf("transfer: %w", ginfresh.ErrTokenNotFresh))
				return
			}
			c.Status(http.StatusNoContent)
		})
		s.Router.GET("/reports", func(c *gin.Context) {
			s.Auth.Fail(c, &ginfresh.Error{Status: http.StatusForbidden, Code: "insufficient_scope", Description: "Reports need the admin scope.", Scope: "admin"})
		}, func(c *gin.Context) { c.String(http.StatusOK, "reached") })
		s.Router.GET("/boom", func(c *gin.Context) { s.Auth.Fail(c, errDB) })
		s.Router.GET("/no-status", func(c *gin.Context) { s.Auth.Fail(c, &ginfresh.Error{Code: "oops", Description: "Something."}) })
	}

	t.Run("default answers", func(t *testing.T) {
		s := keyedServer(t, ginfresh.WithRealm("shop"))
		mount(s)
		tok := refreshed(t, s, s.Login(t, "alice").RefreshToken)

		w := s.Post("/transfer", tok.AccessToken, "")
		testkit.Refused(t, w, http.StatusUnauthorized, "insufficient_user_authentication")
		if ch := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(ch, `Bearer realm="shop", error="insufficient_user_authentication"`) {
			t.Errorf("challenge %q", ch)
		}

		w = s.Get("/reports", tok.AccessToken)
		testkit.Refused(t, w, http.StatusForbidden, "insufficient_scope")
		want := `Bearer realm="shop", error="insufficient_scope", error_description="Reports need the admin scope.", scope="admin"`
		if ch := w.Header().Get("WWW-Authenticate"); ch != want {
			t.Errorf("challenge %q, want %q", ch, want)
		}
		if strings.Contains(w.Body.String(), "reached") || !strings.Contains(w.Body.String(), "Reports need the admin scope.") {
			t.Errorf("body %s: want the app's description, and the chain aborted", w.Body)
		}

		w = s.Get("/boom", "")
		testkit.Refused(t, w, http.StatusInternalServerError, "server_error")
		if strings.Contains(w.Body.String(), "pq:") {
			t.Errorf("the answer reveals the error: %s", w.Body)
		}
		testkit.Refused(t, s.Get("/no-status", ""), http.StatusInternalServerError, "oops")
	})

	t.Run("error handler", func(t *testing.T) {
		var got *ginfresh.Error
		s := keyedServer(t, ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) {
			got = e
			c.Status(e.Status)
		}))
		mount(s)
		for _, tt := range []struct {
			method, path string
			status       int
			is           error
			scope        string
		}{
			{http.MethodPost, "/transfer", 401, ginfresh.ErrTokenNotFresh, ""},
			{http.MethodGet, "/reports", 403, nil, "admin"},
			{http.MethodGet, "/boom", 500, errDB, ""},
		} {
			got = nil
			w := s.Do(testkit.Request{Method: tt.method, Path: tt.path})
			if got == nil || w.Code != tt.status || got.Status != tt.status || got.Scope != tt.scope {
				t.Errorf("%s: answered %d, handler got %+v", tt.path, w.Code, got)
				continue
			}
			if tt.is != nil && !errors.Is(got, tt.is) {
				t.Errorf("%s: errors.Is(%v, %v) = false", tt.path, got, tt.is)
			}
		}
	})
}

// TestErrorTable: every sentinel, wrapped as callers wrap it, answers its
// status and code, with a challenge on the 401s and 400s.
func TestErrorTable(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string // "unauthorized" in the body for an empty Code
	}{
		{ginfresh.ErrInvalidRequest, 400, "invalid_request"},
		{ginfresh.ErrTokenMissing, 401, "unauthorized"},
		{ginfresh.ErrTokenInvalid, 401, "invalid_token"},
		{ginfresh.ErrTokenExpired, 401, "invalid_token"},
		{ginfresh.ErrWrongTokenType, 401, "invalid_token"},
		{ginfresh.ErrTokenRevoked, 401, "invalid_token"},
		{ginfresh.ErrTokenReused, 401, "invalid_token"},
		{ginfresh.ErrTokenNotFresh, 401, "insufficient_user_authentication"},
		{ginfresh.ErrInsufficientScope, 403, "insufficient_scope"},
		{ginfresh.ErrInvalidCredentials, 401, "invalid_credentials"},
		{ginfresh.ErrSubjectMismatch, 403, "access_denied"},
		{ginfresh.ErrCSRF, 403, "csrf_check_failed"},
		{ginfresh.ErrTooManyAttempts, 429, "too_many_attempts"},
		{ginfresh.ErrSessionNotFound, 404, "not_found"},
		{ginfresh.ErrStoreUnavailable, 503, "temporarily_unavailable"},
		{ginfresh.ErrKeySetUnavailable, 503, "temporarily_unavailable"},
		{ginfresh.ErrCannotIssue, 501, "unsupported"},
		{ginfresh.ErrInvalidKey, 500, "server_error"}, // a set-up error, never the client's
	}
	var got *ginfresh.Error
	s := keyedServer(t)
	plain := keyedServer(t, ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) {
		got = e
		c.Status(e.Status)
	}))
	for i, tt := range tests {
		path := "/fail/" + strconv.Itoa(i)
		for _, srv := range []*testkit.Server{s, plain} {
			srv.Router.GET(path, func(c *gin.Context) { srv.Auth.Fail(c, fmt.Errorf("app: %w", tt.err)) })
		}
		t.Run(strings.TrimPrefix(tt.err.Error(), "ginfresh: "), func(t *testing.T) {
			w := s.Get(path, "")
			testkit.Refused(t, w, tt.status, tt.code)
			ch := w.Header().Get("WWW-Authenticate")
			if wantChallenge := tt.status == 401 || tt.status == 400 || tt.code == "insufficient_scope"; wantChallenge != (ch != "") {
				t.Errorf("WWW-Authenticate %q", ch)
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Error("an error answer may be cached")
			}
			got = nil
			plain.Get(path, "")
			if got == nil || !errors.Is(got, tt.err) || got.Status != tt.status {
				t.Errorf("handler got %+v, want status %d wrapping %v", got, tt.status, tt.err)
			}
		})
	}
}

// TestErrorSetHeaders: Retry-After is whole seconds rounded up, so a
// client never retries early.
func TestErrorSetHeaders(t *testing.T) {
	h := http.Header{}
	(&ginfresh.Error{Status: 429, Code: "too_many_attempts", RetryAfter: 1500 * time.Millisecond}).SetHeaders(h)
	if h.Get("Retry-After") != "2" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", h)
	}
	e := &ginfresh.Error{Status: 500, Description: "Broken.", Err: errDiskFull}
	if e.Error() != errDiskFull.Error() || !errors.Is(e, errDiskFull) {
		t.Errorf("Error() %q, want the cause's", e.Error())
	}
	if got := (&ginfresh.Error{Description: "Broken."}).Error(); got != "ginfresh: Broken." {
		t.Errorf("Error() %q without a cause", got)
	}
}

var errDiskFull = errors.New("disk full")
