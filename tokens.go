package ginfresh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
)

// Tokens is what login, refresh and fresh-login answer (RFC 6749 §5.1).
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`

	// sid and jti name the session and the access token in the log.
	sid, jti string

	// What cookie mode needs beyond the strings: the session's CSRF value
	// and when the refresh and CSRF cookies expire (the refresh token's
	// exp); zero leaves the CSRF cookie as it is.
	csrf      string
	cookieExp time.Time
}

var errEmptySubject = errors.New("ginfresh: identity has an empty subject")

// session describes the tokens to mint; zero fields get defaults.
type session struct {
	subject  string
	extra    map[string]any
	fresh    bool
	authTime time.Time
	sid      string
	csrf     string // cookie mode only
}

// claims fills the claims every token shares.
func (a *Auth) claims(s session, id string, now, exp time.Time) *Claims {
	c := &Claims{Fresh: s.fresh, Extra: s.extra}
	c.Subject = s.subject
	c.Issuer = a.issuer
	c.Audience = a.audience
	c.ID = id
	c.IssuedAt = &jwt.NumericDate{Time: now}
	c.NotBefore = &jwt.NumericDate{Time: now}
	c.ExpiresAt = &jwt.NumericDate{Time: exp}
	if !s.authTime.IsZero() { // a refresh token from elsewhere may lack one
		c.AuthTime = &jwt.NumericDate{Time: s.authTime}
	}
	c.CSRF = s.csrf
	return c
}

// mintAccess returns an access token and its jti.
func (a *Auth) mintAccess(s session, now time.Time) (token, jti string, err error) {
	jti = newID()
	token, err = a.format.Issue(AccessToken, a.claims(s, jti, now, now.Add(a.accessTTL)))
	return token, jti, err
}

// startSession opens a refresh-token family and returns its first refresh
// token.
func (a *Auth) startSession(ctx context.Context, s session, now time.Time) (string, error) {
	if s.sid == "" {
		s.sid = newID()
	}
	jti := newID()
	expires := now.Add(a.sessionLifetime)
	token, err := a.mintRefresh(s, jti, now, expires)
	if err != nil {
		return "", err
	}
	if err := a.store.CreateFamily(ctx, s.sid, s.subject, jti, now, now.Add(a.idleTimeout), expires); err != nil {
		return "", fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	return token, nil
}

// refreshExpiry is when a refresh token minted now expires: after the
// refresh TTL, but never past the session's end.
func (a *Auth) refreshExpiry(now, sessionEnd time.Time) time.Time {
	if exp := now.Add(a.refreshTTL); exp.Before(sessionEnd) {
		return exp
	}
	return sessionEnd
}

// mintRefresh mints a refresh token of session s that expires at
// a.refreshExpiry(now, sessionEnd).
func (a *Auth) mintRefresh(s session, jti string, now, sessionEnd time.Time) (string, error) {
	c := a.claims(s, jti, now, a.refreshExpiry(now, sessionEnd))
	c.Fresh = false
	c.SessionID = s.sid
	return a.format.Issue(RefreshToken, c)
}

// login mints a fresh access token and starts a session.
func (a *Auth) login(ctx context.Context, id Identity) (*Tokens, error) {
	if id.Subject == "" {
		return nil, errEmptySubject
	}
	now := a.now()
	s := session{subject: id.Subject, extra: id.Claims, fresh: true, authTime: now, sid: newID(), csrf: a.newCSRF()}
	access, jti, err := a.mintAccess(s, now)
	if err != nil {
		return nil, err
	}
	refresh, err := a.startSession(ctx, s, now)
	if err != nil {
		return nil, err
	}
	t := a.tokens(access, refresh)
	t.sid, t.jti = s.sid, jti
	t.csrf, t.cookieExp = s.csrf, a.refreshExpiry(now, now.Add(a.sessionLifetime))
	return t, nil
}

func (a *Auth) tokens(access, refresh string) *Tokens {
	return &Tokens{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int64(a.accessTTL / time.Second)}
}

// IssueTokens mints a fresh access token and starts a session with its
// first refresh token, as a successful login does: for apps that sign a
// user in another way, for example right after sign-up.
func (a *Auth) IssueTokens(ctx context.Context, id Identity) (*Tokens, error) {
	return a.login(ctx, id)
}

// CreateAccessToken mints an access token for id with auth_time now. Fresh
// tokens should follow a password check only.
func (a *Auth) CreateAccessToken(id Identity, fresh bool) (string, error) {
	if id.Subject == "" {
		return "", errEmptySubject
	}
	now := a.now()
	token, _, err := a.mintAccess(session{subject: id.Subject, extra: id.Claims, fresh: fresh, authTime: now}, now)
	return token, err
}

// CreateRefreshToken starts a session for id and returns its first refresh
// token.
func (a *Auth) CreateRefreshToken(ctx context.Context, id Identity) (string, error) {
	if id.Subject == "" {
		return "", errEmptySubject
	}
	now := a.now()
	return a.startSession(ctx, session{subject: id.Subject, extra: id.Claims, authTime: now}, now)
}

// refresh redeems a verified refresh token: a non-fresh access token and the
// session's next refresh token are minted first, then one atomic store step
// retires the presented token (or, if it was already retired, revokes the
// session). Minting first means a failure to mint changes nothing, so the
// client's retry is not taken for a replay. auth_time is copied, never
// renewed (RFC 9470 §6.1).
func (a *Auth) refresh(ctx context.Context, rt *Claims) (*Tokens, error) {
	if !a.canSign() {
		// A resource server cannot mint what a refresh hands out; refusing
		// before the store step leaves the token redeemable at its issuer
		// even when the two share a store.
		return nil, ErrKeyUnavailable
	}
	now := a.now()
	extra, err := rt.customClaims()
	if err != nil {
		return nil, tokenError(ErrTokenInvalid, err)
	}
	s := session{subject: rt.Subject, extra: extra, sid: rt.SessionID, csrf: rt.CSRF}
	if s.csrf == "" {
		s.csrf = a.newCSRF() // a header-mode session moving to cookies
	}
	if rt.AuthTime != nil {
		s.authTime = rt.AuthTime.Time
	}
	next := rt.ID
	if a.rotation {
		next = newID()
	}
	access, jti, err := a.mintAccess(s, now)
	if err != nil {
		return nil, err
	}
	// The session's end is known only after the store step; until then the
	// refresh token gets the longest life it can have.
	uncapped := now.Add(a.refreshTTL)
	refresh, err := a.mintRefresh(s, next, now, uncapped)
	if err != nil {
		return nil, err
	}
	expires, reused, err := a.store.Rotate(ctx, rt.SessionID, rt.ID, next, now, now.Add(a.idleTimeout))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	case reused:
		return nil, tokenError(ErrTokenReused, nil)
	case expires.IsZero():
		return nil, errRevoked
	}
	if expires.Before(uncapped) {
		// Near the session's end: the token should not outlive it. Should
		// minting fail now, the uncapped token is still safe to hand out,
		// because the store refuses it once the session is over.
		if capped, err := a.mintRefresh(s, next, now, expires); err == nil {
			refresh = capped
		}
	}
	t := a.tokens(access, refresh)
	t.sid, t.jti = s.sid, jti
	t.csrf, t.cookieExp = s.csrf, a.refreshExpiry(now, expires)
	return t, nil
}

// redeem is refresh for a request, logging the outcome with the client's
// address: a replay is the sign of a stolen refresh token.
func (a *Auth) redeem(c *gin.Context, rt *Claims) (*Tokens, error) {
	ctx := c.Request.Context()
	t, err := a.refresh(ctx, rt)
	switch {
	case err == nil:
		a.event(ctx, "refresh", "sub", rt.Subject, "sid", rt.SessionID, "jti", t.jti, "client", a.client(c))
	case errors.Is(err, ErrTokenReused):
		a.alert(ctx, "refresh token reuse; session revoked", "sub", rt.Subject, "sid", rt.SessionID, "jti", rt.ID, "client", a.client(c))
	case errors.Is(err, ErrTokenRevoked):
		a.alert(ctx, "refresh refused: session ended", "sub", rt.Subject, "sid", rt.SessionID, "jti", rt.ID, "client", a.client(c))
	}
	return t, err
}

// RevokeSubject ends every session of subject: refresh tokens issued so far
// are refused, and with [WithAccessRevocation] so are access tokens issued
// so far. Call it after a password change or when an account is disabled.
//
// Tokens say when they were issued to the millisecond, so the revocation
// covers the whole millisecond of the call and returns once the clock has
// passed it: logins after it are new sessions. A test clock must be moved
// on by a millisecond for that.
func (a *Auth) RevokeSubject(ctx context.Context, subject string) error {
	// Tokens carry iat to the millisecond, so the cut falls on the next
	// millisecond boundary: everything minted up to now, in this millisecond
	// too, is caught. Returning only once the clock has reached the cut (at
	// most a millisecond) means a login after this call, such as the one
	// that follows a password change, is never caught.
	cut := a.now().Truncate(time.Millisecond).Add(time.Millisecond)
	until := cut.Add(max(a.sessionLifetime, a.accessTTL) + a.leeway)
	if err := a.store.RevokeSubject(ctx, subject, cut, until); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if wait := cut.Sub(a.now()); wait > 0 && wait <= time.Millisecond {
		time.Sleep(wait)
	}
	a.event(ctx, "sessions revoked", "sub", subject)
	return nil
}
