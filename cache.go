package ginfresh

import (
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// DefaultCacheSize is how many verified access tokens are remembered.
const DefaultCacheSize = 10_000

// cacheShards splits the cache so concurrent requests rarely wait on one
// lock.
const cacheShards = 16

// tokenCache remembers the claims of access tokens that passed signature
// and claim checks, so a token seen again skips the signature and JSON work.
// It never widens what is accepted:
//   - an entry is found only by the exact token it was stored under (the
//     hash picks the slot, the whole token is then compared);
//   - a hit still goes through every time-based check, the guards and
//     revocation (see verifyAccess);
//   - an entry is never served past its token's exp (plus leeway): the
//     caller's check drops it, and a shard drops its oldest entries once
//     they have expired;
//   - it holds at most size entries, evicting the oldest first.
//
// A nil cache is off.
type tokenCache struct {
	seed   maphash.Seed
	shards []cacheShard
}

// cacheShard is a map plus a ring of its keys in insertion order. The ring
// owns the capacity: every map entry names the ring slot that holds its key,
// and an entry leaves the map when its slot is reused, so the map never has
// more entries than the ring has slots.
type cacheShard struct {
	mu   sync.RWMutex
	m    map[uint64]cacheEntry
	ring []uint64 // keys, oldest at head
	head int      // oldest slot
	used int      // slots in use, from head
}

type cacheEntry struct {
	token  string
	claims *Claims
	until  time.Time // exp plus leeway: no use past it
	slot   int
}

// WithTokenCache sets how many verified access tokens to remember; 0 turns
// the cache off. Memory stays below about size × (2 × token length + 300
// bytes). A token is looked up by its exact bytes and every hit is checked
// again against the clock and, with [WithAccessRevocation], the store.
// Default: [DefaultCacheSize].
func WithTokenCache(size int) Option {
	return func(a *Auth) error {
		if size < 0 {
			return fmt.Errorf("WithTokenCache: negative size %d", size)
		}
		a.cacheSize = size
		return nil
	}
}

// newTokenCache returns a cache of exactly size entries across its shards,
// or nil when size is 0.
func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	n := min(cacheShards, size)
	c := &tokenCache{seed: maphash.MakeSeed(), shards: make([]cacheShard, n)}
	for i := range c.shards {
		slots := size / n
		if i < size%n {
			slots++
		}
		c.shards[i].m = make(map[uint64]cacheEntry)
		c.shards[i].ring = make([]uint64, slots)
	}
	return c
}

func (c *tokenCache) shard(token string) (*cacheShard, uint64) {
	h := maphash.String(c.seed, token)
	return &c.shards[h%uint64(len(c.shards))], h
}

func (c *tokenCache) get(token string) *Claims {
	if c == nil {
		return nil
	}
	s, h := c.shard(token)
	s.mu.RLock()
	e, ok := s.m[h]
	s.mu.RUnlock()
	if !ok || e.token != token {
		return nil
	}
	return e.claims
}

// put remembers the claims of token, which the caller has just verified,
// until the instant until. Expired entries at the head go first, then, when
// the shard is full, the oldest.
func (c *tokenCache) put(token string, claims *Claims, until, now time.Time) {
	if c == nil {
		return
	}
	s, h := c.shard(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[h]; ok {
		// The same token verified twice at once, or (rarely) another token
		// with the same hash: the newer one keeps the slot.
		e.token, e.claims, e.until = token, claims, until
		s.m[h] = e
		return
	}
	for s.used > 0 {
		if e, ok := s.m[s.ring[s.head]]; ok && e.slot == s.head && now.Before(e.until) && s.used < len(s.ring) {
			break
		}
		s.evictHead()
	}
	slot := (s.head + s.used) % len(s.ring)
	s.ring[slot] = h
	s.used++
	s.m[h] = cacheEntry{token: token, claims: claims, until: until, slot: slot}
}

// evictHead frees the oldest slot, dropping its entry unless the entry has
// moved on (dropped, or stored again in a newer slot).
func (s *cacheShard) evictHead() {
	h := s.ring[s.head]
	if e, ok := s.m[h]; ok && e.slot == s.head {
		delete(s.m, h)
	}
	s.head = (s.head + 1) % len(s.ring)
	s.used--
}

// drop forgets token, for example once it has expired. Its ring slot is
// freed when it becomes the oldest.
func (c *tokenCache) drop(token string) {
	if c == nil {
		return
	}
	s, h := c.shard(token)
	s.mu.Lock()
	if e, ok := s.m[h]; ok && e.token == token {
		delete(s.m, h)
	}
	s.mu.Unlock()
}

// len counts the entries, for tests.
func (c *tokenCache) len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
