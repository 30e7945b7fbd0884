package ginfresh_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

// The examples share a fixed key and clock, so their output never changes.
// A real key is at least 32 random bytes, kept out of the source.
var (
	exampleKey = []byte("example-secret-of-at-least-32-bytes!")
	exampleNow = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
)

// exampleCheckPassword is the examples' Authenticator: one user, alice, with the
// password "wonderland".
func exampleCheckPassword(_ *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
	if req.Username != "alice" || req.Password != "wonderland" {
		return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
	}
	return ginfresh.Identity{Subject: "alice", ACR: "pwd", AMR: []string{"pwd"}}, nil
}

// exampleLogin is the login body of alice.
const exampleLogin = `{"username":"alice","password":"wonderland"}`

// exampleRouter is a gin engine with the middleware and the auth routes
// under /auth. Gin runs in test mode, so it prints nothing of its own.
func exampleRouter(auth *ginfresh.Auth) *gin.Engine {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(auth.Middleware())
	auth.RegisterRoutes(r.Group("/auth"))
	return r
}

// exampleSend serves one request to h: a Bearer token and a JSON body, when not
// empty.
func exampleSend(h http.Handler, method, path, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// exampleTokens reads the tokens of a login, refresh or fresh-login answer.
func exampleTokens(w *httptest.ResponseRecorder) ginfresh.Tokens {
	var t ginfresh.Tokens
	if err := json.Unmarshal(w.Body.Bytes(), &t); err != nil {
		panic(fmt.Sprint(w.Code, " ", w.Body))
	}
	return t
}

// exampleMembers lists the member names of a JSON object answer, sorted.
func exampleMembers(w *httptest.ResponseRecorder) []string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		panic(err)
	}
	var names []string
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// The whole flow: a login's fresh token reaches a route that needs a fresh
// one; once it expires, a refresh brings a token that reaches ordinary
// routes only, until the user proves the password again at fresh-login.
func Example() {
	now := exampleNow
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithAuthenticator(exampleCheckPassword),
		ginfresh.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	r.GET("/profile", auth.RequireAccess(), func(c *gin.Context) {
		c.String(http.StatusOK, "profile of %s", ginfresh.MustClaims(c).Subject)
	})
	r.POST("/transfer", auth.RequireFresh(), func(c *gin.Context) {
		c.String(http.StatusOK, "sent by %s", ginfresh.MustClaims(c).Subject)
	})

	login := exampleTokens(exampleSend(r, "POST", "/auth/login", "", exampleLogin))
	fmt.Println("after login:", exampleSend(r, "GET", "/profile", login.AccessToken, "").Body)
	fmt.Println("after login:", exampleSend(r, "POST", "/transfer", login.AccessToken, "").Body)

	now = now.Add(20 * time.Minute) // past the access token's 15 minutes
	fmt.Println("20 minutes later:", exampleSend(r, "GET", "/profile", login.AccessToken, "").Code)

	refreshed := exampleTokens(exampleSend(r, "POST", "/auth/refresh", login.RefreshToken, ""))
	fmt.Println("after refresh:", exampleSend(r, "GET", "/profile", refreshed.AccessToken, "").Body)
	w := exampleSend(r, "POST", "/transfer", refreshed.AccessToken, "")
	fmt.Println("after refresh:", w.Code, w.Header().Get("WWW-Authenticate"))

	// The client asks for the password again.
	fresh := exampleTokens(exampleSend(r, "POST", "/auth/fresh-login", refreshed.AccessToken, exampleLogin))
	fmt.Println("after fresh-login:", exampleSend(r, "POST", "/transfer", fresh.AccessToken, "").Body)
	// Output:
	// after login: profile of alice
	// after login: sent by alice
	// 20 minutes later: 401
	// after refresh: profile of alice
	// after refresh: 401 Bearer realm="api", error="insufficient_user_authentication", error_description="A fresh login is required."
	// after fresh-login: sent by alice
}

// New checks every option and reports every problem at once: first the
// options that failed, else every missing or contradictory setting.
func ExampleNew() {
	_, err := ginfresh.New(
		ginfresh.WithHMACKey([]byte("short")),
		ginfresh.WithAccessTTL(-time.Minute),
		ginfresh.WithLeeway(time.Hour),
	)
	fmt.Println(err)

	_, err = ginfresh.New(ginfresh.WithRefreshTTL(60 * 24 * time.Hour))
	fmt.Println(err)
	// Output:
	// ginfresh: invalid option: WithHMACKey: key is 5 bytes, at least 32 are required
	// WithAccessTTL: -1m0s is not a positive duration
	// WithLeeway: 1h0m0s is outside 0 to 5m
	// ginfresh: signing key is required (use WithHMACKey, WithSigningKey or WithFormat)
	// refresh TTL 1440h0m0s exceeds the session lifetime 720h0m0s
}

// An Authenticator reads more than the username and password: here the
// tenant whose directory holds the user, which the tokens then carry.
func ExampleAuthenticator() {
	directories := map[string]map[string]string{"acme": {"alice": "wonderland"}}
	var check ginfresh.Authenticator = func(_ *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
		var tenant string
		if ok, err := req.Field("tenant", &tenant); !ok || err != nil {
			return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
		}
		if pw, ok := directories[tenant][req.Username]; !ok || pw != req.Password {
			return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
		}
		return ginfresh.Identity{
			Subject: tenant + "/" + req.Username,
			Custom:  map[string]any{"tenant": tenant},
		}, nil
	}
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithAuthenticator(check),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)

	for _, body := range []string{
		`{"tenant":"acme","username":"alice","password":"wonderland"}`,
		`{"tenant":"initech","username":"alice","password":"wonderland"}`,
		exampleLogin, // no tenant
	} {
		w := exampleSend(r, "POST", "/auth/login", "", body)
		if w.Code != http.StatusOK {
			fmt.Println(w.Code, w.Body)
			continue
		}
		claims, err := auth.Verify(context.Background(), ginfresh.Access, exampleTokens(w).AccessToken)
		if err != nil {
			panic(err)
		}
		var tenant string
		_, _ = claims.Get("tenant", &tenant)
		fmt.Println(w.Code, claims.Subject, tenant)
	}
	// Output:
	// 200 acme/alice acme
	// 401 {"error":"invalid_credentials","error_description":"The credentials are wrong."}
	// 401 {"error":"invalid_credentials","error_description":"The credentials are wrong."}
}

// exampleCheckOTP signs alice in at level "mfa" when the login also carries her
// one-time code, and at "pwd" with the password alone.
func exampleCheckOTP(c *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
	id, err := exampleCheckPassword(c, req)
	if err != nil {
		return id, err
	}
	var otp string
	ok, err := req.Field("otp", &otp)
	switch {
	case err != nil: // there, but not a string
		return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
	case ok && otp != "123456": // a real check asks the user's TOTP secret
		return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
	case ok:
		id.ACR, id.AMR = "mfa", []string{"pwd", "otp"}
	}
	return id, nil
}

// LoginRequest.Field reads a member of the login body besides username and
// password: a one-time code, which raises the login's level (acr).
func ExampleLoginRequest_Field() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithAuthenticator(exampleCheckOTP),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	for _, body := range []string{
		`{"username":"alice","password":"wonderland"}`,
		`{"username":"alice","password":"wonderland","otp":"123456"}`,
		`{"username":"alice","password":"wonderland","otp":"000000"}`,
		`{"username":"alice","password":"wonderland","otp":123456}`,
	} {
		w := exampleSend(r, "POST", "/auth/login", "", body)
		if w.Code != http.StatusOK {
			fmt.Println(w.Code)
			continue
		}
		claims, err := auth.Verify(context.Background(), ginfresh.Access, exampleTokens(w).AccessToken)
		if err != nil {
			panic(err)
		}
		fmt.Println(w.Code, claims.ACR, claims.AMR)
	}
	// Output:
	// 200 pwd [pwd]
	// 200 mfa [pwd otp]
	// 401
	// 401
}

// Login signs a user in from the app's own handler: here a magic link sent
// by e-mail, which holds no password. The answer is a login's, and the
// throttle and the log see it as one.
func ExampleAuth_Login() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey), // no authenticator: there are no passwords
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	// The links sent, by code. A real app keeps a digest of each code,
	// with an expiry, in its database.
	links := map[string]string{"k7Qx2": "alice@example.com"}
	r := exampleRouter(auth)
	r.GET("/magic", func(c *gin.Context) {
		code := c.Query("code")
		auth.Login(c, "", func() (ginfresh.Identity, error) {
			email, ok := links[code]
			if !ok {
				return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
			}
			delete(links, code) // a link works once
			return ginfresh.Identity{Subject: email, AMR: []string{"email"}}, nil
		})
	})

	w := exampleSend(r, "GET", "/magic?code=k7Qx2", "", "")
	fmt.Println(w.Code, exampleMembers(w))
	claims, err := auth.Verify(context.Background(), ginfresh.Access, exampleTokens(w).AccessToken)
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.Subject, claims.Fresh, claims.AMR)
	fmt.Println(exampleSend(r, "GET", "/magic?code=k7Qx2", "", "").Code) // used up
	// Output:
	// 200 [access_token expires_in refresh_expires_in refresh_token token_type]
	// alice@example.com true [email]
	// 401
}

// A refresh hook reloads what the tokens say about the user at every
// refresh, so a new role takes effect without a new login, and ends the
// session of a user who was disabled.
func ExampleWithRefreshHook() {
	roles := map[string]string{"alice": "editor"}
	disabled := map[string]bool{}
	identity := func(subject string) ginfresh.Identity {
		return ginfresh.Identity{Subject: subject, Custom: map[string]any{"role": roles[subject]}}
	}
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithAuthenticator(func(c *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
			if _, err := exampleCheckPassword(c, req); err != nil {
				return ginfresh.Identity{}, err
			}
			return identity(req.Username), nil
		}),
		ginfresh.WithRefreshHook(func(_ *gin.Context, claims *ginfresh.Claims) (ginfresh.Identity, error) {
			if disabled[claims.Subject] {
				return ginfresh.Identity{}, ginfresh.ErrTokenRevoked // ends the session
			}
			return identity(claims.Subject), nil
		}),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	role := func(t ginfresh.Tokens) string {
		claims, err := auth.Verify(context.Background(), ginfresh.Access, t.AccessToken)
		if err != nil {
			panic(err)
		}
		var role string
		_, _ = claims.Get("role", &role)
		return role
	}

	tok := exampleTokens(exampleSend(r, "POST", "/auth/login", "", exampleLogin))
	fmt.Println("login:", role(tok))
	roles["alice"] = "admin"
	tok = exampleTokens(exampleSend(r, "POST", "/auth/refresh", tok.RefreshToken, ""))
	fmt.Println("refresh:", role(tok))
	disabled["alice"] = true
	w := exampleSend(r, "POST", "/auth/refresh", tok.RefreshToken, "")
	fmt.Println("refresh when disabled:", w.Code, w.Body)
	// Output:
	// login: editor
	// refresh: admin
	// refresh when disabled: 401 {"error":"invalid_token","error_description":"The token has been revoked."}
}

// An error handler renders failures the app's way; SetHeaders keeps the
// WWW-Authenticate challenge that tells clients what went wrong.
func ExampleWithErrorHandler() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithErrorHandler(func(c *gin.Context, e *ginfresh.Error) {
			e.SetHeaders(c.Writer.Header())
			c.JSON(e.Status, gin.H{"code": e.Code, "message": e.Description})
		}),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	r.GET("/profile", auth.RequireAccess(), func(c *gin.Context) { c.String(http.StatusOK, "profile") })

	for _, token := range []string{"", "not-a-token"} {
		w := exampleSend(r, "GET", "/profile", token, "")
		fmt.Println(w.Code, w.Body)
		fmt.Println(w.Header().Get("WWW-Authenticate"))
	}
	// Output:
	// 401 {"code":"","message":"Authentication is required."}
	// Bearer realm="api"
	// 401 {"code":"invalid_token","message":"The token is invalid."}
	// Bearer realm="api", error="invalid_token", error_description="The token is invalid."
}

// Fail answers an app's own refusal the library's way: the same JSON, the
// same challenge, through the error handler if there is one.
func ExampleAuth_Fail() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	// Each user reads only their own documents.
	r.GET("/docs/:owner", auth.RequireAccess(), func(c *gin.Context) {
		if owner := c.Param("owner"); ginfresh.MustClaims(c).Subject != owner {
			auth.Fail(c, &ginfresh.Error{
				Status: http.StatusForbidden, Code: "insufficient_scope",
				Description: "Only the owner reads these documents.", Scope: "docs:" + owner,
			})
			return
		}
		c.String(http.StatusOK, "the documents of %s", c.Param("owner"))
	})
	tok, err := auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice"})
	if err != nil {
		panic(err)
	}

	fmt.Println(exampleSend(r, "GET", "/docs/alice", tok.AccessToken, "").Body)
	w := exampleSend(r, "GET", "/docs/bob", tok.AccessToken, "")
	fmt.Println(w.Code, w.Body)
	fmt.Println(w.Header().Get("WWW-Authenticate"))
	// Output:
	// the documents of alice
	// 403 {"error":"insufficient_scope","error_description":"Only the owner reads these documents."}
	// Bearer realm="api", error="insufficient_scope", error_description="Only the owner reads these documents.", scope="docs:bob"
}

// RequireScopes admits tokens whose scope claim grants every scope the
// route names; the app puts the scopes in the Identity.
func ExampleAuth_RequireScopes() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	r.GET("/posts", auth.RequireScopes("read"), func(c *gin.Context) { c.String(http.StatusOK, "posts") })
	r.DELETE("/posts/1", auth.RequireScopes("write"), func(c *gin.Context) { c.Status(http.StatusNoContent) })

	ctx := context.Background()
	reader, err := auth.StartSession(ctx, ginfresh.Identity{Subject: "alice", Custom: map[string]any{"scope": "read"}})
	if err != nil {
		panic(err)
	}
	editor, err := auth.StartSession(ctx, ginfresh.Identity{Subject: "bob", Custom: map[string]any{"scope": "read write"}})
	if err != nil {
		panic(err)
	}
	fmt.Println("reader reads:", exampleSend(r, "GET", "/posts", reader.AccessToken, "").Code)
	w := exampleSend(r, "DELETE", "/posts/1", reader.AccessToken, "")
	fmt.Println("reader deletes:", w.Code, w.Header().Get("WWW-Authenticate"))
	fmt.Println("editor deletes:", exampleSend(r, "DELETE", "/posts/1", editor.AccessToken, "").Code)
	// Output:
	// reader reads: 200
	// reader deletes: 403 Bearer realm="api", error="insufficient_scope", error_description="The token lacks the scope this route requires.", scope="write"
	// editor deletes: 204
}

// Step-up: a route that needs a login at level "mfa" refuses a password
// login, and its challenge says which level to log in at (RFC 9470).
func ExampleACRValues() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithAuthenticator(exampleCheckOTP),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	r.POST("/payments", auth.RequireFresh(ginfresh.ACRValues("mfa")), func(c *gin.Context) {
		c.String(http.StatusOK, "paid")
	})

	login := exampleTokens(exampleSend(r, "POST", "/auth/login", "", exampleLogin))
	w := exampleSend(r, "POST", "/payments", login.AccessToken, "")
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))

	// The client asks for the code and logs in again at that level.
	stepUp := exampleTokens(exampleSend(r, "POST", "/auth/fresh-login", login.AccessToken,
		`{"username":"alice","password":"wonderland","otp":"123456"}`))
	fmt.Println(exampleSend(r, "POST", "/payments", stepUp.AccessToken, "").Body)
	// Output:
	// 401 Bearer realm="api", error="insufficient_user_authentication", error_description="A fresh login at a stronger level is required.", acr_values="mfa"
	// paid
}

// MaxAge bounds how long ago the user proved the password, and the refusal
// tells the client the bound (RFC 9470), so it can ask for the password
// before retrying.
func ExampleMaxAge() {
	now := exampleNow
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithAuthenticator(exampleCheckPassword),
		ginfresh.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	r.DELETE("/account", auth.RequireFresh(ginfresh.MaxAge(5*time.Minute)), func(c *gin.Context) {
		c.Status(http.StatusNoContent)
	})

	login := exampleTokens(exampleSend(r, "POST", "/auth/login", "", exampleLogin))
	fmt.Println("at once:", exampleSend(r, "DELETE", "/account", login.AccessToken, "").Code)
	now = now.Add(10 * time.Minute) // still fresh, but the password was proved too long ago
	w := exampleSend(r, "DELETE", "/account", login.AccessToken, "")
	fmt.Println("10 minutes later:", w.Code, w.Header().Get("WWW-Authenticate"))
	fresh := exampleTokens(exampleSend(r, "POST", "/auth/fresh-login", login.AccessToken, exampleLogin))
	fmt.Println("after fresh-login:", exampleSend(r, "DELETE", "/account", fresh.AccessToken, "").Code)
	// Output:
	// at once: 204
	// 10 minutes later: 401 Bearer realm="api", error="insufficient_user_authentication", error_description="A fresh login is required.", max_age=300
	// after fresh-login: 204
}

// Custom decodes a token's custom claims into the app's own struct.
func ExampleCustom() {
	type AppClaims struct {
		Role   string   `json:"role"`
		Tenant string   `json:"tenant"`
		Teams  []string `json:"teams"`
	}
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	r.GET("/whoami", auth.RequireAccess(), func(c *gin.Context) {
		claims := ginfresh.MustClaims(c)
		app, err := ginfresh.Custom[AppClaims](claims)
		if err != nil {
			auth.Fail(c, err) // 500, without revealing err
			return
		}
		c.String(http.StatusOK, "%s is %s at %s, in %v", claims.Subject, app.Role, app.Tenant, app.Teams)
	})
	tok, err := auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice", Custom: map[string]any{
		"role": "admin", "tenant": "acme", "teams": []string{"web", "ops"},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(exampleSend(r, "GET", "/whoami", tok.AccessToken, "").Body)
	// Output: alice is admin at acme, in [web ops]
}

// exampleAuditLog is a service layer: it takes a context.Context, not a
// *gin.Context, and finds the claims in it.
func exampleAuditLog(ctx context.Context, action string) string {
	claims, ok := ginfresh.ClaimsFromContext(ctx)
	if !ok {
		return "someone " + action
	}
	return claims.Subject + " " + action
}

// ClaimsFromContext reads the claims in code that takes a context: pass
// the *gin.Context, or a context derived from it.
func ExampleClaimsFromContext() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	r.POST("/orders", auth.RequireAccess(), func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c, time.Second) // derived: still carries the claims
		defer cancel()
		c.String(http.StatusOK, exampleAuditLog(ctx, "ordered"))
	})
	r.GET("/status", func(c *gin.Context) { c.String(http.StatusOK, exampleAuditLog(c, "checked the status")) })
	tok, err := auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice"})
	if err != nil {
		panic(err)
	}
	fmt.Println(exampleSend(r, "POST", "/orders", tok.AccessToken, "").Body)
	fmt.Println(exampleSend(r, "GET", "/status", "", "").Body)
	// Output:
	// alice ordered
	// someone checked the status
}

// ClaimsFrom reads the verified token in a handler. A route without a guard
// stays public: it sees no claims when the request carries no token.
func ExampleClaimsFrom() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	r.GET("/hello", func(c *gin.Context) {
		if claims, ok := ginfresh.ClaimsFrom(c); ok {
			c.String(http.StatusOK, "hello %s (fresh: %t)", claims.Subject, claims.Fresh)
			return
		}
		c.String(http.StatusOK, "hello stranger")
	})
	tok, err := auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice"})
	if err != nil {
		panic(err)
	}
	fmt.Println(exampleSend(r, "GET", "/hello", "", "").Body)
	fmt.Println(exampleSend(r, "GET", "/hello", tok.AccessToken, "").Body)
	// Output:
	// hello stranger
	// hello alice (fresh: true)
}

// Sessions lists a user's devices, and RevokeSession signs one out: its
// refresh token stops working at once.
func ExampleAuth_Sessions() {
	now := exampleNow
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithAuthenticator(exampleCheckPassword),
		ginfresh.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	type device struct {
		ID      string `json:"id"`
		Device  string `json:"device"`
		Current bool   `json:"current"`
	}
	r.GET("/devices", auth.RequireAccess(), func(c *gin.Context) {
		claims := ginfresh.MustClaims(c)
		sessions, err := auth.Sessions(c, claims.Subject)
		if err != nil {
			auth.Fail(c, err)
			return
		}
		devices := []device{}
		for _, s := range sessions {
			devices = append(devices, device{s.ID, s.UserAgent, s.ID == claims.SessionID})
		}
		c.JSON(http.StatusOK, devices)
	})
	r.DELETE("/devices/:id", auth.RequireFresh(), func(c *gin.Context) {
		// A user can end only their own sessions: another's ID is not found.
		if err := auth.RevokeSession(c, ginfresh.MustClaims(c).Subject, c.Param("id")); err != nil {
			auth.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	loginFrom := func(userAgent string) ginfresh.Tokens {
		req := httptest.NewRequest("POST", "/auth/login", strings.NewReader(exampleLogin))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", userAgent)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return exampleTokens(w)
	}
	laptop := loginFrom("Firefox on Linux")
	now = now.Add(time.Minute)
	phone := loginFrom("Safari on iPhone")

	var devices []device
	_ = json.Unmarshal(exampleSend(r, "GET", "/devices", laptop.AccessToken, "").Body.Bytes(), &devices)
	for _, d := range devices {
		fmt.Printf("%s (current: %t)\n", d.Device, d.Current)
	}
	// The phone was lost: sign it out from the laptop.
	fmt.Println(exampleSend(r, "DELETE", "/devices/"+devices[1].ID, laptop.AccessToken, "").Code)
	fmt.Println(exampleSend(r, "POST", "/auth/refresh", phone.RefreshToken, "").Code)
	fmt.Println(exampleSend(r, "DELETE", "/devices/"+devices[1].ID, laptop.AccessToken, "").Body)
	sessions, _ := auth.Sessions(context.Background(), "alice")
	fmt.Println(len(sessions), "session left")
	// Output:
	// Firefox on Linux (current: true)
	// Safari on iPhone (current: false)
	// 204
	// 401
	// {"error":"not_found","error_description":"There is no such session."}
	// 1 session left
}

// StartSession mints a session's first tokens without a request: for a
// command-line tool, a test, or a service's own credentials.
func ExampleAuth_StartSession() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	tok, err := auth.StartSession(ctx, ginfresh.Identity{Subject: "deploy-bot", Custom: map[string]any{"scope": "deploy"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.TokenType, tok.ExpiresIn, tok.RefreshExpiresIn)
	claims, err := auth.Verify(ctx, ginfresh.Access, tok.AccessToken)
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.Subject, claims.Fresh, claims.ExpiresAt.UTC())
	_, err = auth.Verify(ctx, ginfresh.Access, tok.RefreshToken)
	fmt.Println(errors.Is(err, ginfresh.ErrWrongTokenType))
	// Output:
	// Bearer 900 604800
	// deploy-bot true 2030-01-01 12:15:00 +0000 UTC
	// true
}

// Cookie mode, for browser apps: the tokens travel in HttpOnly cookies,
// out of reach of page scripts; the answer's body holds no token, only the
// CSRF value that state-changing requests repeat in the X-CSRF-Token header.
func ExampleWithCookies() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithAuthenticator(exampleCheckPassword),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
		ginfresh.WithCookies("/auth/"), // the refresh cookie goes to /auth/refresh and /auth/logout only
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	r.POST("/transfer", auth.RequireFresh(), func(c *gin.Context) {
		c.String(http.StatusOK, "sent by %s", ginfresh.MustClaims(c).Subject)
	})

	req := httptest.NewRequest("POST", "/auth/login", strings.NewReader(exampleLogin))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin") // as a browser sends it
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	var cookies []string
	var csrfCookie string
	for _, c := range w.Result().Cookies() {
		fmt.Printf("%s Path=%s HttpOnly=%t Secure=%t\n", c.Name, c.Path, c.HttpOnly, c.Secure)
		cookies = append(cookies, c.Name+"="+c.Value)
		if c.Name == "__Host-csrf-token" {
			csrfCookie = c.Value
		}
	}
	var body struct {
		CSRFToken string `json:"csrf_token"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	fmt.Println(exampleMembers(w), body.CSRFToken == csrfCookie)

	transfer := func(csrf string) string {
		req := httptest.NewRequest("POST", "/transfer", nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
		if csrf != "" {
			req.Header.Set(ginfresh.CSRFHeader, csrf)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return fmt.Sprint(w.Code, " ", w.Body)
	}
	fmt.Println(transfer(""))             // a forged request: the browser sent the cookies, not the header
	fmt.Println(transfer(body.CSRFToken)) // the page's own request
	// Output:
	// __Host-access-token Path=/ HttpOnly=true Secure=true
	// __Secure-refresh-token Path=/auth/ HttpOnly=true Secure=true
	// __Host-csrf-token Path=/ HttpOnly=false Secure=true
	// [csrf_token expires_in refresh_expires_in] true
	// 403 {"error":"csrf_check_failed","error_description":"The request failed the cross-site request forgery check."}
	// 200 sent by alice
}

// An Ed25519 key as openssl genpkey -algorithm ed25519 writes it: a fixed
// one, so the output below is stable. Never ship a key in source.
const exampleEd25519PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f
-----END PRIVATE KEY-----
`

// Without an id the kid is the key's RFC 7638 thumbprint, so every service
// loading the same file agrees on it.
func ExampleParsePrivateKeyPEM() {
	key, err := ginfresh.ParsePrivateKeyPEM("", ginfresh.EdDSA, []byte(exampleEd25519PEM))
	if err != nil {
		panic(err)
	}
	fmt.Println(key.Algorithm(), key.ID(), key.CanSign())

	// The key is bound to its algorithm: another one is refused.
	_, err = ginfresh.ParsePrivateKeyPEM("", ginfresh.ES256, []byte(exampleEd25519PEM))
	fmt.Println(errors.Is(err, ginfresh.ErrInvalidKey))
	// Output:
	// EdDSA 1IG2tMH7J2wbJZnOf8LJzQitKf7LMvoAElsuDMVM54Y true
	// true
}

// An issuer signs with an Ed25519 key and publishes its public half; a
// resource server reads that document with WithJWKSURL.
func ExampleAuth_JWKSHandler() {
	key, err := ginfresh.ParsePrivateKeyPEM("2030-01", ginfresh.EdDSA, []byte(exampleEd25519PEM))
	if err != nil {
		panic(err)
	}
	auth, err := ginfresh.New(ginfresh.WithSigningKey(key), ginfresh.WithAuthenticator(exampleCheckPassword))
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	r.GET("/.well-known/jwks.json", auth.JWKSHandler())

	w := exampleSend(r, "GET", "/.well-known/jwks.json", "", "")
	fmt.Println(w.Header().Get("Content-Type"))
	fmt.Println(w.Header().Get("Cache-Control"))
	fmt.Println(w.Body)

	req := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
	req.Header.Set("If-None-Match", w.Header().Get("ETag"))
	again := httptest.NewRecorder()
	r.ServeHTTP(again, req)
	fmt.Println(again.Code)
	// Output:
	// application/jwk-set+json
	// public, max-age=900
	// {"keys":[{"kty":"OKP","kid":"2030-01","use":"sig","alg":"EdDSA","crv":"Ed25519","x":"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"}]}
	// 304
}

// An Identity says who the session is for (Subject), what its tokens carry
// (Custom), how the user logged in (ACR, AMR) and what the login answer
// adds for the client (Reply), which never goes into a token.
func ExampleIdentity() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithAuthenticator(func(c *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
			if _, err := exampleCheckPassword(c, req); err != nil {
				return ginfresh.Identity{}, err
			}
			return ginfresh.Identity{
				Subject: "user-1842",
				Custom:  map[string]any{"role": "admin"},
				ACR:     "pwd",
				AMR:     []string{"pwd"},
				Reply:   map[string]any{"user": map[string]string{"name": "Alice", "email": "alice@example.com"}},
			}, nil
		}),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)

	w := exampleSend(r, "POST", "/auth/login", "", exampleLogin)
	fmt.Println(exampleMembers(w))
	var answer struct {
		User json.RawMessage `json:"user"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &answer)
	fmt.Println(string(answer.User))

	claims, err := auth.Verify(context.Background(), ginfresh.Access, exampleTokens(w).AccessToken)
	if err != nil {
		panic(err)
	}
	var role string
	hasRole, _ := claims.Get("role", &role)
	hasUser, _ := claims.Get("user", new(any))
	fmt.Println(claims.Subject, claims.ACR, claims.AMR, role, hasRole, hasUser)
	// Output:
	// [access_token expires_in refresh_expires_in refresh_token token_type user]
	// {"email":"alice@example.com","name":"Alice"}
	// user-1842 pwd [pwd] admin true false
}

// The login throttle answers 429 with Retry-After once a client has
// guessed too often. The throttle counts per account and client.
func ExampleWithLoginThrottle() {
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey(exampleKey),
		ginfresh.WithAuthenticator(exampleCheckPassword),
		ginfresh.WithTimeFunc(func() time.Time { return exampleNow }),
		ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 2, Window: time.Minute}),
	)
	if err != nil {
		panic(err)
	}
	r := exampleRouter(auth)
	for range 3 {
		w := exampleSend(r, "POST", "/auth/login", "", `{"username":"alice","password":"guess"}`)
		fmt.Printf("%d Retry-After: %q\n", w.Code, w.Header().Get("Retry-After"))
	}
	// Output:
	// 401 Retry-After: ""
	// 401 Retry-After: ""
	// 429 Retry-After: "60"
}
