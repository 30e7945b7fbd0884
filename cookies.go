package ginfresh

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Default cookie names. The __Host- prefix makes a browser refuse the cookie
// unless it is Secure, has Path=/ and no Domain, so neither plain http nor a
// sibling subdomain can plant or overwrite it. The refresh cookie is scoped
// to a narrower path, which __Host- forbids; __Secure- still demands Secure.
const (
	DefaultAccessCookie  = "__Host-access-token"
	DefaultRefreshCookie = "__Secure-refresh-token"
	DefaultCSRFCookie    = "__Host-csrf-token"
)

// CSRFHeader is the request header that repeats the CSRF cookie's value.
const CSRFHeader = "X-CSRF-Token"

// cookieConfig is how cookie mode names and scopes its cookies.
type cookieConfig struct {
	on                    bool // WithCookies: the handlers set cookies
	refreshPath           string
	access, refresh, csrf string
	sameSite              http.SameSite

	namesSet, sameSiteSet, originsSet bool // for New's consistency checks
}

func defaultCookies() cookieConfig {
	return cookieConfig{
		access: DefaultAccessCookie, refresh: DefaultRefreshCookie, csrf: DefaultCSRFCookie,
		sameSite: http.SameSiteLaxMode,
	}
}

// WithCookies is cookie mode, for browser apps: login, refresh and
// fresh-login answer the tokens as cookies, out of reach of page scripts
// (and so of XSS), instead of in the JSON body, and logout clears them.
//
//   - The access token goes in an HttpOnly cookie for every path, the
//     refresh token in an HttpOnly cookie for refreshPath only, each with
//     Max-Age matching the token. All cookies are Secure (browsers accept
//     that on http://localhost too) and SameSite (see [WithCookieSameSite]).
//   - The JSON body says {"expires_in", "refresh_expires_in", "csrf_token"},
//     so the page can plan refreshes; it never holds a token.
//   - Each session gets a random CSRF value, bound into its tokens as the
//     csrf claim and set in a cookie scripts can read. A state-changing
//     request whose token comes from a cookie must repeat it in the
//     X-CSRF-Token header, and must pass [http.CrossOriginProtection]
//     (Sec-Fetch-Site, else Origin against Host; see [WithTrustedOrigins]).
//     A WebSocket handshake whose token comes from a cookie must carry an
//     Origin that is same-origin or trusted.
//     Login, refresh, fresh-login and logout refuse cross-origin browser
//     requests too, so another site cannot log the browser into an account
//     of its choosing.
//   - Fresh-login needs the session's access token (refresh first if it
//     expired), whose CSRF value the new token keeps.
//
// refreshPath must cover the refresh and logout endpoints, because logout
// ends the session the refresh cookie names: "/auth/" when [Auth.RegisterRoutes]
// mounts them on /auth. Choose a path that covers little else, so the
// refresh token is not sent with every API call. Token sources default to
// FromHeader() and FromCookie(). Default: off (tokens in the JSON body).
func WithCookies(refreshPath string) Option {
	return func(a *Auth) error {
		if !strings.HasPrefix(refreshPath, "/") || strings.ContainsFunc(refreshPath, func(r rune) bool { return r < 0x21 || r > 0x7e || r == ';' }) {
			return fmt.Errorf("WithCookies: refresh path %q must start with / and hold no spaces, controls or ';'", refreshPath)
		}
		a.cookies.on, a.cookies.refreshPath = true, refreshPath
		return nil
	}
}

// WithCookieNames renames the access-token, refresh-token and CSRF cookies.
// Keep the __Host- and __Secure- prefixes unless you know why not; a
// __Host- refresh cookie needs the refresh path "/". Default:
// [DefaultAccessCookie], [DefaultRefreshCookie], [DefaultCSRFCookie].
func WithCookieNames(access, refresh, csrf string) Option {
	return func(a *Auth) error {
		for _, name := range []string{access, refresh, csrf} {
			if name == "" || strings.ContainsFunc(name, func(r rune) bool { return !isTokenChar(r) }) {
				return fmt.Errorf("WithCookieNames: %q is not a valid cookie name", name)
			}
		}
		if access == refresh || access == csrf || refresh == csrf {
			return errors.New("WithCookieNames: the three names must differ")
		}
		a.cookies.access, a.cookies.refresh, a.cookies.csrf = access, refresh, csrf
		a.cookies.namesSet = true
		return nil
	}
}

// WithCookieSameSite sets the SameSite attribute of cookie mode's cookies.
// Lax keeps them off cross-site subresource requests and form posts; Strict
// also off links from other sites; None sends them everywhere, leaving only
// the CSRF checks between another site and your routes. Default:
// http.SameSiteLaxMode.
func WithCookieSameSite(mode http.SameSite) Option {
	return func(a *Auth) error {
		switch mode {
		case http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode:
		default:
			return fmt.Errorf("WithCookieSameSite: %d is not Lax, Strict or None", mode)
		}
		a.cookies.sameSite, a.cookies.sameSiteSet = mode, true
		return nil
	}
}

// checkBrowser settles the token sources and checks the browser options
// against each other, once every option has run.
func (a *Auth) checkBrowser() []error {
	cc := &a.cookies
	if a.sources == nil {
		a.sources = []TokenSource{FromHeader()}
		if cc.on {
			a.sources = append(a.sources, FromCookie())
		}
	}
	var errs []error
	readsCookies := a.reads(fromCookie)
	if cc.on && !readsCookies {
		errs = append(errs, errors.New("WithCookies sets cookies that no token source reads (add FromCookie to WithTokenSources)"))
	}
	if cc.sameSiteSet && !cc.on {
		errs = append(errs, errors.New("WithCookieSameSite has no effect without WithCookies"))
	}
	if (cc.namesSet || cc.originsSet) && !cc.on && !readsCookies {
		errs = append(errs, errors.New("WithCookieNames and WithTrustedOrigins need WithCookies or FromCookie"))
	}
	if cc.on && hasPrefixFold(cc.refresh, "__Host-") && cc.refreshPath != "/" {
		errs = append(errs, fmt.Errorf("refresh cookie %s: the __Host- prefix needs the refresh path /, not %s (use __Secure-)", cc.refresh, cc.refreshPath))
	}
	return errs
}

// cookieTokens is the JSON answer of cookie mode: the tokens travel in
// cookies only.
type cookieTokens struct {
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in,omitempty"`
	CSRFToken        string `json:"csrf_token"`
}

// answerCookies sets t's cookies and answers when they expire. A
// fresh-login has no refresh token and, keeping the session's CSRF value,
// leaves the CSRF cookie alone unless it made a new value.
func (a *Auth) answerCookies(c *gin.Context, t *Tokens) {
	now := a.now()
	a.setCookie(c, a.cookies.access, t.AccessToken, "/", a.accessTTL, true)
	body := cookieTokens{ExpiresIn: t.ExpiresIn, CSRFToken: t.csrf}
	if t.RefreshToken != "" {
		ttl := t.cookieExp.Sub(now)
		a.setCookie(c, a.cookies.refresh, t.RefreshToken, a.cookies.refreshPath, ttl, true)
		body.RefreshExpiresIn = maxAge(ttl)
	}
	if !t.cookieExp.IsZero() {
		// Readable by scripts on purpose: the page copies it into the
		// X-CSRF-Token header. It must outlive the access cookie, since
		// refresh needs it too.
		a.setCookie(c, a.cookies.csrf, t.csrf, "/", t.cookieExp.Sub(now), false)
	}
	c.JSON(http.StatusOK, body)
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

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// isTokenChar reports whether r may appear in a cookie name (an RFC 9110
// token).
func isTokenChar(r rune) bool {
	if r < 0x21 || r > 0x7e {
		return false
	}
	return !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}

// logoutCookies verifies the tokens a logout request carries in cookies;
// all nil when it has none. mixed says the request also carries a token in
// the header or the body, which is one method too many. The refresh cookie
// must be valid; a dead access cookie (expired, say) is ignored when the
// refresh cookie names the session, since the browser sent it unasked.
func (a *Auth) logoutCookies(c *gin.Context, mixed bool) (rt, at *presented, err error) {
	r, ctx := c.Request, c.Request.Context()
	refresh, err := cookieValue(r, a.cookies.refresh)
	if err != nil {
		return nil, nil, err
	}
	access, err := cookieValue(r, a.cookies.access)
	switch {
	case err != nil:
		return nil, nil, err
	case refresh == "" && access == "":
		return nil, nil, nil
	case mixed:
		return nil, nil, fmt.Errorf("%w: the token came by two methods at once", ErrInvalidRequest)
	}
	if err := a.checkOrigin(r, fromCookie); err != nil {
		return nil, nil, err
	}
	if refresh != "" {
		claims, err := a.Verify(ctx, RefreshToken, refresh)
		if err == nil {
			err = a.doubleSubmit(r, claims.CSRF)
		}
		if err != nil {
			return nil, nil, err
		}
		rt = &presented{claims, refresh}
	}
	if access != "" {
		claims, err := a.verifyAccess(ctx, access)
		switch {
		case err != nil && rt != nil && errors.Is(err, ErrTokenInvalid):
		case err == nil:
			if err := a.doubleSubmit(r, claims.CSRF); err != nil {
				return nil, nil, err
			}
			at = &presented{claims, access}
		default:
			return nil, nil, err
		}
	}
	if rt == nil && !a.accessRevocation {
		return nil, nil, fmt.Errorf("%w: logout needs the refresh cookie (does its path cover logout?)", ErrInvalidRequest)
	}
	return rt, at, nil
}

// failSession answers err and, when the refused token came from a cookie
// and is dead (invalid, expired, revoked, replayed), clears the cookies so
// the page learns the session is over.
func (a *Auth) failSession(c *gin.Context, from sourceKind, err error) {
	if from == fromCookie && errors.Is(err, ErrTokenInvalid) {
		a.clearCookies(c)
	}
	a.fail(c, err)
}
