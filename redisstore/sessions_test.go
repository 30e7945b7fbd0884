package redisstore_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
	"github.com/ginfresh/ginfresh/redisstore"
	"github.com/ginfresh/ginfresh/storetest"
)

func TestConformance(t *testing.T) {
	t.Run("single", func(t *testing.T) {
		c := single(t)
		storetest.Run(t, func(t *testing.T) ginfresh.Store { return newStore(t, c) })
	})
	t.Run("cluster", func(t *testing.T) {
		c := cluster(t)
		storetest.Run(t, func(t *testing.T) ginfresh.Store { return newStore(t, c) })
	})
	t.Run("without local revocations", func(t *testing.T) {
		c := single(t)
		storetest.Run(t, func(t *testing.T) ginfresh.Store { return newStore(t, c, redisstore.WithoutLocalRevocations()) })
	})
}

var secret = []byte("redisstore-test-secret-0123456789-abcdef")

// pair is two instances of one API on one Redis: the same key, each with a
// store of its own, as two processes behind a load balancer would be.
func pair(t *testing.T, c redis.UniversalClient, opts ...redisstore.Option) (a, b *testkit.Server) {
	t.Helper()
	p := prefix()
	clk := testkit.NewClock()
	mk := func() *testkit.Server {
		return testkit.NewServer(t, clk, false,
			ginfresh.WithHMACKey(secret), ginfresh.WithStore(withPrefix(t, c, p, opts...)), ginfresh.WithAccessRevocation())
	}
	return mk(), mk()
}

// Each way a session ends on one instance refuses its access tokens on the
// other, and no other session's: at the next request when every check asks
// Redis, and within the revocation delay when checks are answered from the
// local copy.
func TestTwoInstancesSessionEndings(t *testing.T) {
	for _, tt := range []struct {
		name   string
		c      func(t testing.TB) redis.UniversalClient
		within time.Duration
		opts   []redisstore.Option
	}{
		{"single", func(t testing.TB) redis.UniversalClient { return single(t) }, 0, []redisstore.Option{redisstore.WithoutLocalRevocations()}},
		{"cluster", func(t testing.TB) redis.UniversalClient { return cluster(t) }, 0, []redisstore.Option{redisstore.WithoutLocalRevocations()}},
		{"single, local copy", func(t testing.TB) redis.UniversalClient { return single(t) }, delay, nil},
		{"cluster, local copy", func(t testing.TB) redis.UniversalClient { return cluster(t) }, delay, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c(t)
			testkit.SessionEndings(t, tt.within, func(t *testing.T) (a, b *testkit.Server) { return pair(t, c, tt.opts...) })
		})
	}
}

// delay is the documented revocation delay of the local copy.
const delay = 500 * time.Millisecond

// Of many concurrent refreshes of one token over two instances, exactly
// one wins; a replay on one instance ends the session on both.
func TestTwoInstancesConcurrentRefresh(t *testing.T) {
	a, b := pair(t, single(t))
	tok := a.Login(t, "alice")
	const n = 40
	codes := make(chan int, n)
	for i := range n {
		go func() {
			srv := a
			if i%2 == 1 {
				srv = b
			}
			codes <- srv.Refresh(tok.RefreshToken).Code
		}()
	}
	won := 0
	for range n {
		if <-codes == http.StatusOK {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d refreshes won, want 1", won)
	}
	// The replays ran on either instance: each hears of the other's within
	// the revocation delay.
	refusedWithin(t, a, tok.AccessToken, 3*delay)
	refusedWithin(t, b, tok.AccessToken, 3*delay)
}

// Sessions, listed and revoked from either instance.
func TestTwoInstancesSessions(t *testing.T) {
	a, b := pair(t, cluster(t))
	ctx := context.Background()
	first := a.Do(testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: testkit.Credentials("alice", "alice-pw"),
		Header: http.Header{"User-Agent": {"Firefox on a laptop"}}, RemoteAddr: "198.51.100.7:4242"})
	testkit.Status(t, first, http.StatusOK)
	a.Clock.Advance(time.Second)
	second := b.Login(t, "alice")
	list, err := b.Auth.Sessions(ctx, "alice")
	if err != nil || len(list) != 2 {
		t.Fatalf("Sessions: %v, %v", list, err)
	}
	if list[0].UserAgent != "Firefox on a laptop" || list[0].Address != "198.51.100.7" {
		t.Errorf("the first session's client: %q from %q", list[0].UserAgent, list[0].Address)
	}
	if err := a.Auth.RevokeSession(ctx, "bob", list[1].ID); err == nil {
		t.Error("bob ended alice's session")
	}
	if err := a.Auth.RevokeSession(ctx, "alice", list[1].ID); err != nil {
		t.Fatal(err)
	}
	// b hears of it within the revocation delay (its local copy).
	refusedWithin(t, b, second.AccessToken, 3*delay)
	testkit.Status(t, b.Get(testkit.Protected, testkit.DecodeTokens(t, first).AccessToken), http.StatusOK)
	if list, err := a.Auth.Sessions(ctx, "alice"); err != nil || len(list) != 1 {
		t.Errorf("after the revocation: %v, %v", list, err)
	}
}

// On a cluster, a session's keys share a slot while sessions spread over
// every master; no key names a subject or an ID in clear.
func TestClusterKeys(t *testing.T) {
	c := cluster(t)
	p := prefix()
	s := withPrefix(t, c, p)
	ctx := context.Background()
	now := time.Now()
	for i := range 30 {
		sess := ginfresh.Session{ID: fmt.Sprintf("session-%d", i), Subject: fmt.Sprintf("user-%d@example.com", i), Started: now,
			IdleUntil: now.Add(time.Hour), Expires: now.Add(24 * time.Hour)}
		if err := s.CreateSession(ctx, sess, "t1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Rotate(ctx, ginfresh.Rotation{Session: sess.ID, Presented: "t1", Next: "t2", Now: now, IdleUntil: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	masters := map[string]int{}
	var mu sync.Mutex // ForEachMaster runs on every master at once
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		keys, err := m.Keys(ctx, p+"*").Result()
		if err != nil {
			return err
		}
		for _, k := range keys {
			if strings.Contains(k, "user-") || strings.Contains(k, "session-") {
				t.Errorf("key %q names an ID or a subject", k)
			}
		}
		mu.Lock()
		masters[m.Options().Addr] = len(keys)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for addr, n := range masters {
		if n == 0 {
			t.Errorf("master %s holds no session: everything landed elsewhere (%v)", addr, masters)
		}
	}
	if len(masters) < 3 {
		t.Errorf("%d masters, want 3", len(masters))
	}
}
