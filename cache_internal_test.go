package ginfresh

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
)

var cacheEpoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// entryFor returns claims naming token, so a test can tell whose claims a
// look-up returned.
func entryFor(token string, exp time.Time) *Claims {
	c := &Claims{}
	c.Subject = token
	c.ExpiresAt = jwt.NewNumericDate(exp)
	return c
}

// checkShards verifies the structure every shard keeps: at most its ring's
// size of entries, and each entry named by the ring slot it claims, inside
// the used part of the ring.
func checkShards(t *testing.T, c *tokenCache) {
	t.Helper()
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		if len(s.m) > len(s.ring) || s.used > len(s.ring) {
			t.Errorf("shard %d: %d entries, %d slots used, %d slots", i, len(s.m), s.used, len(s.ring))
		}
		for h, e := range s.m {
			if s.ring[e.slot] != h {
				t.Errorf("shard %d: entry in slot %d, which names another key", i, e.slot)
			}
			if (e.slot-s.head+len(s.ring))%len(s.ring) >= s.used {
				t.Errorf("shard %d: entry in free slot %d (head %d, used %d)", i, e.slot, s.head, s.used)
			}
		}
		s.mu.RUnlock()
	}
}

func TestTokenCacheBound(t *testing.T) {
	for _, size := range []int{1, 5, 16, 17, 100, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c := newTokenCache(size)
			exp := cacheEpoch.Add(time.Hour)
			for i := range 3*size + 7 {
				tok := fmt.Sprintf("token-%d", i)
				c.put(tok, entryFor(tok, exp), exp, cacheEpoch)
				if n := c.len(); n > size {
					t.Fatalf("after %d puts: %d entries, want at most %d", i+1, n, size)
				}
			}
			checkShards(t, c)
			if got := c.len(); got < size*3/4 {
				t.Errorf("%d entries after filling, want close to %d", got, size)
			}
		})
	}
}

func TestTokenCacheEvictsOldestFirst(t *testing.T) {
	c := newTokenCache(1) // one shard, one slot
	exp := cacheEpoch.Add(time.Hour)
	c.put("a", entryFor("a", exp), exp, cacheEpoch)
	c.put("b", entryFor("b", exp), exp, cacheEpoch)
	if c.get("a") != nil || c.get("b") == nil {
		t.Fatalf("after a then b in one slot: a=%v b=%v, want only b", c.get("a"), c.get("b"))
	}

	c = newTokenCache(cacheShards * 3) // three slots a shard
	s := &c.shards[0]
	var toks []string
	for i := 0; len(toks) < 4; i++ { // four tokens of shard 0
		tok := fmt.Sprint("t", i)
		if sh, _ := c.shard(tok); sh == s {
			toks = append(toks, tok)
		}
	}
	for _, tok := range toks {
		c.put(tok, entryFor(tok, exp), exp, cacheEpoch)
	}
	for i, tok := range toks {
		if got, want := c.get(tok) != nil, i > 0; got != want {
			t.Errorf("token %d cached = %v, want %v (the first in is the first out)", i, got, want)
		}
	}
	checkShards(t, c)
}

func TestTokenCacheDropsExpiredHead(t *testing.T) {
	c := newTokenCache(cacheShards * 4)
	s := &c.shards[0]
	var toks []string
	for i := 0; len(toks) < 3; i++ {
		tok := fmt.Sprint("t", i)
		if sh, _ := c.shard(tok); sh == s {
			toks = append(toks, tok)
		}
	}
	soon, later := cacheEpoch.Add(time.Minute), cacheEpoch.Add(time.Hour)
	c.put(toks[0], entryFor(toks[0], soon), soon, cacheEpoch)
	c.put(toks[1], entryFor(toks[1], later), later, cacheEpoch)
	// The shard has room, but its oldest entry has expired: the next put
	// frees it.
	c.put(toks[2], entryFor(toks[2], later), later, soon)
	if c.get(toks[0]) != nil {
		t.Error("an expired entry outlived its token")
	}
	if c.get(toks[1]) == nil || c.get(toks[2]) == nil {
		t.Error("a live entry was dropped")
	}
	checkShards(t, c)
}

func TestTokenCacheExactToken(t *testing.T) {
	c := newTokenCache(64)
	exp := cacheEpoch.Add(time.Hour)
	const tok = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	c.put(tok, entryFor(tok, exp), exp, cacheEpoch)
	if got := c.get(tok); got == nil || got.Subject != tok {
		t.Fatalf("get(token) = %v, want its claims", got)
	}
	for i := range len(tok) {
		b := []byte(tok)
		b[i] ^= 1
		if got := c.get(string(b)); got != nil {
			t.Errorf("byte %d changed: served %q's claims", i, got.Subject)
		}
	}
	for _, other := range []string{tok[:len(tok)-1], tok + "A", " " + tok, ""} {
		if got := c.get(other); got != nil {
			t.Errorf("get(%q) served cached claims", other)
		}
	}
	c.drop(tok + "x") // dropping another token leaves this one
	if c.get(tok) == nil {
		t.Error("drop of another token removed this one")
	}
	c.drop(tok)
	if c.get(tok) != nil || c.len() != 0 {
		t.Error("drop left the token cached")
	}
}

func TestTokenCacheOff(t *testing.T) {
	c := newTokenCache(0)
	if c != nil {
		t.Fatal("size 0 made a cache")
	}
	c.put("a", entryFor("a", cacheEpoch), cacheEpoch, cacheEpoch) // no-ops on nil
	c.drop("a")
	if c.get("a") != nil || c.len() != 0 {
		t.Error("a nil cache remembered a token")
	}
}

// TestTokenCacheConcurrent runs under -race: look-ups, inserts and drops
// from many goroutines on a cache small enough to evict all the time. Every
// hit must be the claims of the very token asked for.
func TestTokenCacheConcurrent(t *testing.T) {
	const size, tokens, workers, ops = 40, 300, 8, 3000
	c := newTokenCache(size)
	exp := cacheEpoch.Add(time.Hour)
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range ops {
				tok := fmt.Sprint("token-", rng.IntN(tokens))
				switch rng.IntN(10) {
				case 0:
					c.drop(tok)
				case 1, 2, 3:
					c.put(tok, entryFor(tok, exp), exp, cacheEpoch)
				default:
					if got := c.get(tok); got != nil && got.Subject != tok {
						wrong.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d look-ups returned another token's claims", n)
	}
	if n := c.len(); n > size {
		t.Errorf("%d entries, want at most %d", n, size)
	}
	checkShards(t, c)
}

// countingFormat counts the verifications that reach the format, so a test
// can tell a cache hit from a miss.
type countingFormat struct {
	Format
	verified atomic.Int64
}

func (f *countingFormat) Verify(typ TokenType, token string) (*Claims, error) {
	f.verified.Add(1)
	return f.Format.Verify(typ, token)
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newCountingAuth(t *testing.T, opts ...Option) (*Auth, *countingFormat, *testClock) {
	t.Helper()
	clk := &testClock{t: cacheEpoch}
	base := []Option{
		WithHMACKey([]byte("cache-test-key-0123456789-0123456789")),
		WithAuthenticator(func(_ *gin.Context, _, _ string) (Identity, error) { return Identity{}, ErrInvalidCredentials }),
		WithTimeFunc(clk.now),
	}
	a, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f := &countingFormat{Format: a.format}
	a.format = f
	return a, f, clk
}

func TestVerifyAccessCache(t *testing.T) {
	ctx := context.Background()
	a, f, clk := newCountingAuth(t, WithLeeway(10*time.Second))
	tok, err := a.CreateAccessToken(Identity{Subject: "alice"}, true)
	if err != nil {
		t.Fatal(err)
	}
	mustVerify := func(want error) {
		t.Helper()
		_, err := a.Verify(ctx, AccessToken, tok)
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Fatalf("Verify at %v: got %v, want %v", clk.now().Sub(cacheEpoch), err, want)
		}
	}
	mustVerify(nil)
	mustVerify(nil)
	if got := f.verified.Load(); got != 1 {
		t.Fatalf("two checks of one token reached the format %d times, want 1 (the second is a hit)", got)
	}

	// A token one byte away is verified (and refused), never served.
	b := []byte(tok)
	b[len(b)-5] ^= 1
	if _, err := a.Verify(ctx, AccessToken, string(b)); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("one byte changed: got %v, want ErrTokenInvalid", err)
	}
	if got := f.verified.Load(); got != 2 {
		t.Errorf("the changed token reached the format %d times in all, want 2", got)
	}

	// Within leeway of exp the hit still passes; past it, it is refused
	// without asking the format, and the entry is dropped.
	clk.advance(a.accessTTL + 9*time.Second)
	mustVerify(nil)
	clk.advance(time.Second)
	mustVerify(ErrTokenExpired)
	if got := f.verified.Load(); got != 2 {
		t.Errorf("the format saw %d checks, want 2: the expiry refusal was a hit", got)
	}
	if n := a.cache.len(); n != 0 {
		t.Errorf("cache holds %d entries after expiry, want 0", n)
	}
	mustVerify(ErrTokenExpired)
	if got := f.verified.Load(); got != 3 {
		t.Errorf("after the drop the format saw %d checks, want 3 (a miss)", got)
	}

	// The clock runs backwards past iat and nbf: the hit is refused.
	if tok, err = a.CreateAccessToken(Identity{Subject: "alice"}, true); err != nil {
		t.Fatal(err)
	}
	mustVerify(nil)
	mustVerify(nil)
	clk.advance(-time.Minute)
	mustVerify(ErrTokenInvalid)
	if got := f.verified.Load(); got != 4 {
		t.Errorf("the format saw %d checks, want 4: the nbf refusal was a hit", got)
	}
}

func TestVerifyAccessCacheOff(t *testing.T) {
	a, f, _ := newCountingAuth(t, WithTokenCache(0))
	tok, err := a.CreateAccessToken(Identity{Subject: "alice"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := a.Verify(context.Background(), AccessToken, tok); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.verified.Load(); got != 3 {
		t.Errorf("with the cache off the format saw %d of 3 checks", got)
	}
}
