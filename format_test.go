package ginfresh_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"testing"
	"time"

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
		{"format and JWT-only options", []ginfresh.Option{ginfresh.WithFormat(stubFormat{canIssue: true}), ginfresh.WithAuthenticator(testAuthenticator),
			ginfresh.WithAlgorithm("HS512"), ginfresh.WithJWKSURL("https://issuer.example/jwks.json"), ginfresh.WithJWKSMaxAge(time.Minute)},
			"drop WithAlgorithm, WithJWKSURL, WithJWKSMaxAge"},
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

// lax is a format from elsewhere that forgets to wrap ErrTokenInvalid, or
// returns no claims at all.
type lax struct{ err error }

func (lax) Issue(ginfresh.TokenType, *ginfresh.Claims) (string, error) { return "t", nil }
func (f lax) Verify(ginfresh.TokenType, string) (*ginfresh.Claims, error) {
	return nil, f.err
}

func TestFormatErrorsAreInvalidTokens(t *testing.T) {
	for _, f := range []lax{{errors.New("boom")}, {nil}} {
		auth, err := ginfresh.New(ginfresh.WithFormat(f), ginfresh.WithAuthenticator(testAuthenticator))
		require.NoError(t, err)
		r := testRouter(auth)
		for _, req := range []request{
			{path: "/protected", token: "t"},
			{method: http.MethodPost, path: "/auth/refresh", token: "t"},
			{method: http.MethodPost, path: "/auth/logout", token: "t"},
		} {
			w := serve(r, req)
			assert.Equal(t, http.StatusUnauthorized, w.Code, "%s %v", req.path, f.err)
			assert.Equal(t, "invalid_token", errorCode(t, w))
		}
		_, err = auth.Verify(context.Background(), ginfresh.AccessToken, "t")
		assert.ErrorIs(t, err, ginfresh.ErrTokenInvalid)
		if f.err != nil {
			assert.ErrorIs(t, err, f.err, "the cause is kept")
		}
	}
}
