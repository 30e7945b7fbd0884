package paseto_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
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

var b64 = base64.RawURLEncoding

// purpose is one PASETO purpose under attack: a format, its server, and a
// way to seal arbitrary payloads with the very same key (what a holder of
// the key could mint), so the payload checks can be reached.
type purpose struct {
	name   string
	format *paseto.Format
	kid    string
	seal   func(payload, footer string, implicit []byte) string
	// other is a key of the other purpose, for wrong-purpose tokens.
	other func(payload, footer string, implicit []byte) string
	// legacy seals with the same key material as v2 (and a v3 key).
	legacy func(payload, footer string) (v2, v3 string)
	// raw signs a payload byte for byte (v4.public only; the library's
	// token type re-encodes payloads, dropping duplicates).
	raw func(payload string) string
}

func purposes(t *testing.T) []purpose {
	t.Helper()
	_, private, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	sk, err := paseto.NewSecretKey("", private)
	require.NoError(t, err)
	public, err := paseto.NewPublic(sk)
	require.NoError(t, err)
	libSecret, err := lib.NewV4AsymmetricSecretKeyFromEd25519(private)
	require.NoError(t, err)

	secret := make([]byte, 32)
	copy(secret, "0123456789abcdef0123456789abcdef")
	lk, err := paseto.NewLocalKey("", secret)
	require.NoError(t, err)
	local, err := paseto.NewLocal(lk)
	require.NoError(t, err)
	libLocal, err := lib.V4SymmetricKeyFromBytes(secret)
	require.NoError(t, err)

	sign := func(payload, footer string, implicit []byte) string {
		tok, err := lib.NewTokenFromClaimsJSON([]byte(payload), []byte(footer))
		require.NoError(t, err)
		return tok.V4Sign(libSecret, implicit)
	}
	encrypt := func(payload, footer string, implicit []byte) string {
		tok, err := lib.NewTokenFromClaimsJSON([]byte(payload), []byte(footer))
		require.NoError(t, err)
		return tok.V4Encrypt(libLocal, implicit)
	}
	legacyPublic := func(payload, footer string) (string, string) {
		k2, err := lib.NewV2AsymmetricSecretKeyFromEd25519(private)
		require.NoError(t, err)
		tok, err := lib.NewTokenFromClaimsJSON([]byte(payload), []byte(footer))
		require.NoError(t, err)
		return tok.V2Sign(k2), tok.V3Sign(lib.NewV3AsymmetricSecretKey(), access)
	}
	legacyLocal := func(payload, footer string) (string, string) {
		k2, err := lib.V2SymmetricKeyFromBytes(secret)
		require.NoError(t, err)
		k3, err := lib.V3SymmetricKeyFromBytes(secret)
		require.NoError(t, err)
		tok, err := lib.NewTokenFromClaimsJSON([]byte(payload), []byte(footer))
		require.NoError(t, err)
		return tok.V2Encrypt(k2), tok.V3Encrypt(k3, access)
	}
	raw := func(payload string) string {
		return signPAE(private, []byte(payload), []byte(footer(sk.ID())), access)
	}
	return []purpose{
		{"v4.public", public, sk.ID(), sign, encrypt, legacyPublic, raw},
		{"v4.local", local, lk.ID(), encrypt, sign, legacyLocal, nil},
	}
}

// signPAE signs a v4.public token as the specification describes it:
// Ed25519 over PAE(header, message, footer, implicit).
func signPAE(private ed25519.PrivateKey, message, footer, implicit []byte) string {
	const header = "v4.public."
	pieces := [][]byte{[]byte(header), message, footer, implicit}
	pae := binary.LittleEndian.AppendUint64(nil, uint64(len(pieces)))
	for _, p := range pieces {
		pae = append(binary.LittleEndian.AppendUint64(pae, uint64(len(p))), p...)
	}
	tok := header + b64.EncodeToString(append(append([]byte(nil), message...), ed25519.Sign(private, pae)...))
	if len(footer) > 0 {
		tok += "." + b64.EncodeToString(footer)
	}
	return tok
}

// payload is a valid access-token payload issued at iat, as a PASETO
// minter would write it (iat with a fraction of a second).
func payload(iat time.Time) string {
	return `{"sub":"alice","jti":"j1","sid":"s1","fresh":true,` +
		`"iat":"` + iat.UTC().Format(time.RFC3339Nano) + `",` +
		`"nbf":"` + iat.UTC().Format(time.RFC3339) + `",` +
		`"exp":"` + iat.Add(time.Minute).UTC().Format(time.RFC3339) + `"}`
}

func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func footer(kid string) string { return `{"kid":"` + kid + `"}` }

var (
	access  = []byte("ginfresh access token")
	refresh = []byte("ginfresh refresh token")
)

// errCore marks a token the format passes on and ginfresh refuses when it
// decodes or checks the claims.
var errCore = errors.New("refused by ginfresh")

func TestAttacks(t *testing.T) {
	for _, p := range purposes(t) {
		t.Run(p.name, func(t *testing.T) {
			clk := testkit.NewClock()
			srv := testkit.NewServer(t, clk, false, ginfresh.WithFormat(p.format))
			now := clk.Now().Format(time.RFC3339)
			good := p.seal(payload(clk.Now()), footer(p.kid), access)
			_, err := srv.Auth.Verify(context.Background(), ginfresh.Access, good)
			require.NoError(t, err, "the untampered token is valid")

			header := p.name + "."
			body, foot, _ := strings.Cut(strings.TrimPrefix(good, header), ".")
			bigFooter := footer(p.kid + `","pad":"` + strings.Repeat("x", paseto.MaxFooterSize)) // valid JSON, too long
			other := "v4.public."                                                                // a version and purpose this format does not take
			if p.name == "v4.public" {
				other = "v4.local."
			}
			tests := []struct {
				name    string
				token   string
				wantErr error // from the format, or errCore
			}{
				{"flipped payload", header + flip(body, len(body)/3) + "." + foot, paseto.ErrAuthentication},
				{"flipped tag or signature", header + flip(body, len(body)-10) + "." + foot, paseto.ErrAuthentication},
				{"flipped footer", header + body + "." + flip(foot, 3), paseto.ErrFooter},
				{"footer names another key", header + body + "." + b64.EncodeToString([]byte(footer("k4.pid.other"))), paseto.ErrUnknownKey},
				{"footer swapped, same kid, other spacing", header + body + "." + b64.EncodeToString([]byte(`{"kid": "`+p.kid+`"}`)), paseto.ErrAuthentication},
				{"footer with extra member", p.seal(payload(clk.Now()), `{"kid":"`+p.kid+`","x":1}`, access), paseto.ErrFooter},
				{"footer with duplicate kid", p.seal(payload(clk.Now()), `{"kid":"nope","kid":"`+p.kid+`"}`, access), paseto.ErrFooter},
				{"footer not JSON", p.seal(payload(clk.Now()), p.kid, access), paseto.ErrFooter},
				{"no footer", header + body, paseto.ErrFooter},
				{"oversized footer", header + body + "." + b64.EncodeToString([]byte(bigFooter)), paseto.ErrFooter},
				{"truncated body", header + body[:len(body)-4] + "." + foot, paseto.ErrAuthentication},
				{"truncated footer", good[:len(good)-3], paseto.ErrFooter},
				{"body only header", header, paseto.ErrFooter},
				{"other purpose, same footer", p.other(payload(clk.Now()), footer(p.kid), access), paseto.ErrProtocol},
				{"header relabelled to the other purpose", other + body + "." + foot, paseto.ErrProtocol},
				{"v3 header", "v3" + good[2:], paseto.ErrProtocol},
				{"v2 header", "v2" + good[2:], paseto.ErrProtocol},
				{"uppercase header", strings.ToUpper(header) + body + "." + foot, paseto.ErrProtocol},
				{"no implicit assertion", p.seal(payload(clk.Now()), footer(p.kid), nil), paseto.ErrAuthentication},
				{"foreign implicit assertion", p.seal(payload(clk.Now()), footer(p.kid), []byte("ginfresh id token")), paseto.ErrAuthentication},
				{"numeric exp (JWT style)", p.seal(`{"sub":"alice","jti":"j","sid":"s","iat":"`+now+`","exp":1893553445}`, footer(p.kid), access), paseto.ErrPayload},
				{"exp not RFC 3339", p.seal(`{"sub":"alice","jti":"j","sid":"s","iat":"`+now+`","exp":"2030-01-02 03:04:05"}`, footer(p.kid), access), paseto.ErrPayload},
				{"iat before 1970", p.seal(`{"sub":"alice","jti":"j","sid":"s","iat":"1969-12-31T23:59:59Z","exp":"2030-01-02T05:00:00Z"}`, footer(p.kid), access), paseto.ErrPayload},
				{"exp null", p.seal(`{"sub":"alice","jti":"j","sid":"s","iat":"`+now+`","exp":null}`, footer(p.kid), access), paseto.ErrPayload},
				{"mistyped claim", p.seal(`{"sub":7,"jti":"j","sid":"s","iat":"`+now+`","exp":"2030-01-02T05:00:00Z"}`, footer(p.kid), access), errCore},
				{"mistyped auth_time", p.seal(`{"sub":"alice","jti":"j","sid":"s","iat":"`+now+`","exp":"2030-01-02T05:00:00Z","auth_time":"`+now+`"}`, footer(p.kid), access), errCore},
				{"no sid", p.seal(`{"sub":"alice","jti":"j","iat":"`+now+`","exp":"2030-01-02T05:00:00Z"}`, footer(p.kid), access), errCore},
			}
			v2, v3 := p.legacy(payload(clk.Now()), footer(p.kid))
			tests = append(tests, []struct {
				name    string
				token   string
				wantErr error
			}{
				{"v2 token, same key", v2, paseto.ErrProtocol},
				{"v3 token", v3, paseto.ErrProtocol},
			}...)
			if p.raw != nil {
				// The payload is read as signed, so these are seen.
				tests = append(tests, []struct {
					name    string
					token   string
					wantErr error
				}{
					{"spec signer interoperates", p.raw(payload(clk.Now())), nil},
					{"duplicate claim", p.raw(`{"sub":"alice","sub":"admin","jti":"j","sid":"s","iat":"` + now + `","exp":"2030-01-02T05:00:00Z"}`), paseto.ErrPayload},
					{"duplicate date", p.raw(`{"sub":"alice","jti":"j","sid":"s","iat":"` + now + `","exp":"2030-01-02T05:00:00Z","exp":"2099-01-01T00:00:00Z"}`), paseto.ErrPayload},
					{"payload not an object", p.raw(`["sub"]`), paseto.ErrAuthentication},
					{"payload with trailing data", p.raw(payload(clk.Now()) + `{}`), paseto.ErrAuthentication},
				}...)
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := p.format.Verify(ginfresh.Access, tt.token)
					if tt.wantErr == nil || tt.wantErr == errCore {
						require.NoError(t, err)
					}
					if tt.wantErr == nil {
						return
					}
					if tt.wantErr != errCore {
						require.Error(t, err)
						assert.ErrorIs(t, err, tt.wantErr)
						assert.ErrorIs(t, err, ginfresh.ErrTokenInvalid)
						assert.NotErrorIs(t, err, ginfresh.ErrWrongTokenType)
					}
					_, err = srv.Auth.Verify(context.Background(), ginfresh.Access, tt.token)
					assert.ErrorIs(t, err, ginfresh.ErrTokenInvalid)
					testkit.Refused(t, srv.Get(testkit.Protected, tt.token), http.StatusUnauthorized, "invalid_token")
					testkit.Refused(t, srv.Refresh(tt.token), http.StatusUnauthorized, "invalid_token")
				})
			}

			t.Run("oversized token", func(t *testing.T) {
				big := header + strings.Repeat("A", paseto.MaxTokenSize) + "." + foot
				_, err := p.format.Verify(ginfresh.Access, big)
				assert.ErrorIs(t, err, paseto.ErrAuthentication)
				assert.ErrorIs(t, err, ginfresh.ErrTokenInvalid)
				// Over HTTP the Authorization header cap answers first.
				testkit.Refused(t, srv.Get(testkit.Protected, big), http.StatusBadRequest, "invalid_request")
			})
			t.Run("empty", func(t *testing.T) {
				_, err := p.format.Verify(ginfresh.Access, "")
				assert.ErrorIs(t, err, paseto.ErrProtocol)
				assert.ErrorIs(t, err, ginfresh.ErrTokenInvalid)
			})

			t.Run("wrong kind", func(t *testing.T) {
				rt := p.seal(payload(clk.Now()), footer(p.kid), refresh)
				_, err := p.format.Verify(ginfresh.Access, rt)
				assert.ErrorIs(t, err, ginfresh.ErrWrongTokenType)
				assert.ErrorIs(t, err, ginfresh.ErrTokenInvalid)
				testkit.Refused(t, srv.Get(testkit.Protected, rt), http.StatusUnauthorized, "invalid_token")
				_, err = p.format.Verify(ginfresh.Refresh, good)
				assert.ErrorIs(t, err, ginfresh.ErrWrongTokenType)
				_, err = p.format.Verify(ginfresh.Kind(0), good)
				assert.ErrorIs(t, err, ginfresh.ErrTokenInvalid)
				_, err = p.format.Issue(ginfresh.Kind(0), []byte(`{"sub":"alice"}`))
				assert.Error(t, err, "no token of an unknown kind")
			})
			t.Run("expired", func(t *testing.T) {
				old := p.seal(payload(clk.Now().Add(-time.Hour)), footer(p.kid), access)
				_, err := p.format.Verify(ginfresh.Access, old)
				require.NoError(t, err, "the format leaves times to ginfresh")
				_, err = srv.Auth.Verify(context.Background(), ginfresh.Access, old)
				assert.ErrorIs(t, err, ginfresh.ErrTokenExpired)
				testkit.Refused(t, srv.Get(testkit.Protected, old), http.StatusUnauthorized, "invalid_token")
			})
		})
	}
}
