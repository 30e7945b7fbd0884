package ginfresh_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// RSA keys are slow to generate, so the tests share two.
var sharedRSAKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

func rsaTestKey(i int) *rsa.PrivateKey { return sharedRSAKeys()[i] }

func ecTestKey(t testing.TB, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func edTestKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// allAlgorithms are the algorithms a Key can be bound to.
var allAlgorithms = []ginfresh.Algorithm{
	ginfresh.HS256, ginfresh.HS384, ginfresh.HS512,
	ginfresh.RS256, ginfresh.RS384, ginfresh.RS512,
	ginfresh.PS256, ginfresh.PS384, ginfresh.PS512,
	ginfresh.ES256, ginfresh.ES384, ginfresh.ES512,
	ginfresh.EdDSA,
}

// keyFor returns a new signing key for alg, its kid derived from the key;
// RSA ones share the first test RSA key.
func keyFor(t testing.TB, alg ginfresh.Algorithm) *ginfresh.Key {
	t.Helper()
	var (
		k   *ginfresh.Key
		err error
	)
	switch alg {
	case ginfresh.RS256, ginfresh.RS384, ginfresh.RS512, ginfresh.PS256, ginfresh.PS384, ginfresh.PS512:
		k, err = ginfresh.NewSigningKey("", alg, rsaTestKey(0))
	case ginfresh.ES256:
		k, err = ginfresh.NewSigningKey("", alg, ecTestKey(t, elliptic.P256()))
	case ginfresh.ES384:
		k, err = ginfresh.NewSigningKey("", alg, ecTestKey(t, elliptic.P384()))
	case ginfresh.ES512:
		k, err = ginfresh.NewSigningKey("", alg, ecTestKey(t, elliptic.P521()))
	case ginfresh.EdDSA:
		k, err = ginfresh.NewSigningKey("", alg, edTestKey(t))
	default:
		secret := make([]byte, 64)
		_, _ = rand.Read(secret)
		k, err = ginfresh.NewHMACKey("", alg, secret)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// verifierFor is the key a resource server holds for k: its public half,
// or the shared secret itself for HMAC.
func verifierFor(t testing.TB, k *ginfresh.Key) *ginfresh.Key {
	t.Helper()
	if k.Public() == nil {
		return k
	}
	v, err := ginfresh.NewVerificationKey(k.ID(), k.Algorithm(), k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// tokenHeader decodes a token's JOSE header.
func tokenHeader(t testing.TB, token string) map[string]any {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// orPanic is for values that cannot fail to build in a test table.
func orPanic[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// Every algorithm runs the whole flow, on the issuer and on a resource
// server that holds only what verifies.
func TestKeyAlgorithmsEndToEnd(t *testing.T) {
	for _, alg := range allAlgorithms {
		t.Run(string(alg), func(t *testing.T) {
			key := keyFor(t, alg)
			clk := testkit.NewClock()
			issuer := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(key))
			tok := issuer.Login(t, "alice")
			for token, typ := range map[string]string{tok.AccessToken: "at+jwt", tok.RefreshToken: "refresh+jwt"} {
				h := tokenHeader(t, token)
				if len(h) != 3 || h["alg"] != string(alg) || h["kid"] != key.ID() || h["typ"] != typ {
					t.Fatalf("header %v, want alg %s, kid %s, typ %s and nothing else", h, alg, key.ID(), typ)
				}
			}

			testkit.Status(t, issuer.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
			testkit.Status(t, issuer.Post(testkit.Sensitive, tok.AccessToken, ""), http.StatusOK)
			clk.Advance(time.Minute)
			w := issuer.Refresh(tok.RefreshToken)
			testkit.Status(t, w, http.StatusOK)
			refreshed := testkit.DecodeTokens(t, w)
			testkit.Status(t, issuer.Get(testkit.Protected, refreshed.AccessToken), http.StatusOK)
			testkit.Refused(t, issuer.Post(testkit.Sensitive, refreshed.AccessToken, ""), http.StatusUnauthorized, "insufficient_user_authentication")

			// A resource server holding only the verification key accepts
			// the same tokens and enforces the same guards.
			rs := testkit.NewServer(t, clk, true, ginfresh.WithVerificationKeys(verifierFor(t, key)))
			testkit.Status(t, rs.Get(testkit.Protected, refreshed.AccessToken), http.StatusOK)
			testkit.Status(t, rs.Post(testkit.Sensitive, tok.AccessToken, ""), http.StatusOK)
			testkit.Refused(t, rs.Post(testkit.Sensitive, refreshed.AccessToken, ""), http.StatusUnauthorized, "insufficient_user_authentication")
		})
	}
}

// Algorithm is a type of its own: the constants work, and a value that is
// not one of them (a curve's name, another spelling) is refused by every
// constructor.
func TestKeyAlgorithmIsTyped(t *testing.T) {
	ed := edTestKey(t)
	secret := make([]byte, 32)
	privPEM := pemBlock("PRIVATE KEY", orPanic(x509.MarshalPKCS8PrivateKey(ed)))
	pubPEM := pemBlock("PUBLIC KEY", orPanic(x509.MarshalPKIXPublicKey(ed.Public())))
	for _, tt := range []struct {
		name    string
		make    func() (*ginfresh.Key, error)
		wantAlg ginfresh.Algorithm // "": refused with ErrInvalidKey
	}{
		{"NewSigningKey EdDSA", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", ginfresh.EdDSA, ed) }, ginfresh.EdDSA},
		{"NewVerificationKey EdDSA", func() (*ginfresh.Key, error) { return ginfresh.NewVerificationKey("", ginfresh.EdDSA, ed.Public()) }, ginfresh.EdDSA},
		{"NewHMACKey HS384", func() (*ginfresh.Key, error) { return ginfresh.NewHMACKey("", ginfresh.HS384, secret) }, ginfresh.HS384},
		{"NewSigningKey Ed25519", func() (*ginfresh.Key, error) {
			return ginfresh.NewSigningKey("", ginfresh.Algorithm("Ed25519"), ed)
		}, ""},
		{"NewVerificationKey Ed25519", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("", ginfresh.Algorithm("Ed25519"), ed.Public())
		}, ""},
		{"NewSigningKey eddsa", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", ginfresh.Algorithm("eddsa"), ed) }, ""},
		{"NewSigningKey none", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", ginfresh.Algorithm("none"), ed) }, ""},
		{"NewSigningKey empty", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", "", ed) }, ""},
		{"NewHMACKey HS-256", func() (*ginfresh.Key, error) { return ginfresh.NewHMACKey("", ginfresh.Algorithm("HS-256"), secret) }, ""},
		{"NewHMACKey hs256", func() (*ginfresh.Key, error) { return ginfresh.NewHMACKey("", ginfresh.Algorithm("hs256"), secret) }, ""},
		{"NewHMACKey EdDSA", func() (*ginfresh.Key, error) { return ginfresh.NewHMACKey("", ginfresh.EdDSA, secret) }, ""},
		{"ParsePrivateKeyPEM Ed25519", func() (*ginfresh.Key, error) {
			return ginfresh.ParsePrivateKeyPEM("", ginfresh.Algorithm("Ed25519"), privPEM)
		}, ""},
		{"ParsePublicKeyPEM Ed25519", func() (*ginfresh.Key, error) {
			return ginfresh.ParsePublicKeyPEM("", ginfresh.Algorithm("Ed25519"), pubPEM)
		}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := tt.make()
			if tt.wantAlg == "" {
				if k != nil || !errors.Is(err, ginfresh.ErrInvalidKey) {
					t.Fatalf("got %v, %v; want nil, ErrInvalidKey", k, err)
				}
				return
			}
			if err != nil || k.Algorithm() != tt.wantAlg {
				t.Fatalf("got %v, %v; want a key bound to %s", k, err, tt.wantAlg)
			}
		})
	}

	// The same goes for the algorithms a fetched key may be bound to.
	_, err := ginfresh.New(ginfresh.WithJWKSURL("https://issuer.example/jwks.json", ginfresh.JWKSAlgorithms(ginfresh.Algorithm("Ed25519"))))
	if err == nil || !strings.Contains(err.Error(), "not an asymmetric algorithm") {
		t.Fatalf("JWKSAlgorithms(Ed25519): got %v, want a refusal", err)
	}
}

// rsaModulus is a number of exactly bits bits, odd: enough of an RSA
// public key for the size check, without generating (slow) huge keys.
func rsaModulus(bits int) *big.Int {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	return n.Add(n, big.NewInt(1))
}

// RSA moduli of 2048 to 8192 bits are taken; beyond that, checking each
// forged token would cost the verifier many milliseconds, so a larger key
// is refused wherever it comes from.
func TestKeyRSASize(t *testing.T) {
	for _, tt := range []struct {
		name string
		key  *rsa.PublicKey
		want bool
	}{
		{"1024 bits", &orPanic(rsa.GenerateKey(rand.Reader, 1024)).PublicKey, false},
		{"2047 bits", &rsa.PublicKey{N: rsaModulus(2047), E: 65537}, false},
		{"2048 bits", &rsaTestKey(0).PublicKey, true},
		{"4096 bits", &rsa.PublicKey{N: rsaModulus(4096), E: 65537}, true},
		{"8192 bits", &rsa.PublicKey{N: rsaModulus(8192), E: 65537}, true},
		{"8193 bits", &rsa.PublicKey{N: rsaModulus(8193), E: 65537}, false},
		{"8200 bits", &rsa.PublicKey{N: rsaModulus(8200), E: 65537}, false},
		{"16384 bits", &rsa.PublicKey{N: rsaModulus(16384), E: 3}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, alg := range []ginfresh.Algorithm{ginfresh.RS256, ginfresh.PS512} {
				k, err := ginfresh.NewVerificationKey("", alg, tt.key)
				if tt.want && (err != nil || k.Public() != tt.key) {
					t.Fatalf("%s: got %v, want the key", alg, err)
				}
				if !tt.want && (k != nil || !errors.Is(err, ginfresh.ErrInvalidKey)) {
					t.Fatalf("%s: got %v, %v; want nil, ErrInvalidKey", alg, k, err)
				}
			}
			// From a PEM file too.
			der := x509.MarshalPKCS1PublicKey(tt.key)
			_, err := ginfresh.ParsePublicKeyPEM("", ginfresh.RS256, pemBlock("RSA PUBLIC KEY", der))
			if tt.want != (err == nil) || (err != nil && !errors.Is(err, ginfresh.ErrInvalidKey)) {
				t.Fatalf("ParsePublicKeyPEM: got %v, want accepted %v", err, tt.want)
			}
		})
	}
}

// A verify-only instance needs no authenticator, checks tokens, and
// answers 501 wherever a token would be minted.
func TestKeyVerifyOnlyCannotMint(t *testing.T) {
	key := keyFor(t, ginfresh.EdDSA)
	clk := testkit.NewClock()
	issuer := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(key))
	tok := issuer.Login(t, "alice")
	rs := testkit.NewServer(t, clk, true, ginfresh.WithVerificationKeys(verifierFor(t, key)))

	for _, tt := range []struct {
		path, token, body string
	}{
		{"/auth/login", "", testkit.Credentials("alice", "alice-pw")},
		{"/auth/fresh-login", "", testkit.Credentials("alice", "alice-pw")},
		{"/auth/fresh-login", tok.AccessToken, testkit.Credentials("alice", "alice-pw")},
		{"/auth/refresh", tok.RefreshToken, ""},
		{"/auth/logout", tok.RefreshToken, ""},
	} {
		t.Run(tt.path, func(t *testing.T) {
			testkit.Refused(t, rs.Post(tt.path, tt.token, tt.body), http.StatusNotImplemented, "unsupported")
		})
	}
	if _, err := rs.Auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice"}); !errors.Is(err, ginfresh.ErrCannotIssue) {
		t.Fatalf("StartSession: got %v, want ErrCannotIssue", err)
	}
	testkit.Status(t, rs.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	// The refresh token the resource server refused is still good at its
	// issuer.
	testkit.Status(t, issuer.Refresh(tok.RefreshToken), http.StatusOK)
}

// The rotation procedure: the new key signs while the old one only
// verifies, until every token of the old key has expired.
func TestKeyRotation(t *testing.T) {
	store := ginfresh.NewMemoryStore()
	clk := testkit.NewClock()
	oldKey, newKey := keyFor(t, ginfresh.ES256), keyFor(t, ginfresh.ES256)
	before := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(oldKey), ginfresh.WithStore(store))
	tok := before.Login(t, "alice")
	unused := before.Login(t, "bob") // its refresh token is never redeemed

	after := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(newKey),
		ginfresh.WithVerificationKeys(verifierFor(t, oldKey)), ginfresh.WithStore(store))
	testkit.Status(t, after.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	w := after.Refresh(tok.RefreshToken)
	testkit.Status(t, w, http.StatusOK) // old refresh tokens stay redeemable
	next := testkit.DecodeTokens(t, w)
	for _, token := range []string{next.AccessToken, next.RefreshToken} {
		if kid := tokenHeader(t, token)["kid"]; kid != newKey.ID() {
			t.Fatalf("new token carries kid %v, want %s", kid, newKey.ID())
		}
	}

	// Old tokens die when they expire (the default access TTL), not before.
	clk.Advance(15 * time.Minute)
	testkit.Refused(t, after.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")

	// Once every old token has expired the old key is dropped, and
	// whatever it signed is refused.
	final := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(newKey), ginfresh.WithStore(store))
	w = final.Refresh(next.RefreshToken)
	testkit.Status(t, w, http.StatusOK)
	testkit.Status(t, final.Get(testkit.Protected, testkit.DecodeTokens(t, w).AccessToken), http.StatusOK)
	testkit.Refused(t, final.Refresh(unused.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Status(t, after.Refresh(unused.RefreshToken), http.StatusOK) // while the old key verified, it was valid
}

func TestKeyHMACRotation(t *testing.T) {
	oldSecret := []byte("the-old-secret-0123456789-0123456789")
	newSecret := []byte("the-next-secret-0123456789-0123456789")
	clk := testkit.NewClock()
	before := testkit.NewServer(t, clk, false, ginfresh.WithHMACKey(oldSecret))
	tok := before.Login(t, "alice")

	// NewHMACKey derives the same kid WithHMACKey does, so the old secret
	// can be handed over as a verification key.
	oldKey := orPanic(ginfresh.NewHMACKey("", ginfresh.HS256, oldSecret))
	if kid := tokenHeader(t, tok.AccessToken)["kid"]; kid != oldKey.ID() {
		t.Fatalf("WithHMACKey signs with kid %v, NewHMACKey derives %s", kid, oldKey.ID())
	}
	after := testkit.NewServer(t, clk, false, ginfresh.WithHMACKey(newSecret), ginfresh.WithVerificationKeys(oldKey))
	testkit.Status(t, after.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	if a, b := tokenHeader(t, tok.AccessToken)["kid"], tokenHeader(t, after.Login(t, "bob").AccessToken)["kid"]; a == b {
		t.Fatalf("both secrets have kid %v", a)
	}
}

func TestKeyHMAC(t *testing.T) {
	secret := []byte("an-hmac-secret-0123456789-0123456789")
	a := orPanic(ginfresh.NewHMACKey("", ginfresh.HS256, secret))
	if b := orPanic(ginfresh.NewHMACKey("", ginfresh.HS256, secret)); a.ID() != b.ID() {
		t.Fatalf("kids %s and %s for one secret: instances would not agree", a.ID(), b.ID())
	}
	if b := orPanic(ginfresh.NewHMACKey("", ginfresh.HS512, secret)); a.ID() == b.ID() {
		t.Fatal("the kid does not depend on the algorithm")
	}
	if strings.Contains(a.ID(), base64.RawURLEncoding.EncodeToString(secret)[:8]) {
		t.Fatalf("kid %s shows the secret", a.ID())
	}
	if k := orPanic(ginfresh.NewHMACKey("hmac-2030", ginfresh.HS256, secret)); k.ID() != "hmac-2030" {
		t.Fatalf("kid %s, want the one given", k.ID())
	}
	if !a.CanSign() || a.Public() != nil {
		t.Fatalf("CanSign %v, Public %v; want true, nil", a.CanSign(), a.Public())
	}
	if _, err := a.PublicJWK(); !errors.Is(err, ginfresh.ErrInvalidKey) {
		t.Fatalf("PublicJWK of a secret: got %v, want ErrInvalidKey", err)
	}

	// The key keeps its own copy: the caller may wipe its slice.
	mine := append([]byte(nil), secret...)
	k := orPanic(ginfresh.NewHMACKey("", ginfresh.HS256, mine))
	clear(mine)
	clk := testkit.NewClock()
	issuer := testkit.NewServer(t, clk, false, ginfresh.WithSigningKey(k))
	verifier := testkit.NewServer(t, clk, true, ginfresh.WithVerificationKeys(a))
	testkit.Status(t, verifier.Get(testkit.Protected, issuer.Login(t, "alice").AccessToken), http.StatusOK)
}

// hiddenSigner hides the key type, as a hardware-backed signer would.
type hiddenSigner struct{ crypto.Signer }

func TestKeyConstructors(t *testing.T) {
	ed := edTestKey(t)
	edPub := ed.Public().(ed25519.PublicKey)
	for _, tt := range []struct {
		name    string
		make    func() (*ginfresh.Key, error)
		wantErr bool // refused with ErrInvalidKey
	}{
		{"RSA for ES256", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", ginfresh.ES256, rsaTestKey(0)) }, true},
		{"P-384 for ES256", func() (*ginfresh.Key, error) {
			return ginfresh.NewSigningKey("", ginfresh.ES256, ecTestKey(t, elliptic.P384()))
		}, true},
		{"P-256 for ES512", func() (*ginfresh.Key, error) {
			return ginfresh.NewSigningKey("", ginfresh.ES512, ecTestKey(t, elliptic.P256()))
		}, true},
		{"Ed25519 for RS256", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", ginfresh.RS256, ed) }, true},
		{"RSA public key for EdDSA", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("", ginfresh.EdDSA, rsaTestKey(0).Public())
		}, true},
		{"HMAC algorithm for a public key", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("", ginfresh.HS256, rsaTestKey(0).Public())
		}, true},
		{"HMAC algorithm for a private key", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", ginfresh.HS256, ed) }, true},
		{"nil signer", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", ginfresh.EdDSA, nil) }, true},
		{"nil public key", func() (*ginfresh.Key, error) { return ginfresh.NewVerificationKey("", ginfresh.EdDSA, nil) }, true},
		{"short HMAC secret", func() (*ginfresh.Key, error) { return ginfresh.NewHMACKey("", ginfresh.HS256, make([]byte, 31)) }, true},
		{"opaque RSA signer", func() (*ginfresh.Key, error) {
			return ginfresh.NewSigningKey("", ginfresh.RS256, hiddenSigner{rsaTestKey(0)})
		}, true},
		{"opaque ECDSA signer", func() (*ginfresh.Key, error) {
			return ginfresh.NewSigningKey("", ginfresh.ES256, hiddenSigner{ecTestKey(t, elliptic.P256())})
		}, true},
		// Ed25519 signs through crypto.Signer, so a key in hardware works.
		{"opaque Ed25519 signer", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", ginfresh.EdDSA, hiddenSigner{ed}) }, false},
		{"*ed25519.PrivateKey", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", ginfresh.EdDSA, &ed) }, false},
		{"*ed25519.PublicKey", func() (*ginfresh.Key, error) { return ginfresh.NewVerificationKey("", ginfresh.EdDSA, &edPub) }, false},
		{"shortest HMAC secret", func() (*ginfresh.Key, error) { return ginfresh.NewHMACKey("", ginfresh.HS512, make([]byte, 32)) }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := tt.make()
			if tt.wantErr {
				if k != nil || !errors.Is(err, ginfresh.ErrInvalidKey) {
					t.Fatalf("got %v, %v; want nil, ErrInvalidKey", k, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Keys too empty to use are refused with ErrInvalidKey, never a panic.
func TestKeyEmptyRefused(t *testing.T) {
	for _, tt := range []struct {
		name string
		make func() (*ginfresh.Key, error)
	}{
		{"nil RSA public key", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("", ginfresh.RS256, (*rsa.PublicKey)(nil))
		}},
		{"zero RSA public key", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("", ginfresh.RS256, &rsa.PublicKey{})
		}},
		{"RSA public key without exponent", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("", ginfresh.RS256, &rsa.PublicKey{N: rsaTestKey(0).N})
		}},
		{"nil ECDSA public key", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("", ginfresh.ES256, (*ecdsa.PublicKey)(nil))
		}},
		{"zero ECDSA public key", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("", ginfresh.ES256, &ecdsa.PublicKey{})
		}},
		{"ECDSA public key without a point", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("", ginfresh.ES256, &ecdsa.PublicKey{Curve: elliptic.P256()})
		}},
		{"short Ed25519 public key", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("x", ginfresh.EdDSA, make(ed25519.PublicKey, 31))
		}},
		{"empty Ed25519 public key", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("x", ginfresh.EdDSA, ed25519.PublicKey{})
		}},
		{"nil *ed25519.PublicKey", func() (*ginfresh.Key, error) {
			return ginfresh.NewVerificationKey("x", ginfresh.EdDSA, (*ed25519.PublicKey)(nil))
		}},
		{"nil RSA private key", func() (*ginfresh.Key, error) {
			return ginfresh.NewSigningKey("", ginfresh.RS256, (*rsa.PrivateKey)(nil))
		}},
		{"zero RSA private key", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", ginfresh.RS256, &rsa.PrivateKey{}) }},
		{"nil ECDSA private key", func() (*ginfresh.Key, error) {
			return ginfresh.NewSigningKey("", ginfresh.ES256, (*ecdsa.PrivateKey)(nil))
		}},
		{"zero ECDSA private key", func() (*ginfresh.Key, error) { return ginfresh.NewSigningKey("", ginfresh.ES256, &ecdsa.PrivateKey{}) }},
		{"short Ed25519 private key", func() (*ginfresh.Key, error) {
			return ginfresh.NewSigningKey("", ginfresh.EdDSA, make(ed25519.PrivateKey, 10))
		}},
		{"nil *ed25519.PrivateKey", func() (*ginfresh.Key, error) {
			return ginfresh.NewSigningKey("", ginfresh.EdDSA, (*ed25519.PrivateKey)(nil))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var k *ginfresh.Key
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				k, err = tt.make()
			}()
			if k != nil || !errors.Is(err, ginfresh.ErrInvalidKey) {
				t.Fatalf("got %v, %v; want nil, ErrInvalidKey", k, err)
			}
		})
	}
}

func TestKeyParsePrivatePEM(t *testing.T) {
	rsaKey, ecKey, edKey := rsaTestKey(0), ecTestKey(t, elliptic.P256()), edTestKey(t)
	p384 := ecTestKey(t, elliptic.P384())
	pkcs8 := func(k any) []byte { return pemBlock("PRIVATE KEY", orPanic(x509.MarshalPKCS8PrivateKey(k))) }
	for _, tt := range []struct {
		name   string
		alg    ginfresh.Algorithm
		pem    []byte
		public crypto.PublicKey
	}{
		{"PKCS#8 RSA as RS256", ginfresh.RS256, pkcs8(rsaKey), rsaKey.Public()},
		{"PKCS#1 RSA as PS256", ginfresh.PS256, pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), rsaKey.Public()},
		{"SEC1 EC", ginfresh.ES256, pemBlock("EC PRIVATE KEY", orPanic(x509.MarshalECPrivateKey(ecKey))), ecKey.Public()},
		{"PKCS#8 EC", ginfresh.ES256, pkcs8(ecKey), ecKey.Public()},
		{"PKCS#8 P-384", ginfresh.ES384, pkcs8(p384), p384.Public()},
		{"PKCS#8 Ed25519", ginfresh.EdDSA, pkcs8(edKey), edKey.Public()},
		{"surrounding white space", ginfresh.EdDSA, append(append([]byte("\n  "), pkcs8(edKey)...), "\n\n"...), edKey.Public()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ginfresh.ParsePrivateKeyPEM("", tt.alg, tt.pem)
			if err != nil {
				t.Fatal(err)
			}
			if !k.CanSign() || k.Algorithm() != tt.alg || !tt.public.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()) {
				t.Fatalf("got a key for %s (signs: %v), want the PEM's %s key", k.Algorithm(), k.CanSign(), tt.alg)
			}
			if v := orPanic(ginfresh.NewVerificationKey("", tt.alg, tt.public)); v.ID() != k.ID() {
				t.Fatalf("kid %s, want the thumbprint %s", k.ID(), v.ID())
			}
		})
	}
	if k := orPanic(ginfresh.ParsePrivateKeyPEM("key-2030", ginfresh.EdDSA, pkcs8(edKey))); k.ID() != "key-2030" {
		t.Fatalf("kid %s, want the one given", k.ID())
	}

	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, Bytes: []byte{1}})
	for _, tt := range []struct {
		name     string
		alg      ginfresh.Algorithm
		pem      []byte
		wantText string
	}{
		{"RSA as ES256", ginfresh.ES256, pkcs8(rsaKey), "needs an ECDSA key"},
		{"P-384 as ES256", ginfresh.ES256, pkcs8(p384), "needs curve P-256"},
		{"Ed25519 as RS256", ginfresh.RS256, pkcs8(edKey), "needs an RSA key"},
		{"HMAC algorithm", ginfresh.HS256, pkcs8(edKey), "HMAC"},
		{"legacy encrypted", ginfresh.RS256, encrypted, "encrypted"},
		{"PKCS#8 encrypted", ginfresh.RS256, pemBlock("ENCRYPTED PRIVATE KEY", []byte{1, 2}), "encrypted"},
		{"trailing garbage", ginfresh.EdDSA, append(pkcs8(edKey), "garbage"...), "data after"},
		{"two blocks", ginfresh.EdDSA, append(pkcs8(edKey), pkcs8(edKey)...), "more than one"},
		{"leading garbage", ginfresh.EdDSA, append([]byte("hello\n"), pkcs8(edKey)...), "no PEM block"},
		{"empty", ginfresh.EdDSA, nil, "no PEM block"},
		{"not PEM", ginfresh.EdDSA, []byte("-----BEGIN nothing"), "malformed"},
		{"public key", ginfresh.EdDSA, pemBlock("PUBLIC KEY", orPanic(x509.MarshalPKIXPublicKey(edKey.Public()))), "ParsePublicKeyPEM"},
		{"bad DER", ginfresh.RS256, pemBlock("RSA PRIVATE KEY", []byte{1, 2, 3}), "RSA PRIVATE KEY"},
		{"unknown block", ginfresh.RS256, pemBlock("OPENSSH PRIVATE KEY", []byte{1}), "not a private key"},
		{"PEM headers", ginfresh.EdDSA, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Comment": "x"}, Bytes: orPanic(x509.MarshalPKCS8PrivateKey(edKey))}), "headers"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ginfresh.ParsePrivateKeyPEM("", tt.alg, tt.pem)
			if k != nil || !errors.Is(err, ginfresh.ErrInvalidKey) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("got %v, %v; want ErrInvalidKey saying %q", k, err, tt.wantText)
			}
		})
	}
}

func TestKeyParsePublicPEM(t *testing.T) {
	rsaKey, ecKey, edKey := rsaTestKey(0), ecTestKey(t, elliptic.P256()), edTestKey(t)
	pkixPEM := func(k crypto.PublicKey) []byte { return pemBlock("PUBLIC KEY", orPanic(x509.MarshalPKIXPublicKey(k))) }
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	cert := pemBlock("CERTIFICATE", orPanic(x509.CreateCertificate(rand.Reader, tmpl, tmpl, ecKey.Public(), ecKey)))
	for _, tt := range []struct {
		name   string
		alg    ginfresh.Algorithm
		pem    []byte
		public crypto.PublicKey
	}{
		{"PKIX RSA", ginfresh.RS256, pkixPEM(rsaKey.Public()), rsaKey.Public()},
		{"PKCS#1 RSA", ginfresh.PS256, pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), rsaKey.Public()},
		{"PKIX EC", ginfresh.ES256, pkixPEM(ecKey.Public()), ecKey.Public()},
		{"PKIX Ed25519", ginfresh.EdDSA, pkixPEM(edKey.Public()), edKey.Public()},
		{"certificate", ginfresh.ES256, cert, ecKey.Public()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ginfresh.ParsePublicKeyPEM("", tt.alg, tt.pem)
			if err != nil {
				t.Fatal(err)
			}
			if k.CanSign() || !tt.public.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()) {
				t.Fatalf("got a key that signs (%v) or another public key", k.CanSign())
			}
		})
	}
	for _, tt := range []struct {
		name     string
		alg      ginfresh.Algorithm
		pem      []byte
		wantText string
	}{
		{"private key", ginfresh.EdDSA, pemBlock("PRIVATE KEY", orPanic(x509.MarshalPKCS8PrivateKey(edKey))), "private key"},
		{"EC private key", ginfresh.ES256, pemBlock("EC PRIVATE KEY", orPanic(x509.MarshalECPrivateKey(ecKey))), "private key"},
		{"EC as EdDSA", ginfresh.EdDSA, pkixPEM(ecKey.Public()), "needs an Ed25519 key"},
		{"certificate for RS256", ginfresh.RS256, cert, "needs an RSA key"},
		{"two blocks", ginfresh.RS256, append(pkixPEM(rsaKey.Public()), pkixPEM(rsaKey.Public())...), "more than one"},
		{"bad certificate", ginfresh.ES256, pemBlock("CERTIFICATE", []byte{1}), "CERTIFICATE"},
		{"unknown block", ginfresh.ES256, pemBlock("SSH2 PUBLIC KEY", []byte{1}), "not a public key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ginfresh.ParsePublicKeyPEM("", tt.alg, tt.pem)
			if k != nil || !errors.Is(err, ginfresh.ErrInvalidKey) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("got %v, %v; want ErrInvalidKey saying %q", k, err, tt.wantText)
			}
		})
	}
}

func TestKeyOptionsValidated(t *testing.T) {
	signer := keyFor(t, ginfresh.EdDSA)
	pub := verifierFor(t, signer)
	impostor := orPanic(ginfresh.NewVerificationKey(pub.ID(), ginfresh.EdDSA, edTestKey(t).Public()))
	secret := []byte("an-hmac-secret-0123456789-0123456789")
	for _, tt := range []struct {
		name string
		opts []ginfresh.Option
		want string
	}{
		{"public key as signer", []ginfresh.Option{ginfresh.WithSigningKey(pub)}, "cannot sign"},
		{"nil signer", []ginfresh.Option{ginfresh.WithSigningKey(nil)}, "cannot sign"},
		{"nil verification key", []ginfresh.Option{ginfresh.WithHMACKey(secret), ginfresh.WithVerificationKeys(pub, nil)}, "nil key"},
		{"short HMAC secret", []ginfresh.Option{ginfresh.WithHMACKey(secret[:31])}, "at least 32"},
		{"two kinds of signer", []ginfresh.Option{ginfresh.WithHMACKey(secret), ginfresh.WithSigningKey(signer)}, "pass one"},
		{"signing key twice", []ginfresh.Option{ginfresh.WithSigningKey(signer), ginfresh.WithSigningKey(keyFor(t, ginfresh.EdDSA))}, "given twice"},
		{"kid collision", []ginfresh.Option{ginfresh.WithVerificationKeys(pub, impostor)}, "share kid"},
		{"JWKS URL with a signer", []ginfresh.Option{ginfresh.WithSigningKey(signer), ginfresh.WithJWKSURL("https://issuer.example/jwks.json")}, "only verify"},
		{"JWKS max age", []ginfresh.Option{ginfresh.WithHMACKey(secret), ginfresh.WithJWKSMaxAge(0)}, "WithJWKSMaxAge"},
		{"no key", nil, "signing key is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ginfresh.New(tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
	// The same key given as signer and verifier is one key, not a clash.
	for _, opts := range [][]ginfresh.Option{
		{ginfresh.WithVerificationKeys(pub)},
		{ginfresh.WithSigningKey(signer), ginfresh.WithVerificationKeys(signer)},
	} {
		if _, err := ginfresh.New(opts...); err != nil {
			t.Fatalf("got %v, want no error", err)
		}
	}
}

// attackerSet is an attacker's server: it counts every request and serves
// the attacker's key set, should anything ever ask.
func attackerSet(t *testing.T, key *ginfresh.Key) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	body := keySetDocument(t, key)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// Forged tokens against RSA keys: algorithm confusion with the public key
// as an HMAC secret (RFC 8725 §2.1), foreign keys, kids that look like
// paths or SQL, RS256 and PS256 swapped over one RSA key, and header
// members (jku, x5u, x5c, jwk) that would fetch or embed the attacker's
// key. A key is bound to one algorithm and found only by its kid among the
// configured or fetched ones, so every row is refused, and nothing the
// token names is ever fetched.
func TestKeyAttacks(t *testing.T) {
	victim, attacker := rsaTestKey(0), rsaTestKey(1)
	rsKey := orPanic(ginfresh.NewSigningKey("", ginfresh.RS256, victim))
	psKey := orPanic(ginfresh.NewSigningKey("rsa-pss", ginfresh.PS256, victim))
	attackerKey := orPanic(ginfresh.NewSigningKey("attacker", ginfresh.RS256, attacker))

	// A resource server with the public key, one with the PS256 binding of
	// the same RSA key, and one fed by the issuer's published key set.
	clk := testkit.NewClock()
	rs := testkit.NewServer(t, clk, true, ginfresh.WithVerificationKeys(verifierFor(t, rsKey)))
	ps := testkit.NewServer(t, clk, true, ginfresh.WithVerificationKeys(verifierFor(t, psKey)))
	issuerSet := newKeySetServer(t, rsKey)
	remote := remoteServer(t, clk, issuerSet)

	evil, evilHits := attackerSet(t, attackerKey)
	pubDER := orPanic(x509.MarshalPKIXPublicKey(&victim.PublicKey))
	pubPEM := pemBlock("PUBLIC KEY", pubDER)
	pkcs1PEM := pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&victim.PublicKey))
	attackerJWK := orPanic(attackerKey.PublicJWK())
	attackerCert := base64.StdEncoding.EncodeToString(orPanic(x509.CreateCertificate(rand.Reader,
		&x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)},
		&x509.Certificate{SerialNumber: big.NewInt(1)}, &attacker.PublicKey, attacker)))
	kid := rsKey.ID()
	hdr := func(alg string, kv ...any) string {
		h := map[string]any{"alg": alg, "typ": "at+jwt"}
		for i := 0; i < len(kv); i += 2 {
			h[kv[i].(string)] = kv[i+1]
		}
		return headerJSON(t, h)
	}

	// The victim's key really signs a well-formed token: the servers accept
	// it, so each refusal below is for the reason the row names.
	for _, s := range []*testkit.Server{rs, remote} {
		testkit.Status(t, s.Get(testkit.Protected, craftToken(t, hdr("RS256", "kid", kid), goodClaims(clk.Now()), pkcs1Signer(victim))), http.StatusOK)
	}
	testkit.Status(t, ps.Get(testkit.Protected, craftToken(t, hdr("PS256", "kid", "rsa-pss"), goodClaims(clk.Now()), pssSigner(victim))), http.StatusOK)

	for _, tt := range []struct {
		name   string
		target *testkit.Server
		header string
		sign   signer
	}{
		{"HS256 keyed with the PEM public key", rs, hdr("HS256", "kid", kid), hmacSigner(pubPEM)},
		{"HS256 keyed with the PKCS#1 PEM public key", rs, hdr("HS256", "kid", kid), hmacSigner(pkcs1PEM)},
		{"HS256 keyed with the DER public key", rs, hdr("HS256", "kid", kid), hmacSigner(pubDER)},
		{"HS256 keyed with the PEM public key, no kid", rs, hdr("HS256"), hmacSigner(pubPEM)},
		{"HS256 keyed with the JWK modulus", remote, hdr("HS256", "kid", kid), hmacSigner([]byte(orPanic(rsKey.PublicJWK()).N))},
		{"HS256 keyed with the PEM public key, remote set", remote, hdr("HS256", "kid", kid), hmacSigner(pubPEM)},
		{"key from another set, its own kid", rs, hdr("RS256", "kid", "attacker"), pkcs1Signer(attacker)},
		{"key from another set, the victim's kid", rs, hdr("RS256", "kid", kid), pkcs1Signer(attacker)},
		{"key from another set, no kid", rs, hdr("RS256"), pkcs1Signer(attacker)},
		{"key from another set, remote set", remote, hdr("RS256", "kid", kid), pkcs1Signer(attacker)},
		{"kid naming no key", rs, hdr("RS256", "kid", "key-that-does-not-exist"), pkcs1Signer(victim)},
		{"kid with path traversal", rs, hdr("RS256", "kid", "../../etc/passwd"), pkcs1Signer(victim)},
		{"kid with path traversal, remote set", remote, hdr("RS256", "kid", "../../../dev/null"), pkcs1Signer(victim)},
		{"kid with SQL", rs, hdr("RS256", "kid", "x' UNION SELECT 'secret' --"), pkcs1Signer(victim)},
		{"kid with SQL, remote set", remote, hdr("RS256", "kid", "' OR '1'='1"), pkcs1Signer(victim)},
		{"kid with a NUL", rs, hdr("RS256", "kid", kid+"\x00"), pkcs1Signer(victim)},
		{"empty kid", rs, hdr("RS256", "kid", ""), pkcs1Signer(victim)},
		{"kid not a string", rs, hdr("RS256", "kid", 1), pkcs1Signer(victim)},
		{"RS256 key, PS256 token", rs, hdr("PS256", "kid", kid), pssSigner(victim)},
		{"RS256 key, RS256 header over a PSS signature", rs, hdr("RS256", "kid", kid), pssSigner(victim)},
		{"PS256 key, RS256 token", ps, hdr("RS256", "kid", "rsa-pss"), pkcs1Signer(victim)},
		{"PS256 key, PS256 header over a PKCS#1 v1.5 signature", ps, hdr("PS256", "kid", "rsa-pss"), pkcs1Signer(victim)},
		{"alg none", rs, hdr("none", "kid", kid), noSignature},
		{"alg None, no kid", rs, hdr("None"), noSignature},
		{"alg none, remote set", remote, hdr("none", "kid", kid), noSignature},
		{"no alg", rs, headerJSON(t, map[string]any{"kid": kid, "typ": "at+jwt"}), pkcs1Signer(victim)},
		{"jku to the attacker's set", rs, hdr("RS256", "kid", "attacker", "jku", evil.URL), pkcs1Signer(attacker)},
		{"jku to the attacker's set, remote set", remote, hdr("RS256", "kid", "attacker", "jku", evil.URL), pkcs1Signer(attacker)},
		{"jku with the victim's kid", remote, hdr("RS256", "kid", kid, "jku", evil.URL), pkcs1Signer(attacker)},
		{"x5u to the attacker", rs, hdr("RS256", "kid", "attacker", "x5u", evil.URL+"/cert.pem"), pkcs1Signer(attacker)},
		{"x5u to the attacker, remote set", remote, hdr("RS256", "kid", kid, "x5u", evil.URL+"/cert.pem"), pkcs1Signer(attacker)},
		{"x5c with the attacker's certificate", rs, hdr("RS256", "kid", kid, "x5c", []string{attackerCert}), pkcs1Signer(attacker)},
		{"embedded jwk", rs, hdr("RS256", "kid", kid, "jwk", attackerJWK), pkcs1Signer(attacker)},
		{"embedded jwk, no kid", rs, hdr("RS256", "jwk", attackerJWK), pkcs1Signer(attacker)},
		{"embedded jwk, remote set", remote, hdr("RS256", "kid", "attacker", "jwk", attackerJWK), pkcs1Signer(attacker)},
		{"crit header", rs, hdr("RS256", "kid", kid, "crit", []string{"exp"}, "exp", 1), pkcs1Signer(victim)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			token := craftToken(t, tt.header, goodClaims(clk.Now()), tt.sign)
			testkit.Refused(t, tt.target.Get(testkit.Protected, token), http.StatusUnauthorized, "invalid_token")
			testkit.Refused(t, tt.target.Post(testkit.Sensitive, token, ""), http.StatusUnauthorized, "invalid_token")
			if _, err := tt.target.Auth.Verify(context.Background(), ginfresh.Access, token); !errors.Is(err, ginfresh.ErrTokenInvalid) {
				t.Fatalf("Verify: got %v, want ErrTokenInvalid", err)
			}
		})
	}
	if n := evilHits.Load(); n != 0 {
		t.Fatalf("the attacker's server was asked %d times: jku, x5u and jwk must never be followed", n)
	}
	// Attack kids fetch the configured set no more than the rate limit
	// allows: here, not at all after the first fetch.
	issuerSet.fetches(t, 1)
}
