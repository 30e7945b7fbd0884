package ginfresh_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

// The benchmarks drive a router directly with one reused request and a
// response writer that keeps nothing, so what they report is the cost of
// gin plus ginfresh, not of httptest. Every route answers the same fixed
// body; the "bare" rows are the same route without ginfresh, the baseline
// to subtract.

var okBody = []byte(`{"ok":true}`)

func answerOK(c *gin.Context) { c.Data(http.StatusOK, "application/json", okBody) }

// sink is a ResponseWriter that only remembers the status.
type sink struct {
	h    http.Header
	code int
}

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(code int)        { s.code = code }

// serveN serves r n times; next, when set, prepares the request before each.
func serveN(b *testing.B, h http.Handler, r *http.Request, wantStatus int, next func(*sink)) {
	b.Helper()
	w := &sink{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		w.code = 0
		if next != nil {
			next(w)
		}
		h.ServeHTTP(w, r)
		if w.code != wantStatus {
			b.Fatalf("status %d, want %d", w.code, wantStatus)
		}
	}
}

func benchRouter(auth *ginfresh.Auth) *gin.Engine {
	r := gin.New()
	r.GET("/bare", answerOK)
	g := r.Group("/", auth.Middleware())
	g.GET("/protected", auth.RequireAccess(), answerOK)
	g.GET("/fresh", auth.RequireFresh(), answerOK)
	g.GET("/recent", auth.RequireFresh(ginfresh.MaxAge(5*time.Minute)), answerOK)
	auth.RegisterRoutes(g.Group("/auth"))
	return r
}

func bearerRequest(method, path, token string) *http.Request {
	r, _ := http.NewRequest(method, path, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// routeCase is a route of benchRouter served by an Auth built with opts.
type routeCase struct {
	name string
	opts []ginfresh.Option
	path string
}

// BenchmarkProtected measures Middleware + RequireAccess. first-sight turns
// the verified-token cache off, so every request checks the signature and
// decodes the claims; repeat-sight serves the same token again from the
// cache (every time-based check and the guard still run).
func BenchmarkProtected(b *testing.B) {
	for _, bc := range []routeCase{
		{"bare", nil, "/bare"},
		{"first-sight", []ginfresh.Option{ginfresh.WithTokenCache(0)}, "/protected"},
		{"repeat-sight", nil, "/protected"},
		{"repeat-sight/revocation", []ginfresh.Option{ginfresh.WithAccessRevocation()}, "/protected"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFixture(b, bc.opts...)
			tok := f.login(b, "alice")
			serveN(b, benchRouter(f.auth), bearerRequest(http.MethodGet, bc.path, tok.AccessToken), http.StatusOK, nil)
		})
	}
}

// BenchmarkProtectedCacheMiss measures first sight with the cache on: a new
// token on every request, so each one is verified, inserted and, once the
// cache is full, evicts another.
func BenchmarkProtectedCacheMiss(b *testing.B) {
	const size, distinct = 256, 4096
	f := newFixture(b, ginfresh.WithTokenCache(size))
	reqs := make([]*http.Request, distinct)
	for i := range reqs {
		tok, err := f.auth.CreateAccessToken(ginfresh.Identity{Subject: "alice"}, true)
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = bearerRequest(http.MethodGet, "/protected", tok)
	}
	h := benchRouter(f.auth)
	r := &http.Request{}
	i := 0
	serveN(b, h, r, http.StatusOK, func(*sink) {
		*r = *reqs[i%distinct]
		i++
	})
}

// BenchmarkRequireFresh measures Middleware + RequireFresh on a fresh token
// (repeat sight), with and without MaxAge.
func BenchmarkRequireFresh(b *testing.B) {
	for _, path := range []string{"/fresh", "/recent"} {
		b.Run(strings.TrimPrefix(path, "/"), func(b *testing.B) {
			f := newFixture(b)
			tok := f.login(b, "alice")
			serveN(b, benchRouter(f.auth), bearerRequest(http.MethodGet, path, tok.AccessToken), http.StatusOK, nil)
		})
	}
}

// BenchmarkCreateAccessToken measures minting and signing one access token.
func BenchmarkCreateAccessToken(b *testing.B) {
	f := newFixture(b)
	id := ginfresh.Identity{Subject: "alice", Claims: map[string]any{"role": "user"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.auth.CreateAccessToken(id, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogin measures the login handler with a trivial authenticator:
// body decoding, two tokens, one new session in the memory store, the answer.
func BenchmarkLogin(b *testing.B) {
	// The throttle counts every login, as it would in production; its
	// per-client limit is just out of the benchmark's reach.
	f := newFixture(b, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerClient: 1 << 30}))
	body := credentials("alice", testUsers["alice"])
	r, _ := http.NewRequest(http.MethodPost, "/auth/login", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header.Set("Content-Type", "application/json")
	rd := strings.NewReader(body)
	serveN(b, benchRouter(f.auth), r, http.StatusOK, func(*sink) {
		rd.Reset(body)
		r.Body = io.NopCloser(rd)
	})
}

// BenchmarkRefresh measures the refresh handler with rotation: each request
// redeems the refresh token the previous one answered (found in the body by
// a byte search, which is all the loop adds).
func BenchmarkRefresh(b *testing.B) {
	f := newFixture(b)
	rt := f.login(b, "alice").RefreshToken
	r := bearerRequest(http.MethodPost, "/auth/refresh", rt)
	h := benchRouter(f.auth)
	w := &bodySink{sink: sink{h: http.Header{}}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.code, w.body = 0, w.body[:0]
		h.ServeHTTP(w, r)
		if w.code != http.StatusOK {
			b.Fatalf("status %d: %s", w.code, w.body)
		}
		r.Header["Authorization"][0] = "Bearer " + refreshTokenOf(w.body)
	}
}

// bodySink is a sink that keeps the body.
type bodySink struct {
	sink
	body []byte
}

func (c *bodySink) Write(p []byte) (int, error) { c.body = append(c.body, p...); return len(p), nil }

var refreshKey = []byte(`"refresh_token":"`)

func refreshTokenOf(body []byte) string {
	i := bytes.Index(body, refreshKey)
	if i < 0 {
		return ""
	}
	rest := body[i+len(refreshKey):]
	return string(rest[:bytes.IndexByte(rest, '"')])
}

// BenchmarkProtectedParallel is repeat sight from every CPU at once, the
// shape of a loaded server: it shows contention in the cache and the store.
func BenchmarkProtectedParallel(b *testing.B) {
	for _, bc := range []routeCase{
		{"bare", nil, "/bare"},
		{"repeat-sight", nil, "/protected"},
		{"repeat-sight/revocation", []ginfresh.Option{ginfresh.WithAccessRevocation()}, "/protected"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFixture(b, append([]ginfresh.Option{ginfresh.WithTimeFunc(time.Now)}, bc.opts...)...)
			tok := f.login(b, "alice")
			h := benchRouter(f.auth)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := bearerRequest(http.MethodGet, bc.path, tok.AccessToken)
				w := &sink{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					w.code = 0
					h.ServeHTTP(w, r)
					if w.code != http.StatusOK {
						b.Errorf("status %d", w.code)
						return
					}
				}
			})
		})
	}
}
