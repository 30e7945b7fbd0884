package formattest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// browser is one same-origin page in cookie mode: it keeps the cookies the
// server sets (honouring Path and deletion) and repeats the CSRF cookie in
// the X-CSRF-Token header on unsafe methods, as the page's script would.
type browser struct {
	t   *testing.T
	s   *Server
	jar map[string]*http.Cookie
	// csrf off leaves the header out, as a forged request would.
	csrf bool
}

func (b *browser) send(method, path, body string) *httptest.ResponseRecorder {
	b.t.Helper()
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	for _, c := range b.jar {
		if strings.HasPrefix(path, c.Path) {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	if c, ok := b.jar[ginfresh.DefaultCSRFCookie]; ok && b.csrf && method != http.MethodGet {
		r.Header.Set(ginfresh.CSRFHeader, c.Value)
	}
	w := httptest.NewRecorder()
	b.s.router.ServeHTTP(w, r)
	for _, line := range w.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		require.NoError(b.t, err)
		if c.MaxAge < 0 {
			delete(b.jar, c.Name)
		} else {
			b.jar[c.Name] = c
		}
	}
	return w
}

// testCookies runs the flow in cookie mode: the format must not change what
// the cookies carry, how CSRF is enforced or what freshness means.
func testCookies(t *testing.T, f Factory) {
	s := f.server(t, ginfresh.WithCookies("/auth/"))
	b := &browser{t: t, s: s, jar: map[string]*http.Cookie{}, csrf: true}

	w := b.send(http.MethodPost, "/auth/login", credentials("alice", "alice-pw"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.NotContains(t, w.Body.String(), "access_token", "cookie mode keeps tokens out of the body")
	for _, name := range []string{ginfresh.DefaultAccessCookie, ginfresh.DefaultRefreshCookie, ginfresh.DefaultCSRFCookie} {
		require.Contains(t, b.jar, name)
	}
	assert.Equal(t, "/auth/", b.jar[ginfresh.DefaultRefreshCookie].Path)
	loginAccess := b.jar[ginfresh.DefaultAccessCookie].Value
	assert.True(t, s.claims(t, ginfresh.AccessToken, loginAccess).Fresh)

	w = b.send(http.MethodGet, "/protected", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"user":"alice","fresh":true,"role":"admin"}`, w.Body.String())
	assert.Equal(t, http.StatusOK, b.send(http.MethodPost, "/sensitive", "").Code)

	b.csrf = false
	RequireRefused(t, b.send(http.MethodPost, "/sensitive", ""), http.StatusForbidden, "csrf_check_failed")
	b.csrf = true

	s.Clock.Advance(time.Minute)
	oldRefresh := b.jar[ginfresh.DefaultRefreshCookie].Value
	w = b.send(http.MethodPost, "/auth/refresh", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	refreshed := s.claims(t, ginfresh.AccessToken, b.jar[ginfresh.DefaultAccessCookie].Value)
	assert.False(t, refreshed.Fresh)
	assert.True(t, refreshed.AuthTime.Equal(s.claims(t, ginfresh.AccessToken, loginAccess).AuthTime.Time), "auth_time survives the refresh")
	assert.NotEqual(t, oldRefresh, b.jar[ginfresh.DefaultRefreshCookie].Value, "the refresh cookie rotates")
	RequireRefused(t, b.send(http.MethodPost, "/sensitive", ""), http.StatusUnauthorized, "insufficient_user_authentication")

	w = b.send(http.MethodPost, "/auth/fresh-login", credentials("alice", "alice-pw"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, http.StatusOK, b.send(http.MethodPost, "/sensitive", "").Code)

	// A replayed refresh cookie ends the session and clears the cookies.
	replay := &browser{t: t, s: s, jar: map[string]*http.Cookie{}, csrf: true}
	for name, c := range b.jar {
		replay.jar[name] = c
	}
	replay.jar[ginfresh.DefaultRefreshCookie] = &http.Cookie{Name: ginfresh.DefaultRefreshCookie, Value: oldRefresh, Path: "/auth/"}
	RequireRefused(t, replay.send(http.MethodPost, "/auth/refresh", ""), http.StatusUnauthorized, "invalid_token")
	assert.NotContains(t, replay.jar, ginfresh.DefaultRefreshCookie)
	RequireRefused(t, b.send(http.MethodPost, "/auth/refresh", ""), http.StatusUnauthorized, "invalid_token")

	// Logout of a new session clears every cookie and ends the session.
	b.jar = map[string]*http.Cookie{}
	require.Equal(t, http.StatusOK, b.send(http.MethodPost, "/auth/login", credentials("alice", "alice-pw")).Code)
	refresh := b.jar[ginfresh.DefaultRefreshCookie].Value
	assert.Equal(t, http.StatusNoContent, b.send(http.MethodPost, "/auth/logout", "").Code)
	assert.Empty(t, b.jar, "logout clears the cookies")
	RequireRefused(t, s.refresh(refresh), http.StatusUnauthorized, "invalid_token")
}
