package paseto_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/paseto"
)

// An API that issues v4.public tokens, and a resource server that verifies
// them with the public key alone.
func Example() {
	gin.SetMode(gin.ReleaseMode)
	// In production: paseto.SecretKeyFromHex("", os.Getenv("PASETO_SECRET_KEY")).
	key, err := paseto.SecretKeyFromHex("", "b4cbfb43df4ce210727d953e4a713307fa19bb7d9f85041438d9e11b942a3774")
	if err != nil {
		panic(err)
	}
	format, err := paseto.NewPublic(key)
	if err != nil {
		panic(err)
	}
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	auth, err := ginfresh.New(
		ginfresh.WithFormat(format),
		ginfresh.WithTimeFunc(func() time.Time { return now }),
		ginfresh.WithAuthenticator(func(_ *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
			if req.Username == "alice" && req.Password == "wonderland" {
				return ginfresh.Identity{Subject: "alice"}, nil
			}
			return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
		}),
	)
	if err != nil {
		panic(err)
	}
	issuer := gin.New()
	auth.RegisterRoutes(issuer)
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"username":"alice","password":"wonderland"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	issuer.ServeHTTP(w, r)
	var tok ginfresh.Tokens
	_ = json.Unmarshal(w.Body.Bytes(), &tok)
	fmt.Println("prefix:", tok.AccessToken[:len("v4.public.")])
	fmt.Println("kid:", key.ID())

	verifier, err := paseto.NewPublicVerifier(key.Public())
	if err != nil {
		panic(err)
	}
	rs, err := ginfresh.New(ginfresh.WithFormat(verifier), ginfresh.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		panic(err)
	}
	api := gin.New()
	api.GET("/me", rs.RequireAccess(), func(c *gin.Context) { c.String(http.StatusOK, "hello %s", ginfresh.MustClaims(c).Subject) })
	r = httptest.NewRequest(http.MethodGet, "/me", nil)
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	w = httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body)
	// Output:
	// prefix: v4.public.
	// kid: k4.pid.yh4-bJYjOYAG6CWy0zsfPmpKylxS7uAWrxqVmBN2KAiJ
	// 200 hello alice
}
