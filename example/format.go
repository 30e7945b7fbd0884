package main

import (
	"fmt"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/paseto"
)

// tokenFormat chooses the token format from the environment: nil for JWT
// (the default, TOKEN_FORMAT unset or "jwt"), or PASETO v4.public for
// TOKEN_FORMAT=paseto, signed with the Ed25519 key in PASETO_SECRET_KEY (hex
// of the 32-byte seed or the 64-byte private key). Without that variable a
// key is generated, and its tokens stop working when the process exits.
func tokenFormat(getenv func(string) string, logf func(string, ...any)) (ginfresh.Format, error) {
	switch getenv("TOKEN_FORMAT") {
	case "", "jwt":
		return nil, nil
	case "paseto":
	default:
		return nil, fmt.Errorf("TOKEN_FORMAT=%q: want jwt or paseto", getenv("TOKEN_FORMAT"))
	}
	var key *paseto.SecretKey
	var err error
	if hex := getenv("PASETO_SECRET_KEY"); hex != "" {
		key, err = paseto.SecretKeyFromHex("", hex)
	} else {
		key, err = paseto.GenerateSecretKey("")
		logf("PASETO_SECRET_KEY is not set: signing with a random key; tokens stop working when the process exits")
	}
	if err != nil {
		return nil, fmt.Errorf("PASETO_SECRET_KEY: %w", err)
	}
	logf("issuing PASETO v4.public tokens; public key %s (kid %s)", key.Public().ExportHex(), key.ID())
	return paseto.NewPublic(key)
}
