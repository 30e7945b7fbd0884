package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ginfresh/ginfresh"
)

// Store keeps ginfresh sessions, revocations and login-throttle counters in
// a PostgreSQL or SQLite database. It implements ginfresh.Store and
// ginfresh.Counter; create its tables with [Store.Migrate] and close it
// with [Store.Close]. Safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
	q       *statements
	owned   bool // Open opened db, so Close closes it
	log     *slog.Logger

	sweepEvery time.Duration
	batch      int

	offset atomic.Int64  // PostgreSQL: the server's clock minus ours, in ns (see fence)
	writer chan struct{} // SQLite: this process's one writer at a time (see write)

	stop      context.CancelFunc
	done      sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

var (
	_ ginfresh.Store   = (*Store)(nil)
	_ ginfresh.Counter = (*Store)(nil)
)

// Option configures a [Store].
type Option func(*Store) error

// WithLogger receives what the store does on its own: sweep failures.
// Default: none.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		s.log = l
		return nil
	}
}

// WithSweepInterval sets how often the store deletes rows that ended (see
// [Store.Sweep]); 0 never does, for an app that calls Sweep itself.
// Default: a minute.
func WithSweepInterval(d time.Duration) Option {
	return func(s *Store) error {
		if d < 0 {
			return fmt.Errorf("WithSweepInterval: %v is negative", d)
		}
		s.sweepEvery = d
		return nil
	}
}

// WithSweepBatch sets how many rows of each table one [Store.Sweep] deletes
// at most, which bounds how long it holds locks. Default: 500.
func WithSweepBatch(n int) Option {
	return func(s *Store) error {
		if n < 1 || n > 100_000 {
			return fmt.Errorf("WithSweepBatch: %d is outside 1 to 100000", n)
		}
		s.batch = n
		return nil
	}
}

// New returns a store over db, which the app keeps owning (and closes).
// For PostgreSQL it reads the server's clock (see Timeouts in the package
// documentation); for SQLite, db's DSN should set WAL mode, a busy timeout
// and BEGIN IMMEDIATE, as [Open] does. Call [Store.Migrate] before the
// first use.
func New(ctx context.Context, db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil db")
	}
	s := &Store{db: db, dialect: d, sweepEvery: time.Minute, batch: 500}
	switch d {
	case Postgres:
		s.q = &postgresStatements
	case SQLite:
		s.q = &sqliteStatements
		s.writer = make(chan struct{}, 1)
	default:
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", d)
	}
	var errs []error
	for _, opt := range opts {
		if err := opt(s); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("sqlstore: invalid option: %w", err)
	}
	if d == Postgres {
		if err := s.measure(ctx); err != nil {
			return nil, wrap("read the server's clock", err)
		}
	}
	bg, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.done.Go(func() { s.background(bg) })
	return s, nil
}

// DB returns the database the store uses, to tune its pool, say.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect reports the database system of the store.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close stops the background sweep and, for a store from [Open], closes
// the database. It does not close a db handed to [New].
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stop()
		s.done.Wait()
		if s.owned {
			s.closeErr = s.db.Close()
		}
	})
	return s.closeErr
}

// background sweeps (see Sweep) and, on PostgreSQL, measures the server's
// clock again every minute, until ctx ends.
func (s *Store) background(ctx context.Context) {
	var sweep, clock <-chan time.Time // nil: never
	if s.sweepEvery > 0 {
		t := time.NewTicker(s.sweepEvery)
		defer t.Stop()
		sweep = t.C
	}
	if s.dialect == Postgres {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		clock = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep:
			s.sweepAll(ctx)
		case <-clock:
			mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_ = s.measure(mctx) // on failure the last offset stands
			cancel()
		}
	}
}

// measure records how far the server's clock is from ours, from the middle
// of the fastest of a few round trips (the first may include connecting).
func (s *Store) measure(ctx context.Context) error {
	best := time.Duration(-1)
	for range 3 {
		sent := time.Now()
		var us int64
		if err := s.db.QueryRowContext(ctx, s.q.clock).Scan(&us); err != nil {
			return err
		}
		rtt := time.Since(sent)
		if best < 0 || rtt < best {
			best = rtt
			s.offset.Store(int64(time.UnixMicro(us).Sub(sent.Add(rtt / 2))))
		}
	}
	return nil
}

// fence is the last instant, on the server's clock, at which a change sent
// now may still be applied: a little before ctx's deadline, leaving the
// answer time to come back. A statement that runs later (it waited for a
// lock, the server stalled, the network held it) changes nothing, so a
// client told "try again" finds its refresh token unspent.
func (s *Store) fence(ctx context.Context) time.Time {
	now := time.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = now.Add(10 * time.Second)
	}
	margin := min(max(deadline.Sub(now)/4, 10*time.Millisecond), 250*time.Millisecond)
	return deadline.Add(time.Duration(s.offset.Load()) - margin)
}

// acquire takes this process's write turn on SQLite, which allows one
// writer at a time: waiting here honours ctx and wakes at once, where
// SQLite's busy handler polls. Other processes on the same file still wait
// in the busy handler. On PostgreSQL, row locks order writers instead, and
// acquire and release do nothing. A nil error must be followed by release.
func (s *Store) acquire(ctx context.Context) error {
	if s.writer == nil {
		return nil
	}
	select {
	case s.writer <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release ends the write turn acquire took.
func (s *Store) release() {
	if s.writer != nil {
		<-s.writer
	}
}

// digest is the stored form of an ID, a subject or a throttle key: the
// first 128 bits of its SHA-256, so any string makes a fixed-size key and
// subjects are never stored in clear.
func digest(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:16]
}

// tokenDigest is the stored form of a refresh token's ID; "" (a session
// of access tokens only) stays empty.
func tokenDigest(id string) []byte {
	if id == "" {
		return []byte{}
	}
	return digest(id)
}

func us(t time.Time) int64 { return t.UnixMicro() }

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// errLate is a change the server refused because it ran past its fence.
var errLate = errors.New("the statement reached the database after its deadline; nothing changed")
