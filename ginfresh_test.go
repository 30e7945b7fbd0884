package ginfresh_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// hmacTestKey signs the tokens of the servers these tests build.
var hmacTestKey = []byte("ginfresh-root-tests-0123456789-0123456789")

// keyedServer is a testkit server on a fresh clock with the HMAC key, the
// test authenticator (alice/alice-pw, bob/bob-pw, "otp") and opts.
func keyedServer(t testing.TB, opts ...ginfresh.Option) *testkit.Server {
	t.Helper()
	return testkit.NewServer(t, testkit.NewClock(), false, append([]ginfresh.Option{ginfresh.WithHMACKey(hmacTestKey)}, opts...)...)
}

// bareServer is keyedServer without the test authenticator: opts bring
// their own, or none for an app that signs users in with Auth.Login only.
func bareServer(t testing.TB, opts ...ginfresh.Option) *testkit.Server {
	t.Helper()
	return testkit.NewServer(t, testkit.NewClock(), true, append([]ginfresh.Option{ginfresh.WithHMACKey(hmacTestKey)}, opts...)...)
}

// jsonObject decodes an answer's JSON object, so tests can see which
// members it has, not only those ginfresh.Tokens knows.
func jsonObject(t testing.TB, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("%v in %s", err, w.Body)
	}
	return m
}

// memberNames lists an object's member names, sorted.
func memberNames(m map[string]any) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// jsonLogger returns a logger that writes JSON lines into the buffer, for
// tests that check what ginfresh logs (and what it never logs). Handlers
// run on the test's goroutine, so the buffer needs no lock.
func jsonLogger() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return slog.New(slog.NewJSONHandler(&b, nil)), &b
}

// TestFreshTokenFlow walks the whole flow: a login is fresh, a refresh is
// not, and a fresh-login makes the sensitive route reachable again.
func TestFreshTokenFlow(t *testing.T) {
	s := keyedServer(t)
	tok := s.Login(t, "alice")
	if tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 900 {
		t.Fatalf("login answer %+v: want a refresh token, Bearer and 900 s", tok)
	}
	w := s.Get(testkit.Protected, tok.AccessToken)
	testkit.Status(t, w, http.StatusOK)
	if got := jsonObject(t, w)["fresh"]; got != true {
		t.Fatalf("login token fresh = %v, want true", got)
	}
	testkit.Status(t, s.Post(testkit.Sensitive, tok.AccessToken, ""), http.StatusOK)

	s.Clock.Advance(time.Minute)
	w = s.Refresh(tok.RefreshToken)
	testkit.Status(t, w, http.StatusOK)
	refreshed := testkit.DecodeTokens(t, w)
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken {
		t.Fatal("rotation hands out the next refresh token")
	}
	w = s.Get(testkit.Protected, refreshed.AccessToken)
	testkit.Status(t, w, http.StatusOK)
	if got := jsonObject(t, w)["fresh"]; got != false {
		t.Fatalf("refreshed token fresh = %v, want false", got)
	}
	testkit.Refused(t, s.Post(testkit.Sensitive, refreshed.AccessToken, ""), http.StatusUnauthorized, "insufficient_user_authentication")

	w = s.Post("/auth/fresh-login", refreshed.AccessToken, testkit.Credentials("alice", "alice-pw"))
	testkit.Status(t, w, http.StatusOK)
	fresh := testkit.DecodeTokens(t, w)
	if fresh.RefreshToken != "" {
		t.Fatal("fresh-login answers an access token only")
	}
	testkit.Status(t, s.Post(testkit.Sensitive, fresh.AccessToken, ""), http.StatusOK)
}

// TestStartSession: the programmatic login (it replaces CreateAccessToken,
// CreateRefreshToken and IssueTokens) starts a real session, and refuses
// identities that cannot make a token without leaving a session behind.
func TestStartSession(t *testing.T) {
	logger, logs := jsonLogger()
	s := keyedServer(t, ginfresh.WithLogger(logger))
	ctx := context.Background()

	for _, tt := range []struct {
		name string
		id   ginfresh.Identity
	}{
		{"empty subject", ginfresh.Identity{}},
		{"custom claim replaces sub", ginfresh.Identity{Subject: "carol", Custom: map[string]any{"sub": "mallory"}}},
		{"custom claim replaces sid in another case", ginfresh.Identity{Subject: "carol", Custom: map[string]any{"SID": "x"}}},
		{"custom claim that is not JSON", ginfresh.Identity{Subject: "carol", Custom: map[string]any{"ch": make(chan int)}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tok, err := s.Auth.StartSession(ctx, tt.id); err == nil {
				t.Fatalf("got tokens %+v, want an error", tok)
			}
		})
	}
	if got, err := s.Auth.Sessions(ctx, "carol"); err != nil || len(got) != 0 {
		t.Fatalf("refused identities left sessions %v (%v)", got, err)
	}

	tok, err := s.Auth.StartSession(ctx, ginfresh.Identity{Subject: "carol", Custom: map[string]any{"role": "ops"}})
	if err != nil {
		t.Fatal(err)
	}
	access := s.Claims(t, ginfresh.Access, tok.AccessToken)
	rt := s.Claims(t, ginfresh.Refresh, tok.RefreshToken)
	if !access.Fresh || access.Subject != "carol" || access.SessionID == "" || access.SessionID != rt.SessionID {
		t.Fatalf("access %+v, refresh sid %q: want a fresh token of carol's new session", access, rt.SessionID)
	}
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 900 || tok.RefreshExpiresIn != int64(7*24*time.Hour/time.Second) {
		t.Fatalf("lifetimes %+v", tok)
	}
	sessions, err := s.Auth.Sessions(ctx, "carol")
	if err != nil || len(sessions) != 1 || sessions[0].ID != access.SessionID || sessions[0].UserAgent != "" || sessions[0].Address != "" {
		t.Fatalf("sessions %+v (%v): want one, with no client", sessions, err)
	}
	if !strings.Contains(logs.String(), `"msg":"ginfresh: session started"`) {
		t.Fatalf("log lacks the start: %s", logs)
	}

	// The session refreshes through the handler like any login's.
	w := s.Refresh(tok.RefreshToken)
	testkit.Status(t, w, http.StatusOK)
	c := s.Claims(t, ginfresh.Access, testkit.DecodeTokens(t, w).AccessToken)
	var role string
	if ok, err := c.Get("role", &role); !ok || err != nil || role != "ops" || c.Subject != "carol" {
		t.Fatalf("refreshed: sub %q role %q (%v %v)", c.Subject, role, ok, err)
	}
}
