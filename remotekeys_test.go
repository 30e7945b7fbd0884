package ginfresh_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// keyServer is an issuer's JWKS endpoint on loopback whose document the
// test can change, counting fetches.
type keyServer struct {
	*httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	body []byte
	code int
	hold chan struct{} // non-nil: requests wait for it to close
}

func newKeyServer(t *testing.T, keys ...*ginfresh.Key) *keyServer {
	t.Helper()
	s := &keyServer{code: http.StatusOK}
	s.publish(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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

// publish serves the JWK Set an issuer holding keys would serve.
func (s *keyServer) publish(t *testing.T, keys ...*ginfresh.Key) {
	t.Helper()
	set := ginfresh.JWKSet{Keys: []ginfresh.JWK{}}
	for _, k := range keys {
		j, err := k.PublicJWK()
		require.NoError(t, err)
		set.Keys = append(set.Keys, j)
	}
	body, err := json.Marshal(set)
	require.NoError(t, err)
	s.serve(http.StatusOK, body)
}

func (s *keyServer) serve(code int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.code, s.body = code, body
}

// resourceServer verifies with the key server's set; issuer shares its clock.
func resourceServer(t *testing.T, clk *clock, url string, opts ...ginfresh.JWKSOption) *fixture {
	t.Helper()
	auth, err := ginfresh.New(ginfresh.WithJWKSURL(url, opts...), ginfresh.WithTimeFunc(clk.Now))
	require.NoError(t, err)
	return &fixture{auth: auth, clock: clk, router: testRouter(auth)}
}

// remoteSetup is an issuer signing with EdDSA, its key set on loopback, a
// resource server reading that set, and a login's tokens.
func remoteSetup(t *testing.T, opts ...ginfresh.JWKSOption) (issuer *fixture, ks *keyServer, rs *fixture, tok ginfresh.Tokens) {
	t.Helper()
	key := signingKey(t, "EdDSA")
	issuer = newKeyFixture(t, ginfresh.WithSigningKey(key))
	ks = newKeyServer(t, key)
	rs = resourceServer(t, issuer.clock, ks.URL, opts...)
	return issuer, ks, rs, issuer.login(t, "alice")
}

// strangerToken is a well-formed token whose kid no set holds: presenting it
// waits for any fetch in progress.
func strangerToken(t *testing.T) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	kid := base64.RawURLEncoding.EncodeToString(b[:])
	return forge(`{"alg":"EdDSA","kid":"`+kid+`","typ":"at+jwt"}`, `{"sub":"x"}`, testKey)
}

func TestRemoteKeySet(t *testing.T) {
	issuer, ks, rs, tok := remoteSetup(t)

	assert.Equal(t, int32(0), ks.hits.Load(), "nothing is fetched before it is needed")
	w := rs.do(request{path: "/protected", token: tok.AccessToken})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, http.StatusOK, rs.do(request{method: http.MethodPost, path: "/sensitive", token: tok.AccessToken}).Code)
	assert.Equal(t, http.StatusOK, rs.do(request{method: http.MethodPost, path: "/recent", token: tok.AccessToken}).Code)
	assert.Equal(t, int32(1), ks.hits.Load())

	issuer.clock.Advance(time.Minute)
	refreshed := decodeTokens(t, issuer.refresh(t, tok.RefreshToken))
	assert.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: refreshed.AccessToken}).Code)
	w = rs.do(request{method: http.MethodPost, path: "/sensitive", token: refreshed.AccessToken})
	assert.Equal(t, "insufficient_user_authentication", errorCode(t, w))
	assert.Equal(t, http.StatusUnauthorized, rs.do(request{path: "/protected", token: tok.RefreshToken}).Code)

	w = rs.do(request{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "alice-pw")})
	assert.Equal(t, http.StatusNotImplemented, w.Code)
	assert.Equal(t, "unsupported", errorCode(t, w))
	assert.Equal(t, int32(1), ks.hits.Load(), "known kids cause no fetch")
}

func TestRemoteKeySetRotation(t *testing.T) {
	oldKey, newKey := signingKey(t, "ES256"), signingKey(t, "EdDSA")
	store := ginfresh.NewMemoryStore()
	issuer := newKeyFixture(t, ginfresh.WithSigningKey(oldKey), ginfresh.WithStore(store))
	ks := newKeyServer(t, oldKey)
	rs := resourceServer(t, issuer.clock, ks.URL, ginfresh.JWKSRefresh(5*time.Minute))
	oldTok := issuer.login(t, "alice")
	require.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: oldTok.AccessToken}).Code)

	// The issuer publishes the new key, then signs with it.
	ks.publish(t, newKey, oldKey)
	next := newKeyFixture(t, ginfresh.WithSigningKey(newKey), ginfresh.WithVerificationKeys(verifier(t, oldKey)),
		ginfresh.WithStore(store), ginfresh.WithTimeFunc(issuer.clock.Now))
	newTok := next.login(t, "bob")

	issuer.clock.Advance(ginfresh.DefaultJWKSMinInterval)
	w := rs.do(request{path: "/protected", token: newTok.AccessToken})
	require.Equal(t, http.StatusOK, w.Code, "an unknown kid fetches the set at once: %s", w.Body.String())
	assert.Equal(t, int32(2), ks.hits.Load())
	assert.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: oldTok.AccessToken}).Code, "the old key still verifies")

	// The issuer withdraws the old key; at the next refresh the resource
	// server forgets it, and the cached verdict on the old token with it.
	ks.publish(t, newKey)
	issuer.clock.Advance(5 * time.Minute) // the old access token has not expired
	require.Equal(t, http.StatusOK, next.do(request{path: "/protected", token: oldTok.AccessToken}).Code)
	rs.do(request{path: "/protected", token: strangerToken(t)})
	assert.Equal(t, int32(3), ks.hits.Load())
	w = rs.do(request{path: "/protected", token: oldTok.AccessToken})
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "invalid_token", errorCode(t, w))
	assert.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: newTok.AccessToken}).Code)
}

func TestRemoteKeySetRateLimit(t *testing.T) {
	issuer, ks, rs, tok := remoteSetup(t, ginfresh.JWKSMinInterval(30*time.Second))
	require.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: tok.AccessToken}).Code)

	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := rs.do(request{path: "/protected", token: strangerToken(t)})
			assert.Equal(t, http.StatusUnauthorized, w.Code)
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), ks.hits.Load(), "random kids within the interval fetch nothing")

	issuer.clock.Advance(30 * time.Second)
	for range 10 {
		w := rs.do(request{path: "/protected", token: strangerToken(t)})
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Equal(t, "invalid_token", errorCode(t, w))
	}
	assert.Equal(t, int32(2), ks.hits.Load(), "one fetch per interval, however many kids")
}

func TestRemoteKeySetPeriodicRefresh(t *testing.T) {
	issuer, ks, rs, tok := remoteSetup(t, ginfresh.JWKSRefresh(5*time.Minute))
	require.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: tok.AccessToken}).Code)

	issuer.clock.Advance(4 * time.Minute)
	assert.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: tok.AccessToken}).Code)
	assert.Equal(t, int32(1), ks.hits.Load())

	// Due: the next token that needs checking is served from the current
	// set while a fetch runs in the background. (A token already in the
	// verified-token cache needs no key, so it starts nothing.)
	issuer.clock.Advance(time.Minute)
	assert.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: tok.AccessToken}).Code)
	assert.Equal(t, int32(1), ks.hits.Load())
	assert.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: issuer.login(t, "bob").AccessToken}).Code)
	require.Eventually(t, func() bool { return ks.hits.Load() == 2 }, 5*time.Second, time.Millisecond)
	rs.do(request{path: "/protected", token: strangerToken(t)}) // waits for that fetch, starts none
	assert.Equal(t, int32(2), ks.hits.Load())
}

func TestRemoteKeySetFailures(t *testing.T) {
	// Valid but for its size: were it taken, the set would lose its key.
	big := `{"keys":[]` + strings.Repeat(" ", ginfresh.MaxJWKSSize) + `}`
	many := `{"keys":[` + strings.Repeat(`{"kty":"OKP"},`, ginfresh.MaxJWKSKeys) + `{}]}`
	for _, tc := range []struct {
		name string
		code int
		body string
		hold bool
	}{
		{"server error", http.StatusInternalServerError, `{"keys":[]}`, false},
		{"not JSON", http.StatusOK, `<html>`, false},
		{"no keys member", http.StatusOK, `{"key":[]}`, false},
		{"oversized", http.StatusOK, big, false},
		{"too many keys", http.StatusOK, many, false},
		{"timeout", http.StatusOK, `{"keys":[]}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issuer, ks, rs, tok := remoteSetup(t, ginfresh.JWKSTimeout(100*time.Millisecond), ginfresh.JWKSRefresh(5*time.Minute))
			require.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: tok.AccessToken}).Code)

			ks.serve(tc.code, []byte(tc.body))
			if tc.hold {
				hold := make(chan struct{})
				ks.mu.Lock()
				ks.hold = hold
				ks.mu.Unlock()
				defer close(hold)
			}
			issuer.clock.Advance(5 * time.Minute)
			rs.do(request{path: "/protected", token: strangerToken(t)}) // waits for the failing fetch
			assert.Equal(t, int32(2), ks.hits.Load())
			assert.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: tok.AccessToken}).Code, "the last good set stays")

			// Never fetched at all: the keys are unavailable, not the token bad.
			fresh := resourceServer(t, issuer.clock, ks.URL, ginfresh.JWKSTimeout(100*time.Millisecond))
			w := fresh.do(request{path: "/protected", token: tok.AccessToken})
			assert.Equal(t, http.StatusServiceUnavailable, w.Code)
			assert.Equal(t, "temporarily_unavailable", errorCode(t, w))
		})
	}
}

func TestRemoteKeySetAllowedAlgorithms(t *testing.T) {
	rsaKey := signingKey(t, "RS256")
	ecKey := signingKey(t, "ES256")
	edKey := signingKey(t, "EdDSA")
	psKey := must(ginfresh.NewSigningKey("ps", "PS256", testRSAKey(t, 1)))
	jwk := func(k *ginfresh.Key, edit func(*ginfresh.JWK)) ginfresh.JWK {
		j, err := k.PublicJWK()
		require.NoError(t, err)
		edit(&j)
		return j
	}
	doc, err := json.Marshal(map[string]any{"keys": []any{
		jwk(rsaKey, func(j *ginfresh.JWK) { j.Algorithm = "" }), // no alg: never used
		jwk(ecKey, func(j *ginfresh.JWK) { j.Use = "enc" }),     // not a signature key
		map[string]string{"kty": "oct", "kid": "shared", "alg": "HS256", "k": base64.RawURLEncoding.EncodeToString(testKey)},
		jwk(psKey, func(j *ginfresh.JWK) { j.KeyOps = []string{"encrypt"} }),              // not for verifying
		jwk(edKey, func(j *ginfresh.JWK) {}),                                              // the only usable one
		jwk(edKey, func(j *ginfresh.JWK) { j.KeyID = "ed-as-rs"; j.Algorithm = "RS256" }), // alg does not fit the key
		map[string]string{"kty": "EC", "kid": "off-curve", "alg": "ES256", "crv": "P-256", "x": "AQ", "y": "AQ"},
	}})
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		key  *ginfresh.Key
		want int
	}{
		{"EdDSA with alg", edKey, http.StatusOK},
		{"RSA without alg", rsaKey, http.StatusUnauthorized},
		{"EC for encryption", ecKey, http.StatusUnauthorized},
		{"RSA with key_ops encrypt", psKey, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issuer := newKeyFixture(t, ginfresh.WithSigningKey(tc.key))
			ks := newKeyServer(t)
			ks.serve(http.StatusOK, doc)
			rs := resourceServer(t, issuer.clock, ks.URL)
			w := rs.do(request{path: "/protected", token: issuer.login(t, "alice").AccessToken})
			assert.Equal(t, tc.want, w.Code, w.Body.String())
		})
	}

	// An HMAC token naming the shared secret of the set is refused.
	ks := newKeyServer(t)
	ks.serve(http.StatusOK, doc)
	rs := resourceServer(t, newClock(), ks.URL)
	forged := forge(`{"alg":"HS256","kid":"shared","typ":"at+jwt"}`, `{"sub":"alice"}`, testKey)
	assert.Equal(t, http.StatusUnauthorized, rs.do(request{path: "/protected", token: forged}).Code)

	// Narrowed to RS256, even the Ed25519 key is left out.
	issuer := newKeyFixture(t, ginfresh.WithSigningKey(edKey))
	rs = resourceServer(t, issuer.clock, ks.URL, ginfresh.JWKSAlgorithms("RS256"))
	assert.Equal(t, http.StatusUnauthorized, rs.do(request{path: "/protected", token: issuer.login(t, "alice").AccessToken}).Code)
}

func TestWithJWKSURLValidated(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		opts      []ginfresh.JWKSOption
		want      string
	}{
		{"plain http elsewhere", "http://issuer.example/jwks.json", nil, "must be https"},
		{"other scheme", "file:///etc/jwks.json", nil, "must be https"},
		{"unparsable", "https://[::1", nil, "WithJWKSURL"},
		{"HMAC algorithm", "https://issuer.example/jwks.json", []ginfresh.JWKSOption{ginfresh.JWKSAlgorithms("HS256")}, "not an asymmetric"},
		{"no algorithm", "https://issuer.example/jwks.json", []ginfresh.JWKSOption{ginfresh.JWKSAlgorithms()}, "no algorithm"},
		{"zero timeout", "https://issuer.example/jwks.json", []ginfresh.JWKSOption{ginfresh.JWKSTimeout(0)}, "JWKSTimeout"},
		{"negative refresh", "https://issuer.example/jwks.json", []ginfresh.JWKSOption{ginfresh.JWKSRefresh(-time.Second)}, "JWKSRefresh"},
		{"zero interval", "https://issuer.example/jwks.json", []ginfresh.JWKSOption{ginfresh.JWKSMinInterval(0)}, "JWKSMinInterval"},
		{"nil client", "https://issuer.example/jwks.json", []ginfresh.JWKSOption{ginfresh.JWKSHTTPClient(nil)}, "nil client"},
		{"nil option", "https://issuer.example/jwks.json", []ginfresh.JWKSOption{nil}, "nil option"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ginfresh.New(ginfresh.WithJWKSURL(tc.url, tc.opts...))
			assert.ErrorContains(t, err, tc.want)
		})
	}
	for _, url := range []string{"https://issuer.example/jwks.json", "http://127.0.0.1:8000/jwks", "http://localhost/jwks", "http://[::1]/jwks"} {
		_, err := ginfresh.New(ginfresh.WithJWKSURL(url))
		assert.NoError(t, err, url)
	}
}

func TestRemoteKeySetRedirects(t *testing.T) {
	key := signingKey(t, "EdDSA")
	issuer := newKeyFixture(t, ginfresh.WithSigningKey(key))
	tok := issuer.login(t, "alice")
	ks := newKeyServer(t, key)
	stopAll := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("no redirects here") }}
	for _, tc := range []struct {
		name, to string
		client   *http.Client // nil: the default one
		want     int
		wantLog  string
	}{
		{"to the set on loopback", ks.URL, nil, http.StatusOK, "key set fetched"},
		{"to plain http elsewhere", "http://issuer.invalid/jwks.json", nil, http.StatusServiceUnavailable, "refused: not https"},
		{"own client, to the set on loopback", ks.URL, &http.Client{}, http.StatusOK, "key set fetched"},
		{"own client, to plain http elsewhere", "http://issuer.invalid/jwks.json", &http.Client{}, http.StatusServiceUnavailable, "refused: not https"},
		{"own client's policy still applies", ks.URL, stopAll, http.StatusServiceUnavailable, "no redirects here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			redirect := httptest.NewServer(http.RedirectHandler(tc.to, http.StatusFound))
			defer redirect.Close()
			var log lockedBuffer
			var opts []ginfresh.JWKSOption
			if tc.client != nil {
				opts = append(opts, ginfresh.JWKSHTTPClient(tc.client))
			}
			auth, err := ginfresh.New(ginfresh.WithJWKSURL(redirect.URL, opts...), ginfresh.WithTimeFunc(issuer.clock.Now),
				ginfresh.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
			require.NoError(t, err)
			rs := &fixture{auth: auth, clock: issuer.clock, router: testRouter(auth)}
			assert.Equal(t, tc.want, rs.do(request{path: "/protected", token: tok.AccessToken}).Code)
			assert.Contains(t, log.String(), tc.wantLog)
		})
	}
}

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRemoteKeySetWithStaticKeys(t *testing.T) {
	static, fetched := signingKey(t, "ES256"), signingKey(t, "EdDSA")
	clk := newClock()
	staticIssuer := newKeyFixture(t, ginfresh.WithSigningKey(static), ginfresh.WithTimeFunc(clk.Now))
	fetchedIssuer := newKeyFixture(t, ginfresh.WithSigningKey(fetched), ginfresh.WithTimeFunc(clk.Now))
	// The set also offers a different key under the static key's kid; it
	// must not displace the configured one.
	impostor := must(ginfresh.NewSigningKey(static.ID(), "EdDSA", testEdKey(t)))
	ks := newKeyServer(t, impostor, fetched)
	ks.serve(http.StatusServiceUnavailable, nil)

	auth, err := ginfresh.New(ginfresh.WithJWKSURL(ks.URL), ginfresh.WithVerificationKeys(verifier(t, static)), ginfresh.WithTimeFunc(clk.Now))
	require.NoError(t, err)
	rs := &fixture{auth: auth, clock: clk, router: testRouter(auth)}
	staticTok := staticIssuer.login(t, "alice").AccessToken
	assert.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: staticTok}).Code, "configured keys work while the set is down")
	w := rs.do(request{path: "/protected", token: fetchedIssuer.login(t, "bob").AccessToken})
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)

	ks.publish(t, impostor, fetched)
	clk.Advance(ginfresh.DefaultJWKSMinInterval)
	assert.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: fetchedIssuer.login(t, "bob").AccessToken}).Code)
	assert.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: staticIssuer.login(t, "alice").AccessToken}).Code)
	impostorIssuer := newKeyFixture(t, ginfresh.WithSigningKey(impostor), ginfresh.WithTimeFunc(clk.Now))
	w = rs.do(request{path: "/protected", token: impostorIssuer.login(t, "alice").AccessToken})
	assert.Equal(t, http.StatusUnauthorized, w.Code, "a fetched key cannot take a configured kid")
}

// TestRemoteKeySetConcurrent verifies from many goroutines while the set is
// fetched again and again: under -race this checks the snapshot swap.
func TestRemoteKeySetConcurrent(t *testing.T) {
	issuer, ks, rs, _ := remoteSetup(t, ginfresh.JWKSRefresh(time.Minute), ginfresh.JWKSMinInterval(time.Second))
	tokens := make([]string, 200)
	for i := range tokens {
		tokens[i] = must(issuer.auth.CreateAccessToken(ginfresh.Identity{Subject: "alice"}, false))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(tokens); i += 4 {
				w := rs.do(request{path: "/protected", token: tokens[i]})
				assert.Equal(t, http.StatusOK, w.Code)
				rs.do(request{path: "/protected", token: strangerToken(t)})
			}
		}()
	}
	for range 20 {
		issuer.clock.Advance(time.Minute / 4)
		rs.do(request{path: "/protected", token: strangerToken(t)})
	}
	wg.Wait()
	assert.Greater(t, ks.hits.Load(), int32(1))
	assert.LessOrEqual(t, ks.hits.Load(), int32(21), "at most one fetch per interval")
}
