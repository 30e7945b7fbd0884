package ginfresh_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// forge signs header and payload (raw JSON) with key, as an attacker holding
// or guessing a key would.
func forge(header, payload string, key []byte) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(input))
	return input + "." + enc.EncodeToString(m.Sum(nil))
}

// segment returns the decoded JSON of segment i of a token.
func segment(t testing.TB, token string, i int) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[i])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func TestFreshTokenFlow(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice")
	assert.NotEmpty(t, tok.RefreshToken)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.EqualValues(t, 900, tok.ExpiresIn)

	w := f.do(request{path: "/protected", token: tok.AccessToken})
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"user":"alice","fresh":true}`, w.Body.String())
	assert.Equal(t, http.StatusOK, f.do(request{method: http.MethodPost, path: "/sensitive", token: tok.AccessToken}).Code)

	f.clock.Advance(time.Minute)
	w = f.refresh(t, tok.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	refreshed := decodeTokens(t, w)
	assert.NotEmpty(t, refreshed.RefreshToken, "rotation hands out the next refresh token")

	w = f.do(request{path: "/protected", token: refreshed.AccessToken})
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"user":"alice","fresh":false}`, w.Body.String())

	w = f.do(request{method: http.MethodPost, path: "/sensitive", token: refreshed.AccessToken})
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "insufficient_user_authentication", errorCode(t, w))
	assert.Contains(t, w.Header().Get("WWW-Authenticate"), `error="insufficient_user_authentication"`)

	w = f.do(request{method: http.MethodPost, path: "/auth/fresh-login", token: refreshed.AccessToken, body: credentials("alice", "alice-pw")})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	fresh := decodeTokens(t, w)
	assert.Empty(t, fresh.RefreshToken, "fresh-login returns only an access token")
	assert.Equal(t, http.StatusOK, f.do(request{method: http.MethodPost, path: "/sensitive", token: fresh.AccessToken}).Code)
}

func TestRefreshKeepsAuthTime(t *testing.T) {
	f := newFixture(t)
	loginAt := f.clock.Now()
	tok := f.login(t, "alice")
	f.clock.Advance(10 * time.Minute)
	refreshed := decodeTokens(t, f.refresh(t, tok.RefreshToken))
	f.clock.Advance(10 * time.Minute)
	again := decodeTokens(t, f.refresh(t, refreshed.RefreshToken))

	for _, token := range []string{refreshed.AccessToken, again.AccessToken} {
		c := f.claims(t, ginfresh.AccessToken, token)
		assert.False(t, c.Fresh)
		assert.True(t, c.AuthTime.Equal(loginAt), "auth_time %v, want the login's %v", c.AuthTime, loginAt)
		assert.True(t, c.IssuedAt.After(loginAt))
		var role string
		ok, err := c.Get("role", &role)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, "user", role, "custom claims survive refresh")
	}
	assert.False(t, segment(t, again.RefreshToken, 1)["fresh"] == true, "refresh tokens are never fresh")
}

func TestTokenShape(t *testing.T) {
	f := newFixture(t, ginfresh.WithIssuer("https://issuer.example"), ginfresh.WithAudience("api"))
	tok := f.login(t, "alice")

	h := segment(t, tok.AccessToken, 0)
	assert.Equal(t, "at+jwt", h["typ"])
	assert.Equal(t, "HS256", h["alg"])
	assert.NotEmpty(t, h["kid"])
	assert.Equal(t, "refresh+jwt", segment(t, tok.RefreshToken, 0)["typ"])

	p := segment(t, tok.AccessToken, 1)
	for _, claim := range []string{"sub", "iat", "nbf", "exp", "jti", "fresh", "auth_time", "iss", "aud"} {
		assert.Contains(t, p, claim)
	}
	jti, _ := base64.RawURLEncoding.DecodeString(p["jti"].(string))
	assert.Len(t, jti, 16, "jti carries 128 random bits")
	assert.Equal(t, "https://issuer.example", p["iss"])

	rp := segment(t, tok.RefreshToken, 1)
	assert.NotContains(t, rp, "fresh")
	assert.NotEmpty(t, rp["sid"])
}

func TestBearerHeader(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice")

	tests := []struct {
		name       string
		header     http.Header
		path       string
		wantStatus int
		wantCode   string // "" means no error code in the challenge
	}{
		{"bearer", http.Header{"Authorization": {"Bearer " + tok.AccessToken}}, "/protected", 200, ""},
		{"scheme lower case", http.Header{"Authorization": {"bearer " + tok.AccessToken}}, "/protected", 200, ""},
		{"scheme upper case", http.Header{"Authorization": {"BEARER " + tok.AccessToken}}, "/protected", 200, ""},
		{"no header", nil, "/protected", 401, ""},
		{"other scheme", http.Header{"Authorization": {"Basic YWxpY2U6YWxpY2UtcHc="}}, "/protected", 401, ""},
		{"token in query string", nil, "/protected?access_token=" + tok.AccessToken, 401, ""},
		{"two headers", http.Header{"Authorization": {"Bearer " + tok.AccessToken, "Bearer " + tok.AccessToken}}, "/protected", 400, "invalid_request"},
		{"empty token", http.Header{"Authorization": {"Bearer "}}, "/protected", 400, "invalid_request"},
		{"scheme only", http.Header{"Authorization": {"Bearer"}}, "/protected", 400, "invalid_request"},
		{"oversized", http.Header{"Authorization": {"Bearer " + strings.Repeat("a", 9000)}}, "/protected", 400, "invalid_request"},
		{"garbage", http.Header{"Authorization": {"Bearer not-a-token"}}, "/protected", 401, "invalid_token"},
		{"refresh token as access", http.Header{"Authorization": {"Bearer " + tok.RefreshToken}}, "/protected", 401, "invalid_token"},
		{"public route ignores a bad token", http.Header{"Authorization": {"Bearer not-a-token"}}, "/public", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(request{path: tt.path, header: tt.header})
			require.Equal(t, tt.wantStatus, w.Code, w.Body.String())
			if tt.wantStatus == 200 {
				return
			}
			challenge := w.Header().Get("WWW-Authenticate")
			assert.True(t, strings.HasPrefix(challenge, `Bearer realm="api"`), challenge)
			if tt.wantCode == "" {
				assert.NotContains(t, challenge, "error=")
				assert.Equal(t, "unauthorized", errorCode(t, w))
			} else {
				assert.Contains(t, challenge, `error="`+tt.wantCode+`"`)
				assert.Equal(t, tt.wantCode, errorCode(t, w))
			}
			assert.NotContains(t, w.Body.String(), tok.AccessToken, "never echo the token")
		})
	}
}

func TestTokenValidation(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice")
	now := f.clock.Now().Unix()
	header := segment(t, tok.AccessToken, 0)
	kid := header["kid"].(string)
	hdr := `{"alg":"HS256","kid":"` + kid + `","typ":"at+jwt"}`
	claims := func(extra string) string {
		return `{"sub":"alice","iat":` + itoa(now) + `,"exp":` + itoa(now+600) + `,"jti":"x"` + extra + `}`
	}
	parts := strings.Split(tok.AccessToken, ".")

	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"genuine forgery with the real key passes", forge(hdr, claims(`,"fresh":true`), testKey), nil},
		{"wrong key", forge(hdr, claims(""), []byte("another-key-0123456789-0123456789-01")), ginfresh.ErrTokenInvalid},
		{"alg none", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1] + ".", ginfresh.ErrTokenInvalid},
		{"alg swapped to HS512", forge(`{"alg":"HS512","kid":"`+kid+`","typ":"at+jwt"}`, claims(""), testKey), ginfresh.ErrTokenInvalid},
		{"unknown kid", forge(`{"alg":"HS256","kid":"../../etc/passwd","typ":"at+jwt"}`, claims(""), testKey), ginfresh.ErrTokenInvalid},
		{"crit header", forge(`{"alg":"HS256","kid":"`+kid+`","typ":"at+jwt","crit":["exp"]}`, claims(""), testKey), ginfresh.ErrTokenInvalid},
		{"unknown typ", forge(`{"alg":"HS256","kid":"`+kid+`","typ":"JWT"}`, claims(""), testKey), ginfresh.ErrTokenInvalid},
		{"refresh typ", forge(`{"alg":"HS256","kid":"`+kid+`","typ":"refresh+jwt"}`, claims(`,"sid":"s"`), testKey), ginfresh.ErrWrongTokenType},
		{"payload edited", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(claims(`,"fresh":true`))) + "." + parts[2], ginfresh.ErrTokenInvalid},
		{"signature flipped", parts[0] + "." + parts[1] + "." + flip(parts[2]), ginfresh.ErrTokenInvalid},
		{"padding", tok.AccessToken + "=", ginfresh.ErrTokenInvalid},
		{"extra segment", tok.AccessToken + ".x", ginfresh.ErrTokenInvalid},
		{"missing segment", parts[0] + "." + parts[1], ginfresh.ErrTokenInvalid},
		{"expired", forge(hdr, `{"sub":"alice","iat":`+itoa(now-700)+`,"exp":`+itoa(now-100)+`,"jti":"x"}`, testKey), ginfresh.ErrTokenExpired},
		{"no exp", forge(hdr, `{"sub":"alice","iat":`+itoa(now)+`,"jti":"x"}`, testKey), ginfresh.ErrTokenInvalid},
		{"no iat", forge(hdr, `{"sub":"alice","exp":`+itoa(now+60)+`,"jti":"x"}`, testKey), ginfresh.ErrTokenInvalid},
		{"future iat", forge(hdr, `{"sub":"alice","iat":`+itoa(now+60)+`,"exp":`+itoa(now+600)+`,"jti":"x"}`, testKey), ginfresh.ErrTokenInvalid},
		{"nbf ahead", forge(hdr, claims(`,"nbf":`+itoa(now+60)), testKey), ginfresh.ErrTokenInvalid},
		{"empty sub", forge(hdr, `{"sub":"","iat":`+itoa(now)+`,"exp":`+itoa(now+600)+`,"jti":"x"}`, testKey), ginfresh.ErrTokenInvalid},
		{"numeric sub", forge(hdr, `{"sub":42,"iat":`+itoa(now)+`,"exp":`+itoa(now+600)+`,"jti":"x"}`, testKey), ginfresh.ErrTokenInvalid},
		{"string exp", forge(hdr, `{"sub":"alice","iat":`+itoa(now)+`,"exp":"`+itoa(now+600)+`","jti":"x"}`, testKey), ginfresh.ErrTokenInvalid},
		{"string fresh", forge(hdr, claims(`,"fresh":"true"`), testKey), ginfresh.ErrTokenInvalid},
		{"duplicate sub", forge(hdr, claims(`,"sub":"admin"`), testKey), ginfresh.ErrTokenInvalid},
		{"escaped duplicate sub", forge(hdr, claims(`,"s\u0075b":"admin"`), testKey), ginfresh.ErrTokenInvalid},
		{"huge exp", forge(hdr, `{"sub":"alice","iat":`+itoa(now)+`,"exp":1e300,"jti":"x"}`, testKey), ginfresh.ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.auth.Verify(context.Background(), ginfresh.AccessToken, tt.token)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorIs(t, err, ginfresh.ErrTokenInvalid, "every refusal is also ErrTokenInvalid")
			w := f.do(request{path: "/protected", token: tt.token})
			assert.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Equal(t, "invalid_token", errorCode(t, w))
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// flip changes one bit of the first signature character.
func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestExpiryWithClock(t *testing.T) {
	f := newFixture(t, ginfresh.WithLeeway(30*time.Second))
	tok := f.login(t, "alice")
	f.clock.Advance(15*time.Minute + 29*time.Second)
	assert.Equal(t, http.StatusOK, f.do(request{path: "/protected", token: tok.AccessToken}).Code, "within leeway")
	f.clock.Advance(time.Second)
	w := f.do(request{path: "/protected", token: tok.AccessToken})
	assert.Equal(t, http.StatusUnauthorized, w.Code, "the cached token expires too")
	_, err := f.auth.Verify(context.Background(), ginfresh.AccessToken, tok.AccessToken)
	assert.ErrorIs(t, err, ginfresh.ErrTokenExpired)
	assert.ErrorIs(t, err, jwt.ErrTokenExpired, "the jwt cause is wrapped too")
}

func TestLoginRequests(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"ok", credentials("alice", "alice-pw"), 200, ""},
		{"wrong password", credentials("alice", "nope"), 401, "invalid_credentials"},
		{"unknown user", credentials("mallory", "alice-pw"), 401, "invalid_credentials"},
		{"malformed JSON", `{"username":"alice",`, 400, "invalid_request"},
		{"missing password", `{"username":"alice"}`, 400, "invalid_request"},
		{"empty username", `{"username":"","password":"x"}`, 400, "invalid_request"},
		{"number password", `{"username":"alice","password":123}`, 400, "invalid_request"},
		{"array body", `[1,2]`, 400, "invalid_request"},
		{"null body", `null`, 400, "invalid_request"},
		{"empty body", ``, 400, "invalid_request"},
		{"trailing data", credentials("alice", "alice-pw") + `{}`, 400, "invalid_request"},
		{"oversized", `{"username":"alice","password":"` + strings.Repeat("x", 20000) + `"}`, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(request{method: http.MethodPost, path: "/auth/login", body: tt.body})
			require.Equal(t, tt.wantStatus, w.Code, w.Body.String())
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			if tt.wantCode == "" {
				tok := decodeTokens(t, w)
				assert.NotEmpty(t, tok.AccessToken)
				assert.NotEmpty(t, tok.RefreshToken)
				return
			}
			assert.Equal(t, tt.wantCode, errorCode(t, w))
			assert.NotContains(t, w.Body.String(), "alice-pw")
		})
	}
}

func TestFreshLogin(t *testing.T) {
	f := newFixture(t)
	alice := f.login(t, "alice")
	tests := []struct {
		name       string
		token      string
		body       string
		wantStatus int
	}{
		{"no held token", "", credentials("alice", "alice-pw"), 200},
		{"same subject", alice.AccessToken, credentials("alice", "alice-pw"), 200},
		{"other subject", alice.AccessToken, credentials("bob", "bob-pw"), 403},
		{"wrong password", alice.AccessToken, credentials("alice", "x"), 401},
		{"invalid held token", "garbage", credentials("alice", "alice-pw"), 401},
		{"refresh token held", alice.RefreshToken, credentials("alice", "alice-pw"), 401},
		{"bad body", alice.AccessToken, `{`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(request{method: http.MethodPost, path: "/auth/fresh-login", token: tt.token, body: tt.body})
			require.Equal(t, tt.wantStatus, w.Code, w.Body.String())
			if tt.wantStatus != 200 {
				errorCode(t, w)
				return
			}
			tok := decodeTokens(t, w)
			assert.Empty(t, tok.RefreshToken)
			c := f.claims(t, ginfresh.AccessToken, tok.AccessToken)
			assert.True(t, c.Fresh)
			assert.True(t, c.AuthTime.Equal(f.clock.Now()))
		})
	}
}

func TestRequireFreshMaxAge(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice")
	post := func(path string) *httptest.ResponseRecorder {
		return f.do(request{method: http.MethodPost, path: path, token: tok.AccessToken})
	}
	assert.Equal(t, http.StatusOK, post("/recent").Code)
	f.clock.Advance(5*time.Minute + time.Second)
	w := post("/recent")
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "insufficient_user_authentication", errorCode(t, w))
	assert.Contains(t, w.Header().Get("WWW-Authenticate"), "max_age=300")
	assert.Equal(t, http.StatusOK, post("/sensitive").Code, "no MaxAge: still fresh")
}

func TestGuardsWithoutMiddleware(t *testing.T) {
	f := newFixture(t)
	r := gin.New()
	r.GET("/p", f.auth.RequireAccess(), func(c *gin.Context) { c.String(200, ginfresh.MustClaims(c).Subject) })
	r.GET("/f", f.auth.RequireFresh(), func(c *gin.Context) { c.String(200, ginfresh.MustClaims(c).Subject) })
	tok := f.login(t, "alice")
	for _, path := range []string{"/p", "/f"} {
		w := serve(r, request{path: path, token: tok.AccessToken})
		assert.Equal(t, 200, w.Code)
		assert.Equal(t, "alice", w.Body.String())
		assert.Equal(t, 401, serve(r, request{path: path}).Code)
	}
}

func TestErrorHandler(t *testing.T) {
	var got error
	f := newFixture(t, ginfresh.WithErrorHandler(func(c *gin.Context, err error) {
		got = err
		c.String(http.StatusTeapot, "no")
	}))
	w := f.do(request{path: "/protected", token: "garbage"})
	assert.Equal(t, http.StatusTeapot, w.Code)
	assert.ErrorIs(t, got, ginfresh.ErrTokenInvalid)
	assert.ErrorIs(t, got, jwt.ErrTokenMalformed)
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name    string
		opts    []ginfresh.Option
		wantErr []string
	}{
		{"nothing", nil, []string{"signing key is required (use WithHMACKey", "authenticator is required"}},
		{"short key", []ginfresh.Option{ginfresh.WithHMACKey([]byte("short")), ginfresh.WithAuthenticator(testAuthenticator)}, []string{"at least 32"}},
		{"bad algorithm", []ginfresh.Option{ginfresh.WithHMACKey(testKey), ginfresh.WithAlgorithm("RS256")}, []string{"WithAlgorithm"}},
		{"algorithm without an HMAC key", []ginfresh.Option{ginfresh.WithAlgorithm("HS512"), ginfresh.WithVerificationKeys(verifier(t, signingKey(t, "EdDSA")))}, []string{"WithAlgorithm chooses the algorithm of WithHMACKey only"}},
		{"several bad options", []ginfresh.Option{ginfresh.WithAccessTTL(-1), ginfresh.WithLeeway(time.Hour), ginfresh.WithRealm(`a"b`)}, []string{"WithAccessTTL", "WithLeeway", "WithRealm"}},
		{"refresh outlives session", []ginfresh.Option{ginfresh.WithHMACKey(testKey), ginfresh.WithAuthenticator(testAuthenticator), ginfresh.WithRefreshTTL(48 * time.Hour), ginfresh.WithSessionLifetime(24 * time.Hour)}, []string{"exceeds the session lifetime"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ginfresh.New(tt.opts...)
			require.Error(t, err)
			assert.Nil(t, a)
			assert.True(t, strings.HasPrefix(err.Error(), "ginfresh: "), err.Error())
			for _, want := range tt.wantErr {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		a, err := ginfresh.New(ginfresh.WithHMACKey(testKey), ginfresh.WithAlgorithm(alg), ginfresh.WithAuthenticator(testAuthenticator))
		require.NoError(t, err)
		tok, err := a.CreateAccessToken(ginfresh.Identity{Subject: "alice"}, false)
		require.NoError(t, err)
		assert.Equal(t, alg, segment(t, tok, 0)["alg"])
		_, err = a.Verify(context.Background(), ginfresh.AccessToken, tok)
		assert.NoError(t, err)
	}
}

func TestCreateTokens(t *testing.T) {
	f := newFixture(t)
	_, err := f.auth.CreateAccessToken(ginfresh.Identity{}, true)
	assert.Error(t, err)
	_, err = f.auth.CreateAccessToken(ginfresh.Identity{Subject: "x", Claims: map[string]any{"sub": "y"}}, true)
	assert.Error(t, err, "custom claims cannot replace registered ones")

	rt, err := f.auth.CreateRefreshToken(context.Background(), ginfresh.Identity{Subject: "carol"})
	require.NoError(t, err)
	w := f.refresh(t, rt)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	c := f.claims(t, ginfresh.AccessToken, decodeTokens(t, w).AccessToken)
	assert.Equal(t, "carol", c.Subject)

	tok, err := f.auth.IssueTokens(context.Background(), ginfresh.Identity{Subject: "dave"})
	require.NoError(t, err)
	assert.True(t, f.claims(t, ginfresh.AccessToken, tok.AccessToken).Fresh)
}

func TestMaxAgeSetUp(t *testing.T) {
	f := newFixture(t)
	assert.PanicsWithValue(t, "ginfresh: RequireFresh(MaxAge(-1m0s)): the age limit is negative", func() {
		f.auth.RequireFresh(ginfresh.MaxAge(-time.Minute))
	})

	r := gin.New()
	r.POST("/now", f.auth.RequireFresh(ginfresh.MaxAge(500*time.Millisecond)), func(c *gin.Context) { c.Status(http.StatusOK) })
	tok := f.login(t, "alice")
	f.clock.Advance(time.Second)
	w := serve(r, request{method: http.MethodPost, path: "/now", token: tok.AccessToken})
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Contains(t, w.Header().Get("WWW-Authenticate"), "max_age=1", "sub-second limits round up, never to max_age=0")
}
