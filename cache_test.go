package ginfresh_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// The verified-token cache must never change an answer: every scenario
// runs with the cache on (the token is served from it after the first
// request) and off, and must answer the same.
func TestTokenCacheNeverWidens(t *testing.T) {
	type step struct {
		advance    time.Duration
		path       string
		wantStatus int
	}
	tests := []struct {
		name  string
		opts  []ginfresh.Option
		steps []step
		// before runs once the token has been seen.
		before func(t *testing.T, f *fixture)
	}{
		{name: "exp is checked on every hit", steps: []step{
			{0, "/protected", 200},
			{15*time.Minute - time.Second, "/protected", 200},
			{time.Second, "/protected", 401},
		}},
		{name: "leeway stretches exp alike", opts: []ginfresh.Option{ginfresh.WithLeeway(time.Minute)}, steps: []step{
			{0, "/protected", 200},
			{16*time.Minute - time.Second, "/protected", 200},
			{time.Second, "/protected", 401},
		}},
		{name: "nbf and iat are checked on every hit", steps: []step{
			{0, "/protected", 200},
			{-time.Second, "/protected", 401},
		}},
		{name: "MaxAge is checked on every hit", steps: []step{
			{0, "/recent", http.StatusOK},
			{5 * time.Minute, "/recent", http.StatusOK},
			{time.Second, "/recent", 401},
			{0, "/protected", 200},
		}},
		{name: "revocation applies to cached tokens", opts: []ginfresh.Option{ginfresh.WithAccessRevocation()},
			before: func(t *testing.T, f *fixture) {
				f.clock.Advance(time.Second) // revocation covers tokens minted before it
				require.NoError(t, f.auth.RevokeSubject(context.Background(), "alice"))
			},
			steps: []step{{time.Second, "/protected", 401}},
		},
	}
	for _, tt := range tests {
		for _, cache := range []struct {
			name string
			opt  ginfresh.Option
		}{{"cache on", ginfresh.WithTokenCache(ginfresh.DefaultCacheSize)}, {"cache off", ginfresh.WithTokenCache(0)}} {
			t.Run(tt.name+"/"+cache.name, func(t *testing.T) {
				f := newFixture(t, append([]ginfresh.Option{cache.opt}, tt.opts...)...)
				tok := f.login(t, "alice").AccessToken
				method := func(path string) string {
					if path == "/recent" {
						return http.MethodPost
					}
					return http.MethodGet
				}
				require.Equal(t, http.StatusOK, f.do(request{method: method(tt.steps[0].path), path: tt.steps[0].path, token: tok}).Code, "warming request")
				if tt.before != nil {
					tt.before(t, f)
				}
				for i, s := range tt.steps {
					f.clock.Advance(s.advance)
					w := f.do(request{method: method(s.path), path: s.path, token: tok})
					assert.Equal(t, s.wantStatus, w.Code, "step %d (%s at +%v): %s", i, s.path, s.advance, w.Body.String())
				}
			})
		}
	}
}

// TestTokenCacheExactBytes warms the cache with a token, then presents
// tokens one byte away from it: none may be served from the cache.
func TestTokenCacheExactBytes(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice").AccessToken
	require.Equal(t, http.StatusOK, f.do(request{path: "/protected", token: tok}).Code)

	change := func(i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	variants := map[string]string{
		"header byte":    change(3),
		"payload byte":   change(len(tok) / 2),
		"signature byte": change(len(tok) - 10),
		"last byte":      change(len(tok) - 1),
		"byte appended":  tok + "A",
		"byte removed":   tok[:len(tok)-1],
	}
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			w := f.do(request{path: "/protected", token: v})
			assert.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
			assert.Equal(t, "invalid_token", errorCode(t, w))
		})
	}
	assert.Equal(t, http.StatusOK, f.do(request{path: "/protected", token: tok}).Code, "the genuine token still passes")
}

func TestWithTokenCacheValidation(t *testing.T) {
	_, err := ginfresh.New(ginfresh.WithHMACKey(testKey), ginfresh.WithAuthenticator(testAuthenticator), ginfresh.WithTokenCache(-1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithTokenCache")
}

// TestTokenCacheConcurrentRequests runs under -race: many requests at once,
// with valid and tampered tokens, on a cache small enough to evict.
func TestTokenCacheConcurrentRequests(t *testing.T) {
	f := newFixture(t, ginfresh.WithTokenCache(4))
	var good []string
	tampered := map[string]string{}
	for range 12 {
		tok := f.login(t, "alice").AccessToken
		good = append(good, tok)
		b := []byte(tok)
		b[len(b)-10] ^= 1
		tampered[tok] = string(b)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				tok := good[(w+i)%len(good)]
				want := http.StatusOK
				if i%5 == 0 {
					tok, want = tampered[tok], http.StatusUnauthorized
				}
				if got := f.do(request{path: "/protected", token: tok}).Code; got != want {
					select {
					case errs <- http.StatusText(got):
					default:
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("unexpected answer: %s", e)
	}
}
