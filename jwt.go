package ginfresh

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ginfresh/ginfresh/internal/jsonscan"
)

// JWS "typ" header values. Access tokens follow RFC 9068; refresh tokens get
// their own so neither can stand in for the other (RFC 8725 §3.11).
const (
	typAccess  = "at+jwt"
	typRefresh = "refresh+jwt"
)

var (
	errUnknownKey   = errors.New("unknown kid")
	errAlgMismatch  = errors.New("alg does not match the key")
	errCritical     = errors.New("crit header is not supported")
	errTokenTooLong = errors.New("token too long")
	errBadCharacter = errors.New("token holds a character outside base64url")
	errSegments     = fmt.Errorf("%w: token contains an invalid number of segments", jwt.ErrTokenMalformed)
)

// compactChars are the bytes a JWS compact token may hold. Checked up front
// because the base64 decoder skips CR and LF: without the check, line
// breaks in the signature would make another string out of the same valid
// token.
var compactChars = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") {
		t[c] = true
	}
	return t
}()

// knownHeader is a header segment exactly as this format emits it, mapped to
// what it says, so the usual token's header costs one map look-up.
type knownHeader struct {
	key  *Key
	kind Kind
}

// jwtFormat signs and verifies JWS compact tokens with a fixed key set.
type jwtFormat struct {
	signer  *Key // nil when only verifying
	keys    map[string]*Key
	single  *Key // the key to use when a token names none and only one is configured
	headers map[string]knownHeader
	issue   [3]string // encoded header per Kind, for signer
	buffers sync.Pool
}

func newJWTFormat(signer *Key, verifiers []*Key) (*jwtFormat, error) {
	f, err := buildJWTFormat(signer, verifiers)
	if err == nil && len(f.keys) == 0 {
		err = errors.New("no keys")
	}
	return f, err
}

// buildJWTFormat is newJWTFormat that allows an empty set, for a snapshot
// of a remote key set.
func buildJWTFormat(signer *Key, verifiers []*Key) (*jwtFormat, error) {
	f := &jwtFormat{signer: signer, keys: map[string]*Key{}, headers: map[string]knownHeader{}}
	f.buffers.New = func() any { b := make([]byte, 0, 1024); return &b }
	all := verifiers
	if signer != nil {
		all = append([]*Key{signer}, verifiers...)
	}
	for _, k := range all {
		if prev, dup := f.keys[k.id]; dup && prev != k {
			return nil, fmt.Errorf("two keys share kid %q", k.id)
		}
		f.keys[k.id] = k
		for _, kind := range []Kind{Access, Refresh} {
			h := encodeHeader(k, kind)
			f.headers[h] = knownHeader{k, kind}
			if k == signer {
				f.issue[kind] = h
			}
		}
	}
	if len(f.keys) == 1 {
		for _, k := range f.keys {
			f.single = k
		}
	}
	return f, nil
}

func typName(k Kind) string {
	if k == Refresh {
		return typRefresh
	}
	return typAccess
}

func encodeHeader(k *Key, kind Kind) string {
	h := `{"alg":` + string(jsonscan.AppendString(nil, string(k.alg))) + `,"kid":` + string(jsonscan.AppendString(nil, k.id)) + `,"typ":"` + typName(kind) + `"}`
	return b64.EncodeToString([]byte(h))
}

// CanIssue implements [Format].
func (f *jwtFormat) CanIssue() bool { return f.signer != nil }

// DeriveKey derives a secret from the signing key; see [Format].
func (f *jwtFormat) DeriveKey(label string) []byte {
	if f.signer == nil {
		return nil
	}
	return f.signer.derive(label)
}

// Issue implements [Format].
func (f *jwtFormat) Issue(kind Kind, payload []byte) (string, error) {
	if f.signer == nil {
		return "", ErrCannotIssue
	}
	header := f.issue[kind]
	n := len(header) + 1 + b64.EncodedLen(len(payload))
	buf := make([]byte, n, n+1+b64.EncodedLen(64))
	copy(buf, header)
	buf[len(header)] = '.'
	b64.Encode(buf[len(header)+1:], payload)
	sig, err := f.signer.sign(buf)
	if err != nil {
		return "", err
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	return string(buf), nil
}

// Verify implements [Format]: structure, key by kid, alg bound to that key,
// no crit, signature, then typ, then the payload.
func (f *jwtFormat) Verify(want Kind, token string) ([]byte, error) {
	if len(token) > maxTokenSize {
		return nil, tokenError(ErrTokenInvalid, errTokenTooLong)
	}
	for i := 0; i < len(token); i++ {
		if !compactChars[token[i]] {
			return nil, tokenError(ErrTokenInvalid, fmt.Errorf("%w: %w", jwt.ErrTokenMalformed, errBadCharacter))
		}
	}
	dot1 := strings.IndexByte(token, '.')
	if dot1 < 0 {
		return nil, tokenError(ErrTokenInvalid, errSegments)
	}
	dot2 := strings.IndexByte(token[dot1+1:], '.') + dot1 + 1
	if dot2 <= dot1 || strings.IndexByte(token[dot2+1:], '.') >= 0 {
		return nil, tokenError(ErrTokenInvalid, errSegments)
	}
	key, kind, err := f.header(token[:dot1])
	if err != nil {
		return nil, tokenError(ErrTokenInvalid, err)
	}

	// The token and its decoded signature share one pooled buffer.
	bp := f.buffers.Get().(*[]byte)
	defer f.buffers.Put(bp)
	sigText := len(token) - dot2 - 1
	buf := slices.Grow(append((*bp)[:0], token...), b64.DecodedLen(sigText))
	*bp = buf
	n, err := b64Strict.Decode(buf[len(token):cap(buf)], buf[dot2+1:])
	if err != nil {
		return nil, tokenError(ErrTokenInvalid, fmt.Errorf("%w: signature: %w", jwt.ErrTokenMalformed, err))
	}
	if err := key.verify(buf[:dot2], token[:dot2], buf[len(token):len(token)+n]); err != nil {
		return nil, tokenError(ErrTokenInvalid, err)
	}
	if kind != want {
		return nil, tokenError(ErrWrongTokenType, fmt.Errorf("got a %s token, want %s", kind, want))
	}
	payload := make([]byte, b64.DecodedLen(dot2-dot1-1))
	n, err = b64Strict.Decode(payload, buf[dot1+1:dot2])
	if err != nil {
		return nil, tokenError(ErrTokenInvalid, fmt.Errorf("%w: payload: %w", jwt.ErrTokenMalformed, err))
	}
	return payload[:n], nil
}

// header resolves a header segment to its key and token kind. Members are
// matched by their exact names, as the payload's are: "ALG" is not "alg".
func (f *jwtFormat) header(seg string) (*Key, Kind, error) {
	if h, ok := f.headers[seg]; ok {
		return h.key, h.kind, nil
	}
	raw, err := b64Strict.DecodeString(seg)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: header: %w", jwt.ErrTokenMalformed, err)
	}
	if !json.Valid(raw) {
		return nil, 0, fmt.Errorf("%w: header is not a JSON object", jwt.ErrTokenMalformed)
	}
	var alg, kid, typ string
	var hasKid bool
	err = jsonscan.Each(string(raw), func(name, v string) error {
		switch name {
		case "crit":
			return errCritical
		case "alg":
			return stringClaim(&alg, name, v)
		case "typ":
			return stringClaim(&typ, name, v)
		case "kid":
			hasKid = true
			return stringClaim(&kid, name, v)
		}
		return nil // jku, x5u, jwk…: never read, so never followed
	})
	switch {
	case errors.Is(err, jsonscan.ErrNotObject), errors.Is(err, jsonscan.ErrDuplicate), errors.Is(err, jsonscan.ErrBadName):
		return nil, 0, fmt.Errorf("%w: header: %w", jwt.ErrTokenMalformed, err)
	case err != nil:
		return nil, 0, err
	}
	key := f.single
	if hasKid {
		key = f.keys[kid]
	}
	if key == nil {
		return nil, 0, fmt.Errorf("%w: %w", jwt.ErrTokenUnverifiable, errUnknownKey)
	}
	if Algorithm(alg) != key.alg {
		return nil, 0, fmt.Errorf("%w: %w", jwt.ErrTokenSignatureInvalid, errAlgMismatch)
	}
	// Media types ignore case, and "application/" may be left out (RFC 7515
	// §4.1.9).
	switch strings.TrimPrefix(strings.ToLower(typ), "application/") {
	case typAccess:
		return key, Access, nil
	case typRefresh:
		return key, Refresh, nil
	}
	return nil, 0, fmt.Errorf("%w: unknown typ", jwt.ErrTokenMalformed)
}
