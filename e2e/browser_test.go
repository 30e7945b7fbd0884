package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/example/browser"
)

// clock is the server's time, which the test moves forward instead of
// sleeping until tokens expire. The browser keeps real time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

var users = map[string]string{"alice": "alice-pw", "mallory": "mallory-pw"}

func authenticate(_ *gin.Context, user, pass string) (ginfresh.Identity, error) {
	if pw, ok := users[user]; ok && pw == pass {
		return ginfresh.Identity{Subject: user}, nil
	}
	return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
}

// chromium finds Debian's Chromium. Without it the test skips, except under
// CI=true, where a missing browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("chromium is required under CI=true (apt-get install -y chromium): %v", err)
	}
	t.Skipf("chromium not found (%v); install it with apt-get install -y chromium to run the browser test", err)
	return ""
}

// serve runs h on 127.0.0.1 until the test ends and returns its port.
func serve(t *testing.T, h http.Handler) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// attacker serves the pages of another site. Each holds one form that posts
// to the demo; the test clicks it, as a lured user would.
func attacker(appURL string) http.Handler {
	pages := map[string]string{
		// A sensitive action, from a page the test opens as localhost on
		// another port: the same site, so SameSite=Lax lets the cookies go
		// along, and only the CSRF checks stand in the way.
		"/action": `<form method="post" action="` + appURL + `/browser/protected-fresh">
			<button id="go">Win a prize</button></form>`,
		// A login into the attacker's own account (login CSRF), posted as
		// text/plain so the body parses as JSON and no preflight happens.
		"/login": `<form method="post" enctype="text/plain" action="` + appURL + `/browser/login">
			<input type="hidden" name='{"username":"mallory","password":"mallory-pw","x":"' value='"}'>
			<button id="go">Win a prize</button></form>`,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>prizes</title>%s", body)
	})
}

func newBrowser(t *testing.T, chrome string) context.Context {
	t.Helper()
	dir, err := os.MkdirTemp("", "ginfresh-e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 960),
	)
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 2*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // waits for the browser to exit
		cancelTimeout()
		_ = os.RemoveAll(dir)
	})
	return bctx
}

// step runs browser actions and stops the test on the first error.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v\npage log:\n%s", what, err, pageLog(ctx))
	}
}

// until waits for a JavaScript condition on the page.
func until(cond string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(20*time.Second))(ctx, t)
		return chromedp.Void{}, err
	}
}

func text(id, want string) string {
	return fmt.Sprintf(`document.getElementById(%q).textContent.includes(%q)`, id, want)
}

func pageLog(ctx context.Context) string {
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("log") || document.body).innerText`))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

func cookies(t *testing.T, ctx context.Context, url string) map[string]*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		got[c.Name] = c
	}
	return got
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("out", 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("out", name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: e2e/%s", path)
}

// post sends a request as a script outside the browser would.
func post(t *testing.T, url string, header http.Header) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	return res.StatusCode
}

// startDemo serves the demo on a server clock the test moves forward, and
// returns its URL; middleware runs before the demo's routes.
func startDemo(t *testing.T, middleware ...gin.HandlerFunc) (*browser.Demo, *clock, string) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	clk := &clock{t: time.Now()}
	r := gin.New()
	r.Use(middleware...)
	demo, err := browser.Mount(r, clk.Now,
		ginfresh.WithHMACKey([]byte("e2e-secret-0123456789-0123456789-0123456789")),
		ginfresh.WithAuthenticator(authenticate),
		ginfresh.WithTimeFunc(clk.Now),
		ginfresh.WithAccessRevocation(),
	)
	if err != nil {
		t.Fatal(err)
	}
	return demo, clk, fmt.Sprintf("http://localhost:%d", serve(t, r))
}

// signIn opens the demo page and signs in as alice.
func signIn(t *testing.T, ctx context.Context, app string) {
	t.Helper()
	step(t, ctx, "open the page",
		chromedp.Navigate(app+"/app"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
	)
	step(t, ctx, "sign in",
		chromedp.SetValue(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "alice-pw"),
		chromedp.Click(chromedp.ID("login")),
		until(text("status", "Signed in as alice")),
		until(text("fresh", "fresh: the password was just proved")),
	)
}

// TestBrowserDemo walks the demo page in Chromium: sign-in, a sensitive
// action refused for a stale token, the password asked again, the action
// done, forged requests from other sites refused, sign-out.
func TestBrowserDemo(t *testing.T) {
	chrome := chromium(t)
	demo, clk, app := startDemo(t)
	evil := serve(t, attacker(app))
	ctx := newBrowser(t, chrome)
	signIn(t, ctx, app)

	// What Chromium stored: HttpOnly tokens, a readable CSRF value, all
	// Secure (accepted on http://localhost), SameSite=Lax, host-only.
	jar := cookies(t, ctx, app+browser.RefreshPath+"refresh")
	for _, want := range []struct {
		name, path string
		httpOnly   bool
		ttl        time.Duration
	}{
		{ginfresh.DefaultAccessCookie, "/", true, ginfresh.DefaultAccessTTL},
		{ginfresh.DefaultRefreshCookie, browser.RefreshPath, true, ginfresh.DefaultRefreshTTL},
		{ginfresh.DefaultCSRFCookie, "/", false, ginfresh.DefaultRefreshTTL},
	} {
		c, ok := jar[want.name]
		if !ok {
			t.Fatalf("Chromium did not keep cookie %s; it has %v", want.name, jar)
		}
		left := time.Until(time.Unix(int64(c.Expires), 0))
		if c.Path != want.path || c.HTTPOnly != want.httpOnly || !c.Secure || c.SameSite != network.CookieSameSiteLax ||
			c.Domain != "localhost" || left < want.ttl-time.Minute || left > want.ttl {
			t.Errorf("cookie %s: path %q, HttpOnly %v, Secure %v, SameSite %q, domain %q, expires in %v; want path %q, HttpOnly %v, Secure, Lax, host-only, expiring in %v",
				c.Name, c.Path, c.HTTPOnly, c.Secure, c.SameSite, c.Domain, left, want.path, want.httpOnly, want.ttl)
		}
	}
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(seen, ginfresh.DefaultAccessCookie) || !strings.Contains(seen, ginfresh.DefaultCSRFCookie) {
		t.Errorf("page scripts see %q; want the CSRF cookie only", seen)
	}

	step(t, ctx, "call /protected",
		chromedp.Click(chromedp.ID("call-protected")),
		until(text("log", "GET /protected: 200, user alice, fresh: yes")),
	)

	// Sixteen minutes later the access token has expired. The page
	// refreshes on its own; the new token is not fresh, so the sensitive
	// action is refused until the password is proved again.
	clk.Advance(16 * time.Minute)
	step(t, ctx, "sensitive action with a stale session",
		chromedp.Click(chromedp.ID("sensitive")),
		until(`!document.getElementById("reauth").hidden`),
		until(text("log", "refreshed: a new access token")),
		until(text("log", "sensitive action refused: 401 insufficient_user_authentication")),
		until(text("fresh", "not fresh")),
	)
	if n := demo.Actions(); n != 0 {
		t.Fatalf("%d sensitive actions before re-authentication, want 0", n)
	}
	screenshot(t, ctx, "app-reauth.png")
	step(t, ctx, "re-authenticate",
		chromedp.SendKeys(chromedp.ID("reauth-password"), "alice-pw"),
		chromedp.Click(chromedp.ID("reauth-submit")),
		until(text("result", "Sensitive action done")),
		until(text("fresh", "fresh: the password was just proved")),
	)
	if n := demo.Actions(); n != 1 {
		t.Fatalf("%d sensitive actions after re-authentication, want 1", n)
	}
	screenshot(t, ctx, "app-step-up.png")
	before := cookies(t, ctx, app+browser.RefreshPath+"refresh")

	// Forged requests from other sites, while alice's fresh session lives.
	for _, tt := range []struct {
		name, page string
		wantStatus int64
		refused    int64 // the CSRF refusals counted so far
	}{
		// localhost on another port is the same site: the browser sends
		// the cookies, the cross-origin check refuses.
		{"same-site sensitive action", fmt.Sprintf("http://localhost:%d/action", evil), 403, 1},
		// 127.0.0.1 is another site: SameSite=Lax withholds the cookies.
		{"cross-site sensitive action", fmt.Sprintf("http://127.0.0.1:%d/action", evil), 401, 1},
		// No cookie is needed to log in, so only the cross-origin check
		// keeps the attacker's session out of alice's browser.
		{"cross-site login", fmt.Sprintf("http://127.0.0.1:%d/login", evil), 403, 2},
	} {
		step(t, ctx, tt.name+": open the attacker's page", chromedp.Navigate(tt.page), chromedp.WaitVisible(chromedp.ID("go")))
		res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("go")))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		body, _ := chromedp.Run(ctx, chromedp.Text("body"))
		if res.Status != tt.wantStatus {
			t.Errorf("%s: the demo answered %d %s, want %d", tt.name, res.Status, body, tt.wantStatus)
		}
		if tt.wantStatus == 403 && !strings.Contains(body, "csrf_check_failed") {
			t.Errorf("%s: body %s, want csrf_check_failed", tt.name, body)
		}
		if n := demo.Refused(); n != tt.refused {
			t.Errorf("%s: %d CSRF refusals counted, want %d", tt.name, n, tt.refused)
		}
		if n := demo.Actions(); n != 1 {
			t.Errorf("%s: %d sensitive actions, want still 1", tt.name, n)
		}
	}
	after := cookies(t, ctx, app+browser.RefreshPath+"refresh")
	for name, c := range before {
		if after[name] == nil || after[name].Value != c.Value {
			t.Errorf("cookie %s changed under the forged requests", name)
		}
	}

	step(t, ctx, "back on the page, still alice",
		chromedp.Navigate(app+"/app"),
		until(text("log", "session restored for alice")),
		until(text("status", "Signed in as alice")),
	)
	step(t, ctx, "sign out",
		chromedp.Click(chromedp.ID("logout")),
		until(text("log", "signed out: the session is revoked and the cookies are cleared")),
		until(text("log", "GET /protected after sign-out: 401")),
		until(`!document.getElementById("signed-out").hidden`),
	)
	screenshot(t, ctx, "app-signed-out.png")
	if left := cookies(t, ctx, app+browser.RefreshPath+"refresh"); len(left) != 0 {
		t.Errorf("cookies left after sign-out: %v", left)
	}
	// The refresh token the browser held is dead on the server too.
	refresh, csrf := before[ginfresh.DefaultRefreshCookie].Value, before[ginfresh.DefaultCSRFCookie].Value
	status := post(t, app+"/browser/refresh", http.Header{
		"Cookie":       {ginfresh.DefaultRefreshCookie + "=" + refresh + "; " + ginfresh.DefaultCSRFCookie + "=" + csrf},
		"X-Csrf-Token": {csrf},
	})
	if status != http.StatusUnauthorized {
		t.Errorf("refresh with the signed-out session's token: %d, want 401", status)
	}
	if t.Failed() {
		t.Logf("page log:\n%s", pageLog(ctx))
	}
}
