package ginfresh_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) ginfresh.Store { return ginfresh.NewMemoryStore() })
}

var memEpoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// memSession is a session of subject started at, idle after an hour and
// over after two.
func memSession(id, subject string, at time.Time) ginfresh.Session {
	return ginfresh.Session{ID: id, Subject: subject, Started: at, IdleUntil: at.Add(time.Hour), Expires: at.Add(2 * time.Hour)}
}

func mustCreate(t testing.TB, s *ginfresh.MemoryStore, in ginfresh.Session, token string) {
	t.Helper()
	if err := s.CreateSession(context.Background(), in, token); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryStoreSweepsIncrementally: expired records go a small batch per
// write, so no request pays for forgetting many at once, and successive
// writes still forget them all.
func TestMemoryStoreSweepsIncrementally(t *testing.T) {
	const n = 4096
	if ginfresh.MemorySweepBatch > 256 {
		t.Fatalf("a sweep batch of %d is no small batch", ginfresh.MemorySweepBatch)
	}
	t.Run("sessions", func(t *testing.T) {
		s := ginfresh.NewMemoryStore()
		for i := range n {
			mustCreate(t, s, memSession(fmt.Sprint("old-", i), fmt.Sprint("user-", i), memEpoch), "rt")
		}
		if got := s.Len(); got != 2*n {
			t.Fatalf("Len %d, want %d sessions and subjects", got, 2*n)
		}
		// One write touches a subjects shard and a sessions shard, each
		// dropping at most a batch.
		maxDrop := 2 * ginfresh.MemorySweepBatch
		later := memEpoch.Add(3 * time.Hour)
		writes, maxDropped := 0, 0
		for s.Len() > 2*writes {
			if writes > 100*n/ginfresh.MemorySweepBatch {
				t.Fatalf("%d of %d expired records left after %d writes", s.Len()-2*writes, 2*n, writes)
			}
			before := s.Len()
			mustCreate(t, s, memSession(fmt.Sprint("new-", writes), fmt.Sprint("late-", writes), later), "rt")
			writes++
			dropped := before + 2 - s.Len()
			if dropped > maxDrop {
				t.Fatalf("write %d dropped %d records, want at most %d", writes, dropped, maxDrop)
			}
			maxDropped = max(maxDropped, dropped)
		}
		if maxDropped == 0 {
			t.Error("no write dropped anything")
		}
		t.Logf("%d writes forgot %d expired records, at most %d at a time", writes, 2*n, maxDropped)
	})

	t.Run("counters", func(t *testing.T) {
		ctx := context.Background()
		s := ginfresh.NewMemoryStore()
		for i := range n {
			if _, _, err := s.Incr(ctx, fmt.Sprint("old-", i), memEpoch, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		later := memEpoch.Add(time.Hour)
		writes := 0
		for s.Len() > writes {
			if writes > 100*n/ginfresh.MemorySweepBatch {
				t.Fatalf("%d expired counters left after %d writes", s.Len()-writes, writes)
			}
			before := s.Len()
			if _, _, err := s.Incr(ctx, fmt.Sprint("new-", writes), later, time.Minute); err != nil {
				t.Fatal(err)
			}
			writes++
			if dropped := before + 1 - s.Len(); dropped > ginfresh.MemorySweepBatch {
				t.Fatalf("write %d dropped %d counters, want at most %d", writes, dropped, ginfresh.MemorySweepBatch)
			}
		}
	})
}

// TestMemoryStoreForgetsExpired: memory is bounded by what is still live:
// expired sessions, subjects (with their cuts) and counters all go on later
// writes.
func TestMemoryStoreForgetsExpired(t *testing.T) {
	ctx := context.Background()
	s := ginfresh.NewMemoryStore()
	for i := range 100 {
		id := fmt.Sprint(i)
		mustCreate(t, s, memSession("s"+id, "alice", memEpoch), "t"+id)
		if _, _, err := s.Incr(ctx, "k"+id, memEpoch, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeSubject(ctx, "alice", memEpoch, memEpoch.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := s.Len(); got != 201 {
		t.Fatalf("Len %d, want 100 sessions, a subject and 100 counters", got)
	}

	// Each round writes a live session (and its subject) and a live
	// counter; the expired records go along the way.
	later := memEpoch.Add(3 * time.Hour)
	rounds := 0
	for ; s.Len() > 3*rounds; rounds++ {
		if rounds > 10_000 {
			t.Fatalf("%d expired records left after %d rounds", s.Len()-3*rounds, rounds)
		}
		id := fmt.Sprint(rounds)
		mustCreate(t, s, memSession("late-"+id, "late-"+id, later), "t")
		if _, _, err := s.Incr(ctx, "late-"+id, later, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMemoryStoreSweepKeepsExtended: a record's first deadline is a hint.
// A session refreshed since, or a counter whose window started again, is
// kept when that deadline comes.
func TestMemoryStoreSweepKeepsExtended(t *testing.T) {
	ctx := context.Background()
	s := ginfresh.NewMemoryStore()
	in := memSession("keep", "alice", memEpoch)
	in.Expires = memEpoch.Add(10 * time.Hour)
	mustCreate(t, s, in, "r1")
	rotate := func(presented, next string, at time.Time) ginfresh.RotateResult {
		t.Helper()
		res, err := s.Rotate(ctx, ginfresh.Rotation{Session: "keep", Presented: presented, Next: next, Now: at, IdleUntil: at.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if got := rotate("r1", "r2", memEpoch.Add(50*time.Minute)); got != ginfresh.Rotated {
		t.Fatalf("first refresh: got %v, want Rotated", got)
	}
	count := func(key string, at time.Time) int64 {
		t.Helper()
		n, _, err := s.Incr(ctx, key, at, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// A backlog of counters due before "ip", so that the sweep at the start
	// of its second window does not reach its first window's deadline.
	for i := range 3200 {
		count(fmt.Sprint("backlog-", i), memEpoch)
	}
	count("ip", memEpoch.Add(30*time.Second))
	count("ip", memEpoch.Add(2*time.Minute)) // a new window, ending at +3m

	// Past both first deadlines, enough writes to sweep every shard.
	at := memEpoch.Add(70 * time.Minute)
	for i := range 2000 {
		mustCreate(t, s, memSession(fmt.Sprint("filler-", i), fmt.Sprint("filler-", i), at), "t")
	}
	if got := rotate("r2", "r3", at); got != ginfresh.Rotated {
		t.Errorf("refresh after the first idle deadline: got %v, want Rotated", got)
	}
	counterAt := memEpoch.Add(150 * time.Second)
	for i := range 2000 {
		count(fmt.Sprint("filler-", i), counterAt)
	}
	if got := count("ip", counterAt); got != 2 {
		t.Errorf("count %d in the second window, want 2: the counter was dropped at the first window's end", got)
	}
}

// --- Benchmarks ------------------------------------------------------------

// BenchmarkMemoryStoreExpiry fills the store with live sessions, then
// refreshes and checks random ones while most of them come due, and
// reports the slowest call and the 99.9th percentile, at ten thousand
// sessions and at a million. Forgetting expired sessions is spread over
// the writes, so neither figure may grow with the store's size; the small
// store is the control for what the machine itself adds (scheduling,
// garbage collection).
func BenchmarkMemoryStoreExpiry(b *testing.B) {
	for _, sessions := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
			if testing.Short() && sessions > 10_000 {
				b.Skip("fills a million sessions")
			}
			benchmarkExpiry(b, sessions)
		})
	}
}

func benchmarkExpiry(b *testing.B, sessions int) {
	const span = time.Hour // the sessions' idle deadlines spread over it
	ctx := context.Background()
	s := ginfresh.NewMemoryStore()
	ids := make([]string, sessions)
	for i := range sessions {
		ids[i] = fmt.Sprintf("session-%014d", i)
		in := ginfresh.Session{
			ID: ids[i], Subject: "user-" + strconv.Itoa(i%100_000), Started: memEpoch,
			IdleUntil: memEpoch.Add(time.Hour + span*time.Duration(i)/time.Duration(sessions)), Expires: memEpoch.Add(30 * 24 * time.Hour),
		}
		if err := s.CreateSession(ctx, in, ids[i]); err != nil {
			b.Fatal(err)
		}
	}
	// The calls start when 60% of the sessions are due, and the clock
	// moves on a millisecond a call, bringing more due.
	start := memEpoch.Add(time.Hour + span*6/10)
	rng := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, 1<<20)
	runtime.GC()
	i := 0
	for b.Loop() {
		now := start.Add(time.Duration(i) * time.Millisecond)
		i++
		id := ids[rng.IntN(sessions)]
		t0 := time.Now()
		_, err := s.Rotate(ctx, ginfresh.Rotation{Session: id, Presented: id, Next: id, Now: now, IdleUntil: now.Add(time.Hour)})
		t1 := time.Now()
		_, err2 := s.Revoked(ctx, ids[rng.IntN(sessions)], now)
		t2 := time.Now()
		if err != nil || err2 != nil {
			b.Fatal(err, err2)
		}
		lat = append(lat, t1.Sub(t0), t2.Sub(t1))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds()), "max-ns")
	b.ReportMetric(float64(lat[len(lat)*999/1000].Nanoseconds()), "p99.9-ns")
}

// BenchmarkMemoryStoreRotate and BenchmarkMemoryStoreRevoked match the
// Redis and SQL stores' BenchmarkRotate and BenchmarkRevoked, so that
// `make bench-stores` set the stores side by side.
func BenchmarkMemoryStoreRotate(b *testing.B) {
	ctx := context.Background()
	s := ginfresh.NewMemoryStore()
	now := time.Now()
	in := ginfresh.Session{ID: "s", Subject: "alice", Started: now, IdleUntil: now.Add(time.Hour), Expires: now.Add(24 * time.Hour)}
	if err := s.CreateSession(ctx, in, "t0"); err != nil {
		b.Fatal(err)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		res, err := s.Rotate(ctx, ginfresh.Rotation{Session: "s", Presented: "t" + strconv.Itoa(i), Next: "t" + strconv.Itoa(i+1), Now: now, IdleUntil: now.Add(time.Hour)})
		if err != nil || res != ginfresh.Rotated {
			b.Fatal(res, err)
		}
		i++
	}
}

func BenchmarkMemoryStoreRevoked(b *testing.B) {
	ctx := context.Background()
	s := ginfresh.NewMemoryStore()
	now := time.Now()
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("%022d", i)
		in := ginfresh.Session{ID: ids[i], Subject: "user-" + strconv.Itoa(i), Started: now, IdleUntil: now.Add(time.Hour), Expires: now.Add(24 * time.Hour)}
		if err := s.CreateSession(ctx, in, "t-"+ids[i]); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		revoked, err := s.Revoked(ctx, ids[i%len(ids)], now)
		if err != nil || revoked {
			b.Fatal(revoked, err)
		}
		i++
	}
}

// BenchmarkMemoryStoreBytesPerSession reports the live heap a session
// takes in the memory store, subjects shared two sessions each, with a
// browser's User-Agent and an address: one session an iteration, the heap
// compared before and after the loop.
func BenchmarkMemoryStoreBytesPerSession(b *testing.B) {
	ctx := context.Background()
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	s := ginfresh.NewMemoryStore()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := 0
	for b.Loop() {
		// Fresh strings, as each request brings its own.
		id := fmt.Sprintf("session-%014d", n)
		in := ginfresh.Session{
			ID: id, Subject: "user-" + strconv.Itoa(n/2), Started: memEpoch,
			IdleUntil: memEpoch.Add(7 * 24 * time.Hour), Expires: memEpoch.Add(30 * 24 * time.Hour),
			UserAgent: strings.Clone(ua), Address: "203.0.113." + strconv.Itoa(n%256),
		}
		if err := s.CreateSession(ctx, in, fmt.Sprintf("refresh-%014d", n)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "B/session")
}
