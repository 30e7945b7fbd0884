package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// writeKeyFile writes key as a PKCS#8 PEM file, the way openssl genpkey does.
func writeKeyFile(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	return path
}

func TestKeyFileSignsWithEdDSA(t *testing.T) {
	gin.SetMode(gin.TestMode)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	clk := &testClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	r, err := newServer(config{keyFile: writeKeyFile(t, priv), now: clk.now})
	require.NoError(t, err, "no HMAC secret is needed with a key file")

	access, _ := login(t, r, "test", "test")
	rawHeader, err := base64.RawURLEncoding.DecodeString(strings.Split(access, ".")[0])
	require.NoError(t, err)
	var header map[string]string
	require.NoError(t, json.Unmarshal(rawHeader, &header))
	assert.Equal(t, "EdDSA", header["alg"])
	code, _ := call(t, r, "GET", "/protected", access, "")
	assert.Equal(t, 200, code)

	req := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	require.Equal(t, 200, w.Code)
	assert.Equal(t, "application/jwk-set+json", w.Header().Get("Content-Type"))
	assert.Contains(t, w.Header().Get("Cache-Control"), "max-age=")
	var set ginfresh.JWKSet
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &set))
	require.Len(t, set.Keys, 1)
	jwk := set.Keys[0]
	assert.Equal(t, header["kid"], jwk.KeyID)
	assert.Equal(t, string(ginfresh.EdDSA), jwk.Algorithm)
	assert.Equal(t, "sig", jwk.Use)
	assert.Equal(t, "OKP", jwk.KeyType)
	assert.NotContains(t, w.Body.String(), `"d"`, "the private part is never published")

	// Another service verifies the example's tokens with the published key
	// alone.
	pub, err := jwk.PublicKey()
	require.NoError(t, err)
	assert.True(t, priv.Public().(ed25519.PublicKey).Equal(pub))
	key, err := ginfresh.NewVerificationKey(jwk.KeyID, ginfresh.Algorithm(jwk.Algorithm), pub)
	require.NoError(t, err)
	rs, err := ginfresh.New(ginfresh.WithVerificationKeys(key), ginfresh.WithTimeFunc(clk.now))
	require.NoError(t, err)
	resource := gin.New()
	resource.GET("/data", rs.RequireAccess(), func(c *gin.Context) { c.JSON(200, gin.H{"user": ginfresh.MustClaims(c).Subject}) })
	code, body := call(t, resource, "GET", "/data", access, "")
	assert.Equal(t, 200, code)
	assert.Equal(t, "test", body["user"])
}

func TestNoKeyFileNoJWKS(t *testing.T) {
	r, _ := newTestServer(t)
	req := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	assert.Equal(t, http.StatusNotFound, w.Code, "an HMAC secret has nothing to publish")
}

func TestBadKeyFile(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not a key"), 0o600))
	for _, tc := range []struct{ name, path, want string }{
		{"missing file", filepath.Join(t.TempDir(), "nope.pem"), "no such file"},
		{"RSA key", writeKeyFile(t, rsaKey), "needs an Ed25519 key"},
		{"not PEM", garbage, "no PEM block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newServer(config{keyFile: tc.path})
			assert.ErrorContains(t, err, "GINFRESH_KEY_FILE")
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
