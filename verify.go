package ginfresh

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	errMissingExp = fmt.Errorf("%w: exp", jwt.ErrTokenRequiredClaimMissing)
	errMissingIat = fmt.Errorf("%w: iat", jwt.ErrTokenRequiredClaimMissing)
	errMissingJTI = fmt.Errorf("%w: jti", jwt.ErrTokenRequiredClaimMissing)
	errMissingSID = fmt.Errorf("%w: sid", jwt.ErrTokenRequiredClaimMissing)
	errFreshRT    = errors.New("a refresh token cannot be fresh")
	errNoClaims   = errors.New("the format returned no claims")

	// Prebuilt so that refusing the usual bad tokens allocates nothing.
	errExpired  = tokenError(ErrTokenExpired, jwt.ErrTokenExpired)
	errFuture   = tokenError(ErrTokenInvalid, jwt.ErrTokenUsedBeforeIssued)
	errNotYet   = tokenError(ErrTokenInvalid, jwt.ErrTokenNotValidYet)
	errIssuer   = tokenError(ErrTokenInvalid, jwt.ErrTokenInvalidIssuer)
	errAudience = tokenError(ErrTokenInvalid, jwt.ErrTokenInvalidAudience)
	errRevoked  = tokenError(ErrTokenRevoked, nil)
)

// Verify checks a token of type typ and returns its claims: integrity and
// type (by the format), then exp, nbf, iat, sub, iss and aud against the
// clock and options, then, for access tokens with [WithAccessRevocation],
// the store. Refresh tokens are checked against their session by the
// refresh and logout handlers, not here.
func (a *Auth) Verify(ctx context.Context, typ TokenType, token string) (*Claims, error) {
	if typ == AccessToken {
		return a.verifyAccess(ctx, token)
	}
	if typ != RefreshToken {
		return nil, fmt.Errorf("ginfresh: Verify: unknown token type %d", typ)
	}
	c, err := a.verifyFormat(RefreshToken, token)
	if err != nil {
		return nil, err
	}
	if err := a.validate(c, RefreshToken, a.now()); err != nil {
		return nil, err
	}
	return c, nil
}

func (a *Auth) verifyAccess(ctx context.Context, token string) (*Claims, error) {
	now := a.now()
	c := a.cache.get(token)
	if c == nil {
		gen := a.cache.generation() // before the format reads its keys
		var err error
		if c, err = a.verifyFormat(AccessToken, token); err != nil {
			return nil, err
		}
		if err := a.validate(c, AccessToken, now); err != nil {
			return nil, err
		}
		c.owner = a
		a.cache.put(token, c, c.ExpiresAt.Add(a.leeway), gen)
	} else if err := a.validate(c, AccessToken, now); err != nil {
		// Every time-based check runs again on a cached token.
		a.cache.drop(token)
		return nil, err
	}
	if a.accessRevocation {
		revoked, err := a.store.Revoked(ctx, c.ID, c.Subject, c.IssuedAt.Time, now)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
		}
		if revoked {
			return nil, errRevoked
		}
	}
	return c, nil
}

// verifyFormat runs the format. A format's error is about the token (401,
// never 500) unless it says the keys to check it with are out of reach
// (503), which must not read as a bad token and log users out.
func (a *Auth) verifyFormat(typ TokenType, token string) (*Claims, error) {
	c, err := a.format.Verify(typ, token)
	switch {
	case errors.Is(err, ErrKeySetUnavailable) || errors.Is(err, ErrStoreUnavailable):
		return nil, err
	case err != nil && !errors.Is(err, ErrTokenInvalid):
		return nil, tokenError(ErrTokenInvalid, err)
	case err == nil && c == nil:
		return nil, tokenError(ErrTokenInvalid, errNoClaims)
	}
	return c, err
}

// validate checks claim values. It runs on every request, cached or not,
// and allocates nothing on success or on the usual failures.
func (a *Auth) validate(c *Claims, typ TokenType, now time.Time) error {
	if c.ExpiresAt == nil {
		return tokenError(ErrTokenInvalid, errMissingExp)
	}
	if !now.Before(c.ExpiresAt.Add(a.leeway)) {
		return errExpired
	}
	if c.IssuedAt == nil {
		return tokenError(ErrTokenInvalid, errMissingIat)
	}
	if c.IssuedAt.After(now.Add(a.leeway)) {
		return errFuture
	}
	if c.NotBefore != nil && c.NotBefore.After(now.Add(a.leeway)) {
		return errNotYet
	}
	if err := c.Validate(); err != nil {
		return tokenError(ErrTokenInvalid, err)
	}
	if c.ID == "" {
		return tokenError(ErrTokenInvalid, errMissingJTI)
	}
	if a.issuer != "" && c.Issuer != a.issuer {
		return errIssuer
	}
	if len(a.audience) > 0 && !slices.ContainsFunc(c.Audience, func(s string) bool { return slices.Contains(a.audience, s) }) {
		return errAudience
	}
	if typ == RefreshToken {
		if c.SessionID == "" {
			return tokenError(ErrTokenInvalid, errMissingSID)
		}
		if c.Fresh {
			return tokenError(ErrTokenInvalid, errFreshRT)
		}
	}
	return nil
}
