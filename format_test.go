package ginfresh_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/formattest"
)

// The conformance suite for the built-in JWT format, with an HMAC secret
// and with an Ed25519 key (and its public half for a resource server).
func TestFormatConformanceJWT(t *testing.T) {
	t.Run("HS256", func(t *testing.T) {
		formattest.Run(t, func(t *testing.T) formattest.Setup {
			secret := make([]byte, 32)
			_, _ = rand.Read(secret)
			return formattest.Setup{Issuer: []ginfresh.Option{ginfresh.WithHMACKey(secret)}}
		})
	})
	t.Run("EdDSA", func(t *testing.T) {
		formattest.Run(t, func(t *testing.T) formattest.Setup {
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			k, err := ginfresh.NewSigningKey("", ginfresh.EdDSA, priv)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := ginfresh.NewVerificationKey("", ginfresh.EdDSA, priv.Public())
			if err != nil {
				t.Fatal(err)
			}
			return formattest.Setup{
				Issuer:   []ginfresh.Option{ginfresh.WithSigningKey(k)},
				Verifier: []ginfresh.Option{ginfresh.WithVerificationKeys(pub)},
			}
		})
	})
}
