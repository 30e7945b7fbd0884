package ginfresh_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

// An Ed25519 key as openssl genpkey -algorithm ed25519 writes it (a fixed
// one, so the output below is stable; never ship a key in source).
const ed25519PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f
-----END PRIVATE KEY-----
`

// An issuer signs with EdDSA and publishes its public key; a resource
// server would fetch that document with WithJWKSURL.
func ExampleAuth_JWKSHandler() {
	key, err := ginfresh.ParsePrivateKeyPEM("2030-01", "EdDSA", []byte(ed25519PEM))
	if err != nil {
		panic(err)
	}
	auth, err := ginfresh.New(ginfresh.WithSigningKey(key), ginfresh.WithAuthenticator(testAuthenticator))
	if err != nil {
		panic(err)
	}
	r := gin.New()
	r.GET("/.well-known/jwks.json", auth.JWKSHandler())

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	fmt.Println(w.Header().Get("Content-Type"))
	fmt.Println(w.Header().Get("Cache-Control"))
	fmt.Println(w.Body.String())
	// Output:
	// application/jwk-set+json
	// public, max-age=900
	// {"keys":[{"kty":"OKP","kid":"2030-01","use":"sig","alg":"EdDSA","crv":"Ed25519","x":"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"}]}
}

// Without an id the kid is the key's RFC 7638 thumbprint, so every service
// loading the same file agrees on it.
func ExampleParsePrivateKeyPEM() {
	key, err := ginfresh.ParsePrivateKeyPEM("", "EdDSA", []byte(ed25519PEM))
	if err != nil {
		panic(err)
	}
	fmt.Println(key.Algorithm(), key.ID(), key.CanSign())
	// Output: EdDSA 1IG2tMH7J2wbJZnOf8LJzQitKf7LMvoAElsuDMVM54Y true
}
