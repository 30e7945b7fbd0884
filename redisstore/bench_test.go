package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/redisstore"
)

// Revoked runs on every request with access revocation: from the local copy
// it costs no round trip, asking Redis costs one.
func BenchmarkRevoked(b *testing.B) {
	c := single(b)
	for _, tt := range []struct {
		name string
		opts []redisstore.Option
	}{{"local-copy", nil}, {"ask-redis", []redisstore.Option{redisstore.WithoutLocalRevocations()}}} {
		b.Run(tt.name, func(b *testing.B) {
			s := newStore(b, c, tt.opts...)
			ctx := context.Background()
			waitFollowing(b, s)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Revoked(ctx, "some-session", time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// waitFollowing waits until the store's local copy answers, so that the
// benchmark does not time the start-up.
func waitFollowing(b *testing.B, s *redisstore.Store) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		start := time.Now()
		_, _ = s.Revoked(context.Background(), "warm-up", time.Now())
		if time.Since(start) < 20*time.Microsecond {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// One refresh is one script.
func BenchmarkRotate(b *testing.B) {
	s := newStore(b, single(b))
	ctx := context.Background()
	now := time.Now()
	if err := s.CreateSession(ctx, ginfresh.Session{ID: "s", Subject: "alice", Started: now, IdleUntil: now.Add(time.Hour), Expires: now.Add(24 * time.Hour)}, "t0"); err != nil {
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

// BenchmarkBytesPerSession measures what a session costs Redis: INFO
// memory's used_memory before and after 20 000 sessions, each refreshed
// once, with one session per user or four (a user's index of sessions is
// shared), with no User-Agent and with a typical one.
func BenchmarkBytesPerSession(b *testing.B) {
	const n = 20_000
	const chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	for _, perUser := range []int{1, 4} {
		for _, ua := range []struct{ name, value string }{{"no-user-agent", ""}, {"user-agent", chrome}} {
			b.Run(fmt.Sprintf("%d-per-user/%s", perUser, ua.name), func(b *testing.B) {
				for b.Loop() {
					srv := startServer(b)
					c := client(b, srv.addr())
					s := newStore(b, c, redisstore.WithoutLocalRevocations())
					ctx := context.Background()
					before := usedMemory(b, c)
					now := time.Now()
					for i := range n {
						id := fmt.Sprintf("%022d", i)
						sess := ginfresh.Session{ID: id, Subject: fmt.Sprintf("user%d@example.com", i/perUser), Started: now,
							IdleUntil: now.Add(7 * 24 * time.Hour), Expires: now.Add(30 * 24 * time.Hour), UserAgent: ua.value, Address: "203.0.113.42"}
						if err := s.CreateSession(ctx, sess, id+"-r0"); err != nil {
							b.Fatal(err)
						}
						if _, err := s.Rotate(ctx, ginfresh.Rotation{Session: id, Presented: id + "-r0", Next: id + "-r1", Now: now, IdleUntil: now.Add(7 * 24 * time.Hour)}); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(usedMemory(b, c)-before)/n, "B/session")
					b.ReportMetric(float64(recordSize(b, c)), "B/record")
					srv.kill()
				}
			})
		}
	}
}

// recordSize is the mean MEMORY USAGE of a hundred session records alone.
func recordSize(b *testing.B, c *redis.Client) int64 {
	ctx := context.Background()
	keys, err := c.Keys(ctx, "*}f").Result()
	if err != nil || len(keys) < 100 {
		b.Fatalf("session records: %d, %v", len(keys), err)
	}
	var total int64
	for _, k := range keys[:100] {
		n, err := c.MemoryUsage(ctx, k).Result()
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	return total / 100
}

func usedMemory(b *testing.B, c *redis.Client) int64 {
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	b.Fatal("no used_memory in INFO memory")
	return 0
}
