// Package formattest is the conformance suite every token [ginfresh.Format]
// runs, so that JWT, PASETO and any other format give one flow: the same
// answers from login, refresh, fresh-login, logout, the guards, session
// endings and cookie mode.
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
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
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

const accessTTL = 15 * time.Minute

// Run runs the whole suite.
func Run(t *testing.T, newSetup Factory) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"Login", testLogin},
		{"WholeSecondDates", testDates},
		{"RefreshKeepsAuthTimeAndIsNotFresh", testRefresh},
		{"MaxAge", testMaxAge},
		{"ACRValues", testACR},
		{"Scopes", testScopes},
		{"FreshLogin", testFreshLogin},
		{"FreshLoginWithoutToken", testFreshLoginAlone},
		{"RotationAndReuse", testReuse},
		{"ConcurrentRefreshOneWinner", testConcurrentRefresh},
		{"SessionEndings", testEndings},
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

func (f Factory) server(t *testing.T, opts ...ginfresh.Option) *testkit.Server {
	t.Helper()
	return testkit.NewServer(t, testkit.NewClock(), false, append(append(f(t).Issuer, ginfresh.WithAccessTTL(accessTTL)), opts...)...)
}

func check(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Errorf(format, args...)
	}
}

func testLogin(t *testing.T, f Factory) {
	srv := f.server(t)
	w := srv.Post("/auth/login", "", testkit.Credentials("alice", "alice-pw"))
	testkit.Status(t, w, http.StatusOK)
	check(t, w.Header().Get("Cache-Control") == "no-store", "login answers must not be cached")
	tok := testkit.DecodeTokens(t, w)
	check(t, tok.TokenType == "Bearer", "token_type %q", tok.TokenType)
	check(t, tok.ExpiresIn == int64(accessTTL/time.Second), "expires_in %d", tok.ExpiresIn)
	check(t, tok.RefreshToken != "" && tok.RefreshToken != tok.AccessToken, "a distinct refresh token")

	w = srv.Get(testkit.Protected, tok.AccessToken)
	testkit.Status(t, w, http.StatusOK)
	c := srv.Claims(t, ginfresh.Access, tok.AccessToken)
	rt := srv.Claims(t, ginfresh.Refresh, tok.RefreshToken)
	check(t, strings.Contains(w.Body.String(), `"fresh":true`) && strings.Contains(w.Body.String(), `"role":"admin"`), "protected: %s", w.Body)
	testkit.Status(t, srv.Post(testkit.Sensitive, tok.AccessToken, ""), http.StatusOK)
	check(t, c.SessionID != "" && c.SessionID == rt.SessionID, "both tokens carry the session's sid: %q, %q", c.SessionID, rt.SessionID)
	check(t, c.ID != "" && c.ID != rt.ID, "distinct jti")
	check(t, c.Fresh && !rt.Fresh, "the access token is fresh, the refresh token never")
	check(t, c.ACR == "pwd" && len(c.AMR) == 1 && c.AMR[0] == "pwd", "acr %q amr %v", c.ACR, c.AMR)

	testkit.Refused(t, srv.Post("/auth/login", "", testkit.Credentials("alice", "wrong")), http.StatusUnauthorized, "invalid_credentials")
	testkit.Refused(t, srv.Get(testkit.Protected, ""), http.StatusUnauthorized, "unauthorized")
}

// testDates: every date is a whole second and nbf equals iat, so that
// verifiers comparing iat or nbf with their own clock (PyJWT, jose,
// paseto-ts) take a token the moment it is issued.
func testDates(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	now := srv.Clock.Now().Truncate(time.Second)
	for _, token := range []struct {
		k     ginfresh.Kind
		token string
	}{{ginfresh.Access, tok.AccessToken}, {ginfresh.Refresh, tok.RefreshToken}} {
		c := srv.Claims(t, token.k, token.token)
		for name, d := range map[string]time.Time{"iat": c.IssuedAt, "nbf": c.NotBefore, "exp": c.ExpiresAt, "auth_time": c.AuthTime} {
			check(t, !d.IsZero() && d.Equal(d.Truncate(time.Second)), "%v %s = %v: not a whole second", token.k, name, d)
		}
		check(t, c.IssuedAt.Equal(now) && c.NotBefore.Equal(c.IssuedAt), "%v: iat %v, nbf %v, want both %v", token.k, c.IssuedAt, c.NotBefore, now)
	}
}

func testRefresh(t *testing.T, f Factory) {
	srv := f.server(t)
	login := srv.Login(t, "alice")
	first := srv.Claims(t, ginfresh.Access, login.AccessToken)

	srv.Clock.Advance(time.Minute)
	w := srv.Refresh(login.RefreshToken)
	testkit.Status(t, w, http.StatusOK)
	tok := testkit.DecodeTokens(t, w)
	c := srv.Claims(t, ginfresh.Access, tok.AccessToken)
	check(t, !c.Fresh, "a refreshed token is never fresh")
	check(t, c.AuthTime.Equal(first.AuthTime), "auth_time is copied: got %v, want %v", c.AuthTime, first.AuthTime)
	check(t, c.ACR == first.ACR && c.SessionID == first.SessionID, "acr and sid are copied")
	check(t, c.IssuedAt.After(first.AuthTime), "iat moves on")
	testkit.Status(t, srv.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	testkit.Refused(t, srv.Post(testkit.Sensitive, tok.AccessToken, ""), http.StatusUnauthorized, "insufficient_user_authentication")
}

func testMaxAge(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	srv.Clock.Advance(5*time.Minute - time.Second)
	testkit.Status(t, srv.Post(testkit.Recent, tok.AccessToken, ""), http.StatusOK)
	srv.Clock.Advance(2 * time.Second)
	w := srv.Post(testkit.Recent, tok.AccessToken, "")
	testkit.Refused(t, w, http.StatusUnauthorized, "insufficient_user_authentication")
	check(t, strings.Contains(w.Header().Get("WWW-Authenticate"), "max_age=300"), "challenge %q", w.Header().Get("WWW-Authenticate"))
	testkit.Status(t, srv.Post(testkit.Sensitive, tok.AccessToken, ""), http.StatusOK)
}

func testACR(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	w := srv.Post(testkit.MFA, tok.AccessToken, "")
	testkit.Refused(t, w, http.StatusUnauthorized, "insufficient_user_authentication")
	check(t, strings.Contains(w.Header().Get("WWW-Authenticate"), `acr_values="mfa"`), "challenge %q", w.Header().Get("WWW-Authenticate"))

	body := `{"username":"alice","password":"alice-pw","otp":"` + testkit.OTP + `"}`
	w = srv.Post("/auth/fresh-login", tok.AccessToken, body)
	testkit.Status(t, w, http.StatusOK)
	mfa := testkit.DecodeTokens(t, w).AccessToken
	c := srv.Claims(t, ginfresh.Access, mfa)
	check(t, c.ACR == "mfa" && len(c.AMR) == 2, "acr %q amr %v", c.ACR, c.AMR)
	testkit.Status(t, srv.Post(testkit.MFA, mfa, ""), http.StatusOK)
	testkit.Refused(t, srv.Post("/auth/fresh-login", tok.AccessToken, `{"username":"alice","password":"alice-pw","otp":"000000"}`), http.StatusUnauthorized, "invalid_credentials")
}

func testScopes(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	testkit.Status(t, srv.Post(testkit.Writer, tok.AccessToken, ""), http.StatusOK)
	w := srv.Get(testkit.Admin, tok.AccessToken)
	testkit.Refused(t, w, http.StatusForbidden, "insufficient_scope")
	check(t, strings.Contains(w.Header().Get("WWW-Authenticate"), `scope="admin"`), "challenge %q", w.Header().Get("WWW-Authenticate"))
}

func testFreshLogin(t *testing.T, f Factory) {
	srv := f.server(t)
	login := srv.Login(t, "alice")
	srv.Clock.Advance(time.Minute)
	stale := testkit.DecodeTokens(t, srv.Refresh(login.RefreshToken))
	srv.Clock.Advance(time.Minute)

	testkit.Refused(t, srv.Post("/auth/fresh-login", stale.AccessToken, testkit.Credentials("bob", "bob-pw")), http.StatusForbidden, "access_denied")
	testkit.Refused(t, srv.Post("/auth/fresh-login", stale.AccessToken, testkit.Credentials("alice", "nope")), http.StatusUnauthorized, "invalid_credentials")

	w := srv.Post("/auth/fresh-login", stale.AccessToken, testkit.Credentials("alice", "alice-pw"))
	testkit.Status(t, w, http.StatusOK)
	fresh := testkit.DecodeTokens(t, w)
	check(t, fresh.RefreshToken == "", "fresh-login starts no refresh token")
	c := srv.Claims(t, ginfresh.Access, fresh.AccessToken)
	held := srv.Claims(t, ginfresh.Access, stale.AccessToken)
	check(t, c.Fresh && c.AuthTime.Equal(srv.Clock.Now().Truncate(time.Second)), "fresh, auth_time now: %v", c.AuthTime)
	check(t, c.SessionID == held.SessionID, "the fresh token keeps the session: %q, want %q", c.SessionID, held.SessionID)
	check(t, c.ExpiresAt.Equal(held.ExpiresAt), "the fresh token expires with the one it replaces: %v, want %v", c.ExpiresAt, held.ExpiresAt)
	check(t, fresh.ExpiresIn == int64(held.ExpiresAt.Sub(srv.Clock.Now())/time.Second), "expires_in %d", fresh.ExpiresIn)
	testkit.Status(t, srv.Post(testkit.Sensitive, fresh.AccessToken, ""), http.StatusOK)
	testkit.Status(t, srv.Post(testkit.Recent, fresh.AccessToken, ""), http.StatusOK)

	// A refresh token is no proof of who is asking.
	testkit.Refused(t, srv.Post("/auth/fresh-login", login.RefreshToken, testkit.Credentials("alice", "alice-pw")), http.StatusUnauthorized, "invalid_token")
}

// testFreshLoginAlone: a fresh-login without an access token starts a
// session of its own, listed and revocable like any other.
func testFreshLoginAlone(t *testing.T, f Factory) {
	srv := f.server(t, ginfresh.WithAccessRevocation())
	w := srv.Post("/auth/fresh-login", "", testkit.Credentials("alice", "alice-pw"))
	testkit.Status(t, w, http.StatusOK)
	tok := testkit.DecodeTokens(t, w)
	c := srv.Claims(t, ginfresh.Access, tok.AccessToken)
	check(t, c.Fresh && c.SessionID != "" && tok.RefreshToken == "", "a fresh token of a session of its own")
	sessions, err := srv.Auth.Sessions(context.Background(), "alice")
	check(t, err == nil && len(sessions) == 1 && sessions[0].ID == c.SessionID, "listed: %v %v", sessions, err)
	srv.Clock.Advance(time.Second)
	check(t, srv.Auth.RevokeSession(context.Background(), "alice", c.SessionID) == nil, "revocable")
	testkit.Refused(t, srv.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
}

func testReuse(t *testing.T, f Factory) {
	srv := f.server(t)
	first := srv.Login(t, "alice")
	w := srv.Refresh(first.RefreshToken)
	testkit.Status(t, w, http.StatusOK)
	second := testkit.DecodeTokens(t, w)
	check(t, first.RefreshToken != second.RefreshToken, "rotation hands out a new refresh token")
	testkit.Refused(t, srv.Refresh(first.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, srv.Refresh(second.RefreshToken), http.StatusUnauthorized, "invalid_token")
	other := srv.Login(t, "alice")
	testkit.Status(t, srv.Refresh(other.RefreshToken), http.StatusOK)
}

func testConcurrentRefresh(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	const n = 50
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			switch srv.Refresh(tok.RefreshToken).Code {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusUnauthorized:
				refused.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	check(t, ok.Load() == 1 && refused.Load() == n-1, "%d refreshes won, %d refused; want 1 and %d", ok.Load(), refused.Load(), n-1)
}

// testEndings: each way a session ends refuses its access tokens on the
// next request (with access revocation), and no other session's.
func testEndings(t *testing.T, f Factory) {
	testkit.SessionEndings(t, 0, func(t *testing.T) (a, b *testkit.Server) {
		srv := f.server(t, ginfresh.WithAccessRevocation())
		return srv, srv
	})
}

func testCustomClaims(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	for range 2 {
		srv.Clock.Advance(time.Minute)
		w := srv.Refresh(tok.RefreshToken)
		testkit.Status(t, w, http.StatusOK)
		tok = testkit.DecodeTokens(t, w)
	}
	for _, token := range []struct {
		k     ginfresh.Kind
		token string
	}{{ginfresh.Access, tok.AccessToken}, {ginfresh.Refresh, tok.RefreshToken}} {
		c := srv.Claims(t, token.k, token.token)
		var big json.RawMessage
		ok, err := c.Get("big", &big)
		check(t, err == nil && ok && string(big) == testkit.BigNumber, "big: %s %v %v", big, ok, err)
		typed, err := ginfresh.Custom[struct {
			Scope string `json:"scope"`
			HTML  string `json:"html"`
		}](c)
		check(t, err == nil && typed.Scope == "read write" && typed.HTML == "<b>&</b>", "Custom: %+v %v", typed, err)
		ok, err = c.Get("missing", &big)
		check(t, err == nil && !ok, "a missing claim")
	}
}

func testTypeConfusion(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	testkit.Refused(t, srv.Get(testkit.Protected, tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, srv.Post(testkit.Sensitive, tok.RefreshToken, ""), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, srv.Refresh(tok.AccessToken), http.StatusUnauthorized, "invalid_token")
	for _, tt := range []struct {
		want  ginfresh.Kind
		token string
	}{{ginfresh.Access, tok.RefreshToken}, {ginfresh.Refresh, tok.AccessToken}} {
		_, err := srv.Auth.Verify(context.Background(), tt.want, tt.token)
		check(t, errorsIs(err, ginfresh.ErrWrongTokenType) && errorsIs(err, ginfresh.ErrTokenInvalid), "want %v: %v", tt.want, err)
	}
}

func testExpired(t *testing.T, f Factory) {
	srv := f.server(t)
	tok := srv.Login(t, "alice")
	srv.Clock.Advance(accessTTL - time.Second)
	testkit.Status(t, srv.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	srv.Clock.Advance(time.Second)
	w := srv.Get(testkit.Protected, tok.AccessToken)
	testkit.Refused(t, w, http.StatusUnauthorized, "invalid_token")
	check(t, strings.Contains(w.Body.String(), "expired"), "%s", w.Body)
	_, err := srv.Auth.Verify(context.Background(), ginfresh.Access, tok.AccessToken)
	check(t, errorsIs(err, ginfresh.ErrTokenExpired), "%v", err)
	srv.Clock.Advance(8 * 24 * time.Hour)
	testkit.Refused(t, srv.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
}

func testNotYetValid(t *testing.T, f Factory) {
	// Tokens from a server whose clock runs ahead are refused until then.
	ahead := testkit.NewClock()
	ahead.Advance(time.Hour)
	s := f(t)
	tok := testkit.NewServer(t, ahead, false, s.Issuer...).Login(t, "alice")
	srv := testkit.NewServer(t, testkit.NewClock(), false, s.Issuer...)
	testkit.Refused(t, srv.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
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
			testkit.Refused(t, srv.Get(testkit.Protected, string(b)), http.StatusUnauthorized, "invalid_token")
			testkit.Refused(t, srv.Refresh(string(b)), http.StatusUnauthorized, "invalid_token")
		}
		testkit.Refused(t, srv.Get(testkit.Protected, token[:len(token)-1]), http.StatusUnauthorized, "invalid_token")
	}
}

func testWrongKey(t *testing.T, f Factory) {
	tok := f.server(t).Login(t, "alice")
	other := f.server(t) // the same format with other keys
	testkit.Refused(t, other.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, other.Refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
}

func testResourceServer(t *testing.T, f Factory) {
	s := f(t)
	if s.Verifier == nil {
		t.Skip("the format has no verify-only setup")
	}
	// The two share a store, as an API and its issuer might.
	store := ginfresh.NewMemoryStore()
	issuer := testkit.NewServer(t, testkit.NewClock(), false, append(s.Issuer, ginfresh.WithStore(store))...)
	tok := issuer.Login(t, "alice")
	rs := testkit.NewServer(t, issuer.Clock, true, append(s.Verifier, ginfresh.WithStore(store), ginfresh.WithAccessRevocation())...)

	testkit.Status(t, rs.Get(testkit.Protected, tok.AccessToken), http.StatusOK)
	testkit.Status(t, rs.Post(testkit.Sensitive, tok.AccessToken, ""), http.StatusOK)
	testkit.Refused(t, rs.Get(testkit.Protected, tok.RefreshToken), http.StatusUnauthorized, "invalid_token")
	for _, path := range []string{"/auth/login", "/auth/fresh-login"} {
		testkit.Refused(t, rs.Post(path, "", testkit.Credentials("alice", "alice-pw")), http.StatusNotImplemented, "unsupported")
	}
	testkit.Refused(t, rs.Refresh(tok.RefreshToken), http.StatusNotImplemented, "unsupported")
	testkit.Status(t, issuer.Refresh(tok.RefreshToken), http.StatusOK)
	_, err := rs.Auth.StartSession(context.Background(), ginfresh.Identity{Subject: "alice"})
	check(t, errorsIs(err, ginfresh.ErrCannotIssue), "StartSession on a resource server: %v", err)
	// A logout at the issuer reaches the resource server through the store.
	issuer.Clock.Advance(time.Second)
	testkit.Status(t, issuer.Post("/auth/logout", tok.AccessToken, ""), http.StatusNoContent)
	testkit.Refused(t, rs.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
}

// testCookies runs the flow in cookie mode: the format must not change what
// the cookies carry, how CSRF is enforced or what freshness means.
func testCookies(t *testing.T, f Factory) {
	s := f.server(t, ginfresh.WithCookies("/auth/"))
	b := &testkit.Browser{T: t, H: s.Router, Jar: testkit.Jar{}}
	const access, refresh = "__Host-access-token", "__Secure-refresh-token"

	w := b.Send(http.MethodPost, "/auth/login", testkit.Credentials("alice", "alice-pw"))
	testkit.Status(t, w, http.StatusOK)
	check(t, !strings.Contains(w.Body.String(), "access_token"), "cookie mode keeps tokens out of the body: %s", w.Body)
	for _, name := range []string{access, refresh, testkit.CSRFCookie} {
		if _, ok := b.Jar[name]; !ok {
			t.Fatalf("no %s cookie", name)
		}
	}
	check(t, b.Jar[refresh].Path == "/auth/", "refresh cookie path %q", b.Jar[refresh].Path)
	loginAccess := b.Jar[access].Value
	check(t, s.Claims(t, ginfresh.Access, loginAccess).Fresh, "fresh")

	testkit.Status(t, b.Send(http.MethodGet, testkit.Protected, ""), http.StatusOK)
	testkit.Status(t, b.Send(http.MethodPost, testkit.Sensitive, ""), http.StatusOK)
	b.NoCSRF = true
	testkit.Refused(t, b.Send(http.MethodPost, testkit.Sensitive, ""), http.StatusForbidden, "csrf_check_failed")
	b.NoCSRF = false

	s.Clock.Advance(time.Minute)
	oldRefresh := b.Jar[refresh].Value
	testkit.Status(t, b.Send(http.MethodPost, "/auth/refresh", ""), http.StatusOK)
	refreshed := s.Claims(t, ginfresh.Access, b.Jar[access].Value)
	check(t, !refreshed.Fresh && refreshed.AuthTime.Equal(s.Claims(t, ginfresh.Access, loginAccess).AuthTime), "refreshed: not fresh, same auth_time")
	check(t, oldRefresh != b.Jar[refresh].Value, "the refresh cookie rotates")
	testkit.Refused(t, b.Send(http.MethodPost, testkit.Sensitive, ""), http.StatusUnauthorized, "insufficient_user_authentication")
	testkit.Status(t, b.Send(http.MethodPost, "/auth/fresh-login", testkit.Credentials("alice", "alice-pw")), http.StatusOK)
	testkit.Status(t, b.Send(http.MethodPost, testkit.Sensitive, ""), http.StatusOK)

	// A replayed refresh cookie ends the session and clears the cookies.
	replay := &testkit.Browser{T: t, H: s.Router, Jar: testkit.Jar{}}
	for name, c := range b.Jar {
		replay.Jar[name] = c
	}
	replay.Jar[refresh] = &http.Cookie{Name: refresh, Value: oldRefresh, Path: "/auth/"}
	testkit.Refused(t, replay.Send(http.MethodPost, "/auth/refresh", ""), http.StatusUnauthorized, "invalid_token")
	_, kept := replay.Jar[refresh]
	check(t, !kept, "a dead refresh cookie is cleared")
	testkit.Refused(t, b.Send(http.MethodPost, "/auth/refresh", ""), http.StatusUnauthorized, "invalid_token")

	// Logout of a new session clears every cookie and ends the session.
	b.Jar = testkit.Jar{}
	testkit.Status(t, b.Send(http.MethodPost, "/auth/login", testkit.Credentials("alice", "alice-pw")), http.StatusOK)
	rt := b.Jar[refresh].Value
	testkit.Status(t, b.Send(http.MethodPost, "/auth/logout", ""), http.StatusNoContent)
	check(t, len(b.Jar) == 0, "logout clears the cookies: %v", b.Jar)
	testkit.Refused(t, s.Refresh(rt), http.StatusUnauthorized, "invalid_token")
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
