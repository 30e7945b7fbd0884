package ginfresh

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Cookie mode (see [WithCookies]): the cookies the handlers set and clear.
// The checks that requests relying on them must pass are steps of the token
// pipeline (token.go).

// CSRFHeader is the request header that repeats the CSRF cookie's value.
const CSRFHeader = "X-CSRF-Token"

// cookieConfig is how cookie mode names and scopes its cookies.
//
// The __Host- prefix makes a browser refuse a cookie unless it is Secure,
// has Path=/ and no Domain, so neither plain http nor a sibling subdomain
// can plant or overwrite it. The refresh cookie is scoped to a narrower
// path, which __Host- forbids; __Secure- still demands Secure, and a copy a
// sibling subdomain plants (Domain=parent) is tried and set aside rather
// than believed (see present).
type cookieConfig struct {
	on                    bool // WithCookies: the handlers set cookies
	refreshPath           string
	access, refresh, csrf string
	sameSite              http.SameSite
}

func (cc cookieConfig) withDefaults() cookieConfig {
	cc.access = cmp.Or(cc.access, "__Host-access-token")
	cc.refresh = cmp.Or(cc.refresh, "__Secure-refresh-token")
	cc.csrf = cmp.Or(cc.csrf, "__Host-csrf-token")
	cc.sameSite = cmp.Or(cc.sameSite, http.SameSiteLaxMode)
	return cc
}

// name is the cookie that carries tokens of kind k.
func (cc *cookieConfig) name(k Kind) string {
	if k == Refresh {
		return cc.refresh
	}
	return cc.access
}

// checkBrowser settles the token sources and checks the browser options
// against each other, once every option has run.
func (a *Auth) checkBrowser(c *config) []error {
	cc := &a.cookies
	a.sources = c.sources
	if a.sources == nil {
		a.sources = []TokenSource{FromHeader()}
		if cc.on {
			a.sources = append(a.sources, FromCookie())
		}
	}
	var errs []error
	readsCookies := false
	for _, s := range a.sources {
		readsCookies = readsCookies || s.kind == fromCookie
	}
	if cc.on && !readsCookies {
		errs = append(errs, errors.New("WithCookies sets cookies that no token source reads (add FromCookie to WithTokenSources)"))
	}
	// Options that would do nothing are mistakes to report, not to ignore.
	if c.given["WithCookieSameSite"] && !cc.on {
		errs = append(errs, errors.New("WithCookieSameSite has no effect without WithCookies"))
	}
	if c.given["WithCookieNames"] && !cc.on && !readsCookies {
		errs = append(errs, errors.New("WithCookieNames has no effect without WithCookies or FromCookie"))
	}
	if cc.on && len(cc.refresh) >= 7 && strings.EqualFold(cc.refresh[:7], "__Host-") && cc.refreshPath != "/" {
		errs = append(errs, fmt.Errorf("refresh cookie %s: the __Host- prefix needs the refresh path /, not %s (use __Secure-)", cc.refresh, cc.refreshPath))
	}
	return errs
}

// newCSRF returns a session's CSRF value in cookie mode, "" otherwise.
func (a *Auth) newCSRF() string {
	if !a.cookies.on {
		return ""
	}
	return newID()
}

// setCookies sets the cookies of t. A fresh-login has no refresh token and,
// keeping the session's CSRF value, leaves the CSRF cookie as it is unless
// it made a new value.
func (a *Auth) setCookies(c *gin.Context, t *Tokens) {
	now := a.now()
	a.setCookie(c, a.cookies.access, t.AccessToken, "/", t.accessExp.Sub(now), true)
	if t.RefreshToken != "" {
		a.setCookie(c, a.cookies.refresh, t.RefreshToken, a.cookies.refreshPath, t.refreshExp.Sub(now), true)
	}
	if !t.refreshExp.IsZero() || t.newCSRF {
		// Readable by scripts on purpose: the page copies it into the
		// X-CSRF-Token header. It lives as long as the refresh cookie,
		// since refresh needs it too.
		until := later(t.refreshExp, t.accessExp)
		a.setCookie(c, a.cookies.csrf, t.csrf, "/", until.Sub(now), false)
	}
}

// clearCookies tells the browser to drop every cookie of cookie mode.
func (a *Auth) clearCookies(c *gin.Context) {
	if !a.cookies.on {
		return // cookies set by another instance: their path is unknown here
	}
	a.setCookie(c, a.cookies.access, "", "/", -1, true)
	a.setCookie(c, a.cookies.refresh, "", a.cookies.refreshPath, -1, true)
	a.setCookie(c, a.cookies.csrf, "", "/", -1, false)
}

// clearPlanted asks the browser to drop copies of the refresh cookie that
// another host planted, when the request carried more than one. Their
// Domain and Path are not sent, so it names the likely ones: each parent
// domain of the request's host, at / and at the refresh path. A browser
// ignores what it never stored.
func (a *Auth) clearPlanted(c *gin.Context) {
	if n, _ := countCookie(c.Request, a.cookies.refresh); n < 2 {
		return
	}
	host := c.Request.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if net.ParseIP(host) != nil {
		return // no parent domains
	}
	for {
		_, parent, ok := strings.Cut(host, ".")
		if !ok || !strings.Contains(parent, ".") {
			return // stop above a single-label name, which no cookie may name
		}
		for _, path := range []string{"/", a.cookies.refreshPath} {
			http.SetCookie(c.Writer, &http.Cookie{
				Name: a.cookies.refresh, Path: path, Domain: parent, MaxAge: -1,
				Secure: true, HttpOnly: true, SameSite: a.cookies.sameSite,
			})
		}
		host = parent
	}
}

// setCookie sets one cookie; a negative ttl deletes it.
func (a *Auth) setCookie(c *gin.Context, name, value, path string, ttl time.Duration, httpOnly bool) {
	age := -1
	if ttl >= 0 {
		age = int(maxAge(ttl))
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: age,
		Secure: true, HttpOnly: httpOnly, SameSite: a.cookies.sameSite,
	})
}

// maxAge is ttl in whole seconds, at least 1: Max-Age=0 would delete the
// cookie, and http.Cookie reads MaxAge 0 as no Max-Age at all.
func maxAge(ttl time.Duration) int64 {
	return max(1, int64(ttl/time.Second))
}

// isTokenChar reports whether r may appear in a cookie name (an RFC 9110
// token).
func isTokenChar(r rune) bool {
	if r < 0x21 || r > 0x7e {
		return false
	}
	return !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}
