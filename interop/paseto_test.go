package interop_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/paseto"
)

// The implicit assertions that bind each kind of ginfresh PASETO.
const (
	accessAssertion  = "ginfresh access token"
	refreshAssertion = "ginfresh refresh token"
)

// TestPasetoTS has paseto-ts verify a v4.public and decrypt a v4.local
// access token with its claim checks on; it refused ginfresh's tokens when
// their nbf came before their iat. It allows no clock skew. A refresh
// token fails under the access token's implicit assertion, and passes
// under its own.
func TestPasetoTS(t *testing.T) {
	node := node(t)

	_, private, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, otherPrivate, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signer := secretKey(t, private)
	otherSigner := secretKey(t, otherPrivate)

	secret, otherSecret := make([]byte, 32), make([]byte, 32)
	rand.Read(secret)
	rand.Read(otherSecret)
	local := localKey(t, secret)
	otherLocal := localKey(t, otherSecret)

	for _, s := range []struct {
		purpose string
		is      *issuer
		paserk  string // the key paseto-ts is given
		kid     string
		bad     string // the refusal of a token that does not verify under the key and assertion
	}{
		{
			"public",
			newIssuer(t, withPublic(t, signer), withPublic(t, otherSigner)),
			"k4.public." + base64.RawURLEncoding.EncodeToString(private.Public().(ed25519.PublicKey)),
			signer.ID(), "PasetoSignatureInvalid",
		},
		{
			"local",
			newIssuer(t, withLocal(t, local), withLocal(t, otherLocal)),
			"k4.local." + base64.RawURLEncoding.EncodeToString(secret),
			local.ID(), "PasetoDecryptionFailed",
		},
	} {
		t.Run("v4."+s.purpose, func(t *testing.T) {
			args := []string{node, "js/paseto_verify.mjs", "--purpose", s.purpose, "--key", s.paserk}
			v := verifier{"paseto-ts", slices.Concat(args, []string{"--assertion", accessAssertion})}
			decode := func(t *testing.T, out []byte) verified { return pasetoClaims(t, out, s.kid) }
			conform(t, v, s.is, decode, []refusal{
				{"Tampered", tamperedPASETO, s.bad},
				{"WrongKey", (*issuer).wrongKey, s.bad},
				{"Expired", (*issuer).expired, `PasetoClaimInvalid: Payload must have a valid "exp" claim (has expired)`},
				{"RefreshToken", (*issuer).refresh, s.bad},
			})
			t.Run("RefreshTokenUnderItsAssertion", func(t *testing.T) {
				t.Parallel()
				v := verifier{"paseto-ts", slices.Concat(args, []string{"--assertion", refreshAssertion})}
				if out, refused := v.check(t, func() string { return s.is.refresh(t) }); refused != "" {
					t.Fatalf("%s refused a refresh token under its own assertion: %s", v.name, refused)
				} else if c := pasetoClaims(t, out, s.kid); c.sub != subject || c.nbf != c.iat {
					t.Errorf("got sub %q, nbf %d, iat %d; want sub %q, nbf == iat", c.sub, c.nbf, c.iat, subject)
				}
			})
		})
	}
}

func secretKey(t *testing.T, private ed25519.PrivateKey) *paseto.SecretKey {
	t.Helper()
	k, err := paseto.NewSecretKey("", private)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func localKey(t *testing.T, secret []byte) *paseto.LocalKey {
	t.Helper()
	k, err := paseto.NewLocalKey("", secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// withPublic issues v4.public tokens signed with k.
func withPublic(t *testing.T, k *paseto.SecretKey) ginfresh.Option {
	t.Helper()
	f, err := paseto.NewPublic(k)
	if err != nil {
		t.Fatal(err)
	}
	return ginfresh.WithFormat(f)
}

// withLocal issues v4.local tokens encrypted with k.
func withLocal(t *testing.T, k *paseto.LocalKey) ginfresh.Option {
	t.Helper()
	f, err := paseto.NewLocal(k)
	if err != nil {
		t.Fatal(err)
	}
	return ginfresh.WithFormat(f)
}

// tamperedPASETO is an access token with its body edited: in a v4.public
// token the signed claims name mallory instead of alice; in a v4.local
// one, whose claims are encrypted, a bit of the ciphertext is flipped.
func tamperedPASETO(is *issuer, t *testing.T) string {
	parts := strings.Split(is.access(t), ".") // v4, purpose, body, footer
	body, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	if parts[1] == "local" {
		body[32] ^= 1 // the first byte after the 32-byte nonce
	} else if edited := bytes.Replace(body, []byte(`"sub":"alice"`), []byte(`"sub":"mallory"`), 1); !bytes.Equal(edited, body) {
		body = edited
	} else {
		t.Fatalf("no sub alice in %s", body)
	}
	parts[2] = base64.RawURLEncoding.EncodeToString(body)
	return strings.Join(parts, ".")
}

// pasetoClaims reads what paseto-ts printed: the payload, whose dates must
// be RFC 3339 strings in whole seconds, and the footer, which must name
// the key kid.
func pasetoClaims(t *testing.T, out []byte, kid string) verified {
	t.Helper()
	var r struct {
		Payload struct{ Sub, Jti, Sid, Role, Exp, Iat, Nbf string }
		Footer  struct{ Kid string }
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Footer.Kid != kid {
		t.Errorf("footer kid: got %q, want %q", r.Footer.Kid, kid)
	}
	seconds := func(name, s string) int64 {
		d, err := time.Parse(time.RFC3339, s)
		if err != nil || d.Nanosecond() != 0 {
			t.Errorf("%s is %q, not an RFC 3339 date in whole seconds (%v)", name, s, err)
		}
		return d.Unix()
	}
	p := r.Payload
	return verified{
		sub: p.Sub, jti: p.Jti, sid: p.Sid, role: p.Role,
		exp: seconds("exp", p.Exp), iat: seconds("iat", p.Iat), nbf: seconds("nbf", p.Nbf),
	}
}
