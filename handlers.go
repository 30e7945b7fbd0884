package ginfresh

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// MaxBodySize caps the JSON bodies the handlers read.
const MaxBodySize = 16 << 10

// errNoAuthenticator answers login on a resource server, the only kind of
// instance New lets go without an authenticator.
var errNoAuthenticator = fmt.Errorf("%w: no authenticator configured", ErrKeyUnavailable)

// RegisterRoutes mounts POST /login, /refresh, /fresh-login and /logout on r,
// for example a group: auth.RegisterRoutes(router.Group("/auth")).
func (a *Auth) RegisterRoutes(r gin.IRouter) {
	r.POST("/login", a.LoginHandler())
	r.POST("/refresh", a.RefreshHandler())
	r.POST("/fresh-login", a.FreshLoginHandler())
	r.POST("/logout", a.LogoutHandler())
}

// refuse answers err to every request: the session endpoints of an
// instance that only verifies tokens.
func (a *Auth) refuse(err error) gin.HandlerFunc {
	return func(c *gin.Context) { a.fail(c, err) }
}

// LoginHandler takes {"username","password"}, checks them with the
// authenticator and answers a fresh access token and a refresh token that
// starts a new session (as cookies with [WithCookies]).
func (a *Auth) LoginHandler() gin.HandlerFunc {
	if !a.canSign() {
		return a.refuse(ErrKeyUnavailable)
	}
	return func(c *gin.Context) {
		if err := a.checkOrigin(c.Request, 0); err != nil {
			a.fail(c, err)
			return
		}
		id, err := a.checkPassword(c)
		if err != nil {
			a.fail(c, err)
			return
		}
		t, err := a.login(c.Request.Context(), id)
		if err != nil {
			a.fail(c, err)
			return
		}
		a.event(c.Request.Context(), "login", "sub", id.Subject, "sid", t.sid, "jti", t.jti, "client", a.client(c))
		a.WriteTokens(c, t)
	}
}

// RefreshHandler takes a refresh token as Bearer (or in its cookie, see
// [FromCookie]) and answers a non-fresh access token and, with rotation, the
// session's next refresh token.
func (a *Auth) RefreshHandler() gin.HandlerFunc {
	if !a.canSign() {
		return a.refuse(ErrKeyUnavailable)
	}
	return func(c *gin.Context) {
		token, from, err := a.requestToken(c.Request, RefreshToken)
		if err == nil && token == "" {
			err = ErrTokenMissing
		}
		if err == nil {
			err = a.checkOrigin(c.Request, from)
		}
		if err != nil {
			a.fail(c, err)
			return
		}
		rt, err := a.Verify(c.Request.Context(), RefreshToken, token)
		if err == nil && from == fromCookie {
			err = a.doubleSubmit(c.Request, rt.CSRF)
		}
		if err != nil {
			a.failSession(c, from, err)
			return
		}
		t, err := a.redeem(c, rt)
		if err != nil {
			a.failSession(c, from, err)
			return
		}
		a.WriteTokens(c, t)
	}
}

// FreshLoginHandler takes {"username","password"} and answers only a fresh
// access token, for a user who must prove the password again before a
// sensitive action. When the request also carries an access token, it must
// be valid and belong to the same user (403 otherwise), so a session cannot
// be upgraded with someone else's password. In cookie mode it must carry
// one: the new token keeps that session's CSRF value.
func (a *Auth) FreshLoginHandler() gin.HandlerFunc {
	if !a.canSign() {
		return a.refuse(ErrKeyUnavailable)
	}
	return func(c *gin.Context) {
		err := a.checkOrigin(c.Request, 0)
		var held *Claims
		if err == nil {
			held, err = a.verifyRequest(c)
		}
		if err == nil && held == nil && a.cookies.on {
			err = fmt.Errorf("%w: fresh-login in cookie mode needs the session's access token", ErrTokenMissing)
		}
		if err != nil {
			a.fail(c, err)
			return
		}
		id, err := a.checkPassword(c)
		if err != nil {
			a.fail(c, err)
			return
		}
		if held != nil && held.Subject != id.Subject {
			a.alert(c.Request.Context(), "fresh-login subject mismatch", "sub", held.Subject, "authenticated", id.Subject, "client", a.client(c))
			a.fail(c, ErrSubjectMismatch)
			return
		}
		if id.Subject == "" {
			a.fail(c, errEmptySubject)
			return
		}
		now := a.now()
		s := session{subject: id.Subject, extra: id.Claims, fresh: true, authTime: now}
		var cookieExp time.Time
		if held != nil {
			s.csrf = held.CSRF
		}
		if s.csrf == "" && a.cookies.on {
			// A token from header mode: the session gets its CSRF value now.
			s.csrf, cookieExp = a.newCSRF(), now.Add(a.accessTTL)
		}
		access, jti, err := a.mintAccess(s, now)
		if err != nil {
			a.fail(c, err)
			return
		}
		a.event(c.Request.Context(), "fresh login", "sub", id.Subject, "jti", jti, "client", a.client(c))
		t := a.tokens(access, "")
		t.csrf, t.cookieExp = s.csrf, cookieExp
		a.WriteTokens(c, t)
	}
}

// LogoutHandler ends the session of the refresh token it is given, as Bearer,
// as {"refresh_token"} in the body or in its cookie. An access token sent as
// Bearer or in its cookie is revoked too when [WithAccessRevocation] is on.
// Everything presented is verified before anything is revoked. It answers
// 204 and, when the tokens came in cookies, clears them.
func (a *Auth) LogoutHandler() gin.HandlerFunc {
	if !a.canSign() {
		return a.refuse(ErrKeyUnavailable)
	}
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		rt, at, from, err := a.logoutTokens(c)
		if err != nil {
			a.failSession(c, from, err)
			return
		}
		// The session first: revoking it again is harmless, so a retry after
		// a failure here or below gets through, while a revoked access token
		// would fail its own verification.
		if rt != nil {
			if err := a.store.RevokeFamily(ctx, rt.SessionID); err != nil {
				a.fail(c, fmt.Errorf("%w: %w", ErrStoreUnavailable, err))
				return
			}
			a.event(ctx, "logout", "sub", rt.Subject, "sid", rt.SessionID, "jti", rt.ID, "client", a.client(c))
		}
		if at != nil && a.accessRevocation {
			if err := a.store.RevokeToken(ctx, at.ID, a.now(), at.ExpiresAt.Add(a.leeway)); err != nil {
				a.fail(c, fmt.Errorf("%w: %w", ErrStoreUnavailable, err))
				return
			}
			a.cache.drop(at.token)
			a.event(ctx, "access token revoked", "sub", at.Subject, "jti", at.ID, "client", a.client(c))
		}
		if from == fromCookie {
			a.clearCookies(c)
		}
		c.Status(http.StatusNoContent)
	}
}

// presented is a verified token and its text.
type presented struct {
	*Claims
	token string
}

// logoutTokens verifies what a logout request carries: the refresh token
// (Bearer, body or cookie) and, optionally, an access token (Bearer or
// cookie). Cookies do not mix with the header or the body.
func (a *Auth) logoutTokens(c *gin.Context) (rt, at *presented, from sourceKind, err error) {
	var bearer string
	if a.reads(fromHeader) {
		if bearer, err = bearerToken(c.Request); err != nil {
			return nil, nil, 0, err
		}
	}
	var body struct {
		RefreshToken *string `json:"refresh_token"`
	}
	if err := readJSON(c.Request, &body, false); err != nil {
		return nil, nil, 0, err
	}
	if a.reads(fromCookie) {
		rt, at, err := a.logoutCookies(c, bearer != "" || body.RefreshToken != nil)
		if rt != nil || at != nil || err != nil {
			return rt, at, fromCookie, err
		}
	}
	rt, at, err = a.logoutBearer(c, bearer, body.RefreshToken)
	return rt, at, fromHeader, err
}

// logoutBearer verifies the tokens of a logout request that sent no cookie.
func (a *Auth) logoutBearer(c *gin.Context, bearer string, bodyToken *string) (rt, at *presented, err error) {
	ctx := c.Request.Context()
	if bodyToken != nil {
		claims, err := a.Verify(ctx, RefreshToken, *bodyToken)
		if err != nil {
			return nil, nil, err
		}
		rt = &presented{claims, *bodyToken}
	}
	if bearer != "" {
		// Without a body the bearer is the refresh token, or else an access
		// token; with one, it can only be an access token.
		typ, claims, err := AccessToken, (*Claims)(nil), error(nil)
		if rt == nil {
			typ = RefreshToken
			claims, err = a.Verify(ctx, RefreshToken, bearer)
		}
		if typ == AccessToken || errors.Is(err, ErrWrongTokenType) {
			typ = AccessToken
			claims, err = a.verifyAccess(ctx, bearer)
		}
		if err != nil {
			return nil, nil, err
		}
		if typ == RefreshToken {
			rt = &presented{claims, bearer}
		} else {
			at = &presented{claims, bearer}
		}
	}
	switch {
	case rt == nil && bearer == "":
		return nil, nil, ErrTokenMissing
	case rt == nil && !a.accessRevocation:
		return nil, nil, fmt.Errorf("%w: logout needs the refresh token", ErrInvalidRequest)
	}
	return rt, at, nil
}

// errNoTokens refuses to write tokens that cannot work: none at all, or in
// cookie mode tokens without the session's CSRF value, which every
// state-changing request would then fail.
var errNoTokens = errors.New("ginfresh: WriteTokens needs tokens this Auth minted (see IssueTokens)")

// WriteTokens answers t exactly as LoginHandler does: in cookie mode as
// cookies plus {"expires_in", "refresh_expires_in", "csrf_token"}, else as
// the JSON of t; never to be cached (RFC 6749 §5.1). It serves apps that
// sign a user in another way, right after sign-up say, with the tokens of
// [Auth.IssueTokens]. Tokens it cannot deliver get 500 server_error
// through the error handler: nil, or in cookie mode tokens without a CSRF
// value (made by hand, or by an instance without cookie mode).
func (a *Auth) WriteTokens(c *gin.Context, t *Tokens) {
	if t == nil || (a.cookies.on && t.csrf == "") {
		a.fail(c, errNoTokens)
		return
	}
	h := c.Writer.Header()
	h["Cache-Control"] = []string{"no-store"}
	h["Pragma"] = []string{"no-cache"}
	if a.cookies.on {
		a.answerCookies(c, t)
		return
	}
	c.JSON(http.StatusOK, t)
}

type credentials struct {
	Username *string `json:"username"`
	Password *string `json:"password"`
}

// checkPassword reads the credentials and asks the authenticator.
func (a *Auth) checkPassword(c *gin.Context) (Identity, error) {
	var cred credentials
	if err := readJSON(c.Request, &cred, true); err != nil {
		return Identity{}, err
	}
	if cred.Username == nil || *cred.Username == "" || cred.Password == nil || *cred.Password == "" {
		return Identity{}, fmt.Errorf("%w: username and password are required", ErrInvalidRequest)
	}
	if a.authenticate == nil {
		return Identity{}, errNoAuthenticator
	}
	try, err := a.beginAttempt(c, *cred.Username)
	if err != nil {
		return Identity{}, err
	}
	id, err := a.authenticate(c, *cred.Username, *cred.Password)
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		a.alert(c.Request.Context(), "login failed", "account", try.account, "client", try.client)
		return Identity{}, err
	case err != nil:
		// The authenticator could not decide (a database outage, say):
		// that is not the client's fault and must not read as wrong
		// credentials.
		return Identity{}, fmt.Errorf("%w: authenticator: %w", ErrStoreUnavailable, err)
	}
	return id, try.succeeded(c.Request.Context())
}

// readJSON decodes one JSON object of at most MaxBodySize bytes into v. An
// empty body is an error only when required.
func readJSON(r *http.Request, v any, required bool) error {
	if r.Body == nil {
		if required {
			return fmt.Errorf("%w: empty body", ErrInvalidRequest)
		}
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodySize+1))
	if err != nil {
		return fmt.Errorf("%w: reading body: %w", ErrInvalidRequest, err)
	}
	if len(body) > MaxBodySize {
		return fmt.Errorf("%w: body over %d bytes", ErrInvalidRequest, MaxBodySize)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if required {
			return fmt.Errorf("%w: empty body", ErrInvalidRequest)
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: body is not the expected JSON object", ErrInvalidRequest)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON object", ErrInvalidRequest)
	}
	return nil
}
