// Package keyfetch keeps a document fetched from a URL up to date: a JWK
// Set, for a service that verifies tokens with an issuer's published keys.
// Readers take the current snapshot without a lock; fetches run one at a
// time in the background, are rate limited, and a failed fetch keeps the
// last good snapshot.
package keyfetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Config says where and how often to fetch.
type Config struct {
	URL         string
	Client      *http.Client // redirects are checked by Redirects
	Accept      string
	MaxSize     int64
	Timeout     time.Duration // one fetch, connection to last byte
	Refresh     time.Duration // how old a snapshot may grow before a fetch
	MinInterval time.Duration // least time between two fetches
}

// Fetcher holds the latest snapshot of type T parsed from the document.
type Fetcher[T any] struct {
	cfg   Config
	now   func() time.Time
	parse func(body []byte) (T, error)
	// swapped runs after each successful fetch with the previous and the
	// new snapshot; logf reports fetches and failures.
	swapped func(old, next T)
	logf    func(msg string, args ...any)

	snap atomic.Pointer[snapshot[T]]

	// lastTry is when the last fetch began, in Unix nanoseconds: written
	// under mu, read without it so a rate-limited check costs no lock.
	lastTry atomic.Int64

	mu      sync.Mutex
	running chan struct{} // closed when the running fetch ends; nil if none
	lastErr error
}

type snapshot[T any] struct {
	value   T
	fetched time.Time // zero until a fetch succeeded
}

// New returns a fetcher whose snapshot is initial until a fetch succeeds.
func New[T any](cfg Config, now func() time.Time, initial T, parse func([]byte) (T, error), swapped func(old, next T), logf func(string, ...any)) *Fetcher[T] {
	f := &Fetcher[T]{cfg: cfg, now: now, parse: parse, swapped: swapped, logf: logf}
	f.snap.Store(&snapshot[T]{value: initial})
	return f
}

// Current returns the snapshot and whether any fetch has succeeded yet,
// starting a background fetch when the snapshot is due.
func (f *Fetcher[T]) Current() (T, bool) {
	s := f.snap.Load()
	if now := f.now(); s.fetched.IsZero() || now.Sub(s.fetched) >= f.cfg.Refresh {
		if now.UnixNano()-f.lastTry.Load() >= int64(f.cfg.MinInterval) {
			f.Start()
		}
	}
	return s.value, !s.fetched.IsZero()
}

// Start begins a fetch in the background unless one is running (then it
// returns that one's channel) or the last began less than MinInterval ago
// (then nil). The channel closes when the fetch ends.
func (f *Fetcher[T]) Start() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running != nil {
		return f.running
	}
	now := f.now().UnixNano()
	if last := f.lastTry.Load(); last != 0 && now-last < int64(f.cfg.MinInterval) {
		return nil
	}
	f.lastTry.Store(now)
	done := make(chan struct{})
	f.running = done
	go func() {
		err := f.fetch()
		f.mu.Lock()
		f.lastErr, f.running = err, nil
		f.mu.Unlock()
		close(done)
	}()
	return done
}

// Refetch waits for a fetch begun now (or the running one); it returns at
// once when the rate limit forbids a new one.
func (f *Fetcher[T]) Refetch() {
	if done := f.Start(); done != nil {
		<-done
	}
}

// LastError is why the last fetch failed, nil if it succeeded.
func (f *Fetcher[T]) LastError() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastErr
}

func (f *Fetcher[T]) fetch() error {
	body, err := f.download()
	if err == nil {
		var v T
		if v, err = f.parse(body); err == nil {
			old := f.snap.Swap(&snapshot[T]{value: v, fetched: f.now()})
			f.swapped(old.value, v)
			return nil
		}
	}
	err = fmt.Errorf("fetching %s: %w", redacted(f.cfg.URL), err)
	f.logf("key set fetch failed; keeping the last good set", "error", err.Error())
	return err
}

func (f *Fetcher[T]) download() ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), f.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.cfg.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", f.cfg.Accept)
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > f.cfg.MaxSize {
		return nil, fmt.Errorf("document over %d bytes", f.cfg.MaxSize)
	}
	return body, nil
}

func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the key set URL"
	}
	return u.Redacted()
}

// MaxRedirects is how many redirects a fetch follows at most.
const MaxRedirects = 3

// Redirects is an http.Client CheckRedirect that follows at most
// MaxRedirects redirects and only within the origin (scheme, host and port)
// of the first request: another host would be handing out the keys, and a
// step down to plain http would let anyone on the path do so (or point the
// fetch at a service inside the network). own, when not nil, is the
// caller's policy, asked after these checks.
func Redirects(own func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		// via holds every request so far: the first and each redirect followed.
		if len(via) > MaxRedirects {
			return errors.New("too many redirects")
		}
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
			return fmt.Errorf("redirect to %s refused: the key set must stay at %s://%s", req.URL.Redacted(), first.Scheme, first.Host)
		}
		if own != nil {
			return own(req, via)
		}
		return nil
	}
}
