package ginfresh_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/formattest"
)

func init() { gin.SetMode(gin.TestMode) }

var testKey = []byte("test-key-0123456789-0123456789-0123456789")

// clock is a controllable time source, on a whole second.
type clock = formattest.Clock

func newClock() *clock { return formattest.NewClockAt(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) }

var testUsers = map[string]string{"alice": "alice-pw", "bob": "bob-pw"}

func testAuthenticator(_ *gin.Context, username, password string) (ginfresh.Identity, error) {
	if pw, ok := testUsers[username]; ok && pw == password {
		return ginfresh.Identity{Subject: username, Claims: map[string]any{"role": "user"}}, nil
	}
	return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
}

type fixture struct {
	auth   *ginfresh.Auth
	clock  *clock
	router *gin.Engine
}

// newFixture builds an Auth on a fixed clock and a router with the auth
// routes under /auth and one route per guard.
func newFixture(t testing.TB, opts ...ginfresh.Option) *fixture {
	t.Helper()
	clk := newClock()
	base := []ginfresh.Option{
		ginfresh.WithHMACKey(testKey),
		ginfresh.WithAuthenticator(testAuthenticator),
		ginfresh.WithTimeFunc(clk.Now),
	}
	auth, err := ginfresh.New(append(base, opts...)...)
	require.NoError(t, err)
	return &fixture{auth: auth, clock: clk, router: testRouter(auth)}
}

func testRouter(auth *ginfresh.Auth) *gin.Engine {
	r := gin.New()
	r.Use(auth.Middleware())
	auth.RegisterRoutes(r.Group("/auth"))
	r.GET("/public", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"public": true}) })
	r.GET("/protected", auth.RequireAccess(), func(c *gin.Context) {
		claims := ginfresh.MustClaims(c)
		c.JSON(http.StatusOK, gin.H{"user": claims.Subject, "fresh": claims.Fresh})
	})
	r.POST("/sensitive", auth.RequireFresh(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"user": ginfresh.MustClaims(c).Subject})
	})
	r.POST("/recent", auth.RequireFresh(ginfresh.MaxAge(5*time.Minute)), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"user": ginfresh.MustClaims(c).Subject})
	})
	return r
}

type request struct {
	method, path string
	token        string
	body         string
	header       http.Header
	remoteAddr   string // the client's address; httptest's 192.0.2.1 when empty
}

func (f *fixture) do(req request) *httptest.ResponseRecorder {
	return serve(f.router, req)
}

func serve(h http.Handler, req request) *httptest.ResponseRecorder {
	if req.method == "" {
		req.method = http.MethodGet
	}
	var r *http.Request
	if req.body != "" {
		r = httptest.NewRequest(req.method, req.path, strings.NewReader(req.body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(req.method, req.path, nil)
	}
	if req.token != "" {
		r.Header.Set("Authorization", "Bearer "+req.token)
	}
	for k, vs := range req.header {
		r.Header[k] = vs
	}
	if req.remoteAddr != "" {
		r.RemoteAddr = req.remoteAddr
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func credentials(user, pw string) string {
	b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	return string(b)
}

func (f *fixture) login(t testing.TB, user string) ginfresh.Tokens {
	t.Helper()
	w := f.do(request{method: http.MethodPost, path: "/auth/login", body: credentials(user, testUsers[user])})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	return decodeTokens(t, w)
}

func (f *fixture) refresh(t testing.TB, refreshToken string) *httptest.ResponseRecorder {
	t.Helper()
	return f.do(request{method: http.MethodPost, path: "/auth/refresh", token: refreshToken})
}

// The conformance suite's readers of answers serve these tests too.
var (
	decodeTokens = formattest.DecodeTokens
	errorCode    = formattest.ErrorCode
)

func (f *fixture) claims(t testing.TB, typ ginfresh.TokenType, token string) *ginfresh.Claims {
	t.Helper()
	c, err := f.auth.Verify(context.Background(), typ, token)
	require.NoError(t, err)
	return c
}
