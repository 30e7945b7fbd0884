package paseto_test

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
	"github.com/ginfresh/ginfresh/paseto"
)

// BenchmarkVerify compares a full access-token check (format, then claim
// values) across formats, with the verified-token cache off so every
// iteration does the cryptography; then starting a session (two tokens
// minted and a store write) and refusing a token of the wrong kind.
func BenchmarkVerify(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	_, private, _ := ed25519.GenerateKey(nil)
	jwtKey, _ := ginfresh.NewSigningKey("", ginfresh.EdDSA, private)
	sk, _ := paseto.NewSecretKey("", private)
	public, _ := paseto.NewPublic(sk)
	lk, _ := paseto.GenerateLocalKey("")
	local, _ := paseto.NewLocal(lk)
	formats := []struct {
		name string
		opt  ginfresh.Option
	}{
		{"JWT-HS256", ginfresh.WithHMACKey([]byte("bench-secret-0123456789abcdef0123"))},
		{"JWT-EdDSA", ginfresh.WithSigningKey(jwtKey)},
		{"v4.public", ginfresh.WithFormat(public)},
		{"v4.local", ginfresh.WithFormat(local)},
	}
	for _, f := range formats {
		srv := testkit.NewServer(b, testkit.NewClock(), false, f.opt, ginfresh.WithTokenCache(0))
		tok := srv.Login(b, "alice")
		ctx := context.Background()
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := srv.Auth.Verify(ctx, ginfresh.Access, tok.AccessToken); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(f.name+"/start-session", func(b *testing.B) {
			b.ReportAllocs()
			id := ginfresh.Identity{Subject: "alice", Custom: map[string]any{"role": "admin"}}
			for b.Loop() {
				if _, err := srv.Auth.StartSession(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(f.name+"/wrong-kind", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := srv.Auth.Verify(ctx, ginfresh.Access, tok.RefreshToken); err == nil {
					b.Fatal("a refresh token passed as access token")
				}
			}
		})
	}
}
