package ginfresh_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"mime"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// Fuzz targets for every parser of untrusted input: the Authorization and
// Cookie headers, token strings, claims sets, login bodies and JWK Sets.
// Each asserts invariants beyond "no panic": the statuses an endpoint may
// answer, the sentinels its errors wrap, and that nothing but the genuine
// token or credentials ever passes.

var fuzzSecret = []byte("fuzz-target-secret-0123456789-0123456789")

var fuzzB64 = base64.RawURLEncoding

// fuzzFixture holds genuine tokens that come out the same in every process:
// the coordinator of a fuzzing run hands its workers inputs that must mean
// the same there, and minted tokens carry random IDs. They are signed by
// hand with the fixture's secret, on a clock that never moves.
type fuzzFixture struct {
	clock           *testkit.Clock
	access, refresh string // of session fuzz-session, with CSRF value fuzz-csrf
}

const (
	fuzzSession = "fuzz-session"
	fuzzCSRF    = "fuzz-csrf"
)

func newFuzzFixture(t testing.TB) *fuzzFixture {
	t.Helper()
	clk := testkit.NewClock()
	key, err := ginfresh.NewHMACKey("", ginfresh.HS256, fuzzSecret)
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now().Unix()
	sign := func(typ, payload string) string {
		input := fuzzB64.EncodeToString([]byte(`{"alg":"HS256","kid":"`+key.ID()+`","typ":"`+typ+`"}`)) + "." + fuzzB64.EncodeToString([]byte(payload))
		m := hmac.New(sha256.New, fuzzSecret)
		m.Write([]byte(input))
		return input + "." + fuzzB64.EncodeToString(m.Sum(nil))
	}
	dates := fmt.Sprintf(`"iat":%d,"nbf":%d,"auth_time":%d`, now, now, now)
	return &fuzzFixture{
		clock: clk,
		access: sign("at+jwt", fmt.Sprintf(`{"sub":"alice","exp":%d,%s,"jti":"fuzz-access","fresh":true,"sid":%q,"acr":"pwd","amr":["pwd"],"csrf":%q,"scope":"read"}`,
			now+600, dates, fuzzSession, fuzzCSRF)),
		refresh: sign("refresh+jwt", fmt.Sprintf(`{"sub":"alice","exp":%d,%s,"jti":"fuzz-refresh","sid":%q,"acr":"pwd","amr":["pwd"],"csrf":%q}`,
			now+3600, dates, fuzzSession, fuzzCSRF)),
	}
}

// server builds a server with the fixture's key and clock and a store that
// holds the session of the fixture's refresh token.
func (fx *fuzzFixture) server(t testing.TB, opts ...ginfresh.Option) *testkit.Server {
	t.Helper()
	store := ginfresh.NewMemoryStore()
	start := fx.clock.Now()
	s := ginfresh.Session{ID: fuzzSession, Subject: "alice", Started: start, IdleUntil: start.Add(7 * 24 * time.Hour), Expires: start.Add(30 * 24 * time.Hour)}
	if err := store.CreateSession(context.Background(), s, "fuzz-refresh"); err != nil {
		t.Fatal(err)
	}
	base := []ginfresh.Option{ginfresh.WithHMACKey(fuzzSecret), ginfresh.WithStore(store)}
	return testkit.NewServer(t, fx.clock, false, append(base, opts...)...)
}

// fuzzMutations derives hostile seeds from a genuine token.
func fuzzMutations(token string) []string {
	p := strings.Split(token, ".")
	sig, _ := fuzzB64.DecodeString(p[2])
	sig[0] ^= 0x80
	return []string{
		token,
		token + "=",
		token + ".",
		token[:len(token)-1],
		p[0] + "." + p[1],
		p[0] + "." + p[1] + ".",
		p[0] + "." + p[1] + "." + fuzzB64.EncodeToString(sig),
		p[0] + "." + p[1] + "." + p[2][:5] + "\n" + p[2][5:],
		"eyJhbGciOiJub25lIn0." + p[1] + ".",
		p[1] + "." + p[0] + "." + p[2],
		strings.ToUpper(token),
		"",
	}
}

// fuzzAnswer fails on a status outside allowed and on a refusal that is not
// a JSON error.
func fuzzAnswer(t *testing.T, w *httptest.ResponseRecorder, allowed ...int) {
	t.Helper()
	ok := false
	for _, s := range allowed {
		ok = ok || w.Code == s
	}
	if !ok {
		t.Fatalf("status %d (allowed %v): %s", w.Code, allowed, w.Body)
	}
	if w.Code >= 400 {
		testkit.ErrorCode(t, w) // a JSON error with a description
	}
}

// fuzzPublic is what a Claims value says through its exported fields.
func fuzzPublic(c *ginfresh.Claims) ginfresh.Claims {
	return ginfresh.Claims{
		Subject: c.Subject, Issuer: c.Issuer, Audience: c.Audience, ID: c.ID,
		IssuedAt: c.IssuedAt, NotBefore: c.NotBefore, ExpiresAt: c.ExpiresAt, AuthTime: c.AuthTime,
		SessionID: c.SessionID, Fresh: c.Fresh, ACR: c.ACR, AMR: c.AMR,
	}
}

// fuzzRoundTrip checks that claims re-encode to the same claims.
func fuzzRoundTrip(t *testing.T, c *ginfresh.Claims) {
	t.Helper()
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON of decoded claims: %v", err)
	}
	var again ginfresh.Claims
	if err := again.UnmarshalJSON(b); err != nil {
		t.Fatalf("the re-encoded claims %s do not decode: %v", b, err)
	}
	if got, want := fuzzPublic(&again), fuzzPublic(c); !reflect.DeepEqual(got, want) {
		t.Fatalf("re-encoded as %s, which decodes to %+v, want %+v", b, got, want)
	}
}

// fuzzIsBearer reads an Authorization value as RFC 6750 §2.1 says, by a
// route of its own: the scheme "Bearer" in any ASCII case, then one or more
// spaces and the token. It reports whether the scheme is Bearer at all.
func fuzzIsBearer(v string) (token string, bearer bool) {
	if len(v) < 6 {
		return "", false
	}
	for i, c := range []byte(v[:6]) {
		if c|0x20 != "bearer"[i] {
			return "", false
		}
	}
	if len(v) > 6 && v[6] != ' ' {
		return "", false
	}
	return strings.TrimLeft(v[6:], " "), true
}

// FuzzBearerHeader sends Authorization headers to a guarded route. It
// answers 200 for exactly the genuine token as a Bearer credential, 400
// invalid_request for a repeated, oversized or empty Bearer header, 401
// invalid_token for any other Bearer credential and 401 without an error
// code for other schemes.
func FuzzBearerHeader(f *testing.F) {
	fx := newFuzzFixture(f)
	s := fx.server(f)
	if w := s.Get(testkit.Protected, fx.access); w.Code != http.StatusOK {
		f.Fatalf("the genuine token is refused: %d %s", w.Code, w.Body)
	}
	for _, m := range append(fuzzMutations(fx.access), fx.refresh) {
		for _, prefix := range []string{"Bearer ", "bearer  ", "BEARER ", "Basic ", "Bearer\t", "Bearer", ""} {
			f.Add(prefix+m, false)
		}
	}
	for _, seed := range []string{"Bearer", "Bearer ", "", " Bearer x", "Bearer x y", "Bearer " + strings.Repeat("a", 8<<10), "Bearer " + fx.access + ", Bearer " + fx.access} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, value string, twice bool) {
		h := http.Header{"Authorization": {value}}
		if twice {
			h["Authorization"] = append(h["Authorization"], value)
		}
		w := s.Do(testkit.Request{Path: testkit.Protected, Header: h})
		fuzzAnswer(t, w, http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized)

		token, bearer := fuzzIsBearer(value)
		ch := w.Header().Get("WWW-Authenticate")
		switch {
		case twice, len(value) > 8<<10, bearer && token == "":
			testkit.Refused(t, w, http.StatusBadRequest, "invalid_request")
		case !bearer:
			testkit.Refused(t, w, http.StatusUnauthorized, "unauthorized")
			if strings.Contains(ch, "error=") {
				t.Fatalf("no credentials, yet the challenge %q names an error", ch)
			}
		case token == fx.access:
			testkit.Status(t, w, http.StatusOK)
		default:
			testkit.Refused(t, w, http.StatusUnauthorized, "invalid_token")
		}
	})
}

// FuzzVerify feeds Auth.Verify token strings for both kinds. No input may
// panic; every refusal wraps ErrTokenInvalid (and ErrWrongTokenType for the
// genuine token of the other kind); the only strings accepted are the
// genuine tokens themselves, each as its own kind, and their claims
// re-encode to the same claims.
func FuzzVerify(f *testing.F) {
	fx := newFuzzFixture(f)
	s := fx.server(f)
	genuine := map[ginfresh.Kind]string{ginfresh.Access: fx.access, ginfresh.Refresh: fx.refresh}
	ctx := context.Background()
	for k, tok := range genuine {
		if _, err := s.Auth.Verify(ctx, k, tok); err != nil {
			f.Fatalf("the genuine %v token is refused: %v", k, err)
		}
		for _, m := range fuzzMutations(tok) {
			f.Add(m)
		}
	}
	f.Fuzz(func(t *testing.T, token string) {
		for k, want := range genuine {
			c, err := s.Auth.Verify(ctx, k, token)
			if err != nil {
				if !errors.Is(err, ginfresh.ErrTokenInvalid) {
					t.Fatalf("Verify(%v) refused with %v, which is not ErrTokenInvalid", k, err)
				}
				if token != want && (token == fx.access || token == fx.refresh) && !errors.Is(err, ginfresh.ErrWrongTokenType) {
					t.Fatalf("the genuine token of the other kind refused as %v, want ErrWrongTokenType", err)
				}
				continue
			}
			if token != want {
				t.Fatalf("Verify(%v) accepted a token that was never issued: %q", k, token)
			}
			if c.Subject != "alice" || c.SessionID != fuzzSession {
				t.Fatalf("the genuine token verified as %+v", c)
			}
			fuzzRoundTrip(t, c)
		}
	})
}

// fuzzMistyped reports why a claims set must be refused by its members'
// JSON types alone: a registered claim of the wrong type, or a date out of
// range. "" when nothing is wrong with the types.
func fuzzMistyped(payload []byte) string {
	var members map[string]json.RawMessage
	if json.Unmarshal(payload, &members) != nil {
		return ""
	}
	isString := func(v []byte) bool { return len(v) > 0 && v[0] == '"' }
	isStrings := func(v []byte) bool {
		var elems []json.RawMessage
		if json.Unmarshal(v, &elems) != nil || len(v) == 0 || v[0] != '[' {
			return false
		}
		for _, e := range elems {
			if !isString(e) {
				return false
			}
		}
		return true
	}
	for name, v := range members {
		if string(v) == "null" {
			continue
		}
		var ok bool
		switch name {
		case "iss", "sub", "jti", "sid", "csrf", "acr":
			ok = isString(v)
		case "aud":
			ok = isString(v) || isStrings(v)
		case "amr":
			ok = isStrings(v)
		case "fresh":
			ok = string(v) == "true" || string(v) == "false"
		case "exp", "nbf", "iat", "auth_time":
			f, err := strconv.ParseFloat(string(v), 64)
			ok = err == nil && !isString(v) && f >= 0 && f <= 1e11
		default:
			ok = true
		}
		if !ok {
			return fmt.Sprintf("claim %q is %s", name, v)
		}
	}
	return ""
}

// FuzzDecodeClaims feeds Claims.UnmarshalJSON payloads. What it accepts is
// one JSON object that re-encodes through MarshalJSON to equal claims; a
// registered claim of the wrong type, or a date out of range, is an error.
func FuzzDecodeClaims(f *testing.F) {
	fx := newFuzzFixture(f)
	for _, tok := range []string{fx.access, fx.refresh} {
		payload, err := fuzzB64.DecodeString(strings.Split(tok, ".")[1])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(payload)
	}
	for _, seed := range []string{
		`{"sub":"alice","iat":1893553445.123,"nbf":1893553445,"exp":1893554345,"jti":"x","fresh":true,"auth_time":1893553445,"role":"user"}`,
		`{"sub":"alice","aud":["a","b"],"iss":"i","sid":"s","exp":1e9,"acr":"mfa","amr":["pwd","otp"]}`,
		`{"aud":"one","sub":null,"fresh":null,"exp":null,"amr":null}`,
		` { "sub" : "a\u00e9\"b" , "x" : {"y":[1,{"z":"}"}]} } `,
		`{"sub":"alice","sub":"admin"}`, `{"sub":"alice","s\u0075b":"admin"}`, `{"sub":"alice","SUB":"admin"}`,
		`{"sub":42}`, `{"exp":"1"}`, `{"fresh":"true"}`, `{"aud":[1]}`, `{"aud":{}}`, `{"amr":"pwd"}`, `{"amr":[null]}`,
		`{"exp":1e400}`, `{"exp":-1}`, `{"exp":0.5e-3}`, `{"iat":100000000001}`, `{"sub":"\xff"}`, `{"sub":"\ud800"}`,
		`{}`, `[]`, `"x"`, `{"a":1,}`, `{"a"}`, `{"sub":"a"} x`, "", `null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var c ginfresh.Claims
		err := c.UnmarshalJSON(payload)
		if why := fuzzMistyped(payload); why != "" && err == nil {
			t.Fatalf("UnmarshalJSON(%q) accepted it, though %s", payload, why)
		}
		if err != nil {
			return
		}
		if trimmed := bytes.TrimSpace(payload); !json.Valid(payload) || trimmed[0] != '{' {
			t.Fatalf("UnmarshalJSON(%q) accepted what is not one JSON object", payload)
		}
		fuzzRoundTrip(t, &c)
	})
}

// TestDecodeClaimsSubSecondDate: dates are whole seconds, a fraction from
// another issuer dropped, and 0 is no date at all, so a date under one
// second reads as 0 does: a token with {"iat":0.5} fails the missing-iat
// check as {"iat":0} does, and such claims round-trip (FuzzDecodeClaims
// found {"exp":0.5e-3} reading as the epoch).
func TestDecodeClaimsSubSecondDate(t *testing.T) {
	for _, name := range []string{"exp", "nbf", "iat", "auth_time"} {
		var half, zero ginfresh.Claims
		if err := half.UnmarshalJSON([]byte(`{"` + name + `":0.5}`)); err != nil {
			t.Fatal(err)
		}
		if err := zero.UnmarshalJSON([]byte(`{"` + name + `":0}`)); err != nil {
			t.Fatal(err)
		}
		if got, want := fuzzPublic(&half), fuzzPublic(&zero); !reflect.DeepEqual(got, want) {
			t.Errorf("%s 0.5 decodes to %+v, %s 0 to %+v", name, got, name, want)
		}
		fuzzRoundTrip(t, &half)
	}
}

// FuzzLoginBody posts bodies with any Content-Type to /auth/login. It
// answers only 200, 400, 401, 415 or 429; the authenticator runs only for
// an application/json object whose username and password are non-empty
// strings, and sees exactly them; a 200 comes only when it approved, with
// tokens of that user.
func FuzzLoginBody(f *testing.F) {
	clk := testkit.NewClock()
	var (
		calls              int
		username, password string
		approved           bool
	)
	s := testkit.NewServer(f, clk, true, ginfresh.WithHMACKey(fuzzSecret),
		ginfresh.WithAuthenticator(func(c *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
			calls++
			username, password = req.Username, req.Password
			id, err := testkit.Authenticate(c, req)
			approved = err == nil
			return id, err
		}))
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON", "text/plain", "text/plain;charset=UTF-8", "", "application/json;", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"} {
		f.Add(ct, []byte(testkit.Credentials("alice", "alice-pw")))
	}
	for _, seed := range []string{
		testkit.Credentials("alice", "wrong"), testkit.Credentials("bob", "bob-pw"),
		`{"username":"alice","password":"alice-pw","otp":"123456"}`, `{"username":"alice","password":"alice-pw","otp":123456}`,
		`{"USERNAME":"alice","Password":"alice-pw"}`, `{"username":"\u0061lice","password":"alice-pw"}`,
		`{"username":"alice","password":"alice-pw","username":"bob"}`, `{"username":["alice"],"password":"x"}`,
		`{"username":"alice","password":"alice-pw"} {}`, `null`, `[]`, `{`, ``, `"alice"`, `{"username":"","password":"x"}`,
		`{"username":"alice","password":null}`, `{"username":"alice\u0000","password":"alice-pw"}`, "username=alice&password=alice-pw",
	} {
		f.Add("application/json", []byte(seed))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		clk.Advance(time.Minute) // the throttle's windows pass, now and then
		calls, approved = 0, false
		h := http.Header{}
		if contentType != "" {
			h["Content-Type"] = []string{contentType}
		}
		r := httptest.NewRequest(http.MethodPost, "/auth/login", bytes.NewReader(body))
		r.Header = h
		w := httptest.NewRecorder()
		s.Router.ServeHTTP(w, r)
		fuzzAnswer(t, w, http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusUnsupportedMediaType, http.StatusTooManyRequests)

		if calls > 1 {
			t.Fatalf("the authenticator ran %d times for one login", calls)
		}
		if calls == 1 {
			mt, _, err := mime.ParseMediaType(contentType)
			if err != nil || mt != "application/json" {
				t.Fatalf("the authenticator ran for Content-Type %q", contentType)
			}
			var members map[string]json.RawMessage
			if json.Unmarshal(body, &members) != nil || bytes.TrimSpace(body)[0] != '{' {
				t.Fatalf("the authenticator ran for %q, not a JSON object", body)
			}
			for name, got := range map[string]string{"username": username, "password": password} {
				var want string
				raw := members[name]
				if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &want) != nil || want == "" || got != want {
					t.Fatalf("the authenticator saw %s %q for %q", name, got, body)
				}
			}
		}
		if w.Code != http.StatusOK {
			return
		}
		if !approved {
			t.Fatalf("200 without approved credentials for %q", body)
		}
		tok := testkit.DecodeTokens(t, w)
		if c := s.Claims(t, ginfresh.Access, tok.AccessToken); c.Subject != username {
			t.Fatalf("200 for %q answered a token of %q, want %q", body, c.Subject, username)
		}
	})
}

// FuzzRefreshRequest sends /auth/refresh and /auth/logout any combination
// of Authorization, Cookie, X-CSRF-Token and Sec-Fetch-Site headers, in
// cookie mode (which reads both the header and the cookies). Nothing
// answers 5xx, and a success needs the genuine refresh token (or, at
// logout, the genuine access token) in the request.
func FuzzRefreshRequest(f *testing.F) {
	fx := newFuzzFixture(f)
	for _, logout := range []bool{false, true} {
		s := fx.server(f, ginfresh.WithCookies("/auth/"))
		path := map[bool]string{false: "/auth/refresh", true: "/auth/logout"}[logout]
		if w := s.Post(path, fx.refresh, ""); w.Code >= 300 {
			f.Fatalf("the genuine refresh token is refused at %s: %d %s", path, w.Code, w.Body)
		}
	}
	const rc, ac = "__Secure-refresh-token=", "__Host-access-token="
	csrfCookie := testkit.CSRFCookie + "=" + fuzzCSRF
	for _, logout := range []bool{false, true} {
		for _, m := range append(fuzzMutations(fx.refresh), fx.access) {
			f.Add(logout, "Bearer "+m, "", "", "")
			f.Add(logout, "", rc+m+"; "+csrfCookie, fuzzCSRF, "same-origin")
		}
		f.Add(logout, "", ac+fx.access+"; "+csrfCookie, fuzzCSRF, "same-origin")
		f.Add(logout, "", rc+"garbage; "+rc+fx.refresh+"; "+csrfCookie, fuzzCSRF, "same-origin")
		f.Add(logout, "", strings.Repeat(rc+fx.refresh+"; ", 17)+csrfCookie, fuzzCSRF, "same-origin")
		f.Add(logout, "Bearer "+fx.refresh, rc+fx.refresh+"; "+csrfCookie, fuzzCSRF, "")
		f.Add(logout, "", rc+fx.refresh+"; "+csrfCookie, "", "same-origin")
		f.Add(logout, "", rc+fx.refresh+"; "+csrfCookie, fuzzCSRF, "cross-site")
		f.Add(logout, "Bearer "+fx.refresh, "", "", "cross-site")
		f.Add(logout, "Bearer "+fx.refresh, "", "", "none")
	}
	f.Fuzz(func(t *testing.T, logout bool, authorization, cookie, csrf, site string) {
		// A server of its own: a logout ends the session for good.
		s := fx.server(t, ginfresh.WithCookies("/auth/"), ginfresh.WithTokenCache(0))
		h := http.Header{}
		for name, v := range map[string]string{"Authorization": authorization, "Cookie": cookie, "X-Csrf-Token": csrf, "Sec-Fetch-Site": site} {
			if v != "" {
				h[name] = []string{v}
			}
		}
		path, success := "/auth/refresh", http.StatusOK
		if logout {
			path, success = "/auth/logout", http.StatusNoContent
		}
		w := s.Do(testkit.Request{Method: http.MethodPost, Path: path, Header: h})
		fuzzAnswer(t, w, success, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden)
		if w.Code != success {
			return
		}
		sent := authorization + "\x00" + cookie
		if !strings.Contains(sent, fx.refresh) && !(logout && strings.Contains(sent, fx.access)) {
			t.Fatalf("%s succeeded without the genuine token: %q, cookie %q", path, authorization, cookie)
		}
	})
}

// FuzzCookieHeader sends Cookie headers, one or several lines (split at
// newlines) and many copies of the token cookies, to cookie-mode routes: a
// GET that needs an access token and a POST that needs a fresh one. Nothing
// answers 5xx; a 200 needs the genuine access cookie and, for the POST, the
// session's CSRF value in both the header and its cookie.
func FuzzCookieHeader(f *testing.F) {
	fx := newFuzzFixture(f)
	s := fx.server(f, ginfresh.WithCookies("/auth/"))
	const ac = "__Host-access-token="
	csrfCookie := testkit.CSRFCookie + "=" + fuzzCSRF
	genuine := ac + fx.access
	for _, post := range []bool{false, true} {
		for _, n := range []int{1, 2, 16, 17} {
			f.Add(post, strings.Repeat(genuine+"; ", n)+csrfCookie, fuzzCSRF)
		}
		for _, m := range fuzzMutations(fx.access) {
			f.Add(post, ac+m+"; "+genuine+"; "+csrfCookie, fuzzCSRF)
		}
		f.Add(post, strings.Repeat(ac+"x; ", 16)+genuine+"; "+csrfCookie, fuzzCSRF)
		f.Add(post, genuine+"\n"+csrfCookie, fuzzCSRF)
		f.Add(post, genuine+"; "+testkit.CSRFCookie+"=other; "+csrfCookie, fuzzCSRF)
		f.Add(post, genuine+"; "+csrfCookie, "")
		f.Add(post, genuine+"; "+csrfCookie, "other")
		f.Add(post, genuine+";"+csrfCookie+";;=;"+ac, fuzzCSRF)
		f.Add(post, "__Secure-refresh-token="+fx.refresh+"; "+csrfCookie, fuzzCSRF)
	}
	f.Fuzz(func(t *testing.T, post bool, cookie, csrf string) {
		req := testkit.Request{Path: testkit.Protected, Header: http.Header{"Sec-Fetch-Site": {"same-origin"}}}
		if post {
			req.Method, req.Path = http.MethodPost, testkit.Sensitive
		}
		if cookie != "" {
			req.Header["Cookie"] = strings.Split(cookie, "\n")
		}
		if csrf != "" {
			req.Header["X-Csrf-Token"] = []string{csrf}
		}
		w := s.Do(req)
		fuzzAnswer(t, w, http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden)
		if w.Code != http.StatusOK {
			return
		}
		if !strings.Contains(cookie, genuine) {
			t.Fatalf("200 without the genuine access cookie: %q", cookie)
		}
		if post && (csrf != fuzzCSRF || !strings.Contains(cookie, csrfCookie)) {
			t.Fatalf("a POST passed with CSRF header %q and cookies %q", csrf, cookie)
		}
	})
}

// fuzzAlgorithms are the algorithms a public key can be bound to.
var fuzzAlgorithms = []ginfresh.Algorithm{
	ginfresh.RS256, ginfresh.RS384, ginfresh.RS512, ginfresh.PS256, ginfresh.PS384, ginfresh.PS512,
	ginfresh.ES256, ginfresh.ES384, ginfresh.ES512, ginfresh.EdDSA,
}

// FuzzJWKSet feeds JWK Set documents to the two places that read them.
// Each key through JWK.PublicKey and NewVerificationKey: refusals wrap
// ErrInvalidKey, and an accepted key publishes as the same public key and
// cannot sign. The whole document through a resource server built with
// WithJWKSURL, fetched from an httptest server: Verify of a token signed by
// the fixture's Ed25519 key answers nil only when the document publishes
// that key, else an error wrapping ErrTokenInvalid or ErrKeySetUnavailable.
func FuzzJWKSet(f *testing.F) {
	clk := testkit.NewClock()
	seed := sha256.Sum256([]byte("fuzz ed25519 key"))
	private := ed25519.NewKeyFromSeed(seed[:])
	signer, err := ginfresh.NewSigningKey("fuzz-ed", ginfresh.EdDSA, private)
	if err != nil {
		f.Fatal(err)
	}
	ours, err := signer.PublicJWK()
	if err != nil {
		f.Fatal(err)
	}
	now := clk.Now().Unix()
	input := fuzzB64.EncodeToString([]byte(`{"alg":"EdDSA","kid":"fuzz-ed","typ":"at+jwt"}`)) + "." +
		fuzzB64.EncodeToString(fmt.Appendf(nil, `{"sub":"alice","exp":%d,"iat":%d,"jti":"fuzz-access","sid":%q}`, now+600, now, fuzzSession))
	token := input + "." + fuzzB64.EncodeToString(ed25519.Sign(private, []byte(input)))

	var served atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(*served.Load())
	}))
	f.Cleanup(srv.Close)

	set := func(keys ...any) []byte {
		b, err := json.Marshal(map[string]any{"keys": keys})
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	n2048 := new(big.Int).Lsh(big.NewInt(1), 2047)
	n2048.Add(n2048, big.NewInt(1))
	rsaJWK := ginfresh.JWK{KeyType: "RSA", KeyID: "r", Algorithm: "RS256", N: fuzzB64.EncodeToString(n2048.Bytes()), E: "AQAB"}
	ecJWK := ginfresh.JWK{KeyType: "EC", Curve: "P-256", Algorithm: "ES256", KeyID: "e",
		X: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", Y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
	for _, seedDoc := range [][]byte{
		set(ours), set(rsaJWK, ecJWK, ours), set(ecJWK),
		set(map[string]any{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "fuzz-ed", "x": ours.X, "use": "enc"}),
		set(map[string]any{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "fuzz-ed", "x": ours.X, "key_ops": []string{"sign"}}),
		set(map[string]any{"kty": "OKP", "crv": "Ed25519", "alg": "ES256", "kid": "fuzz-ed", "x": ours.X}),
		set(map[string]any{"kty": "oct", "alg": "HS256", "kid": "fuzz-ed", "k": "YXR0YWNrZXI"}),
		set(rsaJWK, rsaJWK), []byte(`{"keys":null}`), []byte(`{}`), []byte(`[]`), []byte(`{"keys":[{}]}`), nil,
	} {
		f.Add(seedDoc)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, body []byte) {
		var doc ginfresh.JWKSet
		if json.Unmarshal(body, &doc) != nil {
			doc.Keys = nil
		} else {
			for _, j := range doc.Keys {
				pub, err := j.PublicKey()
				if err != nil {
					if !errors.Is(err, ginfresh.ErrInvalidKey) {
						t.Fatalf("PublicKey of %+v: %v, not ErrInvalidKey", j, err)
					}
					continue
				}
				for _, alg := range fuzzAlgorithms {
					k, err := ginfresh.NewVerificationKey(j.KeyID, alg, pub)
					if err != nil {
						if !errors.Is(err, ginfresh.ErrInvalidKey) {
							t.Fatalf("NewVerificationKey(%s) of %+v: %v, not ErrInvalidKey", alg, j, err)
						}
						continue
					}
					if k.CanSign() || k.Algorithm() != alg {
						t.Fatalf("a key from %+v can sign or is bound to %s, not %s", j, k.Algorithm(), alg)
					}
					published, err := k.PublicJWK()
					if err != nil {
						t.Fatalf("PublicJWK of an accepted key: %v", err)
					}
					back, err := published.PublicKey()
					if err != nil || !back.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
						t.Fatalf("the key published as %+v, which reads back as %v (%v)", published, back, err)
					}
				}
			}
		}

		served.Store(&body)
		rs, err := ginfresh.New(ginfresh.WithJWKSURL(srv.URL, ginfresh.UnsafeJWKSOverHTTP()),
			ginfresh.WithTimeFunc(clk.Now), ginfresh.WithTokenCache(0))
		if err != nil {
			t.Fatal(err)
		}
		c, err := rs.Verify(ctx, ginfresh.Access, token)
		publishes := false
		for _, j := range doc.Keys {
			publishes = publishes || j.X == ours.X
		}
		switch {
		case err == nil && (c.Subject != "alice" || !publishes):
			t.Fatalf("verified as %+v with the key set %q", c, body)
		case err != nil && !errors.Is(err, ginfresh.ErrTokenInvalid) && !errors.Is(err, ginfresh.ErrKeySetUnavailable):
			t.Fatalf("Verify: %v, neither ErrTokenInvalid nor ErrKeySetUnavailable", err)
		}
	})
}
