package ginfresh

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// The pieces of a protected request, one by one, to show where the time
// and allocations of BenchmarkProtected go.

func benchToken(b *testing.B) (*Auth, string) {
	b.Helper()
	a, err := New(WithHMACKey([]byte("bench-key-0123456789-0123456789-0123")), WithAuthenticator(func(*gin.Context, string, string) (Identity, error) { return Identity{}, ErrInvalidCredentials }))
	if err != nil {
		b.Fatal(err)
	}
	tok, err := a.CreateAccessToken(Identity{Subject: "alice", Claims: map[string]any{"role": "user"}}, true)
	if err != nil {
		b.Fatal(err)
	}
	return a, tok
}

// BenchmarkBearerToken reads the Authorization header; it allocates nothing.
func BenchmarkBearerToken(b *testing.B) {
	_, tok := benchToken(b)
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		if got, err := bearerToken(r); err != nil || len(got) != len(tok) {
			b.Fatal(got, err)
		}
	}
}

// BenchmarkFormatVerify is the signature check and claim decoding of a
// first sight.
func BenchmarkFormatVerify(b *testing.B) {
	a, tok := benchToken(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.format.Verify(AccessToken, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeClaims is the claim decoding alone.
func BenchmarkDecodeClaims(b *testing.B) {
	_, tok := benchToken(b)
	payload, err := b64Strict.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeClaims(payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCacheHit is a repeat sight's look-up and claim checks.
func BenchmarkCacheHit(b *testing.B) {
	a, tok := benchToken(b)
	c, err := a.format.Verify(AccessToken, tok)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	a.cache.put(tok, c, c.ExpiresAt.Time, a.cache.generation())
	b.ReportAllocs()
	for b.Loop() {
		got := a.cache.get(tok)
		if got == nil || a.validate(got, AccessToken, now) != nil {
			b.Fatal("miss")
		}
	}
}
