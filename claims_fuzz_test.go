package ginfresh

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
)

// referenceClaims decodes a payload with encoding/json, the plain way:
// decodeClaims must agree with it on every payload, apart from names that
// differ from a registered claim only in case, which encoding/json would
// take for the claim and decodeClaims rightly does not.
func referenceClaims(payload []byte) (*Claims, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(payload, &members); err != nil {
		return nil, err
	}
	var w struct {
		Issuer    string           `json:"iss"`
		Subject   string           `json:"sub"`
		Audience  jwt.ClaimStrings `json:"aud"`
		ExpiresAt float64          `json:"exp"`
		NotBefore float64          `json:"nbf"`
		IssuedAt  float64          `json:"iat"`
		ID        string           `json:"jti"`
		Fresh     bool             `json:"fresh"`
		AuthTime  float64          `json:"auth_time"`
		SessionID string           `json:"sid"`
	}
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, err
	}
	blk := &claimsBlock{}
	c := &blk.claims
	c.Issuer, c.Subject, c.Audience, c.ID = w.Issuer, w.Subject, w.Audience, w.ID
	c.Fresh, c.SessionID = w.Fresh, w.SessionID
	for i, d := range []struct {
		dst **jwt.NumericDate
		v   float64
	}{{&c.ExpiresAt, w.ExpiresAt}, {&c.NotBefore, w.NotBefore}, {&c.IssuedAt, w.IssuedAt}, {&c.AuthTime, w.AuthTime}} {
		if err := setDate(d.dst, &blk.dates[i], d.v); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// caseTwin reports whether payload names a member that differs from a
// registered claim only in letter case.
func caseTwin(payload []byte) bool {
	var members map[string]json.RawMessage
	if json.Unmarshal(payload, &members) != nil {
		return false
	}
	for name := range members {
		for reg := range registered {
			if name != reg && strings.EqualFold(name, reg) {
				return true
			}
		}
	}
	return false
}

func FuzzDecodeClaims(f *testing.F) {
	for _, seed := range []string{
		`{"sub":"alice","iat":1893553445.123,"nbf":1893553445,"exp":1893554345,"jti":"x","fresh":true,"auth_time":1893553445,"role":"user"}`,
		`{"sub":"alice","aud":["a","b"],"iss":"i","sid":"s","exp":1e9}`,
		`{"aud":"one","sub":null,"fresh":null,"exp":null}`,
		` { "sub" : "a\u00e9\"b" , "x" : {"y":[1,{"z":"}"}]} } `,
		`{"sub":"alice","sub":"admin"}`,
		`{"sub":"alice","s\u0075b":"admin"}`,
		`{"sub":42}`, `{"exp":"1"}`, `{"fresh":"true"}`, `{"aud":[1]}`, `{"aud":{}}`,
		`{"exp":1e400}`, `{"exp":-1}`, `{"exp":0.5e-3}`, `{"sub":"\xff"}`,
		`{}`, `[]`, `"x"`, `{"a":1,}`, `{"a"}`, `{"sub":"a"} x`, "",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := decodeClaims(payload)
		want, wantErr := referenceClaims(payload)
		if caseTwin(payload) {
			return
		}
		dup := checkDuplicateKeys(payload) != nil
		switch {
		case err == nil && (wantErr != nil || dup):
			t.Fatalf("decodeClaims(%q) accepted what encoding/json refuses (%v, duplicate: %v)", payload, wantErr, dup)
		case err != nil && wantErr == nil && !dup:
			t.Fatalf("decodeClaims(%q) = %v, encoding/json accepts it", payload, err)
		case err != nil:
			return
		}
		got.raw = ""
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeClaims(%q) = %+v, encoding/json says %+v", payload, got, want)
		}
	})
}

// TestClaimNamesMatchExactly: a name differing from a registered claim
// only in case, which encoding/json would match to the claim, never stands
// in for it. Minting refuses such custom claims, since other services may
// read the tokens with encoding/json; decoding ignores them.
func TestClaimNamesMatchExactly(t *testing.T) {
	a, err := New(WithHMACKey([]byte("claims-test-key-0123456789-0123456789")), WithAuthenticator(func(*gin.Context, string, string) (Identity, error) { return Identity{}, ErrInvalidCredentials }))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"SUB", "Sub", "\u017fub", "JTI", "Fresh", "AUTH_TIME"} {
		if _, err := a.CreateAccessToken(Identity{Subject: "alice", Claims: map[string]any{name: "admin"}}, false); err == nil {
			t.Errorf("custom claim %q was minted", name)
		}
	}
	tok, err := a.CreateAccessToken(Identity{Subject: "alice", Claims: map[string]any{"subject": "x"}}, false)
	if err != nil {
		t.Fatalf("an unrelated custom claim was refused: %v", err)
	}
	if _, err := a.Verify(context.Background(), AccessToken, tok); err != nil {
		t.Fatal(err)
	}

	c, err := decodeClaims([]byte(`{"sub":"alice","SUB":"admin","Fresh":true,"exp":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "alice" || c.Fresh {
		t.Errorf("got sub %q, fresh %v: a case variant was read as the registered claim", c.Subject, c.Fresh)
	}
	var sub string
	if ok, err := c.Get("SUB", &sub); !ok || err != nil || sub != "admin" {
		t.Errorf(`Get("SUB") = %v, %v, %q; want it as a custom claim`, ok, err, sub)
	}
}
