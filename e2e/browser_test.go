package e2e

import (
	"context"
	"fmt"
	"io"
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
	"github.com/ginfresh/ginfresh/example/api"
	"github.com/ginfresh/ginfresh/example/browser"
)

// The cookies of cookie mode and how long they live, as the library names
// and sets them by default.
const (
	accessCookie  = "__Host-access-token"
	refreshCookie = "__Secure-refresh-token"
	csrfCookie    = "__Host-csrf-token"

	accessTTL  = 15 * time.Minute
	refreshTTL = 7 * 24 * time.Hour
)

// clock is the server's time, which the test moves forward instead of
// sleeping until tokens expire. The browser keeps real time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// answers counts what the server answered, by method, path and status, so
// that a test can check from the server's side what a browser got done.
type answers struct {
	mu sync.Mutex
	n  map[string]int
}

func (a *answers) record(c *gin.Context) {
	c.Next()
	key := fmt.Sprintf("%s %s %d", c.Request.Method, c.Request.URL.Path, c.Writer.Status())
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n[key]++
}

// count is how many requests to method and path were answered status.
func (a *answers) count(method, path string, status int) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[fmt.Sprintf("%s %s %d", method, path, status)]
}

// server is the demo as a test runs it.
type server struct {
	*browser.Demo
	clock   *clock
	answers *answers
	URL     string
}

// sessions lists the IDs of user's live sessions, as the server sees them.
func (s *server) sessions(t *testing.T, user string) []string {
	t.Helper()
	list, err := s.Auth.Sessions(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(list))
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
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
	// A login posted as text/plain: the body parses as JSON and no
	// preflight happens.
	login := func(user, password string) string {
		return `<form method="post" enctype="text/plain" action="` + appURL + `/browser/login">
			<input type="hidden" name='{"username":"` + user + `","password":"` + password + `","x":"' value='"}'>
			<button id="go">Win a prize</button></form>`
	}
	pages := map[string]string{
		// A sensitive action, from a page the test opens as localhost on
		// another port: the same site, so SameSite=Lax lets the cookies go
		// along, and only the CSRF checks stand in the way.
		"/action": `<form method="post" action="` + appURL + `/browser/action">
			<button id="go">Win a prize</button></form>`,
		// A login into the attacker's own account (login CSRF).
		"/login": login("user2", "password2"),
		// Guesses at the victim's password, which, if the throttle counted
		// them, would lock the victim out of the account.
		"/lockout": login("user1", "not-the-password"),
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

// newBrowser starts a Chromium of its own for the test and returns the
// context of its first tab.
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

// newDevice opens a tab in a browser context of its own: another device,
// with a cookie jar, storage and locks of its own.
func newDevice(t *testing.T, browserCtx context.Context) context.Context {
	t.Helper()
	step(t, browserCtx, "start the browser") // a browser context needs a running browser
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return ctx
}

// step runs browser actions and stops the test on the first error.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v\npage log:\n%s", what, err, pageLog(ctx))
	}
}

// eval runs a script in the page and awaits the promise it returns.
func eval(t *testing.T, ctx context.Context, what, script string) string {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v\npage log:\n%s", what, err, pageLog(ctx))
	}
	return got
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

func shown(id string) string {
	return fmt.Sprintf(`!document.getElementById(%q).hidden`, id)
}

func pageLog(ctx context.Context) string {
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("log") || document.body).innerText`))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// cookies returns the cookies Chromium would send to url, by name.
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

// send makes a request as a script outside the browser would, and returns
// the status and body of the answer.
func send(t *testing.T, method, url string, header http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// withCookies is a request header carrying the browser's cookies of jar,
// and the CSRF header a page would add.
func withCookies(jar map[string]*network.Cookie) http.Header {
	var pairs []string
	for name, c := range jar {
		pairs = append(pairs, name+"="+c.Value)
	}
	h := http.Header{"Cookie": {strings.Join(pairs, "; ")}}
	if c := jar[csrfCookie]; c != nil {
		h.Set(ginfresh.CSRFHeader, c.Value)
	}
	return h
}

// startDemo serves the demo, with the example's users, on a server clock
// the test moves forward; middleware runs before the demo's routes.
func startDemo(t *testing.T, middleware ...gin.HandlerFunc) *server {
	t.Helper()
	gin.SetMode(gin.TestMode)
	s := &server{clock: &clock{t: time.Now()}, answers: &answers{n: map[string]int{}}}
	r := gin.New()
	r.Use(s.answers.record)
	r.Use(middleware...)
	demo, err := browser.Mount(r, s.clock.Now, api.DemoUsers(),
		ginfresh.WithHMACKey([]byte("e2e-secret-0123456789-0123456789-0123456789")),
		ginfresh.WithTimeFunc(s.clock.Now),
		ginfresh.WithAccessRevocation(),
	)
	if err != nil {
		t.Fatal(err)
	}
	s.Demo = demo
	s.URL = fmt.Sprintf("http://localhost:%d", serve(t, r))
	return s
}

// signIn opens the demo page and signs in with the login form.
func signIn(t *testing.T, ctx context.Context, app, user, password string) {
	t.Helper()
	step(t, ctx, "open the page",
		chromedp.Navigate(app+"/app"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
	)
	step(t, ctx, "sign in as "+user,
		chromedp.SetValue(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login")),
		until(text("status", "Signed in as "+user)),
		until(text("fresh", "fresh: the password was just proved")),
	)
}

// TestBrowserDemo walks the demo page in Chromium: sign-in, a sensitive
// action refused for a stale token, the password asked again, the action
// done, forged requests from other sites refused, sign-out.
func TestBrowserDemo(t *testing.T) {
	chrome := chromium(t)
	srv := startDemo(t)
	app := srv.URL
	evil := serve(t, attacker(app))
	ctx := newBrowser(t, chrome)
	signIn(t, ctx, app, "test", "test")

	// What Chromium stored: HttpOnly tokens, a readable CSRF value, all
	// Secure (accepted on http://localhost), SameSite=Lax, host-only.
	jar := cookies(t, ctx, app+browser.RefreshPath+"refresh")
	for _, want := range []struct {
		name, path string
		httpOnly   bool
		ttl        time.Duration
	}{
		{accessCookie, "/", true, accessTTL},
		{refreshCookie, browser.RefreshPath, true, refreshTTL},
		{csrfCookie, "/", false, refreshTTL},
	} {
		c, ok := jar[want.name]
		if !ok {
			t.Fatalf("Chromium did not keep cookie %s; it has %v", want.name, jar)
		}
		left := time.Until(time.Unix(int64(c.Expires), 0))
		if c.Path != want.path || c.HTTPOnly != want.httpOnly || !c.Secure || c.SameSite != network.CookieSameSiteLax ||
			c.Domain != "localhost" || c.Session || left < want.ttl-time.Minute || left > want.ttl {
			t.Errorf("cookie %s: path %q, HttpOnly %v, Secure %v, SameSite %q, domain %q, session %v, expires in %v; want path %q, HttpOnly %v, Secure, Lax, host-only, expiring in %v",
				c.Name, c.Path, c.HTTPOnly, c.Secure, c.SameSite, c.Domain, c.Session, left, want.path, want.httpOnly, want.ttl)
		}
	}
	if len(jar) != 3 {
		t.Errorf("Chromium keeps %d cookies for the demo, want 3: %v", len(jar), jar)
	}
	// Outside /browser/ the refresh token does not travel.
	if _, ok := cookies(t, ctx, app+"/app")[refreshCookie]; ok {
		t.Errorf("the refresh cookie goes to /app too; want it scoped to %s", browser.RefreshPath)
	}
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(seen, accessCookie) || strings.Contains(seen, refreshCookie) || !strings.Contains(seen, csrfCookie) {
		t.Errorf("page scripts see %q; want the CSRF cookie only", seen)
	}
	if ids := srv.sessions(t, "test"); len(ids) != 1 {
		t.Errorf("the server holds %d sessions for test after one sign-in, want 1", len(ids))
	}

	step(t, ctx, "call /protected",
		chromedp.Click(chromedp.ID("call-protected")),
		until(text("log", "GET /protected: 200, user test, fresh: yes")),
	)

	// Sixteen minutes later the access token has expired. The page
	// refreshes on its own; the new token is not fresh, so the sensitive
	// action is refused until the password is proved again.
	srv.clock.Advance(16 * time.Minute)
	step(t, ctx, "sensitive action with a stale session",
		chromedp.Click(chromedp.ID("sensitive")),
		until(shown("reauth")),
		until(text("log", "refreshed: a new access token")),
		until(text("log", "sensitive action refused: 401 insufficient_user_authentication")),
		until(text("fresh", "not fresh")),
	)
	if n := srv.Actions(); n != 0 {
		t.Fatalf("%d sensitive actions before re-authentication, want 0", n)
	}
	// A fresh login is all the action asks: no one-time code.
	if otp, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](shown("reauth-otp-label"))); otp {
		t.Error("the re-authentication form asks for a one-time code; the sensitive action needs a password only")
	}
	screenshot(t, ctx, "app-reauth.png")
	step(t, ctx, "re-authenticate",
		chromedp.SendKeys(chromedp.ID("reauth-password"), "test"),
		chromedp.Click(chromedp.ID("reauth-submit")),
		until(text("result", "Sensitive action done")),
		until(text("fresh", "fresh: the password was just proved")),
	)
	if n := srv.Actions(); n != 1 {
		t.Fatalf("%d sensitive actions after re-authentication, want 1", n)
	}
	screenshot(t, ctx, "app-step-up.png")
	before := cookies(t, ctx, app+browser.RefreshPath+"refresh")

	// Forged requests from other sites, while test's fresh session lives.
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
		// keeps the attacker's session (user2's) out of test's browser.
		{"cross-site login", fmt.Sprintf("http://127.0.0.1:%d/login", evil), 403, 2},
		{"same-site login", fmt.Sprintf("http://localhost:%d/login", evil), 403, 3},
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
		if n := srv.Refused(); n != tt.refused {
			t.Errorf("%s: %d CSRF refusals counted, want %d", tt.name, n, tt.refused)
		}
		if n := srv.Actions(); n != 1 {
			t.Errorf("%s: %d sensitive actions, want still 1", tt.name, n)
		}
	}
	if ids := srv.sessions(t, "user2"); len(ids) != 0 {
		t.Errorf("the forged logins started %d sessions for user2, want none", len(ids))
	}
	if n := srv.answers.count(http.MethodPost, "/browser/login", http.StatusOK); n != 1 {
		t.Errorf("%d logins succeeded, want 1 (test's own)", n)
	}
	after := cookies(t, ctx, app+browser.RefreshPath+"refresh")
	for name, c := range before {
		if after[name] == nil || after[name].Value != c.Value {
			t.Errorf("cookie %s changed under the forged requests", name)
		}
	}

	step(t, ctx, "back on the page, still test",
		chromedp.Navigate(app+"/app"),
		until(text("log", "session restored for test")),
		until(text("status", "Signed in as test")),
	)
	step(t, ctx, "sign out",
		chromedp.Click(chromedp.ID("logout")),
		until(text("log", "signed out: the session is revoked and the cookies are cleared")),
		until(text("log", "GET /protected after sign-out: 401")),
		until(shown("signed-out")),
	)
	screenshot(t, ctx, "app-signed-out.png")
	if left := cookies(t, ctx, app+browser.RefreshPath+"refresh"); len(left) != 0 {
		t.Errorf("cookies left after sign-out: %v", left)
	}
	// The tokens the browser held are dead on the server too.
	if ids := srv.sessions(t, "test"); len(ids) != 0 {
		t.Errorf("the server holds %d sessions for test after sign-out, want none", len(ids))
	}
	if status, body := send(t, http.MethodPost, app+"/browser/refresh", withCookies(before), ""); status != http.StatusUnauthorized {
		t.Errorf("refresh with the signed-out session's token: %d %s, want 401", status, body)
	}
	if status, body := send(t, http.MethodGet, app+"/browser/protected", withCookies(before), ""); status != http.StatusUnauthorized {
		t.Errorf("GET /protected with the signed-out session's access token: %d %s, want 401", status, body)
	}
	if t.Failed() {
		t.Logf("page log:\n%s", pageLog(ctx))
	}
}
