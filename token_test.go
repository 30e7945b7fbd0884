package ginfresh_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// pipeKey is the HMAC secret of the servers in these tests, so that a test
// can sign tokens of its own that the server takes as genuine.
var pipeKey = []byte("pipeline-test-key-0123456789-0123456789")

// newPipeServer is a testkit server signing with pipeKey.
func newPipeServer(t testing.TB, opts ...ginfresh.Option) *testkit.Server {
	t.Helper()
	return testkit.NewServer(t, testkit.NewClock(), false, append([]ginfresh.Option{ginfresh.WithHMACKey(pipeKey)}, opts...)...)
}

// signHS256 signs header and payload, both raw JSON, with key: a token
// whose every byte the test chooses, as an attacker holding the key could.
func signHS256(header, payload string, key []byte) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(input))
	return input + "." + enc.EncodeToString(m.Sum(nil))
}

// tokenSegment decodes segment i (0 header, 1 payload) of a JWT.
func tokenSegment(t testing.TB, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("got %d segments, want 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// kidOf is the kid a minted token names: forged tokens must name it too.
func kidOf(t testing.TB, token string) string {
	t.Helper()
	kid, _ := tokenSegment(t, token, 0)["kid"].(string)
	if kid == "" {
		t.Fatal("the minted token names no kid")
	}
	return kid
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// refusedWithoutCode checks the answer to a request that carried no token:
// 401 with a challenge that names no error (RFC 6750 §3.1).
func refusedWithoutCode(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	testkit.Refused(t, w, http.StatusUnauthorized, "unauthorized")
	ch := w.Header().Get("WWW-Authenticate")
	if !strings.HasPrefix(ch, `Bearer realm="api"`) || strings.Contains(ch, "error=") {
		t.Fatalf("got challenge %q, want a bare Bearer challenge", ch)
	}
}

func TestBearerHeader(t *testing.T) {
	s := newPipeServer(t)
	tok := s.Login(t, "alice")

	tests := []struct {
		name       string
		header     http.Header
		path       string
		wantStatus int
		wantCode   string // "unauthorized": no error code in the challenge
	}{
		{"bearer", http.Header{"Authorization": {"Bearer " + tok.AccessToken}}, testkit.Protected, 200, ""},
		{"scheme lower case", http.Header{"Authorization": {"bearer " + tok.AccessToken}}, testkit.Protected, 200, ""},
		{"scheme upper case", http.Header{"Authorization": {"BEARER " + tok.AccessToken}}, testkit.Protected, 200, ""},
		{"two spaces", http.Header{"Authorization": {"Bearer  " + tok.AccessToken}}, testkit.Protected, 200, ""},
		{"no header", nil, testkit.Protected, 401, "unauthorized"},
		{"other scheme", http.Header{"Authorization": {"Basic YWxpY2U6YWxpY2UtcHc="}}, testkit.Protected, 401, "unauthorized"},
		{"scheme run into the token", http.Header{"Authorization": {"Bearer" + tok.AccessToken}}, testkit.Protected, 401, "unauthorized"},
		{"token in query string", nil, testkit.Protected + "?access_token=" + tok.AccessToken, 401, "unauthorized"},
		{"two headers", http.Header{"Authorization": {"Bearer " + tok.AccessToken, "Bearer " + tok.AccessToken}}, testkit.Protected, 400, "invalid_request"},
		{"empty token", http.Header{"Authorization": {"Bearer "}}, testkit.Protected, 400, "invalid_request"},
		{"scheme only", http.Header{"Authorization": {"Bearer"}}, testkit.Protected, 400, "invalid_request"},
		{"oversized", http.Header{"Authorization": {"Bearer " + strings.Repeat("a", 9000)}}, testkit.Protected, 400, "invalid_request"},
		{"garbage", http.Header{"Authorization": {"Bearer not-a-token"}}, testkit.Protected, 401, "invalid_token"},
		{"refresh token as access", http.Header{"Authorization": {"Bearer " + tok.RefreshToken}}, testkit.Protected, 401, "invalid_token"},
		{"public route ignores a bad token", http.Header{"Authorization": {"Bearer not-a-token"}}, testkit.Public, 200, ""},
		{"public route ignores a malformed request", http.Header{"Authorization": {"Bearer "}}, testkit.Public, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := s.Do(testkit.Request{Path: tt.path, Header: tt.header})
			if tt.wantStatus == 200 {
				testkit.Status(t, w, 200)
				return
			}
			if tt.wantCode == "unauthorized" {
				refusedWithoutCode(t, w)
			} else {
				testkit.Refused(t, w, tt.wantStatus, tt.wantCode)
				if ch := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(ch, `Bearer realm="api", error="`+tt.wantCode+`"`) {
					t.Errorf("got challenge %q, want error %q", ch, tt.wantCode)
				}
			}
			if strings.Contains(w.Body.String(), tok.AccessToken) {
				t.Error("the answer echoes the token")
			}
		})
	}
}

// TestTokenValidation signs tokens with the server's own key, so that each
// row fails for its claims or header alone, never for its signature.
func TestTokenValidation(t *testing.T) {
	s := newPipeServer(t)
	tok := s.Login(t, "alice")
	now := s.Clock.Now().Unix()
	kid := kidOf(t, tok.AccessToken)
	hdr := `{"alg":"HS256","kid":"` + kid + `","typ":"at+jwt"}`
	claims := func(extra string) string {
		return `{"sub":"alice","iat":` + itoa(now) + `,"exp":` + itoa(now+600) + `,"jti":"x","sid":"s"` + extra + `}`
	}
	parts := strings.Split(tok.AccessToken, ".")
	otherKey := []byte("another-key-0123456789-0123456789-01")

	tests := []struct {
		name    string
		token   string
		wantErr error // nil: the token is valid
		cause   error // also found by errors.Is, when set
	}{
		{"forged with the real key passes", signHS256(hdr, claims(`,"fresh":true`), pipeKey), nil, nil},
		{"typ with the application/ prefix", signHS256(`{"alg":"HS256","kid":"`+kid+`","typ":"application/at+jwt"}`, claims(""), pipeKey), nil, nil},
		{"wrong key", signHS256(hdr, claims(""), otherKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenSignatureInvalid},
		{"alg none", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1] + ".", ginfresh.ErrTokenInvalid, nil},
		{"alg swapped to HS512", signHS256(`{"alg":"HS512","kid":"`+kid+`","typ":"at+jwt"}`, claims(""), pipeKey), ginfresh.ErrTokenInvalid, nil},
		{"unknown kid", signHS256(`{"alg":"HS256","kid":"../../etc/passwd","typ":"at+jwt"}`, claims(""), pipeKey), ginfresh.ErrTokenInvalid, nil},
		{"crit header", signHS256(`{"alg":"HS256","kid":"`+kid+`","typ":"at+jwt","crit":["exp"]}`, claims(""), pipeKey), ginfresh.ErrTokenInvalid, nil},
		{"unknown typ", signHS256(`{"alg":"HS256","kid":"`+kid+`","typ":"JWT"}`, claims(""), pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenMalformed},
		{"refresh typ", signHS256(`{"alg":"HS256","kid":"`+kid+`","typ":"refresh+jwt"}`, claims(""), pipeKey), ginfresh.ErrWrongTokenType, nil},
		{"payload edited", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(claims(`,"fresh":true`))) + "." + parts[2], ginfresh.ErrTokenInvalid, nil},
		{"signature flipped", parts[0] + "." + parts[1] + "." + flipFirst(parts[2]), ginfresh.ErrTokenInvalid, nil},
		{"padding", tok.AccessToken + "=", ginfresh.ErrTokenInvalid, nil},
		{"line break", parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:], ginfresh.ErrTokenInvalid, nil},
		{"extra segment", tok.AccessToken + ".x", ginfresh.ErrTokenInvalid, nil},
		{"missing segment", parts[0] + "." + parts[1], ginfresh.ErrTokenInvalid, nil},
		{"expired", signHS256(hdr, `{"sub":"alice","iat":`+itoa(now-700)+`,"exp":`+itoa(now-100)+`,"jti":"x","sid":"s"}`, pipeKey), ginfresh.ErrTokenExpired, jwt.ErrTokenExpired},
		{"no exp", signHS256(hdr, `{"sub":"alice","iat":`+itoa(now)+`,"jti":"x","sid":"s"}`, pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenRequiredClaimMissing},
		{"no iat", signHS256(hdr, `{"sub":"alice","exp":`+itoa(now+60)+`,"jti":"x","sid":"s"}`, pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenRequiredClaimMissing},
		{"no jti", signHS256(hdr, `{"sub":"alice","iat":`+itoa(now)+`,"exp":`+itoa(now+60)+`,"sid":"s"}`, pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenRequiredClaimMissing},
		{"no sid", signHS256(hdr, `{"sub":"alice","iat":`+itoa(now)+`,"exp":`+itoa(now+60)+`,"jti":"x"}`, pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenRequiredClaimMissing},
		{"future iat", signHS256(hdr, `{"sub":"alice","iat":`+itoa(now+60)+`,"exp":`+itoa(now+600)+`,"jti":"x","sid":"s"}`, pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenUsedBeforeIssued},
		{"nbf ahead", signHS256(hdr, claims(`,"nbf":`+itoa(now+60)), pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenNotValidYet},
		{"empty sub", signHS256(hdr, `{"sub":"","iat":`+itoa(now)+`,"exp":`+itoa(now+600)+`,"jti":"x","sid":"s"}`, pipeKey), ginfresh.ErrTokenInvalid, nil},
		{"numeric sub", signHS256(hdr, `{"sub":42,"iat":`+itoa(now)+`,"exp":`+itoa(now+600)+`,"jti":"x","sid":"s"}`, pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenMalformed},
		{"string exp", signHS256(hdr, `{"sub":"alice","iat":`+itoa(now)+`,"exp":"`+itoa(now+600)+`","jti":"x","sid":"s"}`, pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenMalformed},
		{"string fresh", signHS256(hdr, claims(`,"fresh":"true"`), pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenMalformed},
		{"duplicate sub", signHS256(hdr, claims(`,"sub":"admin"`), pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenMalformed},
		{"escaped duplicate sub", signHS256(hdr, claims(`,"s\u0075b":"admin"`), pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenMalformed},
		{"huge exp", signHS256(hdr, `{"sub":"alice","iat":`+itoa(now)+`,"exp":1e300,"jti":"x","sid":"s"}`, pipeKey), ginfresh.ErrTokenInvalid, jwt.ErrTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Auth.Verify(context.Background(), ginfresh.Access, tt.token)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got %v, want a valid token", err)
				}
				testkit.Status(t, s.Get(testkit.Protected, tt.token), http.StatusOK)
				return
			}
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, ginfresh.ErrTokenInvalid) {
				t.Fatalf("got %v, want %v (and ErrTokenInvalid)", err, tt.wantErr)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("got %v, want it to wrap %v", err, tt.cause)
			}
			w := s.Get(testkit.Protected, tt.token)
			testkit.Refused(t, w, http.StatusUnauthorized, "invalid_token")
		})
	}

	// The issuer and audience a server is set up with are required of
	// every token, whoever signed it.
	t.Run("issuer and audience", func(t *testing.T) {
		s := newPipeServer(t, ginfresh.WithIssuer("https://issuer.example"), ginfresh.WithAudience("api", "admin"))
		kid := kidOf(t, s.Login(t, "alice").AccessToken)
		hdr := `{"alg":"HS256","kid":"` + kid + `","typ":"at+jwt"}`
		for _, tt := range []struct {
			name, extra string
			cause       error
		}{
			{"both right", `,"iss":"https://issuer.example","aud":"admin"`, nil},
			{"audience list", `,"iss":"https://issuer.example","aud":["other","api"]`, nil},
			{"wrong issuer", `,"iss":"https://evil.example","aud":"api"`, jwt.ErrTokenInvalidIssuer},
			{"no issuer", `,"aud":"api"`, jwt.ErrTokenInvalidIssuer},
			{"wrong audience", `,"iss":"https://issuer.example","aud":["other"]`, jwt.ErrTokenInvalidAudience},
			{"no audience", `,"iss":"https://issuer.example"`, jwt.ErrTokenInvalidAudience},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.Auth.Verify(context.Background(), ginfresh.Access, signHS256(hdr, claims(tt.extra), pipeKey))
				switch {
				case tt.cause == nil && err != nil:
					t.Fatalf("got %v, want a valid token", err)
				case tt.cause != nil && (!errors.Is(err, tt.cause) || !errors.Is(err, ginfresh.ErrTokenInvalid)):
					t.Fatalf("got %v, want %v", err, tt.cause)
				}
			})
		}
	})

	t.Run("a fresh refresh token", func(t *testing.T) {
		rt := signHS256(`{"alg":"HS256","kid":"`+kid+`","typ":"refresh+jwt"}`, claims(`,"fresh":true`), pipeKey)
		if _, err := s.Auth.Verify(context.Background(), ginfresh.Refresh, rt); !errors.Is(err, ginfresh.ErrTokenInvalid) {
			t.Fatalf("got %v, want ErrTokenInvalid: refresh tokens are never fresh", err)
		}
	})

	t.Run("unknown kind", func(t *testing.T) {
		if _, err := s.Auth.Verify(context.Background(), ginfresh.Kind(0), tok.AccessToken); err == nil {
			t.Fatal("Verify took a token of kind 0")
		}
	})
}

// flipFirst changes the first character of s.
func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestTokenShape(t *testing.T) {
	s := newPipeServer(t, ginfresh.WithIssuer("https://issuer.example"), ginfresh.WithAudience("api"))
	tok := s.Login(t, "alice")

	h := tokenSegment(t, tok.AccessToken, 0)
	if h["typ"] != "at+jwt" || h["alg"] != "HS256" || h["kid"] == "" {
		t.Errorf("got access header %v, want typ at+jwt, alg HS256 and a kid", h)
	}
	if typ := tokenSegment(t, tok.RefreshToken, 0)["typ"]; typ != "refresh+jwt" {
		t.Errorf("got refresh typ %v, want refresh+jwt", typ)
	}

	p := tokenSegment(t, tok.AccessToken, 1)
	for _, claim := range []string{"sub", "iat", "nbf", "exp", "jti", "fresh", "auth_time", "iss", "aud", "sid", "acr", "amr"} {
		if _, ok := p[claim]; !ok {
			t.Errorf("the access token lacks %s: %v", claim, p)
		}
	}
	if _, ok := p["csrf"]; ok {
		t.Error("a header-mode token carries a csrf claim")
	}
	jti, _ := base64.RawURLEncoding.DecodeString(p["jti"].(string))
	if len(jti) != 16 {
		t.Errorf("got a jti of %d bytes, want 128 random bits", len(jti))
	}
	if p["iss"] != "https://issuer.example" {
		t.Errorf("got iss %v", p["iss"])
	}
	// Dates are whole seconds, though the clock has a fraction.
	want := float64(s.Clock.Now().Unix())
	for _, claim := range []string{"iat", "nbf", "auth_time"} {
		if p[claim] != want {
			t.Errorf("got %s %v, want %v", claim, p[claim], want)
		}
	}

	rp := tokenSegment(t, tok.RefreshToken, 1)
	if _, ok := rp["fresh"]; ok {
		t.Error("a refresh token says fresh")
	}
	if rp["sid"] == "" || rp["sid"] != p["sid"] {
		t.Errorf("got refresh sid %v and access sid %v, want one non-empty session", rp["sid"], p["sid"])
	}
}

func TestTokenExpiryWithClock(t *testing.T) {
	s := newPipeServer(t, ginfresh.WithLeeway(30*time.Second))
	tok := s.Login(t, "alice")
	// exp is the login's second plus 15 minutes; the clock is 678ms past
	// that second, so it passes exp plus leeway 322ms after 15m29s.
	s.Clock.Advance(15*time.Minute + 29*time.Second)
	testkit.Status(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	s.Clock.Advance(time.Second)
	// The token was cached by the request above: the cache expires it too.
	testkit.Refused(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
	_, err := s.Auth.Verify(context.Background(), ginfresh.Access, tok.AccessToken)
	if !errors.Is(err, ginfresh.ErrTokenExpired) || !errors.Is(err, jwt.ErrTokenExpired) {
		t.Fatalf("got %v, want ErrTokenExpired wrapping jwt.ErrTokenExpired", err)
	}
}

// wsHandshake adds what a browser's WebSocket API sends (RFC 6455 §4.1).
func wsHandshake(h http.Header) http.Header {
	h.Set("Connection", "Upgrade")
	h.Set("Upgrade", "websocket")
	h.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	h.Set("Sec-WebSocket-Version", "13")
	return h
}

func TestTokenSources(t *testing.T) {
	tok := newPipeServer(t).Login(t, "alice")
	bearer := "Bearer " + tok.AccessToken
	const access = "__Host-access-token"
	cookie := access + "=" + tok.AccessToken
	query := ginfresh.UnsafeFromQuery("access_token")
	header, fromCookie := ginfresh.FromHeader(), ginfresh.FromCookie()
	onQuery := testkit.Protected + "?access_token=" + tok.AccessToken
	upgradeOnly := http.Header{"Upgrade": {"websocket"}}

	tests := []struct {
		name       string
		sources    []ginfresh.TokenSource // nil: the default
		method     string
		path       string
		header     http.Header
		wantStatus int
	}{
		{"default reads the header", nil, "", testkit.Protected, http.Header{"Authorization": {bearer}}, 200},
		{"default ignores cookies", nil, "", testkit.Protected, http.Header{"Cookie": {cookie}}, 401},
		{"cookie only", []ginfresh.TokenSource{fromCookie}, "", testkit.Protected, http.Header{"Cookie": {cookie}}, 200},
		{"cookie only ignores the header", []ginfresh.TokenSource{fromCookie}, "", testkit.Protected, http.Header{"Authorization": {bearer}}, 401},
		{"header and cookie: header", []ginfresh.TokenSource{header, fromCookie}, "", testkit.Protected, http.Header{"Authorization": {bearer}}, 200},
		{"header and cookie: cookie", []ginfresh.TokenSource{header, fromCookie}, "", testkit.Protected, http.Header{"Cookie": {"theme=dark; " + cookie + "; lang=en"}}, 200},
		{"header and cookie: both", []ginfresh.TokenSource{header, fromCookie}, "", testkit.Protected, http.Header{"Authorization": {bearer}, "Cookie": {cookie}}, 400},
		{"cookie and header: both", []ginfresh.TokenSource{fromCookie, header}, "", testkit.Protected, http.Header{"Authorization": {bearer}, "Cookie": {cookie}}, 400},
		// A sibling subdomain can plant a second copy: each is tried.
		{"cookie sent twice", []ginfresh.TokenSource{fromCookie}, "", testkit.Protected, http.Header{"Cookie": {cookie, cookie}}, 200},
		{"a planted copy first", []ginfresh.TokenSource{fromCookie}, "", testkit.Protected, http.Header{"Cookie": {access + "=garbage; " + cookie}}, 200},
		{"only a planted copy", []ginfresh.TokenSource{fromCookie}, "", testkit.Protected, http.Header{"Cookie": {access + "=garbage"}}, 401},
		{"17 copies", []ginfresh.TokenSource{fromCookie}, "", testkit.Protected, http.Header{"Cookie": {strings.Repeat(cookie+"; ", 17)}}, 400},
		{"empty cookie", []ginfresh.TokenSource{fromCookie}, "", testkit.Protected, http.Header{"Cookie": {access + "="}}, 401},
		{"other cookies only", []ginfresh.TokenSource{fromCookie}, "", testkit.Protected, http.Header{"Cookie": {"theme=dark"}}, 401},
		{"header and another scheme's cookie", []ginfresh.TokenSource{header, fromCookie}, "", testkit.Protected, http.Header{"Authorization": {"Basic YWxpY2U6YWxpY2UtcHc="}, "Cookie": {cookie}}, 200},
		{"query on a WebSocket handshake", []ginfresh.TokenSource{header, query}, "", onQuery, wsHandshake(http.Header{}), 200},
		{"query, Connection lists more", []ginfresh.TokenSource{query}, "", onQuery, with(wsHandshake(http.Header{}), "Connection", "keep-alive, Upgrade"), 200},
		{"query, Upgrade in another case", []ginfresh.TokenSource{query}, "", onQuery, with(wsHandshake(http.Header{}), "Upgrade", "WebSocket"), 200},
		{"query on a plain GET", []ginfresh.TokenSource{header, query}, "", onQuery, nil, 401},
		// Upgrade: websocket alone is no handshake: a browser's WebSocket
		// API always sends the key and version too.
		{"query with Upgrade alone", []ginfresh.TokenSource{query}, "", onQuery, upgradeOnly, 401},
		{"query, handshake without key", []ginfresh.TokenSource{query}, "", onQuery, without(wsHandshake(http.Header{}), "Sec-WebSocket-Key"), 401},
		{"query, handshake without version", []ginfresh.TokenSource{query}, "", onQuery, without(wsHandshake(http.Header{}), "Sec-WebSocket-Version"), 401},
		{"query, handshake of version 8", []ginfresh.TokenSource{query}, "", onQuery, with(wsHandshake(http.Header{}), "Sec-WebSocket-Version", "8"), 401},
		{"query, handshake without Connection", []ginfresh.TokenSource{query}, "", onQuery, without(wsHandshake(http.Header{}), "Connection"), 401},
		{"query on a POST handshake", []ginfresh.TokenSource{query}, http.MethodPost, testkit.Sensitive + "?access_token=" + tok.AccessToken, wsHandshake(http.Header{}), 401},
		{"query not configured", nil, "", onQuery, wsHandshake(http.Header{}), 401},
		{"query and header", []ginfresh.TokenSource{header, query}, "", onQuery, wsHandshake(http.Header{"Authorization": {bearer}}), 400},
		{"query and cookie", []ginfresh.TokenSource{query, fromCookie}, "", onQuery, wsHandshake(http.Header{"Cookie": {cookie}, "Origin": {"http://example.com"}}), 400},
		{"query repeated", []ginfresh.TokenSource{query}, "", onQuery + "&access_token=x", wsHandshake(http.Header{}), 400},
		{"query empty", []ginfresh.TokenSource{query}, "", testkit.Protected + "?access_token=", wsHandshake(http.Header{}), 400},
		{"query malformed", []ginfresh.TokenSource{query}, "", onQuery + "&%zz", wsHandshake(http.Header{}), 400},
		{"query other parameter", []ginfresh.TokenSource{query}, "", testkit.Protected + "?token=" + tok.AccessToken, wsHandshake(http.Header{}), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []ginfresh.Option
			if tt.sources != nil {
				opts = append(opts, ginfresh.WithTokenSources(tt.sources...))
			}
			s := newPipeServer(t, opts...) // same key: the token verifies
			w := s.Do(testkit.Request{Method: tt.method, Path: tt.path, Header: tt.header})
			switch tt.wantStatus {
			case 200:
				testkit.Status(t, w, 200)
			case 400:
				testkit.Refused(t, w, 400, "invalid_request")
				if strings.Contains(w.Body.String(), tok.AccessToken) {
					t.Error("the answer echoes the token")
				}
			case 401:
				// Every 401 here is either no token at all or garbage.
				testkit.Status(t, w, 401)
			}
		})
	}
}

func without(h http.Header, name string) http.Header { h.Del(name); return h }

func with(h http.Header, name, value string) http.Header { h.Set(name, value); return h }

// TestWebSocketHandshakeOrigin: a WebSocket handshake is a GET, which the
// cross-origin check lets through, yet a page on any site can open one with
// the browser's cookies. With SameSite=None nothing but the Origin check
// stands between such a page and the socket.
func TestWebSocketHandshakeOrigin(t *testing.T) {
	const trusted = "https://app.example"
	s := newPipeServer(t,
		ginfresh.WithCookies("/auth/"),
		ginfresh.WithCookieSameSite(http.SameSiteNoneMode),
		ginfresh.WithTrustedOrigins(trusted),
		ginfresh.WithTokenSources(ginfresh.FromHeader(), ginfresh.FromCookie(), ginfresh.UnsafeFromQuery("access_token")),
	)
	b := &testkit.Browser{T: t, H: s.Router, Jar: testkit.Jar{}}
	testkit.Status(t, b.Send(http.MethodPost, "/auth/login", testkit.Credentials("alice", "alice-pw")), http.StatusOK)
	access := b.Jar["__Host-access-token"].Value
	var refusal error // what the guard refused with, kept by gin
	record := func(c *gin.Context) {
		c.Next()
		if last := c.Errors.Last(); last != nil {
			refusal = last.Err
		}
	}
	s.Router.GET("/ws", record, s.Auth.RequireAccess(), func(c *gin.Context) {
		c.String(http.StatusOK, "hello "+ginfresh.MustClaims(c).Subject)
	})
	cookie := "__Host-access-token=" + access
	handshake := func(h http.Header) http.Header {
		h.Set("Sec-Fetch-Mode", "websocket")
		return wsHandshake(h)
	}

	for _, tt := range []struct {
		name       string
		path       string
		header     http.Header
		wantStatus int
		wantErr    string
	}{
		{"cookie from another site", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}), 403, "csrf_check_failed"},
		{"cookie from a sibling site", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example.com"}, "Sec-Fetch-Site": {"same-site"}}), 403, "csrf_check_failed"},
		{"cookie, no Origin", "/ws", handshake(http.Header{"Cookie": {cookie}}), 403, "csrf_check_failed"},
		{"cookie, empty Origin", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {""}}), 403, "csrf_check_failed"},
		{"cookie, opaque Origin", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {"null"}}), 403, "csrf_check_failed"},
		{"cookie, two Origins", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {"https://example.com", "https://evil.example"}}), 403, "csrf_check_failed"},
		{"cookie, same origin", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {"https://example.com"}, "Sec-Fetch-Site": {"same-origin"}}), 200, ""},
		{"cookie, trusted origin", "/ws", handshake(http.Header{"Cookie": {cookie}, "Origin": {trusted}, "Sec-Fetch-Site": {"cross-site"}}), 200, ""},
		// A plain GET stays safe by definition: the answer is the page's,
		// CORS keeps it from the other site. Upgrade alone does not make a
		// handshake (fetch cannot even set it).
		{"cookie, plain GET from another site", "/ws", http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}, 200, ""},
		{"cookie, Upgrade alone from another site", "/ws", http.Header{"Cookie": {cookie}, "Upgrade": {"websocket"}, "Origin": {"https://evil.example"}}, 200, ""},
		// Neither the header nor the URL is filled in by the browser, so a
		// page that can send them holds the token already.
		{"header from another site", "/ws", handshake(http.Header{"Authorization": {"Bearer " + access}, "Origin": {"https://evil.example"}}), 200, ""},
		{"query from another site", "/ws?access_token=" + access, handshake(http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}), 200, ""},
		{"query, no Origin", "/ws?access_token=" + access, handshake(http.Header{}), 200, ""},
		{"query with Upgrade alone", "/ws?access_token=" + access, http.Header{"Upgrade": {"websocket"}}, 401, "unauthorized"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			refusal = nil
			w := s.Do(testkit.Request{Path: tt.path, Header: tt.header})
			if tt.wantErr == "" {
				testkit.Status(t, w, tt.wantStatus)
				if got := w.Body.String(); got != "hello alice" {
					t.Fatalf("got %q, want hello alice", got)
				}
				return
			}
			testkit.Refused(t, w, tt.wantStatus, tt.wantErr)
			if tt.wantStatus == 403 && !errors.Is(refusal, ginfresh.ErrCSRF) {
				t.Errorf("got %v, want ErrCSRF", refusal)
			}
		})
	}
}

// The verified-token cache must never change an answer: every scenario
// runs with the cache on (the token is served from it after the first
// request) and off, and must answer the same.
func TestTokenCacheNeverWidens(t *testing.T) {
	type step struct {
		advance    time.Duration
		path       string
		wantStatus int
	}
	// The clock starts 678ms past the login's second, which the token's
	// dates keep: the token ends 678ms before its lifetime would.
	tests := []struct {
		name   string
		opts   []ginfresh.Option
		steps  []step
		before func(t *testing.T, s *testkit.Server) // once the token was seen
	}{
		{name: "exp is checked on every hit", steps: []step{
			{0, testkit.Protected, 200},
			{15*time.Minute - time.Second, testkit.Protected, 200},
			{time.Second, testkit.Protected, 401},
		}},
		{name: "leeway stretches exp alike", opts: []ginfresh.Option{ginfresh.WithLeeway(time.Minute)}, steps: []step{
			{0, testkit.Protected, 200},
			{16*time.Minute - time.Second, testkit.Protected, 200},
			{time.Second, testkit.Protected, 401},
		}},
		{name: "nbf and iat are checked on every hit", steps: []step{
			{0, testkit.Protected, 200},
			{-time.Second, testkit.Protected, 401},
		}},
		{name: "MaxAge is checked on every hit", steps: []step{
			{0, testkit.Recent, 200},
			{5*time.Minute - time.Second, testkit.Recent, 200},
			{time.Second, testkit.Recent, 401},
			{0, testkit.Protected, 200},
		}},
		{name: "revocation applies to cached tokens", opts: []ginfresh.Option{ginfresh.WithAccessRevocation()},
			before: func(t *testing.T, s *testkit.Server) {
				if err := s.Auth.RevokeSubject(context.Background(), "alice"); err != nil {
					t.Fatal(err)
				}
			},
			steps: []step{{time.Second, testkit.Protected, 401}},
		},
	}
	for _, tt := range tests {
		for _, cache := range []struct {
			name string
			opt  ginfresh.Option
		}{{"cache on", ginfresh.WithTokenCache(10_000)}, {"cache off", ginfresh.WithTokenCache(0)}} {
			t.Run(tt.name+"/"+cache.name, func(t *testing.T) {
				s := newPipeServer(t, append([]ginfresh.Option{cache.opt}, tt.opts...)...)
				tok := s.Login(t, "alice").AccessToken
				do := func(path string) *httptest.ResponseRecorder {
					method := http.MethodGet
					if path == testkit.Recent {
						method = http.MethodPost
					}
					return s.Do(testkit.Request{Method: method, Path: path, Token: tok})
				}
				testkit.Status(t, do(tt.steps[0].path), http.StatusOK) // warms the cache
				if tt.before != nil {
					tt.before(t, s)
				}
				for i, st := range tt.steps {
					s.Clock.Advance(st.advance)
					if w := do(st.path); w.Code != st.wantStatus {
						t.Errorf("step %d (%s at %+v): got %d %s, want %d", i, st.path, st.advance, w.Code, w.Body, st.wantStatus)
					}
				}
			})
		}
	}
}

// TestTokenCacheExactBytes warms the cache with a token, then presents
// tokens one byte away from it: none may be served from the cache.
func TestTokenCacheExactBytes(t *testing.T) {
	s := newPipeServer(t)
	tok := s.Login(t, "alice").AccessToken
	testkit.Status(t, s.Get(testkit.Protected, tok), http.StatusOK)

	change := func(i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	variants := []struct{ name, token string }{
		{"header byte", change(3)},
		{"payload byte", change(len(tok) / 2)},
		{"signature byte", change(len(tok) - 10)},
		{"last byte", change(len(tok) - 1)},
		{"byte appended", tok + "A"},
		{"byte removed", tok[:len(tok)-1]},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			testkit.Refused(t, s.Get(testkit.Protected, v.token), http.StatusUnauthorized, "invalid_token")
		})
	}
	testkit.Status(t, s.Get(testkit.Protected, tok), http.StatusOK) // the genuine token still passes
}

func TestWithTokenCacheValidation(t *testing.T) {
	for _, size := range []int{-1, -10_000} {
		_, err := ginfresh.New(ginfresh.WithHMACKey(pipeKey), ginfresh.WithTokenCache(size))
		if err == nil || !strings.Contains(err.Error(), "WithTokenCache") {
			t.Errorf("WithTokenCache(%d): got %v, want an error naming the option", size, err)
		}
	}
	for _, size := range []int{0, 1, 4, 10_000} {
		if _, err := ginfresh.New(ginfresh.WithHMACKey(pipeKey), ginfresh.WithTokenCache(size)); err != nil {
			t.Errorf("WithTokenCache(%d): %v", size, err)
		}
	}
}

// TestTokenCacheConcurrentRequests runs under -race: many requests at once,
// with valid and tampered tokens, on a cache small enough to evict.
func TestTokenCacheConcurrentRequests(t *testing.T) {
	s := newPipeServer(t, ginfresh.WithTokenCache(4))
	var good []string
	tampered := map[string]string{}
	for range 12 {
		tok := s.Login(t, "alice").AccessToken
		good = append(good, tok)
		b := []byte(tok)
		b[len(b)-10] ^= 1
		tampered[tok] = string(b)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				tok := good[(w+i)%len(good)]
				want := http.StatusOK
				if i%5 == 0 {
					tok, want = tampered[tok], http.StatusUnauthorized
				}
				if got := s.Get(testkit.Protected, tok).Code; got != want {
					select {
					case errs <- fmt.Sprintf("got %d, want %d", got, want):
					default:
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// macFormat is a minimal Format of the tests' own: the kind's initial, the
// payload in base64url, and an HMAC over both. It signs whatever payload it
// is given, so a test can mint claims no ginfresh issuer would.
type macFormat struct{ key []byte }

func (f macFormat) mac(body string) string {
	m := hmac.New(sha256.New, f.key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (f macFormat) Issue(k ginfresh.Kind, payload []byte) (string, error) {
	body := k.String()[:1] + "." + base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + f.mac(body), nil
}

func (f macFormat) Verify(k ginfresh.Kind, token string) ([]byte, error) {
	i := strings.LastIndexByte(token, '.')
	if i < 2 || !hmac.Equal([]byte(token[i+1:]), []byte(f.mac(token[:i]))) {
		return nil, fmt.Errorf("%w: bad signature", ginfresh.ErrTokenInvalid)
	}
	if token[:2] != k.String()[:1]+"." {
		return nil, fmt.Errorf("%w: not a %s token", ginfresh.ErrWrongTokenType, k)
	}
	return base64.RawURLEncoding.DecodeString(token[2:i])
}

func (macFormat) CanIssue() bool { return true }

// TestTokenWithoutSID: every token belongs to a session, which is what
// revocation and logout end; a token of any format that names none could
// never be ended, so it is refused, whatever its kind.
func TestTokenWithoutSID(t *testing.T) {
	f := macFormat{key: pipeKey}
	s := testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithFormat(f))
	// The format works: its own tokens pass.
	tok := s.Login(t, "alice")
	testkit.Status(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusOK)

	now := s.Clock.Now().Unix()
	mint := func(k ginfresh.Kind, sid string) string {
		t.Helper()
		payload := `{"sub":"alice","iat":` + itoa(now) + `,"exp":` + itoa(now+600) + `,"jti":"j"` + sid + `}`
		if k == ginfresh.Access {
			payload = strings.Replace(payload, `"jti"`, `"fresh":true,"jti"`, 1)
		}
		token, err := f.Issue(k, []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	for _, k := range []ginfresh.Kind{ginfresh.Access, ginfresh.Refresh} {
		t.Run(k.String(), func(t *testing.T) {
			if _, err := s.Auth.Verify(context.Background(), k, mint(k, `,"sid":"s1"`)); err != nil {
				t.Fatalf("with a sid: %v", err)
			}
			for _, sid := range []string{"", `,"sid":""`, `,"sid":null`} {
				token := mint(k, sid)
				_, err := s.Auth.Verify(context.Background(), k, token)
				if !errors.Is(err, ginfresh.ErrTokenInvalid) || !errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
					t.Errorf("sid %q: got %v, want ErrTokenInvalid for a missing claim", sid, err)
				}
				if k == ginfresh.Access {
					testkit.Refused(t, s.Get(testkit.Protected, token), http.StatusUnauthorized, "invalid_token")
					testkit.Refused(t, s.Post(testkit.Sensitive, token, ""), http.StatusUnauthorized, "invalid_token")
				} else {
					testkit.Refused(t, s.Refresh(token), http.StatusUnauthorized, "invalid_token")
				}
				testkit.Refused(t, s.Post("/auth/logout", token, ""), http.StatusUnauthorized, "invalid_token")
			}
		})
	}
}
