package ginfresh

import (
	"fmt"
	"hash/maphash"
	"sync/atomic"
	"time"
)

// DefaultCacheSize is how many verified access tokens are remembered.
const DefaultCacheSize = 10_000

// cacheWays is how many slots a token may use: its hash picks a set of
// this many, and a new token replaces the entry of the set that expires
// first.
const cacheWays = 4

// tokenCache remembers the claims of access tokens that passed signature
// and claim checks, so a token seen again skips the signature and JSON work.
// It never widens what is accepted:
//   - an entry is found only by the exact token it was stored under (the
//     hash picks the set, the whole token is then compared);
//   - a hit still goes through every time-based check, the guards and
//     revocation (see verifyAccess);
//   - an entry is never served past its token's exp (plus leeway): the
//     caller's check drops it, and a new token takes the slot of an expired
//     entry before any other;
//   - it has a fixed number of slots, at most the configured size.
//
// Look-ups only load pointers, so requests on every CPU read it without
// contending; entries are immutable and replaced whole. A nil cache is off.
type tokenCache struct {
	seed  maphash.Seed
	sets  uint64
	ways  int
	slots []atomic.Pointer[cacheEntry]
	// gen counts resets; see put.
	gen atomic.Uint64
}

type cacheEntry struct {
	hash   uint64
	token  string
	claims *Claims
	until  time.Time // exp plus leeway: no use past it
}

// WithTokenCache sets how many verified access tokens to remember at most
// (size rounded down to a multiple of 4); 0 turns the cache off. Memory
// stays below about size × (2 × token length + 300 bytes). A token is looked up by its exact bytes and every hit is checked
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

// newTokenCache returns a cache of at most size entries (size rounded down
// to whole sets), or nil when size is 0.
func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	ways := min(cacheWays, size)
	sets := size / ways
	return &tokenCache{
		seed:  maphash.MakeSeed(),
		sets:  uint64(sets),
		ways:  ways,
		slots: make([]atomic.Pointer[cacheEntry], sets*ways),
	}
}

// set returns the slots token may occupy and its hash.
func (c *tokenCache) set(token string) ([]atomic.Pointer[cacheEntry], uint64) {
	h := maphash.String(c.seed, token)
	i := int(h%c.sets) * c.ways
	return c.slots[i : i+c.ways], h
}

func (c *tokenCache) get(token string) *Claims {
	if c == nil {
		return nil
	}
	set, h := c.set(token)
	for i := range set {
		if e := set[i].Load(); e != nil && e.hash == h && e.token == token {
			return e.claims
		}
	}
	return nil
}

// put remembers the claims of token, which the caller has just verified,
// until the instant until. It takes a free slot of the token's set, else
// the one whose entry expires first, which is an expired one if there is
// any. Two puts racing for one slot may lose one of the entries: a later
// request verifies its token again, which is all a miss costs.
func (c *tokenCache) put(token string, claims *Claims, until time.Time, gen uint64) {
	if c == nil || c.gen.Load() != gen {
		return
	}
	set, h := c.set(token)
	var seen [cacheWays]*cacheEntry
	victim := 0
	for i := range set {
		e := set[i].Load()
		if e != nil && e.hash == h && e.token == token {
			return // verified twice at once
		}
		seen[i] = e
		if v := seen[victim]; v != nil && (e == nil || e.until.Before(v.until)) {
			victim = i
		}
	}
	e := &cacheEntry{hash: h, token: token, claims: claims, until: until}
	if set[victim].CompareAndSwap(seen[victim], e) && c.gen.Load() != gen {
		// A reset ran meanwhile and may have cleared this slot before the
		// swap: take the entry back out.
		set[victim].CompareAndSwap(e, nil)
	}
}

// drop forgets token, for example once it has expired.
func (c *tokenCache) drop(token string) {
	if c == nil {
		return
	}
	set, h := c.set(token)
	for i := range set {
		if e := set[i].Load(); e != nil && e.hash == h && e.token == token {
			set[i].CompareAndSwap(e, nil)
		}
	}
}

// reset forgets every token, for example when a key they were checked
// with is withdrawn. A put of a token verified before the reset (with the
// generation read before verifying) does not bring it back.
func (c *tokenCache) reset() {
	if c == nil {
		return
	}
	c.gen.Add(1)
	for i := range c.slots {
		c.slots[i].Store(nil)
	}
}

// generation is read before verifying a token and handed to put.
func (c *tokenCache) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

// len counts the entries, for tests.
func (c *tokenCache) len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	return n
}
