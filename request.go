package ginfresh

import (
	"fmt"
	"net/http"
)

// MaxHeaderSize caps the Authorization header, checked before any decoding.
const MaxHeaderSize = 8 << 10

// bearerToken returns the Bearer token of r, "" when there is none. Only
// the Authorization header is read: tokens in query strings or forms leak
// into logs and caches (RFC 6750 §5.3, RFC 9700 §4.3.2). It allocates
// nothing: the token is a slice of the header value.
func bearerToken(r *http.Request) (string, error) {
	vals := r.Header["Authorization"]
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1:
		return "", fmt.Errorf("%w: more than one Authorization header", ErrInvalidRequest)
	}
	v := vals[0]
	if len(v) > MaxHeaderSize {
		return "", fmt.Errorf("%w: Authorization header over %d bytes", ErrInvalidRequest, MaxHeaderSize)
	}
	const scheme = "bearer"
	if len(v) < len(scheme) || !asciiEqualFold(v[:len(scheme)], scheme) || (len(v) > len(scheme) && v[len(scheme)] != ' ') {
		return "", nil // another scheme: no bearer token here
	}
	tok := v[len(scheme):]
	for len(tok) > 0 && tok[0] == ' ' {
		tok = tok[1:]
	}
	if tok == "" {
		return "", fmt.Errorf("%w: empty bearer token", ErrInvalidRequest)
	}
	return tok, nil
}

func asciiEqualFold(s, lower string) bool {
	for i := 0; i < len(lower); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
