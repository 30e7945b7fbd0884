package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example serves the browser demo beside the header-mode API, on the
// same users.
func TestBrowserDemoMounted(t *testing.T) {
	r, _ := newTestServer(t)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/app", nil))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "ginfresh browser demo")

	w = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/browser/login", strings.NewReader(`{"username":"test","password":"test"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	r.ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var names []string
	for _, c := range w.Result().Cookies() {
		names = append(names, c.Name)
	}
	assert.ElementsMatch(t, []string{"__Host-access-token", "__Secure-refresh-token", "__Host-csrf-token"}, names)
	assert.NotContains(t, w.Body.String(), "access_token")

	// The header-mode login stays as it was: tokens in the body.
	code, tok := call(t, r, "POST", "/login", "", `{"username":"test","password":"test"}`)
	require.Equal(t, http.StatusOK, code)
	assert.NotEmpty(t, tok["access_token"])
}
