package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh/example/browser"
)

// logins keeps the login requests the server received, as they came.
type logins struct {
	mu   sync.Mutex
	seen []login
}

type login struct{ contentType, body string }

func (l *logins) capture(c *gin.Context) {
	if c.Request.URL.Path != "/browser/login" {
		return
	}
	body, _ := io.ReadAll(c.Request.Body)
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, login{c.ContentType(), string(body)})
}

func (l *logins) all() []login {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]login(nil), l.seen...)
}

// TestBrowserForgedLoginsDoNotLockOut: another site posts login forms
// naming the victim (user1) with wrong passwords, more often than the login
// throttle allows failures. Were they counted, the victim could not sign in
// for a window; refused as cross-origin before the throttle, they neither
// sign the browser in nor cost the victim an attempt.
func TestBrowserForgedLoginsDoNotLockOut(t *testing.T) {
	const (
		perAccount = 10 // the throttle's default failures per account and client
		forged     = perAccount + 2
	)
	chrome := chromium(t)
	var received logins
	srv := startDemo(t, received.capture)
	app := srv.URL
	evil := serve(t, attacker(app))
	ctx := newBrowser(t, chrome)

	for i := range forged {
		// Half from the same site (localhost on another port), half from
		// another one (127.0.0.1): the cross-origin check refuses both.
		page := fmt.Sprintf("http://127.0.0.1:%d/lockout", evil)
		if i%2 == 0 {
			page = fmt.Sprintf("http://localhost:%d/lockout", evil)
		}
		step(t, ctx, "open the attacker's page", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("go")))
		res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("go")))
		if err != nil {
			t.Fatalf("forged login %d: %v", i+1, err)
		}
		body, _ := chromedp.Run(ctx, chromedp.Text("body"))
		if res.Status != http.StatusForbidden || !strings.Contains(body, "csrf_check_failed") {
			t.Fatalf("forged login %d from %s: the demo answered %d %s, want 403 csrf_check_failed", i+1, page, res.Status, body)
		}
		if i == 0 {
			screenshot(t, ctx, "login-csrf-refused.png")
		}
	}

	// What the browser posted is a real guess at user1's password, which
	// a server reading any body as JSON would have checked and counted.
	got := received.all()
	if len(got) != forged {
		t.Fatalf("the server received %d logins, want %d", len(got), forged)
	}
	for _, l := range got {
		var guess struct{ Username, Password string }
		if err := json.Unmarshal([]byte(l.body), &guess); err != nil || l.contentType != "text/plain" ||
			guess.Username != "user1" || guess.Password != "not-the-password" {
			t.Fatalf("a forged login came as %s %q (%v); want text/plain JSON guessing user1's password", l.contentType, l.body, err)
		}
	}

	// The server's side: every forged post refused by the CSRF check, none
	// reached the authenticator (which would have answered 401), no session
	// began, and the browser holds no cookie of the demo.
	if n := srv.Refused(); n != forged {
		t.Errorf("%d CSRF refusals counted, want %d", n, forged)
	}
	if n := srv.answers.count(http.MethodPost, "/browser/login", http.StatusForbidden); n != forged {
		t.Errorf("%d logins answered 403, want %d", n, forged)
	}
	for _, status := range []int{http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusOK} {
		if n := srv.answers.count(http.MethodPost, "/browser/login", status); n != 0 {
			t.Errorf("%d forged logins answered %d, want none", n, status)
		}
	}
	if ids := srv.sessions(t, "user1"); len(ids) != 0 {
		t.Errorf("the forged logins started %d sessions for user1, want none", len(ids))
	}
	if jar := cookies(t, ctx, app+browser.RefreshPath+"refresh"); len(jar) != 0 {
		t.Errorf("the forged logins left cookies in the browser: %v", jar)
	}

	// The throttle is on and counts this client (127.0.0.1, as the browser
	// is): as many wrong guesses sent as a script would, against another
	// account, lock that account.
	direct := func(user, password string) (int, string) {
		return send(t, http.MethodPost, app+"/browser/login", http.Header{"Content-Type": {"application/json"}},
			fmt.Sprintf(`{"username":%q,"password":%q}`, user, password))
	}
	for i := range perAccount {
		if status, body := direct("user2", "not-the-password"); status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d for user2: %d %s, want 401", i+1, status, body)
		}
	}
	if status, body := direct("user2", "password2"); status != http.StatusTooManyRequests {
		t.Fatalf("user2 after %d wrong passwords: %d %s, want 429 (the throttle must be on for this test to mean anything)", perAccount, status, body)
	}

	// The victim signs in as usual, from the same browser.
	signIn(t, ctx, app, "user1", "password1")
	screenshot(t, ctx, "login-after-forged-logins.png")
	if n := srv.answers.count(http.MethodPost, "/browser/login", http.StatusOK); n != 1 {
		t.Errorf("%d logins succeeded, want 1 (user1's own)", n)
	}
	if ids := srv.sessions(t, "user1"); len(ids) != 1 {
		t.Errorf("the server holds %d sessions for user1, want 1", len(ids))
	}
	step(t, ctx, "the session works",
		chromedp.Click(chromedp.ID("call-protected")),
		until(text("log", "GET /protected: 200, user user1")),
	)
}
