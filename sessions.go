package ginfresh

import (
	"context"
	"time"
)

// StartSession signs id in without a request: it starts a session and
// returns its first tokens, a fresh access token and a refresh token, as a
// login does. It is for tests, command-line tools and services minting
// tokens for themselves; a handler that signs a user in uses [Auth.Login],
// which also throttles, logs and answers in cookie mode.
func (a *Auth) StartSession(ctx context.Context, id Identity) (*Tokens, error) {
	t, err := a.startSession(ctx, nil, id)
	if err != nil {
		return nil, err
	}
	a.log.event(ctx, "session started", "sub", id.Subject, "sid", t.sid, "jti", t.jti)
	return t, nil
}

// Sessions lists the live sessions of subject, oldest first: when each
// started and last refreshed, and the client (User-Agent and address) that
// started it. An app shows them as "your devices"; a token's SessionID
// names the session it belongs to.
func (a *Auth) Sessions(ctx context.Context, subject string) ([]Session, error) {
	var out []Session
	err := a.storeCall(ctx, "sessions", func(ctx context.Context) (err error) {
		out, err = a.store.Sessions(ctx, subject, a.now())
		return err
	})
	return out, err
}

// RevokeSession ends the session id of subject: it can no longer refresh,
// and with [WithAccessRevocation] its access tokens are refused at once. It
// refuses to end another subject's session, answering [ErrSessionNotFound]
// as for an unknown or ended one, so a user can end only their own.
func (a *Auth) RevokeSession(ctx context.Context, subject, id string) error {
	if err := a.revokeSession(ctx, subject, id); err != nil {
		return err
	}
	a.log.event(ctx, "session revoked", "sub", subject, "sid", id)
	return nil
}

func (a *Auth) revokeSession(ctx context.Context, subject, id string) error {
	return a.storeCall(ctx, "revoke session", func(ctx context.Context) error {
		return a.store.RevokeSession(ctx, subject, id, a.now())
	})
}

// RevokeSubject ends every session of subject: refresh tokens issued so far
// are refused, and with [WithAccessRevocation] so are access tokens. Call
// it after a password change or when an account is disabled. A login that
// completes after it returns starts a session it does not touch; one that
// checked the password before it and completes during it is refused.
func (a *Auth) RevokeSubject(ctx context.Context, subject string) error {
	at := a.now()
	// The cut only has to outlive logins in flight: an hour is plenty.
	err := a.storeCall(ctx, "revoke subject", func(ctx context.Context) error {
		return a.store.RevokeSubject(ctx, subject, at, at.Add(time.Hour))
	})
	if err != nil {
		return err
	}
	a.log.event(ctx, "sessions revoked", "sub", subject)
	return nil
}
