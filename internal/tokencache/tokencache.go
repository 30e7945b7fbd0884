// Package tokencache remembers what verified tokens say, so a token seen
// again skips the signature and JSON work. It never widens what is
// accepted:
//   - an entry is found only by the exact token it was stored under (the
//     hash picks the set, the whole token is then compared);
//   - an entry is never returned past the instant its owner gave it (the
//     token's exp plus leeway), and a new token takes the slot of an expired
//     entry before any other;
//   - an entry stored while the keys changed is dropped (see Put);
//   - it has a fixed number of slots, at most the configured size.
//
// Look-ups only load pointers, so requests on every CPU read it without
// contending; entries are immutable and replaced whole. A nil *Cache is
// off: every method is a no-op.
package tokencache

import (
	"hash/maphash"
	"sync/atomic"
	"time"
)

// Ways is how many slots a token may use: its hash picks a set of this
// many, and a new token replaces the entry of the set that expires first.
const Ways = 4

// Cache maps token strings to immutable values of type V.
type Cache[V any] struct {
	seed  maphash.Seed
	sets  uint64
	ways  int
	slots []atomic.Pointer[entry[V]]
	// gen counts resets; see Put.
	gen atomic.Uint64
}

type entry[V any] struct {
	hash  uint64
	token string
	value *V
	until time.Time
}

// New returns a cache of at most size entries (size rounded down to whole
// sets), or nil when size is 0 or less.
func New[V any](size int) *Cache[V] {
	if size <= 0 {
		return nil
	}
	ways := min(Ways, size)
	sets := size / ways
	return &Cache[V]{
		seed:  maphash.MakeSeed(),
		sets:  uint64(sets),
		ways:  ways,
		slots: make([]atomic.Pointer[entry[V]], sets*ways),
	}
}

// set returns the slots token may occupy and its hash.
func (c *Cache[V]) set(token string) ([]atomic.Pointer[entry[V]], uint64) {
	h := maphash.String(c.seed, token)
	i := int(h%c.sets) * c.ways
	return c.slots[i : i+c.ways], h
}

// Get returns the value stored under token, unless it is past its until at
// now.
func (c *Cache[V]) Get(token string, now time.Time) *V {
	if c == nil {
		return nil
	}
	set, h := c.set(token)
	for i := range set {
		if e := set[i].Load(); e != nil && e.hash == h && e.token == token {
			if !now.Before(e.until) {
				set[i].CompareAndSwap(e, nil)
				return nil
			}
			return e.value
		}
	}
	return nil
}

// Put remembers v for token until the instant until. gen is what
// Generation returned before the caller verified the token: a Reset since
// then (keys were withdrawn) means v may rest on a withdrawn key, so it is
// not stored. Put takes a free slot of the token's set, else the one whose
// entry expires first, which is an expired one if there is any. Two puts
// racing for one slot may lose one of the entries: a later request
// verifies its token again, which is all a miss costs.
func (c *Cache[V]) Put(token string, v *V, until time.Time, gen uint64) {
	if c == nil || c.gen.Load() != gen {
		return
	}
	set, h := c.set(token)
	var seen [Ways]*entry[V]
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
	e := &entry[V]{hash: h, token: token, value: v, until: until}
	if set[victim].CompareAndSwap(seen[victim], e) && c.gen.Load() != gen {
		// A reset ran meanwhile and may have cleared this slot before the
		// swap: take the entry back out.
		set[victim].CompareAndSwap(e, nil)
	}
}

// Drop forgets token.
func (c *Cache[V]) Drop(token string) {
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

// Reset forgets every token, for example when a key they were checked with
// is withdrawn. A Put of a token verified before the reset (with the
// generation read before verifying) does not bring it back.
func (c *Cache[V]) Reset() {
	if c == nil {
		return
	}
	c.gen.Add(1)
	for i := range c.slots {
		c.slots[i].Store(nil)
	}
}

// Generation is read before verifying a token and handed to Put.
func (c *Cache[V]) Generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

// Len counts the entries, for tests.
func (c *Cache[V]) Len() int {
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
