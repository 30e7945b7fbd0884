package ginfresh_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// loginFrom logs user in with a User-Agent from a client address.
func loginFrom(t testing.TB, s *testkit.Server, user, userAgent, addr string) ginfresh.Tokens {
	t.Helper()
	w := s.Do(testkit.Request{
		Method: http.MethodPost, Path: "/auth/login", Body: testkit.Credentials(user, testkit.Users[user]),
		Header: http.Header{"User-Agent": {userAgent}}, RemoteAddr: addr,
	})
	testkit.Status(t, w, http.StatusOK)
	return testkit.DecodeTokens(t, w)
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s := keyedServer(t)
	t0 := s.Clock.Now()
	first := loginFrom(t, s, "alice", "Firefox/140", "203.0.113.7:4711")
	s.Clock.Advance(time.Second)
	t1 := s.Clock.Now()
	loginFrom(t, s, "bob", "curl/8", "198.51.100.1:1")
	second := loginFrom(t, s, "alice", "Safari/18", "[2001:db8::1]:443")
	s.Clock.Advance(time.Minute)
	t2 := s.Clock.Now()
	refreshed(t, s, first.RefreshToken)

	got, err := s.Auth.Sessions(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := []ginfresh.Session{
		{
			ID: s.Claims(t, ginfresh.Access, first.AccessToken).SessionID, Subject: "alice",
			Started: t0, Refreshed: t2, IdleUntil: t2.Add(7 * 24 * time.Hour), Expires: t0.Add(30 * 24 * time.Hour),
			UserAgent: "Firefox/140", Address: "203.0.113.7",
		},
		{
			ID: s.Claims(t, ginfresh.Access, second.AccessToken).SessionID, Subject: "alice",
			Started: t1, IdleUntil: t1.Add(7 * 24 * time.Hour), Expires: t1.Add(30 * 24 * time.Hour),
			UserAgent: "Safari/18", Address: "2001:db8::1",
		},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d sessions %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		// Times compare with Equal: a store may hand back another location.
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Subject != w.Subject || g.UserAgent != w.UserAgent || g.Address != w.Address ||
			!g.Started.Equal(w.Started) || !g.Refreshed.Equal(w.Refreshed) || !g.IdleUntil.Equal(w.IdleUntil) || !g.Expires.Equal(w.Expires) {
			t.Errorf("session %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if got, err := s.Auth.Sessions(ctx, "carol"); err != nil || len(got) != 0 {
		t.Errorf("an unknown subject: %v, %v", got, err)
	}
}

// TestSessionUserAgent: the User-Agent is kept to 256 bytes, cut where a
// character ends, so the list never shows half a character.
func TestSessionUserAgent(t *testing.T) {
	for _, tt := range []struct {
		name, ua, want string
	}{
		{"short", "Mozilla/5.0", "Mozilla/5.0"},
		{"256 bytes", strings.Repeat("a", 256), strings.Repeat("a", 256)},
		{"long", strings.Repeat("a", 300), strings.Repeat("a", 256)},
		{"two-byte characters across the cut", "a" + strings.Repeat("é", 150), "a" + strings.Repeat("é", 127)},
		{"three-byte characters across the cut", strings.Repeat("€", 100), strings.Repeat("€", 85)},
		{"none", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := keyedServer(t)
			loginFrom(t, s, "alice", tt.ua, "")
			got, err := s.Auth.Sessions(context.Background(), "alice")
			if err != nil || len(got) != 1 {
				t.Fatalf("sessions %v (%v)", got, err)
			}
			if ua := got[0].UserAgent; ua != tt.want || !utf8.ValidString(ua) {
				t.Errorf("got %q (%d bytes), want %q (%d bytes)", ua, len(ua), tt.want, len(tt.want))
			}
		})
	}
}

func TestRevokeSession(t *testing.T) {
	ctx := context.Background()
	logger, logs := jsonLogger()
	s := keyedServer(t, ginfresh.WithAccessRevocation(), ginfresh.WithLogger(logger))
	tok, other, bob := s.Login(t, "alice"), s.Login(t, "alice"), s.Login(t, "bob")
	sid := s.Claims(t, ginfresh.Access, tok.AccessToken).SessionID

	// A user may end only their own sessions: bob cannot end alice's, and
	// learns nothing from trying.
	if err := s.Auth.RevokeSession(ctx, "bob", sid); !errors.Is(err, ginfresh.ErrSessionNotFound) {
		t.Errorf("another subject's session: %v, want ErrSessionNotFound", err)
	}
	testkit.Status(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	if err := s.Auth.RevokeSession(ctx, "alice", "no-such-session"); !errors.Is(err, ginfresh.ErrSessionNotFound) {
		t.Errorf("an unknown session: %v, want ErrSessionNotFound", err)
	}

	if err := s.Auth.RevokeSession(ctx, "alice", sid); err != nil {
		t.Fatal(err)
	}
	testkit.Refused(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Status(t, s.Get(testkit.Protected, other.AccessToken), http.StatusOK)
	testkit.Status(t, s.Get(testkit.Protected, bob.AccessToken), http.StatusOK)
	if err := s.Auth.RevokeSession(ctx, "alice", sid); !errors.Is(err, ginfresh.ErrSessionNotFound) {
		t.Errorf("an ended session: %v, want ErrSessionNotFound", err)
	}
	if got, _ := s.Auth.Sessions(ctx, "alice"); len(got) != 1 || got[0].ID == sid {
		t.Errorf("sessions %+v: want only the other one", got)
	}
	if !strings.Contains(logs.String(), `"msg":"ginfresh: session revoked","sub":"alice","sid":"`+sid+`"`) {
		t.Errorf("log %s", logs)
	}
	testkit.Status(t, s.Refresh(other.RefreshToken), http.StatusOK)
}

func TestRevokeSubject(t *testing.T) {
	ctx := context.Background()
	s := keyedServer(t, ginfresh.WithAccessRevocation())
	a1, a2, bob := s.Login(t, "alice"), s.Login(t, "alice"), s.Login(t, "bob")
	// Warm the cache: the revocation must reach cached tokens too.
	testkit.Status(t, s.Get(testkit.Protected, a1.AccessToken), http.StatusOK)

	if err := s.Auth.RevokeSubject(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []ginfresh.Tokens{a1, a2} {
		testkit.Refused(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
		testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	}
	if _, err := s.Auth.Verify(ctx, ginfresh.Access, a1.AccessToken); !errors.Is(err, ginfresh.ErrTokenRevoked) {
		t.Errorf("Verify: %v, want ErrTokenRevoked", err)
	}
	if got, _ := s.Auth.Sessions(ctx, "alice"); len(got) != 0 {
		t.Errorf("sessions %+v, want none", got)
	}
	testkit.Status(t, s.Get(testkit.Protected, bob.AccessToken), http.StatusOK)
	testkit.Status(t, s.Refresh(bob.RefreshToken), http.StatusOK)
}

func TestRevokeSubjectWithoutAccessRevocation(t *testing.T) {
	s := keyedServer(t)
	tok := s.Login(t, "alice")
	if err := s.Auth.RevokeSubject(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	// Without WithAccessRevocation access tokens live until they expire.
	testkit.Status(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
}

// TestRevokeSubjectThenLogin: RevokeSubject returns at once, and a login a
// microsecond later (the password change's own login, say) is a new
// session that works; before, the cut covered the whole millisecond and
// the call slept past it.
func TestRevokeSubjectThenLogin(t *testing.T) {
	s := keyedServer(t, ginfresh.WithAccessRevocation())
	old := s.Login(t, "alice")
	if err := s.Auth.RevokeSubject(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(time.Microsecond)
	fresh := s.Login(t, "alice")
	testkit.Status(t, s.Get(testkit.Protected, fresh.AccessToken), http.StatusOK)
	testkit.Status(t, s.Refresh(fresh.RefreshToken), http.StatusOK)
	testkit.Refused(t, s.Get(testkit.Protected, old.AccessToken), http.StatusUnauthorized, "invalid_token")

	// A second revocation catches the new session as well.
	s.Clock.Advance(time.Microsecond)
	if err := s.Auth.RevokeSubject(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	testkit.Refused(t, s.Get(testkit.Protected, fresh.AccessToken), http.StatusUnauthorized, "invalid_token")
}

// TestRevokeSubjectRealClock: on the real clock a login, a revocation and
// the next login follow each other within microseconds; whatever the
// timing, the session before the revocation is over and the one after it
// is not.
func TestRevokeSubjectRealClock(t *testing.T) {
	auth, err := ginfresh.New(ginfresh.WithHMACKey(hmacTestKey), ginfresh.WithAuthenticator(testkit.Authenticate),
		ginfresh.WithAccessRevocation(), ginfresh.WithoutLoginThrottle())
	if err != nil {
		t.Fatal(err)
	}
	s := &testkit.Server{Auth: auth, Router: testkit.Router(auth)}
	for i := range 50 {
		old := s.Login(t, "alice")
		if err := auth.RevokeSubject(context.Background(), "alice"); err != nil {
			t.Fatal(err)
		}
		fresh := s.Login(t, "alice")
		if s.Get(testkit.Protected, old.AccessToken).Code != http.StatusUnauthorized || s.Refresh(old.RefreshToken).Code != http.StatusUnauthorized {
			t.Fatalf("round %d: the revoked session lives on", i)
		}
		if s.Get(testkit.Protected, fresh.AccessToken).Code != http.StatusOK || s.Refresh(fresh.RefreshToken).Code != http.StatusOK {
			t.Fatalf("round %d: the login after the revocation does not work", i)
		}
	}
}

// racingStore revokes the subject, at the session's own start, just before
// creating each session: a RevokeSubject that lands between a login's
// credential check and its session.
type racingStore struct{ *ginfresh.MemoryStore }

func (s racingStore) CreateSession(ctx context.Context, sess ginfresh.Session, token string) error {
	if err := s.MemoryStore.RevokeSubject(ctx, sess.Subject, sess.Started, sess.Started.Add(time.Hour)); err != nil {
		return err
	}
	return s.MemoryStore.CreateSession(ctx, sess, token)
}

// TestLoginRacingRevokeSubject: a login whose session would start no later
// than a revocation of its user is refused, not let through with tokens
// the revocation never saw.
func TestLoginRacingRevokeSubject(t *testing.T) {
	s := keyedServer(t, ginfresh.WithStore(racingStore{ginfresh.NewMemoryStore()}))
	for _, path := range []string{"/auth/login", "/auth/fresh-login"} {
		w := s.Post(path, "", testkit.Credentials("alice", "alice-pw"))
		testkit.Refused(t, w, http.StatusUnauthorized, "invalid_token")
		if strings.Contains(w.Body.String(), "eyJ") {
			t.Errorf("%s: a token leaked: %s", path, w.Body)
		}
	}
	if _, err := s.Auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice"}); !errors.Is(err, ginfresh.ErrTokenRevoked) {
		t.Errorf("StartSession: %v, want ErrTokenRevoked", err)
	}
	if got, _ := s.Auth.Sessions(context.Background(), "alice"); len(got) != 0 {
		t.Errorf("sessions %+v, want none", got)
	}
}

// downStore fails every session call while down is set, like a Redis
// that went away. The throttle's counters keep working.
type downStore struct {
	*ginfresh.MemoryStore
	down atomic.Bool
}

var errSessionStoreDown = errors.New("connection refused")

func (s *downStore) err() error {
	if s.down.Load() {
		return errSessionStoreDown
	}
	return nil
}

func (s *downStore) CreateSession(ctx context.Context, sess ginfresh.Session, token string) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.MemoryStore.CreateSession(ctx, sess, token)
}

func (s *downStore) Rotate(ctx context.Context, r ginfresh.Rotation) (ginfresh.RotateResult, error) {
	if err := s.err(); err != nil {
		return 0, err
	}
	return s.MemoryStore.Rotate(ctx, r)
}

func (s *downStore) RevokeSession(ctx context.Context, subject, id string, now time.Time) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.MemoryStore.RevokeSession(ctx, subject, id, now)
}

func (s *downStore) RevokeSubject(ctx context.Context, subject string, at, until time.Time) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.MemoryStore.RevokeSubject(ctx, subject, at, until)
}

func (s *downStore) Revoked(ctx context.Context, session string, now time.Time) (bool, error) {
	if err := s.err(); err != nil {
		return false, err
	}
	return s.MemoryStore.Revoked(ctx, session, now)
}

func (s *downStore) Sessions(ctx context.Context, subject string, now time.Time) ([]ginfresh.Session, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.MemoryStore.Sessions(ctx, subject, now)
}

// TestStoreFailure: a store that fails answers 503 everywhere, keeps its
// error inside, and leaves nothing half-done: once it is back, the session
// carries on where it was.
func TestStoreFailure(t *testing.T) {
	ctx := context.Background()
	logger, logs := jsonLogger()
	store := &downStore{MemoryStore: ginfresh.NewMemoryStore()}
	s := keyedServer(t, ginfresh.WithStore(store), ginfresh.WithAccessRevocation(), ginfresh.WithLogger(logger))
	tok := s.Login(t, "alice")
	sid := s.Claims(t, ginfresh.Access, tok.AccessToken).SessionID
	store.down.Store(true)

	creds := testkit.Credentials("alice", "alice-pw")
	for _, req := range []testkit.Request{
		{Method: http.MethodPost, Path: "/auth/login", Body: creds},
		{Method: http.MethodPost, Path: "/auth/fresh-login", Body: creds},
		{Method: http.MethodPost, Path: "/auth/refresh", Token: tok.RefreshToken},
		{Method: http.MethodPost, Path: "/auth/logout", Token: tok.RefreshToken},
		{Path: testkit.Protected, Token: tok.AccessToken},
	} {
		w := s.Do(req)
		testkit.Refused(t, w, http.StatusServiceUnavailable, "temporarily_unavailable")
		if strings.Contains(w.Body.String(), errSessionStoreDown.Error()) {
			t.Errorf("%s: the answer reveals the store's error: %s", req.Path, w.Body)
		}
	}
	for name, call := range map[string]func() error{
		"Sessions":      func() error { _, err := s.Auth.Sessions(ctx, "alice"); return err },
		"RevokeSession": func() error { return s.Auth.RevokeSession(ctx, "alice", sid) },
		"RevokeSubject": func() error { return s.Auth.RevokeSubject(ctx, "alice") },
		"StartSession":  func() error { _, err := s.Auth.StartSession(ctx, ginfresh.Identity{Subject: "alice"}); return err },
	} {
		if err := call(); !errors.Is(err, ginfresh.ErrStoreUnavailable) || !errors.Is(err, errSessionStoreDown) {
			t.Errorf("%s: %v, want ErrStoreUnavailable wrapping the store's error", name, err)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"ginfresh: store failed"`) {
		t.Errorf("log %s", logs)
	}

	store.down.Store(false)
	testkit.Status(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	testkit.Status(t, s.Refresh(tok.RefreshToken), http.StatusOK)
}

// flakyRevokeStore fails the next RevokeSession, like a Redis that times
// out once: before the change (lost) or after it (applied, the answer lost).
type flakyRevokeStore struct {
	*ginfresh.MemoryStore
	failNext, applied atomic.Bool
}

func (s *flakyRevokeStore) RevokeSession(ctx context.Context, subject, id string, now time.Time) error {
	if !s.failNext.Swap(false) {
		return s.MemoryStore.RevokeSession(ctx, subject, id, now)
	}
	if s.applied.Load() {
		_ = s.MemoryStore.RevokeSession(ctx, subject, id, now)
	}
	return errSessionStoreDown
}

// TestLogoutRetry: a logout the store failed answers 503, and the same
// request, retried, answers 204 whether or not the first one got through,
// so the client knows the session is over.
func TestLogoutRetry(t *testing.T) {
	for _, tt := range []struct {
		name    string
		token   func(ginfresh.Tokens) string
		applied bool
	}{
		{"refresh token, not revoked", func(tok ginfresh.Tokens) string { return tok.RefreshToken }, false},
		{"refresh token, answer lost", func(tok ginfresh.Tokens) string { return tok.RefreshToken }, true},
		{"access token, not revoked", func(tok ginfresh.Tokens) string { return tok.AccessToken }, false},
		// The retry's access token is refused by now; it still names a
		// session that has ended, which is what the client asked for.
		{"access token, answer lost", func(tok ginfresh.Tokens) string { return tok.AccessToken }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := &flakyRevokeStore{MemoryStore: ginfresh.NewMemoryStore()}
			s := keyedServer(t, ginfresh.WithStore(store), ginfresh.WithAccessRevocation())
			tok := s.Login(t, "alice")
			store.failNext.Store(true)
			store.applied.Store(tt.applied)
			testkit.Refused(t, s.Post("/auth/logout", tt.token(tok), ""), http.StatusServiceUnavailable, "temporarily_unavailable")
			testkit.Status(t, s.Post("/auth/logout", tt.token(tok), ""), http.StatusNoContent)
			testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
			testkit.Refused(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
		})
	}
}

// localStore answers RevokedLocally as told, and counts the calls that
// reach Revoked and whether they came with a deadline.
type localStore struct {
	*ginfresh.MemoryStore
	sure          atomic.Bool
	calls, timed  atomic.Int32
	revokedAnswer atomic.Bool // what RevokedLocally says when sure
}

func (s *localStore) RevokedLocally(string, time.Time) (revoked, sure bool) {
	return s.revokedAnswer.Load(), s.sure.Load()
}

func (s *localStore) Revoked(ctx context.Context, session string, now time.Time) (bool, error) {
	s.calls.Add(1)
	if _, ok := ctx.Deadline(); ok {
		s.timed.Add(1)
	}
	return s.MemoryStore.Revoked(ctx, session, now)
}

// A LocalRevoker store answers access checks from memory while it is sure,
// and the check falls back to Revoked, within the store timeout, when it is
// not.
func TestLocalRevoker(t *testing.T) {
	store := &localStore{MemoryStore: ginfresh.NewMemoryStore()}
	s := keyedServer(t, ginfresh.WithStore(store), ginfresh.WithAccessRevocation())
	tok := s.Login(t, "alice")

	store.sure.Store(true)
	testkit.Status(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	store.revokedAnswer.Store(true)
	testkit.Refused(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
	if n := store.calls.Load(); n != 0 {
		t.Errorf("Revoked called %d times while the local answer was sure", n)
	}

	store.sure.Store(false) // Revoked decides: the session is live
	testkit.Status(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	if n, timed := store.calls.Load(), store.timed.Load(); n != 1 || timed != 1 {
		t.Errorf("Revoked called %d times, %d with a deadline; want 1 and 1", n, timed)
	}
}

// lostAnswerStore commits a rotation and then fails it, once: the store
// stalled between its commit and its reply.
type lostAnswerStore struct {
	*ginfresh.MemoryStore
	lose atomic.Bool
}

func (s *lostAnswerStore) Rotate(ctx context.Context, r ginfresh.Rotation) (ginfresh.RotateResult, error) {
	res, err := s.MemoryStore.Rotate(ctx, r)
	if err == nil && s.lose.CompareAndSwap(true, false) {
		return 0, context.DeadlineExceeded
	}
	return res, err
}

// A rotation whose answer was lost is not a replay when the client,
// told 503, tries again with the same refresh token: the retry redeems it
// and the session lives on. Reuse detection still holds afterwards.
func TestRetryAfterLostRotation(t *testing.T) {
	store := &lostAnswerStore{MemoryStore: ginfresh.NewMemoryStore()}
	s := keyedServer(t, ginfresh.WithStore(store), ginfresh.WithAccessRevocation())
	tok := s.Login(t, "alice")

	store.lose.Store(true)
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusServiceUnavailable, "temporarily_unavailable")
	w := s.Refresh(tok.RefreshToken) // the client's retry
	testkit.Status(t, w, http.StatusOK)
	next := testkit.DecodeTokens(t, w)
	testkit.Status(t, s.Get(testkit.Protected, next.AccessToken), http.StatusOK)

	w = s.Refresh(next.RefreshToken)
	testkit.Status(t, w, http.StatusOK)
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, s.Get(testkit.Protected, testkit.DecodeTokens(t, w).AccessToken), http.StatusUnauthorized, "invalid_token")
}

// After a lost rotation, only the first retry is absorbed: a second
// presentation of the same refresh token (a thief's copy, or the user's
// after the thief's) is a replay and ends the session.
func TestLostRotationStillDetectsReuse(t *testing.T) {
	store := &lostAnswerStore{MemoryStore: ginfresh.NewMemoryStore()}
	s := keyedServer(t, ginfresh.WithStore(store), ginfresh.WithAccessRevocation())
	tok := s.Login(t, "alice")
	store.lose.Store(true)
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusServiceUnavailable, "temporarily_unavailable")

	w := s.Refresh(tok.RefreshToken) // whoever retries first
	testkit.Status(t, w, http.StatusOK)
	first := testkit.DecodeTokens(t, w)
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, s.Get(testkit.Protected, first.AccessToken), http.StatusUnauthorized, "invalid_token")
}

// Of several retries at the same moment after a lost rotation, at most one
// wins, as of any concurrent refreshes of one token: the retry holding the
// lost step's ID wins if it reaches the store first; any other is a replay
// of the retired token and ends the session.
func TestConcurrentRetriesAfterLostRotation(t *testing.T) {
	store := &lostAnswerStore{MemoryStore: ginfresh.NewMemoryStore()}
	s := keyedServer(t, ginfresh.WithStore(store))
	tok := s.Login(t, "alice")
	store.lose.Store(true)
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusServiceUnavailable, "temporarily_unavailable")

	const n = 10
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { codes <- s.Refresh(tok.RefreshToken).Code })
	}
	wg.Wait()
	close(codes)
	won := map[int]int{}
	for c := range codes {
		won[c]++
	}
	if won[http.StatusOK] > 1 || won[http.StatusOK]+won[http.StatusUnauthorized] != n {
		t.Errorf("retries answered %v, want at most one 200 and the rest 401", won)
	}
}
