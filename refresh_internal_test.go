package ginfresh

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flakyFormat fails the next Issue on request, as a remote signer might.
type flakyFormat struct {
	Format
	failNext bool
}

var errSignerDown = errors.New("signer down")

func (f *flakyFormat) Issue(typ TokenType, c *Claims) (string, error) {
	if f.failNext {
		f.failNext = false
		return "", errSignerDown
	}
	return f.Format.Issue(typ, c)
}

// A refresh whose minting fails must leave the session as it was, so that
// the client's retry is a plain refresh, not a replay that ends it.
func TestRefreshMintsBeforeRetiring(t *testing.T) {
	a, err := New(
		WithHMACKey([]byte("internal-test-key-0123456789-0123456789")),
		WithAuthenticator(func(_ *gin.Context, u, _ string) (Identity, error) { return Identity{Subject: u}, nil }),
	)
	require.NoError(t, err)
	ctx := context.Background()
	tok, err := a.IssueTokens(ctx, Identity{Subject: "alice"})
	require.NoError(t, err)

	flaky := &flakyFormat{Format: a.format}
	a.format = flaky
	rt, err := a.Verify(ctx, RefreshToken, tok.RefreshToken)
	require.NoError(t, err)

	flaky.failNext = true
	_, err = a.refresh(ctx, rt)
	require.ErrorIs(t, err, errSignerDown)

	next, err := a.refresh(ctx, rt)
	require.NoError(t, err, "the retry is not a replay")
	require.NotEmpty(t, next.RefreshToken)
	rt2, err := a.Verify(ctx, RefreshToken, next.RefreshToken)
	require.NoError(t, err)
	_, err = a.refresh(ctx, rt2)
	assert.NoError(t, err, "the session lives on")
}

// Near the session's end the refresh token is capped at it.
func TestRefreshTokenCappedAtSessionEnd(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	a, err := New(
		WithHMACKey([]byte("internal-test-key-0123456789-0123456789")),
		WithAuthenticator(func(_ *gin.Context, u, _ string) (Identity, error) { return Identity{Subject: u}, nil }),
		WithTimeFunc(func() time.Time { return now }),
		WithRefreshTTL(time.Hour), WithSessionLifetime(90*time.Minute), WithIdleTimeout(time.Hour),
	)
	require.NoError(t, err)
	ctx := context.Background()
	tok, err := a.IssueTokens(ctx, Identity{Subject: "alice"})
	require.NoError(t, err)
	now = now.Add(50 * time.Minute)
	rt, err := a.Verify(ctx, RefreshToken, tok.RefreshToken)
	require.NoError(t, err)
	next, err := a.refresh(ctx, rt)
	require.NoError(t, err)
	rt2, err := a.Verify(ctx, RefreshToken, next.RefreshToken)
	require.NoError(t, err)
	assert.True(t, rt2.ExpiresAt.Equal(time.Date(2030, 1, 1, 1, 30, 0, 0, time.UTC)), "exp %v is the session's end", rt2.ExpiresAt)
}

// resettingFormat withdraws keys (resets the cache) while a token is being
// verified, as a key-set fetch running at that moment would.
type resettingFormat struct {
	Format
	a *Auth
}

func (f resettingFormat) Verify(typ TokenType, token string) (*Claims, error) {
	c, err := f.Format.Verify(typ, token)
	f.a.cache.reset()
	return c, err
}

// A token verified with keys that were withdrawn during its check is not
// cached, so it is checked against the new keys next time.
func TestCacheResetDuringVerify(t *testing.T) {
	a, err := New(
		WithHMACKey([]byte("internal-test-key-0123456789-0123456789")),
		WithAuthenticator(func(_ *gin.Context, u, _ string) (Identity, error) { return Identity{Subject: u}, nil }),
	)
	require.NoError(t, err)
	tok, err := a.CreateAccessToken(Identity{Subject: "alice"}, true)
	require.NoError(t, err)
	plain := a.format
	a.format = resettingFormat{Format: plain, a: a}
	_, err = a.Verify(context.Background(), AccessToken, tok)
	require.NoError(t, err)
	assert.Nil(t, a.cache.get(tok), "verified across a reset: not cached")

	a.format = plain
	_, err = a.Verify(context.Background(), AccessToken, tok)
	require.NoError(t, err)
	assert.NotNil(t, a.cache.get(tok), "an undisturbed check is cached")
}

// A refresh token without auth_time (minted elsewhere with the shared key)
// refreshes into tokens that verify, not into ones with a year-1 auth_time.
func TestRefreshWithoutAuthTime(t *testing.T) {
	a, err := New(
		WithHMACKey([]byte("internal-test-key-0123456789-0123456789")),
		WithAuthenticator(func(_ *gin.Context, u, _ string) (Identity, error) { return Identity{Subject: u}, nil }),
	)
	require.NoError(t, err)
	ctx := context.Background()
	rtText, err := a.startSession(ctx, session{subject: "alice"}, a.now())
	require.NoError(t, err)
	rt, err := a.Verify(ctx, RefreshToken, rtText)
	require.NoError(t, err)
	require.Nil(t, rt.AuthTime)

	next, err := a.refresh(ctx, rt)
	require.NoError(t, err)
	at, err := a.Verify(ctx, AccessToken, next.AccessToken)
	require.NoError(t, err)
	assert.Nil(t, at.AuthTime, "no auth_time is invented")
	_, err = a.Verify(ctx, RefreshToken, next.RefreshToken)
	assert.NoError(t, err)
}

// Claim names must read the same to every JSON reader: names that are not
// valid UTF-8 are refused when minting, and two that JSON reads as one are
// duplicates when verifying.
func TestClaimNamesInvalidUTF8(t *testing.T) {
	c := &Claims{Extra: map[string]any{"a\xff": 1}}
	c.Subject = "alice"
	_, err := c.MarshalJSON()
	assert.ErrorContains(t, err, "not valid UTF-8")

	_, err = decodeClaims([]byte("{\"sub\":\"alice\",\"a\xff\":1,\"a\xfe\":2}"))
	assert.ErrorIs(t, err, errDuplicateClaim)
}
