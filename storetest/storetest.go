// Package storetest is the conformance suite every [ginfresh.Store] runs, so
// that the memory store and every backend keep one contract:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) ginfresh.Store { return newStore(t) })
//	}
//
// Each subtest gets a fresh store from the factory. Stores must use the
// times they are given, not their own clock, for every decision the suite
// checks.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
)

// base is an arbitrary instant near the real one (a network store turns the
// deadlines it is given into TTLs on its own clock), with microseconds.
var base = time.Now().Truncate(time.Microsecond).Add(123 * time.Microsecond)

const (
	idle     = time.Hour
	lifetime = 24 * time.Hour
)

// Run runs the whole suite.
func Run(t *testing.T, newStore func(t *testing.T) ginfresh.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, ginfresh.Store)
	}{
		{"Rotate", testRotate},
		{"ReplayRevokesSession", testReplay},
		{"RetryOfTheSameStep", testRetry},
		{"KeepWithoutRotation", testKeep},
		{"UnknownSession", testUnknown},
		{"AccessOnlySession", testAccessOnly},
		{"AbsoluteLifetime", testLifetime},
		{"IdleTimeout", testIdle},
		{"RevokeSession", testRevokeSession},
		{"RevokeSubject", testRevokeSubject},
		{"RevokeSubjectRefusesLoginsInFlight", testRevokeSubjectInFlight},
		{"RevokeSubjectKeepsLater", testRevokeSubjectKeepsLater},
		{"Sessions", testSessions},
		{"DoneContextChangesNothing", testDoneContext},
		{"ConcurrentRotateOneWinner", testConcurrentRotate},
		{"Counter", testCounter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

var ctx = context.Background()

func session(id, subject string, at time.Time) ginfresh.Session {
	return ginfresh.Session{ID: id, Subject: subject, Started: at, IdleUntil: at.Add(idle), Expires: at.Add(lifetime),
		UserAgent: "Mozilla/5.0 (storetest) " + id, Address: "192.0.2.7"}
}

func create(t *testing.T, s ginfresh.Store, id, subject, token string, at time.Time) {
	t.Helper()
	if err := s.CreateSession(ctx, session(id, subject, at), token); err != nil {
		t.Fatalf("CreateSession(%s): %v", id, err)
	}
}

func rotate(t *testing.T, s ginfresh.Store, id, presented, next string, at time.Time) ginfresh.RotateResult {
	t.Helper()
	res, err := s.Rotate(ctx, ginfresh.Rotation{Session: id, Presented: presented, Next: next, Now: at, IdleUntil: at.Add(idle)})
	if err != nil {
		t.Fatalf("Rotate(%s, %s→%s): %v", id, presented, next, err)
	}
	return res
}

func want(t *testing.T, what string, got, want any) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func revoked(t *testing.T, s ginfresh.Store, id string, at time.Time) bool {
	t.Helper()
	got, err := s.Revoked(ctx, id, at)
	if err != nil {
		t.Fatalf("Revoked(%s): %v", id, err)
	}
	// A local answer may be unsure, never wrong.
	if l, ok := s.(ginfresh.LocalRevoker); ok {
		if local, sure := l.RevokedLocally(id, at); sure && local != got {
			t.Errorf("RevokedLocally(%s) = %v (sure), Revoked = %v", id, local, got)
		}
	}
	return got
}

func testRotate(t *testing.T, s ginfresh.Store) {
	create(t, s, "s1", "alice", "t1", base)
	want(t, "first rotation", rotate(t, s, "s1", "t1", "t2", base.Add(time.Minute)), ginfresh.Rotated)
	want(t, "second rotation", rotate(t, s, "s1", "t2", "t3", base.Add(2*time.Minute)), ginfresh.Rotated)
	want(t, "a live session's tokens", revoked(t, s, "s1", base.Add(2*time.Minute)), false)
}

func testReplay(t *testing.T, s ginfresh.Store) {
	create(t, s, "s1", "alice", "t1", base)
	create(t, s, "s2", "alice", "u1", base)
	want(t, "rotation", rotate(t, s, "s1", "t1", "t2", base.Add(time.Minute)), ginfresh.Rotated)
	want(t, "a retired token comes back", rotate(t, s, "s1", "t1", "t9", base.Add(2*time.Minute)), ginfresh.Replayed)
	want(t, "the current token dies with the session", rotate(t, s, "s1", "t2", "t3", base.Add(3*time.Minute)), ginfresh.SessionEnded)
	want(t, "the session's access tokens", revoked(t, s, "s1", base.Add(3*time.Minute)), true)
	want(t, "other sessions", rotate(t, s, "s2", "u1", "u2", base.Add(3*time.Minute)), ginfresh.Rotated)
	want(t, "other sessions' access tokens", revoked(t, s, "s2", base.Add(3*time.Minute)), false)
}

// testRetry: a network store may send the same call twice (a client-side
// retry after a timeout). The repeat must answer as the first did, never
// read as a replay.
func testRetry(t *testing.T, s ginfresh.Store) {
	create(t, s, "s1", "alice", "t1", base)
	at := base.Add(time.Minute)
	want(t, "rotation", rotate(t, s, "s1", "t1", "t2", at), ginfresh.Rotated)
	want(t, "the same call again", rotate(t, s, "s1", "t1", "t2", at), ginfresh.Rotated)
	want(t, "the session lives on", rotate(t, s, "s1", "t2", "t3", at.Add(time.Minute)), ginfresh.Rotated)
	want(t, "an older step is a replay", rotate(t, s, "s1", "t1", "t2", at.Add(2*time.Minute)), ginfresh.Replayed)
}

func testKeep(t *testing.T, s ginfresh.Store) {
	create(t, s, "s1", "alice", "t1", base)
	for i := 1; i <= 3; i++ {
		want(t, fmt.Sprintf("refresh %d", i), rotate(t, s, "s1", "t1", "t1", base.Add(time.Duration(i)*time.Minute)), ginfresh.Rotated)
	}
}

func testUnknown(t *testing.T, s ginfresh.Store) {
	want(t, "unknown session", rotate(t, s, "nope", "t1", "t2", base), ginfresh.SessionEnded)
	want(t, "unknown session's tokens", revoked(t, s, "nope", base), false)
	err := s.RevokeSession(ctx, "alice", "nope", base)
	if !errors.Is(err, ginfresh.ErrSessionNotFound) {
		t.Errorf("RevokeSession of an unknown session: got %v, want ErrSessionNotFound", err)
	}
}

func testAccessOnly(t *testing.T, s ginfresh.Store) {
	create(t, s, "s1", "alice", "", base)
	want(t, "a session without a refresh token", rotate(t, s, "s1", "", "t2", base.Add(time.Second)), ginfresh.SessionEnded)
	list, err := s.Sessions(ctx, "alice", base.Add(time.Second))
	if err != nil || len(list) != 1 {
		t.Fatalf("Sessions: %v, %v; want the one session", list, err)
	}
	if err := s.RevokeSession(ctx, "alice", "s1", base.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	want(t, "its tokens after RevokeSession", revoked(t, s, "s1", base.Add(time.Second)), true)
}

func testLifetime(t *testing.T, s ginfresh.Store) {
	create(t, s, "s1", "alice", "t1", base)
	tok := "t1"
	// Stay active (well inside the idle timeout) until the absolute end.
	at := base
	for i := 0; at.Add(idle / 2).Before(base.Add(lifetime)); i++ {
		at = at.Add(idle / 2)
		next := fmt.Sprintf("t%d", i+2)
		if got := rotate(t, s, "s1", tok, next, at); got != ginfresh.Rotated {
			t.Fatalf("refresh at %v: %v", at.Sub(base), got)
		}
		tok = next
	}
	want(t, "refresh at the absolute end", rotate(t, s, "s1", tok, "late", base.Add(lifetime)), ginfresh.SessionEnded)
}

func testIdle(t *testing.T, s ginfresh.Store) {
	create(t, s, "s1", "alice", "t1", base)
	want(t, "refresh just inside the idle timeout", rotate(t, s, "s1", "t1", "t2", base.Add(idle-time.Second)), ginfresh.Rotated)
	want(t, "refresh idle past the timeout", rotate(t, s, "s1", "t2", "t3", base.Add(2*idle)), ginfresh.SessionEnded)
}

func testRevokeSession(t *testing.T, s ginfresh.Store) {
	create(t, s, "s1", "alice", "t1", base)
	create(t, s, "s2", "alice", "u1", base)
	at := base.Add(time.Second)
	if err := s.RevokeSession(ctx, "bob", "s1", at); !errors.Is(err, ginfresh.ErrSessionNotFound) {
		t.Errorf("bob revoking alice's session: got %v, want ErrSessionNotFound", err)
	}
	want(t, "after bob's attempt", rotate(t, s, "s1", "t1", "t2", at), ginfresh.Rotated)
	if err := s.RevokeSession(ctx, "alice", "s1", at); err != nil {
		t.Fatal(err)
	}
	want(t, "refresh of the revoked session", rotate(t, s, "s1", "t2", "t3", at), ginfresh.SessionEnded)
	want(t, "its access tokens", revoked(t, s, "s1", at), true)
	want(t, "the other session", rotate(t, s, "s2", "u1", "u2", at), ginfresh.Rotated)
	want(t, "the other session's tokens", revoked(t, s, "s2", at), false)
	if err := s.RevokeSession(ctx, "alice", "s1", at); !errors.Is(err, ginfresh.ErrSessionNotFound) {
		t.Errorf("revoking an ended session: got %v, want ErrSessionNotFound", err)
	}
}

func testRevokeSubject(t *testing.T, s ginfresh.Store) {
	create(t, s, "s1", "alice", "t1", base)
	create(t, s, "s2", "alice", "u1", base.Add(time.Minute))
	create(t, s, "b1", "bob", "v1", base)
	cut := base.Add(2 * time.Minute)
	if err := s.RevokeSubject(ctx, "alice", cut, cut.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	at := cut.Add(time.Second)
	want(t, "alice's first session", rotate(t, s, "s1", "t1", "t2", at), ginfresh.SessionEnded)
	want(t, "alice's second session", rotate(t, s, "s2", "u1", "u2", at), ginfresh.SessionEnded)
	want(t, "alice's access tokens", revoked(t, s, "s2", at), true)
	want(t, "bob's session", rotate(t, s, "b1", "v1", "v2", at), ginfresh.Rotated)
	want(t, "bob's access tokens", revoked(t, s, "b1", at), false)

	// A login a microsecond after the cut is a new session.
	create(t, s, "s3", "alice", "w1", cut.Add(time.Microsecond))
	want(t, "a session started after the cut", rotate(t, s, "s3", "w1", "w2", at), ginfresh.Rotated)
	want(t, "its access tokens", revoked(t, s, "s3", at), false)
}

// testRevokeSubjectInFlight: a login that checked the password before the
// revocation and records its session after it must not survive.
func testRevokeSubjectInFlight(t *testing.T, s ginfresh.Store) {
	cut := base.Add(time.Minute)
	if err := s.RevokeSubject(ctx, "alice", cut, cut.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, started := range []time.Time{cut.Add(-time.Microsecond), cut} {
		err := s.CreateSession(ctx, session("late", "alice", started), "t1")
		if !errors.Is(err, ginfresh.ErrTokenRevoked) {
			t.Errorf("a session started %v from the cut: got %v, want ErrTokenRevoked", started.Sub(cut), err)
		}
	}
	want(t, "the refused session", rotate(t, s, "late", "t1", "t2", cut.Add(time.Second)), ginfresh.SessionEnded)
	if err := s.CreateSession(ctx, session("bob1", "bob", cut.Add(-time.Second)), "t1"); err != nil {
		t.Errorf("another subject: %v", err)
	}
}

// testRevokeSubjectKeepsLater: a revocation that arrives late (from an
// instance with a slower clock, say) never undoes a newer one.
func testRevokeSubjectKeepsLater(t *testing.T, s ginfresh.Store) {
	newer, older := base.Add(2*time.Minute), base.Add(time.Minute)
	if err := s.RevokeSubject(ctx, "alice", newer, newer.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSubject(ctx, "alice", older, older.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	err := s.CreateSession(ctx, session("s1", "alice", older.Add(time.Second)), "t1")
	if !errors.Is(err, ginfresh.ErrTokenRevoked) {
		t.Errorf("started between the two cuts: got %v, want ErrTokenRevoked", err)
	}
}

func testSessions(t *testing.T, s ginfresh.Store) {
	create(t, s, "s1", "alice", "t1", base)
	create(t, s, "s2", "alice", "u1", base.Add(time.Minute))
	create(t, s, "s3", "alice", "v1", base.Add(2*time.Minute))
	create(t, s, "b1", "bob", "w1", base)
	at := base.Add(time.Hour / 2)
	want(t, "rotation", rotate(t, s, "s2", "u1", "u2", at), ginfresh.Rotated)
	if err := s.RevokeSession(ctx, "alice", "s3", at); err != nil {
		t.Fatal(err)
	}
	list, err := s.Sessions(ctx, "alice", at)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range list {
		ids = append(ids, x.ID)
	}
	if !slices.Equal(ids, []string{"s1", "s2"}) {
		t.Fatalf("alice's sessions: %v, want [s1 s2] (oldest first, revoked ones left out)", ids)
	}
	got, exp := list[1], session("s2", "alice", base.Add(time.Minute))
	want(t, "subject", got.Subject, "alice")
	// Stores may keep times to the millisecond, Started to the microsecond.
	ms := func(t time.Time) time.Time { return t.Truncate(time.Millisecond) }
	want(t, "started", got.Started.Equal(exp.Started), true)
	want(t, "refreshed", ms(got.Refreshed).Equal(ms(at)), true)
	want(t, "expires", ms(got.Expires).Equal(ms(exp.Expires)), true)
	want(t, "idle deadline pushed on", !got.IdleUntil.Before(at.Add(idle).Truncate(time.Millisecond)), true)
	want(t, "user agent", got.UserAgent, exp.UserAgent)
	want(t, "address", got.Address, exp.Address)
	want(t, "never refreshed", list[0].Refreshed.IsZero(), true)

	// Past s1's idle deadline only s2 (refreshed) is left.
	list, err = s.Sessions(ctx, "alice", base.Add(idle+time.Minute))
	if err != nil || len(list) != 1 || list[0].ID != "s2" {
		t.Errorf("after s1 went idle: %v, %v; want [s2]", list, err)
	}
	list, err = s.Sessions(ctx, "carol", at)
	if err != nil || len(list) != 0 {
		t.Errorf("a subject without sessions: %v, %v", list, err)
	}
}

// testDoneContext: a call whose context is done must change nothing, so
// that a client told to try again finds its token as it was.
func testDoneContext(t *testing.T, s ginfresh.Store) {
	create(t, s, "s1", "alice", "t1", base)
	done, cancel := context.WithCancel(ctx)
	cancel()
	at := base.Add(time.Second)
	if _, err := s.Rotate(done, ginfresh.Rotation{Session: "s1", Presented: "t1", Next: "t2", Now: at, IdleUntil: at.Add(idle)}); err == nil {
		t.Error("Rotate with a done context succeeded")
	}
	if err := s.RevokeSession(done, "alice", "s1", at); err == nil {
		t.Error("RevokeSession with a done context succeeded")
	}
	want(t, "the token after the done calls", rotate(t, s, "s1", "t1", "t2", at), ginfresh.Rotated)
}

// testConcurrentRotate fires many rotations of the same token at once:
// exactly one may win, and the losers revoke the session as a replay.
func testConcurrentRotate(t *testing.T, s ginfresh.Store) {
	create(t, s, "s1", "alice", "t1", base)
	const n = 64
	var wins, replays atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			at := base.Add(time.Second)
			res, err := s.Rotate(ctx, ginfresh.Rotation{Session: "s1", Presented: "t1", Next: fmt.Sprintf("n%d", i), Now: at, IdleUntil: at.Add(idle)})
			if err != nil {
				t.Error(err)
				return
			}
			switch res {
			case ginfresh.Rotated:
				wins.Add(1)
			case ginfresh.Replayed:
				replays.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	want(t, "winners", wins.Load(), int32(1))
	if replays.Load() < 1 {
		t.Error("the losers are replays")
	}
}

func testCounter(t *testing.T, s ginfresh.Store) {
	c, ok := s.(ginfresh.Counter)
	if !ok {
		t.Skip("the store does not implement ginfresh.Counter")
	}
	window := time.Minute
	incr := func(key string, at time.Time) (int64, time.Time) {
		t.Helper()
		n, reset, err := c.Incr(ctx, key, at, window)
		if err != nil {
			t.Fatal(err)
		}
		return n, reset
	}
	for i := int64(1); i <= 3; i++ {
		n, reset := incr("k", base.Add(time.Duration(i)*time.Second))
		want(t, "count", n, i)
		want(t, "the window ends a minute after its first attempt", reset.Truncate(time.Millisecond).Equal(base.Add(time.Second+window).Truncate(time.Millisecond)), true)
	}
	n, _ := incr("other", base)
	want(t, "keys count apart", n, int64(1))
	if err := c.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	n, _ = incr("k", base.Add(5*time.Second))
	want(t, "reset starts over", n, int64(1))
	n, _ = incr("k", base.Add(5*time.Second+window))
	want(t, "a new window starts over", n, int64(1))

	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, _, err := c.Incr(ctx, "race", base, window); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n, _ = incr("race", base)
	want(t, "no increment is lost", n, int64(51))
}
