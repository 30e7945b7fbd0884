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

// Jar is one browser's cookies, enough of RFC 6265 for tests: it honours
// Path and deletes on a negative Max-Age.
type Jar map[string]*http.Cookie

// Update keeps the cookies w sets.
func (j Jar) Update(t testing.TB, w *httptest.ResponseRecorder) {
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

// Header is the Cookie header a browser sends to path.
func (j Jar) Header(path string) string {
	var pairs []string
	for _, c := range j {
		if strings.HasPrefix(path, c.Path) {
			pairs = append(pairs, c.Name+"="+c.Value)
		}
	}
	return strings.Join(pairs, "; ")
}

// browser is one same-origin page in cookie mode: it keeps the cookies the
// server sets (honouring Path and deletion) and repeats the CSRF cookie in
// the X-CSRF-Token header on unsafe methods, as the page's script would.
type browser struct {
	t   *testing.T
	s   *Server
	jar Jar
	// csrf off leaves the header out, as a forged request would.
	csrf bool
}

func (b *browser) send(method, path, body string) *httptest.ResponseRecorder {
	b.t.Helper()
	r := newRequest(method, path, body)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	if ck := b.jar.Header(path); ck != "" {
		r.Header.Set("Cookie", ck)
	}
	if c, ok := b.jar[ginfresh.DefaultCSRFCookie]; ok && b.csrf && method != http.MethodGet {
		r.Header.Set(ginfresh.CSRFHeader, c.Value)
	}
	w := httptest.NewRecorder()
	b.s.router.ServeHTTP(w, r)
	b.jar.Update(b.t, w)
	return w
}

// testCookies runs the flow in cookie mode: the format must not change what
// the cookies carry, how CSRF is enforced or what freshness means.
func testCookies(t *testing.T, f Factory) {
	s := f.server(t, ginfresh.WithCookies("/auth/"))
	b := &browser{t: t, s: s, jar: Jar{}, csrf: true}

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
	replay := &browser{t: t, s: s, jar: Jar{}, csrf: true}
	for name, c := range b.jar {
		replay.jar[name] = c
	}
	replay.jar[ginfresh.DefaultRefreshCookie] = &http.Cookie{Name: ginfresh.DefaultRefreshCookie, Value: oldRefresh, Path: "/auth/"}
	RequireRefused(t, replay.send(http.MethodPost, "/auth/refresh", ""), http.StatusUnauthorized, "invalid_token")
	assert.NotContains(t, replay.jar, ginfresh.DefaultRefreshCookie)
	RequireRefused(t, b.send(http.MethodPost, "/auth/refresh", ""), http.StatusUnauthorized, "invalid_token")

	// Logout of a new session clears every cookie and ends the session.
	b.jar = Jar{}
	require.Equal(t, http.StatusOK, b.send(http.MethodPost, "/auth/login", credentials("alice", "alice-pw")).Code)
	refresh := b.jar[ginfresh.DefaultRefreshCookie].Value
	assert.Equal(t, http.StatusNoContent, b.send(http.MethodPost, "/auth/logout", "").Code)
	assert.Empty(t, b.jar, "logout clears the cookies")
	RequireRefused(t, s.refresh(refresh), http.StatusUnauthorized, "invalid_token")
}
