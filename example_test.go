package ginfresh_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

// exampleAuth returns an Auth with a fixed key and clock and one user,
// alice/wonderland.
func exampleAuth() *ginfresh.Auth {
	gin.SetMode(gin.ReleaseMode)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey([]byte("example-secret-of-at-least-32-bytes!")),
		ginfresh.WithTimeFunc(func() time.Time { return now }),
		ginfresh.WithAuthenticator(func(_ *gin.Context, user, pass string) (ginfresh.Identity, error) {
			if user == "alice" && pass == "wonderland" {
				return ginfresh.Identity{Subject: "alice"}, nil
			}
			return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
		}),
	)
	if err != nil {
		panic(err)
	}
	return auth
}

func post(h http.Handler, path, token, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// The whole flow: a fresh token from login reaches a fresh-only route; the
// token from a refresh does not until the user proves the password again.
func Example() {
	auth := exampleAuth()
	r := gin.New()
	r.Use(auth.Middleware())
	auth.RegisterRoutes(r)
	r.POST("/transfer", auth.RequireFresh(), func(c *gin.Context) {
		c.String(http.StatusOK, "sent by %s", ginfresh.MustClaims(c).Subject)
	})

	var login ginfresh.Tokens
	_ = json.Unmarshal(post(r, "/login", "", `{"username":"alice","password":"wonderland"}`).Body.Bytes(), &login)
	fmt.Println("login:", post(r, "/transfer", login.AccessToken, "").Body)

	var refreshed ginfresh.Tokens
	_ = json.Unmarshal(post(r, "/refresh", login.RefreshToken, "").Body.Bytes(), &refreshed)
	w := post(r, "/transfer", refreshed.AccessToken, "")
	fmt.Println("refreshed:", w.Code, w.Header().Get("WWW-Authenticate"))

	var fresh ginfresh.Tokens
	_ = json.Unmarshal(post(r, "/fresh-login", refreshed.AccessToken, `{"username":"alice","password":"wonderland"}`).Body.Bytes(), &fresh)
	fmt.Println("fresh-login:", post(r, "/transfer", fresh.AccessToken, "").Body)
	// Output:
	// login: sent by alice
	// refreshed: 401 Bearer realm="api", error="insufficient_user_authentication", error_description="A fresh login is required."
	// fresh-login: sent by alice
}

// ClaimsFrom reads the verified token in a handler; routes without a guard
// see no claims when the request carries no token.
func ExampleClaimsFrom() {
	auth := exampleAuth()
	r := gin.New()
	r.Use(auth.Middleware())
	r.GET("/hello", func(c *gin.Context) {
		if claims, ok := ginfresh.ClaimsFrom(c); ok {
			c.String(http.StatusOK, "hello %s (fresh: %t)", claims.Subject, claims.Fresh)
			return
		}
		c.String(http.StatusOK, "hello stranger")
	})
	token, _ := auth.CreateAccessToken(ginfresh.Identity{Subject: "alice"}, false)

	for _, tok := range []string{"", token} {
		req := httptest.NewRequest(http.MethodGet, "/hello", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(w.Body)
	}
	// Output:
	// hello stranger
	// hello alice (fresh: false)
}

// MaxAge bounds how long ago the password was proved, and the refusal tells
// the client the bound (RFC 9470).
func ExampleMaxAge() {
	auth := exampleAuth()
	r := gin.New()
	r.DELETE("/account", auth.RequireFresh(ginfresh.MaxAge(5*time.Minute)), func(c *gin.Context) {
		c.Status(http.StatusNoContent)
	})
	token, _ := auth.CreateAccessToken(ginfresh.Identity{Subject: "alice"}, false)
	req := httptest.NewRequest(http.MethodDelete, "/account", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	fmt.Println(w.Body)
	// Output:
	// 401 Bearer realm="api", error="insufficient_user_authentication", error_description="A fresh login is required.", max_age=300
	// {"error":"insufficient_user_authentication","error_description":"A fresh login is required."}
}

// New reports every problem at once.
func ExampleNew() {
	_, err := ginfresh.New(ginfresh.WithAccessTTL(-time.Minute), ginfresh.WithHMACKey([]byte("short")))
	fmt.Println(err)
	// Output:
	// ginfresh: invalid option: WithAccessTTL: -1m0s is not a positive duration
	// WithHMACKey: key is 5 bytes, at least 32 are required
}
