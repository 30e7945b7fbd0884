package main

import (
	"fmt"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

// jwksPath is where an issuer conventionally publishes its keys.
const jwksPath = "/.well-known/jwks.json"

// keyOptions chooses how the example signs: with the Ed25519 private key in
// the PEM file cfg.keyFile (EdDSA, kid = the key's thumbprint), or else with
// the HMAC secret; a PASETO format (cfg.format) brings its own keys.
func keyOptions(cfg config) ([]ginfresh.Option, error) {
	if cfg.format != nil { // TOKEN_FORMAT=paseto: the format holds its keys
		if cfg.keyFile != "" {
			return nil, fmt.Errorf("GINFRESH_KEY_FILE signs JWTs; it cannot be combined with TOKEN_FORMAT=paseto")
		}
		return []ginfresh.Option{ginfresh.WithFormat(cfg.format)}, nil
	}
	if cfg.keyFile == "" {
		return []ginfresh.Option{ginfresh.WithHMACKey(cfg.secret)}, nil
	}
	data, err := os.ReadFile(cfg.keyFile)
	if err != nil {
		return nil, fmt.Errorf("GINFRESH_KEY_FILE: %w", err)
	}
	key, err := ginfresh.ParsePrivateKeyPEM("", ginfresh.EdDSA, data)
	if err != nil {
		return nil, fmt.Errorf("GINFRESH_KEY_FILE %s: %w", cfg.keyFile, err)
	}
	return []ginfresh.Option{ginfresh.WithSigningKey(key)}, nil
}

// serveJWKS publishes the public key at GET /.well-known/jwks.json when the
// example signs with one, so other services can verify its tokens.
func serveJWKS(r gin.IRouter, auth *ginfresh.Auth, cfg config) {
	if cfg.keyFile != "" {
		r.GET(jwksPath, auth.JWKSHandler())
	}
}
