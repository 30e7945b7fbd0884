package ginfresh_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

// Cookie mode: the tokens travel in HttpOnly cookies, and a state-changing
// request repeats the CSRF cookie in the X-CSRF-Token header.
func ExampleWithCookies() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey([]byte("example-secret-of-at-least-32-bytes!")),
		ginfresh.WithAuthenticator(func(_ *gin.Context, user, pass string) (ginfresh.Identity, error) {
			if user == "alice" && pass == "wonderland" {
				return ginfresh.Identity{Subject: "alice"}, nil
			}
			return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
		}),
		ginfresh.WithCookies("/auth/"), // the refresh cookie goes to /auth/refresh and /auth/logout only
	)
	if err != nil {
		panic(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(auth.Middleware())
	auth.RegisterRoutes(r.Group("/auth"))
	r.POST("/transfer", auth.RequireFresh(), func(c *gin.Context) {
		c.String(http.StatusOK, "sent by %s", ginfresh.MustClaims(c).Subject)
	})

	req := httptest.NewRequest(http.MethodPost, "/auth/login", strings.NewReader(`{"username":"alice","password":"wonderland"}`))
	req.Header.Set("Sec-Fetch-Site", "same-origin") // as a browser sends it
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	var cookies []string
	csrf := ""
	for _, c := range w.Result().Cookies() {
		fmt.Printf("%s Path=%s HttpOnly=%v Secure=%v\n", c.Name, c.Path, c.HttpOnly, c.Secure)
		cookies = append(cookies, c.Name+"="+c.Value)
		if c.Name == ginfresh.DefaultCSRFCookie {
			csrf = c.Value
		}
	}

	transfer := func(withCSRF bool) string {
		req := httptest.NewRequest(http.MethodPost, "/transfer", nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
		if withCSRF {
			req.Header.Set(ginfresh.CSRFHeader, csrf)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return fmt.Sprint(w.Code, " ", w.Body)
	}
	fmt.Println(transfer(false))
	fmt.Println(transfer(true))
	// Output:
	// __Host-access-token Path=/ HttpOnly=true Secure=true
	// __Secure-refresh-token Path=/auth/ HttpOnly=true Secure=true
	// __Host-csrf-token Path=/ HttpOnly=false Secure=true
	// 403 {"error":"csrf_check_failed","error_description":"The request failed the cross-site request forgery check."}
	// 200 sent by alice
}
