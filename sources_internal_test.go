package ginfresh

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkRequestToken measures finding the token alone, without
// verification: the default header source and the cookie scan should both
// allocate nothing.
func BenchmarkRequestToken(b *testing.B) {
	const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	cases := []struct {
		name    string
		sources []TokenSource
		header  http.Header
	}{
		{"header", []TokenSource{FromHeader()}, http.Header{"Authorization": {"Bearer " + token}}},
		{"header+cookie/header", []TokenSource{FromHeader(), FromCookie()}, http.Header{"Authorization": {"Bearer " + token}}},
		{"header+cookie/cookie", []TokenSource{FromHeader(), FromCookie()}, http.Header{"Cookie": {"theme=dark; " + DefaultAccessCookie + "=" + token + "; lang=en"}}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			a := &Auth{sources: bc.sources, cookies: defaultCookies()}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header = bc.header
			b.ReportAllocs()
			for b.Loop() {
				if tok, _, err := a.requestToken(r, AccessToken); err != nil || tok != token {
					b.Fatalf("got %q, %v", tok, err)
				}
			}
		})
	}
}
