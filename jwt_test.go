package ginfresh_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// signer signs a token's signing input ("header.payload").
type signer func(t testing.TB, input []byte) []byte

func hmacSigner(secret []byte) signer {
	return func(_ testing.TB, input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

func pkcs1Signer(k *rsa.PrivateKey) signer {
	return func(t testing.TB, input []byte) []byte {
		sum := sha256.Sum256(input)
		sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

func pssSigner(k *rsa.PrivateKey) signer {
	return func(t testing.TB, input []byte) []byte {
		sum := sha256.Sum256(input)
		sig, err := rsa.SignPSS(rand.Reader, k, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

func noSignature(testing.TB, []byte) []byte { return nil }

// goodClaims are claims that pass every check at now, so that a crafted
// token is refused only for what its header or signature says.
func goodClaims(now time.Time) string {
	n := now.Unix()
	var id [8]byte
	_, _ = rand.Read(id[:])
	return fmt.Sprintf(`{"sub":"mallory","iat":%d,"nbf":%d,"exp":%d,"jti":"forged-%x","sid":"session-%x","fresh":true,"auth_time":%d}`,
		n, n, n+300, id, id, n)
}

// craftToken signs header and payload, both given as raw JSON so that a
// test controls every byte (duplicate or differently cased names).
func craftToken(t testing.TB, header, payload string, sign signer) string {
	t.Helper()
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	return input + "." + enc.EncodeToString(sign(t, []byte(input)))
}

// headerJSON renders a header given as a map.
func headerJSON(t testing.TB, h map[string]any) string {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// JOSE header members are matched by their exact names, as the claims
// are. encoding/json would read "ALG" as alg and keep the last of two
// such members, so one header could say two things: "HS256" to one reader
// and "none" to another, or "at+jwt" here and "refresh+jwt" elsewhere.
// Every token below is signed with the server's real key, so each verdict
// comes from how its header is read.
func TestJWTHeaderExactNames(t *testing.T) {
	secret := []byte("jwt-header-test-key-0123456789-0123456789")
	kid := orPanic(ginfresh.NewHMACKey("", ginfresh.HS256, secret)).ID()
	// A second key, so a token without a kid names none.
	other := verifierFor(t, keyFor(t, ginfresh.EdDSA))
	s := testkit.NewServer(t, testkit.NewClock(), true, ginfresh.WithHMACKey(secret), ginfresh.WithVerificationKeys(other))

	for _, tt := range []struct {
		name    string
		header  string // $KID stands for the HMAC key's kid
		kind    ginfresh.Kind
		wantErr error // nil: accepted as kind
	}{
		{"exact names", `{"alg":"HS256","kid":"$KID","typ":"at+jwt"}`, ginfresh.Access, nil},
		{"another order and white space", ` { "typ" : "at+jwt" , "kid":"$KID",` + "\n" + `"alg":"HS256" } `, ginfresh.Access, nil},
		{"ALG none beside alg is another member", `{"alg":"HS256","ALG":"none","kid":"$KID","typ":"at+jwt"}`, ginfresh.Access, nil},
		{"Alg none after alg is another member", `{"alg":"HS256","kid":"$KID","typ":"at+jwt","Alg":"none"}`, ginfresh.Access, nil},
		{"alg none beside ALG HS256", `{"alg":"none","ALG":"HS256","kid":"$KID","typ":"at+jwt"}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		{"ALG alone is no alg", `{"ALG":"HS256","kid":"$KID","typ":"at+jwt"}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		{"KID alone is no kid", `{"alg":"HS256","KID":"$KID","typ":"at+jwt"}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		{"KID beside kid is another member", `{"alg":"HS256","kid":"$KID","KID":"unknown","typ":"at+jwt"}`, ginfresh.Access, nil},
		{"TYP refresh beside typ at+jwt: an access token", `{"alg":"HS256","kid":"$KID","typ":"at+jwt","TYP":"refresh+jwt"}`, ginfresh.Access, nil},
		{"TYP refresh beside typ at+jwt: no refresh token", `{"alg":"HS256","kid":"$KID","typ":"at+jwt","TYP":"refresh+jwt"}`, ginfresh.Refresh, ginfresh.ErrWrongTokenType},
		{"TYP at+jwt after typ refresh: no access token", `{"alg":"HS256","kid":"$KID","typ":"refresh+jwt","TYP":"at+jwt"}`, ginfresh.Access, ginfresh.ErrWrongTokenType},
		{"TYP alone is no typ", `{"alg":"HS256","kid":"$KID","TYP":"at+jwt"}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		{"CRIT is not crit", `{"alg":"HS256","kid":"$KID","typ":"at+jwt","CRIT":["exp"]}`, ginfresh.Access, nil},
		{"crit", `{"alg":"HS256","kid":"$KID","typ":"at+jwt","crit":["exp"],"exp":1}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		// A name is compared after unescaping, as every JSON reader sees it.
		{"escaped alg is alg", `{"\u0061lg":"HS256","kid":"$KID","typ":"at+jwt"}`, ginfresh.Access, nil},
		{"escaped crit is crit", `{"alg":"HS256","kid":"$KID","typ":"at+jwt","cr\u0069t":["exp"]}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		{"duplicate alg", `{"alg":"HS256","alg":"HS256","kid":"$KID","typ":"at+jwt"}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		{"duplicate alg, once escaped", `{"alg":"HS256","\u0061lg":"none","kid":"$KID","typ":"at+jwt"}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		{"duplicate kid", `{"alg":"HS256","kid":"$KID","kid":"$KID","typ":"at+jwt"}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		{"duplicate typ", `{"alg":"HS256","kid":"$KID","typ":"at+jwt","typ":"at+jwt"}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		{"duplicate typ, disagreeing", `{"alg":"HS256","kid":"$KID","typ":"refresh+jwt","typ":"at+jwt"}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		{"duplicate unknown member", `{"alg":"HS256","kid":"$KID","typ":"at+jwt","x":1,"x":2}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		// Values are another matter: a media type ignores case and may
		// leave out "application/" (RFC 7515 §4.1.9); an alg may not.
		{"typ value in upper case", `{"alg":"HS256","kid":"$KID","typ":"AT+JWT"}`, ginfresh.Access, nil},
		{"typ value with application/", `{"alg":"HS256","kid":"$KID","typ":"application/at+jwt"}`, ginfresh.Access, nil},
		{"alg value in lower case", `{"alg":"hs256","kid":"$KID","typ":"at+jwt"}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		{"kid not a string", `{"alg":"HS256","kid":1,"typ":"at+jwt"}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
		{"typ not a string", `{"alg":"HS256","kid":"$KID","typ":["at+jwt"]}`, ginfresh.Access, ginfresh.ErrTokenInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			header := strings.ReplaceAll(tt.header, "$KID", kid)
			token := craftToken(t, header, goodClaims(s.Clock.Now()), hmacSigner(secret))
			_, err := s.Auth.Verify(context.Background(), tt.kind, token)
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("Verify(%v): got %v, want %v", tt.kind, err, tt.wantErr)
			}
			if tt.kind != ginfresh.Access {
				return
			}
			if w := s.Get(testkit.Protected, token); tt.wantErr == nil {
				testkit.Status(t, w, http.StatusOK)
			} else {
				testkit.Refused(t, w, http.StatusUnauthorized, "invalid_token")
			}
		})
	}
}

// Tokens are issued with exactly the three members a verifier needs, in a
// fixed order.
func TestJWTHeaderAsIssued(t *testing.T) {
	secret := []byte("jwt-header-test-key-0123456789-0123456789")
	kid := orPanic(ginfresh.NewHMACKey("", ginfresh.HS256, secret)).ID()
	s := testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithHMACKey(secret))
	tok := s.Login(t, "alice")
	for token, typ := range map[string]string{tok.AccessToken: "at+jwt", tok.RefreshToken: "refresh+jwt"} {
		seg, _, _ := strings.Cut(token, ".")
		got, err := base64.RawURLEncoding.Strict().DecodeString(seg)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"alg":"HS256","kid":"` + kid + `","typ":"` + typ + `"}`; string(got) != want {
			t.Fatalf("header %s, want %s", got, want)
		}
	}
}

// A token may leave out its kid only when one key could have signed it.
func TestJWTKidOptionalWithOneKey(t *testing.T) {
	secret := []byte("jwt-header-test-key-0123456789-0123456789")
	second := verifierFor(t, keyFor(t, ginfresh.EdDSA))
	one := testkit.NewServer(t, testkit.NewClock(), true, ginfresh.WithHMACKey(secret))
	two := testkit.NewServer(t, testkit.NewClock(), true, ginfresh.WithHMACKey(secret), ginfresh.WithVerificationKeys(second))
	for _, tt := range []struct {
		name   string
		s      *testkit.Server
		header string
		want   bool
	}{
		{"one key, no kid", one, `{"alg":"HS256","typ":"at+jwt"}`, true},
		{"one key, null kid", one, `{"alg":"HS256","kid":null,"typ":"at+jwt"}`, false},
		{"one key, empty kid", one, `{"alg":"HS256","kid":"","typ":"at+jwt"}`, false},
		{"one key, no kid, another alg", one, `{"alg":"EdDSA","typ":"at+jwt"}`, false},
		{"two keys, no kid", two, `{"alg":"HS256","typ":"at+jwt"}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			token := craftToken(t, tt.header, goodClaims(tt.s.Clock.Now()), hmacSigner(secret))
			_, err := tt.s.Auth.Verify(context.Background(), ginfresh.Access, token)
			if tt.want != (err == nil) || (err != nil && !errors.Is(err, ginfresh.ErrTokenInvalid)) {
				t.Fatalf("got %v, want accepted %v", err, tt.want)
			}
		})
	}
}

// otherSpelling re-encodes the last character of a base64url segment so
// that it decodes to the same bytes under a lenient decoder: the unused
// low bits are set. One token must have one spelling.
func otherSpelling(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[i|1])
}

// The compact form is checked before anything is decoded: exactly three
// segments, base64url in its one canonical spelling, and a JSON object
// for a header.
func TestJWTMalformed(t *testing.T) {
	secret := []byte("jwt-header-test-key-0123456789-0123456789")
	kid := orPanic(ginfresh.NewHMACKey("", ginfresh.HS256, secret)).ID()
	s := testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithHMACKey(secret))
	header := `{"alg":"HS256","kid":"` + kid + `","typ":"at+jwt"}`
	claims := goodClaims(s.Clock.Now())
	good := craftToken(t, header, claims, hmacSigner(secret))
	testkit.Status(t, s.Get(testkit.Protected, good), http.StatusOK)
	// The tokens the server issues pass too: the rows below fail for the
	// reason they name.
	testkit.Status(t, s.Get(testkit.Protected, s.Login(t, "alice").AccessToken), http.StatusOK)

	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding
	sign := func(h, p string) string { return craftToken(t, h, p, hmacSigner(secret)) }
	// A header whose encoding has unused bits, respelled and signed as
	// sent. (An HMAC-SHA256 signature has 2 unused bits too.)
	padded := header
	for len(padded)%3 == 0 {
		padded += " "
	}
	input := otherSpelling(enc.EncodeToString([]byte(padded))) + "." + parts[1]
	respelled := input + "." + enc.EncodeToString(hmacSigner(secret)(t, []byte(input)))
	for _, tt := range []struct {
		name  string
		token string
	}{
		{"one segment", parts[0]},
		{"two segments", parts[0] + "." + parts[1]},
		{"four segments", good + "." + parts[2]},
		{"empty signature", parts[0] + "." + parts[1] + "."},
		{"line break in the signature", parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:]},
		{"CR LF in the payload", parts[0] + "." + parts[1][:10] + "\r\n" + parts[1][10:] + "." + parts[2]},
		{"space in the header", parts[0][:5] + " " + parts[0][5:] + "." + parts[1] + "." + parts[2]},
		{"padded signature", good + "="},
		{"standard base64 character", parts[0] + "." + parts[1] + "." + parts[2][:5] + "+" + parts[2][6:]},
		{"signature in another spelling", parts[0] + "." + parts[1] + "." + otherSpelling(parts[2])},
		{"header in another spelling", respelled},
		{"truncated signature", parts[0] + "." + parts[1] + "." + parts[2][:42]},
		{"empty header", sign("", claims)},
		{"header is an array", sign(`["alg","HS256"]`, claims)},
		{"header is a string", sign(`"HS256"`, claims)},
		{"header with data after the object", sign(header+`{}`, claims)},
		{"header not JSON", sign(`{"alg":"HS256",}`, claims)},
		{"payload not an object", sign(header, `["mallory"]`)},
		{"payload not JSON", sign(header, `{"sub":"mallory"`)},
		{"token over 8 KiB", sign(header, strings.TrimSuffix(claims, "}")+`,"pad":"`+strings.Repeat("x", 8<<10)+`"}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.token == good {
				t.Fatal("the row did not change the token")
			}
			if _, err := s.Auth.Verify(context.Background(), ginfresh.Access, tt.token); !errors.Is(err, ginfresh.ErrTokenInvalid) {
				t.Fatalf("got %v, want ErrTokenInvalid", err)
			}
		})
	}
}
