package ginfresh

import (
	"context"
	"sync"
	"time"
)

// sweepEvery is how often, at most, a write also drops expired records, which
// keeps memory bounded by what is still live without a background goroutine.
const sweepEvery = time.Minute

// MemoryStore is a [Store] in process memory: the default, right for one
// instance. Sessions are lost on restart and not shared between instances;
// use the redisstore module for that. Safe for concurrent use.
type MemoryStore struct {
	mu        sync.RWMutex // read-locked by Revoked, which runs on every request
	families  map[string]*memFamily
	tokens    map[string]time.Time // revoked access-token IDs → when to forget
	subjects  map[string]memCutoff
	nextSweep time.Time

	// counters serve the login throttle (Incr and Reset, below).
	counters map[string]*memCounter
}

type memFamily struct {
	subject, current string
	created, idle    time.Time
	expires          time.Time
	revoked          bool
}

type memCutoff struct{ at, until time.Time }

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		families: map[string]*memFamily{},
		tokens:   map[string]time.Time{},
		subjects: map[string]memCutoff{},
		counters: map[string]*memCounter{},
	}
}

// CreateFamily implements [Store].
func (s *MemoryStore) CreateFamily(_ context.Context, family, subject, token string, now, idleUntil, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.families[family] = &memFamily{subject: subject, current: token, created: now, idle: idleUntil, expires: expires}
	return nil
}

// Rotate implements [Store].
func (s *MemoryStore) Rotate(_ context.Context, family, presented, next string, now, idleUntil time.Time) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	f, ok := s.families[family]
	if !ok || f.revoked || !now.Before(f.expires) || now.After(f.idle) {
		return time.Time{}, false, nil
	}
	if c, ok := s.subjects[f.subject]; ok && f.created.Before(c.at) {
		return time.Time{}, false, nil
	}
	if f.current != presented {
		f.revoked = true
		return time.Time{}, true, nil
	}
	f.current = next
	f.idle = idleUntil
	if f.idle.After(f.expires) {
		f.idle = f.expires
	}
	return f.expires, false, nil
}

// RevokeFamily implements [Store].
func (s *MemoryStore) RevokeFamily(_ context.Context, family string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.families[family]; ok {
		f.revoked = true
	}
	return nil
}

// RevokeSubject implements [Store].
func (s *MemoryStore) RevokeSubject(_ context.Context, subject string, at, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(at)
	if c, ok := s.subjects[subject]; ok {
		// A later revocation already covers this one, and an earlier
		// mark's lifetime is never cut short.
		if c.at.After(at) {
			at = c.at
		}
		if c.until.After(until) {
			until = c.until
		}
	}
	s.subjects[subject] = memCutoff{at: at, until: until}
	return nil
}

// RevokeToken implements [Store].
func (s *MemoryStore) RevokeToken(_ context.Context, token string, now, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.tokens[token] = until
	return nil
}

// Revoked implements [Store].
func (s *MemoryStore) Revoked(_ context.Context, token, subject string, issuedAt, now time.Time) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if until, ok := s.tokens[token]; ok && now.Before(until) {
		return true, nil
	}
	if c, ok := s.subjects[subject]; ok && now.Before(c.until) && issuedAt.Before(c.at) {
		return true, nil
	}
	return false, nil
}

// sweep drops expired records, at most once per sweepEvery. Callers hold mu.
func (s *MemoryStore) sweep(now time.Time) {
	if now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(sweepEvery)
	for id, f := range s.families {
		if !now.Before(f.expires) || now.After(f.idle) {
			delete(s.families, id)
		}
	}
	for id, until := range s.tokens {
		if !now.Before(until) {
			delete(s.tokens, id)
		}
	}
	for sub, c := range s.subjects {
		if !now.Before(c.until) {
			delete(s.subjects, sub)
		}
	}
	for k, c := range s.counters {
		if !now.Before(c.reset) {
			delete(s.counters, k)
		}
	}
}

// Len reports how many records the store holds, for tests and metrics.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.families) + len(s.tokens) + len(s.subjects) + len(s.counters)
}

type memCounter struct {
	n     int64
	reset time.Time
}

// Incr implements [Counter].
func (s *MemoryStore) Incr(_ context.Context, key string, now time.Time, window time.Duration) (int64, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	c, ok := s.counters[key]
	if !ok || !now.Before(c.reset) {
		c = &memCounter{reset: now.Add(window)}
		s.counters[key] = c
	}
	c.n++
	return c.n, c.reset, nil
}

// Reset implements [Counter].
func (s *MemoryStore) Reset(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.counters, key)
	return nil
}
