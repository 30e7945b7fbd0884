package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ginfresh/ginfresh/example/browser"
)

// TestBrowserDevices signs test in on two devices (two browser contexts:
// two cookie jars), lists the devices on the first and signs the second
// out from there. The second's tokens are refused at once and its page
// signs out; the first stays signed in.
func TestBrowserDevices(t *testing.T) {
	chrome := chromium(t)
	srv := startDemo(t)
	app := srv.URL
	b := newBrowser(t, chrome)
	laptop, phone := newDevice(t, b), newDevice(t, b)
	signIn(t, laptop, app, "test", "test")
	signIn(t, phone, app, "test", "test")

	// Each device's session, as the server names it to that device.
	sid := func(ctx context.Context) string {
		return eval(t, ctx, "ask for the session", `call("GET", "protected").then((r) => r.data.sid)`)
	}
	laptopSID, phoneSID := sid(laptop), sid(phone)
	if laptopSID == "" || laptopSID == phoneSID {
		t.Fatalf("session IDs %q and %q; want two different ones", laptopSID, phoneSID)
	}
	if ids := srv.sessions(t, "test"); len(ids) != 2 || !slices.Contains(ids, laptopSID) || !slices.Contains(ids, phoneSID) {
		t.Fatalf("the server holds sessions %v, want the laptop's %s and the phone's %s", ids, laptopSID, phoneSID)
	}
	phoneJar := cookies(t, phone, app+browser.RefreshPath+"refresh")

	step(t, laptop, "list the devices on the laptop",
		chromedp.Click(chromedp.ID("list-devices")),
		until(`document.querySelectorAll("#devices li").length === 2`),
	)
	list, err := chromedp.Run(laptop, chromedp.Evaluate[[]struct {
		SID     string `json:"sid"`
		Text    string `json:"text"`
		SignOut bool   `json:"signOut"`
	}](`[...document.querySelectorAll("#devices li")].map((li) => ({
		sid: li.dataset.sid, text: li.textContent, signOut: !!li.querySelector(".sign-out")}))`))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list {
		this := d.SID == laptopSID
		if this != strings.Contains(d.Text, "(this device)") || this == d.SignOut || (d.SID != laptopSID && d.SID != phoneSID) {
			t.Errorf("device %s listed as %q, sign-out button %v; want the laptop (%s) marked (this device) without one, the phone (%s) unmarked with one",
				d.SID, d.Text, d.SignOut, laptopSID, phoneSID)
		}
	}
	screenshot(t, laptop, "devices-two.png")

	// The laptop has just logged in, so its token is fresh enough to sign
	// a device out without asking for the password again.
	step(t, laptop, "sign the phone out from the laptop",
		chromedp.Click(chromedp.CSS(`#devices li[data-sid="`+phoneSID+`"] .sign-out`)),
		until(text("log", "a device was signed out")),
		until(`document.querySelectorAll("#devices li").length === 1`),
		until(fmt.Sprintf(`document.querySelector("#devices li").dataset.sid === %q`, laptopSID)),
	)
	if asked, _ := chromedp.Run(laptop, chromedp.Evaluate[bool](shown("reauth"))); asked {
		t.Error("the laptop asked for the password again; its token was fresh")
	}
	screenshot(t, laptop, "devices-one.png")
	if n := srv.answers.count(http.MethodDelete, "/browser/sessions/"+phoneSID, http.StatusNoContent); n != 1 {
		t.Errorf("%d DELETE /browser/sessions/<phone> answered 204, want 1", n)
	}
	if ids := srv.sessions(t, "test"); !slices.Equal(ids, []string{laptopSID}) {
		t.Errorf("the server holds sessions %v after the sign-out, want only the laptop's %s", ids, laptopSID)
	}
	// The phone's tokens are dead at once: its access token before it
	// expires (access revocation), its refresh token too.
	if status, body := send(t, http.MethodGet, app+"/browser/protected", withCookies(phoneJar), ""); status != http.StatusUnauthorized {
		t.Errorf("GET /protected with the phone's access token: %d %s, want 401", status, body)
	}
	if status, body := send(t, http.MethodPost, app+"/browser/refresh", withCookies(phoneJar), ""); status != http.StatusUnauthorized {
		t.Errorf("refresh with the phone's refresh token: %d %s, want 401", status, body)
	}

	// On the phone, the next request is refused and the page signs out.
	step(t, phone, "the phone's next request",
		chromedp.Click(chromedp.ID("call-protected")),
		until(text("log", "refresh refused: 401")),
		until(shown("signed-out")),
		until(`document.getElementById("signed-in").hidden`),
	)
	screenshot(t, phone, "devices-signed-out-phone.png")

	// The laptop is still signed in, and its session still refreshes.
	step(t, laptop, "the laptop carries on",
		chromedp.Click(chromedp.ID("call-protected")),
		until(text("log", "GET /protected: 200, user test, fresh: yes")),
	)
	if got := eval(t, laptop, "refresh the laptop", `refresh().then(String)`); got != "true" {
		t.Errorf("the laptop's refresh answered %s, want true\npage log:\n%s", got, pageLog(laptop))
	}
	if ids := srv.sessions(t, "test"); !slices.Equal(ids, []string{laptopSID}) {
		t.Errorf("the server holds sessions %v at the end, want only the laptop's %s", ids, laptopSID)
	}
}
