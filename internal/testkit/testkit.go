// Package testkit is the shared test harness of ginfresh and its modules:
// a controllable clock, an Auth behind the usual routes, requests, a
// cookie jar and readers of answers. It uses only the standard testing
// package, so the conformance suites that build on it add no dependency.
package testkit

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

func init() { gin.SetMode(gin.TestMode) }

// Clock is a controllable time source.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed instant with a fraction of a second, so that
// anything that truncates dates shows.
func NewClock() *Clock { return &Clock{t: time.Date(2030, 1, 2, 3, 4, 5, 678_000_000, time.UTC)} }

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

// Users are the test accounts and their passwords.
var Users = map[string]string{"alice": "alice-pw", "bob": "bob-pw"}

// OTP is the one-time code that makes a login of alice an "mfa" one.
const OTP = "123456"

// BigNumber would lose digits as a float64; it must survive refresh as is.
const BigNumber = "12345678901234567890123"

// Authenticate is the test authenticator: the users above, with custom
// claims, and acr "mfa" when the body also carries {"otp": OTP}.
func Authenticate(_ *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
	pw, ok := Users[req.Username]
	if !ok || pw != req.Password {
		return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
	}
	id := ginfresh.Identity{Subject: req.Username, ACR: "pwd", AMR: []string{"pwd"}, Custom: map[string]any{
		"role":  "admin",
		"big":   json.Number(BigNumber),
		"scope": "read write",
		"html":  "<b>&</b>",
	}}
	var otp string
	if ok, err := req.Field("otp", &otp); err != nil || (ok && otp != OTP) {
		return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
	} else if ok {
		id.ACR, id.AMR = "mfa", []string{"pwd", "otp"}
	}
	return id, nil
}

// Server is an Auth on a test clock behind the usual routes.
type Server struct {
	Auth   *ginfresh.Auth
	Clock  *Clock
	Router *gin.Engine
}

// Routes of a Server besides the auth routes under /auth.
const (
	Protected = "/protected" // GET, any access token: {"user","fresh","role","sid"}
	Sensitive = "/sensitive" // POST, fresh
	Recent    = "/recent"    // POST, fresh and at most 5 minutes old
	MFA       = "/mfa"       // POST, fresh at acr "mfa"
	Writer    = "/write"     // POST, scope "write"
	Admin     = "/admin"     // GET, scope "admin"
	Public    = "/public"    // GET, no guard
)

// NewServer builds an Auth from opts plus the clock and, unless verifyOnly,
// the test authenticator, and mounts the routes above.
func NewServer(t testing.TB, clk *Clock, verifyOnly bool, opts ...ginfresh.Option) *Server {
	t.Helper()
	base := []ginfresh.Option{ginfresh.WithTimeFunc(clk.Now)}
	if !verifyOnly {
		base = append(base, ginfresh.WithAuthenticator(Authenticate))
	}
	auth, err := ginfresh.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &Server{Auth: auth, Clock: clk, Router: Router(auth)}
}

// Router mounts the routes of a Server for auth.
func Router(auth *ginfresh.Auth) *gin.Engine {
	r := gin.New()
	r.Use(auth.Middleware())
	auth.RegisterRoutes(r.Group("/auth"))
	ok := func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"user": ginfresh.MustClaims(c).Subject}) }
	r.GET(Public, func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"public": true}) })
	r.GET(Protected, auth.RequireAccess(), func(c *gin.Context) {
		claims := ginfresh.MustClaims(c)
		var role string
		_, _ = claims.Get("role", &role)
		c.JSON(http.StatusOK, gin.H{"user": claims.Subject, "fresh": claims.Fresh, "role": role, "sid": claims.SessionID})
	})
	r.POST(Sensitive, auth.RequireFresh(), ok)
	r.POST(Recent, auth.RequireFresh(ginfresh.MaxAge(5*time.Minute)), ok)
	r.POST(MFA, auth.RequireFresh(ginfresh.ACRValues("mfa")), ok)
	r.POST(Writer, auth.RequireScopes("write"), ok)
	r.GET(Admin, auth.RequireScopes("admin"), ok)
	return r
}

// Request is one request to a Server.
type Request struct {
	Method, Path string
	Token        string // sent as Bearer
	Body         string // sent as application/json
	Header       http.Header
	RemoteAddr   string // the client's address; httptest's 192.0.2.1 when empty
}

// Do serves req.
func (s *Server) Do(req Request) *httptest.ResponseRecorder {
	return Serve(s.Router, req)
}

// Serve sends req to h.
func Serve(h http.Handler, req Request) *httptest.ResponseRecorder {
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	r := httptest.NewRequest(req.Method, req.Path, strings.NewReader(req.Body))
	if req.Body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.Token != "" {
		r.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, vs := range req.Header {
		r.Header[k] = vs
	}
	if req.RemoteAddr != "" {
		r.RemoteAddr = req.RemoteAddr
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Get and Post send a request with a Bearer token.
func (s *Server) Get(path, token string) *httptest.ResponseRecorder {
	return s.Do(Request{Path: path, Token: token})
}

// Post sends a POST with a Bearer token and a JSON body.
func (s *Server) Post(path, token, body string) *httptest.ResponseRecorder {
	return s.Do(Request{Method: http.MethodPost, Path: path, Token: token, Body: body})
}

// Credentials is a login body.
func Credentials(user, pw string) string {
	b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	return string(b)
}

// Login logs user in and returns the tokens.
func (s *Server) Login(t testing.TB, user string) ginfresh.Tokens {
	t.Helper()
	w := s.Post("/auth/login", "", Credentials(user, Users[user]))
	if w.Code != http.StatusOK {
		t.Fatalf("login of %s: %d %s", user, w.Code, w.Body)
	}
	return DecodeTokens(t, w)
}

// Refresh redeems a refresh token.
func (s *Server) Refresh(token string) *httptest.ResponseRecorder {
	return s.Post("/auth/refresh", token, "")
}

// Claims verifies a token and returns its claims.
func (s *Server) Claims(t testing.TB, k ginfresh.Kind, token string) *ginfresh.Claims {
	t.Helper()
	c, err := s.Auth.Verify(context.Background(), k, token)
	if err != nil {
		t.Fatalf("Verify(%v): %v", k, err)
	}
	return c
}

// DecodeTokens reads the JSON tokens of a login, refresh or fresh-login
// answer.
func DecodeTokens(t testing.TB, w *httptest.ResponseRecorder) ginfresh.Tokens {
	t.Helper()
	var tok ginfresh.Tokens
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil {
		t.Fatalf("%v in %s", err, w.Body)
	}
	return tok
}

// ErrorCode returns the "error" member of a JSON error body, which must also
// carry an error_description.
func ErrorCode(t testing.TB, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Description == "" {
		t.Fatalf("not an error body (%v): %s", err, w.Body)
	}
	return body.Error
}

// Refused checks a refusal: the status, the JSON error code and, for 401s
// about a token, the same code in the Bearer challenge.
func Refused(t testing.TB, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, status, code)
	}
	if got := ErrorCode(t, w); got != code {
		t.Fatalf("got error %q, want %q (%s)", got, code, w.Body)
	}
	if status == http.StatusUnauthorized && code != "invalid_credentials" && code != "unauthorized" {
		if ch := w.Header().Get("WWW-Authenticate"); !strings.Contains(ch, `error="`+code+`"`) {
			t.Fatalf("challenge %q lacks error=%q", ch, code)
		}
	}
}

// Status checks an answer's status.
func Status(t testing.TB, w *httptest.ResponseRecorder, want int) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("got %d %s, want %d", w.Code, w.Body, want)
	}
}

// Jar is one browser's cookies, enough of RFC 6265 for tests: it honours
// Path and deletes on a negative Max-Age.
type Jar map[string]*http.Cookie

// Update keeps the cookies w sets.
func (j Jar) Update(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	for _, line := range w.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatal(err)
		}
		if c.Domain != "" {
			continue // a deletion aimed at a planted copy, not at ours
		}
		if c.MaxAge < 0 {
			delete(j, c.Name)
			continue
		}
		j[c.Name] = c
	}
}

// Header is the Cookie header a browser sends to path.
func (j Jar) Header(path string) string {
	var pairs []string
	for _, c := range j {
		if strings.HasPrefix(path, c.Path) {
			pairs = append(pairs, c.Name+"="+c.Value)
		}
	}
	return strings.Join(pairs, "; ")
}

// CSRFCookie is the default name of the CSRF cookie.
const CSRFCookie = "__Host-csrf-token"

// Browser is one same-origin page in cookie mode: it keeps the cookies the
// server sets and repeats the CSRF cookie in the X-CSRF-Token header on
// unsafe methods, as the page's script would.
type Browser struct {
	T      testing.TB
	H      http.Handler
	Jar    Jar
	NoCSRF bool   // leave the header out, as a forged request would
	Extra  string // appended to the Cookie header (planted cookies)
}

// Send sends a request as the page would.
func (b *Browser) Send(method, path, body string) *httptest.ResponseRecorder {
	b.T.Helper()
	h := http.Header{"Sec-Fetch-Site": {"same-origin"}}
	ck := b.Jar.Header(path)
	if b.Extra != "" {
		ck = strings.TrimPrefix(ck+"; "+b.Extra, "; ")
	}
	if ck != "" {
		h.Set("Cookie", ck)
	}
	if c, ok := b.Jar[CSRFCookie]; ok && !b.NoCSRF && method != http.MethodGet {
		h.Set(ginfresh.CSRFHeader, c.Value)
	}
	w := Serve(b.H, Request{Method: method, Path: path, Body: body, Header: h})
	b.Jar.Update(b.T, w)
	return w
}

// SessionEndings checks, for two servers sharing a store (a may equal b),
// that a replayed refresh token, a logout, RevokeSubject and RevokeSession
// on a each make an access token of the session answer 401 invalid_token
// on b: at the next request when within is 0, else within that long (a
// store whose instances learn of revocations asynchronously), while other
// sessions live on.
func SessionEndings(t *testing.T, within time.Duration, pair func(t *testing.T) (a, b *Server)) {
	endings := []struct {
		name string
		end  func(t *testing.T, a *Server, tok ginfresh.Tokens)
	}{
		{"ReuseDetection", func(t *testing.T, a *Server, tok ginfresh.Tokens) {
			Status(t, a.Refresh(tok.RefreshToken), http.StatusOK)
			Refused(t, a.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
		}},
		{"LogoutWithRefreshToken", func(t *testing.T, a *Server, tok ginfresh.Tokens) {
			Status(t, a.Post("/auth/logout", tok.RefreshToken, ""), http.StatusNoContent)
		}},
		{"LogoutWithAccessToken", func(t *testing.T, a *Server, tok ginfresh.Tokens) {
			Status(t, a.Post("/auth/logout", tok.AccessToken, ""), http.StatusNoContent)
		}},
		{"RevokeSubject", func(t *testing.T, a *Server, tok ginfresh.Tokens) {
			if err := a.Auth.RevokeSubject(context.Background(), "alice"); err != nil {
				t.Fatal(err)
			}
		}},
		{"RevokeSession", func(t *testing.T, a *Server, tok ginfresh.Tokens) {
			sid := a.Claims(t, ginfresh.Access, tok.AccessToken).SessionID
			if err := a.Auth.RevokeSession(context.Background(), "alice", sid); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, e := range endings {
		t.Run(e.name, func(t *testing.T) {
			a, b := pair(t)
			tok, other, bob := a.Login(t, "alice"), a.Login(t, "alice"), a.Login(t, "bob")
			Status(t, b.Get(Protected, tok.AccessToken), http.StatusOK)
			if e.name != "RevokeSubject" {
				// Another session of the same user lives on.
				defer func() { Status(t, b.Get(Protected, other.AccessToken), http.StatusOK) }()
			}
			e.end(t, a, tok)
			if within > 0 {
				deadline := time.Now().Add(within)
				for b.Get(Protected, tok.AccessToken).Code == http.StatusOK && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
			}
			Refused(t, b.Get(Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
			Refused(t, b.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
			Status(t, b.Get(Protected, bob.AccessToken), http.StatusOK)
			// A login right after is a new session, without waiting.
			a.Clock.Advance(time.Microsecond)
			again := a.Login(t, "alice")
			Status(t, b.Get(Protected, again.AccessToken), http.StatusOK)
			Status(t, b.Refresh(again.RefreshToken), http.StatusOK)
		})
	}
}
