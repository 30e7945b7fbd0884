package ginfresh_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/formattest"
)

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
			_, private, err := ed25519.GenerateKey(nil)
			require.NoError(t, err)
			signer, err := ginfresh.NewSigningKey("", "EdDSA", private)
			require.NoError(t, err)
			public, err := ginfresh.NewVerificationKey("", "EdDSA", private.Public())
			require.NoError(t, err)
			return formattest.Setup{
				Issuer:   []ginfresh.Option{ginfresh.WithSigningKey(signer)},
				Verifier: []ginfresh.Option{ginfresh.WithVerificationKeys(public)},
			}
		})
	})
}

// stubFormat stands for a format from another module.
type stubFormat struct {
	ginfresh.Format
	canIssue bool
}

func (f stubFormat) CanIssue() bool { return f.canIssue }

func TestWithFormat(t *testing.T) {
	tests := []struct {
		name    string
		opts    []ginfresh.Option
		wantErr string
	}{
		{"format with authenticator", []ginfresh.Option{ginfresh.WithFormat(stubFormat{canIssue: true}), ginfresh.WithAuthenticator(testAuthenticator)}, ""},
		{"issuing format needs an authenticator", []ginfresh.Option{ginfresh.WithFormat(stubFormat{canIssue: true})}, "authenticator is required"},
		{"verify-only format needs none", []ginfresh.Option{ginfresh.WithFormat(stubFormat{canIssue: false})}, ""},
		{"format and HMAC key", []ginfresh.Option{ginfresh.WithFormat(stubFormat{canIssue: true}), ginfresh.WithHMACKey(testKey), ginfresh.WithAuthenticator(testAuthenticator)}, "WithFormat holds its own keys"},
		{"nil format", []ginfresh.Option{ginfresh.WithFormat(nil)}, "WithFormat: nil format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ginfresh.New(tt.opts...)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}
