package ginfresh_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/jsonscan"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

func TestTokenKind(t *testing.T) {
	for k, want := range map[ginfresh.Kind]string{ginfresh.Access: "access", ginfresh.Refresh: "refresh", 0: "unknown", 9: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d): got %q, want %q", k, got, want)
		}
	}
}

// TestClaimsOfAMinimalToken: a token signed with the key but minted
// elsewhere (here with golang-jwt) may lack auth_time, acr, amr, aud and
// iss. Its claims read as zero values, so a handler never panics on them,
// and a guard that needs them refuses the token as not fresh enough
// instead of failing with a 500.
func TestClaimsOfAMinimalToken(t *testing.T) {
	s := newPipeServer(t)
	kid := kidOf(t, s.Login(t, "alice").AccessToken)
	now := s.Clock.Now()
	jt := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "alice", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"jti": "minimal", "sid": "elsewhere", "fresh": true,
	})
	jt.Header["typ"] = "at+jwt"
	jt.Header["kid"] = kid
	tok, err := jt.SignedString(pipeKey)
	if err != nil {
		t.Fatal(err)
	}

	s.Router.GET("/read", s.Auth.RequireAccess(), func(c *gin.Context) {
		claims := ginfresh.MustClaims(c)
		c.JSON(http.StatusOK, gin.H{
			"auth_time": claims.AuthTime.Unix(), "auth_time_zero": claims.AuthTime.IsZero(),
			"nbf_zero": claims.NotBefore.IsZero(), "acr": claims.ACR, "amr": len(claims.AMR),
			"aud": len(claims.Audience), "iss": claims.Issuer, "fresh": claims.Fresh,
		})
	})
	w := s.Get("/read", tok)
	testkit.Status(t, w, http.StatusOK)
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"auth_time": float64(time.Time{}.Unix()), "auth_time_zero": true, "nbf_zero": true,
		"acr": "", "amr": 0.0, "aud": 0.0, "iss": "", "fresh": true,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("got %s %v, want %v", k, got[k], v)
		}
	}

	testkit.Status(t, s.Post(testkit.Sensitive, tok, ""), http.StatusOK) // fresh, no age limit
	for _, path := range []string{testkit.Recent, testkit.MFA} {
		w := s.Post(path, tok, "")
		testkit.Refused(t, w, http.StatusUnauthorized, "insufficient_user_authentication")
	}
	if ch := s.Post(testkit.Recent, tok, "").Header().Get("WWW-Authenticate"); !strings.Contains(ch, "max_age=300") {
		t.Errorf("got challenge %q, want max_age=300", ch)
	}
}

// testAppClaims are an app's custom claims, as Custom decodes them.
type testAppClaims struct {
	Subject string      `json:"sub"` // registered claims may be read too
	Role    string      `json:"role"`
	Big     json.Number `json:"big"`
	Scope   string      `json:"scope"`
	HTML    string      `json:"html"`
	Missing string      `json:"missing"`
}

func TestCustomClaims(t *testing.T) {
	s := newPipeServer(t)
	claims := s.Claims(t, ginfresh.Access, s.Login(t, "alice").AccessToken)

	app, err := ginfresh.Custom[testAppClaims](claims)
	want := testAppClaims{Subject: "alice", Role: "admin", Big: testkit.BigNumber, Scope: "read write", HTML: "<b>&</b>"}
	if err != nil || app != want {
		t.Errorf("got %+v, %v; want %+v", app, err, want)
	}
	m, err := ginfresh.Custom[map[string]any](claims)
	if err != nil || m["role"] != "admin" || m["sub"] != "alice" {
		t.Errorf("got %v, %v; want every claim in a map", m, err)
	}

	// A type the claims do not fit is an error, as for encoding/json.
	var typeErr *json.UnmarshalTypeError
	if _, err := ginfresh.Custom[struct {
		Role int `json:"role"`
	}](claims); !errors.As(err, &typeErr) {
		t.Errorf("got %v, want a *json.UnmarshalTypeError", err)
	}
	// Claims of no verified token have nothing to decode.
	for name, c := range map[string]*ginfresh.Claims{"nil": nil, "zero": {}, "built": {Subject: "alice"}} {
		if _, err := ginfresh.Custom[testAppClaims](c); err == nil {
			t.Errorf("%s claims: got no error", name)
		}
	}

	// Custom claims survive a refresh byte for byte.
	s2 := newPipeServer(t)
	refreshed := testkit.DecodeTokens(t, s2.Refresh(s2.Login(t, "alice").RefreshToken))
	app, err = ginfresh.Custom[testAppClaims](s2.Claims(t, ginfresh.Access, refreshed.AccessToken))
	if err != nil || app != want {
		t.Errorf("after refresh: got %+v, %v; want %+v", app, err, want)
	}
}

func TestClaimsGet(t *testing.T) {
	s := newPipeServer(t)
	claims := s.Claims(t, ginfresh.Access, s.Login(t, "alice").AccessToken)

	var role string
	if ok, err := claims.Get("role", &role); !ok || err != nil || role != "admin" {
		t.Errorf(`Get("role"): got %v, %v, %q; want admin`, ok, err, role)
	}
	var big json.Number
	if ok, err := claims.Get("big", &big); !ok || err != nil || big != testkit.BigNumber {
		t.Errorf(`Get("big"): got %v, %v, %q; want every digit of %s`, ok, err, big, testkit.BigNumber)
	}
	missing := "untouched"
	if ok, err := claims.Get("missing", &missing); ok || err != nil || missing != "untouched" {
		t.Errorf(`Get("missing"): got %v, %v, %q; want false, nil and v untouched`, ok, err, missing)
	}
	var n int
	if ok, err := claims.Get("role", &n); !ok || err == nil {
		t.Errorf(`Get("role") into an int: got %v, %v; want true and an error`, ok, err)
	}
	// Names match exactly: "ROLE" is another claim, which the token lacks.
	if ok, _ := claims.Get("ROLE", &role); ok {
		t.Error(`Get("ROLE") found "role"`)
	}
	// Claims of no token have no custom claims; asking is no error.
	if ok, err := (&ginfresh.Claims{}).Get("role", &role); ok || err != nil {
		t.Errorf("zero Claims: got %v, %v; want false, nil", ok, err)
	}
}

// TestClaimsJSON: claims write dates as whole seconds (RFC 7519
// NumericDates, as verifiers that compare iat with their clock expect) and
// read payloads as strictly as verification does.
func TestClaimsJSON(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 999_000_000, time.UTC)
	c := ginfresh.Claims{
		Subject: "alice", Issuer: "iss", Audience: []string{"a", "b"}, ID: "j",
		IssuedAt: at, NotBefore: at, ExpiresAt: at.Add(time.Minute), AuthTime: at,
		SessionID: "s", Fresh: true, ACR: "mfa", AMR: []string{"pwd", "otp"},
	}
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	sec := itoa(at.Unix())
	want := `{"sub":"alice","iss":"iss","aud":["a","b"],"exp":` + itoa(at.Unix()+60) + `,"nbf":` + sec + `,"iat":` + sec +
		`,"jti":"j","fresh":true,"auth_time":` + sec + `,"sid":"s","acr":"mfa","amr":["pwd","otp"]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	// Through encoding/json too, as a field of something else.
	if b2, err := json.Marshal(struct{ C *ginfresh.Claims }{&c}); err != nil || string(b2) != `{"C":`+want+`}` {
		t.Errorf("json.Marshal: got %s, %v", b2, err)
	}
	if b, _ := (&ginfresh.Claims{Subject: "alice"}).MarshalJSON(); string(b) != `{"sub":"alice"}` {
		t.Errorf("got %s, want absent claims left out", b)
	}

	var back ginfresh.Claims
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	whole := at.Truncate(time.Second)
	if !back.IssuedAt.Equal(whole) || !back.AuthTime.Equal(whole) || back.Subject != "alice" || back.ACR != "mfa" ||
		len(back.AMR) != 2 || len(back.Audience) != 2 || !back.Fresh || back.SessionID != "s" {
		t.Errorf("got %+v back", back)
	}

	tests := []struct {
		name    string
		payload string
		wantErr bool
	}{
		{"minimal", `{"sub":"alice"}`, false},
		{"single audience", `{"aud":"one"}`, false},
		{"nulls are absent", `{"sub":null,"exp":null,"fresh":null,"aud":null,"amr":null,"acr":null}`, false},
		{"custom claims of any type", `{"x":{"y":[1,{"z":"}"}]},"n":1e400}`, false},
		{"fractional date", `{"exp":1893553445.5}`, false},
		{"not an object", `["sub"]`, true},
		{"a string", `"x"`, true},
		{"duplicate", `{"sub":"alice","sub":"admin"}`, true},
		{"escaped duplicate", `{"sub":"alice","s\u0075b":"admin"}`, true},
		{"numeric sub", `{"sub":42}`, true},
		{"string exp", `{"exp":"1"}`, true},
		{"string fresh", `{"fresh":"true"}`, true},
		{"numeric fresh", `{"fresh":1}`, true},
		{"audience of numbers", `{"aud":[1]}`, true},
		{"audience object", `{"aud":{}}`, true},
		{"amr as a string", `{"amr":"pwd"}`, true},
		{"numeric acr", `{"acr":2}`, true},
		{"huge date", `{"exp":1e300}`, true},
		{"negative date", `{"exp":-1}`, true},
		{"boolean date", `{"iat":true}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c ginfresh.Claims
			err := json.Unmarshal([]byte(tt.payload), &c)
			switch {
			case tt.wantErr && !errors.Is(err, jwt.ErrTokenMalformed):
				t.Errorf("got %v, want jwt.ErrTokenMalformed", err)
			case !tt.wantErr && err != nil:
				t.Errorf("got %v, want the payload read", err)
			}
		})
	}
}

// TestClaimNamesMatchExactly: a name differing from a registered claim
// only in case, which encoding/json would match to the claim, never stands
// in for it. Minting refuses such custom claims, since other services may
// read the tokens with encoding/json; decoding reads them as custom claims.
func TestClaimNamesMatchExactly(t *testing.T) {
	s := newPipeServer(t)
	ctx := context.Background()
	for _, name := range []string{"SUB", "Sub", "\u017fub", "JTI", "Fresh", "AUTH_TIME", "Sid", "CSRF", "Acr"} {
		if _, err := s.Auth.StartSession(ctx, ginfresh.Identity{Subject: "alice", Custom: map[string]any{name: "admin"}}); err == nil {
			t.Errorf("custom claim %q was minted", name)
		}
	}
	tok, err := s.Auth.StartSession(ctx, ginfresh.Identity{Subject: "alice", Custom: map[string]any{"subject": "x"}})
	if err != nil {
		t.Fatalf("an unrelated custom claim was refused: %v", err)
	}
	s.Claims(t, ginfresh.Access, tok.AccessToken)

	var c ginfresh.Claims
	if err := json.Unmarshal([]byte(`{"sub":"alice","SUB":"admin","Fresh":true,"exp":1}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.Subject != "alice" || c.Fresh {
		t.Errorf("got sub %q, fresh %v: a case variant was read as the registered claim", c.Subject, c.Fresh)
	}
	var sub string
	if ok, err := c.Get("SUB", &sub); !ok || err != nil || sub != "admin" {
		t.Errorf(`Get("SUB") = %v, %v, %q; want it as a custom claim`, ok, err, sub)
	}

	// Signed with the key, such a token is no fresh admin either.
	kid := kidOf(t, tok.AccessToken)
	now := s.Clock.Now().Unix()
	forged := signHS256(`{"alg":"HS256","kid":"`+kid+`","typ":"at+jwt"}`,
		`{"sub":"alice","SUB":"admin","Fresh":true,"iat":`+itoa(now)+`,"exp":`+itoa(now+60)+`,"jti":"x","sid":"s"}`, pipeKey)
	testkit.Refused(t, s.Post(testkit.Sensitive, forged, ""), http.StatusUnauthorized, "insufficient_user_authentication")
}

// TestClaimNamesInvalidUTF8: claim names must read the same to every JSON
// reader. Names that are not valid UTF-8 are refused when minting, and two
// that JSON reads as one (each bad byte becomes U+FFFD) are duplicates
// when verifying.
func TestClaimNamesInvalidUTF8(t *testing.T) {
	s := newPipeServer(t)
	_, err := s.Auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice", Custom: map[string]any{"a\xff": 1}})
	if err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("got %v, want the name refused as invalid UTF-8", err)
	}

	payload := "{\"sub\":\"alice\",\"a\xff\":1,\"a\xfe\":2}"
	var c ginfresh.Claims
	err = c.UnmarshalJSON([]byte(payload))
	if !errors.Is(err, jsonscan.ErrDuplicate) || !errors.Is(err, jwt.ErrTokenMalformed) {
		t.Errorf("got %v, want a duplicate claim", err)
	}
	kid := kidOf(t, s.Login(t, "alice").AccessToken)
	now := s.Clock.Now().Unix()
	forged := signHS256(`{"alg":"HS256","kid":"`+kid+`","typ":"at+jwt"}`,
		"{\"sub\":\"alice\",\"iat\":"+itoa(now)+",\"exp\":"+itoa(now+60)+",\"jti\":\"x\",\"sid\":\"s\",\"a\xff\":1,\"a\xfe\":2}", pipeKey)
	if _, err := s.Auth.Verify(context.Background(), ginfresh.Access, forged); !errors.Is(err, ginfresh.ErrTokenInvalid) {
		t.Errorf("got %v, want ErrTokenInvalid", err)
	}
}
