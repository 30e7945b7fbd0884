package sqlstore

import (
	"context"
	"time"
)

// sweepGrace keeps rows a minute past their end before the background
// sweep deletes them, for instances whose clocks run behind: a revoked
// session's row must outlive its access tokens on every instance.
const sweepGrace = time.Minute

// Sweep deletes rows that ended before before: sessions past their idle
// deadline or expiry (revoked or not), subjects with neither a session nor
// a cut that may still matter, and counters whose window is over. It
// deletes at most the sweep batch (see [WithSweepBatch]) from each table,
// in one short statement per table, and reports how many rows it deleted;
// a backlog takes several calls. No reader waits for it: PostgreSQL reads
// never wait for writes, and SQLite in WAL mode lets readers read while
// one writer writes. On PostgreSQL it passes over rows other writers hold,
// so several instances may sweep at once.
//
// The store sweeps by itself every minute ([WithSweepInterval]); an app
// that turned that off calls Sweep from a job of its own.
func (s *Store) Sweep(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for _, q := range s.q.sweep {
		n, err := s.sweepOne(ctx, q, before)
		total += n
		if err != nil {
			return total, wrap("sweep", err)
		}
	}
	return total, nil
}

func (s *Store) sweepOne(ctx context.Context, q string, before time.Time) (int64, error) {
	if err := s.acquire(ctx); err != nil {
		return 0, err
	}
	defer s.release()
	res, err := s.db.ExecContext(ctx, q, us(before), s.batch)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// sweepAll sweeps until a call deletes less than one batch in all, at most
// a hundred calls per tick, each within its own timeout.
func (s *Store) sweepAll(ctx context.Context) {
	for range 100 {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := s.Sweep(cctx, time.Now().Add(-sweepGrace))
		cancel()
		if err != nil {
			if ctx.Err() == nil && s.log != nil {
				s.log.Warn("sqlstore: sweep failed", "err", err)
			}
			return
		}
		if n < int64(s.batch) {
			return
		}
	}
}
