package ginfresh

import (
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// DefaultCacheSize is how many verified access tokens are remembered.
const DefaultCacheSize = 10_000

const cacheShards = 16

// tokenCache remembers the claims of access tokens that passed signature
// and claim checks, keyed by the exact token string, so a token seen again
// skips the signature and JSON work. It never widens what is accepted: a hit
// still goes through every time-based check and revocation, and an entry is
// dropped once its token has expired. A nil cache is off.
type tokenCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]*Claims
}

// WithTokenCache sets how many verified access tokens to remember; 0 turns
// the cache off. Memory stays below about size × (token length + 300 bytes).
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

func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	c := &tokenCache{seed: maphash.MakeSeed(), perShard: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*Claims)
	}
	return c
}

func (c *tokenCache) shard(token string) *cacheShard {
	return &c.shards[maphash.String(c.seed, token)%cacheShards]
}

func (c *tokenCache) get(token string) *Claims {
	if c == nil {
		return nil
	}
	s := c.shard(token)
	s.mu.RLock()
	claims := s.m[token]
	s.mu.RUnlock()
	return claims
}

// put remembers claims. A full shard first drops entries that are past
// their exp, then, if still full, an arbitrary one.
func (c *tokenCache) put(token string, claims *Claims, now time.Time) {
	if c == nil {
		return
	}
	s := c.shard(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= c.perShard {
		for k, v := range s.m {
			if !v.ExpiresAt.After(now) {
				delete(s.m, k)
			}
		}
		for k := range s.m {
			if len(s.m) < c.perShard {
				break
			}
			delete(s.m, k)
		}
	}
	s.m[token] = claims
}

// drop forgets a token, for example once it has expired or been revoked.
func (c *tokenCache) drop(token string) {
	if c == nil {
		return
	}
	s := c.shard(token)
	s.mu.Lock()
	delete(s.m, token)
	s.mu.Unlock()
}

// reset forgets every token, for example when a key they were checked
// with is withdrawn.
func (c *tokenCache) reset() {
	if c == nil {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
}
