package ginfresh

import (
	"crypto"
	"net/http"
	"strconv"
	"strings"
	"time"

	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/gin-gonic/gin"
)

// JWK is one public key in RFC 7517 form.
type JWK struct {
	KeyType   string `json:"kty"`
	KeyID     string `json:"kid,omitempty"`
	Use       string `json:"use,omitempty"`
	Algorithm string `json:"alg,omitempty"`
	// KeyOps, when present, must include "verify" for a fetched key to be used.
	KeyOps []string `json:"key_ops,omitempty"`
	Curve  string   `json:"crv,omitempty"`
	N      string   `json:"n,omitempty"`
	E      string   `json:"e,omitempty"`
	X      string   `json:"x,omitempty"`
	Y      string   `json:"y,omitempty"`
}

// JWKSet is an RFC 7517 §5 JWK Set.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

var (
	b64 = base64.RawURLEncoding
	// b64Strict refuses non-zero padding bits, so one token has one spelling.
	b64Strict = base64.RawURLEncoding.Strict()
)

// publicJWK describes a public key by its required members only; kid, use
// and alg are filled in by the caller.
func publicJWK(public crypto.PublicKey) (JWK, error) {
	switch k := public.(type) {
	case *rsa.PublicKey:
		return JWK{KeyType: "RSA", N: b64.EncodeToString(k.N.Bytes()), E: b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())}, nil
	case *ecdsa.PublicKey:
		pk, err := k.ECDH()
		if err != nil {
			return JWK{}, err
		}
		raw := pk.Bytes()[1:] // uncompressed point: 0x04 || X || Y
		size := len(raw) / 2
		return JWK{KeyType: "EC", Curve: k.Curve.Params().Name, X: b64.EncodeToString(raw[:size]), Y: b64.EncodeToString(raw[size:])}, nil
	case ed25519.PublicKey:
		return JWK{KeyType: "OKP", Curve: "Ed25519", X: b64.EncodeToString(k)}, nil
	}
	return JWK{}, fmt.Errorf("unsupported public key type %T", public)
}

// PublicJWK describes k's public key as a JWK with its kid, alg and
// use "sig", as [Auth.JWKSHandler] publishes it. An HMAC secret has no
// public form and is an error.
func (k *Key) PublicJWK() (JWK, error) {
	if k.Public() == nil {
		return JWK{}, fmt.Errorf("%w: an HMAC secret is never published", ErrInvalidKey)
	}
	j, err := publicJWK(k.public)
	if err != nil {
		return JWK{}, err
	}
	j.KeyID, j.Use, j.Algorithm = k.id, "sig", string(k.alg)
	return j, nil
}

var jwkCurves = map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}

// PublicKey decodes the public key j describes: an *rsa.PublicKey, an
// *ecdsa.PublicKey or an ed25519.PublicKey. Symmetric ("oct") keys are
// refused: a shared secret is never taken from a key set.
func (j JWK) PublicKey() (crypto.PublicKey, error) {
	switch j.KeyType {
	case "RSA":
		n, err := jwkBytes("n", j.N, 0)
		if err != nil {
			return nil, err
		}
		e, err := jwkBytes("e", j.E, 0)
		if err != nil {
			return nil, err
		}
		exp := new(big.Int).SetBytes(e)
		if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64()%2 == 0 || exp.Int64() > 1<<31-1 {
			return nil, fmt.Errorf("%w: JWK: RSA exponent is not allowed", ErrInvalidKey)
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}, nil
	case "EC":
		curve, ok := jwkCurves[j.Curve]
		if !ok {
			return nil, fmt.Errorf("%w: JWK: unsupported curve %q", ErrInvalidKey, j.Curve)
		}
		size := (curve.Params().BitSize + 7) / 8
		x, err := jwkBytes("x", j.X, size)
		if err != nil {
			return nil, err
		}
		y, err := jwkBytes("y", j.Y, size)
		if err != nil {
			return nil, err
		}
		k, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, fmt.Errorf("%w: JWK: %w", ErrInvalidKey, err)
		}
		return k, nil
	case "OKP":
		if j.Curve != "Ed25519" {
			return nil, fmt.Errorf("%w: JWK: unsupported curve %q", ErrInvalidKey, j.Curve)
		}
		x, err := jwkBytes("x", j.X, ed25519.PublicKeySize)
		if err != nil {
			return nil, err
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("%w: JWK: unsupported key type %q", ErrInvalidKey, j.KeyType)
}

var errJWKMember = errors.New("JWK member is missing or malformed")

// jwkBytes decodes a base64url member; size > 0 demands that length.
func jwkBytes(name, value string, size int) ([]byte, error) {
	b, err := b64Strict.DecodeString(value)
	if err != nil || len(b) == 0 || (size > 0 && len(b) != size) {
		return nil, fmt.Errorf("%w: %w: %q", ErrInvalidKey, errJWKMember, name)
	}
	return b, nil
}

// thumbprint is the RFC 7638 JWK thumbprint: SHA-256 over the required
// members in lexicographic order, without white space.
func thumbprint(public crypto.PublicKey) (string, error) {
	j, err := publicJWK(public)
	if err != nil {
		return "", err
	}
	var members any
	switch j.KeyType {
	case "RSA":
		members = struct {
			E   string `json:"e"`
			Kty string `json:"kty"`
			N   string `json:"n"`
		}{j.E, j.KeyType, j.N}
	case "EC":
		members = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
			Y   string `json:"y"`
		}{j.Curve, j.KeyType, j.X, j.Y}
	default:
		members = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
		}{j.Curve, j.KeyType, j.X}
	}
	b, err := json.Marshal(members)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return b64.EncodeToString(sum[:]), nil
}

// jwkSetContentType is the media type of a JWK Set (RFC 7517 §8.5.1).
const jwkSetContentType = "application/jwk-set+json"

// jwksDocument is the JWK Set, rendered once in New.
type jwksDocument struct {
	body         []byte
	etag         string
	cacheControl string
}

// newJWKSDocument publishes the public half of every asymmetric key. HMAC
// secrets have no public half and are left out; private parts never leave
// the Key.
func newJWKSDocument(keys []*Key, maxAge time.Duration) (*jwksDocument, error) {
	set := JWKSet{Keys: []JWK{}}
	seen := map[string]bool{}
	for _, k := range keys {
		if k == nil || k.Public() == nil || seen[k.id] {
			continue
		}
		seen[k.id] = true
		j, err := k.PublicJWK()
		if err != nil {
			return nil, fmt.Errorf("publishing key %q: %w", k.id, err)
		}
		set.Keys = append(set.Keys, j)
	}
	body, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	return &jwksDocument{
		body:         body,
		etag:         `"` + b64.EncodeToString(sum[:16]) + `"`,
		cacheControl: "public, max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10),
	}, nil
}

// JWKSHandler serves the public verification keys as an RFC 7517 JWK Set,
// for example at GET /.well-known/jwks.json, so that other services can
// verify tokens without holding a secret. Each key carries its kid, alg and
// use "sig". The document is built once in [New]; it is cacheable for
// [WithJWKSMaxAge] and answers If-None-Match with 304. It holds the keys
// configured with [WithSigningKey] and [WithVerificationKeys], never keys
// fetched with [WithJWKSURL]: a resource server does not republish its issuer.
func (a *Auth) JWKSHandler() gin.HandlerFunc {
	d := a.jwks
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Cache-Control", d.cacheControl)
		h.Set("ETag", d.etag)
		if etagMatches(c.GetHeader("If-None-Match"), d.etag) {
			c.Status(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, jwkSetContentType, d.body)
	}
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 §13.1.2).
func etagMatches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
