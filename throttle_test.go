package ginfresh_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// throttleKey signs the tokens of the throttle tests' servers.
var throttleKey = []byte("throttle-test-key-0123456789-0123456789")

const (
	attackerAddr = "198.51.100.7:4242"
	victimAddr   = "203.0.113.9:5151"
	// defaultPerAccount is Throttle's documented default PerAccount.
	defaultPerAccount = 10
)

// throttleServer is a server with the test authenticator, signing with
// throttleKey.
func throttleServer(t *testing.T, opts ...ginfresh.Option) *testkit.Server {
	t.Helper()
	return testkit.NewServer(t, testkit.NewClock(), false, append([]ginfresh.Option{ginfresh.WithHMACKey(throttleKey)}, opts...)...)
}

// countingServer is throttleServer with an authenticator that counts its
// calls, to prove a throttled attempt never reaches the password check.
func countingServer(t *testing.T, calls *atomic.Int32, opts ...ginfresh.Option) *testkit.Server {
	t.Helper()
	count := ginfresh.WithAuthenticator(func(c *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
		calls.Add(1)
		return testkit.Authenticate(c, req)
	})
	return testkit.NewServer(t, testkit.NewClock(), true, append([]ginfresh.Option{ginfresh.WithHMACKey(throttleKey), count}, opts...)...)
}

// throttleLogin posts credentials to path from the client at addr.
func throttleLogin(s *testkit.Server, path, addr, user, pw string) *httptest.ResponseRecorder {
	return s.Do(testkit.Request{Method: http.MethodPost, Path: path, Body: testkit.Credentials(user, pw), RemoteAddr: addr})
}

// loginFromAddr logs in at /auth/login from addr.
func loginFromAddr(s *testkit.Server, addr, user, pw string) *httptest.ResponseRecorder {
	return throttleLogin(s, "/auth/login", addr, user, pw)
}

// wantThrottled checks a 429 answer and returns its Retry-After.
func wantThrottled(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	testkit.Refused(t, w, http.StatusTooManyRequests, "too_many_attempts")
	if ch := w.Header().Get("WWW-Authenticate"); ch != "" {
		t.Errorf("a 429 carries the challenge %q; it is no authentication challenge", ch)
	}
	ra := w.Header().Get("Retry-After")
	if ra == "" {
		t.Fatal("a 429 without Retry-After")
	}
	return ra
}

// wantCode checks an answer's status, naming the attempt.
func wantCode(t *testing.T, w *httptest.ResponseRecorder, want int, what string, args ...any) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("%s: got %d %s, want %d", fmt.Sprintf(what, args...), w.Code, w.Body, want)
	}
}

func TestThrottlePerAccountAndClient(t *testing.T) {
	var calls atomic.Int32
	s := countingServer(t, &calls)
	for i := range defaultPerAccount {
		wantCode(t, loginFromAddr(s, attackerAddr, "alice", "guess"), http.StatusUnauthorized, "attempt %d", i+1)
	}
	s.Clock.Advance(5 * time.Minute)
	before := calls.Load()
	// The window started with the first attempt, 5 of its 15 minutes ago.
	if got := wantThrottled(t, loginFromAddr(s, attackerAddr, "alice", "alice-pw")); got != "600" {
		t.Errorf("Retry-After %s, want 600", got)
	}
	if calls.Load() != before {
		t.Error("a throttled attempt reached the authenticator; even the right password must be refused")
	}
	wantThrottled(t, throttleLogin(s, "/auth/fresh-login", attackerAddr, "alice", "alice-pw"))
	// Case and surrounding space do not make another account.
	wantThrottled(t, loginFromAddr(s, attackerAddr, " ALICE ", "guess"))

	wantCode(t, loginFromAddr(s, victimAddr, "alice", "alice-pw"), http.StatusOK, "the user's own client, which the attacker cannot lock out")
	wantCode(t, loginFromAddr(s, attackerAddr, "bob", "guess"), http.StatusUnauthorized, "another account at the attacker's address")

	s.Clock.Advance(10 * time.Minute)
	wantCode(t, loginFromAddr(s, attackerAddr, "alice", "alice-pw"), http.StatusOK, "after the window")
}

func TestThrottleSuccessResetsAccount(t *testing.T) {
	s := throttleServer(t)
	for range 3 {
		for i := range defaultPerAccount - 1 {
			wantCode(t, loginFromAddr(s, victimAddr, "alice", "typo"), http.StatusUnauthorized, "typo %d", i+1)
		}
		wantCode(t, loginFromAddr(s, victimAddr, "alice", "alice-pw"), http.StatusOK, "login after typos")
	}
	for i := range defaultPerAccount {
		wantCode(t, loginFromAddr(s, victimAddr, "alice", "typo"), http.StatusUnauthorized, "typo %d", i+1)
	}
	wantThrottled(t, loginFromAddr(s, victimAddr, "alice", "typo"))
}

func TestThrottlePerClient(t *testing.T) {
	s := throttleServer(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 2, PerClient: 5, Window: time.Minute}))
	for _, u := range []string{"u1", "u2", "u3", "u4"} {
		wantCode(t, loginFromAddr(s, attackerAddr, u, "guess"), http.StatusUnauthorized, "spraying %s", u)
	}
	// A success counts too, or the attacker could reset the count with an
	// account of their own.
	wantCode(t, loginFromAddr(s, attackerAddr, "alice", "alice-pw"), http.StatusOK, "the attacker's own account")
	if got := wantThrottled(t, loginFromAddr(s, attackerAddr, "u6", "guess")); got != "60" {
		t.Errorf("Retry-After %s, want 60", got)
	}
	wantCode(t, loginFromAddr(s, victimAddr, "alice", "alice-pw"), http.StatusOK, "another client")
	s.Clock.Advance(time.Minute)
	wantCode(t, loginFromAddr(s, attackerAddr, "u6", "guess"), http.StatusUnauthorized, "after the window")
}

func TestThrottlePerClientBelowDefaultAccountLimit(t *testing.T) {
	s := throttleServer(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerClient: 3}))
	for i := range 3 {
		wantCode(t, loginFromAddr(s, "", "alice", "wrong"), http.StatusUnauthorized, "attempt %d", i+1)
	}
	wantThrottled(t, loginFromAddr(s, "", "alice", "wrong"))
}

// A window ends Window after its first attempt whatever happens in it:
// attempts while blocked never push the end on.
func TestThrottleWindowNotExtended(t *testing.T) {
	s := throttleServer(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 2, Window: time.Minute}))
	for range 2 {
		wantCode(t, loginFromAddr(s, attackerAddr, "alice", "guess"), http.StatusUnauthorized, "guess")
	}
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{{0, "60"}, {30 * time.Second, "30"}, {10 * time.Second, "20"}, {10 * time.Second, "10"}, {10*time.Second - time.Millisecond, "1"}} {
		s.Clock.Advance(step.advance)
		if got := wantThrottled(t, loginFromAddr(s, attackerAddr, "alice", "guess")); got != step.want {
			t.Errorf("Retry-After %s, want %s", got, step.want)
		}
	}
	s.Clock.Advance(time.Millisecond)
	wantCode(t, loginFromAddr(s, attackerAddr, "alice", "alice-pw"), http.StatusOK, "a minute after the first attempt")
}

// ipv6 returns a RemoteAddr in 2001:db8::/32 whose third and fourth
// hextets are given: the third picks the /48, the fourth's high byte the
// /56 in it and its low byte the /64.
func ipv6(site, subnet uint16, host string) string {
	return fmt.Sprintf("[2001:db8:%x:%x::%s]:1234", site, subnet, host)
}

// TestThrottleIPv6Tiers: one party usually holds a /56 or a /48, so
// spreading guesses over its /64s buys 3 or 10 times the limits, no more.
func TestThrottleIPv6Tiers(t *testing.T) {
	const perAccount = 2
	limit := ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: perAccount})

	t.Run("a /64 is one client", func(t *testing.T) {
		s := throttleServer(t, limit)
		wantCode(t, loginFromAddr(s, ipv6(1, 2, "1"), "alice", "x"), http.StatusUnauthorized, "first")
		wantCode(t, loginFromAddr(s, "[2001:db8:1:2:ffff:ffff:ffff:ffff]:1", "alice", "x"), http.StatusUnauthorized, "second")
		wantThrottled(t, loginFromAddr(s, ipv6(1, 2, "77"), "alice", "x"))
		wantCode(t, loginFromAddr(s, ipv6(1, 3, "1"), "alice", "alice-pw"), http.StatusOK, "another /64 of the /56")
	})

	t.Run("a /48 gets 10 times PerAccount", func(t *testing.T) {
		s := throttleServer(t, limit)
		// Each /64 in a /56 of its own, each within its limits: only the
		// /48 counter can stop them.
		for i := range 10 * perAccount {
			wantCode(t, loginFromAddr(s, ipv6(1, uint16(1+i/perAccount)<<8, "1"), "alice", "guess"), http.StatusUnauthorized, "attempt %d", i+1)
		}
		wantThrottled(t, loginFromAddr(s, ipv6(1, 0xff00, "1"), "alice", "alice-pw"))
		wantCode(t, loginFromAddr(s, ipv6(1, 0xfe00, "1"), "bob", "guess"), http.StatusUnauthorized, "another account from the /48")
		wantCode(t, loginFromAddr(s, ipv6(2, 0x100, "1"), "alice", "alice-pw"), http.StatusOK, "another /48")
		wantCode(t, loginFromAddr(s, victimAddr, "alice", "alice-pw"), http.StatusOK, "an IPv4 client")
	})

	t.Run("a /56 gets 3 times PerAccount", func(t *testing.T) {
		s := throttleServer(t, limit)
		for i := range 3 * perAccount {
			wantCode(t, loginFromAddr(s, ipv6(1, 0xaa00+uint16(i/perAccount), "1"), "alice", "guess"), http.StatusUnauthorized, "attempt %d", i+1)
		}
		wantThrottled(t, loginFromAddr(s, ipv6(1, 0xaaff, "1"), "alice", "alice-pw"))
		wantCode(t, loginFromAddr(s, ipv6(1, 0xbb00, "1"), "alice", "alice-pw"), http.StatusOK, "another /56 of the /48")
	})

	t.Run("per-client limits widen alike", func(t *testing.T) {
		s := throttleServer(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 1, PerClient: 2}))
		for i := range 10 * 2 {
			user := fmt.Sprintf("user%d", i)
			wantCode(t, loginFromAddr(s, ipv6(1, uint16(1+i/2)<<8, "1"), user, "guess"), http.StatusUnauthorized, "%s", user)
		}
		wantThrottled(t, loginFromAddr(s, ipv6(1, 0xff00, "1"), "someone", "guess"))
	})

	t.Run("a success resets every tier", func(t *testing.T) {
		s := throttleServer(t, limit)
		next := uint16(0x100) // the next unused /56 of the /48 2001:db8:1::
		guess := func(n int) {
			t.Helper()
			for i := range n {
				wantCode(t, loginFromAddr(s, ipv6(1, next+uint16(i/perAccount)<<8, "1"), "alice", "typo"), http.StatusUnauthorized, "typo %d", i+1)
			}
			next += uint16((n + perAccount - 1) / perAccount << 8)
		}
		// One short of the /48 limit, then a success from another /64:
		// without a reset of the /48 counter, the next typo would be
		// refused.
		guess(10*perAccount - 1)
		wantCode(t, loginFromAddr(s, ipv6(1, next, "1"), "alice", "alice-pw"), http.StatusOK, "login")
		next += 0x100
		guess(10 * perAccount)
		wantThrottled(t, loginFromAddr(s, ipv6(1, next, "1"), "alice", "typo"))

		// The same for the /56 of 2001:db8:2:aa00::.
		for i := range 3*perAccount - 1 {
			wantCode(t, loginFromAddr(s, ipv6(2, 0xaa00+uint16(i/perAccount), "1"), "alice", "typo"), http.StatusUnauthorized, "/56 typo %d", i+1)
		}
		wantCode(t, loginFromAddr(s, ipv6(2, 0xaa10, "1"), "alice", "alice-pw"), http.StatusOK, "login")
		for i := range 3 * perAccount {
			wantCode(t, loginFromAddr(s, ipv6(2, 0xaa20+uint16(i/perAccount), "1"), "alice", "typo"), http.StatusUnauthorized, "/56 typo after login %d", i+1)
		}
		wantThrottled(t, loginFromAddr(s, ipv6(2, 0xaa30, "1"), "alice", "typo"))

		// And for the /64 itself.
		wantCode(t, loginFromAddr(s, ipv6(3, 1, "1"), "alice", "typo"), http.StatusUnauthorized, "/64 typo")
		wantCode(t, loginFromAddr(s, ipv6(3, 1, "2"), "alice", "alice-pw"), http.StatusOK, "login")
		for i := range perAccount {
			wantCode(t, loginFromAddr(s, ipv6(3, 1, "3"), "alice", "typo"), http.StatusUnauthorized, "/64 typo after login %d", i+1)
		}
		wantThrottled(t, loginFromAddr(s, ipv6(3, 1, "3"), "alice", "typo"))
	})

	t.Run("an IPv4-mapped address is the IPv4 client", func(t *testing.T) {
		s := throttleServer(t, limit)
		wantCode(t, loginFromAddr(s, "[::ffff:198.51.100.7]:1", "alice", "x"), http.StatusUnauthorized, "mapped")
		wantCode(t, loginFromAddr(s, attackerAddr, "alice", "x"), http.StatusUnauthorized, "plain")
		wantThrottled(t, loginFromAddr(s, "[::ffff:198.51.100.7]:2", "alice", "x"))
	})
}

// By default the throttle counts the TCP peer: a client naming a new
// address in X-Forwarded-For with every guess still meets the limit.
func TestThrottleIgnoresForwardedFor(t *testing.T) {
	var calls atomic.Int32
	logs := &logRecorder{}
	s := countingServer(t, &calls, ginfresh.WithLogger(slog.New(logs)))
	for i := range 50 {
		w := s.Do(testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: testkit.Credentials("alice", "guess"),
			RemoteAddr: attackerAddr, Header: http.Header{"X-Forwarded-For": {fmt.Sprintf("10.0.%d.%d", i/250, i%250)}}})
		if i < defaultPerAccount {
			wantCode(t, w, http.StatusUnauthorized, "attempt %d", i+1)
		} else {
			wantThrottled(t, w)
		}
	}
	if got := calls.Load(); got != defaultPerAccount {
		t.Errorf("the authenticator ran %d times, want %d: guesses past the limit never reach it", got, defaultPerAccount)
	}
	for _, r := range append(logs.find("login failed"), logs.find("login throttled")...) {
		if r.attrs["client"] != "198.51.100.7" {
			t.Errorf("%s names client %q, want the one the throttle counted", r.msg, r.attrs["client"])
		}
	}
}

// Behind a proxy the app opts in to gin's ClientIP once gin knows which
// proxies to believe; the clients behind it then count apart.
func TestThrottleClientIPBehindTrustedProxy(t *testing.T) {
	logs := &logRecorder{}
	s := throttleServer(t, ginfresh.WithLogger(slog.New(logs)),
		ginfresh.WithLoginThrottle(ginfresh.Throttle{ClientAddress: (*gin.Context).ClientIP}))
	if err := s.Router.SetTrustedProxies([]string{"192.0.2.10"}); err != nil {
		t.Fatal(err)
	}
	login := func(client, pw string) *httptest.ResponseRecorder {
		return s.Do(testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: testkit.Credentials("alice", pw),
			RemoteAddr: "192.0.2.10:443", Header: http.Header{"X-Forwarded-For": {client}}})
	}
	for i := range defaultPerAccount {
		wantCode(t, login("198.51.100.7", "guess"), http.StatusUnauthorized, "guess %d", i+1)
	}
	wantThrottled(t, login("198.51.100.7", "guess"))
	wantCode(t, login("203.0.113.9", "alice-pw"), http.StatusOK, "another client behind the same proxy")
	if failed := logs.find("login failed"); len(failed) == 0 || failed[0].attrs["client"] != "198.51.100.7" {
		t.Errorf("login failed records %v, want client 198.51.100.7", failed)
	}
	if ok := logs.find("login"); len(ok) != 1 || ok[0].attrs["client"] != "203.0.113.9" {
		t.Errorf("login records %v, want one for client 203.0.113.9", ok)
	}
}

// A login with no client address is refused, not counted with every other
// such login; with the throttle off there is nothing to count.
func TestThrottleEmptyClientAddress(t *testing.T) {
	noAddress := func(*gin.Context) string { return "" }
	var calls atomic.Int32
	s := countingServer(t, &calls, ginfresh.WithLoginThrottle(ginfresh.Throttle{ClientAddress: noAddress}))
	for _, path := range []string{"/auth/login", "/auth/fresh-login"} {
		testkit.Refused(t, throttleLogin(s, path, "", "alice", "alice-pw"), http.StatusBadRequest, "invalid_request")
	}
	if calls.Load() != 0 {
		t.Error("an uncounted attempt reached the authenticator")
	}

	var got *ginfresh.Error
	s = throttleServer(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{ClientAddress: noAddress}),
		ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) { got = e; c.Status(e.Status) }))
	loginFromAddr(s, "", "alice", "alice-pw")
	if !errors.Is(got, ginfresh.ErrInvalidRequest) || !strings.Contains(got.Error(), "Throttle.ClientAddress") {
		t.Errorf("got %v, want ErrInvalidRequest naming Throttle.ClientAddress", got)
	}

	// The default over a connection without an IP address (a Unix socket).
	s = throttleServer(t)
	testkit.Refused(t, loginFromAddr(s, "@", "alice", "alice-pw"), http.StatusBadRequest, "invalid_request")
	s = throttleServer(t, ginfresh.WithoutLoginThrottle())
	wantCode(t, loginFromAddr(s, "@", "alice", "alice-pw"), http.StatusOK, "throttle off")
}

// storeOnly hides the Counter methods of the store it wraps.
type storeOnly struct{ ginfresh.Store }

func TestThrottleWithoutCounterStore(t *testing.T) {
	s := throttleServer(t, ginfresh.WithStore(storeOnly{ginfresh.NewMemoryStore()}))
	for i := range defaultPerAccount {
		wantCode(t, loginFromAddr(s, attackerAddr, "alice", "guess"), http.StatusUnauthorized, "guess %d", i+1)
	}
	wantThrottled(t, loginFromAddr(s, attackerAddr, "alice", "guess"))
}

// counterStore is a memory store whose counter records its keys and can
// fail.
type counterStore struct {
	*ginfresh.MemoryStore
	mu                   sync.Mutex
	keys                 []string
	failIncr, failReset  atomic.Bool
	incrCalls, resetKeys atomic.Int32
}

var errCounterDown = errors.New("counter down: connection refused")

func newCounterStore() *counterStore { return &counterStore{MemoryStore: ginfresh.NewMemoryStore()} }

func (s *counterStore) Incr(ctx context.Context, key string, now time.Time, window time.Duration) (int64, time.Time, error) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	s.incrCalls.Add(1)
	if s.failIncr.Load() {
		return 0, time.Time{}, errCounterDown
	}
	return s.MemoryStore.Incr(ctx, key, now, window)
}

func (s *counterStore) Reset(ctx context.Context, key string) error {
	s.resetKeys.Add(1)
	if s.failReset.Load() {
		return errCounterDown
	}
	return s.MemoryStore.Reset(ctx, key)
}

func (s *counterStore) recorded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

func TestThrottleKeysAreDigests(t *testing.T) {
	for _, tt := range []struct {
		name       string
		addr       string
		perAttempt int // a client and an account counter per block
		hidden     []string
	}{
		{"IPv4", attackerAddr, 2, []string{"198.51.100.7", "198.51.100"}},
		{"IPv6", "[2001:db8:1:2::7]:1", 6, []string{"2001:db8", "2001"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := newCounterStore()
			s := throttleServer(t, ginfresh.WithStore(store))
			loginFromAddr(s, tt.addr, "alice", "guess")
			loginFromAddr(s, tt.addr, "Alice", "guess")
			keys := store.recorded()
			if len(keys) != 2*tt.perAttempt {
				t.Fatalf("%d counter keys for two attempts, want %d: %q", len(keys), 2*tt.perAttempt, keys)
			}
			if first, second := strings.Join(keys[:tt.perAttempt], " "), strings.Join(keys[tt.perAttempt:], " "); first != second {
				t.Errorf("case made another account: %s vs %s", first, second)
			}
			for _, k := range keys {
				if !strings.HasPrefix(k, "ginfresh:throttle:") {
					t.Errorf("key %q lacks the ginfresh:throttle: prefix", k)
				}
				for _, h := range append(tt.hidden, "alice") {
					if strings.Contains(strings.ToLower(k), h) {
						t.Errorf("key %q reveals %q", k, h)
					}
				}
			}
		})
	}
}

// A counter that fails answers 503: no password check goes uncounted, and
// a success whose counters cannot be reset hands out nothing.
func TestThrottleCounterFailure(t *testing.T) {
	for _, tt := range []struct {
		name      string
		path      string
		fail      func(*counterStore)
		wantCalls int32
	}{
		{"login, count fails", "/auth/login", func(s *counterStore) { s.failIncr.Store(true) }, 0},
		{"fresh-login, count fails", "/auth/fresh-login", func(s *counterStore) { s.failIncr.Store(true) }, 0},
		{"login, reset fails", "/auth/login", func(s *counterStore) { s.failReset.Store(true) }, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := newCounterStore()
			var calls atomic.Int32
			s := countingServer(t, &calls, ginfresh.WithStore(store))
			tt.fail(store)
			w := throttleLogin(s, tt.path, victimAddr, "alice", "alice-pw")
			testkit.Refused(t, w, http.StatusServiceUnavailable, "temporarily_unavailable")
			if body := w.Body.String(); strings.Contains(body, errCounterDown.Error()) || strings.Contains(body, "access_token") {
				t.Errorf("the answer reveals the failure or a token: %s", w.Body)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("the authenticator ran %d times, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestThrottleOff(t *testing.T) {
	store := newCounterStore()
	s := throttleServer(t, ginfresh.WithoutLoginThrottle(), ginfresh.WithStore(store))
	for i := range 5 * defaultPerAccount {
		wantCode(t, loginFromAddr(s, attackerAddr, "alice", "guess"), http.StatusUnauthorized, "guess %d", i+1)
	}
	wantCode(t, loginFromAddr(s, attackerAddr, "alice", "alice-pw"), http.StatusOK, "login")
	if n := store.incrCalls.Load() + store.resetKeys.Load(); n != 0 {
		t.Errorf("the counter was used %d times with the throttle off", n)
	}
}

func TestThrottleOptionValidation(t *testing.T) {
	for _, tt := range []struct {
		name    string
		t       ginfresh.Throttle
		wantErr string // "" for none
		wantIs  error
	}{
		{"defaults", ginfresh.Throttle{}, "", nil},
		{"custom", ginfresh.Throttle{PerAccount: 3, PerClient: 3, Window: time.Hour}, "", nil},
		{"a day", ginfresh.Throttle{Window: 24 * time.Hour}, "", nil},
		{"negative account limit", ginfresh.Throttle{PerAccount: -1}, "negative limit", nil},
		{"negative client limit", ginfresh.Throttle{PerClient: -1}, "negative limit", nil},
		{"negative window", ginfresh.Throttle{Window: -time.Second}, "window", nil},
		{"window too long", ginfresh.Throttle{Window: 25 * time.Hour}, "window", nil},
		{"account limit above client limit", ginfresh.Throttle{PerAccount: 10, PerClient: 5}, "exceeds PerClient", nil},
		{"key of 1 byte", ginfresh.Throttle{Key: []byte{'k'}}, "Key is 1 bytes", ginfresh.ErrInvalidKey},
		{"key of 31 bytes", ginfresh.Throttle{Key: bytes.Repeat([]byte{'k'}, 31)}, "Key is 31 bytes", ginfresh.ErrInvalidKey},
		{"key of 32 bytes", ginfresh.Throttle{Key: bytes.Repeat([]byte{'k'}, 32)}, "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ginfresh.New(ginfresh.WithHMACKey(throttleKey), ginfresh.WithAuthenticator(testkit.Authenticate), ginfresh.WithLoginThrottle(tt.t))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.wantErr == "":
			case err == nil || !strings.Contains(err.Error(), "WithLoginThrottle: ") || !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("got %v, want an error naming WithLoginThrottle and %q", err, tt.wantErr)
			case tt.wantIs != nil && !errors.Is(err, tt.wantIs):
				t.Fatalf("got %v, want errors.Is %v", err, tt.wantIs)
			}
		})
	}
}

// WithLoginThrottle and WithoutLoginThrottle contradict each other, and
// each may be given once.
func TestThrottleOnAndOffConflict(t *testing.T) {
	on, off := ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 3}), ginfresh.WithoutLoginThrottle()
	for _, tt := range []struct {
		name string
		opts []ginfresh.Option
		want []string
	}{
		{"on then off", []ginfresh.Option{on, off}, []string{"WithLoginThrottle", "WithoutLoginThrottle"}},
		{"off then on", []ginfresh.Option{off, on}, []string{"WithLoginThrottle", "WithoutLoginThrottle"}},
		{"on twice", []ginfresh.Option{on, on}, []string{"WithLoginThrottle given twice"}},
		{"off twice", []ginfresh.Option{off, off}, []string{"WithoutLoginThrottle given twice"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ginfresh.New(append([]ginfresh.Option{ginfresh.WithHMACKey(throttleKey), ginfresh.WithAuthenticator(testkit.Authenticate)}, tt.opts...)...)
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

// The error handler sees the sentinel of each refusal, and a 429's wait.
func TestThrottleError(t *testing.T) {
	var got *ginfresh.Error
	s := throttleServer(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 1}),
		ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) { got = e; c.Status(http.StatusTeapot) }))
	loginFromAddr(s, attackerAddr, "alice", "x")
	if !errors.Is(got, ginfresh.ErrInvalidCredentials) || got.RetryAfter != 0 {
		t.Errorf("got %v (RetryAfter %v), want ErrInvalidCredentials and no wait", got, got.RetryAfter)
	}
	loginFromAddr(s, attackerAddr, "alice", "x")
	if !errors.Is(got, ginfresh.ErrTooManyAttempts) || got.Status != http.StatusTooManyRequests || got.RetryAfter <= 0 {
		t.Errorf("got %v (status %d, RetryAfter %v), want ErrTooManyAttempts, 429 and a wait", got, got.Status, got.RetryAfter)
	}
}

// Retry-After is the rest of the window in whole seconds, rounded up, the
// same in the Error a handler gets and in the default answer.
func TestThrottleRetryAfter(t *testing.T) {
	var got *ginfresh.Error
	limit := ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 1, Window: time.Minute})
	handled := throttleServer(t, limit, ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) {
		got = e
		e.SetHeaders(c.Writer.Header())
		c.Status(e.Status)
	}))
	plain := throttleServer(t, limit)
	for _, s := range []*testkit.Server{handled, plain} {
		loginFromAddr(s, attackerAddr, "alice", "x")
		s.Clock.Advance(20*time.Second + time.Millisecond)
	}
	w := loginFromAddr(handled, attackerAddr, "alice", "x")
	if !errors.Is(got, ginfresh.ErrTooManyAttempts) || got.RetryAfter != 40*time.Second {
		t.Fatalf("got %v with RetryAfter %v, want ErrTooManyAttempts and 40s", got, got.RetryAfter)
	}
	if ra := w.Header().Get("Retry-After"); ra != "40" {
		t.Errorf("SetHeaders wrote Retry-After %q, want 40", ra)
	}
	if ra := wantThrottled(t, loginFromAddr(plain, attackerAddr, "alice", "x")); ra != "40" {
		t.Errorf("the default answer says Retry-After %s, want 40", ra)
	}
}

// hmacFormat is a minimal custom Format: the payload and an HMAC-SHA256
// over the kind and the payload. Its DeriveKey lets instances holding one
// secret derive one throttle key.
type hmacFormat struct{ secret []byte }

func (f hmacFormat) mac(k ginfresh.Kind, payload []byte) []byte {
	m := hmac.New(sha256.New, f.secret)
	m.Write([]byte{byte(k)})
	m.Write(payload)
	return m.Sum(nil)
}

func (f hmacFormat) Issue(k ginfresh.Kind, payload []byte) (string, error) {
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(f.mac(k, payload)), nil
}

func (f hmacFormat) Verify(k ginfresh.Kind, token string) ([]byte, error) {
	p, s, _ := strings.Cut(token, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(s)
	switch {
	case err1 != nil || err2 != nil:
		return nil, ginfresh.ErrTokenInvalid
	case hmac.Equal(sig, f.mac(k, payload)):
		return payload, nil
	case hmac.Equal(sig, f.mac(ginfresh.Access+ginfresh.Refresh-k, payload)):
		return nil, fmt.Errorf("%w: %w", ginfresh.ErrTokenInvalid, ginfresh.ErrWrongTokenType)
	}
	return nil, ginfresh.ErrTokenInvalid
}

func (hmacFormat) CanIssue() bool { return true }

func (f hmacFormat) DeriveKey(label string) []byte {
	m := hmac.New(sha256.New, f.secret)
	m.Write([]byte("derive\x00" + label))
	return m.Sum(nil)
}

// keylessFormat is hmacFormat without DeriveKey: a format that shows no
// key, like a hardware signer's.
type keylessFormat struct{ f hmacFormat }

func (f keylessFormat) Issue(k ginfresh.Kind, p []byte) (string, error)    { return f.f.Issue(k, p) }
func (f keylessFormat) Verify(k ginfresh.Kind, tok string) ([]byte, error) { return f.f.Verify(k, tok) }
func (keylessFormat) CanIssue() bool                                       { return true }

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestThrottleSharedCounters: instances sharing a store share the limits
// whatever the token format, as long as they share its key (or a
// Throttle.Key): otherwise an attacker would get the limit once per
// instance behind the load balancer.
func TestThrottleSharedCounters(t *testing.T) {
	hmacSecret, otherSecret := randomBytes(t, 32), randomBytes(t, 32)
	edKey := signingKeyFor(t, ginfresh.EdDSA, 0)
	sharedKey := ginfresh.WithLoginThrottle(ginfresh.Throttle{Key: randomBytes(t, 32)})
	for _, tt := range []struct {
		name       string
		a, b       []ginfresh.Option
		wantShared bool
	}{
		{"same HMAC key", []ginfresh.Option{ginfresh.WithHMACKey(hmacSecret)}, []ginfresh.Option{ginfresh.WithHMACKey(hmacSecret)}, true},
		{"other HMAC keys", []ginfresh.Option{ginfresh.WithHMACKey(hmacSecret)}, []ginfresh.Option{ginfresh.WithHMACKey(otherSecret)}, false},
		{"same Ed25519 key", []ginfresh.Option{ginfresh.WithSigningKey(edKey)}, []ginfresh.Option{ginfresh.WithSigningKey(signingKeyFor(t, ginfresh.EdDSA, 0))}, true},
		{"other Ed25519 keys", []ginfresh.Option{ginfresh.WithSigningKey(edKey)}, []ginfresh.Option{ginfresh.WithSigningKey(signingKeyFor(t, ginfresh.EdDSA, 1))}, false},
		{"custom format, same DeriveKey", []ginfresh.Option{ginfresh.WithFormat(hmacFormat{hmacSecret})}, []ginfresh.Option{ginfresh.WithFormat(hmacFormat{bytes.Clone(hmacSecret)})}, true},
		{"custom format, other DeriveKey", []ginfresh.Option{ginfresh.WithFormat(hmacFormat{hmacSecret})}, []ginfresh.Option{ginfresh.WithFormat(hmacFormat{otherSecret})}, false},
		// Documented: a format that shows no key makes each instance count
		// apart, unless they are given one Throttle.Key.
		{"format without DeriveKey", []ginfresh.Option{ginfresh.WithFormat(keylessFormat{hmacFormat{hmacSecret}})}, []ginfresh.Option{ginfresh.WithFormat(keylessFormat{hmacFormat{hmacSecret}})}, false},
		{"format without DeriveKey, same Throttle.Key", []ginfresh.Option{ginfresh.WithFormat(keylessFormat{hmacFormat{hmacSecret}}), sharedKey}, []ginfresh.Option{ginfresh.WithFormat(keylessFormat{hmacFormat{hmacSecret}}), sharedKey}, true},
		{"other keys, same Throttle.Key", []ginfresh.Option{ginfresh.WithHMACKey(hmacSecret), sharedKey}, []ginfresh.Option{ginfresh.WithHMACKey(otherSecret), sharedKey}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := ginfresh.NewMemoryStore()
			clk := testkit.NewClock()
			a := testkit.NewServer(t, clk, false, append(tt.a, ginfresh.WithStore(store))...)
			b := testkit.NewServer(t, clk, false, append(tt.b, ginfresh.WithStore(store))...)
			wantCode(t, loginFromAddr(a, victimAddr, "alice", "alice-pw"), http.StatusOK, "a works")
			wantCode(t, loginFromAddr(b, victimAddr, "alice", "alice-pw"), http.StatusOK, "b works")
			for i := range defaultPerAccount {
				wantCode(t, loginFromAddr(a, attackerAddr, "alice", "guess"), http.StatusUnauthorized, "guess %d at a", i+1)
			}
			wantThrottled(t, loginFromAddr(a, attackerAddr, "alice", "guess"))
			w := loginFromAddr(b, attackerAddr, "alice", "guess")
			if tt.wantShared {
				wantThrottled(t, w)
			} else {
				wantCode(t, w, http.StatusUnauthorized, "b counts apart")
			}
		})
	}

	t.Run("a store without Counter", func(t *testing.T) {
		// Counters then live in each instance's memory.
		store := storeOnly{ginfresh.NewMemoryStore()}
		a := throttleServer(t, ginfresh.WithStore(store))
		b := throttleServer(t, ginfresh.WithStore(store))
		for range defaultPerAccount {
			loginFromAddr(a, attackerAddr, "alice", "guess")
		}
		wantThrottled(t, loginFromAddr(a, attackerAddr, "alice", "guess"))
		wantCode(t, loginFromAddr(b, attackerAddr, "alice", "guess"), http.StatusUnauthorized, "b counts apart")
	})
}

// TestThrottleAppLogin: Auth.Login, the app's own login (a single sign-on
// callback, say), runs under the same throttle as the login handler.
func TestThrottleAppLogin(t *testing.T) {
	// route mounts an app login at /sso: ?account= names the account, and
	// the check fails unless ?ok=1.
	route := func(s *testkit.Server, checks *atomic.Int32) {
		s.Router.POST("/sso", func(c *gin.Context) {
			s.Auth.Login(c, c.Query("account"), func() (ginfresh.Identity, error) {
				checks.Add(1)
				if c.Query("ok") == "1" {
					return ginfresh.Identity{Subject: "carol"}, nil
				}
				return ginfresh.Identity{}, fmt.Errorf("sso: state mismatch: %w", ginfresh.ErrInvalidCredentials)
			})
		})
	}
	sso := func(s *testkit.Server, addr, query string) *httptest.ResponseRecorder {
		return s.Do(testkit.Request{Method: http.MethodPost, Path: "/sso?" + query, RemoteAddr: addr})
	}

	t.Run("per account", func(t *testing.T) {
		var checks atomic.Int32
		s := throttleServer(t, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 3, PerClient: 10}))
		route(s, &checks)
		for i := range 3 {
			testkit.Refused(t, sso(s, attackerAddr, "account=carol@example.com"), http.StatusUnauthorized, "invalid_credentials")
			if got := checks.Load(); got != int32(i+1) {
				t.Fatalf("%d checks after %d attempts", got, i+1)
			}
		}
		wantThrottled(t, sso(s, attackerAddr, "account=carol@example.com&ok=1"))
		wantThrottled(t, sso(s, attackerAddr, "account=+Carol@Example.com+&ok=1"))
		if got := checks.Load(); got != 3 {
			t.Errorf("%d checks, want 3: a throttled login never runs its check", got)
		}
		wantCode(t, sso(s, attackerAddr, "account=dave@example.com&ok=1"), http.StatusOK, "another account")
		wantCode(t, sso(s, victimAddr, "account=carol@example.com&ok=1"), http.StatusOK, "another client")
		// The login handler and the app's login share the counters.
		wantThrottled(t, loginFromAddr(s, attackerAddr, "carol@example.com", "x"))
	})

	t.Run("no account counts per client only", func(t *testing.T) {
		var checks atomic.Int32
		store := newCounterStore()
		s := throttleServer(t, ginfresh.WithStore(store), ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 2, PerClient: 5}))
		route(s, &checks)
		// Past PerAccount, up to PerClient.
		for i := range 5 {
			testkit.Refused(t, sso(s, attackerAddr, "account="), http.StatusUnauthorized, "invalid_credentials")
			if got := checks.Load(); got != int32(i+1) {
				t.Fatalf("%d checks after %d attempts", got, i+1)
			}
		}
		wantThrottled(t, sso(s, attackerAddr, "ok=1"))
		for _, k := range store.recorded() {
			if !strings.HasPrefix(k, "ginfresh:throttle:client:") {
				t.Errorf("counter %q for a login without an account", k)
			}
		}
		wantCode(t, sso(s, victimAddr, "ok=1"), http.StatusOK, "another client")
	})
}

// --- Digest keys ------------------------------------------------------------

var (
	rsaKeys = sync.OnceValues(func() ([2]*rsa.PrivateKey, error) {
		var keys [2]*rsa.PrivateKey
		for i := range keys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return keys, err
			}
			keys[i] = k
		}
		return keys, nil
	})
	edKeys = sync.OnceValue(func() [2]ed25519.PrivateKey {
		var keys [2]ed25519.PrivateKey
		for i := range keys {
			_, keys[i], _ = ed25519.GenerateKey(rand.Reader)
		}
		return keys
	})
	ecKeys = sync.OnceValues(func() ([2]*ecdsa.PrivateKey, error) {
		var keys [2]*ecdsa.PrivateKey
		for i := range keys {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return keys, err
			}
			keys[i] = k
		}
		return keys, nil
	})
)

// signingKeyFor returns the i-th (0 or 1) test key of alg, the same for
// every call.
func signingKeyFor(t *testing.T, alg ginfresh.Algorithm, i int) *ginfresh.Key {
	t.Helper()
	var private crypto.Signer
	switch alg {
	case ginfresh.EdDSA:
		private = edKeys()[i]
	case ginfresh.ES256:
		keys, err := ecKeys()
		if err != nil {
			t.Fatal(err)
		}
		private = keys[i]
	case ginfresh.RS256:
		keys, err := rsaKeys()
		if err != nil {
			t.Fatal(err)
		}
		private = keys[i]
	}
	k, err := ginfresh.NewSigningKey("", alg, private)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// hiddenKeySigner hides the private key behind crypto.Signer, as a hardware
// signer does.
type hiddenKeySigner struct{ crypto.Signer }

// loggedAccount returns the digest a failed login for alice is logged by.
func loggedAccount(t *testing.T, opts ...ginfresh.Option) string {
	t.Helper()
	logs := &logRecorder{}
	s := testkit.NewServer(t, testkit.NewClock(), false, append(opts, ginfresh.WithLogger(slog.New(logs)))...)
	wantCode(t, loginFromAddr(s, attackerAddr, "alice", "guess"), http.StatusUnauthorized, "guess")
	failed := logs.find("login failed")
	if len(failed) != 1 || failed[0].attrs["account"] == "" {
		t.Fatalf("login failed records %v, want one naming the account", failed)
	}
	return failed[0].attrs["account"]
}

// publicDigest is what anyone could compute for an account if the digest
// key were a constant: HMAC under the HMAC of the label with no key.
func publicDigest(account string) string {
	k := hmac.New(sha256.New, nil)
	k.Write([]byte("ginfresh login throttle"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte("account\x00" + account + "\x00"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Without an HMAC secret the digest key comes from the private signing key,
// so logged digests cannot be matched against guessed usernames offline,
// yet instances sharing the key share the digests and so the counters.
func TestThrottleDigestKeyedBySigningKey(t *testing.T) {
	explicit := ginfresh.WithLoginThrottle(ginfresh.Throttle{Key: bytes.Repeat([]byte("0123456789abcdef"), 2)})
	for _, alg := range []ginfresh.Algorithm{ginfresh.EdDSA, ginfresh.ES256, ginfresh.RS256} {
		t.Run(string(alg), func(t *testing.T) {
			k, other := signingKeyFor(t, alg, 0), signingKeyFor(t, alg, 1)
			got := loggedAccount(t, ginfresh.WithSigningKey(k))
			if got == publicDigest("alice") {
				t.Error("the digest is not keyed")
			}
			if again := loggedAccount(t, ginfresh.WithSigningKey(k)); again != got {
				t.Errorf("instances with one signing key disagree: %s, %s", got, again)
			}
			if o := loggedAccount(t, ginfresh.WithSigningKey(other)); o == got {
				t.Error("another signing key gave the same digest")
			}
			withKey := loggedAccount(t, ginfresh.WithSigningKey(k), explicit)
			if withKey == got {
				t.Error("an explicit Key did not replace the derived one")
			}
			if o := loggedAccount(t, ginfresh.WithSigningKey(other), explicit); o != withKey {
				t.Errorf("one explicit Key, two digests: %s, %s", withKey, o)
			}
		})
	}
	t.Run("RSA from PKCS#1 PEM", func(t *testing.T) {
		// Instances usually load one key file; its encoding does not matter.
		keys, err := rsaKeys()
		if err != nil {
			t.Fatal(err)
		}
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(keys[0])})
		fromPEM, err := ginfresh.ParsePrivateKeyPEM("", ginfresh.RS256, pemKey)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := loggedAccount(t, ginfresh.WithSigningKey(signingKeyFor(t, ginfresh.RS256, 0))), loggedAccount(t, ginfresh.WithSigningKey(fromPEM)); a != b {
			t.Errorf("one key, two digests: %s, %s", a, b)
		}
	})
}

// A signer or format that shows no key gets a random digest key per
// instance; a shared Key makes instances agree again.
func TestThrottleDigestWithoutVisibleKey(t *testing.T) {
	explicit := ginfresh.WithLoginThrottle(ginfresh.Throttle{Key: bytes.Repeat([]byte("0123456789abcdef"), 2)})
	signer, err := ginfresh.NewSigningKey("", ginfresh.EdDSA, hiddenKeySigner{edKeys()[0]})
	if err != nil {
		t.Fatal(err)
	}
	for name, opt := range map[string]ginfresh.Option{
		"opaque signer": ginfresh.WithSigningKey(signer),
		"WithFormat":    ginfresh.WithFormat(keylessFormat{hmacFormat{throttleKey}}),
	} {
		t.Run(name, func(t *testing.T) {
			a, b := loggedAccount(t, opt), loggedAccount(t, opt)
			if a == publicDigest("alice") {
				t.Error("the digest is not keyed")
			}
			if a == b {
				t.Error("two instances share a digest key no one gave them")
			}
			if a, b := loggedAccount(t, opt, explicit), loggedAccount(t, opt, explicit); a != b {
				t.Errorf("one explicit Key, two digests: %s, %s", a, b)
			}
		})
	}
}
