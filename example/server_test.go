package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func newTestServer(t *testing.T) (*gin.Engine, *testClock) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	clk := &testClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	r, err := newServer(config{secret: []byte("example-test-secret-0123456789abcdef"), now: clk.now})
	require.NoError(t, err)
	return r, clk
}

func call(t *testing.T, r http.Handler, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	var out map[string]any
	if w.Body.Len() > 0 {
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), w.Body.String())
	}
	return w.Code, out
}

func TestSeedFlow(t *testing.T) {
	r, clk := newTestServer(t)

	code, _ := call(t, r, "GET", "/", "", "")
	assert.Equal(t, 200, code)

	code, tok := call(t, r, "POST", "/login", "", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, code)
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)

	code, body := call(t, r, "GET", "/protected", access, "")
	require.Equal(t, 200, code)
	assert.Equal(t, map[string]any{"user": "test", "fresh": true}, body)
	code, _ = call(t, r, "GET", "/protected-fresh", access, "")
	assert.Equal(t, 200, code)

	clk.advance(time.Minute)
	code, tok = call(t, r, "POST", "/refresh", refresh, "")
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
	_, tok := call(t, r, "POST", "/login", "", `{"username":"user1","password":"password1"}`)
	code, body := call(t, r, "POST", "/fresh-login", tok["access_token"].(string), `{"username":"user2","password":"password2"}`)
	assert.Equal(t, 403, code)
	assert.Equal(t, "access_denied", body["error"])
}

func TestChangePasswordRevokesSessions(t *testing.T) {
	r, clk := newTestServer(t)
	_, first := call(t, r, "POST", "/login", "", `{"username":"user2","password":"password2"}`)
	clk.advance(time.Second)
	_, tok := call(t, r, "POST", "/login", "", `{"username":"user2","password":"password2"}`)
	access := tok["access_token"].(string)

	code, _ := call(t, r, "POST", "/account/change-password", access, `{"new_password":"short"}`)
	assert.Equal(t, 400, code)
	code, _ = call(t, r, "POST", "/account/change-password", access, `{"nope":1}`)
	assert.Equal(t, 400, code)

	clk.advance(time.Second)
	code, _ = call(t, r, "POST", "/account/change-password", access, `{"new_password":"a-much-better-one"}`)
	require.Equal(t, 200, code)

	for _, tc := range []struct{ method, path, token string }{
		{"GET", "/protected", access},
		{"GET", "/protected", first["access_token"].(string)},
		{"POST", "/refresh", tok["refresh_token"].(string)},
		{"POST", "/refresh", first["refresh_token"].(string)},
	} {
		code, body := call(t, r, tc.method, tc.path, tc.token, "")
		assert.Equal(t, 401, code, "%s %s after the password change", tc.method, tc.path)
		assert.Equal(t, "invalid_token", body["error"])
	}

	// The revocation covers its own millisecond (a real clock has passed
	// it by the time the handler answers); this clock needs moving by hand.
	clk.advance(time.Millisecond)
	code, _ = call(t, r, "POST", "/login", "", `{"username":"user2","password":"password2"}`)
	assert.Equal(t, 401, code, "the old password is gone")
	code, tok = call(t, r, "POST", "/login", "", `{"username":"user2","password":"a-much-better-one"}`)
	require.Equal(t, 200, code)
	code, _ = call(t, r, "GET", "/protected", tok["access_token"].(string), "")
	assert.Equal(t, 200, code, "a login after the change is a new session")
}

func TestLogout(t *testing.T) {
	r, _ := newTestServer(t)
	_, tok := call(t, r, "POST", "/login", "", `{"username":"user1","password":"password1"}`)
	code, _ := call(t, r, "POST", "/logout", tok["refresh_token"].(string), "")
	assert.Equal(t, 204, code)
	code, _ = call(t, r, "POST", "/refresh", tok["refresh_token"].(string), "")
	assert.Equal(t, 401, code)
}

func TestShortSecretRefused(t *testing.T) {
	_, err := newServer(config{secret: []byte("too-short")})
	assert.ErrorContains(t, err, "at least 32")
}

func TestPublicRoute(t *testing.T) {
	r, _ := newTestServer(t)
	for _, token := range []string{"", "not-a-token"} {
		code, body := call(t, r, "GET", "/public", token, "")
		assert.Equal(t, 200, code, "token %q", token)
		assert.Equal(t, map[string]any{"user": "anonymous", "fresh": false}, body)
	}
}
