package ginfresh

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

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

// LoginHandler takes {"username","password"}, checks them with the
// authenticator and answers a fresh access token and a refresh token that
// starts a new session.
func (a *Auth) LoginHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
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
		a.event(c.Request.Context(), "login", "sub", id.Subject, "client", c.ClientIP())
		a.answer(c, t)
	}
}

// RefreshHandler takes a refresh token as Bearer and answers a non-fresh
// access token and, with rotation, the session's next refresh token.
func (a *Auth) RefreshHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		token, err := bearerToken(c.Request)
		if err == nil && token == "" {
			err = ErrTokenMissing
		}
		if err != nil {
			a.fail(c, err)
			return
		}
		rt, err := a.Verify(c.Request.Context(), RefreshToken, token)
		if err != nil {
			a.fail(c, err)
			return
		}
		t, err := a.refresh(c.Request.Context(), rt)
		if err != nil {
			a.fail(c, err)
			return
		}
		a.answer(c, t)
	}
}

// FreshLoginHandler takes {"username","password"} and answers only a fresh
// access token, for a user who must prove the password again before a
// sensitive action. When the request also carries an access token, it must
// be valid and belong to the same user (403 otherwise), so a session cannot
// be upgraded with someone else's password.
func (a *Auth) FreshLoginHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		held, err := a.verifyRequest(c)
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
			a.event(c.Request.Context(), "fresh-login subject mismatch", "sub", held.Subject, "client", c.ClientIP())
			a.fail(c, ErrSubjectMismatch)
			return
		}
		if id.Subject == "" {
			a.fail(c, errEmptySubject)
			return
		}
		now := a.now()
		access, err := a.mintAccess(session{subject: id.Subject, extra: id.Claims, fresh: true, authTime: now}, now)
		if err != nil {
			a.fail(c, err)
			return
		}
		a.event(c.Request.Context(), "fresh login", "sub", id.Subject, "client", c.ClientIP())
		a.answer(c, a.tokens(access, ""))
	}
}

// LogoutHandler ends the session of the refresh token it is given, as Bearer
// or as {"refresh_token"} in the body. An access token sent as Bearer is
// revoked too when [WithAccessRevocation] is on. Everything presented is
// verified before anything is revoked. It answers 204.
func (a *Auth) LogoutHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		rt, at, err := a.logoutTokens(c)
		if err != nil {
			a.fail(c, err)
			return
		}
		if at != nil && a.accessRevocation {
			if err := a.store.RevokeToken(ctx, at.ID, at.ExpiresAt.Add(a.leeway)); err != nil {
				a.fail(c, fmt.Errorf("%w: %w", ErrStoreUnavailable, err))
				return
			}
			a.cache.drop(at.token)
			a.event(ctx, "access token revoked", "sub", at.Subject, "jti", at.ID)
		}
		if rt != nil {
			if err := a.store.RevokeFamily(ctx, rt.SessionID); err != nil {
				a.fail(c, fmt.Errorf("%w: %w", ErrStoreUnavailable, err))
				return
			}
			a.event(ctx, "logout", "sub", rt.Subject, "sid", rt.SessionID)
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
// (Bearer or body) and, optionally, an access token as Bearer.
func (a *Auth) logoutTokens(c *gin.Context) (rt, at *presented, err error) {
	ctx := c.Request.Context()
	bearer, err := bearerToken(c.Request)
	if err != nil {
		return nil, nil, err
	}
	var body struct {
		RefreshToken *string `json:"refresh_token"`
	}
	if err := readJSON(c.Request, &body, false); err != nil {
		return nil, nil, err
	}
	if body.RefreshToken != nil {
		claims, err := a.Verify(ctx, RefreshToken, *body.RefreshToken)
		if err != nil {
			return nil, nil, err
		}
		rt = &presented{claims, *body.RefreshToken}
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

// answer writes tokens; they must not be cached (RFC 6749 §5.1).
func (a *Auth) answer(c *gin.Context, t *Tokens) {
	h := c.Writer.Header()
	h["Cache-Control"] = []string{"no-store"}
	h["Pragma"] = []string{"no-cache"}
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
	id, err := a.authenticate(c, *cred.Username, *cred.Password)
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		a.event(c.Request.Context(), "login failed", "client", c.ClientIP())
		return Identity{}, err
	case err != nil:
		// The authenticator could not decide (a database outage, say):
		// that is not the client's fault and must not read as wrong
		// credentials.
		return Identity{}, fmt.Errorf("%w: authenticator: %w", ErrStoreUnavailable, err)
	}
	return id, nil
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
