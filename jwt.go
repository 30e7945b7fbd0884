package ginfresh

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/golang-jwt/jwt/v5"
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

// jwtHeader is the part of a JOSE header ginfresh reads. jku, x5u and jwk are
// never read, so never followed.
type jwtHeader struct {
	Alg  string          `json:"alg"`
	Kid  *string         `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
}

// knownHeader is a header segment exactly as this format emits it, mapped to
// what it says, so the usual token's header costs one map look-up.
type knownHeader struct {
	key *Key
	typ TokenType
}

// jwtFormat signs and verifies JWS compact tokens with a fixed key set.
type jwtFormat struct {
	signer  *Key // nil when only verifying
	keys    map[string]*Key
	single  *Key // the key to use when a token names none and only one is configured
	headers map[string]knownHeader
	issue   [3]string // encoded header per TokenType, for signer
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
		for _, typ := range []TokenType{AccessToken, RefreshToken} {
			h := encodeHeader(k, typ)
			f.headers[h] = knownHeader{k, typ}
			if k == signer {
				f.issue[typ] = h
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

func typName(typ TokenType) string {
	if typ == RefreshToken {
		return typRefresh
	}
	return typAccess
}

func encodeHeader(k *Key, typ TokenType) string {
	h := `{"alg":` + string(appendJSONString(nil, k.alg)) + `,"kid":` + string(appendJSONString(nil, k.id)) + `,"typ":"` + typName(typ) + `"}`
	return b64.EncodeToString([]byte(h))
}

// CanIssue reports whether the format holds a signing key; see [Format].
func (f *jwtFormat) CanIssue() bool { return f.signer != nil }

// Issue implements [Format].
func (f *jwtFormat) Issue(typ TokenType, c *Claims) (string, error) {
	if f.signer == nil {
		return "", ErrKeyUnavailable
	}
	payload, err := c.MarshalJSON()
	if err != nil {
		return "", err
	}
	header := f.issue[typ]
	n := len(header) + 1 + b64.EncodedLen(len(payload))
	buf := make([]byte, n, n+1+b64.EncodedLen(128))
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
func (f *jwtFormat) Verify(want TokenType, token string) (*Claims, error) {
	if len(token) > MaxTokenSize {
		return nil, tokenError(ErrTokenInvalid, errTokenTooLong)
	}
	for i := 0; i < len(token); i++ {
		if !compactChars[token[i]] {
			return nil, tokenError(ErrTokenInvalid, fmt.Errorf("%w: %w", jwt.ErrTokenMalformed, errBadCharacter))
		}
	}
	dot1 := strings.IndexByte(token, '.')
	if dot1 < 0 {
		return nil, tokenError(ErrTokenInvalid, fmt.Errorf("%w: token contains an invalid number of segments", jwt.ErrTokenMalformed))
	}
	dot2 := strings.IndexByte(token[dot1+1:], '.') + dot1 + 1
	if dot2 <= dot1 || strings.IndexByte(token[dot2+1:], '.') >= 0 {
		return nil, tokenError(ErrTokenInvalid, fmt.Errorf("%w: token contains an invalid number of segments", jwt.ErrTokenMalformed))
	}
	key, typ, err := f.header(token[:dot1])
	if err != nil {
		return nil, tokenError(ErrTokenInvalid, err)
	}

	// The signing input, the decoded signature and the decoded payload
	// share one pooled buffer; decodeClaims copies what it keeps.
	bp := f.buffers.Get().(*[]byte)
	defer f.buffers.Put(bp)
	sigText := len(token) - dot2 - 1
	buf := slices.Grow(append((*bp)[:0], token...), b64.DecodedLen(sigText)+b64.DecodedLen(dot2-dot1-1))
	*bp = buf
	n, err := b64Strict.Decode(buf[len(token):cap(buf)], buf[dot2+1:])
	if err != nil {
		return nil, tokenError(ErrTokenInvalid, fmt.Errorf("%w: signature: %w", jwt.ErrTokenMalformed, err))
	}
	sigStart := len(token)
	buf = buf[:sigStart+n]
	if err := key.verify(buf[:dot2], token[:dot2], buf[sigStart:]); err != nil {
		return nil, tokenError(ErrTokenInvalid, err)
	}
	if typ != want {
		return nil, tokenError(ErrWrongTokenType, fmt.Errorf("got a %s token, want %s", typ, want))
	}
	n, err = b64Strict.Decode(buf[len(buf):cap(buf)], buf[dot1+1:dot2])
	if err != nil {
		return nil, tokenError(ErrTokenInvalid, fmt.Errorf("%w: payload: %w", jwt.ErrTokenMalformed, err))
	}
	c, err := decodeClaims(buf[len(buf) : len(buf)+n])
	if err != nil {
		return nil, tokenError(ErrTokenInvalid, err)
	}
	return c, nil
}

// header resolves a header segment to its key and token type.
func (f *jwtFormat) header(seg string) (*Key, TokenType, error) {
	if h, ok := f.headers[seg]; ok {
		return h.key, h.typ, nil
	}
	raw, err := b64Strict.DecodeString(seg)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: header: %w", jwt.ErrTokenMalformed, err)
	}
	if err := checkDuplicateKeys(raw); err != nil {
		return nil, 0, err
	}
	var h jwtHeader
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&h); err != nil || dec.More() {
		return nil, 0, fmt.Errorf("%w: header is not a JSON object", jwt.ErrTokenMalformed)
	}
	if h.Crit != nil {
		return nil, 0, errCritical
	}
	var key *Key
	if h.Kid == nil {
		key = f.single
	} else {
		key = f.keys[*h.Kid]
	}
	if key == nil {
		return nil, 0, fmt.Errorf("%w: %w", jwt.ErrTokenUnverifiable, errUnknownKey)
	}
	if h.Alg != key.alg {
		return nil, 0, fmt.Errorf("%w: %w", jwt.ErrTokenSignatureInvalid, errAlgMismatch)
	}
	switch strings.ToLower(strings.TrimPrefix(strings.ToLower(h.Typ), "application/")) {
	case typAccess:
		return key, AccessToken, nil
	case typRefresh:
		return key, RefreshToken, nil
	}
	return nil, 0, fmt.Errorf("%w: unknown typ", jwt.ErrTokenMalformed)
}
