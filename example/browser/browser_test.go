package browser_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/example/api"
	"github.com/ginfresh/ginfresh/example/browser"
)

func mount(t *testing.T) (*gin.Engine, *browser.Demo, *time.Time) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	r := gin.New()
	d, err := browser.Mount(r, clock, api.DemoUsers(),
		ginfresh.WithHMACKey([]byte("browser-test-secret-0123456789abcdef")),
		ginfresh.WithTimeFunc(clock),
	)
	require.NoError(t, err)
	return r, d, &now
}

func TestPage(t *testing.T) {
	r, _, _ := mount(t)
	for path, want := range map[string]string{
		"/app":         `<script src="/app/app.js" defer></script>`,
		"/app/app.js":  `"X-CSRF-Token"`,
		"/app/app.css": `.reauth`,
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusOK, w.Code, path)
		assert.Contains(t, w.Body.String(), want, path)
		assert.Contains(t, w.Header().Get("Content-Security-Policy"), "script-src 'self'", path)
		assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"), path)
	}
}

// jar is one browser's cookies: it honours Path and deletes on a negative
// Max-Age, which is all the page's flow needs.
type jar map[string]*http.Cookie

func (j jar) update(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	for _, line := range w.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err)
		if c.MaxAge < 0 {
			delete(j, c.Name)
			continue
		}
		j[c.Name] = c
	}
}

func (j jar) header(path string) string {
	var pairs []string
	for _, c := range j {
		if strings.HasPrefix(path, c.Path) {
			pairs = append(pairs, c.Name+"="+c.Value)
		}
	}
	return strings.Join(pairs, "; ")
}

const csrfCookie = "__Host-csrf-token"

// TestRoutes walks the page's flow over httptest; the e2e module walks it
// in Chromium.
func TestRoutes(t *testing.T) {
	r, d, now := mount(t)
	cookies := jar{}
	send := func(method, path, body string, csrf bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Cookie", cookies.header(path))
		if c, ok := cookies[csrfCookie]; ok && csrf {
			req.Header.Set("X-CSRF-Token", c.Value)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		cookies.update(t, w)
		return w
	}

	w := send("POST", "/browser/login", `{"username":"test","password":"test"}`, false)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Len(t, cookies, 3)
	for _, c := range w.Result().Cookies() {
		if c.Name == "__Secure-refresh-token" {
			assert.Equal(t, browser.RefreshPath, c.Path)
		}
	}

	w = send("GET", "/browser/protected", "", false)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `"fresh":true`)
	assert.Contains(t, w.Body.String(), `"auth_time":1893456000`)

	w = send("POST", "/browser/action", "", false)
	assert.Equal(t, http.StatusForbidden, w.Code, "no CSRF header")
	assert.Equal(t, int64(1), d.Refused())
	assert.Equal(t, int64(0), d.Actions())

	*now = now.Add(16 * time.Minute)
	w = send("POST", "/browser/action", "", true)
	assert.Equal(t, http.StatusUnauthorized, w.Code, "expired")
	require.Equal(t, http.StatusOK, send("POST", "/browser/refresh", "", true).Code)
	w = send("POST", "/browser/action", "", true)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Contains(t, w.Body.String(), "insufficient_user_authentication")

	w = send("POST", "/browser/fresh-login", `{"username":"test","password":"test"}`, true)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	w = send("POST", "/browser/action", "", true)
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"user":"test","action":"done","actions":1}`, w.Body.String())
	assert.Equal(t, int64(1), d.Actions())

	require.Equal(t, http.StatusNoContent, send("POST", "/browser/logout", "", true).Code)
	assert.Empty(t, cookies)
	assert.Equal(t, http.StatusUnauthorized, send("GET", "/browser/protected", "", false).Code)
}
