package ginfresh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh/internal/jsonscan"
)

// maxBodySize caps the JSON bodies the handlers read.
const maxBodySize = 16 << 10

// Identity is who a session is for, as an [Authenticator], a login check of
// [Auth.Login] or a [RefreshHook] says.
type Identity struct {
	// Subject becomes the sub claim; it must not be empty.
	Subject string
	// Custom claims go into every token of the session; refresh copies
	// them unless a [RefreshHook] reloads them. A name may not be a
	// registered claim's, in any case. Read them back with [Claims.Get] or
	// [Custom]; the scope claim of [WithScopeClaim] is one of them.
	Custom map[string]any
	// ACR and AMR say how the user authenticated (RFC 9470): a level such
	// as "mfa", and the methods, such as []string{"pwd", "otp"}. Refresh
	// copies them; [ACRValues] guards on ACR.
	ACR string
	AMR []string
	// Reply adds fields to the JSON answer of the login, refresh or
	// fresh-login (the user's profile, say); they never go into a token. A
	// name the answer uses already ("access_token", "expires_in", …) is an
	// error.
	Reply map[string]any
}

// Authenticator checks the credentials of [Auth.LoginHandler] and
// [Auth.FreshLoginHandler]. It returns the Identity to sign in, an error
// wrapping [ErrInvalidCredentials] when the credentials are wrong, or any
// other error when it could not decide (that answers 503, never 401). It
// should take the same time whether or not the user exists.
type Authenticator func(c *gin.Context, req *LoginRequest) (Identity, error)

// RefreshHook reloads the identity behind a session when it refreshes
// (see [WithRefreshHook]); claims are those of the refresh token. It returns
// the identity whose Custom claims (and Reply) the new tokens carry, an
// error wrapping [ErrTokenRevoked] to end the session (a disabled user:
// 401, and with [WithAccessRevocation] the session's access tokens end
// too), or any other error when it could not decide (503, the session lives
// on). At fresh-login it runs with the claims of the access token the
// request carries, and only its refusal counts.
type RefreshHook func(c *gin.Context, claims *Claims) (Identity, error)

// LoginRequest is the JSON body of a login or fresh-login: at most 16 KiB,
// one object naming each member once, with non-empty "username" and
// "password" strings.
type LoginRequest struct {
	Username string
	Password string
	body     string
}

// Field decodes the body's member name (a one-time code, a tenant) into v
// and reports whether the body has it.
func (r *LoginRequest) Field(name string, v any) (bool, error) {
	var raw string
	err := jsonscan.Each(r.body, func(n, val string) error {
		if n == name {
			raw = val
			return errFound
		}
		return nil
	})
	if err != nil && err != errFound {
		return false, err
	}
	if raw == "" {
		return false, nil
	}
	return true, json.Unmarshal([]byte(raw), v)
}

var (
	errNoAuthenticator = fmt.Errorf("%w: no authenticator configured", ErrCannotIssue)
	errNotJSON         = &Error{
		Status: http.StatusUnsupportedMediaType, Code: "invalid_request",
		Description: "The body must be a JSON object sent as application/json.",
		Err:         fmt.Errorf("%w: the body is not application/json", ErrInvalidRequest),
	}
)

// RegisterRoutes mounts POST /login, /refresh, /fresh-login and /logout on
// r, for example a group: auth.RegisterRoutes(router.Group("/auth")).
func (a *Auth) RegisterRoutes(r gin.IRouter) {
	r.POST("/login", a.LoginHandler())
	r.POST("/refresh", a.RefreshHandler())
	r.POST("/fresh-login", a.FreshLoginHandler())
	r.POST("/logout", a.LogoutHandler())
}

// LoginHandler takes a [LoginRequest], checks it with the authenticator and
// answers a fresh access token and a refresh token that starts a new
// session (as cookies with [WithCookies]). A cross-origin browser request
// is refused with [ErrCSRF], and a body that is not application/json with
// 415, so that another site cannot make a visitor's browser log in or spend
// the visitor's login attempts.
func (a *Auth) LoginHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		req, err := a.loginRequest(c)
		if err != nil {
			a.Fail(c, err)
			return
		}
		a.signIn(c, req.Username, func() (Identity, error) { return a.authenticate(c, req) }, false)
	}
}

// FreshLoginHandler takes a [LoginRequest] and answers only a fresh access
// token, for a user who must log in again before a sensitive action. When
// the request also carries an access token, it must be valid and belong to
// the same user (403 otherwise), so a session cannot be upgraded with
// someone else's password, and the new token belongs to its session and
// expires with it. In cookie mode it must carry one. Without one, the fresh
// token starts a session of its own that cannot refresh.
func (a *Auth) FreshLoginHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		req, err := a.loginRequest(c)
		if err != nil {
			a.Fail(c, err)
			return
		}
		a.signIn(c, req.Username, func() (Identity, error) { return a.authenticate(c, req) }, true)
	}
}

// Login signs a user in from the app's own handler, for logins the
// password handler does not cover: a single sign-on callback, a magic
// link, a passkey, a sign-up. check runs under the login throttle for
// account (what the user claims to be, such as an e-mail address, or ""
// when there is nothing to count it under), and returns the identity to
// sign in or an error as an [Authenticator] does. A success starts a
// session and answers exactly as [Auth.LoginHandler] does, cookies and
// CSRF value included; every outcome is logged. Login does not check the
// request's origin: an identity provider's callback comes from another
// site, so protect the handler the way its protocol says (OAuth's state
// parameter, say).
func (a *Auth) Login(c *gin.Context, account string, check func() (Identity, error)) {
	a.signIn(c, account, check, false)
}

// FreshLogin is [Auth.Login] for a re-authentication, as
// [Auth.FreshLoginHandler] answers it: only a fresh access token, for the
// session of the access token the request carries, whose user must be the
// one check returns.
func (a *Auth) FreshLogin(c *gin.Context, account string, check func() (Identity, error)) {
	a.signIn(c, account, check, true)
}

// loginRequest checks that a login comes from a same-origin page (or no
// browser at all) and reads its body.
func (a *Auth) loginRequest(c *gin.Context) (*LoginRequest, error) {
	if a.authenticate == nil {
		return nil, errNoAuthenticator
	}
	if err := a.checkOrigin(c.Request, 0); err != nil {
		return nil, err
	}
	body, err := readJSON(c.Request)
	if err != nil {
		return nil, err
	}
	req := &LoginRequest{body: body}
	for name, dst := range map[string]*string{"username": &req.Username, "password": &req.Password} {
		if _, err := req.Field(name, dst); err != nil || *dst == "" {
			return nil, fmt.Errorf("%w: username and password must be non-empty strings", ErrInvalidRequest)
		}
	}
	return req, nil
}

// signIn throttles and runs check, then answers a new session's tokens or,
// for a fresh-login, a fresh access token.
func (a *Auth) signIn(c *gin.Context, account string, check func() (Identity, error), fresh bool) {
	ctx := c.Request.Context()
	if !a.format.CanIssue() {
		a.Fail(c, ErrCannotIssue)
		return
	}
	var held presented
	if fresh {
		var err error
		if held, err = a.present(c, Access, false); err == nil && held.Claims == nil && a.cookies.on {
			err = fmt.Errorf("%w: fresh-login in cookie mode needs the session's access token", ErrTokenMissing)
		}
		if err != nil {
			a.Fail(c, err)
			return
		}
	}
	try, err := a.throttle.begin(c, account)
	if err != nil {
		a.Fail(c, err)
		return
	}
	id, err := check()
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		a.log.alert(ctx, "login failed", "account", try.account, "client", try.client, "fresh", fresh)
		a.Fail(c, err)
		return
	case err != nil:
		// The check could not decide (a database outage, say): that is not
		// the client's fault and must not read as wrong credentials.
		a.Fail(c, fmt.Errorf("%w: login check: %w", ErrStoreUnavailable, err))
		return
	case id.Subject == "":
		a.Fail(c, errEmptySubject)
		return
	}
	if err := try.succeeded(ctx); err != nil {
		a.Fail(c, err)
		return
	}
	var t *Tokens
	if fresh {
		t, err = a.freshLogin(c, held, id)
	} else {
		t, err = a.startSession(ctx, c, id)
	}
	if err != nil {
		a.Fail(c, err)
		return
	}
	msg := "login"
	if fresh {
		msg = "fresh login"
	}
	a.log.event(ctx, msg, "sub", id.Subject, "sid", t.sid, "jti", t.jti, "acr", id.ACR, "client", try.client)
	a.answer(c, t)
}

// freshLogin mints the fresh access token of a fresh-login. With a held
// token it joins that token's session and expires when the held one would
// have, so a fresh-login never prolongs a session; without one it starts a
// session of access tokens only.
func (a *Auth) freshLogin(c *gin.Context, held presented, id Identity) (*Tokens, error) {
	ctx := c.Request.Context()
	now := a.now()
	g := &grant{subject: id.Subject, custom: id.Custom, acr: id.ACR, amr: id.AMR, authTime: now}
	t := &Tokens{jti: newID()}
	var err error
	if t.reply, err = renderReply(id.Reply); err != nil {
		return nil, err
	}
	if held.Claims != nil {
		if held.Subject != id.Subject {
			a.log.alert(ctx, "fresh-login subject mismatch", "sub", held.Subject, "authenticated", id.Subject, "client", a.throttle.ClientAddress(c))
			return nil, ErrSubjectMismatch
		}
		if a.refreshHook != nil {
			if _, err := a.reload(c, held.Claims); errors.Is(err, ErrTokenRevoked) {
				return nil, err
			}
		}
		g.sid, g.csrf, t.accessExp = held.SessionID, held.csrf, held.ExpiresAt
		if g.csrf == "" && a.cookies.on {
			// A token from header mode: the session gets its CSRF value now.
			g.csrf, t.newCSRF = a.newCSRF(), true
		}
	} else {
		g.sid, t.accessExp = newID(), now.Add(a.accessTTL)
		end := t.accessExp.Add(a.leeway)
		s := Session{ID: g.sid, Subject: id.Subject, Started: now, IdleUntil: end, Expires: end, UserAgent: userAgent(c), Address: a.throttle.ClientAddress(c)}
		if err := a.storeCall(ctx, "create session", func(ctx context.Context) error {
			return a.store.CreateSession(ctx, s, "")
		}); err != nil {
			return nil, err
		}
	}
	t.sid, t.csrf = g.sid, g.csrf
	if t.AccessToken, err = a.mint(Access, g, t.jti, true, now, t.accessExp); err != nil {
		return nil, err
	}
	return a.finish(t, now), nil
}

// RefreshHandler takes a refresh token as Bearer (or in its cookie, see
// [FromCookie]) and answers a non-fresh access token and, with rotation,
// the session's next refresh token.
func (a *Auth) RefreshHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		if err := a.checkOrigin(c.Request, 0); err != nil {
			a.Fail(c, err)
			return
		}
		rt, err := a.present(c, Refresh, true)
		if err == nil && rt.Claims == nil {
			err = ErrTokenMissing
		}
		if err != nil {
			a.failSession(c, rt.from, err)
			return
		}
		t, err := a.refresh(c, rt.Claims)
		client := a.throttle.ClientAddress(c)
		switch {
		case err == nil:
			a.log.event(ctx, "refresh", "sub", rt.Subject, "sid", rt.SessionID, "jti", t.jti, "client", client)
		case errors.Is(err, ErrTokenReused):
			a.log.alert(ctx, "refresh token reuse; session revoked", "sub", rt.Subject, "sid", rt.SessionID, "jti", rt.ID, "client", client)
		case errors.Is(err, ErrTokenRevoked):
			a.log.alert(ctx, "refresh refused: session ended", "sub", rt.Subject, "sid", rt.SessionID, "jti", rt.ID, "client", client)
		}
		if err != nil {
			a.failSession(c, rt.from, err)
			return
		}
		if rt.from == fromCookie {
			a.clearPlanted(c)
		}
		a.answer(c, t)
	}
}

// LogoutHandler ends the session of the token it is given: a refresh or an
// access token, as Bearer or in its cookie. Every token of the session is
// then refused at refresh and, with [WithAccessRevocation], everywhere. It
// answers 204 and, when the token came in a cookie, clears the cookies; a
// session that has already ended is no error, so a retry gets through.
func (a *Auth) LogoutHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		if err := a.checkOrigin(c.Request, 0); err != nil {
			a.Fail(c, err)
			return
		}
		if !a.format.CanIssue() {
			a.Fail(c, ErrCannotIssue)
			return
		}
		p, err := a.present(c, Refresh, true)
		if errors.Is(err, ErrWrongTokenType) || (err == nil && p.Claims == nil) {
			// An access token names the session as well.
			p, err = a.present(c, Access, true)
			if errors.Is(err, ErrTokenRevoked) {
				// A genuine token of a session that has ended (with
				// WithAccessRevocation): a retried logout, whose session
				// is over as it asks.
				if p.from == fromCookie {
					a.clearCookies(c)
					a.clearPlanted(c)
				}
				c.Status(http.StatusNoContent)
				return
			}
		}
		if err == nil && p.Claims == nil {
			err = ErrTokenMissing
		}
		if err != nil {
			a.failSession(c, p.from, err)
			return
		}
		if err := a.revokeSession(ctx, p.Subject, p.SessionID); err != nil && !errors.Is(err, ErrSessionNotFound) {
			a.Fail(c, err)
			return
		}
		a.log.event(ctx, "logout", "sub", p.Subject, "sid", p.SessionID, "jti", p.ID, "client", a.throttle.ClientAddress(c))
		if p.from == fromCookie {
			a.clearCookies(c)
			a.clearPlanted(c)
		}
		c.Status(http.StatusNoContent)
	}
}

// failSession answers err and, when the refused token came from a cookie
// and is dead (invalid, expired, revoked, replayed), clears the cookies so
// the page learns the session is over.
func (a *Auth) failSession(c *gin.Context, from sourceKind, err error) {
	if from == fromCookie && errors.Is(err, ErrTokenInvalid) {
		a.clearCookies(c)
	}
	a.Fail(c, err)
}

// answerNames are the members of a token answer, which Identity.Reply may
// not replace.
var answerNames = []string{"access_token", "refresh_token", "token_type", "expires_in", "refresh_expires_in", "csrf_token"}

// renderReply renders Identity.Reply as members to append to an answer. It
// runs before anything is minted or stored, so a reply that cannot be sent
// changes nothing.
func renderReply(reply map[string]any) ([]byte, error) {
	var b []byte
	for name, v := range reply {
		if slices.Contains(answerNames, name) {
			return nil, fmt.Errorf("ginfresh: Identity.Reply names %q, which the answer uses", name)
		}
		val, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("ginfresh: Identity.Reply %q: %w", name, err)
		}
		b = append(append(jsonscan.AppendString(append(b, ','), name), ':'), val...)
	}
	return b, nil
}

// answer writes t: in cookie mode as cookies plus {"expires_in",
// "refresh_expires_in", "csrf_token"}, else as JSON (RFC 6749 §5.1); with
// the app's Reply fields either way; never to be cached.
func (a *Auth) answer(c *gin.Context, t *Tokens) {
	b := make([]byte, 0, 128+len(t.AccessToken)+len(t.RefreshToken))
	b = append(b, '{')
	field := func(name string) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), name...), '"', ':')
	}
	if !a.cookies.on {
		field("access_token")
		b = jsonscan.AppendString(b, t.AccessToken)
		if t.RefreshToken != "" {
			field("refresh_token")
			b = jsonscan.AppendString(b, t.RefreshToken)
		}
		field("token_type")
		b = append(b, `"Bearer"`...)
	}
	field("expires_in")
	b = strconv.AppendInt(b, t.ExpiresIn, 10)
	if t.RefreshToken != "" {
		field("refresh_expires_in")
		b = strconv.AppendInt(b, t.RefreshExpiresIn, 10)
	}
	if a.cookies.on {
		field("csrf_token")
		b = jsonscan.AppendString(b, t.csrf)
	}
	b = append(append(b, t.reply...), '}')
	h := c.Writer.Header()
	h["Cache-Control"] = []string{"no-store"}
	h["Pragma"] = []string{"no-cache"}
	if a.cookies.on {
		a.setCookies(c, t)
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}

// readJSON reads a body that must be one JSON object of at most
// maxBodySize bytes sent as application/json.
func readJSON(r *http.Request) (string, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return "", errNotJSON
	}
	if r.Body == nil {
		return "", fmt.Errorf("%w: empty body", ErrInvalidRequest)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodySize+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: reading body: %w", ErrInvalidRequest, err)
	case len(body) > maxBodySize:
		return "", fmt.Errorf("%w: body over %d bytes", ErrInvalidRequest, maxBodySize)
	case len(bytes.TrimSpace(body)) == 0:
		return "", fmt.Errorf("%w: empty body", ErrInvalidRequest)
	}
	if err := jsonscan.Object(body); err != nil {
		return "", fmt.Errorf("%w: body is not one JSON object: %w", ErrInvalidRequest, err)
	}
	return string(body), nil
}
