package ginfresh_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// The default cookie names of cookie mode.
const (
	accessCookie  = "__Host-access-token"
	refreshCookie = "__Secure-refresh-token"
	csrfCookie    = testkit.CSRFCookie
)

// newCookieServer is a cookie-mode server with the refresh cookie on
// /auth/, and a same-origin page that has logged alice in.
func newCookieServer(t testing.TB, opts ...ginfresh.Option) (*testkit.Server, *testkit.Browser) {
	t.Helper()
	s := newPipeServer(t, append([]ginfresh.Option{ginfresh.WithCookies("/auth/")}, opts...)...)
	b := &testkit.Browser{T: t, H: s.Router, Jar: testkit.Jar{}}
	testkit.Status(t, b.Send(http.MethodPost, "/auth/login", testkit.Credentials("alice", "alice-pw")), http.StatusOK)
	return s, b
}

// answerCookies returns the cookies an answer sets, in order; deletions
// aimed at planted copies (with a Domain) included.
func answerCookies(t testing.TB, w *httptest.ResponseRecorder) []*http.Cookie {
	t.Helper()
	var out []*http.Cookie
	for _, line := range w.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// ownCookies returns the host-only cookies an answer sets, by name.
func ownCookies(t testing.TB, w *httptest.ResponseRecorder) map[string]*http.Cookie {
	t.Helper()
	got := map[string]*http.Cookie{}
	for _, c := range answerCookies(t, w) {
		if c.Domain == "" {
			got[c.Name] = c
		}
	}
	return got
}

func TestCookieAttributes(t *testing.T) {
	const accessAge, refreshAge = 15 * 60, 7 * 24 * 3600 // the default TTLs
	for _, tt := range []struct {
		name     string
		opts     []ginfresh.Option
		sameSite http.SameSite
	}{
		{"default", nil, http.SameSiteLaxMode},
		{"strict", []ginfresh.Option{ginfresh.WithCookieSameSite(http.SameSiteStrictMode)}, http.SameSiteStrictMode},
		{"none", []ginfresh.Option{ginfresh.WithCookieSameSite(http.SameSiteNoneMode)}, http.SameSiteNoneMode},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newPipeServer(t, append([]ginfresh.Option{ginfresh.WithCookies("/auth/")}, tt.opts...)...)
			b := &testkit.Browser{T: t, H: s.Router, Jar: testkit.Jar{}}
			w := b.Send(http.MethodPost, "/auth/login", testkit.Credentials("alice", "alice-pw"))
			testkit.Status(t, w, http.StatusOK)
			if n := len(answerCookies(t, w)); n != 3 {
				t.Fatalf("got %d cookies, want 3", n)
			}
			got := ownCookies(t, w)
			for _, want := range []struct {
				name, path string
				maxAge     int
				httpOnly   bool
			}{
				{accessCookie, "/", accessAge, true},
				{refreshCookie, "/auth/", refreshAge, true},
				{csrfCookie, "/", refreshAge, false}, // scripts read it, and refresh needs it
			} {
				c := got[want.name]
				switch {
				case c == nil:
					t.Fatalf("no %s cookie", want.name)
				case c.Value == "" || c.Path != want.path || c.MaxAge != want.maxAge || c.HttpOnly != want.httpOnly:
					t.Errorf("got %s value %q path %q max-age %d httponly %v, want a value, %q, %d, %v",
						want.name, c.Value, c.Path, c.MaxAge, c.HttpOnly, want.path, want.maxAge, want.httpOnly)
				case !c.Secure || c.SameSite != tt.sameSite || c.Domain != "":
					t.Errorf("got %s secure %v samesite %v domain %q, want secure, %v, no domain", want.name, c.Secure, c.SameSite, c.Domain, tt.sameSite)
				}
			}

			// The body holds no token, only what the page needs to plan.
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"expires_in": float64(accessAge), "refresh_expires_in": float64(refreshAge), "csrf_token": got[csrfCookie].Value}
			if len(body) != len(want) {
				t.Errorf("got body %v, want %v", body, want)
			}
			for k, v := range want {
				if body[k] != v {
					t.Errorf("got %s %v, want %v", k, body[k], v)
				}
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("got Cache-Control %q, want no-store", cc)
			}

			// The CSRF value is bound into both tokens.
			for _, name := range []string{accessCookie, refreshCookie} {
				if csrf := tokenSegment(t, got[name].Value, 1)["csrf"]; csrf != got[csrfCookie].Value {
					t.Errorf("got %s csrf claim %v, want the cookie's %q", name, csrf, got[csrfCookie].Value)
				}
			}
			if !s.Claims(t, ginfresh.Access, got[accessCookie].Value).Fresh {
				t.Error("the login's access token is not fresh")
			}
		})
	}

	t.Run("refresh cookie ends with the session", func(t *testing.T) {
		s, b := newCookieServer(t, ginfresh.WithRefreshTTL(time.Hour), ginfresh.WithSessionLifetime(90*time.Minute))
		// The session ends 90 minutes after the login's auth_time, a whole
		// second.
		end := s.Clock.Now().Truncate(time.Second).Add(90 * time.Minute)
		s.Clock.Advance(50 * time.Minute)
		w := b.Send(http.MethodPost, "/auth/refresh", "")
		testkit.Status(t, w, http.StatusOK)
		got := ownCookies(t, w)
		left := int(end.Sub(s.Clock.Now()) / time.Second)
		if got[refreshCookie].MaxAge != left || got[csrfCookie].MaxAge != left {
			t.Errorf("got refresh max-age %d, csrf %d, want the session's remaining %d", got[refreshCookie].MaxAge, got[csrfCookie].MaxAge, left)
		}
		if got[accessCookie].MaxAge != 900 {
			t.Errorf("got access max-age %d, want 900", got[accessCookie].MaxAge)
		}
		var body struct {
			RefreshExpiresIn int `json:"refresh_expires_in"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.RefreshExpiresIn != left {
			t.Errorf("got refresh_expires_in %d (%v), want %d", body.RefreshExpiresIn, err, left)
		}
	})

	t.Run("custom names", func(t *testing.T) {
		s := newPipeServer(t, ginfresh.WithCookies("/"), ginfresh.WithCookieNames("__Host-a", "__Host-r", "__Host-c"))
		w := s.Do(testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: testkit.Credentials("alice", "alice-pw")})
		testkit.Status(t, w, http.StatusOK)
		got := ownCookies(t, w)
		if got["__Host-r"] == nil || got["__Host-r"].Path != "/" || got["__Host-a"] == nil || got["__Host-c"] == nil {
			t.Errorf("got %v, want __Host-a, __Host-c and __Host-r on /", got)
		}
	})

	t.Run("header mode sets no cookie", func(t *testing.T) {
		s := newPipeServer(t)
		w := s.Post("/auth/login", "", testkit.Credentials("alice", "alice-pw"))
		testkit.Status(t, w, http.StatusOK)
		if c := w.Header().Values("Set-Cookie"); len(c) != 0 {
			t.Errorf("got Set-Cookie %q, want none", c)
		}
		if _, ok := tokenSegment(t, testkit.DecodeTokens(t, w).AccessToken, 1)["csrf"]; ok {
			t.Error("a header-mode token carries a csrf claim")
		}
	})
}

func TestCookieSession(t *testing.T) {
	s, b := newCookieServer(t)
	csrf := b.Jar[csrfCookie].Value

	w := b.Send(http.MethodGet, testkit.Protected, "")
	testkit.Status(t, w, http.StatusOK)
	var body struct {
		User  string `json:"user"`
		Fresh bool   `json:"fresh"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.User != "alice" || !body.Fresh {
		t.Fatalf("got %s (%v), want a fresh alice", w.Body, err)
	}

	s.Clock.Advance(time.Minute)
	first := b.Jar[refreshCookie].Value
	testkit.Status(t, b.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
	if b.Jar[refreshCookie].Value == first {
		t.Error("the refresh cookie did not rotate")
	}
	if b.Jar[csrfCookie].Value != csrf || tokenSegment(t, b.Jar[refreshCookie].Value, 1)["csrf"] != csrf {
		t.Error("the CSRF value changed within the session")
	}
	testkit.Refused(t, b.Send(http.MethodPost, testkit.Sensitive, ""), http.StatusUnauthorized, "insufficient_user_authentication")

	// Fresh-login replaces only the access cookie and keeps the CSRF value.
	w = b.Send(http.MethodPost, "/auth/fresh-login", testkit.Credentials("alice", "alice-pw"))
	testkit.Status(t, w, http.StatusOK)
	got := answerCookies(t, w)
	if len(got) != 1 || got[0].Name != accessCookie {
		t.Fatalf("got cookies %v, want the access cookie alone", got)
	}
	var fresh map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &fresh); err != nil {
		t.Fatal(err)
	}
	if len(fresh) != 2 || fresh["csrf_token"] != csrf || fresh["expires_in"] != float64(got[0].MaxAge) {
		t.Errorf("got %v, want expires_in %d and the session's csrf_token", fresh, got[0].MaxAge)
	}
	if tokenSegment(t, got[0].Value, 1)["csrf"] != csrf {
		t.Error("the fresh token lost the session's CSRF value")
	}
	testkit.Status(t, b.Send(http.MethodPost, testkit.Sensitive, ""), http.StatusOK)

	// A retired refresh token that comes back revokes the session and
	// clears the cookies.
	stolen := b.Jar[refreshCookie].Value
	testkit.Status(t, b.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
	thief := testkit.Jar{
		refreshCookie: {Name: refreshCookie, Value: stolen, Path: "/auth/"},
		csrfCookie:    b.Jar[csrfCookie],
	}
	w = s.Do(testkit.Request{Method: http.MethodPost, Path: "/auth/refresh", Header: http.Header{
		"Cookie": {thief.Header("/auth/refresh")}, "X-Csrf-Token": {csrf},
	}})
	testkit.Refused(t, w, http.StatusUnauthorized, "invalid_token")
	cleared := ownCookies(t, w)
	for _, name := range []string{accessCookie, refreshCookie, csrfCookie} {
		if c := cleared[name]; c == nil || c.MaxAge != -1 {
			t.Errorf("%s not deleted: %v", name, c)
		}
	}
	testkit.Refused(t, b.Send(http.MethodPost, "/auth/refresh", ""), http.StatusUnauthorized, "invalid_token")
}

func TestCookieFreshLoginNeedsTheSession(t *testing.T) {
	s, b := newCookieServer(t)
	s.Clock.Advance(16 * time.Minute) // the access token has expired
	delete(b.Jar, accessCookie)       // and so has its cookie

	testkit.Refused(t, b.Send(http.MethodPost, "/auth/fresh-login", testkit.Credentials("alice", "alice-pw")), http.StatusUnauthorized, "unauthorized")

	testkit.Status(t, b.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
	testkit.Status(t, b.Send(http.MethodPost, "/auth/fresh-login", testkit.Credentials("alice", "alice-pw")), http.StatusOK)

	// Another user's password cannot upgrade the session.
	testkit.Refused(t, b.Send(http.MethodPost, "/auth/fresh-login", testkit.Credentials("bob", "bob-pw")), http.StatusForbidden, "access_denied")
}

func TestCookieLogout(t *testing.T) {
	for _, revocation := range []bool{false, true} {
		t.Run("revocation="+map[bool]string{false: "off", true: "on"}[revocation], func(t *testing.T) {
			var opts []ginfresh.Option
			if revocation {
				opts = append(opts, ginfresh.WithAccessRevocation())
			}
			s, b := newCookieServer(t, opts...)
			access, refresh := b.Jar[accessCookie].Value, b.Jar[refreshCookie].Value

			w := b.Send(http.MethodPost, "/auth/logout", "")
			testkit.Status(t, w, http.StatusNoContent)
			got := ownCookies(t, w)
			for name, path := range map[string]string{accessCookie: "/", refreshCookie: "/auth/", csrfCookie: "/"} {
				// Cleared on the path it was set on, or the browser keeps it.
				if c := got[name]; c == nil || c.MaxAge != -1 || c.Path != path || c.Value != "" {
					t.Errorf("got %v, want %s deleted at %s", c, name, path)
				}
			}
			if len(b.Jar) != 0 {
				t.Errorf("the browser kept %v", b.Jar)
			}
			testkit.Refused(t, s.Refresh(refresh), http.StatusUnauthorized, "invalid_token")
			wantAccess := http.StatusOK
			if revocation {
				wantAccess = http.StatusUnauthorized
			}
			testkit.Status(t, s.Get(testkit.Protected, access), wantAccess)
		})
	}

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name       string
			req        func(b *testkit.Browser) testkit.Request
			wantStatus int
			wantCode   string
		}{
			{"no CSRF header", func(b *testkit.Browser) testkit.Request {
				return testkit.Request{Header: http.Header{"Cookie": {b.Jar.Header("/auth/logout")}}}
			}, 403, "csrf_check_failed"},
			{"wrong CSRF header", func(b *testkit.Browser) testkit.Request {
				return testkit.Request{Header: http.Header{"Cookie": {b.Jar.Header("/auth/logout")}, "X-Csrf-Token": {"AAAAAAAAAAAAAAAAAAAAAA"}}}
			}, 403, "csrf_check_failed"},
			{"cross-site", func(b *testkit.Browser) testkit.Request {
				return testkit.Request{Header: http.Header{"Cookie": {b.Jar.Header("/auth/logout")}, "Sec-Fetch-Site": {"cross-site"}, "X-Csrf-Token": {b.Jar[csrfCookie].Value}}}
			}, 403, "csrf_check_failed"},
			{"cookie and bearer", func(b *testkit.Browser) testkit.Request {
				return testkit.Request{Token: b.Jar[refreshCookie].Value, Header: http.Header{"Cookie": {b.Jar.Header("/auth/logout")}, "X-Csrf-Token": {b.Jar[csrfCookie].Value}}}
			}, 400, "invalid_request"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, b := newCookieServer(t)
				req := tt.req(b)
				req.Method, req.Path = http.MethodPost, "/auth/logout"
				w := s.Do(req)
				testkit.Refused(t, w, tt.wantStatus, tt.wantCode)
				if c := w.Header().Values("Set-Cookie"); len(c) != 0 {
					t.Errorf("a refused logout set %q", c)
				}
				testkit.Status(t, b.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK) // the session lives on
			})
		}
	})

	// The refresh cookie is scoped to /auth/, so a page that calls logout
	// elsewhere sends only the access cookie, which names the session too.
	t.Run("the access cookie alone", func(t *testing.T) {
		s, b := newCookieServer(t)
		refresh := b.Jar[refreshCookie].Value
		w := s.Do(testkit.Request{Method: http.MethodPost, Path: "/auth/logout", Header: http.Header{
			"Cookie": {b.Jar.Header("/")}, "X-Csrf-Token": {b.Jar[csrfCookie].Value},
		}})
		testkit.Status(t, w, http.StatusNoContent)
		testkit.Refused(t, s.Refresh(refresh), http.StatusUnauthorized, "invalid_token")
	})

	t.Run("an expired access cookie does not block logout", func(t *testing.T) {
		s, b := newCookieServer(t)
		s.Clock.Advance(20 * time.Minute) // the browser has not dropped the cookie yet
		testkit.Status(t, b.Send(http.MethodPost, "/auth/logout", ""), http.StatusNoContent)
		if len(b.Jar) != 0 {
			t.Errorf("the browser kept %v", b.Jar)
		}
	})

	t.Run("a dead session's cookies are cleared", func(t *testing.T) {
		s, b := newCookieServer(t)
		s.Clock.Advance(time.Second)
		if err := s.Auth.RevokeSubject(context.Background(), "alice"); err != nil {
			t.Fatal(err)
		}
		testkit.Refused(t, b.Send(http.MethodPost, "/auth/refresh", ""), http.StatusUnauthorized, "invalid_token")
		if len(b.Jar) != 0 {
			t.Errorf("the browser kept %v", b.Jar)
		}
	})
}

func TestCSRF(t *testing.T) {
	const trusted = "https://app.example"
	s, b := newCookieServer(t, ginfresh.WithTrustedOrigins(trusted))
	access, csrf := b.Jar[accessCookie].Value, b.Jar[csrfCookie].Value
	cookies := func(csrfValue string) string {
		return accessCookie + "=" + access + "; " + csrfCookie + "=" + csrfValue
	}
	// An attacker's own consistent pair: a header equal to a cookie it
	// could plant, neither bound to the victim's token.
	const forged = "AAAAAAAAAAAAAAAAAAAAAA"

	// A token minted in header mode (same key) carries no csrf claim.
	headerMode, err := newPipeServer(t).Auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		method     string
		header     http.Header
		wantStatus int
	}{
		{"same origin with header", http.MethodPost, http.Header{"Cookie": {cookies(csrf)}, "X-Csrf-Token": {csrf}, "Sec-Fetch-Site": {"same-origin"}}, 200},
		{"no fetch metadata, matching Origin", http.MethodPost, http.Header{"Cookie": {cookies(csrf)}, "X-Csrf-Token": {csrf}, "Origin": {"http://example.com"}}, 200},
		{"not a browser (no Origin)", http.MethodPost, http.Header{"Cookie": {cookies(csrf)}, "X-Csrf-Token": {csrf}}, 200},
		{"missing header", http.MethodPost, http.Header{"Cookie": {cookies(csrf)}, "Sec-Fetch-Site": {"same-origin"}}, 403},
		{"empty header", http.MethodPost, http.Header{"Cookie": {cookies(csrf)}, "X-Csrf-Token": {""}, "Sec-Fetch-Site": {"same-origin"}}, 403},
		{"wrong header", http.MethodPost, http.Header{"Cookie": {cookies(csrf)}, "X-Csrf-Token": {forged}, "Sec-Fetch-Site": {"same-origin"}}, 403},
		{"header twice", http.MethodPost, http.Header{"Cookie": {cookies(csrf)}, "X-Csrf-Token": {csrf, csrf}, "Sec-Fetch-Site": {"same-origin"}}, 403},
		{"mismatched cookie", http.MethodPost, http.Header{"Cookie": {cookies(forged)}, "X-Csrf-Token": {csrf}, "Sec-Fetch-Site": {"same-origin"}}, 403},
		{"missing cookie", http.MethodPost, http.Header{"Cookie": {accessCookie + "=" + access}, "X-Csrf-Token": {csrf}, "Sec-Fetch-Site": {"same-origin"}}, 403},
		{"planted pair", http.MethodPost, http.Header{"Cookie": {cookies(forged)}, "X-Csrf-Token": {forged}, "Sec-Fetch-Site": {"same-origin"}}, 403},
		{"cross-site", http.MethodPost, http.Header{"Cookie": {cookies(csrf)}, "X-Csrf-Token": {csrf}, "Sec-Fetch-Site": {"cross-site"}}, 403},
		{"same-site, other origin", http.MethodPost, http.Header{"Cookie": {cookies(csrf)}, "X-Csrf-Token": {csrf}, "Sec-Fetch-Site": {"same-site"}}, 403},
		{"foreign Origin, no fetch metadata", http.MethodPost, http.Header{"Cookie": {cookies(csrf)}, "X-Csrf-Token": {csrf}, "Origin": {"https://evil.example"}}, 403},
		{"trusted origin", http.MethodPost, http.Header{"Cookie": {cookies(csrf)}, "X-Csrf-Token": {csrf}, "Sec-Fetch-Site": {"cross-site"}, "Origin": {trusted}}, 200},
		{"trusted origin without header", http.MethodPost, http.Header{"Cookie": {cookies(csrf)}, "Sec-Fetch-Site": {"cross-site"}, "Origin": {trusted}}, 403},
		{"other methods are unsafe too", http.MethodDelete, http.Header{"Cookie": {cookies(csrf)}, "Sec-Fetch-Site": {"same-origin"}}, 403},
		{"safe GET, cross-site, no header", http.MethodGet, http.Header{"Cookie": {cookies(csrf)}, "Sec-Fetch-Site": {"cross-site"}}, 200},
		{"safe HEAD, no header", http.MethodHead, http.Header{"Cookie": {cookies(csrf)}, "Sec-Fetch-Site": {"cross-site"}}, 200},
		{"safe OPTIONS, no header", http.MethodOptions, http.Header{"Cookie": {cookies(csrf)}, "Sec-Fetch-Site": {"cross-site"}}, 200},
		{"header-borne token needs no CSRF", http.MethodPost, http.Header{"Authorization": {"Bearer " + access}, "Sec-Fetch-Site": {"cross-site"}}, 200},
		{"cookie token without csrf claim", http.MethodPost, http.Header{"Cookie": {accessCookie + "=" + headerMode.AccessToken + "; " + csrfCookie + "=" + csrf}, "X-Csrf-Token": {csrf}, "Sec-Fetch-Site": {"same-origin"}}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gin.New()
			r.Use(s.Auth.Middleware())
			r.Handle(tt.method, "/action", s.Auth.RequireAccess(), func(c *gin.Context) { c.Status(http.StatusOK) })
			w := testkit.Serve(r, testkit.Request{Method: tt.method, Path: "/action", Header: tt.header})
			testkit.Status(t, w, tt.wantStatus)
			if tt.wantStatus == 403 {
				if got := testkit.ErrorCode(t, w); got != "csrf_check_failed" {
					t.Errorf("got %q, want csrf_check_failed", got)
				}
				if strings.Contains(w.Body.String(), csrf) {
					t.Error("the refusal echoes the CSRF value")
				}
				if ch := w.Header().Get("WWW-Authenticate"); ch != "" {
					t.Errorf("got challenge %q on a CSRF refusal, want none", ch)
				}
			}
		})
	}

	t.Run("errors.Is ErrCSRF", func(t *testing.T) {
		var got error
		s := newPipeServer(t, ginfresh.WithCookies("/auth/"), ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) {
			got = e
			c.Status(e.Status)
		}))
		w := s.Do(testkit.Request{Method: http.MethodPost, Path: testkit.Sensitive, Header: http.Header{"Cookie": {cookies(csrf)}}})
		testkit.Status(t, w, http.StatusForbidden)
		if !errors.Is(got, ginfresh.ErrCSRF) || errors.Is(got, ginfresh.ErrTokenInvalid) {
			t.Errorf("got %v, want ErrCSRF and not ErrTokenInvalid", got)
		}
	})
}

// TestCookieEndpointsRefuseCrossOrigin: in cookie mode every auth endpoint
// refuses a request another site makes the browser send, even one that
// carries the CSRF header (a trusted page's would), and answers requests
// without browser headers, same-origin ones and trusted origins' ones. A
// refused login plants no session.
func TestCookieEndpointsRefuseCrossOrigin(t *testing.T) {
	const trusted = "https://app.example.com"
	endpoints := []struct {
		path, body string
		wantStatus int
	}{
		{"/auth/login", testkit.Credentials("alice", "alice-pw"), 200},
		{"/auth/fresh-login", testkit.Credentials("alice", "alice-pw"), 200},
		{"/auth/refresh", "", 200},
		{"/auth/logout", "", 204},
	}
	// httptest requests are for host example.com.
	origins := []struct {
		name     string
		header   http.Header
		trusting bool // the server trusts the origin above
		pass     bool
	}{
		{"no browser headers", nil, false, true},
		{"same-origin", http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {"http://example.com"}}, false, true},
		{"older browser, own origin", http.Header{"Origin": {"http://example.com"}}, false, true},
		{"cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}}, false, false},
		{"same-site", http.Header{"Sec-Fetch-Site": {"same-site"}, "Origin": {"https://sub.example.com"}}, false, false},
		{"older browser, other origin", http.Header{"Origin": {"https://evil.example"}}, false, false},
		{"trusted origin", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {trusted}}, true, true},
		{"trusted origin, older browser", http.Header{"Origin": {trusted}}, true, true},
		{"untrusted origin beside a trusted one", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}, true, false},
	}
	for _, ep := range endpoints {
		for _, o := range origins {
			t.Run(ep.path+"/"+o.name, func(t *testing.T) {
				var opts []ginfresh.Option
				if o.trusting {
					opts = append(opts, ginfresh.WithTrustedOrigins(trusted))
				}
				s, b := newCookieServer(t, opts...)
				h := http.Header{"Cookie": {b.Jar.Header(ep.path)}, "X-Csrf-Token": {b.Jar[csrfCookie].Value}}
				if ep.path == "/auth/login" {
					h = http.Header{} // a visitor who is not logged in
				}
				for k, v := range o.header {
					h[k] = v
				}
				w := s.Do(testkit.Request{Method: http.MethodPost, Path: ep.path, Body: ep.body, Header: h})
				if o.pass {
					testkit.Status(t, w, ep.wantStatus)
					return
				}
				testkit.Refused(t, w, http.StatusForbidden, "csrf_check_failed")
				if c := w.Header().Values("Set-Cookie"); len(c) != 0 {
					t.Errorf("a refused request set %q", c)
				}
				// The refusal spent nothing: the page's own request goes
				// through.
				w = b.Send(http.MethodPost, ep.path, ep.body)
				testkit.Status(t, w, ep.wantStatus)
			})
		}
	}

	t.Run("login body must be JSON", func(t *testing.T) {
		s := newPipeServer(t, ginfresh.WithCookies("/auth/"))
		for _, tt := range []struct {
			name, contentType string
			header            http.Header
			wantStatus        int
			wantCode          string
		}{
			{"text/plain", "text/plain", http.Header{"Sec-Fetch-Site": {"same-origin"}}, 415, "invalid_request"},
			{"form", "application/x-www-form-urlencoded", nil, 415, "invalid_request"},
			{"text/plain, cross-site", "text/plain", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403, "csrf_check_failed"},
			{"JSON with a charset", "application/json; charset=utf-8", http.Header{"Sec-Fetch-Site": {"same-origin"}}, 200, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				h := http.Header{"Content-Type": {tt.contentType}}
				for k, v := range tt.header {
					h[k] = v
				}
				w := s.Do(testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: testkit.Credentials("alice", "alice-pw"), Header: h})
				if tt.wantStatus == 200 {
					testkit.Status(t, w, 200)
					return
				}
				testkit.Refused(t, w, tt.wantStatus, tt.wantCode)
				if c := w.Header().Values("Set-Cookie"); len(c) != 0 {
					t.Errorf("a refused login set %q", c)
				}
			})
		}
	})
}

func TestTokenSourcesTwoMethods(t *testing.T) {
	var got error
	s, b := newCookieServer(t, ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) {
		got = e
		c.Status(e.Status)
	}))
	access, refresh := b.Jar[accessCookie].Value, b.Jar[refreshCookie].Value
	w := s.Do(testkit.Request{Path: testkit.Protected, Token: access, Header: http.Header{"Cookie": {b.Jar.Header(testkit.Protected)}}})
	testkit.Status(t, w, http.StatusBadRequest)
	if !errors.Is(got, ginfresh.ErrInvalidRequest) {
		t.Errorf("got %v, want ErrInvalidRequest", got)
	}

	// The refresh endpoint reads the refresh cookie: Bearer and cookie at
	// once is two methods too.
	got = nil
	w = s.Do(testkit.Request{Method: http.MethodPost, Path: "/auth/refresh", Token: refresh, Header: http.Header{
		"Cookie": {b.Jar.Header("/auth/refresh")}, "X-Csrf-Token": {b.Jar[csrfCookie].Value},
	}})
	testkit.Status(t, w, http.StatusBadRequest)
	if !errors.Is(got, ginfresh.ErrInvalidRequest) {
		t.Errorf("got %v, want ErrInvalidRequest", got)
	}
}

func TestCookieOptionsValidation(t *testing.T) {
	base := []ginfresh.Option{ginfresh.WithHMACKey(pipeKey), ginfresh.WithAuthenticator(testkit.Authenticate)}
	tests := []struct {
		name    string
		opts    []ginfresh.Option
		wantErr []string
	}{
		{"no source", []ginfresh.Option{ginfresh.WithTokenSources()}, []string{"WithTokenSources: no source"}},
		{"source twice", []ginfresh.Option{ginfresh.WithTokenSources(ginfresh.FromHeader(), ginfresh.FromHeader())}, []string{"listed twice"}},
		{"zero source", []ginfresh.Option{ginfresh.WithTokenSources(ginfresh.TokenSource{})}, []string{"zero TokenSource"}},
		{"empty query parameter", []ginfresh.Option{ginfresh.WithTokenSources(ginfresh.UnsafeFromQuery(""))}, []string{"query parameter"}},
		{"odd query parameter", []ginfresh.Option{ginfresh.WithTokenSources(ginfresh.UnsafeFromQuery("a b"))}, []string{"query parameter"}},
		{"cookies nobody reads", []ginfresh.Option{ginfresh.WithCookies("/auth/"), ginfresh.WithTokenSources(ginfresh.FromHeader())}, []string{"add FromCookie"}},
		{"relative refresh path", []ginfresh.Option{ginfresh.WithCookies("auth")}, []string{"must start with /"}},
		{"refresh path with ;", []ginfresh.Option{ginfresh.WithCookies("/auth;Domain=evil")}, []string{"must start with /"}},
		{"refresh path with a space", []ginfresh.Option{ginfresh.WithCookies("/a b")}, []string{"must start with /"}},
		{"WithCookies twice", []ginfresh.Option{ginfresh.WithCookies("/"), ginfresh.WithCookies("/auth/")}, []string{"WithCookies given twice"}},
		{"__Host- refresh cookie on a path", []ginfresh.Option{ginfresh.WithCookies("/auth/"), ginfresh.WithCookieNames("__Host-a", "__Host-r", "__Host-c")}, []string{"__Host- prefix needs the refresh path /"}},
		{"__host- in lower case", []ginfresh.Option{ginfresh.WithCookies("/auth/"), ginfresh.WithCookieNames("a", "__host-r", "c")}, []string{"__Host- prefix needs the refresh path /"}},
		{"bad cookie name", []ginfresh.Option{ginfresh.WithCookies("/"), ginfresh.WithCookieNames("a=b", "r", "c")}, []string{"not a valid cookie name"}},
		{"empty cookie name", []ginfresh.Option{ginfresh.WithCookies("/"), ginfresh.WithCookieNames("a", "", "c")}, []string{"not a valid cookie name"}},
		{"same cookie names", []ginfresh.Option{ginfresh.WithCookies("/"), ginfresh.WithCookieNames("a", "a", "c")}, []string{"must differ"}},
		{"SameSite default mode", []ginfresh.Option{ginfresh.WithCookies("/"), ginfresh.WithCookieSameSite(http.SameSiteDefaultMode)}, []string{"not Lax, Strict or None"}},
		{"malformed origin", []ginfresh.Option{ginfresh.WithCookies("/"), ginfresh.WithTrustedOrigins("app.example")}, []string{"WithTrustedOrigins"}},
		{"no origin", []ginfresh.Option{ginfresh.WithCookies("/"), ginfresh.WithTrustedOrigins()}, []string{"WithTrustedOrigins: no origin"}},
		{"every problem at once", []ginfresh.Option{ginfresh.WithCookies("auth"), ginfresh.WithCookieSameSite(0), ginfresh.WithTrustedOrigins()}, []string{"WithCookies", "WithCookieSameSite", "WithTrustedOrigins"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ginfresh.New(append(slices.Clone(base), tt.opts...)...)
			if err == nil || a != nil {
				t.Fatalf("got %v, %v; want an error", a, err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got %q, want it to say %q", err, want)
				}
			}
		})
	}

	for i, ok := range [][]ginfresh.Option{
		{ginfresh.WithCookies("/"), ginfresh.WithCookieNames("__Host-a", "__Host-r", "__Host-c")},
		{ginfresh.WithTokenSources(ginfresh.FromCookie()), ginfresh.WithCookieNames("a", "r", "c"), ginfresh.WithTrustedOrigins("https://app.example")},
		{ginfresh.WithCookies("/auth/"), ginfresh.WithCookieSameSite(http.SameSiteNoneMode), ginfresh.WithTokenSources(ginfresh.FromCookie(), ginfresh.UnsafeFromQuery("t"))},
		{ginfresh.WithTrustedOrigins("https://app.example"), ginfresh.WithTrustedOrigins("https://admin.example:8443")},
	} {
		if _, err := ginfresh.New(append(slices.Clone(base), ok...)...); err != nil {
			t.Errorf("valid set-up %d: %v", i, err)
		}
	}
}

// TestCookieTossing: a sibling subdomain can plant a cookie under the
// refresh cookie's name with Domain=parent (the __Secure- prefix does not
// stop that, and the refresh path rules out __Host-), which
// the browser then sends beside the user's own. The planted copy (another
// user's valid token, to sign the victim into the attacker's account, or
// garbage, to wedge the session) must never be used, nor stop the user's
// own cookie from working, and the answer asks the browser to drop it.
func TestCookieTossing(t *testing.T) {
	const host = "a.b.example.com"
	type parties struct {
		s                       *testkit.Server
		alice, alice2, bob      *testkit.Browser
		aliceSID, aliceRT, csrf string
	}
	setUp := func(t *testing.T) *parties {
		s, alice := newCookieServer(t)
		login := func(user string) *testkit.Browser {
			b := &testkit.Browser{T: t, H: s.Router, Jar: testkit.Jar{}}
			testkit.Status(t, b.Send(http.MethodPost, "/auth/login", testkit.Credentials(user, testkit.Users[user])), http.StatusOK)
			return b
		}
		p := &parties{s: s, alice: alice, alice2: login("alice"), bob: login("bob")}
		p.aliceRT, p.csrf = alice.Jar[refreshCookie].Value, alice.Jar[csrfCookie].Value
		p.aliceSID = s.Claims(t, ginfresh.Refresh, p.aliceRT).SessionID
		return p
	}
	// send posts to path on host as alice's page would, with the refresh
	// cookies given, in that order, and alice's CSRF cookie and header.
	send := func(p *parties, path string, refresh ...string) *httptest.ResponseRecorder {
		var pairs []string
		for _, v := range refresh {
			pairs = append(pairs, refreshCookie+"="+v)
		}
		pairs = append(pairs, csrfCookie+"="+p.csrf)
		return p.s.Do(testkit.Request{Method: http.MethodPost, Path: "https://" + host + path, Header: http.Header{
			"Cookie": {strings.Join(pairs, "; ")}, "X-Csrf-Token": {p.csrf}, "Sec-Fetch-Site": {"same-origin"},
		}})
	}
	// wantDeletions checks that w asks the browser to drop the refresh
	// cookie at each parent domain of host, at / and at the refresh path.
	wantDeletions := func(t *testing.T, w *httptest.ResponseRecorder) {
		t.Helper()
		var got []string
		for _, c := range answerCookies(t, w) {
			if c.Domain == "" {
				continue
			}
			if c.Name != refreshCookie || c.MaxAge != -1 || c.Value != "" || !c.Secure {
				t.Errorf("got %s, want a deletion of %s", c, refreshCookie)
			}
			got = append(got, c.Domain+c.Path)
		}
		slices.Sort(got)
		want := []string{"b.example.com/", "b.example.com/auth/", "example.com/", "example.com/auth/"}
		if !slices.Equal(got, want) {
			t.Errorf("got deletions at %q, want %q", got, want)
		}
	}
	planted := []struct {
		name  string
		value func(p *parties) string
	}{
		{"another user's token", func(p *parties) string { return p.bob.Jar[refreshCookie].Value }},
		{"another session of the same user", func(p *parties) string { return p.alice2.Jar[refreshCookie].Value }},
		{"garbage", func(*parties) string { return "garbage" }},
		{"an access token", func(p *parties) string { return p.bob.Jar[accessCookie].Value }},
	}

	for _, plant := range planted {
		t.Run("refresh/"+plant.name+" first", func(t *testing.T) {
			p := setUp(t)
			w := send(p, "/auth/refresh", plant.value(p), p.aliceRT)
			testkit.Status(t, w, http.StatusOK)
			own := ownCookies(t, w)
			if own[refreshCookie] == nil || own[accessCookie] == nil {
				t.Fatalf("got %v, want new access and refresh cookies", own)
			}
			if sid := p.s.Claims(t, ginfresh.Access, own[accessCookie].Value).SessionID; sid != p.aliceSID {
				t.Errorf("refreshed session %s, want alice's own %s", sid, p.aliceSID)
			}
			wantDeletions(t, w)
			// The planted token's session is untouched: its owner refreshes.
			testkit.Status(t, p.bob.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
			testkit.Status(t, p.alice2.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
		})

		t.Run("logout/"+plant.name+" first", func(t *testing.T) {
			p := setUp(t)
			w := send(p, "/auth/logout", plant.value(p), p.aliceRT)
			testkit.Status(t, w, http.StatusNoContent)
			wantDeletions(t, w)
			testkit.Refused(t, p.s.Refresh(p.aliceRT), http.StatusUnauthorized, "invalid_token")
			testkit.Status(t, p.bob.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
			testkit.Status(t, p.alice2.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
		})
	}

	t.Run("own cookie first", func(t *testing.T) {
		p := setUp(t)
		w := send(p, "/auth/refresh", p.aliceRT, p.bob.Jar[refreshCookie].Value)
		testkit.Status(t, w, http.StatusOK)
		wantDeletions(t, w)
	})

	t.Run("one cookie: nothing to delete", func(t *testing.T) {
		p := setUp(t)
		w := send(p, "/auth/refresh", p.aliceRT)
		testkit.Status(t, w, http.StatusOK)
		for _, c := range answerCookies(t, w) {
			if c.Domain != "" {
				t.Errorf("got %s, want no deletion when no copy was planted", c)
			}
		}
	})

	// With only a planted cookie the request fails, and the planted token's
	// session goes on as if nothing happened: it was not rotated, so its
	// owner's next refresh is no replay.
	for _, tt := range []struct {
		name       string
		plant      func(p *parties) []string
		wantStatus int
		wantCode   string
	}{
		{"another user's token", func(p *parties) []string { return []string{p.bob.Jar[refreshCookie].Value} }, 403, "csrf_check_failed"},
		{"another session of the same user", func(p *parties) []string { return []string{p.alice2.Jar[refreshCookie].Value} }, 403, "csrf_check_failed"},
		{"garbage", func(*parties) []string { return []string{"garbage"} }, 401, "invalid_token"},
		{"two planted", func(p *parties) []string { return []string{p.bob.Jar[refreshCookie].Value, "garbage"} }, 403, "csrf_check_failed"},
	} {
		for _, path := range []string{"/auth/refresh", "/auth/logout"} {
			t.Run(path+"/only "+tt.name, func(t *testing.T) {
				p := setUp(t)
				testkit.Refused(t, send(p, path, tt.plant(p)...), tt.wantStatus, tt.wantCode)
				testkit.Status(t, p.bob.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
				testkit.Status(t, p.alice2.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
				testkit.Status(t, p.alice.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
			})
		}
	}

	// A browser keeps at most a few dozen cookies per domain; more copies
	// than anyone plants by accident is a malformed request, refused before
	// any of them is checked.
	t.Run("copies", func(t *testing.T) {
		p := setUp(t)
		seventeen := append(slices.Repeat([]string{"garbage"}, 16), p.aliceRT)
		testkit.Refused(t, send(p, "/auth/refresh", seventeen...), http.StatusBadRequest, "invalid_request")
		testkit.Refused(t, send(p, "/auth/logout", seventeen...), http.StatusBadRequest, "invalid_request")
		many := strings.Repeat(accessCookie+"=garbage; ", 17)
		testkit.Refused(t, p.s.Do(testkit.Request{Path: testkit.Protected, Header: http.Header{"Cookie": {many}}}), http.StatusBadRequest, "invalid_request")
		// Sixteen are still tried in turn, and the last is alice's own.
		sixteen := append(slices.Repeat([]string{"garbage"}, 15), p.aliceRT)
		testkit.Status(t, send(p, "/auth/refresh", sixteen...), http.StatusOK)
	})
}
