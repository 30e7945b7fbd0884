package paseto_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lib "aidanwoods.dev/go-paseto"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/formattest"
	"github.com/ginfresh/ginfresh/paseto"
)

// The k4.pid vectors of the PASERK specification's test suite.
func TestPublicKeyIDIsPASERK(t *testing.T) {
	tests := []struct{ key, want string }{
		{"0000000000000000000000000000000000000000000000000000000000000000", "k4.pid.S_XQmeEwHbbvRmiyfXfHYpLGjXGzjTRSDoT1YtTakWFE"},
		{"707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f", "k4.pid.9ShR3xc8-qVJ_di0tc9nx0IDIqbatdeM2mqLFBJsKRHs"},
		{"707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e90", "k4.pid.-nyvbaTz8U6TQz7OZWW-iB3va31iAxIpUgzUcVQVmW9A"},
	}
	for _, tt := range tests {
		k, err := paseto.PublicKeyFromHex("", tt.key)
		require.NoError(t, err)
		assert.Equal(t, tt.want, k.ID())
	}
	_, err := paseto.PublicKeyFromHex("", "707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e")
	assert.Error(t, err, "a short key has no id")
}

type vector struct {
	Name       string  `json:"name"`
	ExpectFail bool    `json:"expect-fail"`
	Key        string  `json:"key"`
	PublicKey  string  `json:"public-key"`
	SecretKey  string  `json:"secret-key"`
	Token      string  `json:"token"`
	Payload    *string `json:"payload"`
	Footer     string  `json:"footer"`
	Implicit   string  `json:"implicit-assertion"`
}

// v4Vectors reads the specification's v4 test vectors, which the PASETO
// library ships in its module.
func v4Vectors(t *testing.T) []vector {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "aidanwoods.dev/go-paseto").Output()
	require.NoError(t, err, "locating the PASETO library's module")
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "test-vectors", "v4.json"))
	require.NoError(t, err)
	var file struct{ Tests []vector }
	require.NoError(t, json.Unmarshal(data, &file))
	require.NotEmpty(t, file.Tests)
	return file.Tests
}

// TestV4Vectors checks the v4 cryptography this module relies on against
// the specification: the library opens every valid vector to its payload
// and footer and refuses every invalid one; signing is deterministic, so
// both the library and an independent PAE signer reproduce the v4.public
// tokens exactly. ginfresh's format finds the key a vector's footer names
// and refuses the vector only because its implicit assertion is not one of
// ginfresh's.
func TestV4Vectors(t *testing.T) {
	parser := lib.NewParserWithoutExpiryCheck()
	var public, local int
	for _, v := range v4Vectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			var tok *lib.Token
			var err error
			isPublic := v.PublicKey != "" && strings.HasPrefix(v.Token, "v4.public.")
			if v.Key != "" {
				key, kerr := lib.V4SymmetricKeyFromHex(v.Key)
				require.NoError(t, kerr)
				tok, err = parser.ParseV4Local(key, v.Token, []byte(v.Implicit))
			} else {
				key, kerr := lib.NewV4AsymmetricPublicKeyFromHex(v.PublicKey)
				require.NoError(t, kerr)
				tok, err = parser.ParseV4Public(key, v.Token, []byte(v.Implicit))
			}
			if v.ExpectFail {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, v.Payload)
			assert.JSONEq(t, *v.Payload, string(tok.ClaimsJSON()))
			assert.Equal(t, v.Footer, string(tok.Footer()))
			if !isPublic {
				local++
				return
			}
			public++
			sk, err := hex.DecodeString(v.SecretKey)
			require.NoError(t, err)
			assert.Equal(t, v.Token, signPAE(ed25519.PrivateKey(sk), []byte(*v.Payload), []byte(v.Footer), []byte(v.Implicit)))
			libKey, err := lib.NewV4AsymmetricSecretKeyFromHex(v.SecretKey)
			require.NoError(t, err)
			assert.Equal(t, v.Token, tok.V4Sign(libKey, []byte(v.Implicit)), "the payload is already in the library's key order")

			if v.Footer != "" {
				var f struct{ Kid string }
				require.NoError(t, json.Unmarshal([]byte(v.Footer), &f))
				pk, err := paseto.PublicKeyFromHex(f.Kid, v.PublicKey)
				require.NoError(t, err)
				format, err := paseto.NewPublicVerifier(pk)
				require.NoError(t, err)
				_, err = format.Verify(ginfresh.AccessToken, v.Token)
				assert.ErrorIs(t, err, paseto.ErrAuthentication)
			}
		})
	}
	assert.Positive(t, public)
	assert.Positive(t, local)
}

// vectorKey is the secret key of the specification's 4-S vectors.
const vectorKey = "b4cbfb43df4ce210727d953e4a713307fa19bb7d9f85041438d9e11b942a37741eb9dbbbbc047c03fd70604e0071f0987e16b28b757225c11f00415d0e20b1a2"

// goldenAccess is what NewPublic makes of goldenClaims with vectorKey:
// signing is deterministic, so any change to the payload, footer or
// implicit assertion shows here.
const goldenAccess = "v4.public.eyJhdWQiOiJhcGkiLCJhdXRoX3RpbWUiOjE4OTM1NTM0NDUsImV4cCI6IjIwMzAtMDEtMDJUMDM6MTk6MDVaIiwiZnJlc2giOnRydWUsImlhdCI6IjIwMzAtMDEtMDJUMDM6MDQ6MDUuNjc4WiIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJqdGkiOiJqdGktMSIsIm5iZiI6IjIwMzAtMDEtMDJUMDM6MDQ6MDVaIiwicm9sZSI6ImFkbWluIiwic3ViIjoiYWxpY2UifTRYUU4DWjKLsPGUWbmvZK-s5mIYR1qSmN8Hfk0lDFPIXj4Z1Gq1TrfTca0k5yaXJzh0WZgwqCVUJGcn62dlkAY.eyJraWQiOiJrNC5waWQueWg0LWJKWWpPWUFHNkNXeTB6c2ZQbXBLeWx4Uzd1QVdyeHFWbUJOMktBaUoifQ"

func goldenClaims(now time.Time) *ginfresh.Claims {
	c := &ginfresh.Claims{Fresh: true, Extra: map[string]any{"role": "admin"}}
	c.Subject, c.Issuer, c.Audience, c.ID = "alice", "https://issuer.example", jwt.ClaimStrings{"api"}, "jti-1"
	c.IssuedAt = &jwt.NumericDate{Time: now}
	c.NotBefore = &jwt.NumericDate{Time: now}
	c.ExpiresAt = &jwt.NumericDate{Time: now.Add(15 * time.Minute)}
	c.AuthTime = &jwt.NumericDate{Time: now}
	return c
}

func TestGoldenToken(t *testing.T) {
	sk, err := paseto.SecretKeyFromHex("", vectorKey)
	require.NoError(t, err)
	f, err := paseto.NewPublic(sk)
	require.NoError(t, err)
	now := formattest.NewClock().Now()
	tok, err := f.Issue(ginfresh.AccessToken, goldenClaims(now))
	require.NoError(t, err)
	assert.Equal(t, goldenAccess, tok)
	c, err := f.Verify(ginfresh.AccessToken, goldenAccess)
	require.NoError(t, err)
	assert.True(t, c.IssuedAt.Time.Equal(now))
	assert.Equal(t, "alice", c.Subject)
}

// TestInterop round-trips tokens between this format and the library's own
// token API: what ginfresh issues is a plain PASETO any v4 implementation
// reads (given the implicit assertion), and a token built elsewhere with the
// same claims, footer and assertion passes ginfresh.
func TestInterop(t *testing.T) {
	sk, err := paseto.SecretKeyFromHex("", vectorKey)
	require.NoError(t, err)
	libSecret, err := lib.NewV4AsymmetricSecretKeyFromHex(vectorKey)
	require.NoError(t, err)
	f, err := paseto.NewPublic(sk)
	require.NoError(t, err)
	clk := formattest.NewClock()
	now := clk.Now()
	srv := formattest.NewServer(t, clk, false, ginfresh.WithFormat(f), ginfresh.WithIssuer("https://issuer.example"), ginfresh.WithAudience("api"))

	tok, err := f.Issue(ginfresh.AccessToken, goldenClaims(now))
	require.NoError(t, err)
	parsed, err := lib.MakeParser([]lib.Rule{lib.ValidAt(now), lib.IssuedBy("https://issuer.example"), lib.ForAudience("api"), lib.Subject("alice")}).
		ParseV4Public(libSecret.Public(), tok, access)
	require.NoError(t, err)
	iat, err := parsed.GetIssuedAt()
	require.NoError(t, err)
	assert.True(t, iat.Equal(now), "iat keeps milliseconds: %v", iat)
	exp, err := parsed.GetExpiration()
	require.NoError(t, err)
	assert.True(t, exp.Equal(now.Add(15*time.Minute).Truncate(time.Second)))
	_, err = lib.NewParserWithoutExpiryCheck().ParseV4Public(libSecret.Public(), tok, refresh)
	assert.Error(t, err, "the type is bound by the implicit assertion")

	built := lib.NewToken()
	built.SetSubject("bob")
	built.SetIssuer("https://issuer.example")
	built.SetAudience("api")
	built.SetJti("elsewhere-1")
	built.SetIssuedAt(now)
	built.SetNotBefore(now)
	built.SetExpiration(now.Add(time.Minute))
	require.NoError(t, built.Set("fresh", true))
	built.SetFooter([]byte(`{"kid":"` + sk.ID() + `"}`))
	other := built.V4Sign(libSecret, access)
	c, err := srv.Auth.Verify(context.Background(), ginfresh.AccessToken, other)
	require.NoError(t, err)
	assert.Equal(t, "bob", c.Subject)
	assert.True(t, c.Fresh)
	assert.True(t, c.ExpiresAt.Time.Equal(now.Add(time.Minute).Truncate(time.Second)))
}
