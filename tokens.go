package ginfresh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Tokens is what login, refresh and fresh-login answer (RFC 6749 §5.1).
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`
}

var errEmptySubject = errors.New("ginfresh: identity has an empty subject")

// session describes the tokens to mint; zero fields get defaults.
type session struct {
	subject  string
	extra    map[string]any
	fresh    bool
	authTime time.Time
	sid      string
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
	c.AuthTime = &jwt.NumericDate{Time: s.authTime}
	return c
}

func (a *Auth) mintAccess(s session, now time.Time) (string, error) {
	return a.format.Issue(AccessToken, a.claims(s, newID(), now, now.Add(a.accessTTL)))
}

// startSession opens a refresh-token family and returns its first refresh
// token.
func (a *Auth) startSession(ctx context.Context, s session, now time.Time) (string, error) {
	s.sid = newID()
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

// mintRefresh mints a refresh token of session s, valid for the refresh TTL
// but never past the session's end.
func (a *Auth) mintRefresh(s session, jti string, now, sessionEnd time.Time) (string, error) {
	exp := now.Add(a.refreshTTL)
	if exp.After(sessionEnd) {
		exp = sessionEnd
	}
	c := a.claims(s, jti, now, exp)
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
	s := session{subject: id.Subject, extra: id.Claims, fresh: true, authTime: now}
	access, err := a.mintAccess(s, now)
	if err != nil {
		return nil, err
	}
	refresh, err := a.startSession(ctx, s, now)
	if err != nil {
		return nil, err
	}
	return a.tokens(access, refresh), nil
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
	return a.mintAccess(session{subject: id.Subject, extra: id.Claims, fresh: fresh, authTime: now}, now)
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

// refresh redeems a verified refresh token: one atomic store step retires it
// (or, if it was already retired, revokes the session), then a non-fresh
// access token and the session's next refresh token are minted. auth_time is
// copied, never renewed (RFC 9470 §6.1).
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
	s := session{subject: rt.Subject, extra: extra, sid: rt.SessionID}
	if rt.AuthTime != nil {
		s.authTime = rt.AuthTime.Time
	}
	next := rt.ID
	if a.rotation {
		next = newID()
	}
	expires, reused, err := a.store.Rotate(ctx, rt.SessionID, rt.ID, next, now, now.Add(a.idleTimeout))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	case reused:
		a.event(ctx, "refresh token reuse; session revoked", "sub", rt.Subject, "sid", rt.SessionID, "jti", rt.ID)
		return nil, tokenError(ErrTokenReused, nil)
	case expires.IsZero():
		return nil, errRevoked
	}
	access, err := a.mintAccess(s, now)
	if err != nil {
		return nil, err
	}
	refresh, err := a.mintRefresh(s, next, now, expires)
	if err != nil {
		return nil, err
	}
	a.event(ctx, "refresh", "sub", rt.Subject, "sid", rt.SessionID)
	return a.tokens(access, refresh), nil
}

// RevokeSubject ends every session of subject: refresh tokens issued so far
// are refused, and with [WithAccessRevocation] so are access tokens issued
// so far. Call it after a password change or when an account is disabled.
func (a *Auth) RevokeSubject(ctx context.Context, subject string) error {
	now := a.now()
	until := now.Add(max(a.sessionLifetime, a.accessTTL) + a.leeway)
	if err := a.store.RevokeSubject(ctx, subject, now, until); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	a.event(ctx, "sessions revoked", "sub", subject)
	return nil
}
