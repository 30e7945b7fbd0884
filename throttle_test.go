package ginfresh_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// countingAuthenticator is testAuthenticator that counts its calls, to prove
// a throttled attempt never reaches the password check.
func countingAuthenticator(n *atomic.Int32) ginfresh.Option {
	return ginfresh.WithAuthenticator(func(c *gin.Context, user, pass string) (ginfresh.Identity, error) {
		n.Add(1)
		return testAuthenticator(c, user, pass)
	})
}

func (f *fixture) loginFrom(addr, user, pw string) *httptest.ResponseRecorder {
	return f.do(request{method: http.MethodPost, path: "/auth/login", body: credentials(user, pw), remoteAddr: addr})
}

// requireThrottled checks a 429 answer and returns its Retry-After.
func requireThrottled(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, w.Code, w.Body.String())
	assert.Equal(t, "too_many_attempts", errorCode(t, w))
	assert.Empty(t, w.Header().Get("WWW-Authenticate"), "a 429 is no authentication challenge")
	require.NotEmpty(t, w.Header().Get("Retry-After"))
	return w.Header().Get("Retry-After")
}

const (
	attacker = "198.51.100.7:4242"
	victim   = "203.0.113.9:5151"
)

func TestThrottlePerAccountAndClient(t *testing.T) {
	var calls atomic.Int32
	f := newFixture(t, countingAuthenticator(&calls))
	for i := range ginfresh.DefaultAccountAttempts {
		w := f.loginFrom(attacker, "alice", "guess")
		require.Equal(t, http.StatusUnauthorized, w.Code, "attempt %d", i+1)
	}
	f.clock.Advance(5 * time.Minute)
	before := calls.Load()
	assert.Equal(t, "600", requireThrottled(t, f.loginFrom(attacker, "alice", "alice-pw")),
		"the window started with the first attempt, 5 of its 15 minutes ago")
	assert.Equal(t, before, calls.Load(), "a throttled attempt never reaches the authenticator, so even the right password is refused")
	requireThrottled(t, f.do(request{method: http.MethodPost, path: "/auth/fresh-login", body: credentials("alice", "alice-pw"), remoteAddr: attacker}))
	requireThrottled(t, f.loginFrom(attacker, " ALICE ", "guess"))

	assert.Equal(t, http.StatusOK, f.loginFrom(victim, "alice", "alice-pw").Code,
		"the attacker cannot lock the user's own client out")
	assert.Equal(t, http.StatusUnauthorized, f.loginFrom(attacker, "bob", "guess").Code,
		"other accounts are untouched at the attacker's address")

	f.clock.Advance(10 * time.Minute)
	assert.Equal(t, http.StatusOK, f.loginFrom(attacker, "alice", "alice-pw").Code, "the window has ended")
}

func TestThrottleSuccessResetsAccount(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		for i := range ginfresh.DefaultAccountAttempts - 1 {
			require.Equal(t, http.StatusUnauthorized, f.loginFrom(victim, "alice", "typo").Code, "attempt %d", i+1)
		}
		require.Equal(t, http.StatusOK, f.loginFrom(victim, "alice", "alice-pw").Code)
	}
	for range ginfresh.DefaultAccountAttempts {
		require.Equal(t, http.StatusUnauthorized, f.loginFrom(victim, "alice", "typo").Code)
	}
	requireThrottled(t, f.loginFrom(victim, "alice", "typo"))
}

func TestThrottlePerClient(t *testing.T) {
	f := newFixture(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 2, PerClient: 5, Window: time.Minute}))
	users := []string{"u1", "u2", "u3", "u4", "alice"}
	for _, u := range users {
		require.Equal(t, http.StatusUnauthorized, f.loginFrom(attacker, u, "guess").Code, u)
	}
	assert.Equal(t, "60", requireThrottled(t, f.loginFrom(attacker, "u6", "guess")), "spraying many accounts from one address")
	assert.Equal(t, http.StatusOK, f.loginFrom(victim, "alice", "alice-pw").Code)
	f.clock.Advance(time.Minute)
	assert.Equal(t, http.StatusUnauthorized, f.loginFrom(attacker, "u6", "guess").Code)
}

func TestThrottleGroupsIPv6By64(t *testing.T) {
	f := newFixture(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 2}))
	require.Equal(t, http.StatusUnauthorized, f.loginFrom("[2001:db8:1:2::1]:1", "alice", "x").Code)
	require.Equal(t, http.StatusUnauthorized, f.loginFrom("[2001:db8:1:2:ffff:ffff:ffff:ffff]:1", "alice", "x").Code)
	requireThrottled(t, f.loginFrom("[2001:db8:1:2::77]:1", "alice", "x"))
	assert.Equal(t, http.StatusOK, f.loginFrom("[2001:db8:1:3::1]:1", "alice", "alice-pw").Code, "another /64 is another client")
}

func TestThrottleSharedAcrossInstances(t *testing.T) {
	store := ginfresh.NewMemoryStore()
	a, b := newFixture(t, ginfresh.WithStore(store)), newFixture(t, ginfresh.WithStore(store))
	for i := range ginfresh.DefaultAccountAttempts {
		f := a
		if i%2 == 1 {
			f = b
		}
		require.Equal(t, http.StatusUnauthorized, f.loginFrom(attacker, "alice", "guess").Code)
	}
	requireThrottled(t, a.loginFrom(attacker, "alice", "guess"))
	requireThrottled(t, b.loginFrom(attacker, "alice", "guess"))
}

// storeOnly hides the Counter methods of the store it wraps.
type storeOnly struct{ ginfresh.Store }

func TestThrottleWithoutCounterStore(t *testing.T) {
	f := newFixture(t, ginfresh.WithStore(storeOnly{ginfresh.NewMemoryStore()}))
	for range ginfresh.DefaultAccountAttempts {
		require.Equal(t, http.StatusUnauthorized, f.loginFrom(attacker, "alice", "guess").Code)
	}
	requireThrottled(t, f.loginFrom(attacker, "alice", "guess"))
}

// recordingCounter is a store whose counter records its keys and can fail.
type recordingCounter struct {
	*ginfresh.MemoryStore
	mu   sync.Mutex
	keys []string
	fail atomic.Bool
}

func (s *recordingCounter) Incr(ctx context.Context, key string, now time.Time, window time.Duration) (int64, time.Time, error) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	if s.fail.Load() {
		return 0, time.Time{}, errDown
	}
	return s.MemoryStore.Incr(ctx, key, now, window)
}

func (s *recordingCounter) Reset(ctx context.Context, key string) error {
	if s.fail.Load() {
		return errDown
	}
	return s.MemoryStore.Reset(ctx, key)
}

func TestThrottleKeysAreDigests(t *testing.T) {
	store := &recordingCounter{MemoryStore: ginfresh.NewMemoryStore()}
	f := newFixture(t, ginfresh.WithStore(store))
	f.loginFrom(attacker, "alice", "guess")
	f.loginFrom(attacker, "Alice", "guess")
	store.mu.Lock()
	defer store.mu.Unlock()
	require.Len(t, store.keys, 4, "one client and one account counter per attempt")
	assert.Equal(t, store.keys[:2], store.keys[2:], "case does not make another account")
	for _, k := range store.keys {
		assert.NotContains(t, strings.ToLower(k), "alice")
		assert.NotContains(t, k, "198.51.100.7")
		assert.True(t, strings.HasPrefix(k, "ginfresh:throttle:"), k)
	}
}

func TestThrottleCounterFailure(t *testing.T) {
	store := &recordingCounter{MemoryStore: ginfresh.NewMemoryStore()}
	var calls atomic.Int32
	f := newFixture(t, ginfresh.WithStore(store), countingAuthenticator(&calls))
	store.fail.Store(true)
	for _, req := range []request{
		{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "alice-pw")},
		{method: http.MethodPost, path: "/auth/fresh-login", body: credentials("alice", "alice-pw")},
	} {
		w := f.do(req)
		assert.Equal(t, http.StatusServiceUnavailable, w.Code, req.path)
		assert.Equal(t, "temporarily_unavailable", errorCode(t, w))
		assert.NotContains(t, w.Body.String(), errDown.Error())
	}
	assert.Zero(t, calls.Load(), "no password check goes uncounted")
}

func TestThrottleOff(t *testing.T) {
	f := newFixture(t, ginfresh.WithoutLoginThrottle())
	for range 5 * ginfresh.DefaultAccountAttempts {
		require.Equal(t, http.StatusUnauthorized, f.loginFrom(attacker, "alice", "guess").Code)
	}
	assert.Equal(t, http.StatusOK, f.loginFrom(attacker, "alice", "alice-pw").Code)
}

func TestThrottleOptionValidation(t *testing.T) {
	tests := []struct {
		name    string
		t       ginfresh.Throttle
		wantErr string
	}{
		{"defaults", ginfresh.Throttle{}, ""},
		{"custom", ginfresh.Throttle{PerAccount: 3, PerClient: 3, Window: time.Hour}, ""},
		{"negative account limit", ginfresh.Throttle{PerAccount: -1}, "negative limit"},
		{"negative client limit", ginfresh.Throttle{PerClient: -1}, "negative limit"},
		{"negative window", ginfresh.Throttle{Window: -time.Second}, "window"},
		{"window too long", ginfresh.Throttle{Window: 25 * time.Hour}, "window"},
		{"account limit above client limit", ginfresh.Throttle{PerAccount: 10, PerClient: 5}, "exceeds PerClient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ginfresh.New(ginfresh.WithHMACKey(testKey), ginfresh.WithAuthenticator(testAuthenticator), ginfresh.WithLoginThrottle(tt.t))
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "WithLoginThrottle: ")
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestThrottleError(t *testing.T) {
	var got error
	f := newFixture(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 1}),
		ginfresh.WithErrorHandler(func(c *gin.Context, err error) { got = err; c.Status(http.StatusTeapot) }))
	f.loginFrom(attacker, "alice", "x")
	assert.ErrorIs(t, got, ginfresh.ErrInvalidCredentials)
	f.loginFrom(attacker, "alice", "x")
	assert.ErrorIs(t, got, ginfresh.ErrTooManyAttempts)
}

func TestThrottleOnAndOffConflict(t *testing.T) {
	on, off := ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 3}), ginfresh.WithoutLoginThrottle()
	for name, opts := range map[string][]ginfresh.Option{"on then off": {on, off}, "off then on": {off, on}} {
		t.Run(name, func(t *testing.T) {
			_, err := ginfresh.New(append([]ginfresh.Option{ginfresh.WithHMACKey(testKey), ginfresh.WithAuthenticator(testAuthenticator)}, opts...)...)
			require.Error(t, err)
			assert.ErrorContains(t, err, "WithLoginThrottle")
			assert.ErrorContains(t, err, "WithoutLoginThrottle")
		})
	}
	for name, opts := range map[string][]ginfresh.Option{"on twice": {on, on}, "off twice": {off, off}} {
		t.Run(name, func(t *testing.T) {
			_, err := ginfresh.New(append([]ginfresh.Option{ginfresh.WithHMACKey(testKey), ginfresh.WithAuthenticator(testAuthenticator)}, opts...)...)
			assert.NoError(t, err)
		})
	}
}

func TestRetryAfter(t *testing.T) {
	for _, err := range []error{nil, ginfresh.ErrTooManyAttempts, ginfresh.ErrInvalidCredentials, fmt.Errorf("wrapped: %w", ginfresh.ErrTokenInvalid)} {
		wait, ok := ginfresh.RetryAfter(err)
		assert.False(t, ok, "%v", err)
		assert.Zero(t, wait)
	}

	var got error
	handled := newFixture(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 1, Window: time.Minute}),
		ginfresh.WithErrorHandler(func(c *gin.Context, err error) { got = err; c.Status(http.StatusTeapot) }))
	plain := newFixture(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 1, Window: time.Minute}))
	for _, f := range []*fixture{handled, plain} {
		f.loginFrom(attacker, "alice", "x")
		f.clock.Advance(20*time.Second + time.Millisecond)
	}
	handled.loginFrom(attacker, "alice", "x")
	require.ErrorIs(t, got, ginfresh.ErrTooManyAttempts)
	wait, ok := ginfresh.RetryAfter(got)
	require.True(t, ok)
	assert.Equal(t, 40*time.Second, wait, "whole seconds, rounded up")
	assert.Equal(t, "40", requireThrottled(t, plain.loginFrom(attacker, "alice", "x")), "the default handler sends the same wait")
	wait, ok = ginfresh.RetryAfter(fmt.Errorf("handler: %w", got))
	assert.True(t, ok)
	assert.Equal(t, 40*time.Second, wait, "found through wrapping")
}

func TestThrottlePerClientBelowDefaultAccountLimit(t *testing.T) {
	f := newFixture(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerClient: 3}))
	for i := range 3 {
		w := f.do(request{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "wrong")})
		require.Equal(t, http.StatusUnauthorized, w.Code, "attempt %d", i+1)
	}
	w := f.do(request{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "wrong")})
	assert.Equal(t, http.StatusTooManyRequests, w.Code, "the per-client limit of 3 applies")
}
