package sqlstore_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/sqlstore"
)

// The benchmarks match redisstore's (BenchmarkRotate, BenchmarkRevoked,
// BenchmarkBytesPerSession) so that one `go test -bench .` per module
// compares them, once per dialect: PostgreSQL over loopback TCP, and
// SQLite in a file.

// One refresh is one statement.
func BenchmarkRotate(b *testing.B) {
	for _, d := range dialects {
		b.Run(d, func(b *testing.B) {
			s := newStore(b, d, sqlstore.WithSweepInterval(0))
			now := time.Now()
			if err := s.CreateSession(ctx, session("s", "alice", now), "t0"); err != nil {
				b.Fatal(err)
			}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				res, err := s.Rotate(ctx, rotation("s", "t"+strconv.Itoa(i), "t"+strconv.Itoa(i+1), now))
				if err != nil || res != ginfresh.Rotated {
					b.Fatal(res, err)
				}
				i++
			}
		})
	}
}

// Revoked runs on every request with access revocation: one primary-key
// lookup, here of a live session among 10 000.
func BenchmarkRevoked(b *testing.B) {
	for _, d := range dialects {
		b.Run(d, func(b *testing.B) {
			s := newStore(b, d, sqlstore.WithSweepInterval(0))
			now := time.Now()
			createMany(b, s, 10_000, 1, "", now)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				revoked, err := s.Revoked(ctx, fmt.Sprintf("%022d", i%10_000), now)
				if err != nil || revoked {
					b.Fatal(revoked, err)
				}
				i++
			}
		})
	}
}

// BenchmarkBytesPerSession measures what a session costs the database, as
// redisstore's does: 20 000 sessions, one or four per subject, each
// refreshed once, with no User-Agent and with a typical one. On PostgreSQL it is the
// growth of pg_total_relation_size (heap, indexes and TOAST) of the
// store's tables, dead row versions of the refresh included (what
// autovacuum leaves for reuse); on SQLite, the growth of the file after a
// checkpoint.
func BenchmarkBytesPerSession(b *testing.B) {
	const n = 20_000
	const chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	for _, d := range dialects {
		for _, perUser := range []int{1, 4} {
			for _, ua := range []struct{ name, value string }{{"no-user-agent", ""}, {"user-agent", chrome}} {
				b.Run(fmt.Sprintf("%s/%d-per-user/%s", d, perUser, ua.name), func(b *testing.B) {
					for b.Loop() {
						u := database(b, d)
						s := open(b, u, sqlstore.WithSweepInterval(0))
						before := size(b, s, u)
						createMany(b, s, n, perUser, ua.value, time.Now())
						b.ReportMetric(float64(size(b, s, u)-before)/n, "B/session")
						_ = s.Close()
					}
				})
			}
		}
	}
}

// createMany writes n sessions, perUser to a subject, and refreshes each
// once, from 16 goroutines.
func createMany(b *testing.B, s *sqlstore.Store, n, perUser int, ua string, now time.Time) {
	b.Helper()
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				id := fmt.Sprintf("%022d", i)
				in := ginfresh.Session{ID: id, Subject: fmt.Sprintf("user%d@example.com", i/perUser), Started: now,
					IdleUntil: now.Add(7 * 24 * time.Hour), Expires: now.Add(30 * 24 * time.Hour), UserAgent: ua, Address: "203.0.113.42"}
				if err := s.CreateSession(ctx, in, id+"-r0"); err != nil {
					b.Error(err)
					return
				}
				r := ginfresh.Rotation{Session: id, Presented: id + "-r0", Next: id + "-r1", Now: now, IdleUntil: now.Add(7 * 24 * time.Hour)}
				if _, err := s.Rotate(ctx, r); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// size is the bytes the store's data takes.
func size(b *testing.B, s *sqlstore.Store, u string) int64 {
	b.Helper()
	if s.Dialect() == sqlstore.Postgres {
		var n int64
		err := s.DB().QueryRow(`SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c
			JOIN pg_namespace ns ON ns.oid = c.relnamespace
			WHERE ns.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE 'ginfresh\_%'`).Scan(&n)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	if _, err := s.DB().Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(strings.TrimPrefix(u, "sqlite:"))
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}
