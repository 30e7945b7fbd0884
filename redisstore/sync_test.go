package redisstore_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
	"github.com/ginfresh/ginfresh/redisstore"
)

// realPair is two API instances on the Redis at addr, on the real clock
// (their revocations travel through the server, whose clock they share).
func realPair(t *testing.T, addr string, opts ...redisstore.Option) (a, b *testkit.Server) {
	t.Helper()
	p := prefix()
	mk := func() *testkit.Server {
		auth, err := ginfresh.New(ginfresh.WithHMACKey(secret), ginfresh.WithAuthenticator(testkit.Authenticate),
			ginfresh.WithStore(withPrefix(t, client(t, addr), p, opts...)), ginfresh.WithAccessRevocation())
		if err != nil {
			t.Fatal(err)
		}
		return &testkit.Server{Auth: auth, Clock: testkit.NewClock(), Router: testkit.Router(auth)}
	}
	return mk(), mk()
}

// refusedWithin polls b until it refuses token, and fails the test if that
// takes longer than the revocation delay allows. It returns how long it took.
func refusedWithin(t *testing.T, b *testkit.Server, token string, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		w := b.Get(testkit.Protected, token)
		if w.Code == http.StatusUnauthorized {
			return time.Since(start)
		}
		if time.Since(start) > bound {
			t.Fatalf("still %d %s after %v: the revocation did not arrive within the bound", w.Code, w.Body, time.Since(start))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// A revocation on one instance is refused on the other within the
// revocation delay: normally, after the other's subscription was dropped,
// and after Redis restarted.
func TestRevocationPropagates(t *testing.T) {
	srv := startServer(t, "--appendonly", "yes", "--appendfsync", "always")
	a, b := realPair(t, srv.addr())
	// The bound, plus room for a test machine that is busy elsewhere: the
	// documented figure itself is measured by BenchmarkPropagation.
	bound := 3 * delay
	logout := func(tok ginfresh.Tokens) {
		t.Helper()
		testkit.Status(t, a.Post("/auth/logout", tok.RefreshToken, ""), http.StatusNoContent)
	}
	waitSynced := func() {
		t.Helper()
		// Freshly started (or reconnected) instances answer from Redis until
		// their copy is whole: a refusal then proves nothing about the copy,
		// so wait for B's copy to answer a live token locally first.
		tok := a.Login(t, "bob")
		deadline := time.Now().Add(10 * time.Second)
		for b.Get(testkit.Protected, tok.AccessToken).Code != http.StatusOK && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}

	t.Run("normally", func(t *testing.T) {
		waitSynced()
		tok := a.Login(t, "alice")
		testkit.Status(t, b.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
		logout(tok)
		t.Logf("refused on B after %v", refusedWithin(t, b, tok.AccessToken, bound))
	})
	t.Run("dropped subscription", func(t *testing.T) {
		waitSynced()
		tok := a.Login(t, "alice")
		testkit.Status(t, b.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
		// Every subscriber loses its connection: the revocation below is
		// published while nobody listens.
		if err := client(t, srv.addr()).Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
			t.Fatal(err)
		}
		logout(tok)
		t.Logf("refused on B after %v", refusedWithin(t, b, tok.AccessToken, bound))
	})
	t.Run("Redis restarted", func(t *testing.T) {
		waitSynced()
		tok := a.Login(t, "alice")
		other := a.Login(t, "alice")
		srv.restart() // with AOF: sessions survive
		testkit.Status(t, a.Post("/auth/logout", tok.AccessToken, ""), http.StatusNoContent)
		t.Logf("refused on B after %v", refusedWithin(t, b, tok.AccessToken, bound))
		testkit.Status(t, b.Refresh(other.RefreshToken), http.StatusOK)
	})
}

// While its copy is behind, an instance asks Redis: a revocation made
// while B cannot hear the channel is refused by B all the same.
func TestStaleCopyAsksRedis(t *testing.T) {
	var logs syncBuffer
	srv := startServer(t)
	c := client(t, srv.addr())
	p := prefix()
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	sa := withPrefix(t, c, p)
	sb := withPrefix(t, c, p, redisstore.WithLogger(logger))
	ctx := context.Background()
	now := time.Now()
	s := ginfresh.Session{ID: "s1", Subject: "alice", Started: now, IdleUntil: now.Add(time.Hour), Expires: now.Add(24 * time.Hour)}
	if err := sa.CreateSession(ctx, s, "t1"); err != nil {
		t.Fatal(err)
	}
	// B's copy is whole once it has read every mark and heard a heartbeat.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "following revocations") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Make the channel unusable for B: kill subscribers over and over while
	// revoking, so B cannot have heard the news, only read it from Redis.
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				_ = c.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err()
				time.Sleep(time.Millisecond)
			}
		}
	}()
	time.Sleep(2 * delay) // long enough for B's copy to be known stale
	if err := sa.RevokeSession(ctx, "alice", "s1", time.Now()); err != nil {
		t.Fatal(err)
	}
	revoked, err := sb.Revoked(ctx, "s1", time.Now())
	close(stop)
	if err != nil || !revoked {
		t.Fatalf("Revoked on B while its copy is stale: %v, %v; want true", revoked, err)
	}
	if !strings.Contains(logs.String(), "lost the revocation channel") {
		t.Errorf("B did not report losing the channel: %s", logs.String())
	}
}

// A cluster's masters each publish their own sessions' revocations; B
// follows every master.
func TestRevocationPropagatesOnCluster(t *testing.T) {
	c := cluster(t)
	p := prefix()
	sa, sb := withPrefix(t, c, p), withPrefix(t, c, p)
	ctx := context.Background()
	now := time.Now()
	var ids []string
	for i := range 12 {
		id := "cluster-session-" + string(rune('a'+i))
		ids = append(ids, id)
		s := ginfresh.Session{ID: id, Subject: "alice", Started: now, IdleUntil: now.Add(time.Hour), Expires: now.Add(24 * time.Hour)}
		if err := sa.CreateSession(ctx, s, "t1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := sa.RevokeSubject(ctx, "alice", time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * delay)
	for _, id := range ids {
		for {
			revoked, err := sb.Revoked(ctx, id, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if revoked {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not revoked on B within the bound", id)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	_ = redis.Nil
}
