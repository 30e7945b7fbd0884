// Package interop proves that implementations nobody here wrote accept
// ginfresh's tokens the moment they are issued: Debian's PyJWT
// (python3-jwt) and jose (npm) verify HS256 and EdDSA access tokens, the
// EdDSA ones through the issuer's JWKS URL, and paseto-ts (npm) verifies
// v4.public and decrypts v4.local ones. Every verifier runs with zero
// leeway and every claim check it offers switched on, and must refuse
// tampered, expired and wrongly keyed tokens, and refresh tokens where it
// can tell them apart.
//
// It is a module of its own so that the library does not depend on
// Python or Node.js. Run it with `go test ./...` in this folder. It needs
// /usr/bin/python3 with python3-jwt and python3-cryptography, and Node.js
// 20 or later with npm; the tests run `npm ci` in js/ when its
// node_modules is missing or older than js/package-lock.json. Without a
// tool its tests skip, or fail when CI=true.
package interop
