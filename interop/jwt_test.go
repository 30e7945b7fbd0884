package interop_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ginfresh/ginfresh"
)

// A jwtSetup is one way a JWT verifier holds ginfresh's key.
type jwtSetup struct {
	alg     string
	is      *issuer
	keyArgs []string // the verifier's arguments naming the key
}

// jwtSetups are an HS256 issuer, whose verifiers get the secret, and an
// EdDSA one, whose verifiers fetch its JWK Set from the live server.
func jwtSetups(t *testing.T) []jwtSetup {
	secret, otherSecret := make([]byte, 32), make([]byte, 32)
	rand.Read(secret)
	rand.Read(otherSecret)
	hs := newIssuer(t, ginfresh.WithHMACKey(secret), ginfresh.WithHMACKey(otherSecret))

	// Both Ed25519 keys have the kid "interop", so that the verifier finds
	// the published key for the other's tokens and checks the signature.
	edKey := func() ginfresh.Option {
		_, private, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ginfresh.NewSigningKey("interop", ginfresh.EdDSA, private)
		if err != nil {
			t.Fatal(err)
		}
		return ginfresh.WithSigningKey(k)
	}
	ed := newIssuer(t, edKey(), edKey())

	return []jwtSetup{
		{"HS256", hs, []string{"--secret-hex", hex.EncodeToString(secret)}},
		{"EdDSA", ed, []string{"--jwks-url", ed.url + jwksPath}},
	}
}

// TestPyJWT has Debian's PyJWT verify access tokens with zero leeway; PyJWT
// 2.6 refused ginfresh's tokens when their iat had a fraction of a second
// (ImmatureSignatureError). It cannot tell an access token from a refresh
// token: it has no check of the typ header.
func TestPyJWT(t *testing.T) {
	python := python(t)
	for _, s := range jwtSetups(t) {
		t.Run(s.alg, func(t *testing.T) {
			v := verifier{"PyJWT", append([]string{python, "python/pyjwt_verify.py",
				"--alg", s.alg, "--issuer", issuerName, "--audience", audience}, s.keyArgs...)}
			conform(t, v, s.is, jwtClaims, []refusal{
				{"Tampered", tamperedJWT, "InvalidSignatureError"},
				{"WrongKey", (*issuer).wrongKey, "InvalidSignatureError"},
				{"Expired", (*issuer).expired, "ExpiredSignatureError"},
			})
		})
	}
}

// TestJose has jose verify access tokens with no clock tolerance and a
// maxTokenAge, which refused ginfresh's tokens when their iat had a
// fraction of a second ("iat" claim timestamp check failed), and typ
// at+jwt, which refuses refresh tokens.
func TestJose(t *testing.T) {
	node := node(t)
	for _, s := range jwtSetups(t) {
		t.Run(s.alg, func(t *testing.T) {
			v := verifier{"jose", append([]string{node, "js/jose_verify.mjs",
				"--alg", s.alg, "--issuer", issuerName, "--audience", audience, "--subject", subject}, s.keyArgs...)}
			conform(t, v, s.is, jwtClaims, []refusal{
				{"Tampered", tamperedJWT, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"},
				{"WrongKey", (*issuer).wrongKey, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"},
				{"Expired", (*issuer).expired, `ERR_JWT_EXPIRED: "exp" claim timestamp check failed`},
				{"RefreshToken", (*issuer).refresh, `ERR_JWT_CLAIM_VALIDATION_FAILED: unexpected "typ" JWT header value`},
			})
		})
	}
}

// tamperedJWT is an access token whose payload names mallory instead of
// alice, under alice's signature.
func tamperedJWT(is *issuer, t *testing.T) string {
	parts := strings.Split(is.access(t), ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(payload, []byte(`"sub":"alice"`), []byte(`"sub":"mallory"`), 1)
	if bytes.Equal(edited, payload) {
		t.Fatalf("no sub alice in %s", payload)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(edited)
	return strings.Join(parts, ".")
}

// jwtClaims reads the claims a JWT verifier printed. Dates must be
// NumericDates in whole seconds.
func jwtClaims(t *testing.T, out []byte) verified {
	t.Helper()
	var c struct {
		Sub, Jti, Sid, Role string
		Exp, Iat, Nbf       json.Number
	}
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	seconds := func(name string, n json.Number) int64 {
		s, err := n.Int64()
		if err != nil {
			t.Errorf("%s is %q, not a NumericDate in whole seconds", name, n)
		}
		return s
	}
	return verified{
		sub: c.Sub, jti: c.Jti, sid: c.Sid, role: c.Role,
		exp: seconds("exp", c.Exp), iat: seconds("iat", c.Iat), nbf: seconds("nbf", c.Nbf),
	}
}
