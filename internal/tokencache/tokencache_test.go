package tokencache

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// value names the token it was stored for and the generation read before
// storing it, so a test can tell whose value a look-up returned.
type value struct {
	token string
	gen   uint64
}

func put(c *Cache[value], token string, until time.Time) {
	gen := c.Generation()
	c.Put(token, &value{token, gen}, until, gen)
}

// checkSlots verifies that every entry sits in the set its token picks.
func checkSlots(t *testing.T, c *Cache[value]) {
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

func TestBound(t *testing.T) {
	for _, size := range []int{1, 3, 4, 5, 16, 17, 100, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c := New[value](size)
			if n := len(c.slots); n > size || n < size-Ways+1 {
				t.Fatalf("%d slots for size %d, want at most %d and at least %d", n, size, size, size-Ways+1)
			}
			until := epoch.Add(time.Hour)
			for i := range 3*size + 7 {
				put(c, fmt.Sprintf("token-%d", i), until)
				if n := c.Len(); n > size {
					t.Fatalf("after %d puts: %d entries, want at most %d", i+1, n, size)
				}
			}
			checkSlots(t, c)
			if got := c.Len(); got < len(c.slots)*3/4 {
				t.Errorf("%d entries after filling %d slots", got, len(c.slots))
			}
		})
	}
}

// TestEviction fills one set and checks which entry a new token replaces:
// the expired one if any, else the one expiring first.
func TestEviction(t *testing.T) {
	c := New[value](Ways) // a single set
	at := func(d time.Duration) time.Time { return epoch.Add(d) }
	put(c, "a", at(4*time.Hour))
	put(c, "b", at(time.Hour))
	put(c, "c", at(-time.Minute)) // already expired
	put(c, "d", at(3*time.Hour))
	put(c, "e", at(2*time.Hour))
	check := func(when string, want map[string]bool) {
		t.Helper()
		for tok, cached := range want {
			if got := c.Get(tok, epoch) != nil; got != cached {
				t.Errorf("%s: %s cached = %v, want %v", when, tok, got, cached)
			}
		}
	}
	check("after the expired entry was replaced", map[string]bool{"a": true, "b": true, "c": false, "d": true, "e": true})
	put(c, "f", at(5*time.Hour))
	check("after the first to expire was replaced", map[string]bool{"a": true, "b": false, "d": true, "e": true, "f": true})
	put(c, "a", at(4*time.Hour)) // already there: nothing moves
	if c.Len() != Ways || c.Get("e", epoch) == nil {
		t.Error("storing a cached token again evicted another")
	}
	checkSlots(t, c)

	c = New[value](1) // one slot
	put(c, "x", at(time.Hour))
	put(c, "y", at(time.Hour))
	if c.Get("x", epoch) != nil || c.Get("y", epoch) == nil {
		t.Error("in a single slot the newer token should replace the older")
	}
}

// TestExactToken: a token one byte away from a cached one is a miss, never
// the cached token's value.
func TestExactToken(t *testing.T) {
	c := New[value](64)
	const tok = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	put(c, tok, epoch.Add(time.Hour))
	if got := c.Get(tok, epoch); got == nil || got.token != tok {
		t.Fatalf("Get(token) = %v, want its value", got)
	}
	for i := range len(tok) {
		b := []byte(tok)
		b[i] ^= 1
		if got := c.Get(string(b), epoch); got != nil {
			t.Errorf("byte %d changed: served %q's value", i, got.token)
		}
	}
	for _, other := range []string{tok[:len(tok)-1], tok + "A", " " + tok, ""} {
		if got := c.Get(other, epoch); got != nil {
			t.Errorf("Get(%q) served a cached value", other)
		}
	}
	c.Drop(tok + "x") // dropping another token leaves this one
	if c.Get(tok, epoch) == nil {
		t.Error("dropping another token removed this one")
	}
	c.Drop(tok)
	if c.Get(tok, epoch) != nil || c.Len() != 0 {
		t.Error("Drop left the token cached")
	}
}

// TestUntil: an entry is served up to, and not at, the instant it was
// stored with, and a refused entry leaves the cache.
func TestUntil(t *testing.T) {
	c := New[value](16)
	until := epoch.Add(time.Minute)
	put(c, "tok", until)
	if c.Get("tok", until.Add(-time.Nanosecond)) == nil {
		t.Fatal("refused before its until")
	}
	if c.Get("tok", until) != nil {
		t.Error("served at its until")
	}
	if c.Len() != 0 {
		t.Error("an entry past its until stays cached")
	}
	// Nor is an expired entry served to a clock that went back: it is gone.
	if c.Get("tok", epoch) != nil {
		t.Error("an entry dropped past its until came back")
	}
	put(c, "old", epoch)
	if c.Get("old", epoch) != nil || c.Get("old", epoch.Add(time.Hour)) != nil {
		t.Error("an entry stored already past its until was served")
	}
}

func TestOff(t *testing.T) {
	for _, size := range []int{0, -1} {
		c := New[value](size)
		if c != nil {
			t.Fatalf("New(%d) made a cache", size)
		}
		// Every method is a no-op on nil.
		put(c, "a", epoch.Add(time.Hour))
		c.Drop("a")
		c.Reset()
		if c.Get("a", epoch) != nil || c.Len() != 0 || c.Generation() != 0 {
			t.Error("a nil cache remembered a token")
		}
	}
}

// TestResetDropsEverything: Reset empties the cache, and a value verified
// before it (with the generation read before) is not stored after it.
func TestResetDropsEverything(t *testing.T) {
	c := New[value](64)
	until := epoch.Add(time.Hour)
	for i := range 20 {
		put(c, fmt.Sprint("tok-", i), until)
	}
	stale := c.Generation() // read by a request still verifying its token
	c.Reset()
	if n := c.Len(); n != 0 {
		t.Fatalf("%d entries after Reset", n)
	}
	c.Put("late", &value{"late", stale}, until, stale)
	if c.Get("late", epoch) != nil {
		t.Error("a value verified before the reset was stored after it")
	}
	put(c, "fresh", until)
	if c.Get("fresh", epoch) == nil {
		t.Error("a value verified after the reset was not stored")
	}
}

// TestResetRace runs under -race: puts race resets. Whatever the
// interleaving, once all is quiet no entry stored under an older
// generation may remain, since it may rest on a withdrawn key.
func TestResetRace(t *testing.T) {
	for round := range 10 {
		c := New[value](64)
		until := epoch.Add(time.Hour)
		var wg sync.WaitGroup
		var stop atomic.Bool
		for w := range 2 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for !stop.Load() {
					put(c, fmt.Sprint("tok-", rng.IntN(200)), until)
				}
			})
		}
		for range 1000 {
			c.Reset()
		}
		stop.Store(true)
		wg.Wait()
		gen := c.Generation()
		for i := range c.slots {
			if e := c.slots[i].Load(); e != nil && e.value.gen != gen {
				t.Fatalf("round %d: %q stored under generation %d survived into generation %d", round, e.token, e.value.gen, gen)
			}
		}
	}
}

// TestConcurrent runs under -race: look-ups, puts and drops from many
// goroutines on a cache small enough to evict all the time. Every hit must
// be the value of the very token asked for.
func TestConcurrent(t *testing.T) {
	const size, tokens, workers, ops = 40, 300, 8, 3000
	c := New[value](size)
	until := epoch.Add(time.Hour)
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range ops {
				tok := fmt.Sprint("token-", rng.IntN(tokens))
				switch rng.IntN(10) {
				case 0:
					c.Drop(tok)
				case 1, 2, 3:
					put(c, tok, until)
				default:
					if got := c.Get(tok, epoch); got != nil && got.token != tok {
						wrong.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d look-ups returned another token's value", n)
	}
	if n := c.Len(); n > size {
		t.Errorf("%d entries, want at most %d", n, size)
	}
	checkSlots(t, c)
}

func BenchmarkGetHit(b *testing.B) {
	c := New[value](10_000)
	const tok = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	put(c, tok, epoch.Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		if c.Get(tok, epoch) == nil {
			b.Fatal("miss")
		}
	}
}
