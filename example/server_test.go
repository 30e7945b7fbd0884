package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh/example/api"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testSecret = []byte("example-test-secret-0123456789abcdef")

func newTestServer(t *testing.T) (*gin.Engine, *testClock) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	clk := &testClock{t: time.Now().Truncate(time.Second)}
	r, err := newServer(config{secret: testSecret, now: clk.now})
	require.NoError(t, err)
	return r, clk
}

func call(t *testing.T, r http.Handler, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	w := do(r, method, path, token, body, nil)
	var out map[string]any
	if w.Body.Len() > 0 {
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), w.Body.String())
	}
	return w.Code, out
}

func do(r http.Handler, method, path, token, body string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func login(t *testing.T, r http.Handler, user, password string) (access, refresh string) {
	t.Helper()
	code, tok := call(t, r, "POST", "/login", "", `{"username":"`+user+`","password":"`+password+`"}`)
	require.Equal(t, 200, code, tok)
	return tok["access_token"].(string), tok["refresh_token"].(string)
}

func TestSeedFlow(t *testing.T) {
	r, clk := newTestServer(t)
	code, _ := call(t, r, "GET", "/", "", "")
	assert.Equal(t, 200, code)

	access, refresh := login(t, r, "test", "test")
	code, body := call(t, r, "GET", "/protected", access, "")
	require.Equal(t, 200, code)
	assert.Equal(t, "test", body["user"])
	assert.Equal(t, true, body["fresh"])
	code, _ = call(t, r, "GET", "/protected-fresh", access, "")
	assert.Equal(t, 200, code)

	clk.advance(time.Minute)
	code, tok := call(t, r, "POST", "/refresh", refresh, "")
	require.Equal(t, 200, code)
	stale := tok["access_token"].(string)
	assert.NotEmpty(t, tok["refresh_token"])

	code, body = call(t, r, "GET", "/protected", stale, "")
	require.Equal(t, 200, code)
	assert.Equal(t, false, body["fresh"])
	code, body = call(t, r, "GET", "/protected-fresh", stale, "")
	assert.Equal(t, 401, code)
	assert.Equal(t, "insufficient_user_authentication", body["error"])

	code, _ = call(t, r, "POST", "/fresh-login", stale, `{"username":"test","password":"wrong"}`)
	assert.Equal(t, 401, code)
	code, tok = call(t, r, "POST", "/fresh-login", stale, `{"username":"test","password":"test"}`)
	require.Equal(t, 200, code)
	assert.NotContains(t, tok, "refresh_token")
	code, _ = call(t, r, "GET", "/protected-fresh", tok["access_token"].(string), "")
	assert.Equal(t, 200, code)

	code, _ = call(t, r, "POST", "/refresh", refresh, "")
	assert.Equal(t, 401, code, "the first refresh token was retired")
}

func TestFreshLoginOtherUser(t *testing.T) {
	r, _ := newTestServer(t)
	access, _ := login(t, r, "user1", "password1")
	code, body := call(t, r, "POST", "/fresh-login", access, `{"username":"user2","password":"password2"}`)
	assert.Equal(t, 403, code)
	assert.Equal(t, "access_denied", body["error"])
}

// Payments need a fresh login with a password and a one-time code (acr
// "mfa"), at most five minutes old; the refusal says so in its challenge.
func TestPaymentsNeedAOneTimeCode(t *testing.T) {
	r, clk := newTestServer(t)
	access, _ := login(t, r, "user1", "password1")
	w := do(r, "POST", "/payments", access, "", nil)
	assert.Equal(t, 401, w.Code)
	assert.Contains(t, w.Header().Get("WWW-Authenticate"), `acr_values="mfa"`)
	assert.Contains(t, w.Header().Get("WWW-Authenticate"), `max_age=300`)

	code, _ := call(t, r, "POST", "/fresh-login", access, `{"username":"user1","password":"password1","otp":"000000"}`)
	assert.Equal(t, 401, code, "a wrong code")
	otp, err := totp.GenerateCode(api.DemoTOTPSecret, time.Now())
	require.NoError(t, err)
	code, tok := call(t, r, "POST", "/fresh-login", access, `{"username":"user1","password":"password1","otp":"`+otp+`"}`)
	require.Equal(t, 200, code, tok)
	mfa := tok["access_token"].(string)
	code, body := call(t, r, "POST", "/payments", mfa, "")
	require.Equal(t, 200, code, body)
	assert.Equal(t, true, body["paid"])

	clk.advance(6 * time.Minute)
	code, _ = call(t, r, "POST", "/payments", mfa, "")
	assert.Equal(t, 401, code, "the code proved the user too long ago")

	// user2 has no one-time code: a code is refused, and payments stay shut.
	code, _ = call(t, r, "POST", "/fresh-login", "", `{"username":"user2","password":"password2","otp":"`+otp+`"}`)
	assert.Equal(t, 401, code)
}

func TestChangePassword(t *testing.T) {
	r, clk := newTestServer(t)
	first, firstRefresh := login(t, r, "user2", "password2")
	clk.advance(time.Second)
	access, refresh := login(t, r, "user2", "password2")

	for _, body := range []string{`{"current_password":"password2","new_password":"short"}`, `{"nope":1}`, `{"new_password":"a-much-better-one"}`} {
		code, _ := call(t, r, "POST", "/account/change-password", access, body)
		assert.Equal(t, 400, code, body)
	}
	code, _ := call(t, r, "POST", "/account/change-password", access, `{"current_password":"wrong","new_password":"a-much-better-one"}`)
	assert.Equal(t, 401, code, "the current password is required")

	clk.advance(6 * time.Minute)
	w := do(r, "POST", "/account/change-password", access, `{"current_password":"password2","new_password":"a-much-better-one"}`, nil)
	assert.Equal(t, 401, w.Code, "a fresh token older than five minutes is not enough")
	assert.Contains(t, w.Header().Get("WWW-Authenticate"), "max_age=300")

	code, tok := call(t, r, "POST", "/fresh-login", access, `{"username":"user2","password":"password2"}`)
	require.Equal(t, 200, code)
	fresh := tok["access_token"].(string)
	code, _ = call(t, r, "POST", "/account/change-password", fresh, `{"current_password":"password2","new_password":"a-much-better-one"}`)
	require.Equal(t, 200, code)

	for _, tc := range []struct{ method, path, token string }{
		{"GET", "/protected", fresh}, {"GET", "/protected", first},
		{"POST", "/refresh", refresh}, {"POST", "/refresh", firstRefresh},
	} {
		code, body := call(t, r, tc.method, tc.path, tc.token, "")
		assert.Equal(t, 401, code, "%s %s after the password change", tc.method, tc.path)
		assert.Equal(t, "invalid_token", body["error"])
	}
	clk.advance(time.Microsecond) // a login after the change, on a frozen clock
	code, _ = call(t, r, "POST", "/login", "", `{"username":"user2","password":"password2"}`)
	assert.Equal(t, 401, code, "the old password is gone")
	again, _ := login(t, r, "user2", "a-much-better-one")
	code, _ = call(t, r, "GET", "/protected", again, "")
	assert.Equal(t, 200, code, "a login after the change is a new session")
}

// The devices list shows every session of the user, marks the one asking,
// and signs another out with a fresh token; nobody signs out another
// user's device.
func TestSessions(t *testing.T) {
	r, clk := newTestServer(t)
	laptop := do(r, "POST", "/login", "", `{"username":"test","password":"test"}`, http.Header{"User-Agent": {"Firefox on a laptop"}})
	require.Equal(t, 200, laptop.Code)
	var lt map[string]any
	require.NoError(t, json.Unmarshal(laptop.Body.Bytes(), &lt))
	clk.advance(time.Second)
	phone, _ := login(t, r, "test", "test")
	other, _ := login(t, r, "user1", "password1")

	code, body := call(t, r, "GET", "/sessions", phone, "")
	require.Equal(t, 200, code)
	list := body["sessions"].([]any)
	require.Len(t, list, 2)
	first, second := list[0].(map[string]any), list[1].(map[string]any)
	assert.Equal(t, "Firefox on a laptop", first["user_agent"])
	assert.Equal(t, false, first["current"])
	assert.Equal(t, true, second["current"])

	code, _ = call(t, r, "DELETE", "/sessions/"+first["id"].(string), other, "")
	assert.Equal(t, 404, code, "another user's device")
	clk.advance(time.Minute)
	code, _ = call(t, r, "POST", "/refresh", lt["refresh_token"].(string), "")
	require.Equal(t, 200, code, "the laptop refreshed")
	code, _ = call(t, r, "DELETE", "/sessions/"+first["id"].(string), phone, "")
	assert.Equal(t, 204, code)
	code, _ = call(t, r, "GET", "/protected", lt["access_token"].(string), "")
	assert.Equal(t, 401, code, "the laptop's tokens end at once")
	code, _ = call(t, r, "GET", "/protected", phone, "")
	assert.Equal(t, 200, code)
}

func TestLogout(t *testing.T) {
	r, _ := newTestServer(t)
	access, refresh := login(t, r, "user1", "password1")
	code, _ := call(t, r, "POST", "/logout", refresh, "")
	assert.Equal(t, 204, code)
	code, _ = call(t, r, "POST", "/refresh", refresh, "")
	assert.Equal(t, 401, code)
	code, _ = call(t, r, "GET", "/protected", access, "")
	assert.Equal(t, 401, code)
}

func TestShortSecretRefused(t *testing.T) {
	_, err := newServer(config{secret: []byte("too-short")})
	assert.ErrorContains(t, err, "at least 32")
}

func TestPublicRoute(t *testing.T) {
	r, clk := newTestServer(t)
	for _, token := range []string{"", "not-a-token"} {
		code, body := call(t, r, "GET", "/public", token, "")
		assert.Equal(t, 200, code, "token %q", token)
		assert.Equal(t, map[string]any{"user": "anonymous", "fresh": false, "acr": "", "sid": "",
			"auth_time": 0.0, "expires_at": 0.0, "now": float64(clk.now().Unix())}, body)
	}
	// A valid token is read on a public route too: it says who asks.
	access, _ := login(t, r, "test", "test")
	code, body := call(t, r, "GET", "/public", access, "")
	assert.Equal(t, 200, code)
	assert.Equal(t, "test", body["user"])
}

// A validly signed token that lacks auth_time, acr and the rest answers
// on every route (the claims hold zero values), and a panic answers 500
// without putting the request's headers (cookies, tokens) in the log.
func TestNoPanicNoLeak(t *testing.T) {
	// Debug mode, where gin's own Recovery would dump the request.
	gin.SetMode(gin.DebugMode)
	defer gin.SetMode(gin.TestMode)
	gin.DefaultWriter = io.Discard
	defer func() { gin.DefaultWriter = os.Stdout }()
	var logs bytes.Buffer
	r, err := newServer(config{secret: testSecret, log: slog.New(slog.NewJSONHandler(&logs, nil))})
	require.NoError(t, err)
	access, _ := login(t, r, "test", "test")
	kid := tokenHeader(t, access)["kid"]
	claims := jwt.MapClaims{"sub": "test", "jti": "j", "sid": "s", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"], tok.Header["typ"] = kid, "at+jwt"
	bare, err := tok.SignedString(testSecret)
	require.NoError(t, err)
	for _, path := range []string{"/protected", "/browser/protected", "/sessions"} {
		w := do(r, "GET", path, bare, "", nil)
		assert.Less(t, w.Code, 500, "%s: %d %s", path, w.Code, w.Body)
	}
	w := do(r, "POST", "/payments", bare, "", nil)
	assert.Equal(t, 401, w.Code)

	// A handler that panics: 500, and the log names the panic, not the
	// request's cookies or Authorization header.
	r.GET("/boom", func(*gin.Context) { panic("boom") })
	w = do(r, "GET", "/boom", access, "", http.Header{"Cookie": {"__Host-access-token=" + access}})
	assert.Equal(t, 500, w.Code)
	assert.Contains(t, logs.String(), "boom")
	assert.NotContains(t, logs.String(), access)
	assert.NotContains(t, logs.String(), "Cookie")
}

func tokenHeader(t *testing.T, token string) map[string]string {
	t.Helper()
	p, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	require.NoError(t, err)
	out := map[string]string{}
	for k, v := range p.Header {
		out[k], _ = v.(string)
	}
	return out
}
