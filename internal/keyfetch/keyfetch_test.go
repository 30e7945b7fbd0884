package keyfetch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh/internal/keyfetch"
)

// clock is a time source the test moves; the fetcher reads it from its
// own goroutine, hence the lock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// origin serves a document the test can change, counting requests; with
// hold set, requests wait for it to close.
type origin struct {
	*httptest.Server
	hits   atomic.Int32
	accept atomic.Value // the last Accept header

	mu     sync.Mutex
	status int
	body   string
	hold   chan struct{}
}

func newOrigin(t *testing.T, body string) *origin {
	t.Helper()
	o := &origin{status: http.StatusOK, body: body}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.accept.Store(r.Header.Get("Accept"))
		o.mu.Lock()
		status, body, hold := o.status, o.body, o.hold
		o.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *origin) serve(status int, body string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.status, o.body = status, body
}

// holdRequests makes requests wait until the returned func is called.
func (o *origin) holdRequests() (release func()) {
	hold := make(chan struct{})
	o.mu.Lock()
	o.hold = hold
	o.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			o.mu.Lock()
			o.hold = nil
			o.mu.Unlock()
			close(hold)
		})
	}
}

var errUnparsable = errors.New("unparsable document")

// parse stands in for the JWK Set parser: a document starting with "bad"
// does not parse.
func parse(body []byte) (string, error) {
	if strings.HasPrefix(string(body), "bad") {
		return "", errUnparsable
	}
	return string(body), nil
}

// swaps records the swapped callbacks.
type swaps struct {
	mu   sync.Mutex
	list []string
}

func (s *swaps) record(old, next string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, old+"→"+next)
}

func (s *swaps) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.list...)
}

type fixture struct {
	f     *keyfetch.Fetcher[string]
	clock *clock
	swaps *swaps
}

// newFetcher fetches from rawURL with a minute between fetches and a
// refresh every 15 minutes, unless edit says otherwise.
func newFetcher(rawURL string, edit func(*keyfetch.Config)) *fixture {
	cfg := keyfetch.Config{
		URL: rawURL, Client: &http.Client{CheckRedirect: keyfetch.Redirects(nil)}, Accept: "application/jwk-set+json",
		MaxSize: 1024, Timeout: 5 * time.Second, Refresh: 15 * time.Minute, MinInterval: time.Minute,
	}
	if edit != nil {
		edit(&cfg)
	}
	fx := &fixture{clock: newClock(), swaps: &swaps{}}
	fx.f = keyfetch.New(cfg, fx.clock.Now, "initial", parse, fx.swaps.record, func(string, ...any) {})
	return fx
}

// current checks the snapshot.
func (fx *fixture) current(t *testing.T, want string, wantFetched bool) {
	t.Helper()
	got, fetched := fx.f.Current()
	if got != want || fetched != wantFetched {
		t.Fatalf("Current() = %q, %v; want %q, %v", got, fetched, want, wantFetched)
	}
}

func hits(t *testing.T, o *origin, want int32) {
	t.Helper()
	if got := o.hits.Load(); got != want {
		t.Fatalf("got %d fetches, want %d", got, want)
	}
}

func TestCurrentFetchesOnFirstUse(t *testing.T) {
	o := newOrigin(t, "doc-1")
	fx := newFetcher(o.URL, nil)
	hits(t, o, 0) // nothing is fetched before it is needed

	// The first reader gets the initial snapshot and starts a fetch; the
	// rate limit then makes Refetch wait for that fetch, not start another.
	fx.current(t, "initial", false)
	fx.f.Refetch()
	fx.current(t, "doc-1", true)
	hits(t, o, 1)
	if err := fx.f.LastError(); err != nil {
		t.Fatalf("LastError() = %v, want nil", err)
	}
	if got := fx.swaps.get(); len(got) != 1 || got[0] != "initial→doc-1" {
		t.Fatalf("swapped calls %q, want [initial→doc-1]", got)
	}
	if got, _ := o.accept.Load().(string); got != "application/jwk-set+json" {
		t.Fatalf("Accept %q, want the configured one", got)
	}
}

// A due snapshot is still served while the fetch that renews it runs in
// the background, so no request waits for the network.
func TestCurrentRefreshesWhenDue(t *testing.T) {
	o := newOrigin(t, "doc-1")
	fx := newFetcher(o.URL, func(c *keyfetch.Config) { c.Refresh = 5 * time.Minute })
	fx.f.Refetch()
	fx.current(t, "doc-1", true)

	fx.clock.Advance(4 * time.Minute)
	fx.current(t, "doc-1", true)
	// Had Current started a fetch, the rate limit would now refuse one.
	fx.clock.Advance(30 * time.Second)
	done := fx.f.Start()
	if done == nil {
		t.Fatal("Current fetched before the snapshot was due")
	}
	<-done
	hits(t, o, 2)

	o.serve(http.StatusOK, "doc-2")
	fx.clock.Advance(5 * time.Minute)
	release := o.holdRequests()
	fx.current(t, "doc-1", true) // due: served as is, and a fetch starts
	running := fx.f.Start()
	if running == nil {
		t.Fatal("no fetch running after a due Current")
	}
	release()
	<-running
	fx.current(t, "doc-2", true)
	hits(t, o, 3)
}

func TestRateLimit(t *testing.T) {
	o := newOrigin(t, "doc-1")
	fx := newFetcher(o.URL, func(c *keyfetch.Config) { c.MinInterval = time.Minute; c.Refresh = time.Hour })
	for range 10 {
		fx.f.Refetch()
	}
	hits(t, o, 1)
	if fx.f.Start() != nil {
		t.Fatal("Start within the interval returned a fetch")
	}

	fx.clock.Advance(59 * time.Second)
	fx.f.Refetch()
	hits(t, o, 1)
	fx.clock.Advance(time.Second)
	fx.f.Refetch()
	hits(t, o, 2)

	// A failed fetch counts too: an origin that is down is not hammered.
	o.serve(http.StatusServiceUnavailable, "")
	fx.clock.Advance(time.Minute)
	fx.f.Refetch()
	fx.f.Refetch()
	hits(t, o, 3)
	if fx.f.LastError() == nil {
		t.Fatal("LastError() = nil after a 503")
	}
	fx.clock.Advance(30 * time.Second)
	fx.f.Refetch()
	fx.current(t, "doc-1", true)
	hits(t, o, 3)
}

// Readers arriving while a fetch runs share it: one request to the origin,
// however many callers.
func TestSingleFlight(t *testing.T) {
	o := newOrigin(t, "doc-1")
	// No rate limit, so only single flight can coalesce the callers.
	fx := newFetcher(o.URL, func(c *keyfetch.Config) { c.MinInterval = 0 })
	release := o.holdRequests()
	defer release()
	first := fx.f.Start()
	if first == nil {
		t.Fatal("Start() = nil")
	}

	const callers = 20
	var started, finished sync.WaitGroup
	chans := make([]<-chan struct{}, callers)
	for i := range callers {
		started.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			chans[i] = fx.f.Start()
			started.Done()
			<-chans[i]
		}()
	}
	started.Wait()
	for i, ch := range chans {
		if ch != first {
			t.Fatalf("caller %d got another fetch than the running one", i)
		}
	}
	release()
	finished.Wait()
	hits(t, o, 1)
	fx.current(t, "doc-1", true)

	fx.f.Refetch() // the fetch has ended: a new one starts
	hits(t, o, 2)
}

// Whatever goes wrong with a fetch, the last good snapshot stays and the
// error is kept for the caller to report.
func TestFailedFetchKeepsLastGood(t *testing.T) {
	for _, tt := range []struct {
		name    string
		status  int
		body    string
		hold    bool
		wantErr error // nil: any error
	}{
		{name: "server error", status: http.StatusInternalServerError, body: "doc-x"},
		{name: "not modified", status: http.StatusNotModified},
		{name: "redirect without location", status: http.StatusFound, body: "doc-x"},
		{name: "unparsable", status: http.StatusOK, body: "bad document", wantErr: errUnparsable},
		{name: "oversized", status: http.StatusOK, body: strings.Repeat("x", 1025)},
		{name: "timeout", status: http.StatusOK, body: "doc-x", hold: true, wantErr: context.DeadlineExceeded},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t, "doc-1")
			fx := newFetcher(o.URL, func(c *keyfetch.Config) { c.Timeout = 100 * time.Millisecond })
			fx.f.Refetch()
			fx.current(t, "doc-1", true)

			o.serve(tt.status, tt.body)
			release := func() {}
			if tt.hold {
				release = o.holdRequests()
			}
			defer release()
			fx.clock.Advance(time.Minute)
			fx.f.Refetch()
			release()
			hits(t, o, 2)
			fx.current(t, "doc-1", true)
			err := fx.f.LastError()
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("LastError() = %v, want %v", err, tt.wantErr)
			}
			if got := fx.swaps.get(); len(got) != 1 {
				t.Fatalf("swapped calls %q, want only the first fetch's", got)
			}

			// The origin recovers: the next fetch replaces the snapshot.
			o.serve(http.StatusOK, "doc-2")
			fx.clock.Advance(time.Minute)
			fx.f.Refetch()
			fx.current(t, "doc-2", true)
			if err := fx.f.LastError(); err != nil {
				t.Fatalf("LastError() = %v after a good fetch, want nil", err)
			}
			if got := fx.swaps.get(); got[len(got)-1] != "doc-1→doc-2" {
				t.Fatalf("swapped calls %q, want doc-1→doc-2 last", got)
			}
		})
	}
}

// Until a fetch succeeds, Current says so: the caller answers "keys
// unavailable", not "token invalid".
func TestNeverFetched(t *testing.T) {
	o := newOrigin(t, "")
	o.serve(http.StatusInternalServerError, "")
	fx := newFetcher(o.URL, nil)
	fx.f.Refetch()
	fx.current(t, "initial", false)
	if fx.f.LastError() == nil {
		t.Fatal("LastError() = nil after a 500")
	}
	if got := fx.swaps.get(); len(got) != 0 {
		t.Fatalf("swapped calls %q, want none", got)
	}
}

func TestMaxSize(t *testing.T) {
	for _, tt := range []struct {
		name    string
		size    int
		wantErr bool
	}{
		{"empty", 0, false},
		{"exactly MaxSize", 1024, false},
		{"one byte over", 1025, true},
		{"far over", 1 << 20, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Repeat("x", tt.size)
			o := newOrigin(t, body)
			fx := newFetcher(o.URL, func(c *keyfetch.Config) { c.MaxSize = 1024 })
			fx.f.Refetch()
			if err := fx.f.LastError(); (err != nil) != tt.wantErr {
				t.Fatalf("LastError() = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr {
				fx.current(t, body, true)
			}
		})
	}
}

// The URL's password never reaches an error (errors get logged).
func TestErrorRedactsURL(t *testing.T) {
	o := newOrigin(t, "")
	o.serve(http.StatusInternalServerError, "")
	u, _ := url.Parse(o.URL)
	u.User = url.UserPassword("reader", "hunter2")
	u.Path = "/jwks.json"
	fx := newFetcher(u.String(), nil)
	fx.f.Refetch()
	err := fx.f.LastError()
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "/jwks.json") {
		t.Fatalf("LastError() = %v, want the URL without its password", err)
	}
}

func TestRedirectsPolicy(t *testing.T) {
	errOwn := errors.New("the caller's policy says no")
	req := func(raw string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// via returns n earlier requests, the first to the key set's URL.
	via := func(n int) []*http.Request {
		out := []*http.Request{req("https://issuer.example/jwks.json")}
		for i := 1; i < n; i++ {
			out = append(out, req(fmt.Sprintf("https://issuer.example/hop/%d", i)))
		}
		return out
	}
	for _, tt := range []struct {
		name    string
		to      string
		via     int
		own     error // what the caller's policy answers
		wantErr bool
		wantOwn bool // the caller's policy is asked
	}{
		{name: "same origin", to: "https://issuer.example/keys", via: 1, wantOwn: true},
		{name: "third redirect", to: "https://issuer.example/keys", via: keyfetch.MaxRedirects, wantOwn: true},
		{name: "fourth redirect", to: "https://issuer.example/keys", via: keyfetch.MaxRedirects + 1, wantErr: true},
		{name: "another host", to: "https://evil.example/jwks.json", via: 1, wantErr: true},
		{name: "a subdomain", to: "https://keys.issuer.example/jwks.json", via: 1, wantErr: true},
		{name: "another port", to: "https://issuer.example:8443/jwks.json", via: 1, wantErr: true},
		{name: "down to http", to: "http://issuer.example/jwks.json", via: 1, wantErr: true},
		{name: "caller refuses", to: "https://issuer.example/keys", via: 1, own: errOwn, wantErr: true, wantOwn: true},
		{name: "caller allows another host", to: "https://evil.example/jwks.json", via: 1, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			asked := false
			check := keyfetch.Redirects(func(*http.Request, []*http.Request) error { asked = true; return tt.own })
			err := check(req(tt.to), via(tt.via))
			if (err != nil) != tt.wantErr {
				t.Fatalf("got %v, want error %v", err, tt.wantErr)
			}
			if tt.own != nil && !errors.Is(err, tt.own) {
				t.Fatalf("got %v, want the caller's error", err)
			}
			if asked != tt.wantOwn {
				t.Fatalf("caller's policy asked: %v, want %v", asked, tt.wantOwn)
			}
			// Without a policy of the caller's, the verdict is the same.
			if err := keyfetch.Redirects(nil)(req(tt.to), via(tt.via)); (err != nil) != (tt.wantErr && tt.own == nil) {
				t.Fatalf("without the caller's policy: got %v", err)
			}
		})
	}
}

// Over TLS, a fetch follows up to MaxRedirects redirects within its origin
// and refuses the next one, or any to another origin, before sending it.
func TestRedirectsFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		_, _ = w.Write([]byte("doc-evil"))
	}))
	defer other.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		_, _ = w.Write([]byte("doc-plain"))
	}))
	defer plain.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks.json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("doc-1")) })
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		_, _ = fmt.Sscan(r.PathValue("n"), &n)
		to := "/jwks.json"
		if n > 1 {
			to = fmt.Sprintf("/hop/%d", n-1)
		}
		http.Redirect(w, r, to, http.StatusFound)
	})
	mux.Handle("/other", http.RedirectHandler(other.URL+"/jwks.json", http.StatusFound))
	mux.Handle("/plain", http.RedirectHandler(plain.URL+"/jwks.json", http.StatusMovedPermanently))
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()

	for _, tt := range []struct {
		path string
		want string // the snapshot after the fetch
	}{
		{"/hop/1", "doc-1"},
		{"/hop/3", "doc-1"},
		{"/hop/4", "initial"},
		{"/other", "initial"}, // the test servers share a certificate: only the policy refuses
		{"/plain", "initial"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			fx := newFetcher(srv.URL+tt.path, func(c *keyfetch.Config) {
				c.Client = &http.Client{Transport: srv.Client().Transport, CheckRedirect: keyfetch.Redirects(nil)}
			})
			fx.f.Refetch()
			got, _ := fx.f.Current()
			if got != tt.want {
				t.Fatalf("got %q (%v), want %q", got, fx.f.LastError(), tt.want)
			}
			if n := elsewhere.Load(); n != 0 {
				t.Fatalf("another origin was asked %d times", n)
			}
		})
	}
}
