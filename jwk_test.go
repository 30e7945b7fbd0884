package ginfresh_test

import (
	"crypto"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// jwksRouter serves h at GET /jwks.
func jwksRouter(h gin.HandlerFunc) http.Handler {
	r := gin.New()
	r.GET("/jwks", h)
	return r
}

func TestJWKSHandler(t *testing.T) {
	rsaKey, ecKey, hmacKey := keyFor(t, ginfresh.RS256), keyFor(t, ginfresh.ES256), keyFor(t, ginfresh.HS256)
	auth, err := ginfresh.New(ginfresh.WithSigningKey(rsaKey), ginfresh.WithVerificationKeys(verifierFor(t, ecKey), hmacKey),
		ginfresh.WithJWKSMaxAge(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	h := jwksRouter(auth.JWKSHandler())

	w := testkit.Serve(h, testkit.Request{Path: "/jwks"})
	testkit.Status(t, w, http.StatusOK)
	for name, want := range map[string]string{"Content-Type": "application/jwk-set+json", "Cache-Control": "public, max-age=600"} {
		if got := w.Header().Get(name); got != want {
			t.Fatalf("%s %q, want %q", name, got, want)
		}
	}
	etag := w.Header().Get("ETag")
	if !regexp.MustCompile(`^"[A-Za-z0-9_-]+"$`).MatchString(etag) {
		t.Fatalf("ETag %q is not a strong quoted tag", etag)
	}

	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 2 {
		t.Fatalf("published %d keys, want 2: the HMAC secret is never published", len(raw.Keys))
	}
	for _, m := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := m[private]; ok {
				t.Fatalf("published key has private member %q", private)
			}
		}
		if m["use"] != "sig" {
			t.Fatalf("use %v, want sig", m["use"])
		}
	}
	var set ginfresh.JWKSet
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	for i, want := range []*ginfresh.Key{rsaKey, ecKey} {
		got := set.Keys[i]
		pub, err := got.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if got.KeyID != want.ID() || got.Algorithm != string(want.Algorithm()) || !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(want.Public()) {
			t.Fatalf("key %d is %+v, want %s bound to %s", i, got, want.ID(), want.Algorithm())
		}
	}

	for _, tt := range []struct {
		ifNoneMatch string
		want        int
	}{
		{etag, http.StatusNotModified},
		{"W/" + etag, http.StatusNotModified},
		{`"other", ` + etag, http.StatusNotModified},
		{`"other",` + etag + ` , "more"`, http.StatusNotModified},
		{"*", http.StatusNotModified},
		{`"other"`, http.StatusOK},
		{strings.Trim(etag, `"`), http.StatusOK}, // unquoted: not the tag
		{"", http.StatusOK},
	} {
		t.Run(tt.ifNoneMatch, func(t *testing.T) {
			w := testkit.Serve(h, testkit.Request{Path: "/jwks", Header: http.Header{"If-None-Match": {tt.ifNoneMatch}}})
			testkit.Status(t, w, tt.want)
			if got := w.Header().Get("ETag"); got != etag {
				t.Fatalf("ETag %q, want %q", got, etag)
			}
			if tt.want == http.StatusNotModified && w.Body.Len() != 0 {
				t.Fatalf("304 with a body: %s", w.Body)
			}
		})
	}

	// The tag names the document: another key set, another tag.
	other, err := ginfresh.New(ginfresh.WithSigningKey(keyFor(t, ginfresh.EdDSA)))
	if err != nil {
		t.Fatal(err)
	}
	if w := testkit.Serve(jwksRouter(other.JWKSHandler()), testkit.Request{Path: "/jwks"}); w.Header().Get("ETag") == etag {
		t.Fatal("two key sets share an ETag")
	}

	// An instance with only a secret publishes an empty set.
	hmacOnly, err := ginfresh.New(ginfresh.WithHMACKey(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if w := testkit.Serve(jwksRouter(hmacOnly.JWKSHandler()), testkit.Request{Path: "/jwks"}); w.Body.String() != `{"keys":[]}` {
		t.Fatalf("got %s, want an empty set", w.Body)
	}
}

// Every asymmetric key survives PublicJWK, JSON and PublicKey unchanged,
// and its default kid is its RFC 7638 thumbprint, whatever path it took.
func TestJWKRoundTrip(t *testing.T) {
	for _, alg := range allAlgorithms {
		if strings.HasPrefix(string(alg), "HS") {
			continue
		}
		t.Run(string(alg), func(t *testing.T) {
			k := keyFor(t, alg)
			j, err := k.PublicJWK()
			if err != nil {
				t.Fatal(err)
			}
			if j.KeyID != k.ID() || j.Algorithm != string(alg) || j.Use != "sig" {
				t.Fatalf("JWK %+v, want kid %s, alg %s, use sig", j, k.ID(), alg)
			}
			var back ginfresh.JWK
			if err := json.Unmarshal(orPanic(json.Marshal(j)), &back); err != nil {
				t.Fatal(err)
			}
			pub, err := back.PublicKey()
			if err != nil {
				t.Fatal(err)
			}
			if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()) {
				t.Fatal("the key came back different")
			}
			if v := orPanic(ginfresh.NewVerificationKey("", alg, pub)); v.ID() != k.ID() {
				t.Fatalf("thumbprint %s after the round trip, %s before", v.ID(), k.ID())
			}
		})
	}
}

// The thumbprint is RFC 7638's: its §3.1 example key has a known one.
func TestJWKThumbprintRFC7638(t *testing.T) {
	j := ginfresh.JWK{KeyType: "RSA", E: "AQAB", N: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
	pub, err := j.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ginfresh.NewVerificationKey("", ginfresh.RS256, pub)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; k.ID() != want {
		t.Fatalf("thumbprint %s, want %s", k.ID(), want)
	}
}

// A JWK comes from the network: anything but a well-formed public key of
// a supported type is refused with ErrInvalidKey, never a panic.
func TestJWKPublicKeyRefused(t *testing.T) {
	enc := base64.RawURLEncoding
	rsaJWK := orPanic(keyFor(t, ginfresh.RS256).PublicJWK())
	ecJWK := orPanic(keyFor(t, ginfresh.ES256).PublicJWK())
	edJWK := orPanic(keyFor(t, ginfresh.EdDSA).PublicJWK())
	p256 := elliptic.P256().Params()
	for _, tt := range []struct {
		name string
		base ginfresh.JWK
		edit func(*ginfresh.JWK)
		want bool // accepted
	}{
		{"RSA", rsaJWK, func(*ginfresh.JWK) {}, true},
		{"EC", ecJWK, func(*ginfresh.JWK) {}, true},
		{"OKP", edJWK, func(*ginfresh.JWK) {}, true},
		{"RSA exponent 3", rsaJWK, func(j *ginfresh.JWK) { j.E = "Aw" }, true},
		{"oct", rsaJWK, func(j *ginfresh.JWK) { *j = ginfresh.JWK{KeyType: "oct"} }, false},
		{"no kty", rsaJWK, func(j *ginfresh.JWK) { j.KeyType = "" }, false},
		{"kty in lower case", rsaJWK, func(j *ginfresh.JWK) { j.KeyType = "rsa" }, false},
		{"RSA without n", rsaJWK, func(j *ginfresh.JWK) { j.N = "" }, false},
		{"RSA without e", rsaJWK, func(j *ginfresh.JWK) { j.E = "" }, false},
		{"RSA n padded", rsaJWK, func(j *ginfresh.JWK) { j.N += "==" }, false},
		{"RSA n in standard base64", rsaJWK, func(j *ginfresh.JWK) { j.N = "+/" + j.N[2:] }, false},
		{"RSA e in another spelling", rsaJWK, func(j *ginfresh.JWK) { j.E = "AQF" }, false},
		{"RSA exponent 1", rsaJWK, func(j *ginfresh.JWK) { j.E = "AQ" }, false},
		{"RSA exponent even", rsaJWK, func(j *ginfresh.JWK) { j.E = enc.EncodeToString(big.NewInt(65536).Bytes()) }, false},
		{"RSA exponent over 2^31", rsaJWK, func(j *ginfresh.JWK) { j.E = enc.EncodeToString(big.NewInt(1<<32 + 1).Bytes()) }, false},
		{"RSA exponent of 9 bytes", rsaJWK, func(j *ginfresh.JWK) { j.E = enc.EncodeToString([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1}) }, false},
		{"EC on P-192", ecJWK, func(j *ginfresh.JWK) { j.Curve = "P-192" }, false},
		{"EC curve in lower case", ecJWK, func(j *ginfresh.JWK) { j.Curve = "p-256" }, false},
		{"EC on P-384 with P-256 coordinates", ecJWK, func(j *ginfresh.JWK) { j.Curve = "P-384" }, false},
		{"EC x short", ecJWK, func(j *ginfresh.JWK) { j.X = enc.EncodeToString(orPanic(enc.DecodeString(j.X))[1:]) }, false},
		{"EC without y", ecJWK, func(j *ginfresh.JWK) { j.Y = "" }, false},
		{"EC point off the curve", ecJWK, func(j *ginfresh.JWK) {
			one := make([]byte, 32)
			one[31] = 1
			j.X, j.Y = enc.EncodeToString(one), enc.EncodeToString(one)
		}, false},
		{"EC coordinate past the field", ecJWK, func(j *ginfresh.JWK) { j.X = enc.EncodeToString(p256.P.Bytes()) }, false},
		{"OKP on X25519", edJWK, func(j *ginfresh.JWK) { j.Curve = "X25519" }, false},
		{"OKP x short", edJWK, func(j *ginfresh.JWK) { j.X = enc.EncodeToString(make([]byte, 31)) }, false},
		{"OKP x long", edJWK, func(j *ginfresh.JWK) { j.X = enc.EncodeToString(make([]byte, 33)) }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := tt.base
			tt.edit(&j)
			var pub crypto.PublicKey
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				pub, err = j.PublicKey()
			}()
			if tt.want && err != nil {
				t.Fatalf("got %v, want a key", err)
			}
			if !tt.want && (pub != nil || !errors.Is(err, ginfresh.ErrInvalidKey)) {
				t.Fatalf("got %T, %v; want ErrInvalidKey", pub, err)
			}
		})
	}
}

// Coordinates are written at the curve's full width, so a P-521 key whose
// x starts with a zero byte (about half of them: 521 bits leave the top
// byte one bit) still reads back.
func TestJWKFixedWidthCoordinates(t *testing.T) {
	for range 64 {
		priv := ecTestKey(t, elliptic.P521())
		raw := orPanic(priv.PublicKey.Bytes()) // 0x04 || x || y, each 66 bytes
		if raw[1] != 0 {
			continue
		}
		k := orPanic(ginfresh.NewVerificationKey("", ginfresh.ES512, priv.Public()))
		j := orPanic(k.PublicJWK())
		x, y := orPanic(base64.RawURLEncoding.DecodeString(j.X)), orPanic(base64.RawURLEncoding.DecodeString(j.Y))
		if len(x) != 66 || len(y) != 66 || x[0] != 0 {
			t.Fatalf("coordinates of %d and %d bytes, want 66 with x's leading zero", len(x), len(y))
		}
		back, err := j.PublicKey()
		if err != nil || !priv.PublicKey.Equal(back) {
			t.Fatalf("got %v, want the key back", err)
		}
		return
	}
	t.Fatal("no P-521 key with a leading zero byte in 64 tries")
}
