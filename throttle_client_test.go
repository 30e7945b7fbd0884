package ginfresh_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

func forwardedFor(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

// By default the throttle counts the TCP peer: a client naming a new
// address in X-Forwarded-For with every guess still meets the limit.
func TestThrottleIgnoresForwardedFor(t *testing.T) {
	var calls atomic.Int32
	logs := &capture{}
	f := newFixture(t, countingAuthenticator(&calls), ginfresh.WithLogger(slog.New(logs)))
	for i := range 50 {
		w := f.do(request{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "guess"),
			remoteAddr: attacker, header: forwardedFor(fmt.Sprintf("10.0.%d.%d", i/250, i%250))})
		if i < ginfresh.DefaultAccountAttempts {
			require.Equal(t, http.StatusUnauthorized, w.Code, "attempt %d", i+1)
		} else {
			requireThrottled(t, w)
		}
	}
	assert.Equal(t, int32(ginfresh.DefaultAccountAttempts), calls.Load(), "guesses past the limit never reach the authenticator")
	for _, r := range append(logs.find("login failed"), logs.find("login throttled")...) {
		require.Equal(t, "198.51.100.7", r.attrs["client"], "the log names the client the throttle counted")
	}
}

// Behind a proxy the app opts in to gin's ClientIP once gin knows which
// proxies to believe; the clients behind it then count apart.
func TestThrottleClientIPBehindTrustedProxy(t *testing.T) {
	logs := &capture{}
	f := newFixture(t, ginfresh.WithLogger(slog.New(logs)),
		ginfresh.WithLoginThrottle(ginfresh.Throttle{ClientAddress: (*gin.Context).ClientIP}))
	const proxy = "192.0.2.10:443"
	require.NoError(t, f.router.SetTrustedProxies([]string{"192.0.2.10"}))
	login := func(client, pw string) int {
		return f.do(request{method: http.MethodPost, path: "/auth/login", body: credentials("alice", pw),
			remoteAddr: proxy, header: forwardedFor(client)}).Code
	}
	for range ginfresh.DefaultAccountAttempts {
		require.Equal(t, http.StatusUnauthorized, login("198.51.100.7", "guess"))
	}
	assert.Equal(t, http.StatusTooManyRequests, login("198.51.100.7", "guess"))
	assert.Equal(t, http.StatusOK, login("203.0.113.9", "alice-pw"), "another client behind the same proxy")
	failed := logs.find("login failed")
	require.NotEmpty(t, failed)
	assert.Equal(t, "198.51.100.7", failed[0].attrs["client"])
	assert.Equal(t, "203.0.113.9", logs.find("login")[0].attrs["client"])
}

// A login with no client address is refused, not counted with every other
// such login; with the throttle off there is nothing to count.
func TestThrottleEmptyClientAddress(t *testing.T) {
	noAddress := func(*gin.Context) string { return "" }
	var calls atomic.Int32
	f := newFixture(t, countingAuthenticator(&calls), ginfresh.WithLoginThrottle(ginfresh.Throttle{ClientAddress: noAddress}))
	for _, path := range []string{"/auth/login", "/auth/fresh-login"} {
		w := f.do(request{method: http.MethodPost, path: path, body: credentials("alice", "alice-pw")})
		assert.Equal(t, http.StatusBadRequest, w.Code, path)
		assert.Equal(t, "invalid_request", errorCode(t, w), path)
	}
	assert.Zero(t, calls.Load(), "an uncounted attempt never reaches the authenticator")

	var got error
	f = newFixture(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{ClientAddress: noAddress}),
		ginfresh.WithErrorHandler(func(c *gin.Context, err error) { got = err; c.Status(http.StatusBadRequest) }))
	f.do(request{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "alice-pw")})
	assert.ErrorIs(t, got, ginfresh.ErrInvalidRequest)
	assert.ErrorContains(t, got, "Throttle.ClientAddress")

	// The default over a connection without an IP address (a Unix socket).
	f = newFixture(t)
	w := f.do(request{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "alice-pw"), remoteAddr: "@"})
	assert.Equal(t, http.StatusBadRequest, w.Code)

	f = newFixture(t, ginfresh.WithoutLoginThrottle())
	w = f.do(request{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "alice-pw"), remoteAddr: "@"})
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
}
