package ginfresh_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// logRecorder is a slog handler that keeps every record, rendered with all
// its attributes.
type logRecorder struct {
	mu      sync.Mutex
	records []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
	text  string
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		b.WriteString(" " + a.String())
		return true
	})
	rec.text = b.String()
	h.mu.Lock()
	h.records = append(h.records, rec)
	h.mu.Unlock()
	return nil
}

// find returns the records with message "ginfresh: "+msg.
func (h *logRecorder) find(msg string) []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logRecord
	for _, r := range h.records {
		if r.msg == "ginfresh: "+msg {
			out = append(out, r)
		}
	}
	return out
}

// all renders every record, one a line.
func (h *logRecorder) all() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, r := range h.records {
		b.WriteString(r.text + "\n")
	}
	return b.String()
}

// logKey signs the tokens of the log tests; the log must never show it.
var logKey = []byte("log-test-key-0123456789-0123456789-0123456789")

// errStoreDown is what a store that is down says. Unlike a token, it may
// be logged: it names the failure, never a secret.
var errStoreDown = errors.New("store down: dial tcp 10.0.0.7:6379: connection refused")

// brokenStore is a memory store whose chosen calls fail, as a store that is
// down does.
type brokenStore struct {
	*ginfresh.MemoryStore
	create, rotate, revoked, revokeSession, incr atomic.Bool
}

func newBrokenStore() *brokenStore { return &brokenStore{MemoryStore: ginfresh.NewMemoryStore()} }

func (s *brokenStore) CreateSession(ctx context.Context, in ginfresh.Session, token string) error {
	if s.create.Load() {
		return errStoreDown
	}
	return s.MemoryStore.CreateSession(ctx, in, token)
}

func (s *brokenStore) Rotate(ctx context.Context, r ginfresh.Rotation) (ginfresh.RotateResult, error) {
	if s.rotate.Load() {
		return 0, errStoreDown
	}
	return s.MemoryStore.Rotate(ctx, r)
}

func (s *brokenStore) Revoked(ctx context.Context, session string, now time.Time) (bool, error) {
	if s.revoked.Load() {
		return false, errStoreDown
	}
	return s.MemoryStore.Revoked(ctx, session, now)
}

func (s *brokenStore) RevokeSession(ctx context.Context, subject, id string, now time.Time) error {
	if s.revokeSession.Load() {
		return errStoreDown
	}
	return s.MemoryStore.RevokeSession(ctx, subject, id, now)
}

func (s *brokenStore) Incr(ctx context.Context, key string, now time.Time, window time.Duration) (int64, time.Time, error) {
	if s.incr.Load() {
		return 0, time.Time{}, errStoreDown
	}
	return s.MemoryStore.Incr(ctx, key, now, window)
}

// claimOf reads a claim from a JWT's payload without verifying it: the
// log names tokens by claims such as jti and sid.
func claimOf(t *testing.T, token, name string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	v, _ := claims[name].(string)
	return v
}

// tokenSecrets lists what of tokens must never be logged or echoed: each
// token and each of its segments.
func tokenSecrets(tokens ...string) []string {
	var out []string
	for _, tok := range tokens {
		if tok != "" {
			out = append(append(out, tok), strings.Split(tok, ".")...)
		}
	}
	return out
}

// TestLogNeverHoldsSecrets drives every flow that logs and proves the log
// names who, where and which token, and never holds a token, one of its
// segments, a password, the key or a cookie value. Error bodies of the same
// flow never echo a token or an internal error.
func TestLogNeverHoldsSecrets(t *testing.T) {
	logs := &logRecorder{}
	store := newBrokenStore()
	s := testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithHMACKey(logKey), ginfresh.WithLogger(slog.New(logs)),
		ginfresh.WithStore(store), ginfresh.WithAccessRevocation(), ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 3}))
	const cookie = "session-cookie-value-4f1d9a"
	secrets := []string{"alice-pw", "bob-pw", "guess-0", "guess-1", "guess-2", "hunter2-typed-as-username", cookie,
		string(logKey), base64.StdEncoding.EncodeToString(logKey), base64.RawURLEncoding.EncodeToString(logKey), hex.EncodeToString(logKey)}
	var bodies []string // of the error answers
	send := func(req testkit.Request) *httptest.ResponseRecorder {
		t.Helper()
		if req.RemoteAddr == "" {
			req.RemoteAddr = victimAddr
		}
		req.Header = http.Header{"Cookie": {"session=" + cookie}}
		w := s.Do(req)
		if w.Code >= 400 {
			bodies = append(bodies, w.Body.String())
		}
		return w
	}
	do := func(req testkit.Request, want int) *httptest.ResponseRecorder {
		t.Helper()
		w := send(req)
		if w.Code != want {
			t.Fatalf("%s %s: got %d %s, want %d", req.Method, req.Path, w.Code, w.Body, want)
		}
		return w
	}
	login := func(user, pw, addr string, want int) *httptest.ResponseRecorder {
		t.Helper()
		return do(testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: testkit.Credentials(user, pw), RemoteAddr: addr}, want)
	}
	post := func(path, token, body string, want int) *httptest.ResponseRecorder {
		t.Helper()
		return do(testkit.Request{Method: http.MethodPost, Path: path, Token: token, Body: body}, want)
	}
	var tokens []string
	keep := func(w *httptest.ResponseRecorder) ginfresh.Tokens {
		t.Helper()
		tok := testkit.DecodeTokens(t, w)
		for _, s := range []string{tok.AccessToken, tok.RefreshToken} {
			if s != "" {
				tokens = append(tokens, s)
			}
		}
		return tok
	}

	first := keep(login("alice", "alice-pw", victimAddr, http.StatusOK))
	for i := range 3 {
		login("alice", "guess-"+string(rune('0'+i)), attackerAddr, http.StatusUnauthorized)
	}
	login("alice", "alice-pw", attackerAddr, http.StatusTooManyRequests)
	login("hunter2-typed-as-username", "x", attackerAddr, http.StatusUnauthorized)

	s.Clock.Advance(time.Minute)
	second := keep(post("/auth/refresh", first.RefreshToken, "", http.StatusOK))
	post("/auth/refresh", first.RefreshToken, "", http.StatusUnauthorized)  // a replay
	post("/auth/refresh", second.RefreshToken, "", http.StatusUnauthorized) // its session is revoked

	third := keep(login("alice", "alice-pw", victimAddr, http.StatusOK))
	fresh := keep(post("/auth/fresh-login", third.AccessToken, testkit.Credentials("alice", "alice-pw"), http.StatusOK))
	post("/auth/fresh-login", fresh.AccessToken, testkit.Credentials("bob", "bob-pw"), http.StatusForbidden)
	post("/auth/logout", third.RefreshToken, "", http.StatusNoContent)
	do(testkit.Request{Path: testkit.Protected, Token: third.AccessToken}, http.StatusUnauthorized)

	fourth := keep(login("alice", "alice-pw", victimAddr, http.StatusOK))
	tampered := fourth.AccessToken[:len(fourth.AccessToken)-2] + "AA"
	if tampered == fourth.AccessToken {
		tampered = fourth.AccessToken[:len(fourth.AccessToken)-2] + "BB"
	}
	do(testkit.Request{Path: testkit.Protected, Token: tampered}, http.StatusUnauthorized)
	s.Clock.Advance(time.Second)
	if err := s.Auth.RevokeSubject(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	post("/auth/fresh-login", fourth.AccessToken, testkit.Credentials("alice", "alice-pw"), http.StatusUnauthorized)

	// Store failures are logged with the store's error, never a token.
	bob := keep(login("bob", "bob-pw", victimAddr, http.StatusOK))
	store.revoked.Store(true)
	do(testkit.Request{Path: testkit.Protected, Token: bob.AccessToken}, http.StatusServiceUnavailable)
	store.revoked.Store(false)
	store.rotate.Store(true)
	post("/auth/refresh", bob.RefreshToken, "", http.StatusServiceUnavailable)
	store.rotate.Store(false)

	// The events are there, naming who, where and which token.
	for _, tt := range []struct {
		msg   string
		level slog.Level
		attrs map[string]string
	}{
		{"login", slog.LevelInfo, map[string]string{"sub": "alice", "client": "203.0.113.9",
			"jti": claimOf(t, first.AccessToken, "jti"), "sid": claimOf(t, first.RefreshToken, "sid")}},
		{"login failed", slog.LevelWarn, map[string]string{"client": "198.51.100.7"}},
		{"login throttled", slog.LevelWarn, map[string]string{"client": "198.51.100.7", "scope": "account"}},
		{"refresh", slog.LevelInfo, map[string]string{"sub": "alice", "client": "203.0.113.9", "jti": claimOf(t, second.AccessToken, "jti")}},
		{"refresh token reuse; session revoked", slog.LevelWarn, map[string]string{"sub": "alice", "jti": claimOf(t, first.RefreshToken, "jti")}},
		{"refresh refused: session ended", slog.LevelWarn, map[string]string{"sub": "alice", "jti": claimOf(t, second.RefreshToken, "jti")}},
		{"fresh login", slog.LevelInfo, map[string]string{"sub": "alice", "jti": claimOf(t, fresh.AccessToken, "jti")}},
		{"fresh-login subject mismatch", slog.LevelWarn, map[string]string{"sub": "alice", "authenticated": "bob"}},
		{"logout", slog.LevelInfo, map[string]string{"sub": "alice", "sid": claimOf(t, third.RefreshToken, "sid")}},
		{"sessions revoked", slog.LevelInfo, map[string]string{"sub": "alice"}},
		{"store failed", slog.LevelWarn, map[string]string{"op": "revoked", "error": errStoreDown.Error()}},
	} {
		recs := logs.find(tt.msg)
		if len(recs) == 0 {
			t.Errorf("no %q event in\n%s", tt.msg, logs.all())
			continue
		}
		r := recs[0]
		if r.level != tt.level {
			t.Errorf("%s: level %v, want %v", tt.msg, r.level, tt.level)
		}
		for k, v := range tt.attrs {
			if got := r.attrs[k]; !strings.Contains(got, v) || v == "" {
				t.Errorf("%s: %s = %q, want %q", tt.msg, k, got, v)
			}
		}
	}
	failed := logs.find("login failed")
	if len(failed) != 4 {
		t.Fatalf("%d login failed records, want 4", len(failed))
	}
	if a := failed[0].attrs["account"]; a == "" || a != failed[2].attrs["account"] || a == failed[3].attrs["account"] {
		t.Errorf("accounts %q, %q, %q: want a digest, one per account", a, failed[2].attrs["account"], failed[3].attrs["account"])
	}

	// Nothing secret, anywhere.
	text := logs.all()
	if len(tokens) != 11 {
		t.Fatalf("kept %d tokens, want 11", len(tokens))
	}
	for _, secret := range append(secrets, tokenSecrets(tokens...)...) {
		if strings.Contains(text, secret) {
			t.Errorf("the log holds the secret %q", secret)
		}
		for _, body := range bodies {
			if strings.Contains(body, secret) {
				t.Errorf("an error answer echoes the secret %q: %s", secret, body)
			}
		}
	}
	for _, body := range bodies {
		if strings.Contains(body, errStoreDown.Error()) || strings.Contains(body, "10.0.0.7") {
			t.Errorf("an error answer reveals the store's error: %s", body)
		}
	}
}

// knownDoubleVerify: at logout and fresh-login, the middleware and then
// the handler each verify the request's access token, so with
// WithAccessRevocation one failing store is asked, and logged, twice.

// TestStoreFailureLoggedOnce: each request that a store failure ends
// answers 503 and leaves exactly one "store failed" record, naming the
// operation and the store's error, and no token.
func TestStoreFailureLoggedOnce(t *testing.T) {
	login := func(_ ginfresh.Tokens) testkit.Request {
		return testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: testkit.Credentials("alice", "alice-pw")}
	}
	for _, tt := range []struct {
		name    string
		fail    func(*brokenStore) *atomic.Bool
		request func(tok ginfresh.Tokens) testkit.Request
		wantOp  string
	}{
		{"login", func(s *brokenStore) *atomic.Bool { return &s.create }, login, "create session"},
		{"fresh-login without a token", func(s *brokenStore) *atomic.Bool { return &s.create }, func(ginfresh.Tokens) testkit.Request {
			return testkit.Request{Method: http.MethodPost, Path: "/auth/fresh-login", Body: testkit.Credentials("alice", "alice-pw")}
		}, "create session"},
		{"login throttle", func(s *brokenStore) *atomic.Bool { return &s.incr }, login, "throttle"},
		{"refresh", func(s *brokenStore) *atomic.Bool { return &s.rotate }, func(tok ginfresh.Tokens) testkit.Request {
			return testkit.Request{Method: http.MethodPost, Path: "/auth/refresh", Token: tok.RefreshToken}
		}, "rotate"},
		{"protected route", func(s *brokenStore) *atomic.Bool { return &s.revoked }, func(tok ginfresh.Tokens) testkit.Request {
			return testkit.Request{Path: testkit.Protected, Token: tok.AccessToken}
		}, "revoked"},
		{"fresh route", func(s *brokenStore) *atomic.Bool { return &s.revoked }, func(tok ginfresh.Tokens) testkit.Request {
			return testkit.Request{Method: http.MethodPost, Path: testkit.Sensitive, Token: tok.AccessToken}
		}, "revoked"},
		{"logout", func(s *brokenStore) *atomic.Bool { return &s.revokeSession }, func(tok ginfresh.Tokens) testkit.Request {
			return testkit.Request{Method: http.MethodPost, Path: "/auth/logout", Token: tok.RefreshToken}
		}, "revoke session"},
		{"logout with the access token", func(s *brokenStore) *atomic.Bool { return &s.revoked }, func(tok ginfresh.Tokens) testkit.Request {
			return testkit.Request{Method: http.MethodPost, Path: "/auth/logout", Token: tok.AccessToken}
		}, "revoked"},
		{"fresh-login with the access token", func(s *brokenStore) *atomic.Bool { return &s.revoked }, func(tok ginfresh.Tokens) testkit.Request {
			return testkit.Request{Method: http.MethodPost, Path: "/auth/fresh-login", Token: tok.AccessToken, Body: testkit.Credentials("alice", "alice-pw")}
		}, "revoked"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logRecorder{}
			store := newBrokenStore()
			s := testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithHMACKey(logKey), ginfresh.WithLogger(slog.New(logs)),
				ginfresh.WithStore(store), ginfresh.WithAccessRevocation())
			tok := s.Login(t, "alice")
			if n := len(logs.find("store failed")); n != 0 {
				t.Fatalf("%d store failures logged before any failed", n)
			}
			tt.fail(store).Store(true)
			w := s.Do(tt.request(tok))
			testkit.Refused(t, w, http.StatusServiceUnavailable, "temporarily_unavailable")
			if strings.Contains(w.Body.String(), errStoreDown.Error()) {
				t.Errorf("the answer reveals the store's error: %s", w.Body)
			}
			failed := logs.find("store failed")
			if len(failed) != 1 {
				t.Fatalf("%d store failed records, want 1:\n%s", len(failed), logs.all())
			}
			r := failed[0]
			if r.level != slog.LevelWarn || r.attrs["op"] != tt.wantOp || !strings.Contains(r.attrs["error"], errStoreDown.Error()) {
				t.Errorf("got %v %q, want a warning with op %q and error %q", r.level, r.text, tt.wantOp, errStoreDown)
			}
			text := logs.all()
			for _, secret := range tokenSecrets(tok.AccessToken, tok.RefreshToken) {
				if strings.Contains(text, secret) {
					t.Errorf("the log holds the token part %q", secret)
				}
			}

			// The store recovers: the next request goes through and logs
			// no failure.
			tt.fail(store).Store(false)
			if w := s.Do(tt.request(tok)); w.Code >= 500 {
				t.Errorf("after recovery: %d %s", w.Code, w.Body)
			}
			if n := len(logs.find("store failed")); n != 1 {
				t.Errorf("%d store failed records after recovery, want still 1", n)
			}
		})
	}
}

// stalledStore is a memory store whose calls, once stalled, block until
// their context is done, like a store behind a dead connection. It records
// how long each stalled call had left.
type stalledStore struct {
	*ginfresh.MemoryStore
	stall atomic.Bool
	mu    sync.Mutex
	left  []time.Duration // -1 when a call came without a deadline
}

func (s *stalledStore) wait(ctx context.Context) error {
	if !s.stall.Load() {
		return nil
	}
	left := time.Duration(-1)
	if dl, ok := ctx.Deadline(); ok {
		left = time.Until(dl)
	}
	s.mu.Lock()
	s.left = append(s.left, left)
	s.mu.Unlock()
	<-ctx.Done()
	return ctx.Err()
}

func (s *stalledStore) deadlines() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.left...)
}

func (s *stalledStore) CreateSession(ctx context.Context, in ginfresh.Session, token string) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.MemoryStore.CreateSession(ctx, in, token)
}

func (s *stalledStore) Rotate(ctx context.Context, r ginfresh.Rotation) (ginfresh.RotateResult, error) {
	if err := s.wait(ctx); err != nil {
		return 0, err
	}
	return s.MemoryStore.Rotate(ctx, r)
}

func (s *stalledStore) Revoked(ctx context.Context, session string, now time.Time) (bool, error) {
	if err := s.wait(ctx); err != nil {
		return false, err
	}
	return s.MemoryStore.Revoked(ctx, session, now)
}

func (s *stalledStore) RevokeSession(ctx context.Context, subject, id string, now time.Time) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.MemoryStore.RevokeSession(ctx, subject, id, now)
}

func (s *stalledStore) Incr(ctx context.Context, key string, now time.Time, window time.Duration) (int64, time.Time, error) {
	if err := s.wait(ctx); err != nil {
		return 0, time.Time{}, err
	}
	return s.MemoryStore.Incr(ctx, key, now, window)
}

func (s *stalledStore) Reset(ctx context.Context, key string) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.MemoryStore.Reset(ctx, key)
}

// serveWithin serves req, failing the test if the answer takes longer than
// a generous bound: a stalled store must never hang a request.
func serveWithin(t *testing.T, s *testkit.Server, req testkit.Request) *httptest.ResponseRecorder {
	t.Helper()
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() { done <- s.Do(req) }()
	select {
	case w := <-done:
		return w
	case <-time.After(10 * time.Second):
		t.Fatalf("%s %s hung on a stalled store", req.Method, req.Path)
		return nil
	}
}

// TestStoreTimeout: with WithStoreTimeout, a store that stalls answers 503
// temporarily_unavailable once the timeout has run out, because every
// store call gets a context with that deadline.
func TestStoreTimeout(t *testing.T) {
	const timeout = 50 * time.Millisecond
	for _, tt := range []struct {
		name    string
		request func(tok ginfresh.Tokens) testkit.Request
	}{
		{"login", func(ginfresh.Tokens) testkit.Request {
			return testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: testkit.Credentials("alice", "alice-pw")}
		}},
		{"refresh", func(tok ginfresh.Tokens) testkit.Request {
			return testkit.Request{Method: http.MethodPost, Path: "/auth/refresh", Token: tok.RefreshToken}
		}},
		{"protected route", func(tok ginfresh.Tokens) testkit.Request {
			return testkit.Request{Path: testkit.Protected, Token: tok.AccessToken}
		}},
		{"logout", func(tok ginfresh.Tokens) testkit.Request {
			return testkit.Request{Method: http.MethodPost, Path: "/auth/logout", Token: tok.RefreshToken}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := &stalledStore{MemoryStore: ginfresh.NewMemoryStore()}
			// The throttle's counter is another matter (see
			// TestStoreTimeoutThrottle): leave it out.
			s := testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithHMACKey(logKey), ginfresh.WithStore(store),
				ginfresh.WithStoreTimeout(timeout), ginfresh.WithAccessRevocation(), ginfresh.WithoutLoginThrottle())
			tok := s.Login(t, "alice")
			store.stall.Store(true)
			w := serveWithin(t, s, tt.request(tok))
			testkit.Refused(t, w, http.StatusServiceUnavailable, "temporarily_unavailable")
			left := store.deadlines()
			if len(left) == 0 {
				t.Fatal("the store saw no call")
			}
			for _, l := range left {
				if l < 0 || l > timeout {
					t.Errorf("a store call had %v left, want a deadline within %v", l, timeout)
				}
			}
		})
	}

	t.Run("validation", func(t *testing.T) {
		for _, tt := range []struct {
			d      time.Duration
			wantOK bool
		}{{time.Millisecond, true}, {30 * time.Second, true}, {0, false}, {-time.Second, false}, {30*time.Second + 1, false}} {
			_, err := ginfresh.New(ginfresh.WithHMACKey(logKey), ginfresh.WithStoreTimeout(tt.d))
			if (err == nil) != tt.wantOK || err != nil && !strings.Contains(err.Error(), "WithStoreTimeout") {
				t.Errorf("WithStoreTimeout(%v): got %v, want ok=%v", tt.d, err, tt.wantOK)
			}
		}
	})
}

// TestStoreTimeoutThrottle: the login throttle's counter is a store call
// like any other, and a stalled one must not hang the login either.
func TestStoreTimeoutThrottle(t *testing.T) {
	const timeout = 50 * time.Millisecond
	store := &stalledStore{MemoryStore: ginfresh.NewMemoryStore()}
	s := testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithHMACKey(logKey), ginfresh.WithStore(store), ginfresh.WithStoreTimeout(timeout))
	store.stall.Store(true)
	w := serveWithin(t, s, testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: testkit.Credentials("alice", "alice-pw")})
	testkit.Refused(t, w, http.StatusServiceUnavailable, "temporarily_unavailable")
	for _, l := range store.deadlines() {
		if l < 0 || l > timeout {
			t.Errorf("a counter call had %v left, want a deadline within %v", l, timeout)
		}
	}
}

// flakyStore fails its next RevokeSession, like a Redis that times out
// once; with applied, the revocation goes through and only the answer is
// lost.
type flakyStore struct {
	*ginfresh.MemoryStore
	failNext, applied atomic.Bool
}

func (s *flakyStore) RevokeSession(ctx context.Context, subject, id string, now time.Time) error {
	if s.failNext.Swap(false) {
		if s.applied.Load() {
			_ = s.MemoryStore.RevokeSession(ctx, subject, id, now)
		}
		return errStoreDown
	}
	return s.MemoryStore.RevokeSession(ctx, subject, id, now)
}

// TestLogoutRetryAfterStoreFailure: a logout the store failed answers 503,
// and the same request, retried, answers 204 and ends the session, whether
// or not the failed call had gone through.
func TestLogoutRetryAfterStoreFailure(t *testing.T) {
	for _, tt := range []struct {
		name       string
		applied    bool
		revocation bool
		access     bool // log out with the access token, not the refresh token
	}{
		{"refresh token, revocation failed", false, true, false},
		{"refresh token, answer lost", true, true, false},
		{"access token, revocation failed", false, true, true},
		{"access token, answer lost", true, false, true},
		{"access token, answer lost, access revocation", true, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := &flakyStore{MemoryStore: ginfresh.NewMemoryStore()}
			opts := []ginfresh.Option{ginfresh.WithHMACKey(logKey), ginfresh.WithStore(store)}
			if tt.revocation {
				opts = append(opts, ginfresh.WithAccessRevocation())
			}
			s := testkit.NewServer(t, testkit.NewClock(), false, opts...)
			tok := s.Login(t, "alice")
			logout := testkit.Request{Method: http.MethodPost, Path: "/auth/logout", Token: tok.RefreshToken}
			if tt.access {
				logout.Token = tok.AccessToken
			}
			store.failNext.Store(true)
			store.applied.Store(tt.applied)
			testkit.Refused(t, s.Do(logout), http.StatusServiceUnavailable, "temporarily_unavailable")
			testkit.Status(t, s.Do(logout), http.StatusNoContent)
			testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
			if tt.revocation {
				testkit.Refused(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
			}
		})
	}
}
