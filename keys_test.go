package ginfresh_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// RSA keys are slow to generate, so the tests share a few.
var (
	rsaOnce sync.Once
	rsaKeys [2]*rsa.PrivateKey
)

func testRSAKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		for j := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[j] = k
		}
	})
	return rsaKeys[i]
}

func testECKey(t testing.TB, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	require.NoError(t, err)
	return k
}

func testEdKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

// signingKey returns a new key for alg; RSA ones are shared.
func signingKey(t testing.TB, alg string) *ginfresh.Key {
	t.Helper()
	var (
		k   *ginfresh.Key
		err error
	)
	switch alg {
	case "RS256", "PS256":
		k, err = ginfresh.NewSigningKey("", alg, testRSAKey(t, 0))
	case "ES256":
		k, err = ginfresh.NewSigningKey("", alg, testECKey(t, elliptic.P256()))
	case "EdDSA":
		k, err = ginfresh.NewSigningKey("", alg, testEdKey(t))
	default:
		secret := make([]byte, 64)
		_, _ = rand.Read(secret)
		k, err = ginfresh.NewHMACKey("", alg, secret)
	}
	require.NoError(t, err)
	return k
}

// verifier is the key a resource server holds for k: its public half, or
// the shared secret itself for HMAC.
func verifier(t testing.TB, k *ginfresh.Key) *ginfresh.Key {
	t.Helper()
	if k.Public() == nil {
		return k
	}
	v, err := ginfresh.NewVerificationKey(k.ID(), k.Algorithm(), k.Public())
	require.NoError(t, err)
	return v
}

func TestAlgorithmsEndToEnd(t *testing.T) {
	for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA", "HS256", "HS384", "HS512"} {
		t.Run(alg, func(t *testing.T) {
			key := signingKey(t, alg)
			f := newKeyFixture(t, ginfresh.WithSigningKey(key))
			tok := f.login(t, "alice")
			header := segment(t, tok.AccessToken, 0)
			assert.Equal(t, alg, header["alg"])
			assert.Equal(t, key.ID(), header["kid"])

			assert.Equal(t, http.StatusOK, f.do(request{path: "/protected", token: tok.AccessToken}).Code)
			assert.Equal(t, http.StatusOK, f.do(request{method: http.MethodPost, path: "/sensitive", token: tok.AccessToken}).Code)
			f.clock.Advance(time.Minute)
			w := f.refresh(t, tok.RefreshToken)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			refreshed := decodeTokens(t, w)
			assert.Equal(t, http.StatusOK, f.do(request{path: "/protected", token: refreshed.AccessToken}).Code)
			assert.Equal(t, http.StatusUnauthorized, f.do(request{method: http.MethodPost, path: "/sensitive", token: refreshed.AccessToken}).Code)

			// A resource server holding only the verification key accepts
			// the same tokens and enforces the same guards.
			rs := newKeyFixture(t, ginfresh.WithVerificationKeys(verifier(t, key)), ginfresh.WithTimeFunc(f.clock.Now))
			assert.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: refreshed.AccessToken}).Code)
			assert.Equal(t, http.StatusOK, rs.do(request{method: http.MethodPost, path: "/sensitive", token: tok.AccessToken}).Code)
			w = rs.do(request{method: http.MethodPost, path: "/sensitive", token: refreshed.AccessToken})
			assert.Equal(t, "insufficient_user_authentication", errorCode(t, w))
		})
	}
}

// newKeyFixture is newFixture without the default HMAC key: opts bring the
// keys. The last WithTimeFunc wins, so a caller can share a clock.
func newKeyFixture(t testing.TB, opts ...ginfresh.Option) *fixture {
	t.Helper()
	clk := newClock()
	base := []ginfresh.Option{ginfresh.WithAuthenticator(testAuthenticator), ginfresh.WithTimeFunc(clk.Now)}
	auth, err := ginfresh.New(append(base, opts...)...)
	require.NoError(t, err)
	f := &fixture{auth: auth, clock: clk, router: testRouter(auth)}
	return f
}

func TestVerifyOnlyCannotMint(t *testing.T) {
	key := signingKey(t, "EdDSA")
	issuer := newKeyFixture(t, ginfresh.WithSigningKey(key))
	tok := issuer.login(t, "alice")

	auth, err := ginfresh.New(ginfresh.WithVerificationKeys(verifier(t, key)), ginfresh.WithTimeFunc(issuer.clock.Now))
	require.NoError(t, err, "a verify-only instance needs no authenticator")
	rs := &fixture{auth: auth, clock: issuer.clock, router: testRouter(auth)}
	for _, req := range []request{
		{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "alice-pw")},
		{method: http.MethodPost, path: "/auth/fresh-login", body: credentials("alice", "alice-pw")},
		{method: http.MethodPost, path: "/auth/refresh", token: tok.RefreshToken},
		{method: http.MethodPost, path: "/auth/logout", token: tok.RefreshToken},
	} {
		w := rs.do(req)
		assert.Equal(t, http.StatusNotImplemented, w.Code, req.path)
		assert.Equal(t, "unsupported", errorCode(t, w), req.path)
	}
	_, err = auth.CreateAccessToken(ginfresh.Identity{Subject: "alice"}, true)
	assert.ErrorIs(t, err, ginfresh.ErrKeyUnavailable)
	assert.Equal(t, http.StatusOK, rs.do(request{path: "/protected", token: tok.AccessToken}).Code)
}

func TestKeyRotation(t *testing.T) {
	store := ginfresh.NewMemoryStore()
	oldKey, newKey := signingKey(t, "ES256"), signingKey(t, "ES256")
	before := newKeyFixture(t, ginfresh.WithSigningKey(oldKey), ginfresh.WithStore(store))
	tok := before.login(t, "alice")
	unused := before.login(t, "bob") // its refresh token is never redeemed

	// Step 2 of the procedure: the new key signs, the old one only verifies.
	after := newKeyFixture(t, ginfresh.WithSigningKey(newKey), ginfresh.WithVerificationKeys(verifier(t, oldKey)),
		ginfresh.WithStore(store), ginfresh.WithTimeFunc(before.clock.Now))
	assert.Equal(t, http.StatusOK, after.do(request{path: "/protected", token: tok.AccessToken}).Code, "old access token still valid")
	w := after.refresh(t, tok.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code, "old refresh token still redeemable: %s", w.Body.String())
	next := decodeTokens(t, w)
	assert.Equal(t, newKey.ID(), segment(t, next.AccessToken, 0)["kid"], "new tokens carry the new kid")
	assert.Equal(t, newKey.ID(), segment(t, next.RefreshToken, 0)["kid"])

	// Old tokens die when they expire, not before.
	before.clock.Advance(ginfresh.DefaultAccessTTL)
	w = after.do(request{path: "/protected", token: tok.AccessToken})
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "invalid_token", errorCode(t, w))

	// Step 3: once every old token has expired the old key is dropped, and
	// whatever it signed is refused.
	final := newKeyFixture(t, ginfresh.WithSigningKey(newKey), ginfresh.WithStore(store), ginfresh.WithTimeFunc(before.clock.Now))
	w = final.refresh(t, next.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code, "tokens of the new key live on: %s", w.Body.String())
	assert.Equal(t, http.StatusOK, final.do(request{path: "/protected", token: decodeTokens(t, w).AccessToken}).Code)
	w = final.refresh(t, unused.RefreshToken)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "invalid_token", errorCode(t, w))
	assert.Equal(t, http.StatusOK, after.refresh(t, unused.RefreshToken).Code, "while the old key verified, it was valid")
}

func TestHMACRotation(t *testing.T) {
	oldKey, err := ginfresh.NewHMACKey("", "HS256", testKey)
	require.NoError(t, err)
	before := newFixture(t)
	tok := before.login(t, "alice")
	newSecret := []byte("the-next-secret-0123456789-0123456789")
	after := newKeyFixture(t, ginfresh.WithHMACKey(newSecret), ginfresh.WithVerificationKeys(oldKey), ginfresh.WithTimeFunc(before.clock.Now))
	assert.Equal(t, http.StatusOK, after.do(request{path: "/protected", token: tok.AccessToken}).Code)
	assert.NotEqual(t, segment(t, tok.AccessToken, 0)["kid"], segment(t, after.login(t, "bob").AccessToken, 0)["kid"])
}

func TestJWKSHandler(t *testing.T) {
	rsaKey := signingKey(t, "RS256")
	ecKey := signingKey(t, "ES256")
	hmacKey := signingKey(t, "HS256")
	auth, err := ginfresh.New(ginfresh.WithSigningKey(rsaKey), ginfresh.WithVerificationKeys(verifier(t, ecKey), hmacKey),
		ginfresh.WithAuthenticator(testAuthenticator), ginfresh.WithJWKSMaxAge(10*time.Minute))
	require.NoError(t, err)
	h := auth.JWKSHandler()

	w := serve(ginHandler(h), request{path: "/jwks"})
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/jwk-set+json", w.Header().Get("Content-Type"))
	assert.Equal(t, "public, max-age=600", w.Header().Get("Cache-Control"))
	etag := w.Header().Get("ETag")
	assert.Regexp(t, `^"[A-Za-z0-9_-]+"$`, etag)

	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &raw))
	require.Len(t, raw.Keys, 2, "the HMAC secret is never published")
	for _, m := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			assert.NotContains(t, m, private)
		}
		assert.Equal(t, "sig", m["use"])
	}
	var set ginfresh.JWKSet
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &set))
	for i, want := range []*ginfresh.Key{rsaKey, ecKey} {
		got := set.Keys[i]
		assert.Equal(t, want.ID(), got.KeyID)
		assert.Equal(t, want.Algorithm(), got.Algorithm)
		pub, err := got.PublicKey()
		require.NoError(t, err)
		assert.True(t, pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(want.Public()))
	}

	for _, tc := range []struct {
		inm  string
		want int
	}{
		{etag, http.StatusNotModified},
		{"W/" + etag, http.StatusNotModified},
		{`"other", ` + etag, http.StatusNotModified},
		{"*", http.StatusNotModified},
		{`"other"`, http.StatusOK},
	} {
		w := serve(ginHandler(h), request{path: "/jwks", header: http.Header{"If-None-Match": {tc.inm}}})
		assert.Equal(t, tc.want, w.Code, tc.inm)
		assert.Equal(t, etag, w.Header().Get("ETag"))
	}

	hmacOnly := newFixture(t)
	w = serve(ginHandler(hmacOnly.auth.JWKSHandler()), request{path: "/jwks"})
	assert.JSONEq(t, `{"keys":[]}`, w.Body.String())
}

func TestKeyConstructors(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		make func() (*ginfresh.Key, error)
	}{
		{"RSA for ES256", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", "ES256", testRSAKey(t, 0)) }},
		{"P-384 for ES256", func() (*ginfresh.Key, error) {
			return ginfresh.NewSigningKey("", "ES256", testECKey(t, elliptic.P384()))
		}},
		{"1024-bit RSA", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", "RS256", small) }},
		{"Ed25519 for RS256", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", "RS256", testEdKey(t)) }},
		{"HMAC alg for a public key", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("", "HS256", testRSAKey(t, 0).Public())
		}},
		{"none", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", "none", testEdKey(t)) }},
		{"nil signer", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", "EdDSA", nil) }},
		{"short HMAC", func() (*ginfresh.Key, error) { return ginfresh.NewHMACKey("", "HS256", []byte("short")) }},
		{"opaque RSA signer", func() (*ginfresh.Key, error) {
			return ginfresh.NewSigningKey("", "RS256", opaqueSigner{testRSAKey(t, 0)})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := tc.make()
			assert.Nil(t, k)
			assert.ErrorIs(t, err, ginfresh.ErrInvalidKey)
		})
	}
}

// opaqueSigner hides the key type, as a hardware-backed signer would.
type opaqueSigner struct{ crypto.Signer }

func pemBytes(t testing.TB, typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestParsePrivateKeyPEM(t *testing.T) {
	rsaKey, ecKey, edKey := testRSAKey(t, 0), testECKey(t, elliptic.P256()), testEdKey(t)
	p384 := testECKey(t, elliptic.P384())
	pkcs8 := func(k any) []byte { return pemBytes(t, "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(k))) }
	rsaPKCS1 := pemBytes(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))
	for _, tc := range []struct {
		name, alg string
		pem       []byte
		public    crypto.PublicKey
	}{
		{"PKCS#8 RSA as RS256", "RS256", pkcs8(rsaKey), rsaKey.Public()},
		{"PKCS#1 RSA as PS256", "PS256", rsaPKCS1, rsaKey.Public()},
		{"SEC1 EC", "ES256", pemBytes(t, "EC PRIVATE KEY", must(x509.MarshalECPrivateKey(ecKey))), ecKey.Public()},
		{"PKCS#8 EC", "ES256", pkcs8(ecKey), ecKey.Public()},
		{"PKCS#8 Ed25519", "EdDSA", pkcs8(edKey), edKey.Public()},
		{"surrounding white space", "EdDSA", append(append([]byte("\n  "), pkcs8(edKey)...), "\n\n"...), edKey.Public()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ginfresh.ParsePrivateKeyPEM("", tc.alg, tc.pem)
			require.NoError(t, err)
			assert.True(t, k.CanSign())
			assert.Equal(t, tc.alg, k.Algorithm())
			assert.True(t, tc.public.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()))
			assert.Equal(t, verifier(t, k).ID(), k.ID(), "the kid is the thumbprint")
		})
	}
	k, err := ginfresh.ParsePrivateKeyPEM("key-2030", "EdDSA", pkcs8(edKey))
	require.NoError(t, err)
	assert.Equal(t, "key-2030", k.ID())

	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, Bytes: []byte{1}})
	for _, tc := range []struct {
		name, alg string
		pem       []byte
		wantText  string
	}{
		{"RSA as ES256", "ES256", pkcs8(rsaKey), "needs an ECDSA key"},
		{"P-384 as ES256", "ES256", pkcs8(p384), "needs curve P-256"},
		{"Ed25519 as RS256", "RS256", pkcs8(edKey), "needs an RSA key"},
		{"HMAC alg", "HS256", pkcs8(edKey), "HMAC"},
		{"legacy encrypted", "RS256", encrypted, "encrypted"},
		{"PKCS#8 encrypted", "RS256", pemBytes(t, "ENCRYPTED PRIVATE KEY", []byte{1, 2}), "encrypted"},
		{"trailing garbage", "EdDSA", append(pkcs8(edKey), "garbage"...), "data after"},
		{"two blocks", "EdDSA", append(pkcs8(edKey), pkcs8(edKey)...), "more than one"},
		{"leading garbage", "EdDSA", append([]byte("hello\n"), pkcs8(edKey)...), "no PEM block"},
		{"empty", "EdDSA", nil, "no PEM block"},
		{"not PEM", "EdDSA", []byte("-----BEGIN nothing"), "malformed"},
		{"public key", "EdDSA", pemBytes(t, "PUBLIC KEY", must(x509.MarshalPKIXPublicKey(edKey.Public()))), "ParsePublicKeyPEM"},
		{"bad DER", "RS256", pemBytes(t, "RSA PRIVATE KEY", []byte{1, 2, 3}), "RSA PRIVATE KEY"},
		{"unknown block", "RS256", pemBytes(t, "OPENSSH PRIVATE KEY", []byte{1}), "not a private key"},
		{"PEM headers", "EdDSA", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Comment": "x"}, Bytes: must(x509.MarshalPKCS8PrivateKey(edKey))}), "headers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ginfresh.ParsePrivateKeyPEM("", tc.alg, tc.pem)
			assert.Nil(t, k)
			require.ErrorIs(t, err, ginfresh.ErrInvalidKey)
			assert.ErrorContains(t, err, tc.wantText)
		})
	}
}

func TestParsePublicKeyPEM(t *testing.T) {
	rsaKey, ecKey, edKey := testRSAKey(t, 0), testECKey(t, elliptic.P256()), testEdKey(t)
	toPKIX := func(k crypto.PublicKey) []byte { return pemBytes(t, "PUBLIC KEY", must(x509.MarshalPKIXPublicKey(k))) }
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	cert := pemBytes(t, "CERTIFICATE", must(x509.CreateCertificate(rand.Reader, tmpl, tmpl, ecKey.Public(), ecKey)))
	for _, tc := range []struct {
		name, alg string
		pem       []byte
		public    crypto.PublicKey
	}{
		{"PKIX RSA", "RS256", toPKIX(rsaKey.Public()), rsaKey.Public()},
		{"PKCS#1 RSA", "PS256", pemBytes(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), rsaKey.Public()},
		{"PKIX EC", "ES256", toPKIX(ecKey.Public()), ecKey.Public()},
		{"PKIX Ed25519", "EdDSA", toPKIX(edKey.Public()), edKey.Public()},
		{"certificate", "ES256", cert, ecKey.Public()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ginfresh.ParsePublicKeyPEM("", tc.alg, tc.pem)
			require.NoError(t, err)
			assert.False(t, k.CanSign())
			assert.True(t, tc.public.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()))
		})
	}
	for _, tc := range []struct {
		name, alg string
		pem       []byte
		wantText  string
	}{
		{"private key", "EdDSA", pemBytes(t, "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(edKey))), "private key"},
		{"EC as EdDSA", "EdDSA", toPKIX(ecKey.Public()), "needs an Ed25519 key"},
		{"certificate for RS256", "RS256", cert, "needs an RSA key"},
		{"two blocks", "RS256", append(toPKIX(rsaKey.Public()), toPKIX(rsaKey.Public())...), "more than one"},
		{"bad certificate", "ES256", pemBytes(t, "CERTIFICATE", []byte{1}), "CERTIFICATE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ginfresh.ParsePublicKeyPEM("", tc.alg, tc.pem)
			require.ErrorIs(t, err, ginfresh.ErrInvalidKey)
			assert.ErrorContains(t, err, tc.wantText)
		})
	}
}

func TestKeyOptionsValidated(t *testing.T) {
	pub := verifier(t, signingKey(t, "EdDSA"))
	for _, tc := range []struct {
		name string
		opts []ginfresh.Option
		want string
	}{
		{"public key as signer", []ginfresh.Option{ginfresh.WithSigningKey(pub)}, "cannot sign"},
		{"two kinds of signer", []ginfresh.Option{ginfresh.WithHMACKey(testKey), ginfresh.WithSigningKey(signingKey(t, "EdDSA"))}, "pass one"},
		{"kid collision", []ginfresh.Option{ginfresh.WithVerificationKeys(pub, must(ginfresh.NewVerificationKey(pub.ID(), "EdDSA", testEdKey(t).Public())))}, "share kid"},
		{"JWKS URL with a signer", []ginfresh.Option{ginfresh.WithSigningKey(signingKey(t, "EdDSA")), ginfresh.WithJWKSURL("https://issuer.example/jwks.json")}, "only verify"},
		{"JWKS max age", []ginfresh.Option{ginfresh.WithHMACKey(testKey), ginfresh.WithJWKSMaxAge(0)}, "WithJWKSMaxAge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ginfresh.New(append(tc.opts, ginfresh.WithAuthenticator(testAuthenticator))...)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	if _, err := ginfresh.New(ginfresh.WithVerificationKeys(pub)); err != nil {
		t.Errorf("verify-only: got %v, want no error", err)
	}
	_, err := ginfresh.New(ginfresh.WithAuthenticator(testAuthenticator))
	assert.ErrorContains(t, err, "signing key is required")
}

// ginHandler serves h at GET /jwks.
func ginHandler(h gin.HandlerFunc) http.Handler {
	r := gin.New()
	r.GET("/jwks", h)
	return r
}

// Keys too empty to use are refused with ErrInvalidKey, never a panic.
func TestEmptyKeysRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func() (*ginfresh.Key, error)
	}{
		{"nil RSA public key", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("", "RS256", (*rsa.PublicKey)(nil))
		}},
		{"zero RSA public key", func() (*ginfresh.Key, error) { return ginfresh.NewVerificationKey("", "RS256", &rsa.PublicKey{}) }},
		{"zero ECDSA public key", func() (*ginfresh.Key, error) { return ginfresh.NewVerificationKey("", "ES256", &ecdsa.PublicKey{}) }},
		{"short Ed25519 public key", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("x", "EdDSA", make(ed25519.PublicKey, 31))
		}},
		{"empty Ed25519 public key", func() (*ginfresh.Key, error) { return ginfresh.NewVerificationKey("x", "EdDSA", ed25519.PublicKey{}) }},
		{"zero RSA private key", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", "RS256", &rsa.PrivateKey{}) }},
		{"zero ECDSA private key", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", "ES256", &ecdsa.PrivateKey{}) }},
		{"short Ed25519 private key", func() (*ginfresh.Key, error) {
			return ginfresh.NewSigningKey("", "EdDSA", make(ed25519.PrivateKey, 10))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var k *ginfresh.Key
			var err error
			require.NotPanics(t, func() { k, err = tc.make() })
			assert.Nil(t, k)
			assert.ErrorIs(t, err, ginfresh.ErrInvalidKey)
		})
	}
}
