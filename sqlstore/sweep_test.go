package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/sqlstore"
)

func count(t *testing.T, u, table string) int {
	t.Helper()
	var n int
	if err := sqlDB(t, u).QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fill writes n sessions (one subject each) and n counters that all ended
// before now, the sessions of every way: idle, expired, revoked.
func fill(t *testing.T, s *sqlstore.Store, n int, now time.Time) {
	t.Helper()
	long := now.Add(-48 * time.Hour)
	for i := range n {
		in := ginfresh.Session{ID: fmt.Sprint("old", i), Subject: fmt.Sprint("old", i), Started: long,
			IdleUntil: long.Add(time.Duration(i) * time.Second), Expires: long.Add(24 * time.Hour)}
		mustCreate(t, s, in, "t1")
		if i%3 == 0 {
			if err := s.RevokeSession(ctx, in.Subject, in.ID, long); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.Incr(ctx, fmt.Sprint("k", i), long, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
}

// Sweep deletes what ended, a bounded batch per table per call, and leaves
// every live session, revocation cut and counter alone.
func TestSweepInBatches(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			u := database(t, d)
			s := open(t, u, sqlstore.WithSweepInterval(0), sqlstore.WithSweepBatch(100))
			now := time.Now()
			fill(t, s, 250, now)
			mustCreate(t, s, session("live", "alice", now), "t1")
			// A cut that still matters, on a subject without sessions.
			if err := s.RevokeSubject(ctx, "bob", now, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Incr(ctx, "live", now, time.Minute); err != nil {
				t.Fatal(err)
			}

			var calls []int64
			for {
				n, err := s.Sweep(ctx, now)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				calls = append(calls, n)
				if n > 3*100 {
					t.Fatalf("one Sweep deleted %d rows, over the batch of 100 per table", n)
				}
			}
			// 250 sessions, 250 subjects and 250 counters, 100 a table a call.
			if want := []int64{300, 300, 150}; fmt.Sprint(calls) != fmt.Sprint(want) {
				t.Errorf("rows deleted per call: %v, want %v", calls, want)
			}
			for table, want := range map[string]int{"ginfresh_sessions": 1, "ginfresh_subjects": 2, "ginfresh_counters": 1} {
				if got := count(t, u, table); got != want {
					t.Errorf("%s: %d rows left, want %d", table, got, want)
				}
			}
			mustRotate(t, s, rotation("live", "t1", "t2", now), ginfresh.Rotated)
			if err := s.CreateSession(ctx, session("late", "bob", now), "t1"); err != ginfresh.ErrTokenRevoked {
				t.Errorf("a login the kept cut covers: %v", err)
			}
			if n, _, err := s.Incr(ctx, "live", now, time.Minute); err != nil || n != 2 {
				t.Errorf("the live counter: %d, %v", n, err)
			}
		})
	}
}

// A sweep in progress holds up no reader and no write to a live session:
// here one holds its batch uncommitted in a transaction of its own while
// the store answers. On PostgreSQL another sweep meanwhile passes over the
// rows held and deletes others; on SQLite, writers wait for the batch
// (one short statement in practice), readers do not.
func TestSweepBlocksNoReader(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			u := database(t, d)
			s := open(t, u, sqlstore.WithSweepInterval(0), sqlstore.WithSweepBatch(100))
			now := time.Now()
			fill(t, s, 300, now)
			mustCreate(t, s, session("live", "alice", now), "t1")

			conn, err := sqlDB(t, u).Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			begin, batch := "BEGIN IMMEDIATE", `DELETE FROM ginfresh_sessions WHERE key IN (SELECT key FROM ginfresh_sessions WHERE idle_until < ?1 ORDER BY idle_until LIMIT 100)`
			if d == "postgres" {
				begin, batch = "BEGIN", `DELETE FROM ginfresh_sessions WHERE key = ANY (ARRAY (SELECT key FROM ginfresh_sessions WHERE idle_until < $1 ORDER BY idle_until LIMIT 100 FOR UPDATE SKIP LOCKED))`
			}
			if _, err := conn.ExecContext(ctx, begin); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ExecContext(ctx, batch, now.UnixMicro()); err != nil {
				t.Fatal(err)
			}

			within := func(what string, fn func(context.Context) error) {
				t.Helper()
				c, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				start := time.Now()
				if err := fn(c); err != nil {
					t.Errorf("%s during a sweep: %v (after %v)", what, err, time.Since(start))
				}
			}
			within("Revoked", func(c context.Context) error {
				revoked, err := s.Revoked(c, "old0", now)
				if err == nil && !revoked {
					err = fmt.Errorf("a revoked session reads as live")
				}
				return err
			})
			within("Sessions", func(c context.Context) error {
				list, err := s.Sessions(c, "alice", now)
				if err == nil && len(list) != 1 {
					err = fmt.Errorf("sessions %v", list)
				}
				return err
			})
			if d == "postgres" {
				within("Rotate", func(c context.Context) error {
					_, err := s.Rotate(c, rotation("live", "t1", "t2", now))
					return err
				})
				within("a concurrent Sweep", func(c context.Context) error {
					n, err := s.Sweep(c, now)
					if err == nil && n != 3*100 {
						err = fmt.Errorf("it deleted %d rows, want 100 sessions (others than those held) and 100 each of subjects and counters", n)
					}
					return err
				})
			}
			if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
				t.Fatal(err)
			}
			for {
				n, err := s.Sweep(ctx, now)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
			if got := count(t, u, "ginfresh_sessions"); got != 1 {
				t.Errorf("%d sessions left, want the live one", got)
			}
		})
	}
}

// Rotations go on while a backlog is swept, batch after batch: neither
// waits for the other longer than a batch.
func TestSweepWhileRotating(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			u := database(t, d)
			s := open(t, u, sqlstore.WithSweepInterval(0), sqlstore.WithSweepBatch(50))
			now := time.Now()
			fill(t, s, 500, now)
			const live = 20
			for i := range live {
				mustCreate(t, s, session(fmt.Sprint("live", i), "alice", now), "t0")
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			var slowest time.Duration
			for i := range live {
				wg.Go(func() {
					id := fmt.Sprint("live", i)
					for j := range 20 {
						start := time.Now()
						res, err := s.Rotate(ctx, rotation(id, fmt.Sprint("t", j), fmt.Sprint("t", j+1), now))
						took := time.Since(start)
						mu.Lock()
						slowest = max(slowest, took)
						mu.Unlock()
						if err != nil || res != ginfresh.Rotated {
							t.Errorf("%s: %v, %v", id, res, err)
							return
						}
					}
				})
			}
			wg.Go(func() {
				for {
					n, err := s.Sweep(ctx, now)
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			})
			wg.Wait()
			t.Logf("slowest rotation during the sweep: %v", slowest)
			if slowest > time.Second {
				t.Errorf("a rotation waited %v", slowest)
			}
			list, err := s.Sessions(ctx, "alice", now)
			if err != nil || len(list) != live {
				t.Errorf("%d live sessions after the sweep (%v), want %d", len(list), err, live)
			}
			if got := count(t, u, "ginfresh_sessions"); got != live {
				t.Errorf("%d sessions left, want the %d live ones", got, live)
			}
		})
	}
}

// The store sweeps by itself, a minute past each row's end.
func TestBackgroundSweep(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			u := database(t, d)
			s := open(t, u, sqlstore.WithSweepInterval(0))
			now := time.Now()
			fill(t, s, 50, now)
			// Ended half a minute ago: within the grace, so kept for now.
			recent := session("recent", "carol", now.Add(-time.Hour))
			recent.IdleUntil = now.Add(-30 * time.Second)
			mustCreate(t, s, recent, "t1")
			mustCreate(t, s, session("live", "alice", now), "t1")
			open(t, u, sqlstore.WithSweepInterval(20*time.Millisecond)) // another instance, which sweeps
			deadline := time.Now().Add(10 * time.Second)
			for count(t, u, "ginfresh_sessions") > 2 || count(t, u, "ginfresh_counters") > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("rows left after 10s: %d sessions, %d counters", count(t, u, "ginfresh_sessions"), count(t, u, "ginfresh_counters"))
				}
				time.Sleep(20 * time.Millisecond)
			}
			list, err := s.Sessions(ctx, "alice", now)
			if err != nil || len(list) != 1 {
				t.Errorf("the live session: %v, %v", list, err)
			}
		})
	}
}
