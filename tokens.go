package ginfresh

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Tokens is what login, refresh and fresh-login answer (RFC 6749 §5.1), and
// what [Auth.StartSession] returns.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds, and
	// RefreshExpiresIn the refresh token's (0 when there is none).
	ExpiresIn        int64 `json:"expires_in"`
	RefreshExpiresIn int64 `json:"refresh_expires_in,omitempty"`

	sid, jti              string    // for the log
	accessExp, refreshExp time.Time // cookie lifetimes
	csrf                  string    // cookie mode: the session's CSRF value
	newCSRF               bool      // a fresh-login drew csrf: set its cookie
	reply                 []byte    // Identity.Reply, rendered: ,"name":value…
}

var errEmptySubject = errors.New("ginfresh: identity has an empty subject")

// grant is what the tokens of a session say about their user.
type grant struct {
	subject  string
	custom   map[string]any
	acr      string
	amr      []string
	authTime time.Time
	sid      string
	csrf     string
}

// mint returns a token of kind k for g with ID jti, issued now and expiring
// at exp. Dates are whole seconds.
func (a *Auth) mint(k Kind, g *grant, jti string, fresh bool, now, exp time.Time) (string, error) {
	c := Claims{
		Subject: g.subject, Issuer: a.issuer, Audience: a.audience, ID: jti,
		IssuedAt: now, NotBefore: now, ExpiresAt: exp, AuthTime: g.authTime,
		SessionID: g.sid, Fresh: fresh && k == Access, ACR: g.acr, AMR: g.amr,
		csrf: g.csrf, custom: g.custom,
	}
	payload, err := c.MarshalJSON()
	if err != nil {
		return "", err
	}
	return a.format.Issue(k, payload)
}

// startSession starts a session for id and mints its first tokens: a fresh
// access token and a refresh token. c, when not nil, describes the client.
func (a *Auth) startSession(ctx context.Context, c *gin.Context, id Identity) (*Tokens, error) {
	if !a.format.CanIssue() {
		return nil, ErrCannotIssue
	}
	if id.Subject == "" {
		return nil, errEmptySubject
	}
	now := a.now()
	g := &grant{subject: id.Subject, custom: id.Custom, acr: id.ACR, amr: id.AMR, authTime: now, sid: newID(), csrf: a.newCSRF()}
	end := now.Add(a.sessionLifetime)
	t := &Tokens{sid: g.sid, jti: newID(), csrf: g.csrf}
	refreshID := newID()
	var err error
	if t.reply, err = renderReply(id.Reply); err != nil {
		return nil, err
	}
	if t.AccessToken, t.accessExp, err = a.mintAccess(g, t.jti, true, now, end); err != nil {
		return nil, err
	}
	if t.RefreshToken, t.refreshExp, err = a.mintRefresh(g, refreshID, now, end); err != nil {
		return nil, err
	}
	s := Session{ID: g.sid, Subject: id.Subject, Started: now, IdleUntil: now.Add(a.idleTimeout), Expires: end}
	if c != nil {
		s.UserAgent, s.Address = userAgent(c), a.throttle.ClientAddress(c)
	}
	if err := a.storeCall(ctx, "create session", func(ctx context.Context) error {
		return a.store.CreateSession(ctx, s, refreshID)
	}); err != nil {
		return nil, err
	}
	return a.finish(t, now), nil
}

// mintAccess mints an access token that lives the access TTL, but never
// past the session's end (minus leeway, during which a verifier still takes
// it), so that no token outlives the record of its session.
func (a *Auth) mintAccess(g *grant, jti string, fresh bool, now, sessionEnd time.Time) (string, time.Time, error) {
	exp := earlier(now.Add(a.accessTTL), sessionEnd.Add(-a.leeway))
	if !exp.After(now) {
		return "", time.Time{}, errRevoked
	}
	tok, err := a.mint(Access, g, jti, fresh, now, exp)
	return tok, exp, err
}

// mintRefresh mints a refresh token that lives the refresh TTL, but never
// past the session's end.
func (a *Auth) mintRefresh(g *grant, jti string, now, sessionEnd time.Time) (string, time.Time, error) {
	exp := earlier(now.Add(a.refreshTTL), sessionEnd)
	tok, err := a.mint(Refresh, g, jti, false, now, exp)
	return tok, exp, err
}

// finish fills in what the answer says about t's lifetimes.
func (a *Auth) finish(t *Tokens, now time.Time) *Tokens {
	t.TokenType = "Bearer"
	t.ExpiresIn = int64(t.accessExp.Sub(now) / time.Second)
	if t.RefreshToken != "" {
		t.RefreshExpiresIn = int64(t.refreshExp.Sub(now) / time.Second)
	}
	return t
}

// refresh redeems a verified refresh token: a non-fresh access token and
// the session's next refresh token are minted first, each once, then one
// atomic store step retires the presented token (or, if it was already
// retired, revokes the session). Minting first means a failure to mint
// changes nothing, so the client's retry is not taken for a replay.
// auth_time, acr and amr are copied, never renewed (RFC 9470 §6.1).
func (a *Auth) refresh(c *gin.Context, rt *Claims) (*Tokens, error) {
	ctx := c.Request.Context()
	if !a.format.CanIssue() {
		// A resource server cannot mint what a refresh hands out; refusing
		// before the store step leaves the token redeemable at its issuer
		// even when the two share a store.
		return nil, ErrCannotIssue
	}
	now := a.now()
	custom, err := rt.customClaims()
	if err != nil {
		return nil, tokenError(ErrTokenInvalid, err)
	}
	g := &grant{subject: rt.Subject, custom: custom, acr: rt.ACR, amr: rt.AMR, authTime: rt.AuthTime, sid: rt.SessionID, csrf: rt.csrf}
	t := &Tokens{sid: rt.SessionID, jti: newID()}
	if g.csrf == "" && a.cookies.on {
		g.csrf = a.newCSRF() // a header-mode session moving to cookies
	}
	t.csrf = g.csrf
	if a.refreshHook != nil {
		id, err := a.reload(c, rt)
		if err != nil {
			return nil, err
		}
		g.custom = id.Custom
		if t.reply, err = renderReply(id.Reply); err != nil {
			return nil, err // before the store step: the token stays redeemable
		}
	}
	// The session began when its user logged in (auth_time, which refresh
	// copies); the store holds the exact end and refuses past it.
	end := now.Add(a.sessionLifetime)
	if !rt.AuthTime.IsZero() {
		end = rt.AuthTime.Add(a.sessionLifetime)
	}
	next := rt.ID
	if a.rotation {
		next = a.unanswered.take(rt.ID, now)
	}
	if t.AccessToken, t.accessExp, err = a.mintAccess(g, t.jti, false, now, end); err != nil {
		return nil, err
	}
	if t.RefreshToken, t.refreshExp, err = a.mintRefresh(g, next, now, end); err != nil {
		return nil, err
	}
	var result RotateResult
	err = a.storeCall(ctx, "rotate", func(ctx context.Context) (err error) {
		result, err = a.store.Rotate(ctx, Rotation{Session: rt.SessionID, Presented: rt.ID, Next: next, Now: now, IdleUntil: now.Add(a.idleTimeout)})
		return err
	})
	if err != nil && a.rotation {
		a.unanswered.remember(rt.ID, next, now) // the store may have rotated
	}
	switch {
	case err != nil:
		return nil, err
	case result == Replayed:
		return nil, tokenError(ErrTokenReused, nil)
	case result != Rotated:
		return nil, errRevoked
	}
	return a.finish(t, now), nil
}

// reload runs the refresh hook for the session of the verified token rt.
// A refusal ([ErrTokenRevoked]) ends the session; any other error leaves it
// be and answers 503.
func (a *Auth) reload(c *gin.Context, rt *Claims) (Identity, error) {
	id, err := a.refreshHook(c, rt)
	switch {
	case errors.Is(err, ErrTokenRevoked):
		ctx := c.Request.Context()
		if err := a.revokeSession(ctx, rt.Subject, rt.SessionID); err != nil && !errors.Is(err, ErrSessionNotFound) {
			return Identity{}, err
		}
		a.log.alert(ctx, "session refused by the refresh hook", "sub", rt.Subject, "sid", rt.SessionID, "client", a.throttle.ClientAddress(c))
		return Identity{}, tokenError(ErrTokenRevoked, err)
	case err != nil:
		return Identity{}, fmt.Errorf("%w: refresh hook: %w", ErrStoreUnavailable, err)
	case id.Subject != "" && id.Subject != rt.Subject:
		return Identity{}, fmt.Errorf("ginfresh: the refresh hook answered subject %q for a session of %q", id.Subject, rt.Subject)
	}
	return id, nil
}

// storeCall runs one store call within the store timeout, and logs it if
// it fails.
func (a *Auth) storeCall(ctx context.Context, op string, call func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, a.storeTimeout)
	defer cancel()
	err := call(ctx)
	if err == nil || errors.Is(err, ErrTokenRevoked) || errors.Is(err, ErrSessionNotFound) {
		return err
	}
	return a.log.storeFailed(ctx, op, err)
}

// userAgent is the request's User-Agent, cut to 256 bytes on a character
// boundary.
func userAgent(c *gin.Context) string {
	ua := strings.ToValidUTF8(c.Request.UserAgent(), "\uFFFD")
	if len(ua) <= 256 {
		return ua
	}
	ua = ua[:256]
	for len(ua) > 0 && !utf8.ValidString(ua) {
		ua = ua[:len(ua)-1] // a character cut in two
	}
	return ua
}
