package ginfresh_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// loginBody pads a login of alice to exactly n bytes, to probe the 16 KiB
// limit from both sides.
func loginBody(n int) string {
	const head, tail = `{"username":"alice","password":"alice-pw","pad":"`, `"}`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

func TestLoginRequests(t *testing.T) {
	creds := testkit.Credentials("alice", "alice-pw")
	tests := []struct {
		name        string
		body        string
		contentType string // sent as is; "" for application/json
		wantStatus  int
		wantCode    string // "" for a success
	}{
		{"ok", creds, "", 200, ""},
		{"media type parameters", creds, "application/json; charset=utf-8", 200, ""},
		{"media type in upper case", creds, "Application/JSON", 200, ""},
		{"exactly 16 KiB", loginBody(16 << 10), "", 200, ""},
		{"wrong password", testkit.Credentials("alice", "nope"), "", 401, "invalid_credentials"},
		{"unknown user", testkit.Credentials("mallory", "alice-pw"), "", 401, "invalid_credentials"},

		{"over 16 KiB", loginBody(16<<10 + 1), "", 400, "invalid_request"},
		{"malformed JSON", `{"username":"alice",`, "", 400, "invalid_request"},
		{"trailing data", creds + `{}`, "", 400, "invalid_request"},
		{"array", `[1,2]`, "", 400, "invalid_request"},
		{"string", `"alice"`, "", 400, "invalid_request"},
		{"null", `null`, "", 400, "invalid_request"},
		{"empty body", ``, "application/json", 400, "invalid_request"},
		{"blank body", ` `, "", 400, "invalid_request"},
		// Two readers of a repeated name may each see another user.
		{"duplicate name", `{"username":"bob","username":"alice","password":"alice-pw"}`, "", 400, "invalid_request"},
		{"duplicate name, escaped", `{"username":"alice","user\u006eame":"bob","password":"alice-pw"}`, "", 400, "invalid_request"},
		{"missing password", `{"username":"alice"}`, "", 400, "invalid_request"},
		{"missing username", `{"password":"alice-pw"}`, "", 400, "invalid_request"},
		{"empty username", `{"username":"","password":"alice-pw"}`, "", 400, "invalid_request"},
		{"number password", `{"username":"alice","password":123}`, "", 400, "invalid_request"},
		{"null password", `{"username":"alice","password":null}`, "", 400, "invalid_request"},

		{"text/plain", creds, "text/plain", 415, "invalid_request"},
		{"form", "username=alice&password=alice-pw", "application/x-www-form-urlencoded", 415, "invalid_request"},
		{"multipart", creds, "multipart/form-data; boundary=x", 415, "invalid_request"},
		{"JSON suffix type", creds, "application/problem+json", 415, "invalid_request"},
		{"malformed media type", creds, "application/json; =", 415, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := keyedServer(t)
			req := testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: tt.body}
			if tt.contentType != "" {
				req.Header = http.Header{"Content-Type": {tt.contentType}}
			}
			w := s.Do(req)
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			if tt.wantCode == "" {
				testkit.Status(t, w, tt.wantStatus)
				if tok := testkit.DecodeTokens(t, w); tok.AccessToken == "" || tok.RefreshToken == "" {
					t.Fatalf("tokens %+v", tok)
				}
				return
			}
			testkit.Refused(t, w, tt.wantStatus, tt.wantCode)
			if strings.Contains(w.Body.String(), "alice-pw") {
				t.Fatalf("the answer echoes the password: %s", w.Body)
			}
		})
	}
}

// TestLoginRequestFields: the authenticator reads the body's other members
// with LoginRequest.Field, decoded into the type it asks for.
func TestLoginRequestFields(t *testing.T) {
	type device struct {
		Name    string `json:"name"`
		Trusted bool   `json:"trusted"`
	}
	type seen struct {
		hasTenant bool
		tenant    string
		tenantErr bool
		device    device
	}
	var got seen
	authn := func(c *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
		got = seen{}
		var err error
		got.hasTenant, err = req.Field("tenant", &got.tenant)
		if err != nil {
			got.tenantErr = true
			return ginfresh.Identity{}, fmt.Errorf("%w: tenant: %w", ginfresh.ErrInvalidCredentials, err)
		}
		if _, err := req.Field("device", &got.device); err != nil {
			return ginfresh.Identity{}, fmt.Errorf("%w: device: %w", ginfresh.ErrInvalidCredentials, err)
		}
		id, err := testkit.Authenticate(c, req) // username, password and otp
		if err == nil && got.hasTenant {
			id.Custom["tenant"] = got.tenant
		}
		return id, err
	}
	const user = `"username":"alice","password":"alice-pw"`
	tests := []struct {
		name       string
		body       string
		wantStatus int
		want       seen
		wantACR    string
	}{
		{"no extra field", `{` + user + `}`, 200, seen{}, "pwd"},
		{"tenant", `{` + user + `,"tenant":"acme"}`, 200, seen{hasTenant: true, tenant: "acme"}, "pwd"},
		{"tenant, escaped name", `{` + user + `,"ten\u0061nt":"acme"}`, 200, seen{hasTenant: true, tenant: "acme"}, "pwd"},
		{"tenant of the wrong type", `{` + user + `,"tenant":42}`, 401, seen{hasTenant: true, tenantErr: true}, ""},
		{"object field", `{` + user + `,"device":{"name":"phone","trusted":true}}`, 200, seen{device: device{"phone", true}}, "pwd"},
		{"one-time code", `{` + user + `,"otp":"` + testkit.OTP + `","tenant":"acme"}`, 200, seen{hasTenant: true, tenant: "acme"}, "mfa"},
		{"wrong one-time code", `{` + user + `,"otp":"000000"}`, 401, seen{}, ""},
		{"one-time code as a number", `{` + user + `,"otp":123456}`, 401, seen{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := bareServer(t, ginfresh.WithAuthenticator(authn))
			w := s.Post("/auth/login", "", tt.body)
			if got != tt.want {
				t.Errorf("the authenticator read %+v, want %+v", got, tt.want)
			}
			if tt.wantStatus != 200 {
				testkit.Refused(t, w, tt.wantStatus, "invalid_credentials")
				return
			}
			testkit.Status(t, w, 200)
			c := s.Claims(t, ginfresh.Access, testkit.DecodeTokens(t, w).AccessToken)
			var tenant string
			ok, err := c.Get("tenant", &tenant)
			if err != nil || ok != tt.want.hasTenant || tenant != tt.want.tenant {
				t.Errorf("tenant claim %q (%v, %v), want %q", tenant, ok, err, tt.want.tenant)
			}
			if c.ACR != tt.wantACR {
				t.Errorf("acr %q, want %q", c.ACR, tt.wantACR)
			}
		})
	}
}

// TestLoginBodyCheckedBeforeThrottle: a body the handler cannot take is
// refused before the throttle counts it or the authenticator runs, so a
// cross-site form post cannot spend a visitor's login attempts.
func TestLoginBodyCheckedBeforeThrottle(t *testing.T) {
	var calls atomic.Int32
	authn := func(c *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
		calls.Add(1)
		return testkit.Authenticate(c, req)
	}
	// One attempt per window: any counted refusal would block the login.
	s := bareServer(t, ginfresh.WithAuthenticator(authn), ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 1, PerClient: 1}))
	creds := testkit.Credentials("alice", "alice-pw")
	for _, path := range []string{"/auth/login", "/auth/fresh-login"} {
		for _, tt := range []struct {
			contentType, body string
			wantStatus        int
		}{
			{"text/plain", creds, 415},
			{"application/x-www-form-urlencoded", "username=alice&password=alice-pw", 415},
			{"", "", 415}, // no Content-Type at all
			{"application/json", `{"username":"alice"}`, 400},
			{"application/json", `[]`, 400},
		} {
			w := s.Do(testkit.Request{Method: http.MethodPost, Path: path, Body: tt.body, Header: http.Header{"Content-Type": {tt.contentType}}})
			testkit.Refused(t, w, tt.wantStatus, "invalid_request")
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the authenticator ran %d times, want 0", n)
	}
	testkit.Status(t, s.Post("/auth/login", "", creds), http.StatusOK)
	testkit.Refused(t, s.Post("/auth/login", "", creds), http.StatusTooManyRequests, "too_many_attempts")
}

// TestLoginEndpointsRefuseCrossOrigin: in header mode too, every auth
// endpoint refuses a request a browser sends for another site, since it
// could log the visitor in as the attacker, or out, or spend a token;
// clients that are not browsers send neither header and pass.
func TestLoginEndpointsRefuseCrossOrigin(t *testing.T) {
	const trusted = "https://app.example.com"
	endpoints := []struct {
		path       string
		wantStatus int
		request    func(t *testing.T, s *testkit.Server) testkit.Request
	}{
		{"/auth/login", 200, func(t *testing.T, s *testkit.Server) testkit.Request {
			return testkit.Request{Body: testkit.Credentials("alice", "alice-pw")}
		}},
		{"/auth/fresh-login", 200, func(t *testing.T, s *testkit.Server) testkit.Request {
			return testkit.Request{Token: s.Login(t, "alice").AccessToken, Body: testkit.Credentials("alice", "alice-pw")}
		}},
		{"/auth/refresh", 200, func(t *testing.T, s *testkit.Server) testkit.Request {
			return testkit.Request{Token: s.Login(t, "alice").RefreshToken}
		}},
		{"/auth/logout", 204, func(t *testing.T, s *testkit.Server) testkit.Request {
			return testkit.Request{Token: s.Login(t, "alice").RefreshToken}
		}},
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
		{"typed by the user", http.Header{"Sec-Fetch-Site": {"none"}}, false, true},
		{"older browser, own origin", http.Header{"Origin": {"http://example.com"}}, false, true},
		{"cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}}, false, false},
		{"cross-site with its origin", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}, false, false},
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
				s := keyedServer(t, opts...)
				req := ep.request(t, s)
				req.Method, req.Path, req.Header = http.MethodPost, ep.path, o.header
				w := s.Do(req)
				if o.pass {
					testkit.Status(t, w, ep.wantStatus)
					return
				}
				testkit.Refused(t, w, http.StatusForbidden, "csrf_check_failed")
				// The refusal spent nothing: the same request from the
				// app itself goes through.
				req.Header = nil
				testkit.Status(t, s.Do(req), ep.wantStatus)
			})
		}
	}
}

// TestAppLogin: Auth.Login signs a user in from the app's own handler (a
// single sign-on callback, a magic link) and answers exactly as the login
// handler does.
func TestAppLogin(t *testing.T) {
	sso := func(c *gin.Context) (ginfresh.Identity, error) {
		if c.Query("code") != "good" {
			return ginfresh.Identity{}, fmt.Errorf("%w: the provider refused the code", ginfresh.ErrInvalidCredentials)
		}
		return ginfresh.Identity{Subject: c.Query("user"), ACR: "sso", AMR: []string{"fed"}, Custom: map[string]any{"scope": "admin"}}, nil
	}
	mount := func(s *testkit.Server, calls *atomic.Int32) {
		s.Router.POST("/sso/callback", func(c *gin.Context) {
			s.Auth.Login(c, c.Query("user"), func() (ginfresh.Identity, error) {
				if calls != nil {
					calls.Add(1)
				}
				return sso(c)
			})
		})
		s.Router.GET("/magic", func(c *gin.Context) {
			s.Auth.Login(c, "", func() (ginfresh.Identity, error) { return ginfresh.Identity{Subject: "alice"}, nil })
		})
	}

	t.Run("header mode", func(t *testing.T) {
		logger, logs := jsonLogger()
		s := keyedServer(t, ginfresh.WithLogger(logger))
		mount(s, nil)
		w := s.Do(testkit.Request{Method: http.MethodPost, Path: "/sso/callback?user=alice&code=good"})
		testkit.Status(t, w, http.StatusOK)
		if got := w.Header().Get("Cache-Control") + " " + w.Header().Get("Pragma"); got != "no-store no-cache" {
			t.Errorf("caching headers %q", got)
		}
		if cookies := w.Header().Values("Set-Cookie"); len(cookies) != 0 {
			t.Errorf("header mode set cookies %v", cookies)
		}
		login := s.Post("/auth/login", "", testkit.Credentials("alice", "alice-pw"))
		if got, want := memberNames(jsonObject(t, w)), memberNames(jsonObject(t, login)); !slices.Equal(got, want) {
			t.Errorf("members %v, want the login handler's %v", got, want)
		}
		tok := testkit.DecodeTokens(t, w)
		c := s.Claims(t, ginfresh.Access, tok.AccessToken)
		if !c.Fresh || c.Subject != "alice" || c.ACR != "sso" || tok.ExpiresIn != 900 {
			t.Errorf("claims %+v, expires_in %d", c, tok.ExpiresIn)
		}
		if !strings.Contains(logs.String(), `"msg":"ginfresh: login","sub":"alice"`) {
			t.Errorf("no login event in %s", logs)
		}
		testkit.Status(t, s.Get(testkit.Admin, tok.AccessToken), http.StatusOK)
		testkit.Status(t, s.Refresh(tok.RefreshToken), http.StatusOK)

		// An identity provider posts its callback from its own site.
		w = s.Do(testkit.Request{Method: http.MethodPost, Path: "/sso/callback?user=bob&code=good", Header: http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://idp.example"}}})
		testkit.Status(t, w, http.StatusOK)

		testkit.Status(t, s.Get("/magic", ""), http.StatusOK)
	})

	t.Run("cookie mode", func(t *testing.T) {
		s := keyedServer(t, ginfresh.WithCookies("/auth/"))
		mount(s, nil)
		b := &testkit.Browser{T: t, H: s.Router, Jar: testkit.Jar{}}
		w := b.Send(http.MethodGet, "/magic", "")
		testkit.Status(t, w, http.StatusOK)
		if got := w.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control %q", got)
		}
		body := jsonObject(t, w)
		if got := memberNames(body); !slices.Equal(got, []string{"csrf_token", "expires_in", "refresh_expires_in"}) {
			t.Errorf("members %v: cookie mode keeps tokens out of the body", got)
		}
		if csrf, ok := b.Jar[testkit.CSRFCookie]; !ok || csrf.Value != body["csrf_token"] {
			t.Errorf("csrf_token %v does not match the cookie", body["csrf_token"])
		}
		// The cookies are the login handler's, attribute for attribute.
		other := &testkit.Browser{T: t, H: s.Router, Jar: testkit.Jar{}}
		testkit.Status(t, other.Send(http.MethodPost, "/auth/login", testkit.Credentials("alice", "alice-pw")), http.StatusOK)
		if len(b.Jar) != 3 {
			t.Fatalf("cookies %v, want 3", b.Jar)
		}
		for name, want := range other.Jar {
			got, ok := b.Jar[name]
			if !ok {
				t.Fatalf("cookie %s missing", name)
			}
			g := fmt.Sprint(got.Path, got.MaxAge, got.HttpOnly, got.Secure, got.SameSite)
			if w := fmt.Sprint(want.Path, want.MaxAge, want.HttpOnly, want.Secure, want.SameSite); g != w {
				t.Errorf("cookie %s: %s, want %s", name, g, w)
			}
		}
		// The session works like a login's, down to the logout.
		testkit.Status(t, b.Send(http.MethodGet, testkit.Protected, ""), http.StatusOK)
		testkit.Status(t, b.Send(http.MethodPost, testkit.Sensitive, ""), http.StatusOK)
		testkit.Status(t, b.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
		testkit.Status(t, b.Send(http.MethodPost, "/auth/logout", ""), http.StatusNoContent)
		if len(b.Jar) != 0 {
			t.Errorf("logout left cookies %v", b.Jar)
		}
	})

	t.Run("throttled", func(t *testing.T) {
		logger, logs := jsonLogger()
		var calls atomic.Int32
		s := keyedServer(t, ginfresh.WithLogger(logger), ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 2}))
		mount(s, &calls)
		post := func(code string) *httptest.ResponseRecorder {
			return s.Do(testkit.Request{Method: http.MethodPost, Path: "/sso/callback?user=alice&code=" + code})
		}
		testkit.Refused(t, post("bad"), http.StatusUnauthorized, "invalid_credentials")
		testkit.Status(t, post("good"), http.StatusOK) // a success forgets the failure
		testkit.Refused(t, post("bad"), http.StatusUnauthorized, "invalid_credentials")
		testkit.Refused(t, post("bad"), http.StatusUnauthorized, "invalid_credentials")
		w := post("good")
		testkit.Refused(t, w, http.StatusTooManyRequests, "too_many_attempts")
		if got := w.Header().Get("Retry-After"); got != "900" {
			t.Errorf("Retry-After %q, want the window's 900", got)
		}
		if n := calls.Load(); n != 4 {
			t.Errorf("the check ran %d times, want 4: never once throttled", n)
		}
		if !strings.Contains(logs.String(), `"msg":"ginfresh: login failed"`) || !strings.Contains(logs.String(), `"msg":"ginfresh: login throttled"`) {
			t.Errorf("log %s", logs)
		}
		// Another account from the same client is not blocked.
		w = s.Do(testkit.Request{Method: http.MethodPost, Path: "/sso/callback?user=bob&code=good"})
		testkit.Status(t, w, http.StatusOK)
	})

	t.Run("check failures", func(t *testing.T) {
		s := keyedServer(t)
		for _, tt := range []struct {
			name       string
			err        error
			id         ginfresh.Identity
			wantStatus int
			wantCode   string
		}{
			// A provider that cannot be reached is not a wrong password.
			{"provider down", errors.New("dial tcp idp.internal: refused"), ginfresh.Identity{}, 503, "temporarily_unavailable"},
			{"no subject", nil, ginfresh.Identity{ACR: "sso"}, 500, "server_error"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				path := "/fail/" + strings.ReplaceAll(tt.name, " ", "-")
				s.Router.POST(path, func(c *gin.Context) {
					s.Auth.Login(c, "alice", func() (ginfresh.Identity, error) { return tt.id, tt.err })
				})
				w := s.Do(testkit.Request{Method: http.MethodPost, Path: path})
				testkit.Refused(t, w, tt.wantStatus, tt.wantCode)
				if strings.Contains(w.Body.String(), "idp.internal") || strings.Contains(w.Body.String(), "eyJ") {
					t.Errorf("the answer reveals too much: %s", w.Body)
				}
			})
		}
	})

	t.Run("fresh login", func(t *testing.T) {
		s := bareServer(t)
		mount(s, nil)
		// A step-up through the identity provider: only a fresh access
		// token, for the session of the token the request carries.
		s.Router.POST("/sso/step-up", func(c *gin.Context) {
			s.Auth.FreshLogin(c, c.Query("user"), func() (ginfresh.Identity, error) { return sso(c) })
		})
		w := s.Do(testkit.Request{Method: http.MethodPost, Path: "/sso/callback?user=alice&code=good"})
		testkit.Status(t, w, http.StatusOK)
		login := testkit.DecodeTokens(t, w)
		stale := refreshed(t, s, login.RefreshToken)
		held := s.Claims(t, ginfresh.Access, stale.AccessToken)

		w = s.Do(testkit.Request{Method: http.MethodPost, Path: "/sso/step-up?user=alice&code=good", Token: stale.AccessToken})
		testkit.Status(t, w, http.StatusOK)
		if got := memberNames(jsonObject(t, w)); !slices.Equal(got, []string{"access_token", "expires_in", "token_type"}) {
			t.Errorf("members %v: a fresh token only", got)
		}
		c := s.Claims(t, ginfresh.Access, testkit.DecodeTokens(t, w).AccessToken)
		if !c.Fresh || c.SessionID != held.SessionID || !c.ExpiresAt.Equal(held.ExpiresAt) || c.ACR != "sso" {
			t.Errorf("claims %+v: want a fresh token of the held token's session, ending with it", c)
		}
		w = s.Do(testkit.Request{Method: http.MethodPost, Path: "/sso/step-up?user=bob&code=good", Token: stale.AccessToken})
		testkit.Refused(t, w, http.StatusForbidden, "access_denied")
		w = s.Do(testkit.Request{Method: http.MethodPost, Path: "/sso/step-up?user=alice&code=bad", Token: stale.AccessToken})
		testkit.Refused(t, w, http.StatusUnauthorized, "invalid_credentials")
	})

	t.Run("without an authenticator", func(t *testing.T) {
		s := bareServer(t)
		mount(s, nil)
		for _, path := range []string{"/auth/login", "/auth/fresh-login"} {
			testkit.Refused(t, s.Post(path, "", testkit.Credentials("alice", "alice-pw")), http.StatusNotImplemented, "unsupported")
		}
		w := s.Do(testkit.Request{Method: http.MethodPost, Path: "/sso/callback?user=alice&code=good"})
		testkit.Status(t, w, http.StatusOK)
		tok := testkit.DecodeTokens(t, w)
		testkit.Status(t, s.Refresh(tok.RefreshToken), http.StatusOK)
		testkit.Status(t, s.Post("/auth/logout", tok.AccessToken, ""), http.StatusNoContent)
	})
}

// answerMembers are the members of a token answer; Identity.Reply may use
// none of them.
var answerMembers = []string{"access_token", "refresh_token", "token_type", "expires_in", "refresh_expires_in", "csrf_token"}

// TestReply: Identity.Reply adds members to the JSON answers of login,
// refresh (through the hook) and fresh-login, in either mode, and never to
// a token.
func TestReply(t *testing.T) {
	authn := func(c *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
		id, err := testkit.Authenticate(c, req)
		id.Reply = map[string]any{"profile": map[string]any{"name": "Alice", "plan": "pro"}}
		return id, err
	}
	hook := func(_ *gin.Context, c *ginfresh.Claims) (ginfresh.Identity, error) {
		return ginfresh.Identity{Subject: c.Subject, Custom: map[string]any{"role": "admin"}, Reply: map[string]any{"profile": map[string]any{"name": "Alice"}, "notices": 2}}, nil
	}
	noReply := func(t *testing.T, s *testkit.Server, token string) {
		t.Helper()
		c := s.Claims(t, ginfresh.Access, token)
		for _, name := range []string{"profile", "notices"} {
			var v any
			if ok, _ := c.Get(name, &v); ok {
				t.Errorf("the token carries %s, a Reply field", name)
			}
		}
	}

	t.Run("header mode", func(t *testing.T) {
		s := bareServer(t, ginfresh.WithAuthenticator(authn), ginfresh.WithRefreshHook(hook))
		w := s.Post("/auth/login", "", testkit.Credentials("alice", "alice-pw"))
		testkit.Status(t, w, http.StatusOK)
		if got := memberNames(jsonObject(t, w)); !slices.Equal(got, []string{"access_token", "expires_in", "profile", "refresh_expires_in", "refresh_token", "token_type"}) {
			t.Errorf("login members %v", got)
		}
		if got := fmt.Sprint(jsonObject(t, w)["profile"]); got != "map[name:Alice plan:pro]" {
			t.Errorf("profile %s", got)
		}
		tok := testkit.DecodeTokens(t, w)
		noReply(t, s, tok.AccessToken)

		w = s.Refresh(tok.RefreshToken)
		testkit.Status(t, w, http.StatusOK)
		if got := jsonObject(t, w); got["notices"] != 2.0 || got["profile"] == nil || got["access_token"] == nil {
			t.Errorf("refresh answer %v: want the hook's Reply beside the tokens", got)
		}
		refreshed := testkit.DecodeTokens(t, w)
		noReply(t, s, refreshed.AccessToken)

		w = s.Post("/auth/fresh-login", refreshed.AccessToken, testkit.Credentials("alice", "alice-pw"))
		testkit.Status(t, w, http.StatusOK)
		if got := memberNames(jsonObject(t, w)); !slices.Equal(got, []string{"access_token", "expires_in", "profile", "token_type"}) {
			t.Errorf("fresh-login members %v", got)
		}
		noReply(t, s, testkit.DecodeTokens(t, w).AccessToken)
	})

	t.Run("refresh without a hook", func(t *testing.T) {
		s := bareServer(t, ginfresh.WithAuthenticator(authn))
		tok := testkit.DecodeTokens(t, s.Post("/auth/login", "", testkit.Credentials("alice", "alice-pw")))
		w := s.Refresh(tok.RefreshToken)
		testkit.Status(t, w, http.StatusOK)
		if _, ok := jsonObject(t, w)["profile"]; ok {
			t.Error("a refresh repeats the login's Reply; only a hook should answer one")
		}
	})

	t.Run("cookie mode", func(t *testing.T) {
		s := bareServer(t, ginfresh.WithAuthenticator(authn), ginfresh.WithRefreshHook(hook), ginfresh.WithCookies("/auth/"))
		b := &testkit.Browser{T: t, H: s.Router, Jar: testkit.Jar{}}
		for _, step := range []struct {
			path string
			want []string
		}{
			{"/auth/login", []string{"csrf_token", "expires_in", "profile", "refresh_expires_in"}},
			{"/auth/refresh", []string{"csrf_token", "expires_in", "notices", "profile", "refresh_expires_in"}},
			{"/auth/fresh-login", []string{"csrf_token", "expires_in", "profile"}},
		} {
			body := ""
			if step.path != "/auth/refresh" {
				body = testkit.Credentials("alice", "alice-pw")
			}
			w := b.Send(http.MethodPost, step.path, body)
			testkit.Status(t, w, http.StatusOK)
			if got := memberNames(jsonObject(t, w)); !slices.Equal(got, step.want) {
				t.Errorf("%s members %v, want %v", step.path, got, step.want)
			}
			noReply(t, s, b.Jar["__Host-access-token"].Value)
		}
	})
}

// TestReplyNameClash: a Reply member that would replace one of the
// answer's is the app's bug: 500, and not a token in the answer.
func TestReplyNameClash(t *testing.T) {
	for _, name := range append(answerMembers, "unmarshalable") {
		reply := map[string]any{name: "x", "profile": "ok"}
		if name == "unmarshalable" {
			reply = map[string]any{name: func() {}}
		}
		authn := func(c *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
			id, err := testkit.Authenticate(c, req)
			id.Reply = reply
			return id, err
		}
		hook := func(_ *gin.Context, c *ginfresh.Claims) (ginfresh.Identity, error) {
			return ginfresh.Identity{Subject: c.Subject, Reply: reply}, nil
		}
		t.Run(name, func(t *testing.T) {
			for _, mode := range []struct {
				name string
				opts []ginfresh.Option
			}{
				{"header mode", nil},
				{"cookie mode", []ginfresh.Option{ginfresh.WithCookies("/auth/")}},
			} {
				s := bareServer(t, append(mode.opts, ginfresh.WithAuthenticator(authn))...)
				w := s.Post("/auth/login", "", testkit.Credentials("alice", "alice-pw"))
				testkit.Refused(t, w, http.StatusInternalServerError, "server_error")
				if strings.Contains(w.Body.String(), "eyJ") || len(w.Header().Values("Set-Cookie")) > 0 {
					t.Errorf("%s: a token leaked: %s %v", mode.name, w.Body, w.Header().Values("Set-Cookie"))
				}
			}
			s := keyedServer(t, ginfresh.WithRefreshHook(hook))
			w := s.Refresh(s.Login(t, "alice").RefreshToken)
			testkit.Refused(t, w, http.StatusInternalServerError, "server_error")
			if strings.Contains(w.Body.String(), "eyJ") {
				t.Errorf("refresh: a token leaked: %s", w.Body)
			}
		})
	}
}

func TestFreshLogin(t *testing.T) {
	creds := testkit.Credentials("alice", "alice-pw")
	tests := []struct {
		name       string
		token      func(tok ginfresh.Tokens) string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"no held token", func(ginfresh.Tokens) string { return "" }, creds, 200, ""},
		{"same subject", func(tok ginfresh.Tokens) string { return tok.AccessToken }, creds, 200, ""},
		{"with a one-time code", func(tok ginfresh.Tokens) string { return tok.AccessToken }, `{"username":"alice","password":"alice-pw","otp":"` + testkit.OTP + `"}`, 200, ""},
		// A session cannot be upgraded with someone else's password.
		{"other subject", func(tok ginfresh.Tokens) string { return tok.AccessToken }, testkit.Credentials("bob", "bob-pw"), 403, "access_denied"},
		{"wrong password", func(tok ginfresh.Tokens) string { return tok.AccessToken }, testkit.Credentials("alice", "x"), 401, "invalid_credentials"},
		{"invalid held token", func(ginfresh.Tokens) string { return "garbage" }, creds, 401, "invalid_token"},
		{"refresh token held", func(tok ginfresh.Tokens) string { return tok.RefreshToken }, creds, 401, "invalid_token"},
		{"bad body", func(tok ginfresh.Tokens) string { return tok.AccessToken }, `{`, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := keyedServer(t)
			tok := s.Login(t, "alice")
			s.Clock.Advance(time.Minute)
			w := s.Post("/auth/fresh-login", tt.token(tok), tt.body)
			if tt.wantCode != "" {
				testkit.Refused(t, w, tt.wantStatus, tt.wantCode)
				return
			}
			testkit.Status(t, w, tt.wantStatus)
			fresh := testkit.DecodeTokens(t, w)
			if fresh.RefreshToken != "" || fresh.RefreshExpiresIn != 0 {
				t.Errorf("fresh-login answered a refresh token: %+v", fresh)
			}
			c := s.Claims(t, ginfresh.Access, fresh.AccessToken)
			if !c.Fresh || !c.AuthTime.Equal(s.Clock.Now().Truncate(time.Second)) {
				t.Errorf("fresh %v, auth_time %v: want a fresh token authenticated now", c.Fresh, c.AuthTime)
			}
		})
	}
}

// TestFreshLoginKeepsSession: with a held token the fresh one joins its
// session and expires exactly when the held one would have, so repeated
// fresh-logins never prolong a session.
func TestFreshLoginKeepsSession(t *testing.T) {
	s := keyedServer(t, ginfresh.WithAccessRevocation())
	login := s.Login(t, "alice")
	held := s.Claims(t, ginfresh.Access, login.AccessToken)
	s.Clock.Advance(10 * time.Minute)
	w := s.Post("/auth/fresh-login", login.AccessToken, testkit.Credentials("alice", "alice-pw"))
	testkit.Status(t, w, http.StatusOK)
	fresh := testkit.DecodeTokens(t, w)
	c := s.Claims(t, ginfresh.Access, fresh.AccessToken)
	if c.SessionID != held.SessionID {
		t.Errorf("sid %q, want the held token's %q", c.SessionID, held.SessionID)
	}
	if !c.ExpiresAt.Equal(held.ExpiresAt) {
		t.Errorf("exp %v, want the held token's %v", c.ExpiresAt, held.ExpiresAt)
	}
	if want := int64(held.ExpiresAt.Sub(s.Clock.Now()) / time.Second); fresh.ExpiresIn != want {
		t.Errorf("expires_in %d, want %d", fresh.ExpiresIn, want)
	}
	if sessions, _ := s.Auth.Sessions(context.Background(), "alice"); len(sessions) != 1 {
		t.Errorf("sessions %v: a fresh-login with a held token starts none", sessions)
	}

	// Again from the fresh token: still the same end.
	s.Clock.Advance(4 * time.Minute)
	w = s.Post("/auth/fresh-login", fresh.AccessToken, testkit.Credentials("alice", "alice-pw"))
	testkit.Status(t, w, http.StatusOK)
	again := testkit.DecodeTokens(t, w).AccessToken
	if exp := s.Claims(t, ginfresh.Access, again).ExpiresAt; !exp.Equal(held.ExpiresAt) {
		t.Errorf("second fresh-login: exp %v, want %v", exp, held.ExpiresAt)
	}

	// Ending the session ends its fresh tokens.
	testkit.Status(t, s.Post("/auth/logout", login.RefreshToken, ""), http.StatusNoContent)
	for _, token := range []string{fresh.AccessToken, again} {
		testkit.Refused(t, s.Get(testkit.Protected, token), http.StatusUnauthorized, "invalid_token")
	}
	// And they expire with the login's token, not a minute later.
	s.Clock.Advance(time.Minute)
	if _, err := s.Auth.Verify(context.Background(), ginfresh.Access, again); !errors.Is(err, ginfresh.ErrTokenExpired) {
		t.Errorf("at the held token's exp: %v, want ErrTokenExpired", err)
	}
}

// TestFreshLoginWithoutHeldToken: in header mode a fresh-login without a
// token starts a session of access tokens only, listed and revocable like
// any other; cookie mode needs the session's token.
func TestFreshLoginWithoutHeldToken(t *testing.T) {
	s := keyedServer(t, ginfresh.WithAccessRevocation())
	other := s.Login(t, "alice")
	s.Clock.Advance(time.Second)
	w := s.Post("/auth/fresh-login", "", testkit.Credentials("alice", "alice-pw"))
	testkit.Status(t, w, http.StatusOK)
	if got := memberNames(jsonObject(t, w)); !slices.Equal(got, []string{"access_token", "expires_in", "token_type"}) {
		t.Errorf("members %v: no refresh token", got)
	}
	tok := testkit.DecodeTokens(t, w)
	c := s.Claims(t, ginfresh.Access, tok.AccessToken)
	if !c.Fresh || c.SessionID == "" || c.SessionID == s.Claims(t, ginfresh.Access, other.AccessToken).SessionID {
		t.Fatalf("claims %+v: want a fresh token of a new session", c)
	}
	sessions, err := s.Auth.Sessions(context.Background(), "alice")
	if err != nil || len(sessions) != 2 || sessions[1].ID != c.SessionID {
		t.Fatalf("sessions %+v (%v): want the login's, then the fresh-login's", sessions, err)
	}
	// The record ends with the token (exact, where exp is whole seconds).
	if got := sessions[1]; !got.Expires.Truncate(time.Second).Equal(c.ExpiresAt) || !got.IdleUntil.Equal(got.Expires) || got.Address != "192.0.2.1" {
		t.Errorf("session %+v: it ends with its token", got)
	}
	testkit.Refused(t, s.Refresh(tok.AccessToken), http.StatusUnauthorized, "invalid_token")

	if err := s.Auth.RevokeSession(context.Background(), "alice", c.SessionID); err != nil {
		t.Fatal(err)
	}
	testkit.Refused(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
	testkit.Status(t, s.Get(testkit.Protected, other.AccessToken), http.StatusOK)

	t.Run("cookie mode", func(t *testing.T) {
		s := keyedServer(t, ginfresh.WithCookies("/auth/"))
		b := &testkit.Browser{T: t, H: s.Router, Jar: testkit.Jar{}}
		testkit.Refused(t, b.Send(http.MethodPost, "/auth/fresh-login", testkit.Credentials("alice", "alice-pw")), http.StatusUnauthorized, "unauthorized")
	})
}

func TestLogout(t *testing.T) {
	tests := []struct {
		name       string
		revocation bool
		token      func(ginfresh.Tokens) string
	}{
		{"refresh token", false, func(tok ginfresh.Tokens) string { return tok.RefreshToken }},
		// The access token names the session as well, so a client that
		// lost its refresh token can still end it.
		{"access token", false, func(tok ginfresh.Tokens) string { return tok.AccessToken }},
		{"refresh token, access revocation", true, func(tok ginfresh.Tokens) string { return tok.RefreshToken }},
		{"access token, access revocation", true, func(tok ginfresh.Tokens) string { return tok.AccessToken }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := jsonLogger()
			opts := []ginfresh.Option{ginfresh.WithLogger(logger)}
			if tt.revocation {
				opts = append(opts, ginfresh.WithAccessRevocation())
			}
			s := keyedServer(t, opts...)
			tok, other := s.Login(t, "alice"), s.Login(t, "alice")
			testkit.Status(t, s.Post("/auth/logout", tt.token(tok), ""), http.StatusNoContent)
			testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
			if tt.revocation {
				testkit.Refused(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
			} else {
				// Without access revocation access tokens live until exp.
				testkit.Status(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
			}
			testkit.Status(t, s.Refresh(other.RefreshToken), http.StatusOK)
			if !strings.Contains(logs.String(), `"msg":"ginfresh: logout"`) || strings.Contains(logs.String(), tt.token(tok)) {
				t.Errorf("log %s: want the logout, never the token", logs)
			}
			// A retry of a logout that went through (its answer lost, say)
			// is no error, with either token, even one now refused.
			testkit.Status(t, s.Post("/auth/logout", tt.token(tok), ""), http.StatusNoContent)
			testkit.Status(t, s.Post("/auth/logout", tok.RefreshToken, ""), http.StatusNoContent)
		})
	}

	t.Run("refusals", func(t *testing.T) {
		s := keyedServer(t)
		tok := s.Login(t, "alice")
		foreign := keyedServerWithKey(t, []byte("another-key-0123456789-0123456789-0123")).Login(t, "alice")
		for _, tt := range []struct {
			name       string
			req        testkit.Request
			wantStatus int
			wantCode   string
		}{
			{"no token", testkit.Request{}, 401, "unauthorized"},
			{"garbage", testkit.Request{Token: "garbage"}, 401, "invalid_token"},
			{"another Auth's token", testkit.Request{Token: foreign.RefreshToken}, 401, "invalid_token"},
			{"two headers", testkit.Request{Header: http.Header{"Authorization": {"Bearer " + tok.RefreshToken, "Bearer " + tok.RefreshToken}}}, 400, "invalid_request"},
			// The token only: a body naming one is not read.
			{"token in the body", testkit.Request{Body: `{"refresh_token":"` + tok.RefreshToken + `"}`}, 401, "unauthorized"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				tt.req.Method, tt.req.Path = http.MethodPost, "/auth/logout"
				testkit.Refused(t, s.Do(tt.req), tt.wantStatus, tt.wantCode)
			})
		}
		testkit.Status(t, s.Refresh(tok.RefreshToken), http.StatusOK)

		s.Clock.Advance(8 * 24 * time.Hour)
		testkit.Refused(t, s.Post("/auth/logout", tok.RefreshToken, ""), http.StatusUnauthorized, "invalid_token")
	})
}

// keyedServerWithKey is keyedServer with another HMAC key: an Auth whose
// tokens the usual ones must refuse.
func keyedServerWithKey(t testing.TB, key []byte, opts ...ginfresh.Option) *testkit.Server {
	t.Helper()
	return testkit.NewServer(t, testkit.NewClock(), false, append([]ginfresh.Option{ginfresh.WithHMACKey(key)}, opts...)...)
}

// TestLoginTokensRefusedByAnotherAuth: tokens minted by one Auth (here by Auth.Login)
// are refused by an Auth with another key, at every endpoint.
func TestLoginTokensRefusedByAnotherAuth(t *testing.T) {
	issuer := keyedServerWithKey(t, []byte("issuer-key-0123456789-0123456789-012345"))
	issuer.Router.POST("/signup", func(c *gin.Context) {
		issuer.Auth.Login(c, "alice", func() (ginfresh.Identity, error) { return ginfresh.Identity{Subject: "alice"}, nil })
	})
	w := issuer.Do(testkit.Request{Method: http.MethodPost, Path: "/signup"})
	testkit.Status(t, w, http.StatusOK)
	tok := testkit.DecodeTokens(t, w)

	s := keyedServer(t)
	testkit.Refused(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, s.Post("/auth/fresh-login", tok.AccessToken, testkit.Credentials("alice", "alice-pw")), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, s.Post("/auth/logout", tok.AccessToken, ""), http.StatusUnauthorized, "invalid_token")
	testkit.Status(t, issuer.Refresh(tok.RefreshToken), http.StatusOK)
}

// TestAuthenticatorFailure: an authenticator that cannot decide is not a
// wrong password: 503, and its error stays inside.
func TestAuthenticatorFailure(t *testing.T) {
	s := bareServer(t, ginfresh.WithAuthenticator(func(*gin.Context, *ginfresh.LoginRequest) (ginfresh.Identity, error) {
		return ginfresh.Identity{}, errors.New("database is down")
	}))
	held, err := s.Auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []testkit.Request{
		{Path: "/auth/login"},
		{Path: "/auth/fresh-login"},
		{Path: "/auth/fresh-login", Token: held.AccessToken},
	} {
		req.Method, req.Body = http.MethodPost, testkit.Credentials("alice", "alice-pw")
		w := s.Do(req)
		testkit.Refused(t, w, http.StatusServiceUnavailable, "temporarily_unavailable")
		if strings.Contains(w.Body.String(), "database") {
			t.Errorf("%s: the answer reveals %s", req.Path, w.Body)
		}
	}
}
