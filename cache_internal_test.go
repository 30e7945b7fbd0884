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

// checkSlots verifies that every entry sits in the set its token picks.
func checkSlots(t *testing.T, c *tokenCache) {
	t.Helper()
	for i := range c.slots {
		e := c.slots[i].Load()
		if e == nil {
			continue
		}
		if set, h := c.set(e.token); h != e.hash || &set[0] != &c.slots[i-i%c.ways] {
			t.Errorf("slot %d holds %q outside its set", i, e.token)
		}
	}
}

func TestTokenCacheBound(t *testing.T) {
	for _, size := range []int{1, 3, 5, 16, 17, 100, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c := newTokenCache(size)
			if n := len(c.slots); n > size || n < size-cacheWays+1 {
				t.Fatalf("%d slots for size %d", n, size)
			}
			exp := cacheEpoch.Add(time.Hour)
			for i := range 3*size + 7 {
				tok := fmt.Sprintf("token-%d", i)
				c.put(tok, entryFor(tok, exp), exp, c.generation())
				if n := c.len(); n > size {
					t.Fatalf("after %d puts: %d entries, want at most %d", i+1, n, size)
				}
			}
			checkSlots(t, c)
			if got := c.len(); got < len(c.slots)*3/4 {
				t.Errorf("%d entries after filling %d slots", got, len(c.slots))
			}
		})
	}
}

// TestTokenCacheEviction fills one set and checks which entry a new token
// replaces: the expired one if any, else the one expiring first.
func TestTokenCacheEviction(t *testing.T) {
	c := newTokenCache(cacheWays) // a single set
	put := func(tok string, until time.Duration) {
		c.put(tok, entryFor(tok, cacheEpoch.Add(until)), cacheEpoch.Add(until), c.generation())
	}
	put("a", 4*time.Hour)
	put("b", time.Hour)
	put("c", -time.Minute) // already expired
	put("d", 3*time.Hour)
	put("e", 2*time.Hour)
	for tok, want := range map[string]bool{"a": true, "b": true, "c": false, "d": true, "e": true} {
		if got := c.get(tok) != nil; got != want {
			t.Errorf("after an expired entry was replaced: %s cached = %v, want %v", tok, got, want)
		}
	}
	put("f", 5*time.Hour)
	for tok, want := range map[string]bool{"a": true, "b": false, "d": true, "e": true, "f": true} {
		if got := c.get(tok) != nil; got != want {
			t.Errorf("after the first to expire was replaced: %s cached = %v, want %v", tok, got, want)
		}
	}
	put("a", 4*time.Hour) // already there: nothing moves
	if c.len() != cacheWays || c.get("e") == nil {
		t.Error("storing a cached token again evicted another")
	}
	checkSlots(t, c)

	c = newTokenCache(1) // one slot
	put("x", time.Hour)
	put("y", time.Hour)
	if c.get("x") != nil || c.get("y") == nil {
		t.Error("in a single slot the newer token should replace the older")
	}
}

func TestTokenCacheExactToken(t *testing.T) {
	c := newTokenCache(64)
	exp := cacheEpoch.Add(time.Hour)
	const tok = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	c.put(tok, entryFor(tok, exp), exp, c.generation())
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
	c.put("a", entryFor("a", cacheEpoch), cacheEpoch, c.generation()) // no-ops on nil
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
					c.put(tok, entryFor(tok, exp), exp, c.generation())
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
	checkSlots(t, c)
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
