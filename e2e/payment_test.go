package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/ginfresh/ginfresh/example/api"
)

// code is user1's one-time code now, as an authenticator app shows it.
func code(t *testing.T) string {
	t.Helper()
	c, err := totp.GenerateCode(api.DemoTOTPSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode is a code the server refuses now: none of those it accepts
// (the current period and one either side), with a period to spare for
// the time the test takes.
func wrongCode(t *testing.T) string {
	t.Helper()
	var valid []string
	for d := -2; d <= 2; d++ {
		c, err := totp.GenerateCode(api.DemoTOTPSecret, time.Now().Add(time.Duration(d)*30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		valid = append(valid, c)
	}
	for n := 0; ; n++ {
		if c := fmt.Sprintf("%06d", n); !slices.Contains(valid, c) {
			return c
		}
	}
}

// acr is the authentication level of the page's current access token, as
// the server reads it.
func acr(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval(t, ctx, "ask for the token's level", `call("GET", "protected").then((r) => r.data.acr)`)
}

// TestBrowserPaymentStepUp: user1 signs in with a password only, and Pay
// asks for the password and a one-time code, since the route's refusal
// names acr_values="mfa". A wrong code is refused and nothing is paid; the
// right one lifts the login to "mfa" and the payment goes through.
func TestBrowserPaymentStepUp(t *testing.T) {
	chrome := chromium(t)
	srv := startDemo(t)
	app := srv.URL
	ctx := newBrowser(t, chrome)
	signIn(t, ctx, app, "user1", "password1")
	if got := acr(t, ctx); got != "pwd" {
		t.Fatalf("after a password login the token's acr is %q, want pwd", got)
	}
	paid := func() int { return srv.answers.count(http.MethodPost, "/browser/payments", http.StatusOK) }

	step(t, ctx, "pay with a password login",
		chromedp.Click(chromedp.ID("pay")),
		until(text("log", "payment refused: 401 insufficient_user_authentication")),
		until(shown("reauth")),
		until(shown("reauth-otp-label")),
		until(text("reauth-message", "password and a one-time code")),
	)
	if n := srv.answers.count(http.MethodPost, "/browser/payments", http.StatusUnauthorized); n != 1 || paid() != 0 {
		t.Fatalf("payments answered 401 %d times and 200 %d times, want once and never", n, paid())
	}
	screenshot(t, ctx, "payment-code.png")

	step(t, ctx, "confirm with a wrong code",
		chromedp.SendKeys(chromedp.ID("reauth-password"), "password1"),
		chromedp.SendKeys(chromedp.ID("reauth-otp"), wrongCode(t)),
		chromedp.Click(chromedp.ID("reauth-submit")),
		until(text("log", "fresh login refused: 401 invalid_credentials")),
		until(text("reauth-message", "Refused: 401 invalid_credentials")),
		until(shown("reauth")),
	)
	if n := srv.answers.count(http.MethodPost, "/browser/fresh-login", http.StatusUnauthorized); n != 1 {
		t.Errorf("fresh-login answered 401 %d times, want once", n)
	}
	if paid() != 0 {
		t.Fatalf("%d payments after a wrong code, want none", paid())
	}
	if got := acr(t, ctx); got != "pwd" {
		t.Errorf("after a wrong code the token's acr is %q, want still pwd", got)
	}
	screenshot(t, ctx, "payment-wrong-code.png")

	step(t, ctx, "confirm with the right code",
		// The form keeps what was typed: replace it.
		chromedp.SetValue(chromedp.ID("reauth-password"), "password1"),
		chromedp.SetValue(chromedp.ID("reauth-otp"), code(t)),
		chromedp.Click(chromedp.ID("reauth-submit")),
		until(text("result", "Payment done")),
		until(text("log", "payment done with a password and a one-time code")),
		until(`document.getElementById("reauth").hidden`),
	)
	if paid() != 1 {
		t.Errorf("%d payments after the right code, want 1", paid())
	}
	if n := srv.answers.count(http.MethodPost, "/browser/fresh-login", http.StatusOK); n != 1 {
		t.Errorf("fresh-login answered 200 %d times, want once", n)
	}
	if got := acr(t, ctx); got != "mfa" {
		t.Errorf("after the right code the token's acr is %q, want mfa", got)
	}
	screenshot(t, ctx, "payment-done.png")
}
