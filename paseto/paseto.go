// Package paseto issues ginfresh tokens as PASETO v4 instead of JWT:
// versioned tokens with no algorithm header to attack.
//
//	key, err := paseto.GenerateSecretKey("") // or SecretKeyFromHex(…)
//	format, err := paseto.NewPublic(key)
//	auth, err := ginfresh.New(ginfresh.WithFormat(format), ginfresh.WithAuthenticator(check))
//
// Handlers, guards, freshness, rotation and revocation behave exactly as
// with JWT; only the token on the wire differs.
//
// # Purposes
//
// [NewPublic] signs v4.public tokens with Ed25519: anyone holding the public
// key can verify them (and read them: the payload is only base64url), so
// resource servers need no secret; [NewPublicVerifier] builds such a
// verify-only format. [NewLocal] encrypts v4.local tokens with XChaCha20 and
// BLAKE2b: the claims stay private, and every service that verifies holds
// the secret key.
//
// # Tokens
//
// The payload holds the registered PASETO claims and ginfresh's own (fresh,
// auth_time, sid, acr, amr, csrf, custom claims). exp, nbf and iat are RFC
// 3339 strings in UTC and whole seconds ("2030-01-02T03:04:05Z"), and nbf
// equals iat, so verifiers that refuse a token whose nbf comes before its
// iat (paseto-ts) take ginfresh's tokens; auth_time, which PASETO does not
// register, stays a NumericDate. A token minted elsewhere may carry a
// fraction of a second: Verify drops it, reading the date as the whole
// second it falls in, as ginfresh's own dates are. A single audience is
// written as a string, several as an array.
//
// The token's kind is bound by an implicit assertion ("ginfresh access
// token" or "ginfresh refresh token"): it is authenticated but never sent,
// so an access token can never pass for a refresh token or the other way
// round. The footer is {"kid":"…"}, naming the key: one active key issues,
// older ones keep verifying during a rotation, and a token naming no
// configured key is refused before any cryptography.
//
// # Login throttle
//
// [Format.DeriveKey] derives ginfresh's login-throttle key from the active
// key, so every instance holding that key counts the same attempts (and so
// does one using the built-in JWT format with the same key); a verify-only
// format derives none.
package paseto

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"aidanwoods.dev/go-paseto"

	"github.com/ginfresh/ginfresh"
)

const (
	// MaxTokenSize is the largest token accepted, in bytes, as by
	// ginfresh's own formats: real tokens are well under 2 KiB, and the cap
	// bounds the work an attacker can ask for.
	MaxTokenSize = 8 << 10
	// MaxFooterSize is the largest footer accepted, in bytes, checked
	// before it is decoded or parsed (PASETO's advice for JSON footers).
	MaxFooterSize = 256
)

// Errors found with errors.Is under [ginfresh.ErrTokenInvalid].
var (
	// ErrProtocol: the token is not of this format's version and purpose
	// (a v4.local token given to a v4.public format, any v2 or v3 token).
	ErrProtocol = errors.New("paseto: wrong version or purpose")
	// ErrFooter: the footer is missing, too large or not {"kid":"…"}.
	ErrFooter = errors.New("paseto: bad footer")
	// ErrUnknownKey: the footer names a key this format does not hold.
	ErrUnknownKey = errors.New("paseto: unknown kid")
	// ErrAuthentication: the signature or MAC does not verify, or the
	// token is malformed.
	ErrAuthentication = errors.New("paseto: token does not verify")
	// ErrPayload: the verified payload is not one JSON object naming each
	// claim once, or its exp, nbf or iat is not an RFC 3339 string of a
	// date from 1970 to 5138. Other claim values are ginfresh's to check.
	ErrPayload = errors.New("paseto: bad payload")
)

// Implicit assertions binding each kind of token.
var implicit = [...][]byte{
	ginfresh.Access:  []byte("ginfresh access token"),
	ginfresh.Refresh: []byte("ginfresh refresh token"),
}

var b64 = base64.RawURLEncoding.Strict()

// Format is a PASETO v4 token format for [ginfresh.WithFormat]. It is safe
// for concurrent use.
type Format struct {
	header string // "v4.public." or "v4.local."
	// seal signs or encrypts a token with the active key; nil when only
	// verifying.
	seal   func(t *paseto.Token, implicit []byte) string
	secret []byte // the active key's secret bytes, for DeriveKey
	footer []byte // {"kid":…} of the active key
	open   map[string]opener
	// known maps each footer exactly as this format writes it, encoded,
	// to its key, so the usual token's footer costs one map look-up.
	known map[string]opener
}

// opener verifies (or decrypts) a token with one key and returns its
// payload as signed or sealed.
type opener func(token string, implicit []byte) ([]byte, error)

var _ ginfresh.Format = (*Format)(nil)

// parser applies no rules: ginfresh checks the claim values against its
// own clock and options.
var parser = paseto.NewParserWithoutExpiryCheck()

func newFormat(header string) *Format {
	return &Format{header: header, open: map[string]opener{}, known: map[string]opener{}}
}

// add makes the key id verify with open.
func (f *Format) add(id string, open opener) error {
	if _, dup := f.open[id]; dup {
		return fmt.Errorf("paseto: two keys share the id %q", id)
	}
	f.open[id] = open
	f.known[b64.EncodeToString(footerFor(id))] = open
	return nil
}

// NewPublic returns a v4.public format that signs with signer and verifies
// with signer's public key and with verifiers (the public keys of retired
// signers during a rotation).
func NewPublic(signer *SecretKey, verifiers ...*PublicKey) (*Format, error) {
	if signer == nil {
		return nil, errors.New("paseto: NewPublic: nil signer (use NewPublicVerifier to verify only)")
	}
	f, err := newPublic(append([]*PublicKey{signer.Public()}, verifiers...))
	if err != nil {
		return nil, err
	}
	// PKCS #8, as the built-in JWT format keys its derivation with an
	// Ed25519 signing key, so that a fleet moving between the two formats
	// on one key keeps one login throttle.
	f.secret, err = x509.MarshalPKCS8PrivateKey(ed25519.PrivateKey(signer.key.ExportBytes()))
	if err != nil {
		return nil, fmt.Errorf("paseto: NewPublic: %w", err)
	}
	f.footer = footerFor(signer.id)
	f.seal = func(t *paseto.Token, implicit []byte) string { return t.V4Sign(signer.key, implicit) }
	return f, nil
}

// NewPublicVerifier returns a v4.public format that only verifies: an Auth
// built with it is a resource server, which needs no authenticator and
// answers login and refresh with [ginfresh.ErrCannotIssue].
func NewPublicVerifier(keys ...*PublicKey) (*Format, error) {
	if len(keys) == 0 {
		return nil, errors.New("paseto: NewPublicVerifier: no keys")
	}
	return newPublic(keys)
}

func newPublic(keys []*PublicKey) (*Format, error) {
	f := newFormat(paseto.V4Public.Header())
	for _, k := range keys {
		if k == nil {
			return nil, errors.New("paseto: nil public key")
		}
		key := k.key
		err := f.add(k.id, func(token string, implicit []byte) ([]byte, error) {
			if _, err := parser.ParseV4Public(key, token, implicit); err != nil {
				return nil, err
			}
			// The verified message is the payload minus its signature: read
			// it as signed rather than as the library re-encodes it, so
			// duplicate claims are seen.
			body := token[len(f.header):]
			body = body[:strings.IndexByte(body, '.')]
			b, err := b64.DecodeString(body)
			if err != nil || len(b) < ed25519.SignatureSize {
				return nil, errors.New("payload encoding")
			}
			return b[:len(b)-ed25519.SignatureSize], nil
		})
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

// NewLocal returns a v4.local format that encrypts with active and decrypts
// with it and with decrypting (retired keys during a rotation).
func NewLocal(active *LocalKey, decrypting ...*LocalKey) (*Format, error) {
	if active == nil {
		return nil, errors.New("paseto: NewLocal: nil key")
	}
	f := newFormat(paseto.V4Local.Header())
	for _, k := range append([]*LocalKey{active}, decrypting...) {
		if k == nil {
			return nil, errors.New("paseto: nil local key")
		}
		key := k.key
		err := f.add(k.id, func(token string, implicit []byte) ([]byte, error) {
			t, err := parser.ParseV4Local(key, token, implicit)
			if err != nil {
				return nil, err
			}
			// The library hands over the decrypted claims re-encoded (keys
			// sorted, a duplicate already collapsed); only holders of the
			// key can mint a v4.local token, and ginfresh never writes
			// duplicates.
			return t.ClaimsJSON(), nil
		})
		if err != nil {
			return nil, err
		}
	}
	f.footer = footerFor(active.id)
	f.secret = active.key.ExportBytes() // as an HMAC secret of the JWT format
	f.seal = func(t *paseto.Token, implicit []byte) string { return t.V4Encrypt(active.key, implicit) }
	return f, nil
}

func footerFor(kid string) []byte {
	b, _ := json.Marshal(struct {
		Kid string `json:"kid"`
	}{kid}) // cannot fail for a string
	return b
}

// CanIssue reports whether the format holds a key to issue with; see
// [ginfresh.Format].
func (f *Format) CanIssue() bool { return f.seal != nil }

// DeriveKey returns a secret derived from the active key under label:
// HMAC-SHA256 over label, keyed with the Ed25519 private key of [NewPublic]
// in PKCS #8 or with the 32 bytes of [NewLocal]'s key. ginfresh keys its
// login-throttle digests with it, so that instances holding the same key
// count the same attempts, and the digests reveal nothing of the key. The
// built-in JWT format derives the same secret from the same Ed25519 key or
// HMAC secret. A verify-only format holds no secret and returns nil.
func (f *Format) DeriveKey(label string) []byte {
	if f.secret == nil {
		return nil
	}
	m := hmac.New(sha256.New, f.secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// Issue implements [ginfresh.Format]: it writes the dates of payload as
// RFC 3339 strings and signs or seals the result under the implicit
// assertion of kind k, with the active key's footer.
func (f *Format) Issue(k ginfresh.Kind, payload []byte) (string, error) {
	if f.seal == nil {
		return "", ginfresh.ErrCannotIssue
	}
	if k != ginfresh.Access && k != ginfresh.Refresh {
		return "", fmt.Errorf("paseto: unknown token kind %d", k)
	}
	t, err := toPASETO(payload)
	if err != nil {
		return "", err
	}
	t.SetFooter(f.footer)
	return f.seal(t, implicit[k]), nil
}

// Verify implements [ginfresh.Format]: size, version and purpose, footer,
// key by kid, signature or MAC with the implicit assertion of want, then
// the payload, whose dates become NumericDates again. Claim values are left
// to ginfresh.
func (f *Format) Verify(want ginfresh.Kind, token string) ([]byte, error) {
	if want != ginfresh.Access && want != ginfresh.Refresh {
		return nil, invalid(fmt.Errorf("paseto: unknown token kind %d", want))
	}
	if len(token) > MaxTokenSize {
		return nil, invalid(fmt.Errorf("%w: token over %d bytes", ErrAuthentication, MaxTokenSize))
	}
	if !strings.HasPrefix(token, f.header) {
		return nil, invalid(fmt.Errorf("%w: want %s", ErrProtocol, strings.TrimSuffix(f.header, ".")))
	}
	open, err := f.key(token[len(f.header):])
	if err != nil {
		return nil, invalid(err)
	}
	payload, err := open(token, implicit[want])
	if err != nil {
		// A genuine token of the other kind verifies under the other
		// assertion: say so, as the JWT format does.
		other := ginfresh.Refresh
		if want == ginfresh.Refresh {
			other = ginfresh.Access
		}
		if _, otherErr := open(token, implicit[other]); otherErr == nil {
			return nil, wrongKind{got: other, want: want}
		}
		return nil, invalid(fmt.Errorf("%w: %w", ErrAuthentication, err))
	}
	claims, err := fromPASETO(payload)
	if err != nil {
		return nil, invalid(err)
	}
	return claims, nil
}

// key reads the footer of rest (the token after its header) and returns the
// opener of the key it names. Nothing here is authenticated yet, so it is
// bounded and strict.
func (f *Format) key(rest string) (opener, error) {
	dot := strings.IndexByte(rest, '.')
	if dot < 0 {
		return nil, fmt.Errorf("%w: missing", ErrFooter)
	}
	enc := rest[dot+1:]
	if open, ok := f.known[enc]; ok {
		return open, nil
	}
	if b64.DecodedLen(len(enc)) > MaxFooterSize {
		return nil, fmt.Errorf("%w: over %d bytes", ErrFooter, MaxFooterSize)
	}
	raw, err := b64.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding", ErrFooter)
	}
	ms, err := members(raw)
	if err != nil || len(ms) != 1 || ms[0].name != "kid" || len(ms[0].value) == 0 || ms[0].value[0] != '"' {
		return nil, fmt.Errorf(`%w: want {"kid":"…"}`, ErrFooter)
	}
	var kid string
	if err := json.Unmarshal(ms[0].value, &kid); err != nil {
		return nil, fmt.Errorf(`%w: want {"kid":"…"}`, ErrFooter)
	}
	open := f.open[kid]
	if open == nil {
		return nil, ErrUnknownKey
	}
	return open, nil
}

func invalid(err error) error { return fmt.Errorf("%w: %w", ginfresh.ErrTokenInvalid, err) }

// wrongKind is a genuine token of the other kind: ErrWrongTokenType, which
// is also ErrTokenInvalid.
type wrongKind struct{ got, want ginfresh.Kind }

func (e wrongKind) Error() string {
	return fmt.Sprintf("%v: got a %s token, want %s", ginfresh.ErrWrongTokenType, e.got, e.want)
}

func (e wrongKind) Unwrap() []error {
	return []error{ginfresh.ErrWrongTokenType, ginfresh.ErrTokenInvalid}
}
