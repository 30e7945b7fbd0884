package ginfresh_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// keySetServer is an issuer's JWK Set over TLS whose document the test
// can change, counting fetches.
type keySetServer struct {
	*httptest.Server
	hits atomic.Int32

	mu   sync.Mutex
	body []byte
	code int
	hold chan struct{} // non-nil: requests wait for it to close
}

func newKeySetServer(t testing.TB, keys ...*ginfresh.Key) *keySetServer {
	t.Helper()
	s := &keySetServer{code: http.StatusOK}
	s.publish(t, keys...)
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		body, code, hold := s.body, s.code, s.hold
		s.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(code)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// keySetDocument is the JWK Set an issuer holding keys serves.
func keySetDocument(t testing.TB, keys ...*ginfresh.Key) []byte {
	t.Helper()
	set := ginfresh.JWKSet{Keys: []ginfresh.JWK{}}
	for _, k := range keys {
		j, err := k.PublicJWK()
		if err != nil {
			t.Fatal(err)
		}
		set.Keys = append(set.Keys, j)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (s *keySetServer) publish(t testing.TB, keys ...*ginfresh.Key) {
	t.Helper()
	s.serve(http.StatusOK, keySetDocument(t, keys...))
}

func (s *keySetServer) serve(code int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.code, s.body = code, body
}

// holdRequests makes requests wait until release is called.
func (s *keySetServer) holdRequests() (release func()) {
	hold := make(chan struct{})
	s.mu.Lock()
	s.hold = hold
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.hold = nil
			s.mu.Unlock()
			close(hold)
		})
	}
}

func (s *keySetServer) fetches(t testing.TB, want int32) {
	t.Helper()
	if got := s.hits.Load(); got != want {
		t.Fatalf("the key set was fetched %d times, want %d", got, want)
	}
}

// jwksOptions are the options of a resource server reading ks: its URL,
// and a client that trusts the test server's certificate.
func (s *keySetServer) jwksOptions(opts ...ginfresh.JWKSOption) ginfresh.Option {
	return ginfresh.WithJWKSURL(s.URL+"/jwks.json", append([]ginfresh.JWKSOption{ginfresh.JWKSHTTPClient(s.Client())}, opts...)...)
}

// remoteServer is a resource server that verifies with ks's key set.
func remoteServer(t testing.TB, clk *testkit.Clock, ks *keySetServer, opts ...ginfresh.JWKSOption) *testkit.Server {
	t.Helper()
	return testkit.NewServer(t, clk, true, ks.jwksOptions(opts...))
}

// remoteSetup is an issuer signing with EdDSA, its key set, a resource
// server reading that set, and a login's tokens.
func remoteSetup(t *testing.T, opts ...ginfresh.JWKSOption) (issuer *testkit.Server, ks *keySetServer, rs *testkit.Server, tok ginfresh.Tokens) {
	t.Helper()
	key := keyFor(t, ginfresh.EdDSA)
	issuer = testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithSigningKey(key))
	ks = newKeySetServer(t, key)
	rs = remoteServer(t, issuer.Clock, ks, opts...)
	return issuer, ks, rs, issuer.Login(t, "alice")
}

// strangerToken is a well-formed token whose kid no set holds: presenting
// it asks for a fetch (within the rate limit) and waits for any running.
func strangerToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	enc := base64.RawURLEncoding
	h := fmt.Sprintf(`{"alg":"EdDSA","kid":"stranger-%x","typ":"at+jwt"}`, b)
	return enc.EncodeToString([]byte(h)) + "." + enc.EncodeToString([]byte(`{"sub":"x"}`)) + "." + enc.EncodeToString(make([]byte, 64))
}

// eventually waits for cond, for at most five seconds.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// logBuffer is a log destination safe for the fetcher's goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

func TestRemoteKeySet(t *testing.T) {
	issuer, ks, rs, tok := remoteSetup(t)

	ks.fetches(t, 0) // nothing is fetched before it is needed
	testkit.Status(t, rs.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	testkit.Status(t, rs.Post(testkit.Sensitive, tok.AccessToken, ""), http.StatusOK)
	testkit.Status(t, rs.Post(testkit.Recent, tok.AccessToken, ""), http.StatusOK)
	ks.fetches(t, 1)

	issuer.Clock.Advance(time.Minute)
	w := issuer.Refresh(tok.RefreshToken)
	testkit.Status(t, w, http.StatusOK)
	refreshed := testkit.DecodeTokens(t, w)
	testkit.Status(t, rs.Get(testkit.Protected, refreshed.AccessToken), http.StatusOK)
	testkit.Refused(t, rs.Post(testkit.Sensitive, refreshed.AccessToken, ""), http.StatusUnauthorized, "insufficient_user_authentication")
	testkit.Refused(t, rs.Get(testkit.Protected, tok.RefreshToken), http.StatusUnauthorized, "invalid_token")

	// A resource server mints nothing.
	testkit.Refused(t, rs.Post("/auth/login", "", testkit.Credentials("alice", "alice-pw")), http.StatusNotImplemented, "unsupported")
	testkit.Refused(t, rs.Refresh(refreshed.RefreshToken), http.StatusNotImplemented, "unsupported")
	if _, err := rs.Auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice"}); !errors.Is(err, ginfresh.ErrCannotIssue) {
		t.Fatalf("StartSession: got %v, want ErrCannotIssue", err)
	}
	ks.fetches(t, 1) // known kids cause no fetch
}

func TestRemoteKeySetRotation(t *testing.T) {
	oldKey, newKey := keyFor(t, ginfresh.ES256), keyFor(t, ginfresh.EdDSA)
	store := ginfresh.NewMemoryStore()
	clk := testkit.NewClock()
	issuer := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(oldKey), ginfresh.WithStore(store))
	ks := newKeySetServer(t, oldKey)
	rs := remoteServer(t, clk, ks, ginfresh.JWKSRefresh(5*time.Minute))
	oldTok := issuer.Login(t, "alice")
	testkit.Status(t, rs.Get(testkit.Protected, oldTok.AccessToken), http.StatusOK)

	// The issuer publishes the new key, then signs with it.
	ks.publish(t, newKey, oldKey)
	next := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(newKey), ginfresh.WithVerificationKeys(verifierFor(t, oldKey)),
		ginfresh.WithStore(store))
	newTok := next.Login(t, "bob")

	clk.Advance(time.Minute) // the default JWKSMinInterval
	testkit.Status(t, rs.Get(testkit.Protected, newTok.AccessToken), http.StatusOK)
	ks.fetches(t, 2) // an unknown kid fetches the set at once
	testkit.Status(t, rs.Get(testkit.Protected, oldTok.AccessToken), http.StatusOK)

	// The issuer withdraws the old key; at the next fetch the resource
	// server forgets it, and the cached verdict on the old token with it.
	ks.publish(t, newKey)
	clk.Advance(5 * time.Minute) // the old access token has not expired
	testkit.Status(t, next.Get(testkit.Protected, oldTok.AccessToken), http.StatusOK)
	rs.Get(testkit.Protected, strangerToken())
	ks.fetches(t, 3)
	testkit.Refused(t, rs.Get(testkit.Protected, oldTok.AccessToken), http.StatusUnauthorized, "invalid_token")
	testkit.Status(t, rs.Get(testkit.Protected, newTok.AccessToken), http.StatusOK)
}

// Random kids cannot make a resource server hammer the issuer.
func TestRemoteKeySetRateLimit(t *testing.T) {
	issuer, ks, rs, tok := remoteSetup(t, ginfresh.JWKSMinInterval(30*time.Second))
	testkit.Status(t, rs.Get(testkit.Protected, tok.AccessToken), http.StatusOK)

	var wg sync.WaitGroup
	codes := make([]int, 50)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = rs.Get(testkit.Protected, strangerToken()).Code
		}()
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusUnauthorized {
			t.Fatalf("stranger %d: got %d, want 401", i, code)
		}
	}
	ks.fetches(t, 1) // random kids within the interval fetch nothing

	issuer.Clock.Advance(30 * time.Second)
	for range 10 {
		testkit.Refused(t, rs.Get(testkit.Protected, strangerToken()), http.StatusUnauthorized, "invalid_token")
	}
	ks.fetches(t, 2) // one fetch per interval, however many kids
}

func TestRemoteKeySetPeriodicRefresh(t *testing.T) {
	issuer, ks, rs, tok := remoteSetup(t, ginfresh.JWKSRefresh(5*time.Minute))
	testkit.Status(t, rs.Get(testkit.Protected, tok.AccessToken), http.StatusOK)

	issuer.Clock.Advance(4 * time.Minute)
	testkit.Status(t, rs.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	ks.fetches(t, 1)

	// Due: the next token that needs checking is served from the current
	// set while a fetch runs in the background. (A token already in the
	// verified-token cache needs no key, so it starts nothing.)
	issuer.Clock.Advance(time.Minute)
	testkit.Status(t, rs.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	ks.fetches(t, 1)
	testkit.Status(t, rs.Get(testkit.Protected, issuer.Login(t, "bob").AccessToken), http.StatusOK)
	eventually(t, func() bool { return ks.hits.Load() == 2 }, "the background fetch")
	rs.Get(testkit.Protected, strangerToken()) // waits for that fetch, starts none
	ks.fetches(t, 2)
}

func TestRemoteKeySetFailures(t *testing.T) {
	// Valid but for its size: were it taken, the set would lose its key.
	oversized := `{"keys":[]` + strings.Repeat(" ", 1<<20) + `}`
	many := `{"keys":[` + strings.Repeat(`{"kty":"OKP"},`, 100) + `{}]}`
	for _, tt := range []struct {
		name string
		code int
		body string
		hold bool
	}{
		{"server error", http.StatusInternalServerError, `{"keys":[]}`, false},
		{"not found", http.StatusNotFound, ``, false},
		{"not JSON", http.StatusOK, `<html>`, false},
		{"no keys member", http.StatusOK, `{"key":[]}`, false},
		{"keys null", http.StatusOK, `{"keys":null}`, false},
		{"oversized", http.StatusOK, oversized, false},
		{"too many keys", http.StatusOK, many, false},
		{"timeout", http.StatusOK, `{"keys":[]}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			issuer, ks, rs, tok := remoteSetup(t, ginfresh.JWKSTimeout(100*time.Millisecond), ginfresh.JWKSRefresh(5*time.Minute))
			testkit.Status(t, rs.Get(testkit.Protected, tok.AccessToken), http.StatusOK)

			ks.serve(tt.code, []byte(tt.body))
			release := func() {}
			if tt.hold {
				release = ks.holdRequests()
			}
			defer release()
			issuer.Clock.Advance(5 * time.Minute)
			rs.Get(testkit.Protected, strangerToken()) // waits for the failing fetch
			ks.fetches(t, 2)
			// The last good set stays (a new token, not a cached verdict).
			testkit.Status(t, rs.Get(testkit.Protected, issuer.Login(t, "bob").AccessToken), http.StatusOK)

			// Never fetched at all: the keys are unavailable, not the token
			// bad, so the client is told to retry rather than to log out.
			fresh := remoteServer(t, issuer.Clock, ks, ginfresh.JWKSTimeout(100*time.Millisecond))
			testkit.Refused(t, fresh.Get(testkit.Protected, tok.AccessToken), http.StatusServiceUnavailable, "temporarily_unavailable")
			if _, err := fresh.Auth.Verify(context.Background(), ginfresh.Access, tok.AccessToken); !errors.Is(err, ginfresh.ErrKeySetUnavailable) || errors.Is(err, ginfresh.ErrTokenInvalid) {
				t.Fatalf("Verify: got %v, want ErrKeySetUnavailable only", err)
			}
		})
	}
}

func TestRemoteKeySetAllowedAlgorithms(t *testing.T) {
	rsaKey, ecKey, edKey := keyFor(t, ginfresh.RS256), keyFor(t, ginfresh.ES256), keyFor(t, ginfresh.EdDSA)
	psKey := orPanic(ginfresh.NewSigningKey("ps", ginfresh.PS256, rsaTestKey(1)))
	// Another Ed25519 key under edKey's kid: the first key of a kid wins.
	twin := orPanic(ginfresh.NewSigningKey(edKey.ID(), ginfresh.EdDSA, edTestKey(t)))
	secret := []byte("a-shared-secret-0123456789-0123456789")
	jwk := func(k *ginfresh.Key, edit func(*ginfresh.JWK)) ginfresh.JWK {
		j := orPanic(k.PublicJWK())
		edit(&j)
		return j
	}
	doc := orPanic(json.Marshal(map[string]any{"keys": []any{
		jwk(rsaKey, func(j *ginfresh.JWK) { j.Algorithm = "" }),              // no alg: never used
		jwk(ecKey, func(j *ginfresh.JWK) { j.Use = "enc" }),                  // not a signature key
		jwk(psKey, func(j *ginfresh.JWK) { j.KeyOps = []string{"encrypt"} }), // not for verifying
		map[string]string{"kty": "oct", "kid": "shared", "alg": "HS256", "k": base64.RawURLEncoding.EncodeToString(secret)},
		jwk(edKey, func(*ginfresh.JWK) {}),                                                // the only usable one
		jwk(edKey, func(j *ginfresh.JWK) { j.KeyID = "ed-as-rs"; j.Algorithm = "RS256" }), // alg does not fit the key
		map[string]string{"kty": "EC", "kid": "off-curve", "alg": "ES256", "crv": "P-256", "x": "AQ", "y": "AQ"},
		jwk(edKey, func(j *ginfresh.JWK) { j.KeyID = "eddsa-lower"; j.Algorithm = "eddsa" }),
		jwk(twin, func(*ginfresh.JWK) {}), // a kid already taken
	}}))

	for _, tt := range []struct {
		name string
		key  *ginfresh.Key
		want int
	}{
		{"EdDSA with alg", edKey, http.StatusOK},
		{"RSA without alg", rsaKey, http.StatusUnauthorized},
		{"EC for encryption", ecKey, http.StatusUnauthorized},
		{"RSA with key_ops encrypt", psKey, http.StatusUnauthorized},
		{"second key under a kid", twin, http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			issuer := testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithSigningKey(tt.key))
			ks := newKeySetServer(t)
			ks.serve(http.StatusOK, doc)
			rs := remoteServer(t, issuer.Clock, ks)
			testkit.Status(t, rs.Get(testkit.Protected, issuer.Login(t, "alice").AccessToken), tt.want)
		})
	}

	// An HMAC token naming the shared secret the set offers is refused: a
	// secret is never taken from a URL.
	ks := newKeySetServer(t)
	ks.serve(http.StatusOK, doc)
	rs := remoteServer(t, testkit.NewClock(), ks)
	forged := craftToken(t, `{"alg":"HS256","kid":"shared","typ":"at+jwt"}`, goodClaims(rs.Clock.Now()), hmacSigner(secret))
	testkit.Refused(t, rs.Get(testkit.Protected, forged), http.StatusUnauthorized, "invalid_token")

	// Narrowed to RS256, even the Ed25519 key is left out.
	issuer := testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithSigningKey(edKey))
	rs = remoteServer(t, issuer.Clock, ks, ginfresh.JWKSAlgorithms(ginfresh.RS256))
	testkit.Refused(t, rs.Get(testkit.Protected, issuer.Login(t, "alice").AccessToken), http.StatusUnauthorized, "invalid_token")
}

// An RSA key over 8192 bits in a fetched set is skipped, as NewVerificationKey
// refuses it, while the rest of the set is used.
func TestRemoteKeySetSkipsOversizedRSAKey(t *testing.T) {
	issuerKey := keyFor(t, ginfresh.EdDSA)
	rsaJWK := func(kid string, bits int) ginfresh.JWK {
		pub := &rsa.PublicKey{N: rsaModulus(bits), E: 65537}
		return ginfresh.JWK{KeyType: "RSA", KeyID: kid, Algorithm: "RS256", Use: "sig",
			N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()), E: "AQAB"}
	}
	doc := orPanic(json.Marshal(ginfresh.JWKSet{Keys: []ginfresh.JWK{
		rsaJWK("rsa-8200", 8200), rsaJWK("rsa-8192", 8192), orPanic(issuerKey.PublicJWK()),
	}}))
	ks := newKeySetServer(t)
	ks.serve(http.StatusOK, doc)
	var log logBuffer
	clk := testkit.NewClock()
	rs := testkit.NewServer(t, clk, true, ks.jwksOptions(), ginfresh.WithLogger(log.logger()))
	issuer := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(issuerKey))

	testkit.Status(t, rs.Get(testkit.Protected, issuer.Login(t, "alice").AccessToken), http.StatusOK)
	if got := log.String(); !strings.Contains(got, "keys=2 skipped=1") {
		t.Fatalf("log %q, want the 8200-bit key skipped and two keys taken", got)
	}
	// The 8192-bit key is there (its forged signature fails); the larger
	// one is not (its kid names no key).
	for kid, want := range map[string]error{"rsa-8192": jwt.ErrTokenSignatureInvalid, "rsa-8200": jwt.ErrTokenUnverifiable} {
		forged := craftToken(t, `{"alg":"RS256","kid":"`+kid+`","typ":"at+jwt"}`, goodClaims(clk.Now()), func(testing.TB, []byte) []byte {
			return make([]byte, 1024)
		})
		if _, err := rs.Auth.Verify(context.Background(), ginfresh.Access, forged); !errors.Is(err, ginfresh.ErrTokenInvalid) || !errors.Is(err, want) {
			t.Fatalf("kid %s: got %v, want ErrTokenInvalid and %v", kid, err, want)
		}
	}
	ks.fetches(t, 1)
}

func TestRemoteWithJWKSURLValidated(t *testing.T) {
	const https = "https://issuer.example/jwks.json"
	unsafe := []ginfresh.JWKSOption{ginfresh.UnsafeJWKSOverHTTP()}
	for _, tt := range []struct {
		name string
		url  string
		opts []ginfresh.JWKSOption
		want string // "": accepted
	}{
		{"https", https, nil, ""},
		{"plain http elsewhere", "http://issuer.example/jwks.json", nil, "must be https"},
		// Loopback too: on a shared host anyone can listen on a port.
		{"plain http on 127.0.0.1", "http://127.0.0.1:8000/jwks", nil, "must be https"},
		{"plain http on localhost", "http://localhost/jwks", nil, "must be https"},
		{"plain http on [::1]", "http://[::1]/jwks", nil, "must be https"},
		{"plain http with UnsafeJWKSOverHTTP", "http://issuer.example/jwks.json", unsafe, ""},
		{"loopback with UnsafeJWKSOverHTTP", "http://127.0.0.1:8000/jwks", unsafe, ""},
		{"other scheme", "file:///etc/jwks.json", nil, "must be https"},
		{"other scheme with UnsafeJWKSOverHTTP", "file:///etc/jwks.json", unsafe, "must be https"},
		{"no scheme", "issuer.example/jwks.json", unsafe, "must be https"},
		{"unparsable", "https://[::1", nil, "WithJWKSURL"},
		{"HMAC algorithm", https, []ginfresh.JWKSOption{ginfresh.JWKSAlgorithms(ginfresh.HS256)}, "not an asymmetric"},
		{"no algorithm", https, []ginfresh.JWKSOption{ginfresh.JWKSAlgorithms()}, "no algorithm"},
		{"zero timeout", https, []ginfresh.JWKSOption{ginfresh.JWKSTimeout(0)}, "JWKSTimeout"},
		{"negative refresh", https, []ginfresh.JWKSOption{ginfresh.JWKSRefresh(-time.Second)}, "JWKSRefresh"},
		{"zero interval", https, []ginfresh.JWKSOption{ginfresh.JWKSMinInterval(0)}, "JWKSMinInterval"},
		{"nil client", https, []ginfresh.JWKSOption{ginfresh.JWKSHTTPClient(nil)}, "nil client"},
		{"nil option", https, []ginfresh.JWKSOption{nil}, "nil option"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ginfresh.New(ginfresh.WithJWKSURL(tt.url, tt.opts...))
			if tt.want == "" && err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// With UnsafeJWKSOverHTTP, a development setup works end to end: an issuer
// publishes its key with JWKSHandler on plain http, and a resource server
// verifies its tokens.
func TestRemoteUnsafeJWKSOverHTTP(t *testing.T) {
	key := orPanic(ginfresh.NewSigningKey("dev-2030", ginfresh.EdDSA, edTestKey(t)))
	clk := testkit.NewClock()
	issuer := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(key))
	r := gin.New()
	r.GET("/.well-known/jwks.json", issuer.Auth.JWKSHandler())
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		hits.Add(1)
		r.ServeHTTP(w, req)
	}))
	defer srv.Close()
	url := srv.URL + "/.well-known/jwks.json"

	if _, err := ginfresh.New(ginfresh.WithJWKSURL(url)); err == nil || !strings.Contains(err.Error(), "UnsafeJWKSOverHTTP") {
		t.Fatalf("got %v, want plain http refused", err)
	}
	rs := testkit.NewServer(t, clk, true, ginfresh.WithJWKSURL(url, ginfresh.UnsafeJWKSOverHTTP()))
	tok := issuer.Login(t, "alice")
	testkit.Status(t, rs.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	testkit.Status(t, rs.Post(testkit.Sensitive, tok.AccessToken, ""), http.StatusOK)
	testkit.Refused(t, rs.Get(testkit.Protected, tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	other := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(keyFor(t, ginfresh.EdDSA)))
	testkit.Refused(t, rs.Get(testkit.Protected, other.Login(t, "alice").AccessToken), http.StatusUnauthorized, "invalid_token")
	if n := hits.Load(); n != 1 {
		t.Fatalf("the key set was fetched %d times, want 1", n)
	}
}

// A key set fetch follows redirects only within its origin, and at most
// three; the keys of another origin are never trusted, whatever the
// caller's client would allow.
func TestRemoteKeySetRedirects(t *testing.T) {
	key := keyFor(t, ginfresh.EdDSA)
	attackerKey := keyFor(t, ginfresh.EdDSA)
	clk := testkit.NewClock()
	tok := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(key)).Login(t, "alice")
	attackerTok := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(attackerKey)).Login(t, "alice")
	genuine, attackers := keySetDocument(t, key), keySetDocument(t, attackerKey)

	// Another https origin (the test servers share a certificate, so only
	// the redirect policy can refuse it), and plain http on loopback, both
	// counting what they are asked.
	var elsewhere atomic.Int32
	evil := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		_, _ = w.Write(attackers)
	}))
	defer evil.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		_, _ = w.Write(genuine)
	}))
	defer plain.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("/jwks.json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(genuine) })
	mux.Handle("/moved", http.RedirectHandler("/jwks.json", http.StatusMovedPermanently))
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		_, _ = fmt.Sscan(r.PathValue("n"), &n)
		to := "/jwks.json"
		if n > 1 {
			to = fmt.Sprintf("/hop/%d", n-1)
		}
		http.Redirect(w, r, to, http.StatusFound)
	})
	mux.Handle("/elsewhere", http.RedirectHandler(evil.URL+"/jwks.json", http.StatusFound))
	mux.Handle("/downgrade", http.RedirectHandler(plain.URL+"/jwks.json", http.StatusFound))
	origin := httptest.NewTLSServer(mux)
	defer origin.Close()

	var asked atomic.Int32
	permissive := func(*http.Request, []*http.Request) error { asked.Add(1); return nil }
	refusing := func(*http.Request, []*http.Request) error { asked.Add(1); return errors.New("no redirects here") }
	for _, tt := range []struct {
		name      string
		path      string
		policy    func(*http.Request, []*http.Request) error // the caller's CheckRedirect; nil: none
		token     string
		want      int
		wantAsked int32 // how often the caller's policy was consulted
	}{
		{"same origin", "/moved", nil, tok.AccessToken, http.StatusOK, 0},
		{"three redirects", "/hop/3", nil, tok.AccessToken, http.StatusOK, 0},
		{"four redirects", "/hop/4", nil, tok.AccessToken, http.StatusServiceUnavailable, 0},
		{"another https host", "/elsewhere", nil, attackerTok.AccessToken, http.StatusServiceUnavailable, 0},
		{"https to http on loopback", "/downgrade", nil, tok.AccessToken, http.StatusServiceUnavailable, 0},
		{"caller's policy consulted after ginfresh's", "/hop/3", permissive, tok.AccessToken, http.StatusOK, 3},
		{"caller's policy can refuse", "/moved", refusing, tok.AccessToken, http.StatusServiceUnavailable, 1},
		{"caller's policy cannot widen: another host", "/elsewhere", permissive, attackerTok.AccessToken, http.StatusServiceUnavailable, 0},
		{"caller's policy cannot widen: http", "/downgrade", permissive, tok.AccessToken, http.StatusServiceUnavailable, 0},
		{"caller's policy cannot widen: four redirects", "/hop/4", permissive, tok.AccessToken, http.StatusServiceUnavailable, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			asked.Store(0)
			elsewhere.Store(0)
			client := origin.Client()
			if tt.policy != nil {
				client = &http.Client{Transport: origin.Client().Transport, CheckRedirect: tt.policy}
			}
			var log logBuffer
			rs := testkit.NewServer(t, clk, true, ginfresh.WithLogger(log.logger()),
				ginfresh.WithJWKSURL(origin.URL+tt.path, ginfresh.JWKSHTTPClient(client)))
			w := rs.Get(testkit.Protected, tt.token)
			if tt.want == http.StatusOK {
				testkit.Status(t, w, http.StatusOK)
			} else {
				testkit.Refused(t, w, tt.want, "temporarily_unavailable")
				if !strings.Contains(log.String(), "key set fetch failed") {
					t.Fatalf("log %q, want the failed fetch", log.String())
				}
			}
			if n := asked.Load(); n != tt.wantAsked {
				t.Fatalf("the caller's policy was asked %d times, want %d", n, tt.wantAsked)
			}
			if n := elsewhere.Load(); n != 0 {
				t.Fatalf("another origin was asked %d times", n)
			}
			if client.CheckRedirect != nil && tt.policy == nil {
				t.Fatal("WithJWKSURL changed the caller's client")
			}
		})
	}
}

// Keys given with WithVerificationKeys work beside the fetched set, even
// while it is down, and a fetched key cannot take their kid.
func TestRemoteKeySetWithStaticKeys(t *testing.T) {
	static, fetched := keyFor(t, ginfresh.ES256), keyFor(t, ginfresh.EdDSA)
	clk := testkit.NewClock()
	staticIssuer := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(static))
	fetchedIssuer := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(fetched))
	impostor := orPanic(ginfresh.NewSigningKey(static.ID(), ginfresh.EdDSA, edTestKey(t)))
	ks := newKeySetServer(t)
	ks.serve(http.StatusServiceUnavailable, nil)

	rs := testkit.NewServer(t, clk, true, ks.jwksOptions(), ginfresh.WithVerificationKeys(verifierFor(t, static)))
	testkit.Status(t, rs.Get(testkit.Protected, staticIssuer.Login(t, "alice").AccessToken), http.StatusOK)
	testkit.Refused(t, rs.Get(testkit.Protected, fetchedIssuer.Login(t, "bob").AccessToken), http.StatusServiceUnavailable, "temporarily_unavailable")

	ks.publish(t, impostor, fetched)
	clk.Advance(time.Minute) // the default JWKSMinInterval
	testkit.Status(t, rs.Get(testkit.Protected, fetchedIssuer.Login(t, "bob").AccessToken), http.StatusOK)
	testkit.Status(t, rs.Get(testkit.Protected, staticIssuer.Login(t, "alice").AccessToken), http.StatusOK)
	impostorIssuer := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(impostor))
	testkit.Refused(t, rs.Get(testkit.Protected, impostorIssuer.Login(t, "alice").AccessToken), http.StatusUnauthorized, "invalid_token")

	// A resource server republishes its configured public keys, never
	// what it fetched.
	w := testkit.Serve(jwksRouter(rs.Auth.JWKSHandler()), testkit.Request{Path: "/jwks"})
	var set ginfresh.JWKSet
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0].KeyID != static.ID() {
		t.Fatalf("published %+v, want only the configured key", set.Keys)
	}
}

// Many goroutines verify while the set is fetched again and again: under
// -race this checks the snapshot swap.
func TestRemoteKeySetConcurrent(t *testing.T) {
	issuer, ks, rs, _ := remoteSetup(t, ginfresh.JWKSRefresh(time.Minute), ginfresh.JWKSMinInterval(time.Second))
	tokens := make([]string, 200)
	for i := range tokens {
		tokens[i] = orPanic(issuer.Auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice"})).AccessToken
	}
	var wg sync.WaitGroup
	var bad atomic.Int32
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(tokens); i += 4 {
				if rs.Get(testkit.Protected, tokens[i]).Code != http.StatusOK {
					bad.Add(1)
				}
				rs.Get(testkit.Protected, strangerToken())
			}
		}()
	}
	for range 20 {
		issuer.Clock.Advance(time.Minute / 4)
		rs.Get(testkit.Protected, strangerToken())
	}
	wg.Wait()
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d genuine tokens refused", n)
	}
	if n := ks.hits.Load(); n < 2 || n > 21 {
		t.Fatalf("%d fetches, want more than one and at most one per interval", n)
	}
}

// A fetch that withdraws a kid, or binds it to other material or another
// algorithm, must empty the token cache (tokens verified with the old key
// would otherwise outlive it there); an unchanged set must not, or every
// fetch would. Each fetch builds new *Key values, and configured HMAC
// secrets have no Equal method, so both are compared by content.
func TestRemoteDropsKey(t *testing.T) {
	must := func(k *ginfresh.Key, err error) *ginfresh.Key {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	secret := []byte("remote-test-key-0123456789-0123456789")
	hmac1 := must(ginfresh.NewHMACKey("h", ginfresh.HS256, secret))
	hmac2 := must(ginfresh.NewHMACKey("h", ginfresh.HS256, secret))
	hmacOther := must(ginfresh.NewHMACKey("h", ginfresh.HS256, []byte("another-test-key-0123456789-01234567")))
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ed := must(ginfresh.NewVerificationKey("e", ginfresh.EdDSA, edPub))
	edAgain := must(ginfresh.NewVerificationKey("e", ginfresh.EdDSA, edPub))
	edOther := must(ginfresh.NewVerificationKey("e", ginfresh.EdDSA, otherPub))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs := must(ginfresh.NewVerificationKey("r", ginfresh.RS256, rsaKey.Public()))
	ps := must(ginfresh.NewVerificationKey("r", ginfresh.PS256, rsaKey.Public()))

	for _, tt := range []struct {
		name       string
		prev, next []*ginfresh.Key
		want       bool
	}{
		{"the same configured key", []*ginfresh.Key{hmac1}, []*ginfresh.Key{hmac1}, false},
		{"the same secret under the same kid", []*ginfresh.Key{hmac1}, []*ginfresh.Key{hmac2}, false},
		{"another secret under the kid", []*ginfresh.Key{hmac1}, []*ginfresh.Key{hmacOther}, true},
		{"a fetched key fetched again", []*ginfresh.Key{hmac1, ed}, []*ginfresh.Key{hmac1, edAgain}, false},
		{"a key added", []*ginfresh.Key{hmac1}, []*ginfresh.Key{hmac1, ed}, false},
		{"a key withdrawn", []*ginfresh.Key{hmac1, ed}, []*ginfresh.Key{hmac1}, true},
		{"the kid bound to other material", []*ginfresh.Key{ed}, []*ginfresh.Key{edOther}, true},
		{"the kid bound to another algorithm", []*ginfresh.Key{rs}, []*ginfresh.Key{ps}, true},
		{"a secret's kid now a public key", []*ginfresh.Key{hmac1}, []*ginfresh.Key{must(ginfresh.NewVerificationKey("h", ginfresh.EdDSA, edPub))}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ginfresh.DropsKey(tt.prev, tt.next)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("dropsKey = %v, want %v", got, tt.want)
			}
		})
	}
}
