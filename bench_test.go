package ginfresh_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// The benchmarks drive a router directly with one reused request and a
// response writer that keeps nothing, so what they report is the cost of
// gin plus ginfresh, not of httptest. Every route answers the same fixed
// body; the "bare" rows are the same route without ginfresh, the baseline
// to subtract. The bench module compares ginfresh with its peers.

var (
	benchKey = []byte("bench-key-0123456789-0123456789-0123")
	okBody   = []byte(`{"ok":true}`)
)

func answerOK(c *gin.Context) { c.Data(http.StatusOK, "application/json", okBody) }

// sink is a ResponseWriter that only remembers the status (and, when
// keep is set, the body).
type sink struct {
	h    http.Header
	code int
	keep bool
	body []byte
}

func (s *sink) Header() http.Header { return s.h }
func (s *sink) Write(p []byte) (int, error) {
	if s.keep {
		s.body = append(s.body, p...)
	}
	return len(p), nil
}
func (s *sink) WriteHeader(code int) { s.code = code }

// serveN serves r b.N times; next, when set, prepares each request.
func serveN(b *testing.B, h http.Handler, r *http.Request, want int, next func()) {
	b.Helper()
	w := &sink{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.code = 0
		if next != nil {
			next()
		}
		h.ServeHTTP(w, r)
		if w.code != want {
			b.Fatalf("status %d, want %d", w.code, want)
		}
	}
}

// benchAuth is an Auth on the real clock with a throttle out of reach.
func benchAuth(b *testing.B, opts ...ginfresh.Option) *ginfresh.Auth {
	b.Helper()
	auth, err := ginfresh.New(append([]ginfresh.Option{
		ginfresh.WithHMACKey(benchKey), ginfresh.WithAuthenticator(testkit.Authenticate),
		ginfresh.WithLoginThrottle(ginfresh.Throttle{PerClient: 1 << 30, PerAccount: 1 << 30}),
	}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return auth
}

func benchRouter(auth *ginfresh.Auth) *gin.Engine {
	r := gin.New()
	r.GET("/bare", answerOK)
	g := r.Group("/", auth.Middleware())
	g.GET("/protected", auth.RequireAccess(), answerOK)
	g.GET("/fresh", auth.RequireFresh(), answerOK)
	g.GET("/recent", auth.RequireFresh(ginfresh.MaxAge(5*time.Minute)), answerOK)
	g.GET("/scoped", auth.RequireScopes("read"), answerOK)
	auth.RegisterRoutes(g.Group("/auth"))
	return r
}

func session(b *testing.B, auth *ginfresh.Auth) *ginfresh.Tokens {
	b.Helper()
	tok, err := auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice", Custom: map[string]any{"role": "user", "scope": "read write"}})
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

func bearer(method, path, token string) *http.Request {
	r, _ := http.NewRequest(method, path, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// BenchmarkProtected is Middleware + RequireAccess. first-sight turns the
// verified-token cache off, so every request checks the signature and
// decodes the claims; repeat-sight serves the same token again from the
// cache (every time-based check and the guard still run).
func BenchmarkProtected(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []ginfresh.Option
		path string
	}{
		{"bare", nil, "/bare"},
		{"first-sight", []ginfresh.Option{ginfresh.WithTokenCache(0)}, "/protected"},
		{"repeat-sight", nil, "/protected"},
		{"repeat-sight/revocation", []ginfresh.Option{ginfresh.WithAccessRevocation()}, "/protected"},
		{"repeat-sight/fresh", nil, "/fresh"},
		{"repeat-sight/max-age", nil, "/recent"},
		{"repeat-sight/scopes", nil, "/scoped"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			auth := benchAuth(b, bc.opts...)
			serveN(b, benchRouter(auth), bearer(http.MethodGet, bc.path, session(b, auth).AccessToken), http.StatusOK, nil)
		})
	}
}

// BenchmarkProtectedCookie is repeat sight with the token in a cookie.
func BenchmarkProtectedCookie(b *testing.B) {
	auth := benchAuth(b, ginfresh.WithCookies("/auth/"))
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/auth/login", strings.NewReader(testkit.Credentials("alice", "alice-pw")))
	r.Header.Set("Content-Type", "application/json")
	benchRouter(auth).ServeHTTP(w, r)
	req, _ := http.NewRequest(http.MethodGet, "/protected", nil)
	for _, c := range w.Result().Cookies() {
		req.AddCookie(c)
	}
	serveN(b, benchRouter(auth), req, http.StatusOK, nil)
}

// BenchmarkProtectedCacheMiss is first sight with the cache on: a new
// token on every request, so each is verified, inserted and, once the
// cache is full, evicts another.
func BenchmarkProtectedCacheMiss(b *testing.B) {
	const size, distinct = 256, 4096
	auth := benchAuth(b, ginfresh.WithTokenCache(size))
	reqs := make([]*http.Request, distinct)
	for i := range reqs {
		reqs[i] = bearer(http.MethodGet, "/protected", session(b, auth).AccessToken)
	}
	r := &http.Request{}
	i := 0
	serveN(b, benchRouter(auth), r, http.StatusOK, func() {
		*r = *reqs[i%distinct]
		i++
	})
}

// BenchmarkProtectedParallel is repeat sight from every CPU at once, the
// shape of a loaded server: it shows contention in the cache and the store.
func BenchmarkProtectedParallel(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []ginfresh.Option
		path string
	}{
		{"bare", nil, "/bare"},
		{"repeat-sight", nil, "/protected"},
		{"repeat-sight/revocation", []ginfresh.Option{ginfresh.WithAccessRevocation()}, "/protected"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			auth := benchAuth(b, bc.opts...)
			tok := session(b, auth).AccessToken
			h := benchRouter(auth)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := bearer(http.MethodGet, bc.path, tok)
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

// BenchmarkLogin is the login handler with a trivial authenticator: body,
// throttle counting, two tokens, one new session in the memory store, the
// answer.
func BenchmarkLogin(b *testing.B) {
	auth := benchAuth(b)
	body := testkit.Credentials("alice", "alice-pw")
	r, _ := http.NewRequest(http.MethodPost, "/auth/login", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header.Set("Content-Type", "application/json")
	rd := strings.NewReader(body)
	serveN(b, benchRouter(auth), r, http.StatusOK, func() {
		rd.Reset(body)
		r.Body = io.NopCloser(rd)
	})
}

// BenchmarkRefresh is the refresh handler with rotation: each request
// redeems the refresh token the previous one answered (found in the body
// by a byte search, which is all the loop adds).
func BenchmarkRefresh(b *testing.B) {
	auth := benchAuth(b)
	r := bearer(http.MethodPost, "/auth/refresh", session(b, auth).RefreshToken)
	h := benchRouter(auth)
	w := &sink{h: http.Header{}, keep: true}
	key := []byte(`"refresh_token":"`)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.code, w.body = 0, w.body[:0]
		h.ServeHTTP(w, r)
		i := bytes.Index(w.body, key)
		if w.code != http.StatusOK || i < 0 {
			b.Fatalf("status %d: %s", w.code, w.body)
		}
		rest := w.body[i+len(key):]
		r.Header["Authorization"][0] = "Bearer " + string(rest[:bytes.IndexByte(rest, '"')])
	}
}

// BenchmarkStartSession mints a session's two tokens and records it.
func BenchmarkStartSession(b *testing.B) {
	auth := benchAuth(b)
	id := ginfresh.Identity{Subject: "alice", Custom: map[string]any{"role": "user"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.StartSession(context.Background(), id); err != nil {
			b.Fatal(err)
		}
	}
}

// The pieces of a protected request, one by one, to show where the time
// of BenchmarkProtected goes.

// BenchmarkBearerToken reads the Authorization header; it allocates nothing.
func BenchmarkBearerToken(b *testing.B) {
	tok := session(b, benchAuth(b)).AccessToken
	r := bearer(http.MethodGet, "/", tok)
	b.ReportAllocs()
	for b.Loop() {
		if got, err := ginfresh.BearerToken(r); err != nil || len(got) != len(tok) {
			b.Fatal(got, err)
		}
	}
}

// BenchmarkFormatVerify is the signature check of a first sight.
func BenchmarkFormatVerify(b *testing.B) {
	auth := benchAuth(b)
	tok := session(b, auth).AccessToken
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.FormatVerify(ginfresh.Access, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeClaims is the claim decoding of a first sight.
func BenchmarkDecodeClaims(b *testing.B) {
	auth := benchAuth(b)
	payload, err := auth.FormatVerify(ginfresh.Access, session(b, auth).AccessToken)
	if err != nil {
		b.Fatal(err)
	}
	p := string(payload)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ginfresh.DecodeClaims(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCacheHit is a repeat sight's look-up and claim checks.
func BenchmarkCacheHit(b *testing.B) {
	auth := benchAuth(b)
	tok := session(b, auth).AccessToken
	if err := auth.CacheWarm(tok); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if !auth.CacheHit(tok, now) {
			b.Fatal("miss")
		}
	}
}

// BenchmarkKeySetVerify is a first sight with an Ed25519 key configured
// (static) and fetched from a JWK Set (remote).
func BenchmarkKeySetVerify(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	key, err := ginfresh.NewSigningKey("", ginfresh.EdDSA, priv)
	if err != nil {
		b.Fatal(err)
	}
	issuer, err := ginfresh.New(ginfresh.WithSigningKey(key))
	if err != nil {
		b.Fatal(err)
	}
	tok := session(b, issuer).AccessToken
	r := gin.New()
	r.GET("/jwks", issuer.JWKSHandler())
	srv := httptest.NewTLSServer(r)
	defer srv.Close()
	pub, err := ginfresh.NewVerificationKey(key.ID(), ginfresh.EdDSA, priv.Public())
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opt  ginfresh.Option
	}{
		{"static", ginfresh.WithVerificationKeys(pub)},
		{"remote", ginfresh.WithJWKSURL(srv.URL+"/jwks", ginfresh.JWKSHTTPClient(srv.Client()))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rs, err := ginfresh.New(bc.opt, ginfresh.WithTokenCache(0))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rs.Verify(context.Background(), ginfresh.Access, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
