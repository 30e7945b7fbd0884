package bench

import (
	"context"
	"net/http"
	"testing"
	"time"

	ginjwt "github.com/appleboy/gin-jwt/v3"
	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ginfresh/ginfresh"
)

// Every row serves GET /hello with the same Authorization header shape and
// the same fixed body; only the middleware in front differs. Handlers read
// the identity their middleware installed and answer 500 if it is not the
// expected user, so a row that stopped authenticating cannot pass for fast.

func init() { gin.SetMode(gin.ReleaseMode) }

var (
	secret  = []byte("bench-secret-0123456789-0123456789-0123456789")
	okBody  = []byte(`{"user":"admin"}`)
	subject = "admin"
)

// sink is a ResponseWriter that only remembers the status.
type sink struct {
	h    http.Header
	code int
}

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(code int)        { s.code = code }

// serve answers one request and returns the status.
func serve(h http.Handler, r *http.Request, w *sink) int {
	clear(w.h)
	w.code = 0
	h.ServeHTTP(w, r)
	return w.code
}

func answer(c *gin.Context, user string) {
	if user != subject {
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Data(http.StatusOK, "application/json", okBody)
}

func request(token string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "/hello", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// bare is the route with no authentication: the baseline to subtract.
func bare() http.Handler {
	r := gin.New()
	r.GET("/hello", func(c *gin.Context) { answer(c, subject) })
	return r
}

// newGinfresh returns the route behind ginfresh and an access token for it.
// cacheSize 0 makes every request a first sight of its token.
func newGinfresh(tb testing.TB, cacheSize int) (http.Handler, string) {
	tb.Helper()
	auth, err := ginfresh.New(ginfresh.WithHMACKey(secret), ginfresh.WithTokenCache(cacheSize))
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := auth.StartSession(context.Background(), ginfresh.Identity{Subject: subject})
	if err != nil {
		tb.Fatal(err)
	}
	token := tok.AccessToken
	r := gin.New()
	r.Use(auth.Middleware())
	r.GET("/hello", auth.RequireAccess(), func(c *gin.Context) { answer(c, ginfresh.MustClaims(c).Subject) })
	return r, token
}

// The gin-jwt setup follows its README (v3.5.1): identity key "id",
// PayloadFunc, IdentityHandler, an Authorizer admitting admin, the README's
// TokenLookup and TimeFunc. The payload carries the claims a ginfresh access
// token carries, so both tokens are about the same size.

const identityKey = "id"

type user struct{ UserName string }

func newGinJWT(tb testing.TB) (http.Handler, string) {
	tb.Helper()
	now := time.Now()
	mw, err := ginjwt.New(&ginjwt.GinJWTMiddleware{
		Realm:       "test zone",
		Key:         secret,
		Timeout:     15 * time.Minute,
		MaxRefresh:  time.Hour,
		IdentityKey: identityKey,
		PayloadFunc: func(data any) jwt.MapClaims {
			if v, ok := data.(*user); ok {
				return jwt.MapClaims{
					identityKey: v.UserName,
					"sub":       v.UserName,
					"iat":       now.Unix(),
					"nbf":       now.Unix(),
					"jti":       "0123456789abcdefghijkl",
					"sid":       "abcdefghijkl0123456789",
					"fresh":     true,
					"auth_time": now.Unix(),
				}
			}
			return jwt.MapClaims{}
		},
		IdentityHandler: func(c *gin.Context) any {
			claims := ginjwt.ExtractClaims(c)
			return &user{UserName: claims[identityKey].(string)}
		},
		Authenticator: func(*gin.Context) (any, error) { return nil, ginjwt.ErrFailedAuthentication },
		Authorizer: func(_ *gin.Context, data any) bool {
			v, ok := data.(*user)
			return ok && v.UserName == "admin"
		},
		Unauthorized: func(c *gin.Context, code int, message string) {
			c.JSON(code, gin.H{"code": code, "message": message})
		},
		TokenLookup:   "header: Authorization, query: token, cookie: jwt",
		TokenHeadName: "Bearer",
		TimeFunc:      time.Now,
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
	r.GET("/hello", mw.MiddlewareFunc(), func(c *gin.Context) {
		u, _ := c.Get(identityKey)
		v, _ := u.(*user)
		if v == nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		answer(c, v.UserName)
	})
	return r, tok.AccessToken
}

// parsedClaims is what a golang-jwt user would decode an access token into.
type parsedClaims struct {
	jwt.RegisteredClaims
	Fresh    bool             `json:"fresh"`
	AuthTime *jwt.NumericDate `json:"auth_time"`
}

// newParser returns a golang-jwt parse of a ginfresh access token, set up
// the way an application verifying it by hand would: the parser and key
// function built once, the claims decoded into a struct.
func newParser() func(string) (*parsedClaims, error) {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	key := func(*jwt.Token) (any, error) { return secret, nil }
	return func(token string) (*parsedClaims, error) {
		c := &parsedClaims{}
		if _, err := p.ParseWithClaims(token, c, key); err != nil {
			return nil, err
		}
		return c, nil
	}
}

// BenchmarkRoute is the route on its own and behind each middleware.
func BenchmarkRoute(b *testing.B) {
	ginfreshToken := func(b *testing.B) string { _, t := newGinfresh(b, 0); return t }
	for _, bc := range []struct {
		name  string
		setup func(*testing.B) (http.Handler, string)
	}{
		{"bare", func(b *testing.B) (http.Handler, string) { return bare(), ginfreshToken(b) }},
		{"ginfresh-first-sight", func(b *testing.B) (http.Handler, string) { return newGinfresh(b, 0) }},
		{"ginfresh-repeat-sight", func(b *testing.B) (http.Handler, string) { return newGinfresh(b, 10_000) }},
		{"gin-jwt", func(b *testing.B) (http.Handler, string) { return newGinJWT(b) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h, token := bc.setup(b)
			r, w := request(token), &sink{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				if code := serve(h, r, w); code != http.StatusOK {
					b.Fatalf("status %d", code)
				}
			}
		})
	}
}

// BenchmarkParse is the token check alone, outside gin.
func BenchmarkParse(b *testing.B) {
	_, token := newGinfresh(b, 0)
	b.Run("golang-jwt-ParseWithClaims", func(b *testing.B) {
		parse := newParser()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parse(token); err != nil {
				b.Fatal(err)
			}
		}
	})
}
