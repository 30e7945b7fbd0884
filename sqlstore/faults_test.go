package sqlstore_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
	"github.com/ginfresh/ginfresh/sqlstore"
)

// The fault matrix: a PostgreSQL that stalls, crashes or is down must
// never revoke a live session by itself nor leave a session half
// rotated. Each test drives a server of its own.

// A backend frozen (SIGSTOP) with a rotation in its socket: the caller
// gives up at its deadline, and the client's retry (the same token, a new
// next one) goes through another instance. When the backend wakes, the
// stale rotation runs, past its fence, and changes nothing: the session
// lives on with the retry's token. (PostgreSQL ignores the cancel request
// pgx sent, which arrives while the backend waits for a command.)
func TestStalledBackendRevokesNothing(t *testing.T) {
	srv := startPostgres(t)
	a, b := open(t, srv.url()), open(t, srv.url())
	a.DB().SetMaxOpenConns(1) // one connection, so one backend to freeze
	now := time.Now()
	mustCreate(t, a, session("s1", "alice", now), "t1")
	// The rotation's statement is prepared on the connection beforehand, so
	// that all of it reaches the frozen backend in one go.
	mustRotate(t, a, rotation("warm-up", "x", "y", now), ginfresh.SessionEnded)
	var pid int
	if err := a.DB().QueryRow("SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT)

	c, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	start := time.Now()
	_, err := a.Rotate(c, rotation("s1", "t1", "t2", now))
	took := time.Since(start)
	cancel()
	if err == nil {
		t.Fatal("Rotate on a frozen backend succeeded")
	}
	if took > 1500*time.Millisecond {
		t.Errorf("Rotate on a frozen backend took %v for a 300ms deadline", took)
	}
	mustRotate(t, b, rotation("s1", "t1", "t3", now), ginfresh.Rotated)

	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// The backend runs what it was sent, finds its client gone and exits.
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil; {
		if time.Now().After(deadline) {
			t.Fatal("the woken backend did not exit")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mustRotate(t, b, rotation("s1", "t3", "t4", now), ginfresh.Rotated)
	if revoked, err := b.Revoked(ctx, "s1", now); err != nil || revoked {
		t.Fatalf("Revoked: %v, %v", revoked, err)
	}
	// The first instance gets a new connection and carries on.
	mustRotate(t, a, rotation("s1", "t4", "t5", now), ginfresh.Rotated)
}

// The server crashes (immediate shutdown, as pg_ctl stop -m immediate)
// while rotations are in flight, then comes back through crash recovery.
// Each session is whole: not revoked, its current token either the last
// one its worker was told of or the one it was rotating to when the crash
// came, with the retired token to match. The worker's retry of the very
// Rotation it was doing answers Rotated either way (done before the crash,
// it is a repeat), and the session carries on.
func TestCrashMidRotation(t *testing.T) {
	srv := startPostgres(t)
	s := open(t, srv.url(), sqlstore.WithSweepInterval(0))
	now := time.Now()
	const workers = 16
	type state struct {
		confirmed string            // the current token as the worker knows it
		pending   ginfresh.Rotation // the rotation that failed
	}
	states := make([]state, workers)
	for i := range states {
		id := fmt.Sprint("s", i)
		mustCreate(t, s, session(id, fmt.Sprint("user", i), now), id+"-0")
		states[i].confirmed = id + "-0"
	}
	var wg sync.WaitGroup
	var rotations sync.Map
	for i := range states {
		wg.Go(func() {
			id := fmt.Sprint("s", i)
			for n := 1; ; n++ {
				r := rotation(id, states[i].confirmed, fmt.Sprint(id, "-", n), now)
				c, cancel := context.WithTimeout(ctx, 2*time.Second)
				res, err := s.Rotate(c, r)
				cancel()
				if err != nil {
					states[i].pending = r
					return
				}
				if res != ginfresh.Rotated {
					t.Errorf("%s before the crash: %v", id, res)
					return
				}
				states[i].confirmed = r.Next
				rotations.Store(i, n)
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	srv.crash()
	wg.Wait()
	srv.start()

	total := 0
	rotations.Range(func(_, n any) bool { total += n.(int); return true })
	if total < workers {
		t.Fatalf("only %d rotations before the crash: the test would test nothing", total)
	}
	db := sqlDB(t, srv.url())
	var torn int
	if err := db.QueryRow(`SELECT count(*) FROM ginfresh_sessions WHERE revoked OR length(current) <> 16
		OR (refreshed = 0) <> (length(previous) = 0) OR idle_until > expires`).Scan(&torn); err != nil {
		t.Fatal(err)
	}
	if torn != 0 {
		t.Errorf("%d sessions are revoked or torn after the crash", torn)
	}
	applied := 0
	for i, st := range states {
		id := fmt.Sprint("s", i)
		var current, previous []byte
		if err := db.QueryRow("SELECT current, previous FROM ginfresh_sessions WHERE key = $1", digest(id)).Scan(&current, &previous); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		switch {
		case bytes.Equal(current, digest(st.confirmed)):
		case bytes.Equal(current, digest(st.pending.Next)) && bytes.Equal(previous, digest(st.pending.Presented)):
			applied++ // done, but the answer was lost with the server
		default:
			t.Errorf("%s: the current token is neither the last confirmed nor the one in flight", id)
		}
		// The same call again; the pool replaces its dead connections.
		var res ginfresh.RotateResult
		var err error
		for range 20 {
			if res, err = s.Rotate(ctx, st.pending); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil || res != ginfresh.Rotated {
			t.Errorf("%s: the retry of the rotation in flight: %v, %v", id, res, err)
			continue
		}
		mustRotate(t, s, rotation(id, st.pending.Next, id+"-after", now), ginfresh.Rotated)
	}
	t.Logf("%d rotations before the crash; %d of %d in flight had been applied", total, applied, workers)
}

// A PostgreSQL that is down answers 503 temporarily_unavailable within the
// store timeout, on every route that needs it, never 401 and never a
// dropped request; once it is back, the session carries on.
func TestDownAnswers503(t *testing.T) {
	srv := startPostgres(t)
	a := testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithHMACKey(secret),
		ginfresh.WithStore(open(t, srv.url())), ginfresh.WithAccessRevocation(), ginfresh.WithStoreTimeout(300*time.Millisecond))
	tok := a.Login(t, "alice")
	srv.crash()
	for _, tt := range []struct{ method, path, token, body string }{
		{http.MethodPost, "/auth/login", "", testkit.Credentials("alice", "alice-pw")},
		{http.MethodPost, "/auth/refresh", tok.RefreshToken, ""},
		{http.MethodPost, "/auth/logout", tok.RefreshToken, ""},
		{http.MethodGet, testkit.Protected, tok.AccessToken, ""},
	} {
		start := time.Now()
		w := a.Do(testkit.Request{Method: tt.method, Path: tt.path, Token: tt.token, Body: tt.body})
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s %s with PostgreSQL down: %d %s, want 503", tt.method, tt.path, w.Code, w.Body)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s %s took %v", tt.method, tt.path, took)
		}
	}
	srv.start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w := a.Refresh(tok.RefreshToken)
		if w.Code == http.StatusOK {
			break
		}
		if w.Code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("refresh after PostgreSQL came back: %d %s", w.Code, w.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	testkit.Status(t, a.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
}
