package ginfresh

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// ParsePrivateKeyPEM reads one PEM-encoded private key and binds it to alg,
// like [NewSigningKey]. It takes PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA
// PRIVATE KEY") and SEC1 ("EC PRIVATE KEY"). Encrypted keys, several blocks
// and text after the block are refused, so a file holds exactly the key it
// seems to. With an empty id the kid is the key's RFC 7638 thumbprint.
func ParsePrivateKeyPEM(id string, alg Algorithm, data []byte) (*Key, error) {
	block, err := onePEMBlock(data)
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fmt.Errorf("%w: PEM block %q holds no private key (use ParsePublicKeyPEM)", ErrInvalidKey, block.Type)
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a private key", ErrInvalidKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidKey, block.Type, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T cannot sign", ErrInvalidKey, key)
	}
	return NewSigningKey(id, alg, signer)
}

// ParsePublicKeyPEM reads one PEM-encoded public key and binds it to alg,
// like [NewVerificationKey]. It takes PKIX ("PUBLIC KEY"), PKCS#1 ("RSA
// PUBLIC KEY") and X.509 certificates ("CERTIFICATE", whose public key is
// used; the certificate itself is not validated). A private key is refused:
// a service that only verifies should never hold one.
func ParsePublicKeyPEM(id string, alg Algorithm, data []byte) (*Key, error) {
	block, err := onePEMBlock(data)
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, fmt.Errorf("%w: PEM block %q is a private key; give a verifier only the public key", ErrInvalidKey, block.Type)
		}
		return nil, fmt.Errorf("%w: PEM block %q is not a public key", ErrInvalidKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidKey, block.Type, err)
	}
	return NewVerificationKey(id, alg, key)
}

// onePEMBlock decodes data as exactly one unencrypted PEM block, with
// nothing but white space around it.
func onePEMBlock(data []byte) (*pem.Block, error) {
	trimmed := bytes.TrimSpace(data)
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		return nil, fmt.Errorf("%w: no PEM block at the start of the data", ErrInvalidKey)
	}
	block, rest := pem.Decode(trimmed)
	if block == nil {
		return nil, fmt.Errorf("%w: malformed PEM block", ErrInvalidKey)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		if bytes.Contains(rest, []byte("-----BEGIN ")) {
			return nil, fmt.Errorf("%w: more than one PEM block; give one key per file", ErrInvalidKey)
		}
		return nil, fmt.Errorf("%w: data after the PEM block", ErrInvalidKey)
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, fmt.Errorf("%w: the PEM block is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)", ErrInvalidKey)
	}
	if len(block.Headers) > 0 {
		return nil, fmt.Errorf("%w: PEM headers are not supported", ErrInvalidKey)
	}
	return block, nil
}
