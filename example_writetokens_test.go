package ginfresh_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

// Signing a user in right after sign-up: IssueTokens starts the session,
// WriteTokens answers it as login would, here as cookies.
func ExampleAuth_WriteTokens() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey([]byte("example-secret-of-at-least-32-bytes!")),
		ginfresh.WithAuthenticator(func(*gin.Context, string, string) (ginfresh.Identity, error) {
			return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
		}),
		ginfresh.WithCookies("/auth/"),
	)
	if err != nil {
		panic(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/signup", func(c *gin.Context) {
		// ... create the account, then:
		tok, err := auth.IssueTokens(c.Request.Context(), ginfresh.Identity{Subject: "alice"})
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		auth.WriteTokens(c, tok)
	})

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/signup", nil))
	fmt.Println(w.Code, w.Header().Get("Cache-Control"))
	for _, c := range w.Result().Cookies() {
		fmt.Printf("%s Path=%s HttpOnly=%v\n", c.Name, c.Path, c.HttpOnly)
	}
	// Output:
	// 200 no-store
	// __Host-access-token Path=/ HttpOnly=true
	// __Secure-refresh-token Path=/auth/ HttpOnly=true
	// __Host-csrf-token Path=/ HttpOnly=false
}
