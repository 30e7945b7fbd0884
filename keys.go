package ginfresh

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"hash"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// minHMACKeySize is the shortest HMAC secret accepted, in bytes (RFC 7518
// §3.2 asks for a key at least as long as the hash output of HS256).
const minHMACKeySize = 32

// RSA moduli accepted: at least 2048 bits (RFC 7518 §3.3) and at most 8192,
// so that a key from a fetched key set cannot make each forged token cost
// many milliseconds to refuse.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// Algorithm is a JWS algorithm (RFC 7518) that a [Key] is bound to.
type Algorithm string

// The algorithms keys can be bound to.
const (
	HS256 Algorithm = "HS256" // HMAC with SHA-256: a shared secret
	HS384 Algorithm = "HS384"
	HS512 Algorithm = "HS512"
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
	RS384 Algorithm = "RS384"
	RS512 Algorithm = "RS512"
	PS256 Algorithm = "PS256" // RSASSA-PSS with SHA-256
	PS384 Algorithm = "PS384"
	PS512 Algorithm = "PS512"
	ES256 Algorithm = "ES256" // ECDSA on P-256 with SHA-256
	ES384 Algorithm = "ES384"
	ES512 Algorithm = "ES512"
	EdDSA Algorithm = "EdDSA" // Ed25519
)

// Key is one key bound to exactly one algorithm (RFC 8725 §3.1). A token is
// checked with the key its kid names, and only if its alg is that key's
// algorithm; the token's alg never chooses how it is verified.
type Key struct {
	id     string
	alg    Algorithm
	method jwt.SigningMethod
	// private signs; nil for a verification-only key.
	private any
	// public verifies: the public half, or the secret for HMAC.
	public any
	// hmac pools keyed hashers (*macState) so verification allocates
	// nothing.
	hmac *sync.Pool
}

// ID returns the key's kid.
func (k *Key) ID() string { return k.id }

// Algorithm returns the algorithm the key is bound to.
func (k *Key) Algorithm() Algorithm { return k.alg }

// CanSign reports whether the key holds private (or secret) material.
func (k *Key) CanSign() bool { return k.private != nil }

// Public returns the public key, or nil for an HMAC secret.
func (k *Key) Public() crypto.PublicKey {
	if k.hmac != nil {
		return nil
	}
	return k.public
}

var hmacHashes = map[Algorithm]func() hash.Hash{
	HS256: sha256.New,
	HS384: sha512.New384,
	HS512: sha512.New,
}

// NewHMACKey binds a shared secret of at least 32 bytes to one
// of HS256, HS384 or HS512. With an empty id, the kid is derived from the
// secret by a one-way hash, so every instance sharing the secret agrees on it.
func NewHMACKey(id string, alg Algorithm, secret []byte) (*Key, error) {
	newHash, ok := hmacHashes[alg]
	if !ok {
		return nil, fmt.Errorf("%w: algorithm %q is not an HMAC algorithm (use HS256, HS384 or HS512)", ErrInvalidKey, alg)
	}
	if len(secret) < minHMACKeySize {
		return nil, fmt.Errorf("%w: HMAC key is %d bytes, at least %d are required", ErrInvalidKey, len(secret), minHMACKeySize)
	}
	secret = append([]byte(nil), secret...) // the caller may reuse its slice
	if id == "" {
		sum := sha256.Sum256(append([]byte("ginfresh kid\x00"+string(alg)+"\x00"), secret...))
		id = base64.RawURLEncoding.EncodeToString(sum[:12])
	}
	k := &Key{id: id, alg: alg, method: jwt.GetSigningMethod(string(alg)), private: secret, public: secret}
	k.hmac = &sync.Pool{New: func() any { return &macState{h: hmac.New(newHash, secret)} }}
	return k, nil
}

// macState is a keyed hasher with room for its output, which would escape
// to the heap if it lived on the stack of verify.
type macState struct {
	h   hash.Hash
	sum [sha512.Size]byte
}

// NewSigningKey binds a private key to an asymmetric algorithm: RS256
// (*rsa.PrivateKey), PS256 (*rsa.PrivateKey), ES256 (*ecdsa.PrivateKey on
// P-256) or EdDSA (ed25519.PrivateKey). Its public half verifies.
func NewSigningKey(id string, alg Algorithm, private crypto.Signer) (*Key, error) {
	if private == nil {
		return nil, fmt.Errorf("%w: private key is nil", ErrInvalidKey)
	}
	if p, ok := private.(*ed25519.PrivateKey); ok && p != nil {
		private = *p
	}
	if err := checkPrivate(private); err != nil {
		return nil, err
	}
	k, err := NewVerificationKey(id, alg, private.Public())
	if err != nil {
		return nil, err
	}
	k.private = private
	// A key the algorithm cannot use (an RSA signer that is not an
	// *rsa.PrivateKey, say) fails here rather than at the first login.
	probe := []byte("ginfresh key probe")
	sig, err := k.sign(probe)
	if err == nil {
		err = k.verify(probe, string(probe), sig)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the key cannot sign %s: %w", ErrInvalidKey, alg, err)
	}
	return k, nil
}

// NewVerificationKey binds a public key to one asymmetric algorithm, for
// tokens signed elsewhere or by a retired signing key. With an empty id the
// kid is the key's RFC 7638 thumbprint.
func NewVerificationKey(id string, alg Algorithm, public crypto.PublicKey) (*Key, error) {
	if p, ok := public.(*ed25519.PublicKey); ok {
		var k ed25519.PublicKey // a nil p stays empty, which is refused
		if p != nil {
			k = *p
		}
		public = k
	}
	if err := checkKeyType(alg, public); err != nil {
		return nil, err
	}
	if id == "" {
		tp, err := thumbprint(public)
		if err != nil {
			return nil, err
		}
		id = tp
	}
	return &Key{id: id, alg: alg, method: jwt.GetSigningMethod(string(alg)), public: public}, nil
}

// checkPrivate refuses private keys too empty to say what their public half
// is, which crypto.Signer.Public would otherwise answer with a panic.
func checkPrivate(private crypto.Signer) error {
	switch p := private.(type) {
	// The public half of the rest is checked by checkKeyType.
	case *rsa.PrivateKey:
		if p == nil {
			return fmt.Errorf("%w: RSA private key is nil", ErrInvalidKey)
		}
	case *ecdsa.PrivateKey:
		// Reading D for nil only: Bytes would panic on such a key.
		//lint:ignore SA1019 a nil check, not a use of the raw value
		if p == nil || p.D == nil {
			return fmt.Errorf("%w: ECDSA private key is empty", ErrInvalidKey)
		}
	case ed25519.PrivateKey:
		if len(p) != ed25519.PrivateKeySize {
			return fmt.Errorf("%w: Ed25519 private key is %d bytes, not %d", ErrInvalidKey, len(p), ed25519.PrivateKeySize)
		}
	case *ed25519.PrivateKey: // only a nil one is left here
		return fmt.Errorf("%w: Ed25519 private key is nil", ErrInvalidKey)
	}
	return nil
}

// esCurves is the curve each ECDSA algorithm is bound to.
var esCurves = map[Algorithm]elliptic.Curve{ES256: elliptic.P256(), ES384: elliptic.P384(), ES512: elliptic.P521()}

func checkKeyType(alg Algorithm, public crypto.PublicKey) error {
	switch alg {
	case RS256, RS384, RS512, PS256, PS384, PS512:
		k, ok := public.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: %s needs an RSA key, got %T", ErrInvalidKey, alg, public)
		}
		if k == nil || k.N == nil || k.E < 3 {
			return fmt.Errorf("%w: RSA key is empty or has no usable exponent", ErrInvalidKey)
		}
		if n := k.N.BitLen(); n < minRSABits || n > maxRSABits {
			return fmt.Errorf("%w: RSA key is %d bits, not %d to %d", ErrInvalidKey, n, minRSABits, maxRSABits)
		}
	case ES256, ES384, ES512:
		k, ok := public.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: %s needs an ECDSA key, got %T", ErrInvalidKey, alg, public)
		}
		// Reading X and Y for nil only: Bytes would panic on such a key.
		//lint:ignore SA1019 a nil check, not a use of the raw coordinates
		if k == nil || k.Curve == nil || k.X == nil || k.Y == nil {
			return fmt.Errorf("%w: ECDSA key is empty", ErrInvalidKey)
		}
		want := esCurves[alg]
		if k.Curve != want {
			return fmt.Errorf("%w: %s needs curve %s, got %s", ErrInvalidKey, alg, want.Params().Name, k.Curve.Params().Name)
		}
	case EdDSA:
		k, ok := public.(ed25519.PublicKey)
		if !ok {
			return fmt.Errorf("%w: EdDSA needs an Ed25519 key, got %T", ErrInvalidKey, public)
		}
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: Ed25519 public key is %d bytes, not %d", ErrInvalidKey, len(k), ed25519.PublicKeySize)
		}
	case HS256, HS384, HS512:
		return fmt.Errorf("%w: %s is an HMAC algorithm (use NewHMACKey)", ErrInvalidKey, alg)
	default:
		return fmt.Errorf("%w: algorithm %q is not supported", ErrInvalidKey, alg)
	}
	return nil
}

// sign returns the signature of input.
func (k *Key) sign(input []byte) ([]byte, error) {
	if k.private == nil {
		return nil, ErrCannotIssue
	}
	if k.hmac != nil {
		m := k.hmac.Get().(*macState)
		m.h.Reset()
		m.h.Write(input)
		sig := m.h.Sum(nil)
		k.hmac.Put(m)
		return sig, nil
	}
	return k.method.Sign(string(input), k.private)
}

// verify checks sig over input (input is the token's "header.payload").
func (k *Key) verify(input []byte, inputString string, sig []byte) error {
	if k.hmac != nil {
		m := k.hmac.Get().(*macState)
		m.h.Reset()
		m.h.Write(input)
		ok := hmac.Equal(sig, m.h.Sum(m.sum[:0]))
		k.hmac.Put(m)
		if !ok {
			return jwt.ErrTokenSignatureInvalid
		}
		return nil
	}
	if err := k.method.Verify(inputString, sig, k.public); err != nil {
		return fmt.Errorf("%w: %w", jwt.ErrTokenSignatureInvalid, err)
	}
	return nil
}

// derive returns a secret derived from the key's private material under
// label, so that instances holding the same key agree on it; nil when the
// private half is out of reach (a hardware signer, say) or absent.
func (k *Key) derive(label string) []byte {
	var material []byte
	switch p := k.private.(type) {
	case nil:
		return nil
	case []byte: // an HMAC secret
		material = p
	default:
		// RSA, ECDSA and Ed25519 keys in memory marshal; others do not.
		var err error
		if material, err = x509.MarshalPKCS8PrivateKey(p); err != nil {
			return nil
		}
	}
	m := hmac.New(sha256.New, material)
	m.Write([]byte(label))
	return m.Sum(nil)
}
