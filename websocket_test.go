package ginfresh_test

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// TestWebSocketHandshakeOrigin: a WebSocket handshake is a GET, which the
// cross-origin check lets through, yet a page on any site can open one with
// the browser's cookies. With SameSite=None nothing but the Origin check
// stands between such a page and the socket.
func TestWebSocketHandshakeOrigin(t *testing.T) {
	const trusted = "https://app.example"
	b := newBrowser(t,
		ginfresh.WithCookieSameSite(http.SameSiteNoneMode),
		ginfresh.WithTrustedOrigins(trusted),
		ginfresh.WithTokenSources(ginfresh.FromHeader(), ginfresh.FromCookie(), ginfresh.UnsafeFromQuery("access_token")),
	)
	w := b.login("alice")
	access := b.jar[accessCookie].Value
	require.NotEmpty(t, access, w.Header())
	var refusal error // what the guard refused with, kept by gin
	record := func(c *gin.Context) {
		c.Next()
		if last := c.Errors.Last(); last != nil {
			refusal = last.Err
		}
	}
	b.f.router.GET("/ws", record, b.f.auth.RequireAccess(), func(c *gin.Context) {
		c.String(http.StatusOK, "hello "+ginfresh.MustClaims(c).Subject)
	})
	cookie := accessCookie + "=" + access
	handshake := func(h http.Header) http.Header {
		h.Set("Upgrade", "websocket")
		h.Set("Connection", "Upgrade")
		h.Set("Sec-Fetch-Mode", "websocket")
		return h
	}

	for _, tt := range []struct {
		name       string
		path       string
		header     http.Header
		wantStatus int
		wantErr    string
	}{
		{"cookie from another site", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}), 403, "csrf_check_failed"},
		{"cookie from a sibling site", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example.com"}, "Sec-Fetch-Site": {"same-site"}}), 403, "csrf_check_failed"},
		{"cookie, no Origin", "/ws", handshake(http.Header{"Cookie": {cookie}}), 403, "csrf_check_failed"},
		{"cookie, opaque Origin", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {"null"}}), 403, "csrf_check_failed"},
		{"cookie, two Origins", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {"https://example.com", "https://evil.example"}}), 403, "csrf_check_failed"},
		{"cookie, same origin", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {"https://example.com"}, "Sec-Fetch-Site": {"same-origin"}}), 200, ""},
		{"cookie, trusted origin", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {trusted}, "Sec-Fetch-Site": {"cross-site"}}), 200, ""},
		// A plain GET stays safe by definition: the answer is the page's,
		// CORS keeps it from the other site.
		{"cookie, plain GET from another site", "/ws", http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}, 200, ""},
		// Neither the header nor the URL is filled in by the browser, so a
		// page that can send them holds the token already.
		{"header from another site", "/ws", handshake(http.Header{"Authorization": {"Bearer " + access}, "Origin": {"https://evil.example"}}), 200, ""},
		{"query from another site", "/ws?access_token=" + access, handshake(http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}), 200, ""},
		{"query, no Origin", "/ws?access_token=" + access, handshake(http.Header{}), 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			refusal = nil
			w := b.f.do(request{path: tt.path, header: tt.header})
			require.Equal(t, tt.wantStatus, w.Code, w.Body.String())
			if tt.wantErr != "" {
				assert.Equal(t, tt.wantErr, errorCode(t, w))
				assert.ErrorIs(t, refusal, ginfresh.ErrCSRF)
			} else {
				assert.Equal(t, "hello alice", w.Body.String())
			}
		})
	}
}
