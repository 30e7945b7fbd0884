package paseto_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lib "aidanwoods.dev/go-paseto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
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
				_, err = format.Verify(ginfresh.Access, v.Token)
				assert.ErrorIs(t, err, paseto.ErrAuthentication)
			}
		})
	}
	assert.Positive(t, public)
	assert.Positive(t, local)
}

// vectorKey is the secret key of the specification's 4-S vectors.
const vectorKey = "b4cbfb43df4ce210727d953e4a713307fa19bb7d9f85041438d9e11b942a37741eb9dbbbbc047c03fd70604e0071f0987e16b28b757225c11f00415d0e20b1a2"

// goldenAccess is what NewPublic makes of goldenPayload with vectorKey:
// signing is deterministic, so any change to the payload, footer or
// implicit assertion shows here.
const goldenAccess = "v4.public.eyJhY3IiOiJtZmEiLCJhbXIiOlsicHdkIiwib3RwIl0sImF1ZCI6ImFwaSIsImF1dGhfdGltZSI6MTg5MzU0OTg0NSwiZXhwIjoiMjAzMC0wMS0wMlQwMzoxOTowNVoiLCJmcmVzaCI6dHJ1ZSwiaWF0IjoiMjAzMC0wMS0wMlQwMzowNDowNVoiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwianRpIjoianRpLTEiLCJuYmYiOiIyMDMwLTAxLTAyVDAzOjA0OjA1WiIsInNpZCI6InNpZC0xIiwic3ViIjoiYWxpY2UifVdpWioEJNd32rmzLvDe-viLkiduxnWHD-BXxPtY6xcJPt8HyYqKp0_oUGpMwoMZPYEyuTD4hsdyd0X58rUgygM.eyJraWQiOiJrNC5waWQueWg0LWJKWWpPWUFHNkNXeTB6c2ZQbXBLeWx4Uzd1QVdyeHFWbUJOMktBaUoifQ"

// goldenPayload is an access token's payload as ginfresh renders it at
// testkit's clock: dates in whole seconds, nbf equal to iat.
func goldenPayload(t *testing.T, now time.Time) []byte {
	t.Helper()
	now = now.Truncate(time.Second)
	c := &ginfresh.Claims{
		Subject: "alice", Issuer: "https://issuer.example", Audience: []string{"api"}, ID: "jti-1",
		IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(15 * time.Minute), AuthTime: now.Add(-time.Hour),
		SessionID: "sid-1", Fresh: true, ACR: "mfa", AMR: []string{"pwd", "otp"},
	}
	b, err := c.MarshalJSON()
	require.NoError(t, err)
	return b
}

func TestGoldenToken(t *testing.T) {
	sk, err := paseto.SecretKeyFromHex("", vectorKey)
	require.NoError(t, err)
	f, err := paseto.NewPublic(sk)
	require.NoError(t, err)
	now := testkit.NewClock().Now()
	payload := goldenPayload(t, now)
	tok, err := f.Issue(ginfresh.Access, payload)
	require.NoError(t, err)
	assert.Equal(t, goldenAccess, tok)

	signed, err := b64.DecodeString(strings.Split(strings.TrimPrefix(goldenAccess, "v4.public."), ".")[0])
	require.NoError(t, err)
	signed = signed[:len(signed)-ed25519.SignatureSize]
	private, err := hex.DecodeString(vectorKey)
	require.NoError(t, err)
	assert.Equal(t, goldenAccess, signPAE(private, signed, []byte(footer(sk.ID())), access), "an independent signer agrees")
	assert.Contains(t, string(signed), `"iat":"2030-01-02T03:04:05Z"`)
	assert.Contains(t, string(signed), `"nbf":"2030-01-02T03:04:05Z"`, "nbf equals iat")
	assert.Contains(t, string(signed), `"aud":"api"`, "a single audience is a string")
	assert.Contains(t, string(signed), `"auth_time":1893549845`, "auth_time stays a NumericDate")

	got, err := f.Verify(ginfresh.Access, goldenAccess)
	require.NoError(t, err)
	var want, back ginfresh.Claims
	require.NoError(t, want.UnmarshalJSON(payload))
	require.NoError(t, back.UnmarshalJSON(got))
	wantJSON, _ := want.MarshalJSON()
	backJSON, _ := back.MarshalJSON()
	assert.Equal(t, string(wantJSON), string(backJSON), "Verify hands back what Issue was given")
	assert.True(t, back.IssuedAt.Equal(now.Truncate(time.Second)) && back.NotBefore.Equal(back.IssuedAt))
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
	clk := testkit.NewClock()
	now := clk.Now()
	srv := testkit.NewServer(t, clk, false, ginfresh.WithFormat(f), ginfresh.WithIssuer("https://issuer.example"), ginfresh.WithAudience("api"))

	// A login's tokens, read by the library the moment they are issued.
	login := srv.Login(t, "alice")
	for _, tt := range []struct {
		token    string
		implicit []byte
	}{{login.AccessToken, access}, {login.RefreshToken, refresh}} {
		parsed, err := lib.MakeParser([]lib.Rule{lib.ValidAt(now), lib.IssuedBy("https://issuer.example"), lib.ForAudience("api"), lib.Subject("alice")}).
			ParseV4Public(libSecret.Public(), tt.token, tt.implicit)
		require.NoError(t, err)
		iat, err := parsed.GetIssuedAt()
		require.NoError(t, err)
		nbf, err := parsed.GetNotBefore()
		require.NoError(t, err)
		assert.True(t, iat.Equal(now.Truncate(time.Second)), "iat is the whole second: %v", iat)
		assert.True(t, nbf.Equal(iat), "nbf %v equals iat %v, never earlier", nbf, iat)
		exp, err := parsed.GetExpiration()
		require.NoError(t, err)
		assert.True(t, exp.After(now))
	}
	_, err = lib.NewParserWithoutExpiryCheck().ParseV4Public(libSecret.Public(), login.AccessToken, refresh)
	assert.Error(t, err, "the kind is bound by the implicit assertion")

	built := lib.NewToken()
	built.SetSubject("bob")
	built.SetIssuer("https://issuer.example")
	built.SetAudience("api")
	built.SetJti("elsewhere-1")
	built.SetString("sid", "sid-elsewhere")
	built.SetIssuedAt(now)
	built.SetNotBefore(now)
	built.SetExpiration(now.Add(time.Minute))
	require.NoError(t, built.Set("fresh", true))
	require.NoError(t, built.Set("amr", []string{"pwd"}))
	built.SetFooter([]byte(`{"kid":"` + sk.ID() + `"}`))
	other := built.V4Sign(libSecret, access)
	c, err := srv.Auth.Verify(context.Background(), ginfresh.Access, other)
	require.NoError(t, err)
	assert.Equal(t, "bob", c.Subject)
	assert.Equal(t, []string{"pwd"}, c.AMR)
	assert.True(t, c.Fresh)
	assert.True(t, c.ExpiresAt.Equal(now.Add(time.Minute).Truncate(time.Second)))
	testkit.Status(t, srv.Get(testkit.Protected, other), http.StatusOK)
}
