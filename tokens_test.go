package ginfresh_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// signedFormat is a minimal Format (the kind, the payload and an HMAC of
// both), for tests that count or break minting, or mint payloads ginfresh
// itself never would.
type signedFormat struct {
	key      []byte
	issued   atomic.Int32 // successful Issue calls
	failNext atomic.Int32 // the Kind whose next Issue fails, 0 for none
}

var errSignerDown = errors.New("signer down")

func newSignedFormat() *signedFormat {
	return &signedFormat{key: []byte("signed-format-key-0123456789-0123456789")}
}

func (f *signedFormat) CanIssue() bool { return true }

func (f *signedFormat) Issue(k ginfresh.Kind, payload []byte) (string, error) {
	if f.failNext.CompareAndSwap(int32(k), 0) {
		return "", errSignerDown
	}
	f.issued.Add(1)
	body := base64.RawURLEncoding.EncodeToString(append([]byte{byte(k)}, payload...))
	return body + "." + f.mac(body), nil
}

func (f *signedFormat) Verify(k ginfresh.Kind, token string) ([]byte, error) {
	body, sig, _ := strings.Cut(token, ".")
	if !hmac.Equal([]byte(sig), []byte(f.mac(body))) {
		return nil, fmt.Errorf("%w: bad signature", ginfresh.ErrTokenInvalid)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("%w: malformed", ginfresh.ErrTokenInvalid)
	}
	if ginfresh.Kind(raw[0]) != k {
		return nil, fmt.Errorf("%w: %w", ginfresh.ErrWrongTokenType, ginfresh.ErrTokenInvalid)
	}
	return raw[1:], nil
}

func (f *signedFormat) mac(body string) string {
	m := hmac.New(sha256.New, f.key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// formatServer is a testkit server that mints with f.
func formatServer(t testing.TB, f ginfresh.Format, opts ...ginfresh.Option) *testkit.Server {
	t.Helper()
	return testkit.NewServer(t, testkit.NewClock(), false, append([]ginfresh.Option{ginfresh.WithFormat(f)}, opts...)...)
}

// refreshed refreshes token and returns the answer's tokens.
func refreshed(t testing.TB, s *testkit.Server, token string) ginfresh.Tokens {
	t.Helper()
	w := s.Refresh(token)
	testkit.Status(t, w, http.StatusOK)
	return testkit.DecodeTokens(t, w)
}

// TestRefreshKeepsAuthTime: refreshed tokens are never fresh and keep the
// login's auth_time, acr, amr and custom claims, so they never look newer
// than the login behind them.
func TestRefreshKeepsAuthTime(t *testing.T) {
	s := keyedServer(t)
	loginAt := s.Clock.Now().Truncate(time.Second)
	tok := testkit.DecodeTokens(t, s.Post("/auth/login", "", `{"username":"alice","password":"alice-pw","otp":"`+testkit.OTP+`"}`))
	for range 2 {
		s.Clock.Advance(10 * time.Minute)
		tok = refreshed(t, s, tok.RefreshToken)
		c := s.Claims(t, ginfresh.Access, tok.AccessToken)
		var role string
		ok, err := c.Get("role", &role)
		switch {
		case c.Fresh:
			t.Error("a refreshed token is fresh")
		case !c.AuthTime.Equal(loginAt):
			t.Errorf("auth_time %v, want the login's %v", c.AuthTime, loginAt)
		case !c.IssuedAt.After(loginAt):
			t.Errorf("iat %v does not move on", c.IssuedAt)
		case c.ACR != "mfa" || strings.Join(c.AMR, " ") != "pwd otp":
			t.Errorf("acr %q amr %v, want the login's", c.ACR, c.AMR)
		case !ok || err != nil || role != "admin":
			t.Errorf("role %q (%v, %v): custom claims survive refresh", role, ok, err)
		}
		if rt := s.Claims(t, ginfresh.Refresh, tok.RefreshToken); rt.Fresh || !rt.AuthTime.Equal(loginAt) {
			t.Errorf("refresh token: fresh %v, auth_time %v", rt.Fresh, rt.AuthTime)
		}
	}
}

func TestRotationAndReuse(t *testing.T) {
	logger, logs := jsonLogger()
	s := keyedServer(t, ginfresh.WithLogger(logger))
	first := s.Login(t, "alice")
	second := refreshed(t, s, first.RefreshToken)
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("rotation hands out a new refresh token")
	}
	// The retired token comes back: someone holds a copy, so the whole
	// session ends, its current token too.
	testkit.Refused(t, s.Refresh(first.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, s.Refresh(second.RefreshToken), http.StatusUnauthorized, "invalid_token")

	sid := s.Claims(t, ginfresh.Refresh, first.RefreshToken).SessionID
	for _, want := range []string{`"msg":"ginfresh: refresh token reuse; session revoked"`, `"sub":"alice"`, `"sid":"` + sid + `"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s: %s", want, logs)
		}
	}
	for _, token := range []string{first.RefreshToken, second.RefreshToken, first.AccessToken} {
		if strings.Contains(logs.String(), token) {
			t.Error("the log holds a token; it must name tokens by jti only")
		}
	}
	other := s.Login(t, "alice")
	testkit.Status(t, s.Refresh(other.RefreshToken), http.StatusOK)
}

func TestWithoutRefreshRotation(t *testing.T) {
	s := keyedServer(t, ginfresh.WithoutRefreshRotation(), ginfresh.WithAccessRevocation())
	tok := s.Login(t, "alice")
	jti := s.Claims(t, ginfresh.Refresh, tok.RefreshToken).ID
	for range 3 {
		s.Clock.Advance(time.Second)
		next := refreshed(t, s, tok.RefreshToken)
		if c := s.Claims(t, ginfresh.Refresh, next.RefreshToken); c.ID != jti {
			t.Fatalf("refresh token jti %q, want the session's one %q", c.ID, jti)
		}
	}
	// Kept, not immortal: a logout still ends it.
	testkit.Status(t, s.Post("/auth/logout", tok.AccessToken, ""), http.StatusNoContent)
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
}

func TestSessionLimits(t *testing.T) {
	t.Run("absolute lifetime", func(t *testing.T) {
		s := keyedServer(t, ginfresh.WithSessionLifetime(48*time.Hour), ginfresh.WithRefreshTTL(24*time.Hour), ginfresh.WithIdleTimeout(24*time.Hour))
		end := s.Clock.Now().Add(48 * time.Hour)
		tok := s.Login(t, "alice").RefreshToken
		for range 3 {
			s.Clock.Advance(15 * time.Hour) // an active user
			tok = refreshed(t, s, tok).RefreshToken
			if exp := s.Claims(t, ginfresh.Refresh, tok).ExpiresAt; exp.After(end) {
				t.Fatalf("refresh token exp %v outlives its session's end %v", exp, end)
			}
		}
		s.Clock.Advance(4 * time.Hour) // 49 h after the login
		testkit.Refused(t, s.Refresh(tok), http.StatusUnauthorized, "invalid_token")
	})
	t.Run("idle timeout", func(t *testing.T) {
		s := keyedServer(t, ginfresh.WithIdleTimeout(time.Hour))
		tok := s.Login(t, "alice").RefreshToken
		s.Clock.Advance(59 * time.Minute)
		tok = refreshed(t, s, tok).RefreshToken
		s.Clock.Advance(61 * time.Minute)
		testkit.Refused(t, s.Refresh(tok), http.StatusUnauthorized, "invalid_token")
	})
	t.Run("expired refresh token", func(t *testing.T) {
		s := keyedServer(t, ginfresh.WithRefreshTTL(time.Hour))
		tok := s.Login(t, "alice").RefreshToken
		s.Clock.Advance(time.Hour)
		testkit.Refused(t, s.Refresh(tok), http.StatusUnauthorized, "invalid_token")
	})
}

// TestRefreshCappedAtSessionEnd: near the session's end, refresh hands out
// tokens that end with it (the access token a leeway earlier, since
// verifiers accept it that much longer), never past it.
func TestRefreshCappedAtSessionEnd(t *testing.T) {
	const leeway = 30 * time.Second
	s := keyedServer(t, ginfresh.WithRefreshTTL(time.Hour), ginfresh.WithSessionLifetime(90*time.Minute), ginfresh.WithIdleTimeout(time.Hour), ginfresh.WithLeeway(leeway))
	end := s.Clock.Now().Truncate(time.Second).Add(90 * time.Minute) // auth_time + lifetime
	tok := s.Login(t, "alice")

	s.Clock.Advance(50 * time.Minute)
	tok = refreshed(t, s, tok.RefreshToken)
	if exp := s.Claims(t, ginfresh.Refresh, tok.RefreshToken).ExpiresAt; !exp.Equal(end) {
		t.Errorf("refresh token exp %v, want the session's end %v", exp, end)
	}
	if want := int64(end.Sub(s.Clock.Now()) / time.Second); tok.RefreshExpiresIn != want {
		t.Errorf("refresh_expires_in %d, want %d", tok.RefreshExpiresIn, want)
	}

	s.Clock.Advance(30 * time.Minute) // 80 min: the access TTL reaches past the end
	tok = refreshed(t, s, tok.RefreshToken)
	if exp := s.Claims(t, ginfresh.Access, tok.AccessToken).ExpiresAt; !exp.Equal(end.Add(-leeway)) {
		t.Errorf("access token exp %v, want the session's end less the leeway, %v", exp, end.Add(-leeway))
	}
	if want := int64(end.Add(-leeway).Sub(s.Clock.Now()) / time.Second); tok.ExpiresIn != want {
		t.Errorf("expires_in %d, want %d", tok.ExpiresIn, want)
	}

	s.Clock.Advance(10 * time.Minute)
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
}

// TestRefreshMintsOnceBeforeRetiring: a refresh mints one token of each
// kind, and mints them before the store retires the presented token, so a
// failure to mint leaves the session as it was and the client's retry is
// a plain refresh, not a replay that ends the session.
func TestRefreshMintsOnceBeforeRetiring(t *testing.T) {
	for _, kind := range []ginfresh.Kind{ginfresh.Access, ginfresh.Refresh} {
		t.Run(kind.String()+" token fails", func(t *testing.T) {
			f := newSignedFormat()
			s := formatServer(t, f)
			tok := s.Login(t, "alice")

			f.failNext.Store(int32(kind))
			w := s.Refresh(tok.RefreshToken)
			testkit.Refused(t, w, http.StatusInternalServerError, "server_error")
			if strings.Contains(w.Body.String(), errSignerDown.Error()) {
				t.Errorf("the answer reveals the cause: %s", w.Body)
			}

			before := f.issued.Load()
			next := refreshed(t, s, tok.RefreshToken)
			if n := f.issued.Load() - before; n != 2 {
				t.Errorf("a refresh minted %d tokens, want 2", n)
			}
			testkit.Status(t, s.Refresh(next.RefreshToken), http.StatusOK)
		})
	}
}

// TestRefreshWithoutAuthTime: a refresh token without auth_time (minted
// by another service with the shared format) refreshes into tokens that
// verify, without an invented auth_time.
func TestRefreshWithoutAuthTime(t *testing.T) {
	f := newSignedFormat()
	store := ginfresh.NewMemoryStore()
	s := formatServer(t, f, ginfresh.WithStore(store))
	now := s.Clock.Now()
	ctx := context.Background()
	err := store.CreateSession(ctx, ginfresh.Session{ID: "sid-1", Subject: "alice", Started: now, IdleUntil: now.Add(time.Hour), Expires: now.Add(24 * time.Hour)}, "rt-1")
	if err != nil {
		t.Fatal(err)
	}
	payload := fmt.Sprintf(`{"sub":"alice","exp":%d,"nbf":%[2]d,"iat":%[2]d,"jti":"rt-1","sid":"sid-1"}`, now.Add(time.Hour).Unix(), now.Unix())
	rt, err := f.Issue(ginfresh.Refresh, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}

	tok := refreshed(t, s, rt)
	c := s.Claims(t, ginfresh.Access, tok.AccessToken)
	if !c.AuthTime.IsZero() || c.SessionID != "sid-1" || c.Fresh {
		t.Errorf("claims %+v: want sid-1, not fresh, no auth_time", c)
	}
	if next := s.Claims(t, ginfresh.Refresh, tok.RefreshToken); !next.AuthTime.IsZero() {
		t.Errorf("refresh token auth_time %v, want none", next.AuthTime)
	}
	testkit.Status(t, s.Refresh(tok.RefreshToken), http.StatusOK)
}

func TestRefreshRefusals(t *testing.T) {
	s := keyedServer(t)
	tok := s.Login(t, "alice")
	for _, tt := range []struct {
		name       string
		req        testkit.Request
		wantStatus int
		wantCode   string
	}{
		{"access token", testkit.Request{Token: tok.AccessToken}, 401, "invalid_token"},
		{"garbage", testkit.Request{Token: "x.y.z"}, 401, "invalid_token"},
		{"no token", testkit.Request{}, 401, "unauthorized"},
		{"two headers", testkit.Request{Header: http.Header{"Authorization": {"Bearer a", "Bearer b"}}}, 400, "invalid_request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Method, tt.req.Path = http.MethodPost, "/auth/refresh"
			testkit.Refused(t, s.Do(tt.req), tt.wantStatus, tt.wantCode)
		})
	}
	testkit.Status(t, s.Refresh(tok.RefreshToken), http.StatusOK)
}

// TestCustomClaimsSurviveRefreshExactly: custom claims are carried byte for
// byte, so a large integer does not come back rounded through a float64.
func TestCustomClaimsSurviveRefreshExactly(t *testing.T) {
	s := bareServer(t, ginfresh.WithAuthenticator(func(*gin.Context, *ginfresh.LoginRequest) (ginfresh.Identity, error) {
		return ginfresh.Identity{Subject: "alice", Custom: map[string]any{
			"uid":   int64(1234567890123456789),
			"roles": []string{"admin", "ops"},
			"org":   map[string]any{"id": "acme", "seats": 12.5},
		}}, nil
	}))
	tok := s.Login(t, "alice")
	for range 2 {
		tok = refreshed(t, s, tok.RefreshToken)
	}
	c := s.Claims(t, ginfresh.Access, tok.AccessToken)
	var uid int64
	var raw json.RawMessage
	var roles []string
	if ok, err := c.Get("uid", &uid); !ok || err != nil || uid != 1234567890123456789 {
		t.Errorf("uid %d (%v, %v): no float64 rounding", uid, ok, err)
	}
	if _, err := c.Get("roles", &roles); err != nil || strings.Join(roles, ",") != "admin,ops" {
		t.Errorf("roles %v (%v)", roles, err)
	}
	if _, err := c.Get("org", &raw); err != nil || string(raw) != `{"id":"acme","seats":12.5}` {
		t.Errorf("org %s (%v)", raw, err)
	}
	if ok, err := c.Get("missing", &uid); ok || err != nil {
		t.Errorf("a missing claim: %v, %v", ok, err)
	}
}

// TestRefreshHookReloadsClaims: with a hook, refreshed tokens carry the
// user's current claims, not those of the login.
func TestRefreshHookReloadsClaims(t *testing.T) {
	var role atomic.Value
	role.Store("admin")
	var seen *ginfresh.Claims
	hook := func(_ *gin.Context, c *ginfresh.Claims) (ginfresh.Identity, error) {
		seen = c
		return ginfresh.Identity{Custom: map[string]any{"role": role.Load(), "scope": "read"}}, nil
	}
	s := keyedServer(t, ginfresh.WithRefreshHook(hook))
	tok := s.Login(t, "alice")
	if seen != nil {
		t.Fatal("the hook ran at login")
	}
	role.Store("viewer") // demoted while logged in
	next := refreshed(t, s, tok.RefreshToken)
	if rt := s.Claims(t, ginfresh.Refresh, tok.RefreshToken); seen == nil || seen.ID != rt.ID || seen.Subject != "alice" {
		t.Fatalf("the hook saw %+v, want the presented refresh token's claims", seen)
	}
	w := s.Get(testkit.Protected, next.AccessToken)
	testkit.Status(t, w, http.StatusOK)
	if got := jsonObject(t, w)["role"]; got != "viewer" {
		t.Errorf("role %v after the reload, want viewer", got)
	}
	testkit.Refused(t, s.Post(testkit.Writer, next.AccessToken, ""), http.StatusForbidden, "insufficient_scope")
	if c := s.Claims(t, ginfresh.Refresh, next.RefreshToken); c.Subject != "alice" {
		t.Errorf("sub %q", c.Subject)
	}
}

// TestRefreshHookEndsSession: a hook answering ErrTokenRevoked (a disabled
// user) ends the session for good, its access tokens too.
func TestRefreshHookEndsSession(t *testing.T) {
	logger, logs := jsonLogger()
	var disabled atomic.Bool
	hook := func(_ *gin.Context, c *ginfresh.Claims) (ginfresh.Identity, error) {
		if disabled.Load() && c.Subject == "alice" {
			return ginfresh.Identity{}, fmt.Errorf("%w: account disabled", ginfresh.ErrTokenRevoked)
		}
		return ginfresh.Identity{Custom: map[string]any{"role": "user"}}, nil
	}
	s := keyedServer(t, ginfresh.WithRefreshHook(hook), ginfresh.WithAccessRevocation(), ginfresh.WithLogger(logger))
	tok, bob := s.Login(t, "alice"), s.Login(t, "bob")
	disabled.Store(true)
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
	if !strings.Contains(logs.String(), `"msg":"ginfresh: session refused by the refresh hook"`) {
		t.Errorf("log %s", logs)
	}
	// Re-enabled, the user must log in again: the session is over.
	disabled.Store(false)
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	if sessions, err := s.Auth.Sessions(context.Background(), "alice"); err != nil || len(sessions) != 0 {
		t.Errorf("sessions %v (%v), want none", sessions, err)
	}
	testkit.Status(t, s.Refresh(bob.RefreshToken), http.StatusOK)
}

// TestRefreshHookFailure: a hook that cannot decide answers 503 and changes
// nothing; the same refresh token works once it can.
func TestRefreshHookFailure(t *testing.T) {
	var down atomic.Bool
	hook := func(*gin.Context, *ginfresh.Claims) (ginfresh.Identity, error) {
		if down.Load() {
			return ginfresh.Identity{}, errors.New("user directory unreachable")
		}
		return ginfresh.Identity{Custom: map[string]any{"role": "user"}}, nil
	}
	s := keyedServer(t, ginfresh.WithRefreshHook(hook), ginfresh.WithAccessRevocation())
	tok := s.Login(t, "alice")
	down.Store(true)
	w := s.Refresh(tok.RefreshToken)
	testkit.Refused(t, w, http.StatusServiceUnavailable, "temporarily_unavailable")
	if strings.Contains(w.Body.String(), "directory") {
		t.Errorf("the answer reveals the cause: %s", w.Body)
	}
	testkit.Status(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	down.Store(false)
	testkit.Status(t, s.Refresh(tok.RefreshToken), http.StatusOK)
}

// TestRefreshHookOtherSubject: a hook that answers another user is the
// app's bug; refusing beats handing one user's session to another.
func TestRefreshHookOtherSubject(t *testing.T) {
	s := keyedServer(t, ginfresh.WithRefreshHook(func(*gin.Context, *ginfresh.Claims) (ginfresh.Identity, error) {
		return ginfresh.Identity{Subject: "mallory"}, nil
	}))
	w := s.Refresh(s.Login(t, "alice").RefreshToken)
	testkit.Refused(t, w, http.StatusInternalServerError, "server_error")
	if strings.Contains(w.Body.String(), "eyJ") || strings.Contains(w.Body.String(), "mallory") {
		t.Errorf("the answer reveals too much: %s", w.Body)
	}
}

// TestRefreshHookAtFreshLogin: the hook also runs at a fresh-login with a
// held token, where only its refusal counts: a disabled user cannot
// upgrade a session with a password that still works.
func TestRefreshHookAtFreshLogin(t *testing.T) {
	// Handlers run on the test's goroutine: plain variables will do.
	var verdict error
	var calls int
	var seen *ginfresh.Claims
	hook := func(_ *gin.Context, c *ginfresh.Claims) (ginfresh.Identity, error) {
		calls++
		seen = c
		return ginfresh.Identity{}, verdict
	}
	s := keyedServer(t, ginfresh.WithRefreshHook(hook), ginfresh.WithAccessRevocation())
	creds := testkit.Credentials("alice", "alice-pw")

	tok := s.Login(t, "alice")
	verdict = errors.New("user directory unreachable")
	testkit.Status(t, s.Post("/auth/fresh-login", tok.AccessToken, creds), http.StatusOK)
	if seen == nil || seen.ID != s.Claims(t, ginfresh.Access, tok.AccessToken).ID {
		t.Errorf("the hook saw %+v, want the held access token's claims", seen)
	}

	calls = 0
	testkit.Status(t, s.Post("/auth/fresh-login", "", creds), http.StatusOK)
	if calls != 0 {
		t.Errorf("the hook ran %d times without a held token", calls)
	}

	verdict = fmt.Errorf("%w: account disabled", ginfresh.ErrTokenRevoked)
	testkit.Refused(t, s.Post("/auth/fresh-login", tok.AccessToken, creds), http.StatusUnauthorized, "invalid_token")
	verdict = nil
	testkit.Refused(t, s.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, s.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
}
