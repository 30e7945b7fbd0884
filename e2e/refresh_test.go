package e2e

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"
)

// gate counts the refresh requests and, while shut, holds them, so that a
// test can have the page start a second refresh before the first answers.
type gate struct {
	mu      sync.Mutex
	held    chan struct{} // closed to let the held requests go; nil when open
	arrived chan struct{}
	count   atomic.Int64
}

func newGate() *gate { return &gate{arrived: make(chan struct{}, 16)} }

func (g *gate) hold(c *gin.Context) {
	if c.Request.URL.Path != "/browser/refresh" {
		return
	}
	g.count.Add(1)
	g.mu.Lock()
	held := g.held
	g.mu.Unlock()
	if held != nil {
		g.arrived <- struct{}{}
		<-held
	}
}

func (g *gate) shut() { g.mu.Lock(); g.held = make(chan struct{}); g.mu.Unlock() }

func (g *gate) open() { g.mu.Lock(); close(g.held); g.held = nil; g.mu.Unlock() }

// await waits for a held refresh request to arrive.
func (g *gate) await(t *testing.T) {
	t.Helper()
	select {
	case <-g.arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("no refresh request reached the server")
	}
}

// TestBrowserConcurrentRefresh: every tab shares the one refresh cookie,
// which the server rotates, so two refreshes with it at once would read as
// a stolen token and end the session. The page must run them one at a
// time, within a tab and across tabs.
func TestBrowserConcurrentRefresh(t *testing.T) {
	chrome := chromium(t)
	g := newGate()
	app := startDemo(t, g.hold).URL
	tab1 := newBrowser(t, chrome)
	signIn(t, tab1, app, "test", "test")

	if got := eval(t, tab1, "two refreshes in one tab",
		`Promise.all([refresh(), refresh()]).then((ok) => ok.join())`); got != "true,true" {
		t.Errorf("two refreshes in one tab: %s, want true,true\npage log:\n%s", got, pageLog(tab1))
	}
	if n := g.count.Load(); n != 1 {
		t.Errorf("two refreshes in one tab sent %d refresh requests, want 1", n)
	}

	tab2, cancel := chromedp.NewContext(tab1)
	defer cancel()
	step(t, tab2, "open a second tab",
		chromedp.Navigate(app+"/app"),
		until(text("log", "session restored for test")),
	)
	// The second tab asks while the first tab's refresh is on its way, as
	// when the planned refreshes of two tabs fire together.
	g.count.Store(0)
	g.shut()
	eval(t, tab1, "refresh in the first tab", `window.pending = refresh(); ""`)
	g.await(t)
	eval(t, tab2, "refresh in the second tab", `window.pending = refresh(); ""`)
	g.open()
	for i, tab := range []context.Context{tab1, tab2} {
		if got := eval(t, tab, "await the refresh", `window.pending.then(String)`); got != "true" {
			t.Errorf("tab %d: refresh answered %s, want true\npage log:\n%s", i+1, got, pageLog(tab))
		}
	}
	if n := g.count.Load(); n != 1 {
		t.Errorf("two tabs refreshing together sent %d refresh requests, want 1", n)
	}
	step(t, tab2, "the second tab used the first one's refresh",
		until(text("log", "refreshed in another tab")),
	)

	// The session is alive in both tabs: the current cookies still refresh.
	for i, tab := range []context.Context{tab2, tab1} {
		if got := eval(t, tab, "refresh again", `refresh().then(String)`); got != "true" {
			t.Errorf("tab %d: refresh after the concurrent ones: %s, want true\npage log:\n%s", i+1, got, pageLog(tab))
		}
		step(t, tab, "still signed in",
			chromedp.Click(chromedp.ID("call-protected")),
			until(text("log", "GET /protected: 200, user test")),
		)
	}
}
