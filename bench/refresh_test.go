package bench

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	ginjwt "github.com/appleboy/gin-jwt/v3"
	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ginfresh/ginfresh"
)

// Refresh, side by side: each iteration redeems the refresh token the
// previous one received, so both rotate for real. ginfresh verifies a
// signed refresh token, mints an access and a refresh token and rotates the
// session in its memory store; gin-jwt looks its opaque refresh token up in
// its memory store and mints an access token. Both answer JSON with the
// new pair, which the loop reads the next token from.

// body is a ResponseWriter that keeps the body.
type body struct {
	sink
	b []byte
}

func (w *body) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// field returns the JSON string member name of b.
func field(b []byte, name string) string {
	s := string(b)
	i := strings.Index(s, `"`+name+`":"`)
	if i < 0 {
		return ""
	}
	s = s[i+len(name)+4:]
	return s[:strings.IndexByte(s, '"')]
}

// ginfreshRefresh returns the refresh route of ginfresh and a first refresh token.
func ginfreshRefresh(tb testing.TB) (http.Handler, func(token string) *http.Request, string) {
	tb.Helper()
	auth, err := ginfresh.New(ginfresh.WithHMACKey(secret))
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := auth.StartSession(context.Background(), ginfresh.Identity{Subject: subject})
	if err != nil {
		tb.Fatal(err)
	}
	r := gin.New()
	r.POST("/refresh", auth.RefreshHandler())
	req := func(token string) *http.Request {
		q, _ := http.NewRequest(http.MethodPost, "/refresh", nil)
		q.Header.Set("Authorization", "Bearer "+token)
		return q
	}
	return r, req, tok.RefreshToken
}

// ginJWTRefresh returns gin-jwt's refresh route, set up as its README shows,
// and a first refresh token.
func ginJWTRefresh(tb testing.TB) (http.Handler, func(token string) *http.Request, string) {
	tb.Helper()
	now := time.Now()
	mw, err := ginjwt.New(&ginjwt.GinJWTMiddleware{
		Realm: "test zone", Key: secret, Timeout: 15 * time.Minute, MaxRefresh: time.Hour, IdentityKey: identityKey,
		PayloadFunc: func(data any) jwt.MapClaims {
			if v, ok := data.(*user); ok {
				return jwt.MapClaims{identityKey: v.UserName, "sub": v.UserName, "iat": now.Unix(), "nbf": now.Unix(),
					"jti": "0123456789abcdefghijkl", "sid": "abcdefghijkl0123456789", "fresh": false, "auth_time": now.Unix()}
			}
			return jwt.MapClaims{}
		},
		IdentityHandler: func(c *gin.Context) any { return &user{UserName: ginjwt.ExtractClaims(c)[identityKey].(string)} },
		Authenticator:   func(*gin.Context) (any, error) { return nil, ginjwt.ErrFailedAuthentication },
		TimeFunc:        time.Now,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := mw.MiddlewareInit(); err != nil {
		tb.Fatal(err)
	}
	tok, err := mw.TokenGenerator(context.Background(), &user{UserName: subject})
	if err != nil {
		tb.Fatal(err)
	}
	r := gin.New()
	r.POST("/refresh", mw.RefreshHandler)
	req := func(token string) *http.Request {
		q, _ := http.NewRequest(http.MethodPost, "/refresh", strings.NewReader(`{"refresh_token":"`+token+`"}`))
		q.Header.Set("Content-Type", "application/json")
		return q
	}
	return r, req, tok.RefreshToken
}

// BenchmarkRefresh is one refresh with rotation by each library.
func BenchmarkRefresh(b *testing.B) {
	for _, bc := range []struct {
		name  string
		setup func(testing.TB) (http.Handler, func(string) *http.Request, string)
	}{
		{"ginfresh", ginfreshRefresh},
		{"gin-jwt", ginJWTRefresh},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h, req, token := bc.setup(b)
			w := &body{sink: sink{h: http.Header{}}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.code, w.b = 0, w.b[:0]
				h.ServeHTTP(w, req(token))
				if token = field(w.b, "refresh_token"); w.code != http.StatusOK || token == "" {
					b.Fatalf("status %d: %s", w.code, w.b)
				}
			}
		})
	}
}
