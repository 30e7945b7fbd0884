// Package formattest is the conformance suite every token [ginfresh.Format]
// runs, so JWT and PASETO give one flow: the same answers from login,
// refresh, fresh-login, logout, the guards, revocation and cookie mode.
//
//	func TestConformance(t *testing.T) {
//		formattest.Run(t, func(t *testing.T) formattest.Setup {
//			return formattest.Setup{Issuer: []ginfresh.Option{ginfresh.WithFormat(newFormat(t))}}
//		})
//	}
//
// Each subtest gets fresh keys from the factory; the suite adds the clock,
// the authenticator and every other option itself.
package formattest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// Setup is the format under test, as options of [ginfresh.New].
type Setup struct {
	// Issuer chooses the format and keys that mint and verify tokens.
	Issuer []ginfresh.Option
	// Verifier, when set, chooses the same format holding only the public
	// keys of Issuer: a resource server that verifies but cannot mint.
	Verifier []ginfresh.Option
}

// Factory returns a setup for one subtest. Every call must make new keys:
// the suite checks that one setup's tokens are refused by another.
type Factory func(t *testing.T) Setup

const (
	accessTTL = 15 * time.Minute
	maxAge    = 5 * time.Minute
)

// Run runs the whole suite.
func Run(t *testing.T, newSetup Factory) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"Login", testLogin},
		{"RefreshKeepsAuthTimeAndIsNotFresh", testRefresh},
		{"MaxAge", testMaxAge},
		{"FreshLogin", testFreshLogin},
		{"RotationAndReuse", testReuse},
		{"ConcurrentRefreshOneWinner", testConcurrentRefresh},
		{"Logout", testLogout},
		{"RevokeSubject", testRevokeSubject},
		{"CustomClaimsSurviveRefresh", testCustomClaims},
		{"TypeConfusion", testTypeConfusion},
		{"Expired", testExpired},
		{"NotYetValid", testNotYetValid},
		{"Tampered", testTampered},
		{"WrongKey", testWrongKey},
		{"ResourceServer", testResourceServer},
		{"CookieMode", testCookies},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newSetup) })
	}
}

// Clock is a controllable time source.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed instant with a millisecond part, so a format
// that drops iat's milliseconds shows up in the revocation tests.
func NewClock() *Clock { return NewClockAt(time.Date(2030, 1, 2, 3, 4, 5, 678e6, time.UTC)) }

// NewClockAt starts at t.
func NewClockAt(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the current instant.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var users = map[string]string{"alice": "alice-pw", "bob": "bob-pw"}

// bigNumber would lose digits as a float64; it must survive refresh as is.
const bigNumber = "12345678901234567890123"

func authenticate(_ *gin.Context, username, password string) (ginfresh.Identity, error) {
	if pw, ok := users[username]; ok && pw == password {
		return ginfresh.Identity{Subject: username, Claims: map[string]any{
			"role":  "admin",
			"big":   json.Number(bigNumber),
			"scope": []string{"read", "write"},
			"html":  "<b>&</b>",
		}}, nil
	}
	return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
}

// Server is an Auth on the suite's clock behind the usual routes.
type Server struct {
	Auth   *ginfresh.Auth
	Clock  *Clock
	router *gin.Engine
}

// NewServer builds an Auth from opts plus the suite's clock and
// authenticator (unless verifyOnly) and mounts the auth routes under /auth,
// /protected (any access token), /sensitive (fresh) and /recent (fresh,
// MaxAge 5m). Format test files can use it for their own attack tests.
func NewServer(t testing.TB, clk *Clock, verifyOnly bool, opts ...ginfresh.Option) *Server {
	t.Helper()
	gin.SetMode(gin.TestMode)
	base := []ginfresh.Option{ginfresh.WithTimeFunc(clk.Now), ginfresh.WithAccessTTL(accessTTL)}
	if !verifyOnly {
		base = append(base, ginfresh.WithAuthenticator(authenticate))
	}
	auth, err := ginfresh.New(append(base, opts...)...)
	require.NoError(t, err)
	r := gin.New()
	r.Use(auth.Middleware())
	auth.RegisterRoutes(r.Group("/auth"))
	r.GET("/protected", auth.RequireAccess(), func(c *gin.Context) {
		claims := ginfresh.MustClaims(c)
		var role string
		_, _ = claims.Get("role", &role)
		c.JSON(http.StatusOK, gin.H{"user": claims.Subject, "fresh": claims.Fresh, "role": role})
	})
	r.POST("/sensitive", auth.RequireFresh(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"user": ginfresh.MustClaims(c).Subject})
	})
	r.POST("/recent", auth.RequireFresh(ginfresh.MaxAge(maxAge)), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"user": ginfresh.MustClaims(c).Subject})
	})
	return &Server{Auth: auth, Clock: clk, router: r}
}

// server builds a Server on a new clock from a new setup of f.
func (f Factory) server(t *testing.T, opts ...ginfresh.Option) *Server {
	t.Helper()
	return NewServer(t, NewClock(), false, append(f(t).Issuer, opts...)...)
}

// ServeHTTP serves r through the Server's routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Do sends a request with an optional Bearer token and JSON body.
func (s *Server) Do(method, path, token, body string) *httptest.ResponseRecorder {
	r := newRequest(method, path, body)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	s.router.ServeHTTP(w, r)
	return w
}

// newRequest is a request with a JSON body, if any.
func newRequest(method, path, body string) *http.Request {
	if body == "" {
		return httptest.NewRequest(method, path, nil)
	}
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// Login logs user in and returns the tokens.
func (s *Server) Login(t testing.TB, user string) ginfresh.Tokens {
	t.Helper()
	w := s.Do(http.MethodPost, "/auth/login", "", credentials(user, users[user]))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	return DecodeTokens(t, w)
}

func (s *Server) refresh(token string) *httptest.ResponseRecorder {
	return s.Do(http.MethodPost, "/auth/refresh", token, "")
}

func (s *Server) claims(t testing.TB, typ ginfresh.TokenType, token string) *ginfresh.Claims {
	t.Helper()
	c, err := s.Auth.Verify(context.Background(), typ, token)
	require.NoError(t, err)
	return c
}

func credentials(user, pw string) string {
	b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	return string(b)
}

// DecodeTokens reads the JSON tokens of a login, refresh or fresh-login
// answer.
func DecodeTokens(t testing.TB, w *httptest.ResponseRecorder) ginfresh.Tokens {
	t.Helper()
	var tok ginfresh.Tokens
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &tok), w.Body.String())
	return tok
}

// ErrorCode returns the "error" member of a JSON error body, which must
// also carry an error_description.
func ErrorCode(t testing.TB, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), w.Body.String())
	require.NotEmpty(t, body.Description)
	return body.Error
}

// RequireRefused checks a refusal: the status, the JSON error code and, for
// 401s about a token, the same code in the Bearer challenge.
func RequireRefused(t testing.TB, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	require.Equal(t, status, w.Code, w.Body.String())
	assert.Equal(t, code, ErrorCode(t, w))
	if status == http.StatusUnauthorized && code != "invalid_credentials" && code != "unauthorized" {
		assert.Contains(t, w.Header().Get("WWW-Authenticate"), `error="`+code+`"`)
	}
}

func testLogin(t *testing.T, f Factory) {
	srv := f.server(t)
	w := srv.Do(http.MethodPost, "/auth/login", "", credentials("alice", "alice-pw"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	tok := DecodeTokens(t, w)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.EqualValues(t, accessTTL/time.Second, tok.ExpiresIn)
	require.NotEmpty(t, tok.RefreshToken)
	assert.NotEqual(t, tok.AccessToken, tok.RefreshToken)

	w = srv.Do(http.MethodGet, "/protected", tok.AccessToken, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"user":"alice","fresh":true,"role":"admin"}`, w.Body.String())
	assert.Equal(t, http.StatusOK, srv.Do(http.MethodPost, "/sensitive", tok.AccessToken, "").Code)

	c := srv.claims(t, ginfresh.AccessToken, tok.AccessToken)
	now := srv.Clock.Now()
	assert.True(t, c.IssuedAt.Time.Equal(now), "iat keeps milliseconds: got %v, want %v", c.IssuedAt.Time, now)
	assert.True(t, c.ExpiresAt.Time.Equal(now.Add(accessTTL).Truncate(time.Second)), "exp: got %v", c.ExpiresAt.Time)
	assert.True(t, c.AuthTime.Time.Equal(now.Truncate(time.Second)), "auth_time: got %v", c.AuthTime.Time)
	assert.NotEmpty(t, c.ID)
	assert.Empty(t, c.SessionID, "access tokens carry no sid")
	rt := srv.claims(t, ginfresh.RefreshToken, tok.RefreshToken)
	assert.NotEmpty(t, rt.SessionID)
	assert.False(t, rt.Fresh)

	RequireRefused(t, srv.Do(http.MethodPost, "/auth/login", "", credentials("alice", "wrong")), http.StatusUnauthorized, "invalid_credentials")
	RequireRefused(t, srv.Do(http.MethodGet, "/protected", "", ""), http.StatusUnauthorized, "unauthorized")
}

func testRefresh(t *testing.T, f Factory) {
	srv := f.server(t)
	login := srv.Login(t, "alice")
	authTime := srv.claims(t, ginfresh.AccessToken, login.AccessToken).AuthTime.Time

	srv.Clock.Advance(time.Minute)
	w := srv.refresh(login.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	tok := DecodeTokens(t, w)
	require.NotEmpty(t, tok.RefreshToken)

	c := srv.claims(t, ginfresh.AccessToken, tok.AccessToken)
	assert.False(t, c.Fresh, "a refreshed token is never fresh")
	assert.True(t, c.AuthTime.Time.Equal(authTime), "auth_time is copied: got %v, want %v", c.AuthTime.Time, authTime)
	assert.True(t, c.IssuedAt.Time.After(authTime))

	w = srv.Do(http.MethodGet, "/protected", tok.AccessToken, "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"user":"alice","fresh":false,"role":"admin"}`, w.Body.String())
	w = srv.Do(http.MethodPost, "/sensitive", tok.AccessToken, "")
	RequireRefused(t, w, http.StatusUnauthorized, "insufficient_user_authentication")
}

func testMaxAge(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	srv.Clock.Advance(maxAge - time.Second)
	assert.Equal(t, http.StatusOK, srv.Do(http.MethodPost, "/recent", tok.AccessToken, "").Code)

	srv.Clock.Advance(2 * time.Second)
	w := srv.Do(http.MethodPost, "/recent", tok.AccessToken, "")
	RequireRefused(t, w, http.StatusUnauthorized, "insufficient_user_authentication")
	assert.Contains(t, w.Header().Get("WWW-Authenticate"), "max_age=300")
	assert.Equal(t, http.StatusOK, srv.Do(http.MethodPost, "/sensitive", tok.AccessToken, "").Code, "without MaxAge a fresh token stays fresh")
}

func testFreshLogin(t *testing.T, f Factory) {
	srv := f.server(t)
	login := srv.Login(t, "alice")
	srv.Clock.Advance(time.Minute)
	stale := DecodeTokens(t, srv.refresh(login.RefreshToken))
	srv.Clock.Advance(time.Minute)

	w := srv.Do(http.MethodPost, "/auth/fresh-login", stale.AccessToken, credentials("bob", "bob-pw"))
	RequireRefused(t, w, http.StatusForbidden, "access_denied")
	w = srv.Do(http.MethodPost, "/auth/fresh-login", stale.AccessToken, credentials("alice", "nope"))
	RequireRefused(t, w, http.StatusUnauthorized, "invalid_credentials")

	w = srv.Do(http.MethodPost, "/auth/fresh-login", stale.AccessToken, credentials("alice", "alice-pw"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	fresh := DecodeTokens(t, w)
	assert.Empty(t, fresh.RefreshToken, "fresh-login starts no session")
	c := srv.claims(t, ginfresh.AccessToken, fresh.AccessToken)
	assert.True(t, c.Fresh)
	assert.True(t, c.AuthTime.Time.Equal(srv.Clock.Now().Truncate(time.Second)))
	assert.Equal(t, http.StatusOK, srv.Do(http.MethodPost, "/sensitive", fresh.AccessToken, "").Code)
	assert.Equal(t, http.StatusOK, srv.Do(http.MethodPost, "/recent", fresh.AccessToken, "").Code)

	// A refresh token is no proof of who is asking.
	w = srv.Do(http.MethodPost, "/auth/fresh-login", login.RefreshToken, credentials("alice", "alice-pw"))
	RequireRefused(t, w, http.StatusUnauthorized, "invalid_token")
}

func testReuse(t *testing.T, f Factory) {
	srv := f.server(t)
	first := srv.Login(t, "alice")
	w := srv.refresh(first.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code)
	second := DecodeTokens(t, w)
	require.NotEqual(t, first.RefreshToken, second.RefreshToken)

	RequireRefused(t, srv.refresh(first.RefreshToken), http.StatusUnauthorized, "invalid_token")
	RequireRefused(t, srv.refresh(second.RefreshToken), http.StatusUnauthorized, "invalid_token")

	other := srv.Login(t, "alice")
	assert.Equal(t, http.StatusOK, srv.refresh(other.RefreshToken).Code, "other sessions are untouched")
}

func testConcurrentRefresh(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	const n = 50
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			switch srv.refresh(tok.RefreshToken).Code {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusUnauthorized:
				refused.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, ok.Load(), "exactly one concurrent refresh wins")
	assert.EqualValues(t, n-1, refused.Load())
}

func testLogout(t *testing.T, f Factory) {
	srv := f.server(t, ginfresh.WithAccessRevocation())
	tok := srv.Login(t, "alice")
	body := `{"refresh_token":"` + tok.RefreshToken + `"}`
	w := srv.Do(http.MethodPost, "/auth/logout", tok.AccessToken, body)
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	RequireRefused(t, srv.refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	RequireRefused(t, srv.Do(http.MethodGet, "/protected", tok.AccessToken, ""), http.StatusUnauthorized, "invalid_token")

	// The refresh token alone as Bearer ends its session too.
	other := srv.Login(t, "alice")
	require.Equal(t, http.StatusNoContent, srv.Do(http.MethodPost, "/auth/logout", other.RefreshToken, "").Code)
	RequireRefused(t, srv.refresh(other.RefreshToken), http.StatusUnauthorized, "invalid_token")
}

func testRevokeSubject(t *testing.T, f Factory) {
	srv := f.server(t, ginfresh.WithAccessRevocation())
	alice, bob := srv.Login(t, "alice"), srv.Login(t, "bob")
	srv.Clock.Advance(time.Second)
	require.NoError(t, srv.Auth.RevokeSubject(context.Background(), "alice"))

	RequireRefused(t, srv.Do(http.MethodGet, "/protected", alice.AccessToken, ""), http.StatusUnauthorized, "invalid_token")
	RequireRefused(t, srv.refresh(alice.RefreshToken), http.StatusUnauthorized, "invalid_token")
	assert.Equal(t, http.StatusOK, srv.Do(http.MethodGet, "/protected", bob.AccessToken, "").Code, "other subjects are untouched")

	// A login a millisecond after the revocation must not be caught by it:
	// that needs iat's milliseconds.
	srv.Clock.Advance(time.Millisecond)
	again := srv.Login(t, "alice")
	assert.Equal(t, http.StatusOK, srv.Do(http.MethodGet, "/protected", again.AccessToken, "").Code)
	assert.Equal(t, http.StatusOK, srv.refresh(again.RefreshToken).Code)
}

func testCustomClaims(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	for range 2 {
		srv.Clock.Advance(time.Minute)
		w := srv.refresh(tok.RefreshToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		tok = DecodeTokens(t, w)
	}
	for _, token := range []struct {
		typ   ginfresh.TokenType
		token string
	}{{ginfresh.AccessToken, tok.AccessToken}, {ginfresh.RefreshToken, tok.RefreshToken}} {
		c := srv.claims(t, token.typ, token.token)
		var big json.RawMessage
		ok, err := c.Get("big", &big)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, bigNumber, string(big), "large numbers are carried digit for digit")
		var scope []string
		ok, err = c.Get("scope", &scope)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, []string{"read", "write"}, scope)
		var html string
		_, err = c.Get("html", &html)
		require.NoError(t, err)
		assert.Equal(t, "<b>&</b>", html)
		ok, err = c.Get("missing", &html)
		require.NoError(t, err)
		assert.False(t, ok)
	}
}

func testTypeConfusion(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	RequireRefused(t, srv.Do(http.MethodGet, "/protected", tok.RefreshToken, ""), http.StatusUnauthorized, "invalid_token")
	RequireRefused(t, srv.Do(http.MethodPost, "/sensitive", tok.RefreshToken, ""), http.StatusUnauthorized, "invalid_token")
	RequireRefused(t, srv.refresh(tok.AccessToken), http.StatusUnauthorized, "invalid_token")

	for _, tt := range []struct {
		want  ginfresh.TokenType
		token string
	}{{ginfresh.AccessToken, tok.RefreshToken}, {ginfresh.RefreshToken, tok.AccessToken}} {
		_, err := srv.Auth.Verify(context.Background(), tt.want, tt.token)
		assert.ErrorIs(t, err, ginfresh.ErrWrongTokenType, "want %v", tt.want)
		assert.ErrorIs(t, err, ginfresh.ErrTokenInvalid, "want %v", tt.want)
	}
}

func testExpired(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	srv.Clock.Advance(accessTTL - time.Second)
	assert.Equal(t, http.StatusOK, srv.Do(http.MethodGet, "/protected", tok.AccessToken, "").Code)
	srv.Clock.Advance(time.Second)
	w := srv.Do(http.MethodGet, "/protected", tok.AccessToken, "")
	RequireRefused(t, w, http.StatusUnauthorized, "invalid_token")
	assert.Contains(t, w.Body.String(), "expired")
	_, err := srv.Auth.Verify(context.Background(), ginfresh.AccessToken, tok.AccessToken)
	assert.ErrorIs(t, err, ginfresh.ErrTokenExpired)

	srv.Clock.Advance(ginfresh.DefaultRefreshTTL)
	RequireRefused(t, srv.refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
}

func testNotYetValid(t *testing.T, f Factory) {
	// Tokens from a server whose clock runs ahead are refused until then.
	ahead := NewClock()
	ahead.Advance(time.Hour)
	s := f(t)
	minter := NewServer(t, ahead, false, s.Issuer...)
	tok := minter.Login(t, "alice")
	srv := NewServer(t, NewClock(), false, s.Issuer...)
	RequireRefused(t, srv.Do(http.MethodGet, "/protected", tok.AccessToken, ""), http.StatusUnauthorized, "invalid_token")
}

func testTampered(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	for _, token := range []string{tok.AccessToken, tok.RefreshToken} {
		for _, i := range []int{len(token) / 3, len(token) / 2, len(token) - 2} {
			b := []byte(token)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			RequireRefused(t, srv.Do(http.MethodGet, "/protected", string(b), ""), http.StatusUnauthorized, "invalid_token")
			RequireRefused(t, srv.refresh(string(b)), http.StatusUnauthorized, "invalid_token")
		}
		RequireRefused(t, srv.Do(http.MethodGet, "/protected", token[:len(token)-1], ""), http.StatusUnauthorized, "invalid_token")
	}
}

func testWrongKey(t *testing.T, f Factory) {
	tok := f.server(t).Login(t, "alice")
	other := f.server(t) // the same format with other keys
	RequireRefused(t, other.Do(http.MethodGet, "/protected", tok.AccessToken, ""), http.StatusUnauthorized, "invalid_token")
	RequireRefused(t, other.refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
}

func testResourceServer(t *testing.T, f Factory) {
	s := f(t)
	if s.Verifier == nil {
		t.Skip("the format has no verify-only setup")
	}
	// The two share a store, as an API and its issuer might.
	store := ginfresh.NewMemoryStore()
	issuer := NewServer(t, NewClock(), false, append(s.Issuer, ginfresh.WithStore(store))...)
	tok := issuer.Login(t, "alice")
	rs := NewServer(t, issuer.Clock, true, append(s.Verifier, ginfresh.WithStore(store))...)

	w := rs.Do(http.MethodGet, "/protected", tok.AccessToken, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"user":"alice","fresh":true,"role":"admin"}`, w.Body.String())
	assert.Equal(t, http.StatusOK, rs.Do(http.MethodPost, "/sensitive", tok.AccessToken, "").Code)
	RequireRefused(t, rs.Do(http.MethodGet, "/protected", tok.RefreshToken, ""), http.StatusUnauthorized, "invalid_token")

	for _, path := range []string{"/auth/login", "/auth/fresh-login"} {
		w := rs.Do(http.MethodPost, path, "", credentials("alice", "alice-pw"))
		RequireRefused(t, w, http.StatusNotImplemented, "unsupported")
	}
	RequireRefused(t, rs.refresh(tok.RefreshToken), http.StatusNotImplemented, "unsupported")
	assert.Equal(t, http.StatusOK, issuer.refresh(tok.RefreshToken).Code, "the refused refresh left the token redeemable")
	_, err := rs.Auth.CreateAccessToken(ginfresh.Identity{Subject: "alice"}, true)
	assert.ErrorIs(t, err, ginfresh.ErrKeyUnavailable)
}
