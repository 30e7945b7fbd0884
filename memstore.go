package ginfresh

import (
	"container/heap"
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"
)

// Shards and sweeps of the memory store. Records live in shards, each with
// its own lock, and each shard forgets expired records a few at a time:
// every write to a shard first drops at most sweepBatch of its records that
// are due, found through a queue ordered by deadline. Expiry never walks
// the whole store, so no request waits for it longer than one small batch,
// however many sessions are live.
const (
	memShards  = 32
	sweepBatch = 32
)

// MemoryStore is a [Store] and [Counter] in process memory: the default,
// right for one instance. Sessions are lost on restart and not shared
// between instances; use the redisstore or sqlstore module for that. Safe
// for concurrent use.
type MemoryStore struct {
	seed maphash.Seed
	// Lock order: a subjects shard before a sessions shard, never the
	// other way round.
	subjects [memShards]memShard[*memSubject]
	sessions [memShards]memShard[*memSession]
	counters [memShards]memShard[*memCounter]
}

var (
	_ Store   = (*MemoryStore)(nil)
	_ Counter = (*MemoryStore)(nil)
)

// memShard is one lock's worth of records of one kind, and the queue of
// their deadlines.
type memShard[T any] struct {
	mu  sync.RWMutex
	m   map[string]T
	due deadlines
	_   [40]byte // keep shards on separate cache lines
}

type memSession struct {
	s        Session
	current  string // refresh token ID; "" for access tokens only
	previous string // the token the last rotation retired
	revoked  bool
}

// end is when the record may go: the session can no longer be used, and
// every token minted from it has expired (see New's check that access
// tokens never outlive an idle session).
func (r *memSession) end() time.Time {
	return earlier(r.s.IdleUntil, r.s.Expires)
}

func (r *memSession) live(now time.Time) bool {
	return !r.revoked && now.Before(r.s.Expires) && !now.After(r.s.IdleUntil)
}

type memSubject struct {
	sessions []string // IDs, oldest first; pruned as they go
	cut      time.Time
	cutUntil time.Time
	horizon  time.Time // the latest Expires among sessions
}

type memCounter struct {
	n     int64
	reset time.Time
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	s := &MemoryStore{seed: maphash.MakeSeed()}
	for i := range memShards {
		s.subjects[i].m = map[string]*memSubject{}
		s.sessions[i].m = map[string]*memSession{}
		s.counters[i].m = map[string]*memCounter{}
	}
	return s
}

func (s *MemoryStore) shard(key string) int {
	return int(maphash.String(s.seed, key) % memShards)
}

// CreateSession implements [Store].
func (s *MemoryStore) CreateSession(ctx context.Context, in Session, token string) error {
	sub := &s.subjects[s.shard(in.Subject)]
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	sub.sweep(in.Started, s.sweepSubject)
	rec := sub.m[in.Subject]
	if rec != nil && in.Started.Before(rec.cutUntil) && !in.Started.After(rec.cut) {
		return ErrTokenRevoked
	}
	if rec == nil {
		rec = &memSubject{}
		sub.m[in.Subject] = rec
	}
	if in.Expires.After(rec.horizon) {
		if rec.horizon.IsZero() {
			sub.due.push(in.Expires, in.Subject)
		}
		rec.horizon = in.Expires
	}
	rec.sessions = append(rec.sessions, in.ID)

	sh := &s.sessions[s.shard(in.ID)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.sweep(in.Started, sweepSession)
	r := &memSession{s: in, current: token}
	sh.m[in.ID] = r
	sh.due.push(r.end(), in.ID)
	return nil
}

// Rotate implements [Store].
func (s *MemoryStore) Rotate(ctx context.Context, rot Rotation) (RotateResult, error) {
	sh := &s.sessions[s.shard(rot.Session)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	sh.sweep(rot.Now, sweepSession)
	r, ok := sh.m[rot.Session]
	if !ok || !r.live(rot.Now) || r.current == "" {
		return SessionEnded, nil
	}
	switch {
	case r.current == rot.Presented:
		r.previous, r.current = r.current, rot.Next
	case r.previous == rot.Presented && r.current == rot.Next:
		return Rotated, nil // the same step again: a retried call
	default:
		r.revoked = true
		return Replayed, nil
	}
	r.s.Refreshed = rot.Now
	r.s.IdleUntil = earlier(rot.IdleUntil, r.s.Expires)
	return Rotated, nil
}

// RevokeSession implements [Store].
func (s *MemoryStore) RevokeSession(ctx context.Context, subject, id string, now time.Time) error {
	sh := &s.sessions[s.shard(id)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	r, ok := sh.m[id]
	if !ok || r.s.Subject != subject || !r.live(now) {
		return ErrSessionNotFound
	}
	r.revoked = true
	return nil
}

// RevokeSubject implements [Store].
func (s *MemoryStore) RevokeSubject(ctx context.Context, subject string, at, until time.Time) error {
	sub := &s.subjects[s.shard(subject)]
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := sub.m[subject]
	if rec == nil {
		rec = &memSubject{}
		sub.m[subject] = rec
	}
	// A later cut already covers this one, and an earlier one's lifetime
	// is never cut short.
	rec.cut, rec.cutUntil = later(rec.cut, at), later(rec.cutUntil, until)
	if rec.horizon.Before(rec.cutUntil) {
		if rec.horizon.IsZero() {
			sub.due.push(rec.cutUntil, subject)
		}
		rec.horizon = rec.cutUntil
	}
	for _, id := range rec.sessions {
		sh := &s.sessions[s.shard(id)]
		sh.mu.Lock()
		if r, ok := sh.m[id]; ok {
			r.revoked = true
		}
		sh.mu.Unlock()
	}
	return nil
}

// Revoked implements [Store]: one map read under a shard's read lock.
func (s *MemoryStore) Revoked(_ context.Context, session string, _ time.Time) (bool, error) {
	sh := &s.sessions[s.shard(session)]
	sh.mu.RLock()
	r, ok := sh.m[session]
	revoked := ok && r.revoked
	sh.mu.RUnlock()
	return revoked, nil
}

// memoryRevoker answers access checks for a memory store, which is always
// sure: its Revoked never blocks and never fails.
type memoryRevoker struct{ s *MemoryStore }

func (m memoryRevoker) RevokedLocally(session string, now time.Time) (revoked, sure bool) {
	revoked, _ = m.s.Revoked(context.Background(), session, now)
	return revoked, true
}

// Sessions implements [Store].
func (s *MemoryStore) Sessions(ctx context.Context, subject string, now time.Time) ([]Session, error) {
	sub := &s.subjects[s.shard(subject)]
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rec := sub.m[subject]
	if rec == nil {
		return nil, nil
	}
	var out []Session
	kept := rec.sessions[:0]
	for _, id := range rec.sessions {
		sh := &s.sessions[s.shard(id)]
		sh.mu.RLock()
		r, ok := sh.m[id]
		if ok && r.s.Subject == subject {
			kept = append(kept, id)
			if r.live(now) {
				out = append(out, r.s)
			}
		}
		sh.mu.RUnlock()
	}
	clear(rec.sessions[len(kept):])
	rec.sessions = kept
	return out, nil
}

// Incr implements [Counter].
func (s *MemoryStore) Incr(ctx context.Context, key string, now time.Time, window time.Duration) (int64, time.Time, error) {
	sh := &s.counters[s.shard(key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, err
	}
	sh.sweep(now, sweepCounter)
	c, ok := sh.m[key]
	if !ok || !now.Before(c.reset) {
		c = &memCounter{reset: now.Add(window)}
		sh.m[key] = c
		sh.due.push(c.reset, key)
	}
	c.n++
	return c.n, c.reset, nil
}

// Reset implements [Counter].
func (s *MemoryStore) Reset(ctx context.Context, key string) error {
	sh := &s.counters[s.shard(key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.m, key)
	return ctx.Err()
}

// Len reports how many records the store holds (sessions, subjects and
// counters), for tests and metrics.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range memShards {
		for _, sh := range []interface{ size() int }{&s.subjects[i], &s.sessions[i], &s.counters[i]} {
			n += sh.size()
		}
	}
	return n
}

func (sh *memShard[T]) size() int {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return len(sh.m)
}

// sweep drops at most sweepBatch records that are due by now. check says
// when a due record really ends (a refresh may have pushed it on): a time
// after now puts it back in the queue, the zero time drops it. Callers
// hold sh.mu.
func (sh *memShard[T]) sweep(now time.Time, check func(T, time.Time) time.Time) {
	for range sweepBatch {
		if len(sh.due) == 0 || sh.due[0].when.After(now) {
			return
		}
		d := heap.Pop(&sh.due).(deadline)
		r, ok := sh.m[d.key]
		if !ok {
			continue
		}
		if end := check(r, now); end.After(now) {
			sh.due.push(end, d.key)
			continue
		}
		delete(sh.m, d.key)
	}
}

func sweepSession(r *memSession, now time.Time) time.Time {
	if e := r.end(); e.After(now) {
		return e
	}
	return time.Time{}
}

func sweepCounter(c *memCounter, now time.Time) time.Time {
	if c.reset.After(now) {
		return c.reset
	}
	return time.Time{}
}

// sweepSubject keeps a subject while a cut or a session may still matter;
// its session list is pruned by Sessions.
func (s *MemoryStore) sweepSubject(r *memSubject, now time.Time) time.Time {
	if r.horizon.After(now) {
		return r.horizon
	}
	return time.Time{}
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// deadlines is a min-heap of record deadlines. A record may be queued more
// than once; sweep checks the record itself before dropping it.
type deadlines []deadline

type deadline struct {
	when time.Time
	key  string
}

func (d *deadlines) push(when time.Time, key string) { heap.Push(d, deadline{when, key}) }

func (d deadlines) Len() int           { return len(d) }
func (d deadlines) Less(i, j int) bool { return d[i].when.Before(d[j].when) }
func (d deadlines) Swap(i, j int)      { d[i], d[j] = d[j], d[i] }
func (d *deadlines) Push(x any)        { *d = append(*d, x.(deadline)) }
func (d *deadlines) Pop() any {
	old := *d
	x := old[len(old)-1]
	*d = slices.Delete(old, len(old)-1, len(old))
	return x
}
