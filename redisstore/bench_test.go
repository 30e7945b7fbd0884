package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// benchStores are the two stores side by side: what WithAccessRevocation
// and each refresh cost on each.
func benchStores(b *testing.B) map[string]ginfresh.Store {
	b.Helper()
	s, _, _ := newStore(b)
	return map[string]ginfresh.Store{"memory": ginfresh.NewMemoryStore(), "redis": s}
}

// BenchmarkRevoked is the look-up WithAccessRevocation adds to every request.
func BenchmarkRevoked(b *testing.B) {
	for name, s := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			ctx, now := context.Background(), time.Now()
			require.NoError(b, s.RevokeSubject(ctx, "bob", now, now.Add(time.Hour)))
			for b.Loop() {
				if _, err := s.Revoked(ctx, "jti", "alice", now, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRotate is the store's share of one refresh.
func BenchmarkRotate(b *testing.B) {
	for name, s := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			ctx, now := context.Background(), time.Now()
			require.NoError(b, s.CreateFamily(ctx, "f", "alice", "0", now, now.Add(time.Hour), now.Add(2*time.Hour)))
			i := 0
			for b.Loop() {
				cur, next := strconv.Itoa(i), strconv.Itoa(i+1)
				if exp, _, err := s.Rotate(ctx, "f", cur, next, now, now.Add(time.Hour)); err != nil || exp.IsZero() {
					b.Fatal(exp, err)
				}
				i++
			}
		})
	}
}
