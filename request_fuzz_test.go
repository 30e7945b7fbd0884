package ginfresh

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// FuzzBearerToken checks the Authorization header parser against a plain
// reading of RFC 6750 §2.1: the scheme is "Bearer" in any case, then spaces,
// then the token; anything else is no bearer token; an empty one, a second
// header or an oversized one is a malformed request.
func FuzzBearerToken(f *testing.F) {
	for _, seed := range []string{
		"Bearer abc.def.ghi", "bearer x", "BEARER  x", "Bearer", "Bearer ", "Bearer    ",
		"Basic YWxpY2U6cHc=", "Bearerx", "Bearer\tx", "Token x", "", " Bearer x", "Bearer x y",
		"Bearer " + strings.Repeat("a", MaxHeaderSize),
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, value string, twice bool) {
		r := &http.Request{Header: http.Header{"Authorization": {value}}}
		if twice {
			r.Header["Authorization"] = append(r.Header["Authorization"], value)
		}
		tok, err := bearerToken(r)

		scheme, rest, _ := strings.Cut(value, " ")
		isBearer := strings.EqualFold(scheme, "bearer")
		want := strings.TrimLeft(rest, " ")
		switch {
		case twice, len(value) > MaxHeaderSize, isBearer && want == "":
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("bearerToken(%q, twice=%v) = %q, %v; want ErrInvalidRequest", value, twice, tok, err)
			}
			if tok != "" {
				t.Fatalf("a refused header still gave token %q", tok)
			}
		case isBearer:
			if err != nil || tok != want {
				t.Fatalf("bearerToken(%q) = %q, %v; want %q", value, tok, err, want)
			}
		default:
			if err != nil || tok != "" {
				t.Fatalf("bearerToken(%q) = %q, %v; want no bearer token", value, tok, err)
			}
		}
	})
}
