package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// Incr implements ginfresh.Counter in one upsert, so the count is shared
// by every instance on the same database and no increment is lost.
func (s *Store) Incr(ctx context.Context, key string, now time.Time, window time.Duration) (int64, time.Time, error) {
	if window < time.Microsecond {
		return 0, time.Time{}, fmt.Errorf("sqlstore: incr: window %v is under a microsecond", window)
	}
	if err := s.acquire(ctx); err != nil {
		return 0, time.Time{}, wrap("incr", err)
	}
	defer s.release()
	var n, reset int64
	err := s.db.QueryRowContext(ctx, s.q.incr, digest(key), us(now), us(now.Add(window))).Scan(&n, &reset)
	if err != nil {
		return 0, time.Time{}, wrap("incr", err)
	}
	return n, time.UnixMicro(reset), nil
}

// Reset implements ginfresh.Counter.
func (s *Store) Reset(ctx context.Context, key string) error {
	if err := s.acquire(ctx); err != nil {
		return wrap("reset", err)
	}
	defer s.release()
	_, err := s.db.ExecContext(ctx, s.q.reset, digest(key))
	return wrap("reset", err)
}
