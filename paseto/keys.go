package paseto

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"aidanwoods.dev/go-paseto"
	"golang.org/x/crypto/blake2b"
)

// MaxKeyIDSize is the longest key id accepted, in bytes. Together with the
// footer bound it keeps what Verify reads before any cryptography small.
const MaxKeyIDSize = 128

// SecretKey is an Ed25519 private key that signs v4.public tokens. Its id
// travels in every token's footer and names its public half there.
type SecretKey struct {
	id  string
	key paseto.V4AsymmetricSecretKey
}

// PublicKey is an Ed25519 public key that verifies v4.public tokens.
type PublicKey struct {
	id  string
	key paseto.V4AsymmetricPublicKey
}

// LocalKey is a 32-byte symmetric key that encrypts and decrypts v4.local
// tokens (XChaCha20, authenticated with keyed BLAKE2b).
type LocalKey struct {
	id  string
	key paseto.V4SymmetricKey
}

// GenerateSecretKey returns a new random signing key. With an empty id, the
// id is the PASERK k4.pid of its public key, as for [NewSecretKey].
func GenerateSecretKey(id string) (*SecretKey, error) {
	_, private, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, err
	}
	return NewSecretKey(id, private)
}

// NewSecretKey wraps an Ed25519 private key. With an empty id, the id is the
// PASERK k4.pid of the public key, so every service holding that key agrees
// on it without configuration.
func NewSecretKey(id string, private ed25519.PrivateKey) (*SecretKey, error) {
	// The library keeps the slice; the caller may reuse it.
	k, err := paseto.NewV4AsymmetricSecretKeyFromEd25519(append(ed25519.PrivateKey(nil), private...))
	if err != nil {
		return nil, fmt.Errorf("paseto: secret key: %w", err)
	}
	id, err = keyID(id, "k4.pid.", "k4.public.", k.Public().ExportBytes())
	if err != nil {
		return nil, err
	}
	return &SecretKey{id: id, key: k}, nil
}

// SecretKeyFromBytes reads a signing key from its 32-byte seed or its
// 64-byte Ed25519 private key (seed followed by public key).
func SecretKeyFromBytes(id string, b []byte) (*SecretKey, error) {
	switch len(b) {
	case ed25519.SeedSize:
		return NewSecretKey(id, ed25519.NewKeyFromSeed(b))
	case ed25519.PrivateKeySize:
		return NewSecretKey(id, ed25519.PrivateKey(b))
	}
	return nil, fmt.Errorf("paseto: secret key is %d bytes, want a %d-byte seed or a %d-byte private key", len(b), ed25519.SeedSize, ed25519.PrivateKeySize)
}

// SecretKeyFromHex reads a signing key from hex, as [SecretKeyFromBytes].
func SecretKeyFromHex(id, s string) (*SecretKey, error) {
	b, err := decodeHex("secret key", s)
	if err != nil {
		return nil, err
	}
	return SecretKeyFromBytes(id, b)
}

// ID returns the key's id, the kid of the tokens it signs.
func (k *SecretKey) ID() string { return k.id }

// Public returns the public half, with the same id, for the services that
// only verify.
func (k *SecretKey) Public() *PublicKey {
	return &PublicKey{id: k.id, key: k.key.Public()}
}

// ExportHex returns the 32-byte seed in hex, for [SecretKeyFromHex]. Keep
// it as secret as the key itself.
func (k *SecretKey) ExportHex() string { return k.key.ExportSeedHex() }

// NewPublicKey wraps an Ed25519 public key. With an empty id, the id is its
// PASERK k4.pid.
func NewPublicKey(id string, public ed25519.PublicKey) (*PublicKey, error) {
	k, err := paseto.NewV4AsymmetricPublicKeyFromEd25519(append(ed25519.PublicKey(nil), public...))
	if err != nil {
		return nil, fmt.Errorf("paseto: public key: %w", err)
	}
	id, err = keyID(id, "k4.pid.", "k4.public.", k.ExportBytes())
	if err != nil {
		return nil, err
	}
	return &PublicKey{id: id, key: k}, nil
}

// PublicKeyFromHex reads a 32-byte Ed25519 public key from hex.
func PublicKeyFromHex(id, s string) (*PublicKey, error) {
	b, err := decodeHex("public key", s)
	if err != nil {
		return nil, err
	}
	return NewPublicKey(id, b)
}

// ID returns the key's id.
func (k *PublicKey) ID() string { return k.id }

// ExportHex returns the key in hex, for [PublicKeyFromHex].
func (k *PublicKey) ExportHex() string { return k.key.ExportHex() }

// GenerateLocalKey returns a new random symmetric key. With an empty id, the
// id is its PASERK k4.lid.
func GenerateLocalKey(id string) (*LocalKey, error) {
	return newLocalKey(id, paseto.NewV4SymmetricKey())
}

// NewLocalKey wraps 32 random bytes as a symmetric key. With an empty id,
// the id is its PASERK k4.lid, a one-way hash that reveals nothing of the
// key.
func NewLocalKey(id string, secret []byte) (*LocalKey, error) {
	k, err := paseto.V4SymmetricKeyFromBytes(secret)
	if err != nil {
		return nil, fmt.Errorf("paseto: local key: %w", err)
	}
	return newLocalKey(id, k)
}

func newLocalKey(id string, k paseto.V4SymmetricKey) (*LocalKey, error) {
	id, err := keyID(id, "k4.lid.", "k4.local.", k.ExportBytes())
	if err != nil {
		return nil, err
	}
	return &LocalKey{id: id, key: k}, nil
}

// LocalKeyFromHex reads a 32-byte symmetric key from hex.
func LocalKeyFromHex(id, s string) (*LocalKey, error) {
	b, err := decodeHex("local key", s)
	if err != nil {
		return nil, err
	}
	return NewLocalKey(id, b)
}

// ID returns the key's id, the kid of the tokens it encrypts.
func (k *LocalKey) ID() string { return k.id }

// ExportHex returns the key in hex, for [LocalKeyFromHex]. Keep it secret.
func (k *LocalKey) ExportHex() string { return k.key.ExportHex() }

func decodeHex(what, s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("paseto: %s is not hex: %w", what, err)
	}
	return b, nil
}

var errKeyID = errors.New("paseto: key id must be 1 to 128 printable ASCII characters")

// keyID checks a given id or, when it is empty, derives the PASERK id
// (header idType) of the key whose PASERK is paserkType + base64url(raw):
// BLAKE2b-264 of the id header and that PASERK.
func keyID(id, idType, paserkType string, raw []byte) (string, error) {
	if id != "" {
		if len(id) > MaxKeyIDSize {
			return "", errKeyID
		}
		for i := 0; i < len(id); i++ {
			if id[i] < 0x20 || id[i] > 0x7e {
				return "", errKeyID
			}
		}
		return id, nil
	}
	h, err := blake2b.New(33, nil)
	if err != nil {
		return "", err
	}
	h.Write([]byte(idType + paserkType + base64.RawURLEncoding.EncodeToString(raw)))
	return idType + base64.RawURLEncoding.EncodeToString(h.Sum(nil)), nil
}
