// Package storetest is the conformance suite every [ginfresh.Store] backend
// runs, so the in-memory store and the Redis store keep one contract:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) ginfresh.Store { return newStore(t) })
//	}
//
// Each subtest gets a fresh store from the factory.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// Factory returns an empty store for one subtest.
type Factory func(t *testing.T) ginfresh.Store

// base is an arbitrary fixed instant: stores must use the times they are
// given, not their own clock, for every decision the suite checks.
var base = time.Now().Truncate(time.Millisecond)

const (
	idle     = time.Hour
	lifetime = 24 * time.Hour
)

// Run runs the whole suite.
func Run(t *testing.T, newStore Factory) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, ginfresh.Store)
	}{
		{"RotateCurrentToken", testRotate},
		{"ReplayRevokesFamily", testReplay},
		{"KeepWithoutRotation", testKeep},
		{"UnknownFamily", testUnknown},
		{"AbsoluteLifetime", testLifetime},
		{"IdleTimeout", testIdle},
		{"RevokeFamily", testRevokeFamily},
		{"RevokeSubject", testRevokeSubject},
		{"RevokeSubjectKeepsLater", testRevokeSubjectKeepsLater},
		{"RevokeToken", testRevokeToken},
		{"ConcurrentRotateOneWinner", testConcurrentRotate},
		{"Counter", testCounter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func newFamily(t *testing.T, s ginfresh.Store, family, subject, token string, at time.Time) {
	t.Helper()
	require.NoError(t, s.CreateFamily(context.Background(), family, subject, token, at, at.Add(idle), at.Add(lifetime)))
}

func rotate(t *testing.T, s ginfresh.Store, family, presented, next string, at time.Time) (time.Time, bool) {
	t.Helper()
	exp, reused, err := s.Rotate(context.Background(), family, presented, next, at, at.Add(idle))
	require.NoError(t, err)
	return exp, reused
}

func testRotate(t *testing.T, s ginfresh.Store) {
	newFamily(t, s, "f1", "alice", "t1", base)
	exp, reused := rotate(t, s, "f1", "t1", "t2", base.Add(time.Minute))
	assert.False(t, reused)
	assert.True(t, exp.Equal(base.Add(lifetime)), "got expiry %v, want %v", exp, base.Add(lifetime))
	exp, reused = rotate(t, s, "f1", "t2", "t3", base.Add(2*time.Minute))
	assert.False(t, reused)
	assert.False(t, exp.IsZero())
}

func testReplay(t *testing.T, s ginfresh.Store) {
	newFamily(t, s, "f1", "alice", "t1", base)
	_, reused := rotate(t, s, "f1", "t1", "t2", base.Add(time.Minute))
	require.False(t, reused)
	exp, reused := rotate(t, s, "f1", "t1", "t9", base.Add(2*time.Minute))
	assert.True(t, reused, "a retired token came back")
	assert.True(t, exp.IsZero())
	exp, reused = rotate(t, s, "f1", "t2", "t3", base.Add(3*time.Minute))
	assert.True(t, exp.IsZero(), "the family's current token dies with it")
	assert.False(t, reused, "a revoked family reports no new reuse")
}

func testKeep(t *testing.T, s ginfresh.Store) {
	newFamily(t, s, "f1", "alice", "t1", base)
	for i := 1; i <= 3; i++ {
		exp, reused := rotate(t, s, "f1", "t1", "t1", base.Add(time.Duration(i)*time.Minute))
		assert.False(t, reused)
		assert.False(t, exp.IsZero())
	}
}

func testUnknown(t *testing.T, s ginfresh.Store) {
	exp, reused := rotate(t, s, "nope", "t1", "t2", base)
	assert.True(t, exp.IsZero())
	assert.False(t, reused)
	require.NoError(t, s.RevokeFamily(context.Background(), "nope"), "revoking an unknown family is not an error")
}

func testLifetime(t *testing.T, s ginfresh.Store) {
	newFamily(t, s, "f1", "alice", "t1", base)
	tok := "t1"
	// Stay active (well inside the idle timeout) until the absolute end.
	at := base
	for i := 0; at.Add(idle / 2).Before(base.Add(lifetime)); i++ {
		at = at.Add(idle / 2)
		next := fmt.Sprintf("t%d", i+2)
		exp, _ := rotate(t, s, "f1", tok, next, at)
		require.False(t, exp.IsZero(), "refresh at %v", at.Sub(base))
		tok = next
	}
	exp, _ := rotate(t, s, "f1", tok, "late", base.Add(lifetime))
	assert.True(t, exp.IsZero(), "no refresh past the absolute lifetime")
}

func testIdle(t *testing.T, s ginfresh.Store) {
	newFamily(t, s, "f1", "alice", "t1", base)
	exp, _ := rotate(t, s, "f1", "t1", "t2", base.Add(idle-time.Second))
	require.False(t, exp.IsZero())
	exp, _ = rotate(t, s, "f1", "t2", "t3", base.Add(2*idle))
	assert.True(t, exp.IsZero(), "idle past the timeout")
}

func testRevokeFamily(t *testing.T, s ginfresh.Store) {
	newFamily(t, s, "f1", "alice", "t1", base)
	newFamily(t, s, "f2", "alice", "u1", base)
	require.NoError(t, s.RevokeFamily(context.Background(), "f1"))
	exp, _ := rotate(t, s, "f1", "t1", "t2", base.Add(time.Second))
	assert.True(t, exp.IsZero())
	exp, _ = rotate(t, s, "f2", "u1", "u2", base.Add(time.Second))
	assert.False(t, exp.IsZero(), "other sessions live on")
}

func testRevokeSubject(t *testing.T, s ginfresh.Store) {
	ctx := context.Background()
	newFamily(t, s, "f1", "alice", "t1", base)
	newFamily(t, s, "f2", "bob", "u1", base)
	cut := base.Add(time.Minute)
	require.NoError(t, s.RevokeSubject(ctx, "alice", cut, cut.Add(lifetime)))

	exp, _ := rotate(t, s, "f1", "t1", "t2", cut.Add(time.Second))
	assert.True(t, exp.IsZero(), "sessions started before the cut are over")
	exp, _ = rotate(t, s, "f2", "u1", "u2", cut.Add(time.Second))
	assert.False(t, exp.IsZero(), "other subjects are untouched")

	newFamily(t, s, "f3", "alice", "v1", cut)
	exp, _ = rotate(t, s, "f3", "v1", "v2", cut.Add(time.Second))
	assert.False(t, exp.IsZero(), "a session started at the cut is new")

	now := cut.Add(time.Second)
	for _, tt := range []struct {
		subject  string
		issuedAt time.Time
		want     bool
	}{
		{"alice", cut.Add(-time.Millisecond), true},
		{"alice", cut, false},
		{"alice", cut.Add(time.Millisecond), false},
		{"bob", cut.Add(-time.Hour), false},
	} {
		got, err := s.Revoked(ctx, "jti-"+tt.subject, tt.subject, tt.issuedAt, now)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "Revoked(%s, issued %v)", tt.subject, tt.issuedAt.Sub(cut))
	}
	got, err := s.Revoked(ctx, "jti", "alice", cut.Add(-time.Hour), cut.Add(lifetime+time.Second))
	require.NoError(t, err)
	assert.False(t, got, "the mark may lapse after until")
}

// testRevokeSubjectKeepsLater: a revocation that arrives late (from an
// instance with a slower clock, say) never undoes a newer one.
func testRevokeSubjectKeepsLater(t *testing.T, s ginfresh.Store) {
	ctx := context.Background()
	newer, older := base.Add(2*time.Minute), base.Add(time.Minute)
	require.NoError(t, s.RevokeSubject(ctx, "alice", newer, newer.Add(lifetime)))
	require.NoError(t, s.RevokeSubject(ctx, "alice", older, older.Add(lifetime)))
	got, err := s.Revoked(ctx, "jti", "alice", newer.Add(-time.Second), newer.Add(time.Second))
	require.NoError(t, err)
	assert.True(t, got, "issued before the newer revocation")

	newFamily(t, s, "f1", "alice", "t1", older.Add(time.Second))
	exp, _ := rotate(t, s, "f1", "t1", "t2", newer.Add(time.Second))
	assert.True(t, exp.IsZero(), "started before the newer revocation")

	// The older call's shorter lifetime does not cut the newer mark short.
	got, err = s.Revoked(ctx, "jti", "alice", newer.Add(-time.Second), older.Add(lifetime+time.Second))
	require.NoError(t, err)
	assert.True(t, got, "the mark lives until the later of the two ends")
}

func testRevokeToken(t *testing.T, s ginfresh.Store) {
	ctx := context.Background()
	require.NoError(t, s.RevokeToken(ctx, "j1", base, base.Add(time.Minute)))
	for _, tt := range []struct {
		token string
		now   time.Time
		want  bool
	}{
		{"j1", base, true},
		{"j2", base, false},
		{"j1", base.Add(2 * time.Minute), false},
	} {
		got, err := s.Revoked(ctx, tt.token, "alice", base.Add(-time.Minute), tt.now)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "Revoked(%s at %v)", tt.token, tt.now.Sub(base))
	}
}

// testConcurrentRotate fires many rotations of the same token at once:
// exactly one may win, and the losers revoke the family as a replay.
func testConcurrentRotate(t *testing.T, s ginfresh.Store) {
	newFamily(t, s, "f1", "alice", "t1", base)
	const n = 64
	var wins, reuses atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			exp, reused, err := s.Rotate(context.Background(), "f1", "t1", fmt.Sprintf("n%d", i), base.Add(time.Second), base.Add(idle))
			if err != nil {
				t.Error(err)
				return
			}
			if !exp.IsZero() {
				wins.Add(1)
			}
			if reused {
				reuses.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, wins.Load(), "exactly one concurrent rotation wins")
	assert.GreaterOrEqual(t, reuses.Load(), int32(1), "the others are replays")
}

func testCounter(t *testing.T, s ginfresh.Store) {
	c, ok := s.(ginfresh.Counter)
	if !ok {
		t.Skip("store does not implement ginfresh.Counter")
	}
	ctx := context.Background()
	window := time.Minute
	for i := int64(1); i <= 3; i++ {
		n, reset, err := c.Incr(ctx, "k", base.Add(time.Duration(i)*time.Second), window)
		require.NoError(t, err)
		assert.Equal(t, i, n)
		assert.True(t, reset.Equal(base.Add(time.Second+window)), "window ends a minute after its first attempt, got %v", reset.Sub(base))
	}
	n, _, err := c.Incr(ctx, "other", base, window)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "keys count apart")
	require.NoError(t, c.Reset(ctx, "k"))
	n, _, err = c.Incr(ctx, "k", base.Add(5*time.Second), window)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "reset starts over")
	n, _, err = c.Incr(ctx, "k", base.Add(5*time.Second+window), window)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "a new window starts over")

	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := c.Incr(ctx, "race", base, window); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	n, _, err = c.Incr(ctx, "race", base, window)
	require.NoError(t, err)
	assert.EqualValues(t, 51, n, "no increment is lost")
}
