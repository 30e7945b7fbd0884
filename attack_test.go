package ginfresh_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"hash"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// The attack matrix: hostile requests, each with the one answer it must
// get. Tokens whose attack is in their claims are signed with the real key,
// so only the claim checks stand between them and a pass.

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// target is an Auth under attack, with a genuine session of alice's.
type target struct {
	*fixture
	rsa bool
	tok ginfresh.Tokens
	kid string
	now int64
	// rt holds the genuine refresh token's claims, for forging refresh
	// tokens of the live session.
	rt map[string]any
}

func newTarget(t *testing.T, useRSA bool) *target {
	t.Helper()
	var f *fixture
	if useRSA {
		key, err := ginfresh.NewSigningKey("", "RS256", rsaKey())
		require.NoError(t, err)
		clk := newClock()
		auth, err := ginfresh.New(ginfresh.WithSigningKey(key), ginfresh.WithAuthenticator(testAuthenticator),
			ginfresh.WithTimeFunc(clk.Now), ginfresh.WithAccessRevocation())
		require.NoError(t, err)
		f = &fixture{auth: auth, clock: clk, router: testRouter(auth)}
	} else {
		f = newFixture(t, ginfresh.WithAccessRevocation())
	}
	tg := &target{fixture: f, rsa: useRSA, now: f.clock.Now().Unix()}
	tg.tok = f.login(t, "alice")
	tg.kid = segment(t, tg.tok.AccessToken, 0)["kid"].(string)
	tg.rt = segment(t, tg.tok.RefreshToken, 1)
	return tg
}

var b64url = base64.RawURLEncoding

func encode(header, payload string) string {
	return b64url.EncodeToString([]byte(header)) + "." + b64url.EncodeToString([]byte(payload))
}

func signHMAC(h func() hash.Hash, header, payload string, key []byte) string {
	input := encode(header, payload)
	m := hmac.New(h, key)
	m.Write([]byte(input))
	return input + "." + b64url.EncodeToString(m.Sum(nil))
}

// sign signs header and payload with the target's real key.
func (tg *target) sign(header, payload string) string {
	if !tg.rsa {
		return signHMAC(sha256.New, header, payload, testKey)
	}
	input := encode(header, payload)
	sig, err := jwt.SigningMethodRS256.Sign(input, rsaKey())
	if err != nil {
		panic(err)
	}
	return input + "." + b64url.EncodeToString(sig)
}

func (tg *target) header(typ string) string {
	alg := "HS256"
	if tg.rsa {
		alg = "RS256"
	}
	return `{"alg":"` + alg + `","kid":"` + tg.kid + `","typ":"` + typ + `"}`
}

// Claim members of a well-formed access token; obj joins them.
func (tg *target) sub() string { return `"sub":"alice"` }
func (tg *target) iat() string { return `"iat":` + itoa(tg.now) }
func (tg *target) exp() string { return `"exp":` + itoa(tg.now+600) }
func (tg *target) jti() string { return `"jti":"forged-jti"` }
func obj(members ...string) string {
	return "{" + strings.Join(members, ",") + "}"
}

// access forges an access token with the real key from claim members.
func (tg *target) access(members ...string) string {
	return tg.sign(tg.header("at+jwt"), obj(members...))
}

// refreshClaims returns the genuine refresh token's claims, changed by edit.
func (tg *target) refreshClaims(edit func(map[string]any)) string {
	c := map[string]any{}
	for k, v := range tg.rt {
		c[k] = v
	}
	if edit != nil {
		edit(c)
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// parts splits the genuine access token.
func (tg *target) parts() []string { return strings.Split(tg.tok.AccessToken, ".") }

func get(path, token string) request { return request{path: path, token: token} }

func withAuthorization(method, path string, values ...string) request {
	return request{method: method, path: path, header: http.Header{"Authorization": values}}
}

func protected(token string) request { return get("/protected", token) }
func refreshWith(token string) request {
	return request{method: http.MethodPost, path: "/auth/refresh", token: token}
}

func form(path, token string) request {
	return request{method: http.MethodPost, path: path, body: "access_token=" + token + "&refresh_token=" + token,
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}
}

// Expected answers.
const (
	invalidToken   = "invalid_token"
	invalidRequest = "invalid_request"
	noCredentials  = "unauthorized" // 401 whose challenge carries no error (RFC 6750 §3.1)
	notFresh       = "insufficient_user_authentication"
)

type attack struct {
	name       string
	rsa        bool // against an RS256 Auth instead of HS256
	build      func(t *testing.T, tg *target) request
	wantStatus int
	wantCode   string
}

func attacks() []attack {
	none := func(alg string) func(*testing.T, *target) request {
		return func(_ *testing.T, tg *target) request {
			return protected(encode(`{"alg":"`+alg+`","typ":"at+jwt"}`, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti(), `"fresh":true`)) + ".")
		}
	}
	claims := func(members ...func(*target) string) func(*testing.T, *target) request {
		return func(_ *testing.T, tg *target) request {
			ms := make([]string, len(members))
			for i, m := range members {
				ms[i] = m(tg)
			}
			return protected(tg.access(ms...))
		}
	}
	lit := func(s string) func(*target) string { return func(*target) string { return s } }
	at := func(offset int64, name string) func(*target) string {
		return func(tg *target) string { return `"` + name + `":` + itoa(tg.now+offset) }
	}
	sub, iat, exp, jti := (*target).sub, (*target).iat, (*target).exp, (*target).jti
	refreshForged := func(headerTyp string, edit func(map[string]any)) func(*testing.T, *target) request {
		return func(_ *testing.T, tg *target) request {
			return refreshWith(tg.sign(tg.header(headerTyp), tg.refreshClaims(edit)))
		}
	}
	hsWithPublicKey := func(kid bool, der bool) func(*testing.T, *target) request {
		return func(t *testing.T, tg *target) request {
			pub, err := x509.MarshalPKIXPublicKey(rsaKey().Public())
			require.NoError(t, err)
			secret := pub
			if !der {
				secret = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
			}
			h := `{"alg":"HS256","typ":"at+jwt"}`
			if kid {
				h = `{"alg":"HS256","kid":"` + tg.kid + `","typ":"at+jwt"}`
			}
			return protected(signHMAC(sha256.New, h, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti(), `"fresh":true`), secret))
		}
	}
	tamper := func(fn func(tg *target) string) func(*testing.T, *target) request {
		return func(_ *testing.T, tg *target) request { return protected(fn(tg)) }
	}
	rawHeader := func(values ...func(tg *target) string) func(*testing.T, *target) request {
		return func(_ *testing.T, tg *target) request {
			vs := make([]string, len(values))
			for i, v := range values {
				vs[i] = v(tg)
			}
			return withAuthorization(http.MethodGet, "/protected", vs...)
		}
	}
	bearer := func(prefix string) func(tg *target) string {
		return func(tg *target) string { return prefix + tg.tok.AccessToken }
	}
	replay := func(setup func(t *testing.T, tg *target) request) func(*testing.T, *target) request { return setup }

	return []attack{
		// Algorithm attacks.
		{"alg none", false, none("none"), 401, invalidToken},
		{"alg None", false, none("None"), 401, invalidToken},
		{"alg NONE", false, none("NONE"), 401, invalidToken},
		{"alg nOnE", false, none("nOnE"), 401, invalidToken},
		{"alg none with the real kid", false, func(_ *testing.T, tg *target) request {
			return protected(encode(`{"alg":"none","kid":"`+tg.kid+`","typ":"at+jwt"}`, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti())) + ".")
		}, 401, invalidToken},
		{"alg none keeping the genuine signature", false, func(_ *testing.T, tg *target) request {
			p := tg.parts()
			return protected(b64url.EncodeToString([]byte(`{"alg":"none","kid":"`+tg.kid+`","typ":"at+jwt"}`)) + "." + p[1] + "." + p[2])
		}, 401, invalidToken},
		{"alg none against an RS256 key", true, none("none"), 401, invalidToken},
		{"alg swap HS256 to HS512, real secret", false, func(_ *testing.T, tg *target) request {
			return protected(signHMAC(sha512.New, `{"alg":"HS512","kid":"`+tg.kid+`","typ":"at+jwt"}`, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti()), testKey))
		}, 401, invalidToken},
		{"alg swap HS256 to HS384, real secret", false, func(_ *testing.T, tg *target) request {
			return protected(signHMAC(sha512.New384, `{"alg":"HS384","kid":"`+tg.kid+`","typ":"at+jwt"}`, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti()), testKey))
		}, 401, invalidToken},
		{"alg in lower case", false, func(_ *testing.T, tg *target) request {
			return protected(tg.sign(`{"alg":"hs256","kid":"`+tg.kid+`","typ":"at+jwt"}`, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti())))
		}, 401, invalidToken},
		{"alg missing", false, func(_ *testing.T, tg *target) request {
			return protected(tg.sign(`{"kid":"`+tg.kid+`","typ":"at+jwt"}`, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti())))
		}, 401, invalidToken},
		{"HS256 signed with the RSA public key (PEM), real kid", true, hsWithPublicKey(true, false), 401, invalidToken},
		{"HS256 signed with the RSA public key (PEM), no kid", true, hsWithPublicKey(false, false), 401, invalidToken},
		{"HS256 signed with the RSA public key (DER)", true, hsWithPublicKey(true, true), 401, invalidToken},
		{"alg swap RS256 to PS256, real private key", true, func(t *testing.T, tg *target) request {
			input := encode(`{"alg":"PS256","kid":"`+tg.kid+`","typ":"at+jwt"}`, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti()))
			sig, err := jwt.SigningMethodPS256.Sign(input, crypto.Signer(rsaKey()))
			require.NoError(t, err)
			return protected(input + "." + b64url.EncodeToString(sig))
		}, 401, invalidToken},
		{"unknown kid", false, func(_ *testing.T, tg *target) request {
			return protected(tg.sign(`{"alg":"HS256","kid":"../../../dev/null","typ":"at+jwt"}`, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti())))
		}, 401, invalidToken},
		{"embedded jwk and jku with the attacker's key", false, func(_ *testing.T, tg *target) request {
			h := `{"alg":"HS256","kid":"` + tg.kid + `","typ":"at+jwt","jku":"https://attacker.example/keys","jwk":{"kty":"oct","k":"YXR0YWNrZXI"}}`
			return protected(signHMAC(sha256.New, h, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti()), []byte("attacker-key-0123456789-0123456789")))
		}, 401, invalidToken},

		// Tampering.
		{"payload edited under the old signature", false, tamper(func(tg *target) string {
			p := tg.parts()
			return p[0] + "." + b64url.EncodeToString([]byte(obj(`"sub":"admin"`, tg.iat(), tg.exp(), tg.jti(), `"fresh":true`))) + "." + p[2]
		}), 401, invalidToken},
		{"refresh payload edited under the old signature", false, func(_ *testing.T, tg *target) request {
			p := strings.Split(tg.tok.RefreshToken, ".")
			edited := tg.refreshClaims(func(c map[string]any) { c["sub"] = "bob" })
			return refreshWith(p[0] + "." + b64url.EncodeToString([]byte(edited)) + "." + p[2])
		}, 401, invalidToken},
		{"signature: first bit flipped", false, tamper(func(tg *target) string {
			p := tg.parts()
			return p[0] + "." + p[1] + "." + flip(p[2])
		}), 401, invalidToken},
		{"signature: last character changed", false, tamper(func(tg *target) string {
			s := tg.tok.AccessToken
			last := byte('A')
			if s[len(s)-1] == 'A' {
				last = 'Q'
			}
			return s[:len(s)-1] + string(last)
		}), 401, invalidToken},
		{"signature: bits flipped, RS256", true, tamper(func(tg *target) string {
			p := tg.parts()
			return p[0] + "." + p[1] + "." + flip(p[2])
		}), 401, invalidToken},
		{"signature stripped", false, tamper(func(tg *target) string {
			p := tg.parts()
			return p[0] + "." + p[1] + "."
		}), 401, invalidToken},
		{"padding on the signature", false, tamper(func(tg *target) string { return tg.tok.AccessToken + "=" }), 401, invalidToken},
		{"padding on the payload", false, tamper(func(tg *target) string {
			p := tg.parts()
			return p[0] + "." + p[1] + "==." + p[2]
		}), 401, invalidToken},
		{"extra segment", false, tamper(func(tg *target) string { return tg.tok.AccessToken + ".e30" }), 401, invalidToken},
		{"five segments (JWE shape)", false, tamper(func(tg *target) string { return tg.tok.AccessToken + ".a.b" }), 401, invalidToken},
		{"missing segment", false, tamper(func(tg *target) string {
			p := tg.parts()
			return p[0] + "." + p[1]
		}), 401, invalidToken},
		{"one segment", false, tamper(func(tg *target) string { return tg.parts()[1] }), 401, invalidToken},
		{"standard base64 alphabet", false, tamper(func(tg *target) string {
			return strings.NewReplacer("-", "+", "_", "/").Replace(tg.parts()[0]) + "+/." + tg.parts()[1] + "." + tg.parts()[2]
		}), 401, invalidToken},
		{"non-ASCII bytes", false, tamper(func(tg *target) string {
			p := tg.parts()
			return p[0] + "." + p[1] + "\xff\xfe." + p[2]
		}), 401, invalidToken},
		{"CR LF inside the payload", false, tamper(func(tg *target) string {
			p := tg.parts()
			return p[0] + "." + p[1][:10] + "\r\n" + p[1][10:] + "." + p[2]
		}), 401, invalidToken},
		{"LF inside the signature", false, tamper(func(tg *target) string {
			p := tg.parts()
			return p[0] + "." + p[1] + "." + p[2][:5] + "\n" + p[2][5:]
		}), 401, invalidToken},
		{"NUL byte", false, tamper(func(tg *target) string { return tg.tok.AccessToken[:20] + "\x00" + tg.tok.AccessToken[20:] }), 401, invalidToken},

		// Claim attacks, signed with the real key. A missing nbf is no
		// attack: the claim is optional (RFC 7519 §4.1.5), and the
		// baseline test shows the forged claims pass without it.
		{"sub missing", false, claims(iat, exp, jti), 401, invalidToken},
		{"sub empty", false, claims(lit(`"sub":""`), iat, exp, jti), 401, invalidToken},
		{"sub null", false, claims(lit(`"sub":null`), iat, exp, jti), 401, invalidToken},
		{"sub a number", false, claims(lit(`"sub":42`), iat, exp, jti), 401, invalidToken},
		{"sub an array", false, claims(lit(`"sub":["alice"]`), iat, exp, jti), 401, invalidToken},
		{"exp missing", false, claims(sub, iat, jti), 401, invalidToken},
		{"exp empty string", false, claims(sub, iat, lit(`"exp":""`), jti), 401, invalidToken},
		{"exp a string", false, claims(sub, iat, func(tg *target) string { return `"exp":"` + itoa(tg.now+600) + `"` }, jti), 401, invalidToken},
		{"exp past", false, claims(sub, at(-700, "iat"), at(-1, "exp"), jti), 401, invalidToken},
		{"exp beyond year 5000", false, claims(sub, iat, lit(`"exp":1e300`), jti), 401, invalidToken},
		{"iat missing", false, claims(sub, exp, jti), 401, invalidToken},
		{"iat a string", false, claims(sub, lit(`"iat":"now"`), exp, jti), 401, invalidToken},
		{"iat empty string", false, claims(sub, lit(`"iat":""`), exp, jti), 401, invalidToken},
		{"iat negative", false, claims(sub, lit(`"iat":-1`), exp, jti), 401, invalidToken},
		{"iat in the future", false, claims(sub, at(60, "iat"), exp, jti), 401, invalidToken},
		{"nbf in the future", false, claims(sub, iat, exp, jti, at(60, "nbf")), 401, invalidToken},
		{"nbf a string", false, claims(sub, iat, exp, jti, lit(`"nbf":"soon"`)), 401, invalidToken},
		{"nbf empty string", false, claims(sub, iat, exp, jti, lit(`"nbf":""`)), 401, invalidToken},
		{"nbf a boolean", false, claims(sub, iat, exp, jti, lit(`"nbf":true`)), 401, invalidToken},
		{"jti missing", false, claims(sub, iat, exp), 401, invalidToken},
		{"fresh a string", false, claims(sub, iat, exp, jti, lit(`"fresh":"true"`)), 401, invalidToken},
		{"sub duplicated", false, claims(sub, iat, exp, jti, lit(`"sub":"admin"`)), 401, invalidToken},
		{"sub duplicated through an escape", false, claims(sub, iat, exp, jti, lit(`"s\u0075b":"admin"`)), 401, invalidToken},
		{"exp duplicated", false, claims(sub, iat, exp, jti, lit(`"exp":99999999999`)), 401, invalidToken},
		{"payload an array", false, func(_ *testing.T, tg *target) request {
			return protected(tg.sign(tg.header("at+jwt"), `["alice"]`))
		}, 401, invalidToken},
		{"crit header", false, func(_ *testing.T, tg *target) request {
			return protected(tg.sign(`{"alg":"HS256","kid":"`+tg.kid+`","typ":"at+jwt","crit":["exp"]}`, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti())))
		}, 401, invalidToken},
		{"crit header, empty", false, func(_ *testing.T, tg *target) request {
			return protected(tg.sign(`{"alg":"HS256","kid":"`+tg.kid+`","typ":"at+jwt","crit":[]}`, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti())))
		}, 401, invalidToken},
		{"header key duplicated", false, func(_ *testing.T, tg *target) request {
			return protected(tg.sign(`{"alg":"HS256","kid":"`+tg.kid+`","typ":"at+jwt","alg":"none"}`, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti())))
		}, 401, invalidToken},

		// Type confusion.
		{"refresh token as access token", false, func(_ *testing.T, tg *target) request { return protected(tg.tok.RefreshToken) }, 401, invalidToken},
		{"access token as refresh token", false, func(_ *testing.T, tg *target) request { return refreshWith(tg.tok.AccessToken) }, 401, invalidToken},
		{"access claims under a refresh typ", false, func(_ *testing.T, tg *target) request {
			return protected(tg.sign(tg.header("refresh+jwt"), obj(tg.sub(), tg.iat(), tg.exp(), tg.jti(), `"fresh":true`)))
		}, 401, invalidToken},
		{"refresh claims under an access typ", false, refreshForged("at+jwt", nil), 401, invalidToken},
		{"typ JWT", false, func(_ *testing.T, tg *target) request {
			return protected(tg.sign(tg.header("JWT"), obj(tg.sub(), tg.iat(), tg.exp(), tg.jti())))
		}, 401, invalidToken},
		{"typ missing", false, func(_ *testing.T, tg *target) request {
			return protected(tg.sign(`{"alg":"HS256","kid":"`+tg.kid+`"}`, obj(tg.sub(), tg.iat(), tg.exp(), tg.jti())))
		}, 401, invalidToken},
		{"fresh refresh token", false, refreshForged("refresh+jwt", func(c map[string]any) { c["fresh"] = true }), 401, invalidToken},
		{"refresh token without sid", false, refreshForged("refresh+jwt", func(c map[string]any) { delete(c, "sid") }), 401, invalidToken},
		{"refresh token of an unknown session", false, refreshForged("refresh+jwt", func(c map[string]any) { c["sid"] = "made-up" }), 401, invalidToken},
		{"refreshed access token on a fresh route", false, func(t *testing.T, tg *target) request {
			next := decodeTokens(t, tg.refresh(t, tg.tok.RefreshToken))
			return request{method: http.MethodPost, path: "/sensitive", token: next.AccessToken}
		}, 401, notFresh},

		// Header shapes.
		{"lower-case scheme does not skip verification", false, rawHeader(func(tg *target) string { return "bearer " + flipLast(tg.tok.AccessToken) }), 401, invalidToken},
		{"upper-case scheme with a refresh token", false, rawHeader(func(tg *target) string { return "BEARER " + tg.tok.RefreshToken }), 401, invalidToken},
		{"empty token", false, rawHeader(func(*target) string { return "Bearer " }), 400, invalidRequest},
		{"only spaces", false, rawHeader(func(*target) string { return "Bearer     " }), 400, invalidRequest},
		{"scheme alone", false, rawHeader(func(*target) string { return "Bearer" }), 400, invalidRequest},
		{"empty header", false, rawHeader(func(*target) string { return "" }), 401, noCredentials},
		{"Basic scheme", false, rawHeader(func(*target) string { return "Basic YWxpY2U6YWxpY2UtcHc=" }), 401, noCredentials},
		{"Token scheme with a valid token", false, rawHeader(bearer("Token ")), 401, noCredentials},
		{"DPoP scheme with a valid token", false, rawHeader(bearer("DPoP ")), 401, noCredentials},
		{"scheme glued to the token", false, rawHeader(bearer("Bearer")), 401, noCredentials},
		{"tab after the scheme", false, rawHeader(bearer("Bearer\t")), 401, noCredentials},
		{"two Authorization headers", false, rawHeader(bearer("Bearer "), bearer("Bearer ")), 400, invalidRequest},
		{"two credentials in one header", false, rawHeader(func(tg *target) string { return "Bearer " + tg.tok.AccessToken + ", Bearer " + tg.tok.AccessToken }), 401, invalidToken},
		{"oversized header", false, rawHeader(func(tg *target) string {
			return "Bearer " + tg.tok.AccessToken + strings.Repeat("A", ginfresh.MaxHeaderSize)
		}), 400, invalidRequest},
		{"access token in the query", false, func(_ *testing.T, tg *target) request { return get("/protected?access_token="+tg.tok.AccessToken, "") }, 401, noCredentials},
		{"access token in a form body", false, func(_ *testing.T, tg *target) request { return form("/sensitive", tg.tok.AccessToken) }, 401, noCredentials},
		{"refresh token in the query", false, func(_ *testing.T, tg *target) request {
			return request{method: http.MethodPost, path: "/auth/refresh?refresh_token=" + tg.tok.RefreshToken}
		}, 401, noCredentials},
		{"refresh token in a form body", false, func(_ *testing.T, tg *target) request { return form("/auth/refresh", tg.tok.RefreshToken) }, 401, noCredentials},

		// Replay.
		{"retired refresh token", false, replay(func(t *testing.T, tg *target) request {
			require.Equal(t, http.StatusOK, tg.refresh(t, tg.tok.RefreshToken).Code)
			return refreshWith(tg.tok.RefreshToken)
		}), 401, invalidToken},
		{"current refresh token of a family revoked by reuse", false, replay(func(t *testing.T, tg *target) request {
			next := decodeTokens(t, tg.refresh(t, tg.tok.RefreshToken))
			require.Equal(t, http.StatusUnauthorized, tg.refresh(t, tg.tok.RefreshToken).Code)
			return refreshWith(next.RefreshToken)
		}), 401, invalidToken},
		{"refresh token after logout", false, replay(func(t *testing.T, tg *target) request {
			require.Equal(t, http.StatusNoContent, tg.do(request{method: http.MethodPost, path: "/auth/logout", token: tg.tok.RefreshToken}).Code)
			return refreshWith(tg.tok.RefreshToken)
		}), 401, invalidToken},
		{"access token after logout", false, replay(func(t *testing.T, tg *target) request {
			w := tg.do(request{method: http.MethodPost, path: "/auth/logout", token: tg.tok.AccessToken,
				body: `{"refresh_token":"` + tg.tok.RefreshToken + `"}`})
			require.Equal(t, http.StatusNoContent, w.Code)
			return protected(tg.tok.AccessToken)
		}), 401, invalidToken},
		{"refresh token after a password change", false, replay(func(t *testing.T, tg *target) request {
			tg.clock.Advance(time.Second)
			require.NoError(t, tg.auth.RevokeSubject(context.Background(), "alice"))
			return refreshWith(tg.tok.RefreshToken)
		}), 401, invalidToken},
		{"access token after a password change", false, replay(func(t *testing.T, tg *target) request {
			tg.clock.Advance(time.Second)
			require.NoError(t, tg.auth.RevokeSubject(context.Background(), "alice"))
			return request{method: http.MethodPost, path: "/sensitive", token: tg.tok.AccessToken}
		}), 401, invalidToken},
		{"fresh-login holding a revoked access token", false, replay(func(t *testing.T, tg *target) request {
			tg.clock.Advance(time.Second)
			require.NoError(t, tg.auth.RevokeSubject(context.Background(), "alice"))
			return request{method: http.MethodPost, path: "/auth/fresh-login", token: tg.tok.AccessToken, body: credentials("alice", "alice-pw")}
		}), 401, invalidToken},
	}
}

// flipLast changes the token's last character.
func flipLast(s string) string {
	if s[len(s)-1] == 'A' {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}

func TestAttackMatrix(t *testing.T) {
	rows := attacks()
	require.GreaterOrEqual(t, len(rows), 30)
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			tg := newTarget(t, tt.rsa)
			req := tt.build(t, tg)
			w := tg.do(req) // a panic fails the test: the router has no recovery
			require.Equal(t, tt.wantStatus, w.Code, "body %s", w.Body.String())
			assert.Equal(t, tt.wantCode, errorCode(t, w))

			challenge := w.Header().Get("WWW-Authenticate")
			require.True(t, strings.HasPrefix(challenge, `Bearer realm="api"`), "challenge %q", challenge)
			if tt.wantCode == noCredentials {
				assert.NotContains(t, challenge, "error=")
			} else {
				assert.Contains(t, challenge, `error="`+tt.wantCode+`"`)
			}
			body := w.Body.String()
			for _, secret := range append([]string{tg.tok.AccessToken, tg.tok.RefreshToken}, tg.parts()...) {
				assert.NotContains(t, body, secret, "an error body never echoes a token")
			}
		})
	}
}

// TestAttackMatrixBaseline proves the forging helpers make tokens the
// target accepts: the claim rows above fail on their claim alone.
func TestAttackMatrixBaseline(t *testing.T) {
	for _, useRSA := range []bool{false, true} {
		tg := newTarget(t, useRSA)
		for _, nbf := range []string{`"nbf":` + itoa(tg.now), `"fresh":false`} {
			w := tg.do(protected(tg.access(tg.sub(), tg.iat(), tg.exp(), tg.jti(), nbf)))
			require.Equal(t, http.StatusOK, w.Code, "rsa=%v: %s", useRSA, w.Body.String())
			assert.JSONEq(t, `{"user":"alice","fresh":false}`, w.Body.String())
		}
	}
	tg := newTarget(t, false)
	w := tg.do(refreshWith(tg.sign(tg.header("refresh+jwt"), tg.refreshClaims(nil))))
	require.Equal(t, http.StatusOK, w.Code, "a forged copy of the live refresh token: %s", w.Body.String())
}
