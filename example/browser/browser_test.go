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
	"github.com/ginfresh/ginfresh/example/browser"
	"github.com/ginfresh/ginfresh/formattest"
)

func mount(t *testing.T) (*gin.Engine, *browser.Demo, *time.Time) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	r := gin.New()
	d, err := browser.Mount(r, clock,
		ginfresh.WithHMACKey([]byte("browser-test-secret-0123456789abcdef")),
		ginfresh.WithTimeFunc(clock),
		ginfresh.WithAuthenticator(func(_ *gin.Context, user, pass string) (ginfresh.Identity, error) {
			if user == "alice" && pass == "alice-pw" {
				return ginfresh.Identity{Subject: "alice"}, nil
			}
			return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
		}),
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

// TestRoutes walks the page's flow over httptest; the e2e module walks it
// in Chromium.
func TestRoutes(t *testing.T) {
	r, d, now := mount(t)
	cookies := formattest.Jar{}
	send := func(method, path, body string, csrf bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Cookie", cookies.Header(path))
		if c, ok := cookies[ginfresh.DefaultCSRFCookie]; ok && csrf {
			req.Header.Set("X-CSRF-Token", c.Value)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		cookies.Update(t, w)
		return w
	}

	w := send("POST", "/browser/login", `{"username":"alice","password":"alice-pw"}`, false)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Len(t, cookies, 3)
	for _, c := range w.Result().Cookies() {
		if c.Name == ginfresh.DefaultRefreshCookie {
			assert.Equal(t, browser.RefreshPath, c.Path)
		}
	}

	w = send("GET", "/browser/protected", "", false)
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"user":"alice","fresh":true,"auth_time":1893456000,"expires_at":1893456900,"now":1893456000}`, w.Body.String())

	w = send("POST", "/browser/protected-fresh", "", false)
	assert.Equal(t, http.StatusForbidden, w.Code, "no CSRF header")
	assert.Equal(t, int64(1), d.Refused())
	assert.Equal(t, int64(0), d.Actions())

	*now = now.Add(16 * time.Minute)
	w = send("POST", "/browser/protected-fresh", "", true)
	assert.Equal(t, http.StatusUnauthorized, w.Code, "expired")
	require.Equal(t, http.StatusOK, send("POST", "/browser/refresh", "", true).Code)
	w = send("POST", "/browser/protected-fresh", "", true)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Contains(t, w.Body.String(), "insufficient_user_authentication")

	require.Equal(t, http.StatusOK, send("POST", "/browser/fresh-login", `{"username":"alice","password":"alice-pw"}`, true).Code)
	w = send("POST", "/browser/protected-fresh", "", true)
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"user":"alice","action":"done","actions":1}`, w.Body.String())
	assert.Equal(t, int64(1), d.Actions())

	require.Equal(t, http.StatusNoContent, send("POST", "/browser/logout", "", true).Code)
	assert.Empty(t, cookies)
	assert.Equal(t, http.StatusUnauthorized, send("GET", "/browser/protected", "", false).Code)
}
