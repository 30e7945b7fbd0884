package bench

import (
	"net/http"
	"testing"
)

// flip changes a character inside a token's signature (not the last one,
// whose low bits a lenient base64 decoder ignores).
func flip(token string) string {
	b := []byte(token)
	i := len(b) - 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestRowsAuthenticate proves every benchmarked middleware accepts its
// token and refuses a tampered or missing one, so the benchmark times the
// accepting path, and that the tokens are of comparable size.
func TestRowsAuthenticate(t *testing.T) {
	type row struct {
		name  string
		h     http.Handler
		token string
	}
	gfFirst, gfToken := newGinfresh(t, 0)
	gfRepeat, gfToken2 := newGinfresh(t, 16)
	gj, gjToken := newGinJWT(t)
	rows := []row{{"ginfresh-first-sight", gfFirst, gfToken}, {"ginfresh-repeat-sight", gfRepeat, gfToken2}, {"gin-jwt", gj, gjToken}}
	for _, rw := range rows {
		t.Run(rw.name, func(t *testing.T) {
			w := &sink{h: http.Header{}}
			for i := range 2 { // the second time the cache answers, if there is one
				if got := serve(rw.h, request(rw.token), w); got != http.StatusOK {
					t.Fatalf("valid token, request %d: got %d, want 200", i+1, got)
				}
			}
			for _, bad := range []string{flip(rw.token), ""} {
				if got := serve(rw.h, request(bad), w); got != http.StatusUnauthorized {
					t.Errorf("token %.12q…: got %d, want 401", bad, got)
				}
			}
		})
	}
	if got := serve(bare(), request(gfToken), &sink{h: http.Header{}}); got != http.StatusOK {
		t.Errorf("bare route: got %d, want 200", got)
	}

	parse := newParser()
	if c, err := parse(gfToken); err != nil || c.Subject != subject {
		t.Errorf("ParseWithClaims(valid) = %v, %v; want subject %q", c, err, subject)
	}
	if _, err := parse(flip(gfToken)); err == nil {
		t.Error("ParseWithClaims accepted a tampered token")
	}

	t.Logf("token sizes: ginfresh %d bytes, gin-jwt %d bytes", len(gfToken), len(gjToken))
	if d := len(gfToken) - len(gjToken); d < -24 || d > 24 {
		t.Errorf("token sizes differ by %d bytes: ginfresh %d, gin-jwt %d", d, len(gfToken), len(gjToken))
	}
}

// TestRefreshRowsRotate proves both refresh rows really rotate: each
// answers a new refresh token, and the one it replaced is refused after.
func TestRefreshRowsRotate(t *testing.T) {
	for _, bc := range []struct {
		name  string
		setup func(testing.TB) (http.Handler, func(string) *http.Request, string)
	}{{"ginfresh", ginfreshRefresh}, {"gin-jwt", ginJWTRefresh}} {
		t.Run(bc.name, func(t *testing.T) {
			h, req, first := bc.setup(t)
			w := &body{sink: sink{h: http.Header{}}}
			h.ServeHTTP(w, req(first))
			next := field(w.b, "refresh_token")
			if w.code != http.StatusOK || next == "" || next == first {
				t.Fatalf("refresh: %d %s", w.code, w.b)
			}
			w = &body{sink: sink{h: http.Header{}}}
			h.ServeHTTP(w, req(first))
			if w.code == http.StatusOK {
				t.Fatalf("the replaced refresh token still works: %s", w.b)
			}
		})
	}
}
