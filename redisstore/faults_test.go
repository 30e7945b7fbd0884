package redisstore_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
	"github.com/ginfresh/ginfresh/redisstore"
)

// The fault matrix: a Redis that stalls, dies, restarts or may evict must
// never lose a session, revive a revocation or revoke a live session by
// itself. Each test drives a real redis-server of its own.

// api is one instance of an API on Redis, served over real HTTP so that a
// dropped connection shows as one.
func api(t *testing.T, c redis.UniversalClient, p string, timeout time.Duration, opts ...redisstore.Option) *httptest.Server {
	t.Helper()
	auth, err := ginfresh.New(ginfresh.WithHMACKey(secret), ginfresh.WithAuthenticator(testkit.Authenticate),
		ginfresh.WithStore(withPrefix(t, c, p, opts...)), ginfresh.WithAccessRevocation(),
		ginfresh.WithStoreTimeout(timeout), ginfresh.WithoutLoginThrottle())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(testkit.Router(auth))
	t.Cleanup(srv.Close)
	return srv
}

func post(base, path, token, body string) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func refreshToken(body string) string {
	const k = `"refresh_token":"`
	i := strings.Index(body, k)
	if i < 0 {
		return ""
	}
	rest := body[i+len(k):]
	return rest[:strings.IndexByte(rest, '"')]
}

// A Redis that stalls past the client's read timeout (go-redis then
// retries the command on another connection) must not revoke a live
// session by itself: 40 clients keep refreshing, each retrying on 503 with
// the same token, across a four-second SIGSTOP. None may be told its token
// was already used, and none may wait as long as the stall.
func TestStallRevokesNothing(t *testing.T) {
	srv := startServer(t)
	// A read timeout shorter than ginfresh's store timeout: go-redis retries
	// a timed-out command, the first copy of which Redis runs when it wakes.
	c := redis.NewClient(&redis.Options{Addr: srv.addr(), ContextTimeoutEnabled: true, ReadTimeout: 200 * time.Millisecond, MaxRetries: 3})
	t.Cleanup(func() { _ = c.Close() })
	p := prefix()
	a, b := api(t, c, p, 700*time.Millisecond), api(t, c, p, 700*time.Millisecond)

	const clients = 40
	const stall = 4 * time.Second
	tokens := make([]string, clients)
	for i := range tokens {
		code, body, err := post(a.URL, "/auth/login", "", testkit.Credentials("alice", "alice-pw"))
		if err != nil || code != http.StatusOK {
			t.Fatalf("login: %d %v", code, err)
		}
		tokens[i] = refreshToken(body)
	}
	var revoked, unavailable, dropped, refreshed atomic.Int32
	var slowest atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			base := a.URL
			if i%2 == 1 {
				base = b.URL
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				code, body, err := post(base, "/auth/refresh", tokens[i], "")
				if d := int64(time.Since(start)); d > slowest.Load() {
					slowest.Store(d)
				}
				switch {
				case err != nil:
					dropped.Add(1)
				case code == http.StatusOK:
					refreshed.Add(1)
					tokens[i] = refreshToken(body)
				case code == http.StatusServiceUnavailable:
					unavailable.Add(1) // try again with the same token
				default:
					revoked.Add(1)
					t.Errorf("client %d: %d %s", i, code, body)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	srv.stall()
	time.Sleep(stall)
	srv.resume()
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("refreshes %d, 503s %d, dropped %d, slowest %v", refreshed.Load(), unavailable.Load(), dropped.Load(), time.Duration(slowest.Load()))
	if revoked.Load() != 0 {
		t.Errorf("%d live sessions were revoked by the stall", revoked.Load())
	}
	if unavailable.Load() == 0 {
		t.Error("no request saw the stall: the test did not test it")
	}
	if dropped.Load() != 0 {
		t.Errorf("%d connections dropped instead of answering 503", dropped.Load())
	}
	if time.Duration(slowest.Load()) >= stall {
		t.Errorf("a request waited %v, as long as the stall: waits are not bounded", time.Duration(slowest.Load()))
	}
	// Every session is alive, with the token its client last received.
	for i, tok := range tokens {
		if code, body, _ := post(a.URL, "/auth/refresh", tok, ""); code != http.StatusOK {
			t.Errorf("session %d after the stall: %d %s", i, code, body)
		}
	}
}

// A Redis that is down answers 503 temporarily_unavailable within the store
// timeout, on every route that needs it, and never a dropped connection.
func TestDownAnswers503(t *testing.T) {
	srv := startServer(t, "--appendonly", "yes", "--appendfsync", "always")
	c := client(t, srv.addr())
	a := api(t, c, prefix(), 300*time.Millisecond, redisstore.WithoutLocalRevocations())
	code, body, err := post(a.URL, "/auth/login", "", testkit.Credentials("alice", "alice-pw"))
	if err != nil || code != http.StatusOK {
		t.Fatalf("login: %d %v", code, err)
	}
	tok := testkit.DecodeTokens(t, &httptest.ResponseRecorder{Body: bytesBuffer(body)})
	srv.kill()
	for _, tt := range []struct{ method, path, token, body string }{
		{http.MethodPost, "/auth/login", "", testkit.Credentials("alice", "alice-pw")},
		{http.MethodPost, "/auth/refresh", tok.RefreshToken, ""},
		{http.MethodPost, "/auth/logout", tok.RefreshToken, ""},
		{http.MethodGet, testkit.Protected, tok.AccessToken, ""},
	} {
		req, _ := http.NewRequest(tt.method, a.URL+tt.path, strings.NewReader(tt.body))
		if tt.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: dropped: %v", tt.method, tt.path, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s %s with Redis down: %d, want 503", tt.method, tt.path, resp.StatusCode)
		}
	}
	// Back, with what it persisted: the session is as it was.
	srv.start()
	if code, body, _ := post(a.URL, "/auth/refresh", tok.RefreshToken, ""); code != http.StatusOK {
		t.Errorf("refresh after Redis came back: %d %s", code, body)
	}
}

// With AOF, a crash (SIGKILL) loses neither a session nor a revocation.
func TestAOFKeepsSessionsAndRevocations(t *testing.T) {
	srv := startServer(t, "--appendonly", "yes", "--appendfsync", "always")
	p := prefix()
	a, _ := realPairAt(t, srv.addr(), p)
	live, gone := a.Login(t, "alice"), a.Login(t, "alice")
	testkit.Status(t, a.Post("/auth/logout", gone.RefreshToken, ""), http.StatusNoContent)
	srv.restart()
	// A new instance, which never saw the revocation happen.
	fresh, _ := realPairAt(t, srv.addr(), p)
	testkit.Refused(t, fresh.Get(testkit.Protected, gone.AccessToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, fresh.Refresh(gone.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Status(t, fresh.Get(testkit.Protected, live.AccessToken), http.StatusOK)
	testkit.Status(t, fresh.Refresh(live.RefreshToken), http.StatusOK)
}

// Without persistence a restart loses every session (users log in again):
// the failure is safe. An instance that saw a revocation keeps refusing
// its tokens; one that did not cannot know of it.
func TestRestartWithoutPersistence(t *testing.T) {
	srv := startServer(t)
	p := prefix()
	a, b := realPairAt(t, srv.addr(), p)
	tok, gone := a.Login(t, "alice"), a.Login(t, "alice")
	testkit.Status(t, a.Post("/auth/logout", gone.RefreshToken, ""), http.StatusNoContent)
	refusedWithin(t, b, gone.AccessToken, 3*delay)
	srv.restart()
	testkit.Refused(t, a.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, b.Get(testkit.Protected, gone.AccessToken), http.StatusUnauthorized, "invalid_token")
}

// Restoring an older snapshot (RDB) undoes what happened since, as the
// package doc warns: a session ended since works again, and one that
// refreshed since presents a token the restored record calls retired,
// which ends it as a replay. No store can know better; the test pins what
// the doc says.
func TestSnapshotRestoreUndoesWhatFollowed(t *testing.T) {
	srv := startServer(t)
	p := prefix()
	a, _ := realPairAt(t, srv.addr(), p)
	ended, refreshed := a.Login(t, "alice"), a.Login(t, "bob")
	if err := client(t, srv.addr()).Save(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	testkit.Status(t, a.Post("/auth/logout", ended.RefreshToken, ""), http.StatusNoContent)
	w := a.Refresh(refreshed.RefreshToken)
	testkit.Status(t, w, http.StatusOK)
	next := testkit.DecodeTokens(t, w)
	srv.restart() // loads the snapshot
	fresh, _ := realPairAt(t, srv.addr(), p)
	testkit.Status(t, fresh.Get(testkit.Protected, ended.AccessToken), http.StatusOK)
	testkit.Refused(t, fresh.Refresh(next.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, fresh.Get(testkit.Protected, next.AccessToken), http.StatusUnauthorized, "invalid_token")
}

func realPairAt(t *testing.T, addr, p string) (a, b *testkit.Server) {
	t.Helper()
	mk := func() *testkit.Server {
		auth, err := ginfresh.New(ginfresh.WithHMACKey(secret), ginfresh.WithAuthenticator(testkit.Authenticate),
			ginfresh.WithStore(withPrefix(t, client(t, addr), p)), ginfresh.WithAccessRevocation())
		if err != nil {
			t.Fatal(err)
		}
		return &testkit.Server{Auth: auth, Clock: testkit.NewClock(), Router: testkit.Router(auth)}
	}
	return mk(), mk()
}

// New refuses a Redis that may evict keys, unless told to start anyway,
// which it then logs.
func TestEvictionPolicy(t *testing.T) {
	srv := startServer(t, "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru")
	c := client(t, srv.addr())
	_, err := redisstore.New(c)
	if err == nil || !strings.Contains(err.Error(), "allkeys-lru") {
		t.Fatalf("New on an evicting Redis: %v", err)
	}
	var logs syncBuffer
	s, err := redisstore.New(c, redisstore.UnsafeAllowEviction(), redisstore.WithLogger(slogTo(&logs)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.Contains(logs.String(), "allkeys-lru") {
		t.Errorf("no warning logged: %q", logs.String())
	}
	for _, policy := range []string{"volatile-lru", "volatile-ttl", "allkeys-random"} {
		if err := c.ConfigSet(context.Background(), "maxmemory-policy", policy).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := redisstore.New(c); err == nil {
			t.Errorf("New accepted maxmemory-policy %s: every key the store writes has a TTL, so volatile policies evict them too", policy)
		}
	}
}

// New refuses a client whose calls a context cannot bound.
func TestNewNeedsContextTimeouts(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	if _, err := redisstore.New(c); err == nil || !strings.Contains(err.Error(), "ContextTimeoutEnabled") {
		t.Fatalf("New: %v", err)
	}
}
