package ginfresh_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ginfresh/ginfresh"
)

// BenchmarkTokenSources compares the cost of reading the access token by
// each source on an ordinary GET behind RequireAccess.
func BenchmarkTokenSources(b *testing.B) {
	br := newBrowser(b)
	br.login("alice")
	access := br.jar[accessCookie].Value
	cases := []struct {
		name string
		opts []ginfresh.Option
		set  func(r *http.Request)
	}{
		{"header/default", nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+access) }},
		{"header/with-cookie-source", []ginfresh.Option{ginfresh.WithTokenSources(ginfresh.FromHeader(), ginfresh.FromCookie())},
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+access) }},
		{"cookie", []ginfresh.Option{ginfresh.WithTokenSources(ginfresh.FromHeader(), ginfresh.FromCookie())},
			func(r *http.Request) { r.Header.Set("Cookie", "theme=dark; "+br.jar.Header("/protected")) }},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			f := newFixture(b, bc.opts...)
			r := httptest.NewRequest(http.MethodGet, "/protected", nil)
			bc.set(r)
			w := httptest.NewRecorder()
			f.router.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("got %d, want 200: %s", w.Code, w.Body)
			}
			b.ReportAllocs()
			for b.Loop() {
				w.Body.Reset()
				f.router.ServeHTTP(w, r)
			}
		})
	}
}
