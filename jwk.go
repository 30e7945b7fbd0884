package ginfresh

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
)

// JWK is one public key in RFC 7517 form.
type JWK struct {
	KeyType   string `json:"kty"`
	KeyID     string `json:"kid,omitempty"`
	Use       string `json:"use,omitempty"`
	Algorithm string `json:"alg,omitempty"`
	Curve     string `json:"crv,omitempty"`
	N         string `json:"n,omitempty"`
	E         string `json:"e,omitempty"`
	X         string `json:"x,omitempty"`
	Y         string `json:"y,omitempty"`
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
