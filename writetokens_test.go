package ginfresh_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// signUp mounts POST /signup, which signs alice in without a password
// check, as an app does right after sign-up.
func signUp(t *testing.T, f *fixture) {
	t.Helper()
	f.router.POST("/signup", func(c *gin.Context) {
		tok, err := f.auth.IssueTokens(c.Request.Context(), ginfresh.Identity{Subject: "alice"})
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		f.auth.WriteTokens(c, tok)
	})
}

func assertNoStore(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Equal(t, "no-cache", w.Header().Get("Pragma"))
}

func TestWriteTokensHeaderMode(t *testing.T) {
	f := newFixture(t)
	signUp(t, f)
	w := f.do(request{method: http.MethodPost, path: "/signup"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assertNoStore(t, w)
	assert.Empty(t, w.Header().Values("Set-Cookie"))
	tok := decodeTokens(t, w)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Equal(t, int64(ginfresh.DefaultAccessTTL.Seconds()), tok.ExpiresIn)
	assert.True(t, f.claims(t, ginfresh.AccessToken, tok.AccessToken).Fresh)

	// The same members as a login's answer.
	var signup, login map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &signup))
	lw := f.do(request{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "alice-pw")})
	require.NoError(t, json.Unmarshal(lw.Body.Bytes(), &login))
	assert.ElementsMatch(t, keys(login), keys(signup))

	// The session works.
	w = f.do(request{path: "/protected", token: tok.AccessToken})
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	w = f.refresh(t, tok.RefreshToken)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

func TestWriteTokensCookieMode(t *testing.T) {
	b := newBrowser(t)
	signUp(t, b.f)
	w := b.send(request{method: http.MethodPost, path: "/signup"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assertNoStore(t, w)
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	assert.ElementsMatch(t, []string{"expires_in", "refresh_expires_in", "csrf_token"}, keys(body))
	require.Contains(t, b.jar, csrfCookie)
	assert.Equal(t, b.jar[csrfCookie].Value, body["csrf_token"])

	// The cookies are those of a login, attribute for attribute.
	got := setCookies(t, w)
	want := setCookies(t, newBrowser(t).login("alice"))
	require.Len(t, got, 3)
	for name, c := range want {
		g, ok := got[name]
		require.True(t, ok, "cookie %s missing", name)
		assert.Equal(t, [5]any{c.Path, c.MaxAge, c.HttpOnly, c.Secure, c.SameSite}, [5]any{g.Path, g.MaxAge, g.HttpOnly, g.Secure, g.SameSite}, name)
	}

	// The session works: a guarded call, a refresh with the CSRF header,
	// a sensitive action, then a logout.
	w = b.send(request{path: "/protected"})
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	w = b.send(request{method: http.MethodPost, path: "/sensitive"})
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	w = b.send(request{method: http.MethodPost, path: "/auth/refresh"})
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	w = b.send(request{method: http.MethodPost, path: "/auth/logout"})
	assert.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
}

// TestWriteTokensRefused: tokens that could not work are not written.
func TestWriteTokensRefused(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opts   []ginfresh.Option
		tokens func(*ginfresh.Auth) *ginfresh.Tokens
	}{
		{"nil", nil, func(*ginfresh.Auth) *ginfresh.Tokens { return nil }},
		{"nil in cookie mode", []ginfresh.Option{ginfresh.WithCookies("/auth/")}, func(*ginfresh.Auth) *ginfresh.Tokens { return nil }},
		{"hand-made in cookie mode", []ginfresh.Option{ginfresh.WithCookies("/auth/")}, func(a *ginfresh.Auth) *ginfresh.Tokens {
			access, err := a.CreateAccessToken(ginfresh.Identity{Subject: "alice"}, true)
			require.NoError(t, err)
			return &ginfresh.Tokens{AccessToken: access, TokenType: "Bearer", ExpiresIn: 900}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts...)
			f.router.POST("/signup", func(c *gin.Context) { f.auth.WriteTokens(c, tt.tokens(f.auth)) })
			w := f.do(request{method: http.MethodPost, path: "/signup"})
			assert.Equal(t, http.StatusInternalServerError, w.Code)
			assert.Equal(t, "server_error", errorCode(t, w))
			assert.Empty(t, w.Header().Values("Set-Cookie"))
			assert.NotContains(t, w.Body.String(), "eyJ")
		})
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
