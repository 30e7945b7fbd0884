package redisstore_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/redisstore"
)

// sharedStores returns n stores, each with a client of its own, on one
// Redis under one prefix: what instances behind a load balancer hold.
func sharedStores(t *testing.T, n int) []*redisstore.Store {
	t.Helper()
	addr := redisAddr(t)
	prefix := testPrefix(t, newClient(t, addr))
	stores := make([]*redisstore.Store, n)
	for i := range stores {
		s, err := redisstore.New(newClient(t, addr), redisstore.WithPrefix(prefix))
		require.NoError(t, err)
		stores[i] = s
	}
	return stores
}

// twoApps is two instances of one API sharing one Redis and one clock.
func twoApps(t *testing.T) (a, b *app, clk *clock) {
	t.Helper()
	stores := sharedStores(t, 2)
	clk = newClock()
	return newApp(t, stores[0], clk), newApp(t, stores[1], clk), clk
}

func TestTwoInstancesReplay(t *testing.T) {
	stores := sharedStores(t, 2)
	clk := newClock()
	var logs bytes.Buffer // one goroutine sends every request
	a := newApp(t, stores[0], clk)
	b := newApp(t, stores[1], clk, ginfresh.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	first := a.login(t, "alice")

	w := a.refresh(first.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	second := decodeTokens(t, w)
	clk.Advance(time.Second)

	// The retired token comes back through the other instance: a replay.
	w = b.refresh(first.RefreshToken)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "invalid_token", errorCode(t, w))
	assert.Contains(t, logs.String(), "refresh token reuse", "the other instance saw a replay, not an unknown session")
	assert.NotContains(t, logs.String(), first.RefreshToken, "the log names tokens by jti only")
	// The family is dead on both instances.
	assert.Equal(t, http.StatusUnauthorized, b.refresh(second.RefreshToken).Code)
	assert.Equal(t, http.StatusUnauthorized, a.refresh(second.RefreshToken).Code)

	other := b.login(t, "alice")
	assert.Equal(t, http.StatusOK, a.refresh(other.RefreshToken).Code, "a session started on one instance refreshes on the other")
}

func TestTwoInstancesLogout(t *testing.T) {
	a, b, _ := twoApps(t)
	tok := b.login(t, "alice")
	require.Equal(t, http.StatusOK, a.protected(tok.AccessToken).Code)

	require.Equal(t, http.StatusNoContent, a.logout(tok.AccessToken, tok.RefreshToken).Code)
	for name, x := range map[string]*app{"a": a, "b": b} {
		assert.Equal(t, http.StatusUnauthorized, x.refresh(tok.RefreshToken).Code, "refresh on %s after logout", name)
		assert.Equal(t, http.StatusUnauthorized, x.protected(tok.AccessToken).Code, "access token on %s after logout", name)
	}
}

func TestTwoInstancesRevokeSubject(t *testing.T) {
	a, b, clk := twoApps(t)
	alice, bob := a.login(t, "alice"), a.login(t, "bob")
	clk.Advance(time.Second)
	require.NoError(t, b.Auth.RevokeSubject(context.Background(), "alice"))

	assert.Equal(t, http.StatusUnauthorized, a.protected(alice.AccessToken).Code)
	assert.Equal(t, http.StatusUnauthorized, a.refresh(alice.RefreshToken).Code)
	assert.Equal(t, http.StatusOK, a.protected(bob.AccessToken).Code, "other users are untouched")
	clk.Advance(time.Millisecond) // the revocation covers its own millisecond
	fresh := b.login(t, "alice")
	assert.Equal(t, http.StatusOK, a.protected(fresh.AccessToken).Code, "a login after the revocation works at once")
}

// TestTwoInstancesConcurrentRefresh fires one refresh token at both
// instances at once: exactly one refresh wins across them.
func TestTwoInstancesConcurrentRefresh(t *testing.T) {
	a, b, _ := twoApps(t)
	tok := a.login(t, "alice")
	const n = 40
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := a
			if i%2 == 1 {
				x = b
			}
			<-start
			switch x.refresh(tok.RefreshToken).Code {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusUnauthorized:
				refused.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, ok.Load(), "exactly one refresh wins")
	assert.EqualValues(t, n-1, refused.Load(), "the others are refused")
}

// TestTwoInstancesShareCounter: the login throttle counts attempts made on
// every instance.
func TestTwoInstancesShareCounter(t *testing.T) {
	stores := sharedStores(t, 2)
	ctx, now := context.Background(), time.Now()
	for i, s := range []*redisstore.Store{stores[0], stores[1], stores[0]} {
		n, _, err := s.Incr(ctx, "login:alice", now, time.Minute)
		require.NoError(t, err)
		assert.EqualValues(t, i+1, n)
	}
}
