package ginfresh_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// signer produces a signature over a token's signing input.
type signer func(t *testing.T, input []byte) []byte

func hmacWith(secret []byte) signer {
	return func(_ *testing.T, input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

func pkcs1v15(k *rsa.PrivateKey) signer {
	return func(t *testing.T, input []byte) []byte {
		sum := sha256.Sum256(input)
		sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
		require.NoError(t, err)
		return sig
	}
}

func pss(k *rsa.PrivateKey) signer {
	return func(t *testing.T, input []byte) []byte {
		sum := sha256.Sum256(input)
		sig, err := rsa.SignPSS(rand.Reader, k, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		require.NoError(t, err)
		return sig
	}
}

func unsigned(*testing.T, []byte) []byte { return nil }

// craft builds a token from a header object, with claims that would pass
// every check if the signature were accepted.
func craft(t *testing.T, f *fixture, header map[string]any, sign signer) string {
	t.Helper()
	now := f.clock.Now().Unix()
	h, err := json.Marshal(header)
	require.NoError(t, err)
	p, err := json.Marshal(map[string]any{"sub": "mallory", "iat": now, "nbf": now, "exp": now + 300, "jti": "forged", "fresh": true, "auth_time": now})
	require.NoError(t, err)
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	return input + "." + enc.EncodeToString(sign(t, []byte(input)))
}

// hitCounter is an attacker's server: it counts every request and serves
// its own key set, should anything ever ask.
func hitCounter(t *testing.T, key *ginfresh.Key) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	j, err := key.PublicJWK()
	require.NoError(t, err)
	body, err := json.Marshal(ginfresh.JWKSet{Keys: []ginfresh.JWK{j}})
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestAttacks(t *testing.T) {
	victim, attacker := testRSAKey(t, 0), testRSAKey(t, 1)
	rsKey, err := ginfresh.NewSigningKey("", "RS256", victim)
	require.NoError(t, err)
	psKey, err := ginfresh.NewSigningKey("rsa-pss", "PS256", victim)
	require.NoError(t, err)
	attackerKey, err := ginfresh.NewSigningKey("attacker", "RS256", attacker)
	require.NoError(t, err)

	// A resource server with the public key, one with the PS256 binding of
	// the same RSA key, and one fed by the issuer's published key set.
	rs := newKeyFixture(t, ginfresh.WithVerificationKeys(verifier(t, rsKey)))
	ps := newKeyFixture(t, ginfresh.WithVerificationKeys(verifier(t, psKey)), ginfresh.WithTimeFunc(rs.clock.Now))
	issuerSet := newKeyServer(t, rsKey)
	remote := resourceServer(t, rs.clock, issuerSet.URL)

	evil, evilHits := hitCounter(t, attackerKey)
	pubDER := must(x509.MarshalPKIXPublicKey(&victim.PublicKey))
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&victim.PublicKey)})
	attackerJWK := must(attackerKey.PublicJWK())
	kid := rsKey.ID()
	hdr := func(alg string, kv ...any) map[string]any {
		h := map[string]any{"alg": alg, "typ": "at+jwt"}
		for i := 0; i < len(kv); i += 2 {
			h[kv[i].(string)] = kv[i+1]
		}
		return h
	}

	// The victim's key really signs a well-formed token: the servers accept
	// it, so each refusal below is for the reason the row names.
	for _, f := range []*fixture{rs, remote} {
		genuine := craft(t, f, hdr("RS256", "kid", kid), pkcs1v15(victim))
		require.Equal(t, http.StatusOK, f.do(request{path: "/protected", token: genuine}).Code)
	}
	require.Equal(t, http.StatusOK, ps.do(request{path: "/protected", token: craft(t, ps, hdr("PS256", "kid", "rsa-pss"), pss(victim))}).Code)

	for _, tc := range []struct {
		name   string
		target *fixture
		header map[string]any
		sign   signer
	}{
		{"HS256 keyed with the PEM public key", rs, hdr("HS256", "kid", kid), hmacWith(pubPEM)},
		{"HS256 keyed with the PKCS#1 PEM public key", rs, hdr("HS256", "kid", kid), hmacWith(pkcs1PEM)},
		{"HS256 keyed with the DER public key", rs, hdr("HS256", "kid", kid), hmacWith(pubDER)},
		{"HS256 keyed with the PEM public key, no kid", rs, hdr("HS256"), hmacWith(pubPEM)},
		{"HS256 keyed with the JWK modulus", remote, hdr("HS256", "kid", kid), hmacWith([]byte(must(rsKey.PublicJWK()).N))},
		{"HS256 keyed with the PEM public key, remote set", remote, hdr("HS256", "kid", kid), hmacWith(pubPEM)},
		{"key from another set, its own kid", rs, hdr("RS256", "kid", "attacker"), pkcs1v15(attacker)},
		{"key from another set, the victim's kid", rs, hdr("RS256", "kid", kid), pkcs1v15(attacker)},
		{"key from another set, no kid", rs, hdr("RS256"), pkcs1v15(attacker)},
		{"key from another set, remote set", remote, hdr("RS256", "kid", kid), pkcs1v15(attacker)},
		{"kid naming no key", rs, hdr("RS256", "kid", "key-that-does-not-exist"), pkcs1v15(victim)},
		{"kid with path traversal", rs, hdr("RS256", "kid", "../../etc/passwd"), pkcs1v15(victim)},
		{"kid with path traversal, remote set", remote, hdr("RS256", "kid", "../../../dev/null"), pkcs1v15(victim)},
		{"kid with SQL", rs, hdr("RS256", "kid", "x' UNION SELECT 'secret' --"), pkcs1v15(victim)},
		{"kid with SQL, remote set", remote, hdr("RS256", "kid", "' OR '1'='1"), pkcs1v15(victim)},
		{"empty kid", rs, hdr("RS256", "kid", ""), pkcs1v15(victim)},
		{"kid not a string", rs, hdr("RS256", "kid", 1), pkcs1v15(victim)},
		{"RS256 key, PS256 token", rs, hdr("PS256", "kid", kid), pss(victim)},
		{"RS256 key, RS256 header over a PSS signature", rs, hdr("RS256", "kid", kid), pss(victim)},
		{"PS256 key, RS256 token", ps, hdr("RS256", "kid", "rsa-pss"), pkcs1v15(victim)},
		{"PS256 key, PS256 header over a PKCS#1 v1.5 signature", ps, hdr("PS256", "kid", "rsa-pss"), pkcs1v15(victim)},
		{"alg none", rs, hdr("none", "kid", kid), unsigned},
		{"alg None, no kid", rs, hdr("None"), unsigned},
		{"alg none, remote set", remote, hdr("none", "kid", kid), unsigned},
		{"no alg", rs, map[string]any{"kid": kid, "typ": "at+jwt"}, pkcs1v15(victim)},
		{"jku to the attacker's set", rs, hdr("RS256", "kid", "attacker", "jku", evil.URL), pkcs1v15(attacker)},
		{"jku to the attacker's set, remote set", remote, hdr("RS256", "kid", "attacker", "jku", evil.URL), pkcs1v15(attacker)},
		{"jku with the victim's kid", remote, hdr("RS256", "kid", kid, "jku", evil.URL), pkcs1v15(attacker)},
		{"x5u to the attacker", rs, hdr("RS256", "kid", "attacker", "x5u", evil.URL+"/cert.pem"), pkcs1v15(attacker)},
		{"x5u to the attacker, remote set", remote, hdr("RS256", "kid", kid, "x5u", evil.URL+"/cert.pem"), pkcs1v15(attacker)},
		{"embedded jwk", rs, hdr("RS256", "kid", kid, "jwk", attackerJWK), pkcs1v15(attacker)},
		{"embedded jwk, no kid", rs, hdr("RS256", "jwk", attackerJWK), pkcs1v15(attacker)},
		{"embedded jwk, remote set", remote, hdr("RS256", "kid", "attacker", "jwk", attackerJWK), pkcs1v15(attacker)},
		{"crit header", rs, hdr("RS256", "kid", kid, "crit", []string{"exp"}, "exp", 1), pkcs1v15(victim)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := craft(t, tc.target, tc.header, tc.sign)
			for _, path := range []string{"/protected", "/sensitive"} {
				w := tc.target.do(request{method: map[string]string{"/protected": http.MethodGet, "/sensitive": http.MethodPost}[path], path: path, token: token})
				assert.Equal(t, http.StatusUnauthorized, w.Code, "%s: %s", path, w.Body.String())
				assert.Equal(t, "invalid_token", errorCode(t, w), path)
			}
			_, err := tc.target.auth.Verify(context.Background(), ginfresh.AccessToken, token)
			assert.ErrorIs(t, err, ginfresh.ErrTokenInvalid)
		})
	}
	assert.Equal(t, int32(0), evilHits.Load(), "jku, x5u and jwk are never followed")
	assert.Equal(t, int32(1), issuerSet.hits.Load(), "attack kids fetch the configured set no more than the rate limit allows")
}
