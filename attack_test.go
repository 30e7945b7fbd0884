package ginfresh_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"hash"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// The attack matrix: hostile requests, each with the one answer it must
// get. Tokens whose attack is in their claims or header are signed with the
// real key, so only the check under attack stands between them and a pass;
// the baseline rows show that the same forging passes without the attack.

var attackSecret = []byte("attack-matrix-secret-0123456789-0123456789")

var attackRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

var attackB64 = base64.RawURLEncoding

// The cookies of cookie mode, by their default names.
const (
	attackAccessCookie  = "__Host-access-token"
	attackRefreshCookie = "__Secure-refresh-token"
)

// attackSetup is the server a row attacks.
type attackSetup uint8

const (
	attackHS     attackSetup = iota // HS256, tokens in the Authorization header, WithAccessRevocation
	attackRS                        // the same with an RS256 key
	attackCookie                    // HS256 in cookie mode; alice and bob logged in from their pages
	attackQuery                     // HS256 reading the header, then UnsafeFromQuery("access_token")
)

// attackTarget is a server under attack with a genuine session of alice's.
type attackTarget struct {
	s     *testkit.Server
	setup attackSetup
	tok   ginfresh.Tokens // alice's (in cookie mode, from her cookies)
	csrf  string          // cookie mode: alice's CSRF value
	bob   *testkit.Browser
	kid   string
	sid   string
	now   int64
	// rt holds the genuine refresh token's claims, for forging refresh
	// tokens of the live session.
	rt map[string]any
}

func newAttackTarget(t *testing.T, setup attackSetup) *attackTarget {
	t.Helper()
	opts := []ginfresh.Option{ginfresh.WithAccessRevocation()}
	if setup == attackRS {
		key, err := ginfresh.NewSigningKey("", ginfresh.RS256, attackRSAKey())
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, ginfresh.WithSigningKey(key))
	} else {
		opts = append(opts, ginfresh.WithHMACKey(attackSecret))
	}
	switch setup {
	case attackCookie:
		opts = append(opts, ginfresh.WithCookies("/auth/"))
	case attackQuery:
		opts = append(opts, ginfresh.WithTokenSources(ginfresh.FromHeader(), ginfresh.UnsafeFromQuery("access_token")))
	}
	clk := testkit.NewClock()
	s := testkit.NewServer(t, clk, false, opts...)
	tg := &attackTarget{s: s, setup: setup, now: clk.Now().Unix()}
	if setup == attackCookie {
		page := func(user string) *testkit.Browser {
			b := &testkit.Browser{T: t, H: s.Router, Jar: testkit.Jar{}}
			testkit.Status(t, b.Send(http.MethodPost, "/auth/login", testkit.Credentials(user, testkit.Users[user])), http.StatusOK)
			return b
		}
		alice := page("alice")
		tg.bob = page("bob")
		tg.tok = ginfresh.Tokens{AccessToken: alice.Jar[attackAccessCookie].Value, RefreshToken: alice.Jar[attackRefreshCookie].Value}
		tg.csrf = alice.Jar[testkit.CSRFCookie].Value
	} else {
		tg.tok = s.Login(t, "alice")
	}
	tg.kid = attackSegment(t, tg.tok.AccessToken, 0)["kid"].(string)
	tg.sid = s.Claims(t, ginfresh.Access, tg.tok.AccessToken).SessionID
	tg.rt = attackSegment(t, tg.tok.RefreshToken, 1)
	return tg
}

// attackSegment decodes the JSON of a token's header (0) or payload (1).
func attackSegment(t testing.TB, token string, i int) map[string]any {
	t.Helper()
	raw, err := attackB64.DecodeString(strings.Split(token, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber() // dates come back as they were written
	m := map[string]any{}
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func attackEncode(header, payload string) string {
	return attackB64.EncodeToString([]byte(header)) + "." + attackB64.EncodeToString([]byte(payload))
}

func attackHMAC(h func() hash.Hash, header, payload string, key []byte) string {
	input := attackEncode(header, payload)
	m := hmac.New(h, key)
	m.Write([]byte(input))
	return input + "." + attackB64.EncodeToString(m.Sum(nil))
}

// sign signs header and payload with the target's real key.
func (tg *attackTarget) sign(header, payload string) string {
	if tg.setup != attackRS {
		return attackHMAC(sha256.New, header, payload, attackSecret)
	}
	input := attackEncode(header, payload)
	sig, err := jwt.SigningMethodRS256.Sign(input, attackRSAKey())
	if err != nil {
		panic(err)
	}
	return input + "." + attackB64.EncodeToString(sig)
}

func (tg *attackTarget) alg() string {
	if tg.setup == attackRS {
		return "RS256"
	}
	return "HS256"
}

// header is the genuine header of a token of typ.
func (tg *attackTarget) header(typ string) string {
	return `{"alg":"` + tg.alg() + `","kid":"` + tg.kid + `","typ":"` + typ + `"}`
}

// Claim members of a well-formed access token of the live session; obj
// joins them.
func (tg *attackTarget) sub() string { return `"sub":"alice"` }
func (tg *attackTarget) iat() string { return `"iat":` + strconv.FormatInt(tg.now, 10) }
func (tg *attackTarget) exp() string { return `"exp":` + strconv.FormatInt(tg.now+600, 10) }
func (tg *attackTarget) jti() string { return `"jti":"forged-jti"` }
func (tg *attackTarget) sidClaim() string {
	return `"sid":"` + tg.sid + `"`
}

func attackObj(members ...string) string { return "{" + strings.Join(members, ",") + "}" }

// access forges an access token with the real key from claim members.
func (tg *attackTarget) access(members ...string) string {
	return tg.sign(tg.header("at+jwt"), attackObj(members...))
}

// wellFormed is the members of an access token that passes.
func (tg *attackTarget) wellFormed(extra ...string) []string {
	return append([]string{tg.sub(), tg.iat(), tg.exp(), tg.jti(), tg.sidClaim()}, extra...)
}

// refreshClaims returns the genuine refresh token's claims, changed by edit.
func (tg *attackTarget) refreshClaims(edit func(map[string]any)) string {
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
func (tg *attackTarget) parts() []string { return strings.Split(tg.tok.AccessToken, ".") }

// cookieRequest is a same-origin page's POST to path with the refresh
// cookies given, in that order, and alice's CSRF cookie and header.
func (tg *attackTarget) cookieRequest(path string, refresh ...string) testkit.Request {
	var pairs []string
	for _, v := range refresh {
		pairs = append(pairs, attackRefreshCookie+"="+v)
	}
	pairs = append(pairs, testkit.CSRFCookie+"="+tg.csrf)
	return testkit.Request{Method: http.MethodPost, Path: path, Header: http.Header{
		"Cookie": {strings.Join(pairs, "; ")}, "X-Csrf-Token": {tg.csrf}, "Sec-Fetch-Site": {"same-origin"},
	}}
}

func attackProtected(token string) testkit.Request {
	return testkit.Request{Path: testkit.Protected, Token: token}
}

func attackRefresh(token string) testkit.Request {
	return testkit.Request{Method: http.MethodPost, Path: "/auth/refresh", Token: token}
}

func attackAuthorization(values ...string) testkit.Request {
	return testkit.Request{Path: testkit.Protected, Header: http.Header{"Authorization": values}}
}

func attackForm(path, token string) testkit.Request {
	return testkit.Request{Method: http.MethodPost, Path: path, Body: "access_token=" + token + "&refresh_token=" + token,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}
}

// attackFlip flips the first bit of a base64url segment.
func attackFlip(seg string) string {
	b, err := attackB64.DecodeString(seg)
	if err != nil || len(b) == 0 {
		panic("not a base64url segment")
	}
	b[0] ^= 0x80
	return attackB64.EncodeToString(b)
}

// attackFlipLast changes the token's last character.
func attackFlipLast(s string) string {
	if s[len(s)-1] == 'A' {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}

// The answers rows expect.
const (
	attackInvalidToken   = "invalid_token"
	attackInvalidRequest = "invalid_request"
	attackNoCredentials  = "unauthorized" // 401 whose challenge carries no error (RFC 6750 §3.1)
	attackNotFresh       = "insufficient_user_authentication"
	attackCSRF           = "csrf_check_failed"
)

type attackRow struct {
	name       string
	setup      attackSetup
	build      func(t *testing.T, tg *attackTarget) testkit.Request
	wantStatus int
	wantCode   string // for refusals
	// then, if set, checks what the answer must have left behind.
	then func(t *testing.T, tg *attackTarget, req testkit.Request, w *httptest.ResponseRecorder)
}

func attackRows() []attackRow {
	type build = func(*testing.T, *attackTarget) testkit.Request
	none := func(alg string) build {
		return func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackProtected(attackEncode(`{"alg":"`+alg+`","typ":"at+jwt"}`, attackObj(tg.wellFormed(`"fresh":true`)...)) + ".")
		}
	}
	// claims forges an access token from members with the real key.
	claims := func(members ...func(*attackTarget) string) build {
		return func(_ *testing.T, tg *attackTarget) testkit.Request {
			ms := make([]string, len(members))
			for i, m := range members {
				ms[i] = m(tg)
			}
			return attackProtected(tg.access(ms...))
		}
	}
	lit := func(s string) func(*attackTarget) string { return func(*attackTarget) string { return s } }
	at := func(offset int64, name string) func(*attackTarget) string {
		return func(tg *attackTarget) string { return `"` + name + `":` + strconv.FormatInt(tg.now+offset, 10) }
	}
	sub, iat, exp, jti, sid := (*attackTarget).sub, (*attackTarget).iat, (*attackTarget).exp, (*attackTarget).jti, (*attackTarget).sidClaim
	// withHeader signs the well-formed claims under header, with $KID for
	// the real kid, and presents the token at /protected.
	withHeader := func(header string) build {
		return func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackProtected(tg.sign(strings.ReplaceAll(header, "$KID", tg.kid), attackObj(tg.wellFormed()...)))
		}
	}
	refreshForged := func(typ string, edit func(map[string]any)) build {
		return func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackRefresh(tg.sign(tg.header(typ), tg.refreshClaims(edit)))
		}
	}
	// hsWithPublicKey signs HS256 with the RSA public key as the secret, the
	// classic confusion of a verifier that lets the token choose its alg.
	hsWithPublicKey := func(kid bool, secret func(t *testing.T) []byte) build {
		return func(t *testing.T, tg *attackTarget) testkit.Request {
			h := `{"alg":"HS256","typ":"at+jwt"}`
			if kid {
				h = `{"alg":"HS256","kid":"` + tg.kid + `","typ":"at+jwt"}`
			}
			return attackProtected(attackHMAC(sha256.New, h, attackObj(tg.wellFormed(`"fresh":true`)...), secret(t)))
		}
	}
	publicDER := func(t *testing.T) []byte {
		der, err := x509.MarshalPKIXPublicKey(attackRSAKey().Public())
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	publicPEM := func(t *testing.T) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: publicDER(t)})
	}
	modulus := func(*testing.T) []byte { return attackRSAKey().N.Bytes() }
	tamper := func(fn func(tg *attackTarget) string) build {
		return func(_ *testing.T, tg *attackTarget) testkit.Request { return attackProtected(fn(tg)) }
	}
	rawHeader := func(values ...func(tg *attackTarget) string) build {
		return func(_ *testing.T, tg *attackTarget) testkit.Request {
			vs := make([]string, len(values))
			for i, v := range values {
				vs[i] = v(tg)
			}
			return attackAuthorization(vs...)
		}
	}
	bearer := func(prefix string) func(tg *attackTarget) string {
		return func(tg *attackTarget) string { return prefix + tg.tok.AccessToken }
	}
	refreshOK := func(t *testing.T, tg *attackTarget, token string) ginfresh.Tokens {
		t.Helper()
		w := tg.s.Refresh(token)
		testkit.Status(t, w, http.StatusOK)
		return testkit.DecodeTokens(t, w)
	}
	revokeSubject := func(t *testing.T, tg *attackTarget) {
		t.Helper()
		if err := tg.s.Auth.RevokeSubject(context.Background(), "alice"); err != nil {
			t.Fatal(err)
		}
	}
	revokeSession := func(t *testing.T, tg *attackTarget) {
		t.Helper()
		if err := tg.s.Auth.RevokeSession(context.Background(), "alice", tg.sid); err != nil {
			t.Fatal(err)
		}
	}
	logout := func(t *testing.T, tg *attackTarget, token string) {
		t.Helper()
		testkit.Status(t, tg.s.Post("/auth/logout", token, ""), http.StatusNoContent)
	}

	// Second hardening round: requests a browser can be made to send.
	const wrongPassword = `{"username":"alice","password":"guess"}`
	textPlain := func(path string, header http.Header) testkit.Request {
		h := http.Header{"Content-Type": {"text/plain;charset=UTF-8"}}
		for k, v := range header {
			h[k] = v
		}
		return testkit.Request{Method: http.MethodPost, Path: path, Body: wrongPassword, Header: h}
	}
	// throttleUntouched sends 20 more such posts, twice what the throttle
	// allows an account from one client, then the genuine login from the
	// same client, which must pass: none of them was counted.
	throttleUntouched := func(t *testing.T, tg *attackTarget, req testkit.Request, _ *httptest.ResponseRecorder) {
		for range 20 {
			testkit.Refused(t, tg.s.Do(req), http.StatusUnsupportedMediaType, attackInvalidRequest)
		}
		testkit.Status(t, tg.s.Post(req.Path, "", testkit.Credentials("alice", "alice-pw")), http.StatusOK)
	}
	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}}
	otherOrigin := http.Header{"Origin": {"https://evil.example"}} // httptest's Host is example.com
	// endpoint builds a request to an auth endpoint with a cross-site page's
	// headers: a login, the fresh-login of alice's session, or her refresh
	// or logout.
	endpoint := func(path string, browser http.Header) build {
		return func(_ *testing.T, tg *attackTarget) testkit.Request {
			req := testkit.Request{Method: http.MethodPost, Path: path, Header: browser}
			switch path {
			case "/auth/login":
				req.Body = testkit.Credentials("alice", "alice-pw")
			case "/auth/fresh-login":
				req.Token, req.Body = tg.tok.AccessToken, testkit.Credentials("alice", "alice-pw")
			default:
				req.Token = tg.tok.RefreshToken
			}
			return req
		}
	}
	// spentNothing sends the refused request again from no browser: it
	// passes, so the refusal neither retired nor ended anything.
	spentNothing := func(want int) func(*testing.T, *attackTarget, testkit.Request, *httptest.ResponseRecorder) {
		return func(t *testing.T, tg *attackTarget, req testkit.Request, _ *httptest.ResponseRecorder) {
			req.Header = nil
			testkit.Status(t, tg.s.Do(req), want)
		}
	}
	wantChallenge := func(part string) func(*testing.T, *attackTarget, testkit.Request, *httptest.ResponseRecorder) {
		return func(t *testing.T, _ *attackTarget, _ testkit.Request, w *httptest.ResponseRecorder) {
			if ch := w.Header().Get("WWW-Authenticate"); !strings.Contains(ch, part) {
				t.Errorf("challenge %q lacks %s", ch, part)
			}
		}
	}
	// noAuthTime is a fresh access token of the live session, signed with
	// the real key, that says nothing of when or how the user logged in.
	noAuthTime := func(path string) build {
		return func(_ *testing.T, tg *attackTarget) testkit.Request {
			return testkit.Request{Method: http.MethodPost, Path: path, Token: tg.access(tg.wellFormed(`"fresh":true`)...)}
		}
	}
	wsQuery := func(header http.Header) build {
		return func(_ *testing.T, tg *attackTarget) testkit.Request {
			return testkit.Request{Path: testkit.Protected + "?access_token=" + tg.tok.AccessToken, Header: header}
		}
	}
	// jkuServer serves an attacker's key set and counts its fetches.
	jkuServer := func(t *testing.T) (string, *atomic.Int32) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"keys":[{"kty":"oct","k":"YXR0YWNrZXI"}]}`))
		}))
		t.Cleanup(srv.Close)
		return srv.URL, &hits
	}
	// jkuToken signs the well-formed claims, with the real key or the
	// attacker's, under a header whose jku and x5u name a live server that
	// counts its fetches; the row fails if there is one.
	jkuToken := func(realKey bool) build {
		return func(t *testing.T, tg *attackTarget) testkit.Request {
			url, hits := jkuServer(t)
			t.Cleanup(func() {
				if n := hits.Load(); n != 0 {
					t.Errorf("the header's URL was fetched %d times", n)
				}
			})
			h := `{"alg":"HS256","kid":"` + tg.kid + `","typ":"at+jwt","jku":"` + url + `","x5u":"` + url + `"}`
			if realKey {
				return attackProtected(tg.sign(h, attackObj(tg.wellFormed()...)))
			}
			return attackProtected(attackHMAC(sha256.New, h, attackObj(tg.wellFormed()...), []byte("attacker-key-0123456789-0123456789")))
		}
	}
	handshake := func() http.Header {
		return http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"},
			"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Version": {"13"}}
	}
	return []attackRow{
		// Baselines: the genuine token and tokens forged the way the rows
		// below forge theirs pass, so each refusal below is the attack's.
		{name: "baseline: the genuine access token", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackProtected(tg.tok.AccessToken)
		}, wantStatus: 200},
		{name: "baseline: claims forged with the real key", build: claims(sub, iat, exp, jti, sid, at(0, "nbf")), wantStatus: 200},
		{name: "baseline: claims forged with the real RS256 key", setup: attackRS, build: claims(sub, iat, exp, jti, sid), wantStatus: 200},
		{name: "baseline: a forged copy of the live refresh token", build: refreshForged("refresh+jwt", nil), wantStatus: 200},

		// Algorithm attacks.
		{name: "alg none", build: none("none"), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "alg None", build: none("None"), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "alg NONE", build: none("NONE"), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "alg nOnE", build: none("nOnE"), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "alg none with the real kid", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackProtected(attackEncode(`{"alg":"none","kid":"`+tg.kid+`","typ":"at+jwt"}`, attackObj(tg.wellFormed()...)) + ".")
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "alg none keeping the genuine signature", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			p := tg.parts()
			return attackProtected(attackB64.EncodeToString([]byte(`{"alg":"none","kid":"`+tg.kid+`","typ":"at+jwt"}`)) + "." + p[1] + "." + p[2])
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "alg none against an RS256 key", setup: attackRS, build: none("none"), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "alg swap HS256 to HS512, real secret", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackProtected(attackHMAC(sha512.New, `{"alg":"HS512","kid":"`+tg.kid+`","typ":"at+jwt"}`, attackObj(tg.wellFormed()...), attackSecret))
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "alg swap HS256 to HS384, real secret", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackProtected(attackHMAC(sha512.New384, `{"alg":"HS384","kid":"`+tg.kid+`","typ":"at+jwt"}`, attackObj(tg.wellFormed()...), attackSecret))
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "alg in lower case", build: withHeader(`{"alg":"hs256","kid":"$KID","typ":"at+jwt"}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "alg missing", build: withHeader(`{"kid":"$KID","typ":"at+jwt"}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "alg not a string", build: withHeader(`{"alg":["HS256"],"kid":"$KID","typ":"at+jwt"}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "HS256 signed with the RSA public key (PEM), real kid", setup: attackRS, build: hsWithPublicKey(true, publicPEM), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "HS256 signed with the RSA public key (PEM), no kid", setup: attackRS, build: hsWithPublicKey(false, publicPEM), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "HS256 signed with the RSA public key (DER)", setup: attackRS, build: hsWithPublicKey(true, publicDER), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "HS256 signed with the RSA modulus", setup: attackRS, build: hsWithPublicKey(true, modulus), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "alg swap RS256 to PS256, real private key", setup: attackRS, build: func(t *testing.T, tg *attackTarget) testkit.Request {
			input := attackEncode(`{"alg":"PS256","kid":"`+tg.kid+`","typ":"at+jwt"}`, attackObj(tg.wellFormed()...))
			sig, err := jwt.SigningMethodPS256.Sign(input, attackRSAKey())
			if err != nil {
				t.Fatal(err)
			}
			return attackProtected(input + "." + attackB64.EncodeToString(sig))
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "unknown kid", build: withHeader(`{"alg":"HS256","kid":"../../../dev/null","typ":"at+jwt"}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "kid not a string", build: withHeader(`{"alg":"HS256","kid":0,"typ":"at+jwt"}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "embedded jwk and jku with the attacker's key", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			h := `{"alg":"HS256","kid":"` + tg.kid + `","typ":"at+jwt","jku":"https://attacker.example/keys","jwk":{"kty":"oct","k":"YXR0YWNrZXI"}}`
			return attackProtected(attackHMAC(sha256.New, h, attackObj(tg.wellFormed()...), []byte("attacker-key-0123456789-0123456789")))
		}, wantStatus: 401, wantCode: attackInvalidToken},
		// jku and x5u name a server the attacker runs; neither is ever
		// fetched, whatever key signed the token.
		{name: "jku and x5u naming a live server, the attacker's key", build: jkuToken(false), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "jku and x5u naming a live server, the real key: passes, never fetched", build: jkuToken(true), wantStatus: 200},
		{name: "crit header", build: withHeader(`{"alg":"HS256","kid":"$KID","typ":"at+jwt","crit":["exp"]}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "crit header, empty", build: withHeader(`{"alg":"HS256","kid":"$KID","typ":"at+jwt","crit":[]}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "crit header, escaped name", build: withHeader(`{"alg":"HS256","kid":"$KID","typ":"at+jwt","cr\u0069t":["b64"]}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "header member named twice", build: withHeader(`{"alg":"HS256","kid":"$KID","typ":"at+jwt","alg":"none"}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "header member named twice through an escape", build: withHeader(`{"alg":"HS256","kid":"$KID","typ":"at+jwt","\u0061lg":"HS256"}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "header an array", build: withHeader(`["HS256"]`), wantStatus: 401, wantCode: attackInvalidToken},

		// Case-variant JOSE members, signed with the real key: names match
		// exactly, as every JOSE library reads them, so "ALG" is not "alg"
		// and "TYP" is not "typ". The old header decoder (encoding/json into
		// a struct) matched them ignoring case, the last one winning.
		{name: "alg none beside ALG HS256", build: withHeader(`{"alg":"none","ALG":"HS256","kid":"$KID","typ":"at+jwt"}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "ALG HS256 alone is no alg", build: withHeader(`{"ALG":"HS256","kid":"$KID","typ":"at+jwt"}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "typ refresh+jwt beside TYP at+jwt at an access route", build: withHeader(`{"alg":"HS256","kid":"$KID","typ":"refresh+jwt","TYP":"at+jwt"}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "typ at+jwt beside TYP refresh+jwt at refresh, refresh claims", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackRefresh(tg.sign(`{"alg":"HS256","kid":"`+tg.kid+`","typ":"at+jwt","TYP":"refresh+jwt"}`, tg.refreshClaims(nil)))
		}, wantStatus: 401, wantCode: attackInvalidToken},
		// The other direction: ALG none after a genuine alg is a member of
		// no meaning, as golang-jwt elsewhere reads it; the token stands on
		// its alg, so it passes (the old decoder took "none" and refused it).
		{name: "ALG none after alg HS256 is another member", build: withHeader(`{"alg":"HS256","kid":"$KID","typ":"at+jwt","ALG":"none"}`), wantStatus: 200},

		// Tampering.
		{name: "payload edited under the old signature", build: tamper(func(tg *attackTarget) string {
			p := tg.parts()
			return p[0] + "." + attackB64.EncodeToString([]byte(attackObj(`"sub":"admin"`, tg.iat(), tg.exp(), tg.jti(), tg.sidClaim(), `"fresh":true`))) + "." + p[2]
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "refresh payload edited under the old signature", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			p := strings.Split(tg.tok.RefreshToken, ".")
			edited := tg.refreshClaims(func(c map[string]any) { c["sub"] = "bob" })
			return attackRefresh(p[0] + "." + attackB64.EncodeToString([]byte(edited)) + "." + p[2])
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "signature: first bit flipped", build: tamper(func(tg *attackTarget) string {
			p := tg.parts()
			return p[0] + "." + p[1] + "." + attackFlip(p[2])
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "signature: last character changed", build: tamper(func(tg *attackTarget) string {
			return attackFlipLast(tg.tok.AccessToken)
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "signature: bits flipped, RS256", setup: attackRS, build: tamper(func(tg *attackTarget) string {
			p := tg.parts()
			return p[0] + "." + p[1] + "." + attackFlip(p[2])
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "signature stripped", build: tamper(func(tg *attackTarget) string {
			p := tg.parts()
			return p[0] + "." + p[1] + "."
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "padding on the signature", build: tamper(func(tg *attackTarget) string { return tg.tok.AccessToken + "=" }), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "padding on the payload", build: tamper(func(tg *attackTarget) string {
			p := tg.parts()
			return p[0] + "." + p[1] + "==." + p[2]
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "extra segment", build: tamper(func(tg *attackTarget) string { return tg.tok.AccessToken + ".e30" }), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "five segments (JWE shape)", build: tamper(func(tg *attackTarget) string { return tg.tok.AccessToken + ".a.b" }), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "missing segment", build: tamper(func(tg *attackTarget) string {
			p := tg.parts()
			return p[0] + "." + p[1]
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "one segment", build: tamper(func(tg *attackTarget) string { return tg.parts()[1] }), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "segments swapped", build: tamper(func(tg *attackTarget) string {
			p := tg.parts()
			return p[1] + "." + p[0] + "." + p[2]
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "standard base64 alphabet", build: tamper(func(tg *attackTarget) string {
			p := tg.parts()
			return strings.NewReplacer("-", "+", "_", "/").Replace(p[0]) + "+/." + p[1] + "." + p[2]
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "non-ASCII bytes", build: tamper(func(tg *attackTarget) string {
			p := tg.parts()
			return p[0] + "." + p[1] + "\xff\xfe." + p[2]
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "CR LF inside the payload", build: tamper(func(tg *attackTarget) string {
			p := tg.parts()
			return p[0] + "." + p[1][:10] + "\r\n" + p[1][10:] + "." + p[2]
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "LF inside the signature", build: tamper(func(tg *attackTarget) string {
			p := tg.parts()
			return p[0] + "." + p[1] + "." + p[2][:5] + "\n" + p[2][5:]
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "NUL byte", build: tamper(func(tg *attackTarget) string {
			return tg.tok.AccessToken[:20] + "\x00" + tg.tok.AccessToken[20:]
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "token of another server's key", build: tamper(func(tg *attackTarget) string {
			return attackHMAC(sha256.New, tg.header("at+jwt"), attackObj(tg.wellFormed()...), []byte("another-server-key-0123456789-0123456789"))
		}), wantStatus: 401, wantCode: attackInvalidToken},

		// Claim attacks, signed with the real key. A missing nbf is no
		// attack: the claim is optional (RFC 7519 §4.1.5), and the baseline
		// passes without it.
		{name: "sub missing", build: claims(iat, exp, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "sub empty", build: claims(lit(`"sub":""`), iat, exp, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "sub null", build: claims(lit(`"sub":null`), iat, exp, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "sub a number", build: claims(lit(`"sub":42`), iat, exp, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "sub an array", build: claims(lit(`"sub":["alice"]`), iat, exp, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "exp missing", build: claims(sub, iat, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "exp empty string", build: claims(sub, iat, lit(`"exp":""`), jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "exp a string", build: claims(sub, iat, func(tg *attackTarget) string { return `"exp":"` + strconv.FormatInt(tg.now+600, 10) + `"` }, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "exp past", build: claims(sub, at(-700, "iat"), at(-1, "exp"), jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "exp beyond year 5000", build: claims(sub, iat, lit(`"exp":1e300`), jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "iat missing", build: claims(sub, exp, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "iat a string", build: claims(sub, lit(`"iat":"now"`), exp, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "iat empty string", build: claims(sub, lit(`"iat":""`), exp, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "iat negative", build: claims(sub, lit(`"iat":-1`), exp, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "iat zero, the epoch: absent", build: claims(sub, lit(`"iat":0`), exp, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "iat half a second after the epoch: absent as iat zero is", build: claims(sub, lit(`"iat":0.5`), exp, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "iat in the future", build: claims(sub, at(60, "iat"), exp, jti, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "nbf in the future", build: claims(sub, iat, exp, jti, sid, at(60, "nbf")), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "nbf a string", build: claims(sub, iat, exp, jti, sid, lit(`"nbf":"soon"`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "nbf empty string", build: claims(sub, iat, exp, jti, sid, lit(`"nbf":""`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "nbf a boolean", build: claims(sub, iat, exp, jti, sid, lit(`"nbf":true`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "jti missing", build: claims(sub, iat, exp, sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "jti empty", build: claims(sub, iat, exp, lit(`"jti":""`), sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "jti a number", build: claims(sub, iat, exp, lit(`"jti":7`), sid), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "sid missing", build: claims(sub, iat, exp, jti), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "sid empty", build: claims(sub, iat, exp, jti, lit(`"sid":""`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "sid null", build: claims(sub, iat, exp, jti, lit(`"sid":null`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "sid an object", build: claims(sub, iat, exp, jti, lit(`"sid":{}`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "fresh a string", build: claims(sub, iat, exp, jti, sid, lit(`"fresh":"true"`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "auth_time a string", build: claims(sub, iat, exp, jti, sid, lit(`"auth_time":"yesterday"`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "acr a number", build: claims(sub, iat, exp, jti, sid, lit(`"acr":2`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "amr a string", build: claims(sub, iat, exp, jti, sid, lit(`"amr":"pwd"`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "sub named twice", build: claims(sub, iat, exp, jti, sid, lit(`"sub":"admin"`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "sub named twice through an escape", build: claims(sub, iat, exp, jti, sid, lit(`"s\u0075b":"admin"`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "exp named twice", build: claims(sub, iat, exp, jti, sid, lit(`"exp":99999999999`)), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "payload an array", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackProtected(tg.sign(tg.header("at+jwt"), `["alice"]`))
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "payload followed by a second object", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackProtected(tg.sign(tg.header("at+jwt"), attackObj(tg.wellFormed()...)+`{"sub":"admin"}`))
		}, wantStatus: 401, wantCode: attackInvalidToken},

		// Type confusion.
		{name: "refresh token as access token", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackProtected(tg.tok.RefreshToken)
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "access token as refresh token", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackRefresh(tg.tok.AccessToken)
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "access claims under a refresh typ", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackProtected(tg.sign(tg.header("refresh+jwt"), attackObj(tg.wellFormed(`"fresh":true`)...)))
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "refresh claims under an access typ", build: refreshForged("at+jwt", nil), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "typ JWT", build: withHeader(`{"alg":"HS256","kid":"$KID","typ":"JWT"}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "typ missing", build: withHeader(`{"alg":"HS256","kid":"$KID"}`), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "fresh refresh token", build: refreshForged("refresh+jwt", func(c map[string]any) { c["fresh"] = true }), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "refresh token without sid", build: refreshForged("refresh+jwt", func(c map[string]any) { delete(c, "sid") }), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "refresh token of an unknown session", build: refreshForged("refresh+jwt", func(c map[string]any) { c["sid"] = "made-up" }), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "refresh token of the session under another jti", build: refreshForged("refresh+jwt", func(c map[string]any) { c["jti"] = "made-up" }), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "refreshed access token on a fresh route", build: func(t *testing.T, tg *attackTarget) testkit.Request {
			next := refreshOK(t, tg, tg.tok.RefreshToken)
			return testkit.Request{Method: http.MethodPost, Path: testkit.Sensitive, Token: next.AccessToken}
		}, wantStatus: 401, wantCode: attackNotFresh},

		// A validly signed fresh token that says nothing of the login
		// (no auth_time, acr or amr) at a step-up route: refused as not
		// fresh enough, never a 500.
		{name: "fresh token without auth_time at a MaxAge route", build: noAuthTime(testkit.Recent), wantStatus: 401, wantCode: attackNotFresh, then: wantChallenge("max_age=300")},
		{name: "fresh token without acr at an ACRValues route", build: noAuthTime(testkit.MFA), wantStatus: 401, wantCode: attackNotFresh, then: wantChallenge(`acr_values="mfa"`)},
		{name: "baseline: that token at a route needing only fresh", build: noAuthTime(testkit.Sensitive), wantStatus: 200},

		// Authorization header shapes.
		{name: "lower-case scheme does not skip verification", build: rawHeader(func(tg *attackTarget) string { return "bearer " + attackFlipLast(tg.tok.AccessToken) }), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "upper-case scheme with a refresh token", build: rawHeader(func(tg *attackTarget) string { return "BEARER " + tg.tok.RefreshToken }), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "empty token", build: rawHeader(func(*attackTarget) string { return "Bearer " }), wantStatus: 400, wantCode: attackInvalidRequest},
		{name: "only spaces", build: rawHeader(func(*attackTarget) string { return "Bearer     " }), wantStatus: 400, wantCode: attackInvalidRequest},
		{name: "scheme alone", build: rawHeader(func(*attackTarget) string { return "Bearer" }), wantStatus: 400, wantCode: attackInvalidRequest},
		{name: "empty header", build: rawHeader(func(*attackTarget) string { return "" }), wantStatus: 401, wantCode: attackNoCredentials},
		{name: "Basic scheme", build: rawHeader(func(*attackTarget) string { return "Basic YWxpY2U6YWxpY2UtcHc=" }), wantStatus: 401, wantCode: attackNoCredentials},
		{name: "Token scheme with a valid token", build: rawHeader(bearer("Token ")), wantStatus: 401, wantCode: attackNoCredentials},
		{name: "DPoP scheme with a valid token", build: rawHeader(bearer("DPoP ")), wantStatus: 401, wantCode: attackNoCredentials},
		{name: "scheme glued to the token", build: rawHeader(bearer("Bearer")), wantStatus: 401, wantCode: attackNoCredentials},
		{name: "tab after the scheme", build: rawHeader(bearer("Bearer\t")), wantStatus: 401, wantCode: attackNoCredentials},
		{name: "two Authorization headers", build: rawHeader(bearer("Bearer "), bearer("Bearer ")), wantStatus: 400, wantCode: attackInvalidRequest},
		{name: "two credentials in one header", build: rawHeader(func(tg *attackTarget) string {
			return "Bearer " + tg.tok.AccessToken + ", Bearer " + tg.tok.AccessToken
		}), wantStatus: 401, wantCode: attackInvalidToken},
		{name: "oversized header", build: rawHeader(func(tg *attackTarget) string {
			return "Bearer " + tg.tok.AccessToken + strings.Repeat("A", 8<<10)
		}), wantStatus: 400, wantCode: attackInvalidRequest},
		{name: "access token in the query", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return testkit.Request{Path: testkit.Protected + "?access_token=" + tg.tok.AccessToken}
		}, wantStatus: 401, wantCode: attackNoCredentials},
		{name: "access token in a form body", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackForm(testkit.Sensitive, tg.tok.AccessToken)
		}, wantStatus: 401, wantCode: attackNoCredentials},
		{name: "refresh token in the query", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return testkit.Request{Method: http.MethodPost, Path: "/auth/refresh?refresh_token=" + tg.tok.RefreshToken}
		}, wantStatus: 401, wantCode: attackNoCredentials},
		{name: "refresh token in a form body", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return attackForm("/auth/refresh", tg.tok.RefreshToken)
		}, wantStatus: 401, wantCode: attackNoCredentials},

		// The query parameter of UnsafeFromQuery counts only on a complete
		// WebSocket handshake; Upgrade: websocket alone is any request.
		{name: "baseline: a WebSocket handshake with the token in the query", setup: attackQuery, build: wsQuery(handshake()), wantStatus: 200},
		{name: "Upgrade: websocket alone with the token in the query", setup: attackQuery, build: wsQuery(http.Header{"Upgrade": {"websocket"}}), wantStatus: 401, wantCode: attackNoCredentials},
		{name: "Upgrade and Connection without key or version, token in the query", setup: attackQuery, build: wsQuery(http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}}), wantStatus: 401, wantCode: attackNoCredentials},
		{name: "handshake of WebSocket version 8, token in the query", setup: attackQuery, build: func(t *testing.T, tg *attackTarget) testkit.Request {
			h := handshake()
			h["Sec-Websocket-Version"] = []string{"8"}
			return wsQuery(h)(t, tg)
		}, wantStatus: 401, wantCode: attackNoCredentials},
		{name: "handshake with the token in the query and the header", setup: attackQuery, build: func(t *testing.T, tg *attackTarget) testkit.Request {
			req := wsQuery(handshake())(t, tg)
			req.Token = tg.tok.AccessToken
			return req
		}, wantStatus: 400, wantCode: attackInvalidRequest},
		{name: "handshake with the query parameter repeated", setup: attackQuery, build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return testkit.Request{Path: testkit.Protected + "?access_token=" + tg.tok.AccessToken + "&access_token=x", Header: handshake()}
		}, wantStatus: 400, wantCode: attackInvalidRequest},

		// Login bodies that are not application/json: a cross-site form can
		// send text/plain without a preflight. Refused before the throttle
		// counts them, so they cannot spend the user's attempts.
		{name: "text/plain login with a wrong password", build: func(*testing.T, *attackTarget) testkit.Request {
			return textPlain("/auth/login", nil)
		}, wantStatus: 415, wantCode: attackInvalidRequest, then: throttleUntouched},
		{name: "text/plain fresh-login with a wrong password", build: func(*testing.T, *attackTarget) testkit.Request {
			return textPlain("/auth/fresh-login", nil)
		}, wantStatus: 415, wantCode: attackInvalidRequest, then: throttleUntouched},
		{name: "form-encoded login", build: func(*testing.T, *attackTarget) testkit.Request {
			return testkit.Request{Method: http.MethodPost, Path: "/auth/login", Body: "username=alice&password=alice-pw",
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}
		}, wantStatus: 415, wantCode: attackInvalidRequest},
		{name: "text/plain login from a cross-site page", build: func(*testing.T, *attackTarget) testkit.Request {
			return textPlain("/auth/login", crossSite)
		}, wantStatus: 403, wantCode: attackCSRF},

		// Cross-site JSON to the auth endpoints in header mode: a page on
		// another site must not log the visitor in, spend a session's
		// refresh token or end it.
		{name: "cross-site login (Sec-Fetch-Site)", build: endpoint("/auth/login", crossSite), wantStatus: 403, wantCode: attackCSRF, then: spentNothing(200)},
		{name: "cross-site login (Origin not the host)", build: endpoint("/auth/login", otherOrigin), wantStatus: 403, wantCode: attackCSRF, then: spentNothing(200)},
		{name: "cross-site fresh-login (Sec-Fetch-Site)", build: endpoint("/auth/fresh-login", crossSite), wantStatus: 403, wantCode: attackCSRF, then: spentNothing(200)},
		{name: "cross-site fresh-login (Origin not the host)", build: endpoint("/auth/fresh-login", otherOrigin), wantStatus: 403, wantCode: attackCSRF, then: spentNothing(200)},
		{name: "cross-site refresh (Sec-Fetch-Site)", build: endpoint("/auth/refresh", crossSite), wantStatus: 403, wantCode: attackCSRF, then: spentNothing(200)},
		{name: "cross-site refresh (Origin not the host)", build: endpoint("/auth/refresh", otherOrigin), wantStatus: 403, wantCode: attackCSRF, then: spentNothing(200)},
		{name: "cross-site logout (Sec-Fetch-Site)", build: endpoint("/auth/logout", crossSite), wantStatus: 403, wantCode: attackCSRF, then: func(t *testing.T, tg *attackTarget, _ testkit.Request, _ *httptest.ResponseRecorder) {
			refreshOK(t, tg, tg.tok.RefreshToken) // the session lives on
		}},
		{name: "cross-site logout (Origin not the host)", build: endpoint("/auth/logout", otherOrigin), wantStatus: 403, wantCode: attackCSRF, then: func(t *testing.T, tg *attackTarget, _ testkit.Request, _ *httptest.ResponseRecorder) {
			refreshOK(t, tg, tg.tok.RefreshToken)
		}},

		// Cookie mode.
		{name: "cookie refresh without the X-CSRF-Token header", setup: attackCookie, build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			req := tg.cookieRequest("/auth/refresh", tg.tok.RefreshToken)
			req.Header.Del("X-Csrf-Token")
			return req
		}, wantStatus: 403, wantCode: attackCSRF},
		{name: "cookie refresh from a cross-site page", setup: attackCookie, build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			req := tg.cookieRequest("/auth/refresh", tg.tok.RefreshToken)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			return req
		}, wantStatus: 403, wantCode: attackCSRF},
		{name: "17 copies of the access cookie", setup: attackCookie, build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			c := strings.TrimSuffix(strings.Repeat(attackAccessCookie+"="+tg.tok.AccessToken+"; ", 17), "; ")
			return testkit.Request{Path: testkit.Protected, Header: http.Header{"Cookie": {c}}}
		}, wantStatus: 400, wantCode: attackInvalidRequest},
		// A sibling subdomain plants a copy of the refresh cookie (of the
		// attacker's own session) that the browser sends first: it is set
		// aside, not believed, and cannot wedge refresh or logout.
		{name: "refresh with a planted refresh cookie sent first", setup: attackCookie, build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return tg.cookieRequest("/auth/refresh", tg.bob.Jar[attackRefreshCookie].Value, tg.tok.RefreshToken)
		}, wantStatus: 200, then: func(t *testing.T, tg *attackTarget, _ testkit.Request, w *httptest.ResponseRecorder) {
			own := testkit.Jar{}
			own.Update(t, w)
			c, ok := own[attackAccessCookie]
			if !ok {
				t.Fatal("no access cookie in the answer")
			}
			if got := tg.s.Claims(t, ginfresh.Access, c.Value); got.Subject != "alice" || got.SessionID != tg.sid {
				t.Errorf("refreshed %s's session %s, want alice's %s", got.Subject, got.SessionID, tg.sid)
			}
			testkit.Status(t, tg.bob.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
		}},
		{name: "logout with a planted refresh cookie sent first", setup: attackCookie, build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			return tg.cookieRequest("/auth/logout", tg.bob.Jar[attackRefreshCookie].Value, tg.tok.RefreshToken)
		}, wantStatus: 204, then: func(t *testing.T, tg *attackTarget, _ testkit.Request, _ *httptest.ResponseRecorder) {
			// Alice's session ended, the attacker's did not.
			testkit.Refused(t, tg.s.Do(tg.cookieRequest("/auth/refresh", tg.tok.RefreshToken)), http.StatusUnauthorized, attackInvalidToken)
			testkit.Status(t, tg.bob.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
		}},

		// Replay and revocation.
		{name: "expired access token", build: func(_ *testing.T, tg *attackTarget) testkit.Request {
			tg.s.Clock.Advance(16 * time.Minute)
			return attackProtected(tg.tok.AccessToken)
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "retired refresh token", build: func(t *testing.T, tg *attackTarget) testkit.Request {
			refreshOK(t, tg, tg.tok.RefreshToken)
			return attackRefresh(tg.tok.RefreshToken)
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "current refresh token of a session revoked by reuse", build: func(t *testing.T, tg *attackTarget) testkit.Request {
			next := refreshOK(t, tg, tg.tok.RefreshToken)
			testkit.Refused(t, tg.s.Refresh(tg.tok.RefreshToken), http.StatusUnauthorized, attackInvalidToken)
			return attackRefresh(next.RefreshToken)
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "access token of a session revoked by reuse", build: func(t *testing.T, tg *attackTarget) testkit.Request {
			next := refreshOK(t, tg, tg.tok.RefreshToken)
			testkit.Refused(t, tg.s.Refresh(tg.tok.RefreshToken), http.StatusUnauthorized, attackInvalidToken)
			return attackProtected(next.AccessToken)
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "refresh token after logout", build: func(t *testing.T, tg *attackTarget) testkit.Request {
			logout(t, tg, tg.tok.RefreshToken)
			return attackRefresh(tg.tok.RefreshToken)
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "access token after logout", build: func(t *testing.T, tg *attackTarget) testkit.Request {
			logout(t, tg, tg.tok.AccessToken)
			return attackProtected(tg.tok.AccessToken)
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "refresh token after RevokeSubject", build: func(t *testing.T, tg *attackTarget) testkit.Request {
			revokeSubject(t, tg)
			return attackRefresh(tg.tok.RefreshToken)
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "access token after RevokeSubject", build: func(t *testing.T, tg *attackTarget) testkit.Request {
			revokeSubject(t, tg)
			return testkit.Request{Method: http.MethodPost, Path: testkit.Sensitive, Token: tg.tok.AccessToken}
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "fresh-login holding an access token revoked by RevokeSubject", build: func(t *testing.T, tg *attackTarget) testkit.Request {
			revokeSubject(t, tg)
			return testkit.Request{Method: http.MethodPost, Path: "/auth/fresh-login", Token: tg.tok.AccessToken, Body: testkit.Credentials("alice", "alice-pw")}
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "refresh token after RevokeSession", build: func(t *testing.T, tg *attackTarget) testkit.Request {
			revokeSession(t, tg)
			return attackRefresh(tg.tok.RefreshToken)
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "access token after RevokeSession", build: func(t *testing.T, tg *attackTarget) testkit.Request {
			revokeSession(t, tg)
			return attackProtected(tg.tok.AccessToken)
		}, wantStatus: 401, wantCode: attackInvalidToken},
		{name: "claims forged with the real key for a revoked session", build: func(t *testing.T, tg *attackTarget) testkit.Request {
			revokeSession(t, tg)
			return attackProtected(tg.access(tg.wellFormed()...))
		}, wantStatus: 401, wantCode: attackInvalidToken},
	}
}

func TestAttackMatrix(t *testing.T) {
	rows := attackRows()
	if len(rows) < 100 {
		t.Fatalf("the matrix has %d rows; it lost some", len(rows))
	}
	seen := map[string]bool{}
	for _, tt := range rows {
		if seen[tt.name] {
			t.Fatalf("two rows named %q", tt.name)
		}
		seen[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := newAttackTarget(t, tt.setup)
			req := tt.build(t, tg)
			w := tg.s.Do(req) // a panic fails the test: the router has no recovery
			if tt.wantStatus < 400 {
				testkit.Status(t, w, tt.wantStatus)
			} else {
				testkit.Refused(t, w, tt.wantStatus, tt.wantCode)
			}
			ch := w.Header().Get("WWW-Authenticate")
			switch {
			case tt.wantStatus == 401 || tt.wantStatus == 400:
				if !strings.HasPrefix(ch, `Bearer realm="api"`) {
					t.Errorf("challenge %q", ch)
				}
				if tt.wantCode == attackNoCredentials {
					if strings.Contains(ch, "error=") {
						t.Errorf("challenge %q names an error for a request without credentials", ch)
					}
				} else if !strings.Contains(ch, `error="`+tt.wantCode+`"`) {
					t.Errorf("challenge %q lacks error=%q", ch, tt.wantCode)
				}
			case ch != "":
				t.Errorf("a %d answer carries the challenge %q", tt.wantStatus, ch)
			}
			body := w.Body.String()
			// Every token's header is alike; the signatures are not.
			rp := strings.Split(tg.tok.RefreshToken, ".")
			for _, secret := range []string{tg.tok.AccessToken, tg.tok.RefreshToken, tg.parts()[2], rp[2]} {
				if strings.Contains(body, secret) {
					t.Errorf("the answer echoes a token: %s", body)
				}
			}
			if tt.then != nil {
				tt.then(t, tg, req, w)
			}
		})
	}
}

// attackModulus is a number of exactly bits bits, an RSA modulus as far as
// a key check can tell.
func attackModulus(bits int) *big.Int {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	return n.Add(n, big.NewInt(1))
}

// Key material an attacker can hand a verifier, through a fetched key set
// or a configuration file: each is refused with ErrInvalidKey when the key
// is built, never at a request. An RSA modulus over 8192 bits would make
// every forged token cost many milliseconds to refuse.
func TestAttackMatrixKeys(t *testing.T) {
	fromJWK := func(alg ginfresh.Algorithm, j ginfresh.JWK) func() error {
		return func() error {
			pub, err := j.PublicKey()
			if err != nil {
				return err
			}
			_, err = ginfresh.NewVerificationKey("", alg, pub)
			return err
		}
	}
	rsaPublic := func(bits int) *rsa.PublicKey { return &rsa.PublicKey{N: attackModulus(bits), E: 65537} }
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(attackRSAKey())
	if err != nil {
		t.Fatal(err)
	}
	block := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	for _, tt := range []struct {
		name string
		make func() error
		ok   bool
	}{
		{"baseline: an RSA modulus of 8192 bits", func() error {
			_, err := ginfresh.NewVerificationKey("", ginfresh.RS256, rsaPublic(8192))
			return err
		}, true},
		{"RSA modulus of 8193 bits", func() error {
			_, err := ginfresh.NewVerificationKey("", ginfresh.RS256, rsaPublic(8193))
			return err
		}, false},
		{"RSA modulus of 16384 bits from a JWK, as PS512", fromJWK(ginfresh.PS512, ginfresh.JWK{KeyType: "RSA",
			N: attackB64.EncodeToString(attackModulus(16384).Bytes()), E: "AQAB"}), false},
		{"RSA modulus of 2047 bits", func() error {
			_, err := ginfresh.NewVerificationKey("", ginfresh.RS256, rsaPublic(2047))
			return err
		}, false},
		{"RSA exponent 1 in a JWK", fromJWK(ginfresh.RS256, ginfresh.JWK{KeyType: "RSA",
			N: attackB64.EncodeToString(attackModulus(2048).Bytes()), E: "AQ"}), false},
		{"a symmetric (oct) JWK", fromJWK(ginfresh.RS256, ginfresh.JWK{KeyType: "oct", N: "YXR0YWNrZXI"}), false},
		{"HS256 bound to an RSA public key", func() error {
			_, err := ginfresh.NewVerificationKey("", ginfresh.HS256, &attackRSAKey().PublicKey)
			return err
		}, false},
		{"an HMAC secret of 31 bytes", func() error {
			_, err := ginfresh.NewHMACKey("", ginfresh.HS256, attackSecret[:31])
			return err
		}, false},
		{"a P-384 key bound to ES256", func() error {
			_, err := ginfresh.NewVerificationKey("", ginfresh.ES256, &p384.PublicKey)
			return err
		}, false},
		{"an EC point off the curve in a JWK", fromJWK(ginfresh.ES256, ginfresh.JWK{KeyType: "EC", Curve: "P-256",
			X: attackB64.EncodeToString(make([]byte, 32)), Y: attackB64.EncodeToString(append(make([]byte, 31), 1))}), false},
		{"an Ed25519 key of 31 bytes in a JWK", fromJWK(ginfresh.EdDSA, ginfresh.JWK{KeyType: "OKP", Curve: "Ed25519",
			X: attackB64.EncodeToString(make([]byte, 31))}), false},
		{"a PEM file with a second key after the first", func() error {
			_, err := ginfresh.ParsePrivateKeyPEM("", ginfresh.RS256, append(append([]byte{}, block...), block...))
			return err
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.make()
			switch {
			case tt.ok && err != nil:
				t.Fatalf("got %v, want the key", err)
			case !tt.ok && !errors.Is(err, ginfresh.ErrInvalidKey):
				t.Fatalf("got %v, want ErrInvalidKey", err)
			}
		})
	}
}
