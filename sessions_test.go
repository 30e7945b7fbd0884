package ginfresh_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

func TestRotationAndReuse(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, ginfresh.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	first := f.login(t, "alice")

	w := f.refresh(t, first.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code)
	second := decodeTokens(t, w)
	require.NotEqual(t, first.RefreshToken, second.RefreshToken)

	// The retired token comes back: a replay. It and the family's current
	// token are dead from now on.
	w = f.refresh(t, first.RefreshToken)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "invalid_token", errorCode(t, w))
	w = f.refresh(t, second.RefreshToken)
	assert.Equal(t, http.StatusUnauthorized, w.Code, "reuse revokes the whole family")

	assert.Contains(t, logs.String(), "refresh token reuse")
	assert.Contains(t, logs.String(), f.claims(t, ginfresh.AccessToken, first.AccessToken).Subject)
	assert.NotContains(t, logs.String(), first.RefreshToken, "the log names tokens by jti only")

	other := f.login(t, "alice")
	assert.Equal(t, http.StatusOK, f.refresh(t, other.RefreshToken).Code, "other sessions are untouched")
}

func TestRotationOff(t *testing.T) {
	f := newFixture(t, ginfresh.WithRefreshRotation(false))
	tok := f.login(t, "alice")
	for range 3 {
		w := f.refresh(t, tok.RefreshToken)
		require.Equal(t, http.StatusOK, w.Code)
		f.clock.Advance(time.Second)
	}
}

func TestSessionLimits(t *testing.T) {
	t.Run("absolute lifetime", func(t *testing.T) {
		f := newFixture(t, ginfresh.WithSessionLifetime(48*time.Hour), ginfresh.WithRefreshTTL(24*time.Hour), ginfresh.WithIdleTimeout(24*time.Hour))
		tok := f.login(t, "alice").RefreshToken
		for range 3 {
			f.clock.Advance(15 * time.Hour)
			w := f.refresh(t, tok)
			require.Equal(t, http.StatusOK, w.Code, "active user at %v", 15*time.Hour)
			next := decodeTokens(t, w).RefreshToken
			exp := segment(t, next, 1)["exp"].(float64)
			assert.LessOrEqual(t, exp, float64(newClock().Now().Add(48*time.Hour).Unix()), "no refresh token outlives its session")
			tok = next
		}
		f.clock.Advance(4 * time.Hour) // 49 h after login
		assert.Equal(t, http.StatusUnauthorized, f.refresh(t, tok).Code)
	})
	t.Run("idle timeout", func(t *testing.T) {
		f := newFixture(t, ginfresh.WithIdleTimeout(time.Hour))
		tok := f.login(t, "alice").RefreshToken
		f.clock.Advance(59 * time.Minute)
		w := f.refresh(t, tok)
		require.Equal(t, http.StatusOK, w.Code)
		f.clock.Advance(61 * time.Minute)
		assert.Equal(t, http.StatusUnauthorized, f.refresh(t, decodeTokens(t, w).RefreshToken).Code)
	})
	t.Run("expired refresh token", func(t *testing.T) {
		f := newFixture(t, ginfresh.WithRefreshTTL(time.Hour))
		tok := f.login(t, "alice").RefreshToken
		f.clock.Advance(time.Hour)
		w := f.refresh(t, tok)
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Equal(t, "invalid_token", errorCode(t, w))
	})
}

func TestRefreshRefusals(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice")
	tests := []struct {
		name       string
		token      string
		header     http.Header
		wantStatus int
	}{
		{"access token", tok.AccessToken, nil, 401},
		{"garbage", "x.y.z", nil, 401},
		{"no token", "", nil, 401},
		{"two headers", "", http.Header{"Authorization": {"Bearer a", "Bearer b"}}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(request{method: http.MethodPost, path: "/auth/refresh", token: tt.token, header: tt.header})
			assert.Equal(t, tt.wantStatus, w.Code)
			errorCode(t, w)
		})
	}
}

func TestLogout(t *testing.T) {
	tests := []struct {
		name     string
		logout   func(f *fixture, tok ginfresh.Tokens) request
		wantCode int
		// whether the access token still works afterwards
		accessAlive bool
	}{
		{"refresh token as bearer", func(_ *fixture, tok ginfresh.Tokens) request {
			return request{token: tok.RefreshToken}
		}, 204, false},
		{"refresh token in body", func(_ *fixture, tok ginfresh.Tokens) request {
			return request{body: `{"refresh_token":"` + tok.RefreshToken + `"}`}
		}, 204, false},
		{"access bearer and refresh body", func(_ *fixture, tok ginfresh.Tokens) request {
			return request{token: tok.AccessToken, body: `{"refresh_token":"` + tok.RefreshToken + `"}`}
		}, 204, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, ginfresh.WithAccessRevocation())
			tok := f.login(t, "alice")
			req := tt.logout(f, tok)
			req.method, req.path = http.MethodPost, "/auth/logout"
			w := f.do(req)
			require.Equal(t, tt.wantCode, w.Code, w.Body.String())
			assert.Equal(t, http.StatusUnauthorized, f.refresh(t, tok.RefreshToken).Code, "the session is over")
			if req.token == tok.AccessToken {
				assert.Equal(t, http.StatusUnauthorized, f.do(request{path: "/protected", token: tok.AccessToken}).Code, "the access token is revoked")
			}
		})
	}

	t.Run("access token only", func(t *testing.T) {
		f := newFixture(t, ginfresh.WithAccessRevocation())
		tok := f.login(t, "alice")
		w := f.do(request{method: http.MethodPost, path: "/auth/logout", token: tok.AccessToken})
		require.Equal(t, http.StatusNoContent, w.Code)
		assert.Equal(t, http.StatusUnauthorized, f.do(request{path: "/protected", token: tok.AccessToken}).Code)

		g := newFixture(t)
		tok = g.login(t, "alice")
		w = g.do(request{method: http.MethodPost, path: "/auth/logout", token: tok.AccessToken})
		assert.Equal(t, http.StatusBadRequest, w.Code, "without access revocation an access token alone ends nothing")
		assert.Equal(t, http.StatusOK, g.refresh(t, tok.RefreshToken).Code)
	})

	t.Run("refusals", func(t *testing.T) {
		f := newFixture(t)
		for _, req := range []request{
			{},
			{token: "garbage"},
			{body: `{"refresh_token":42}`},
			{body: `{"refresh_token":"garbage"}`},
			{body: `{"refresh_token":"x"`},
		} {
			req.method, req.path = http.MethodPost, "/auth/logout"
			w := f.do(req)
			assert.True(t, w.Code == 400 || w.Code == 401, "got %d for %+v", w.Code, req)
			errorCode(t, w)
		}
	})
}

func TestRevokeSubject(t *testing.T) {
	f := newFixture(t, ginfresh.WithAccessRevocation())
	a1, a2, bob := f.login(t, "alice"), f.login(t, "alice"), f.login(t, "bob")
	// Warm the cache: revocation must apply to cached tokens too.
	require.Equal(t, http.StatusOK, f.do(request{path: "/protected", token: a1.AccessToken}).Code)

	f.clock.Advance(time.Second)
	require.NoError(t, f.auth.RevokeSubject(context.Background(), "alice"))

	for _, tok := range []ginfresh.Tokens{a1, a2} {
		assert.Equal(t, http.StatusUnauthorized, f.do(request{path: "/protected", token: tok.AccessToken}).Code)
		assert.Equal(t, http.StatusUnauthorized, f.refresh(t, tok.RefreshToken).Code)
	}
	_, err := f.auth.Verify(context.Background(), ginfresh.AccessToken, a1.AccessToken)
	assert.ErrorIs(t, err, ginfresh.ErrTokenRevoked)
	assert.Equal(t, http.StatusOK, f.do(request{path: "/protected", token: bob.AccessToken}).Code, "other users are untouched")
	assert.Equal(t, http.StatusOK, f.refresh(t, bob.RefreshToken).Code)

	// The revocation covers its own millisecond, and returns once a real
	// clock has passed it; this clock needs moving by hand.
	f.clock.Advance(time.Millisecond)
	fresh := f.login(t, "alice")
	assert.Equal(t, http.StatusOK, f.do(request{path: "/protected", token: fresh.AccessToken}).Code, "a login after the revocation works at once")
	assert.Equal(t, http.StatusOK, f.refresh(t, fresh.RefreshToken).Code)
}

func TestRevokeSubjectWithoutAccessRevocation(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice")
	f.clock.Advance(time.Second)
	require.NoError(t, f.auth.RevokeSubject(context.Background(), "alice"))
	assert.Equal(t, http.StatusUnauthorized, f.refresh(t, tok.RefreshToken).Code)
	assert.Equal(t, http.StatusOK, f.do(request{path: "/protected", token: tok.AccessToken}).Code,
		"without WithAccessRevocation, access tokens live until they expire")
}

// failingStore fails every call after fail is set, like a Redis that went away.
type failingStore struct {
	*ginfresh.MemoryStore
	fail atomic.Bool
}

var errDown = errors.New("connection refused")

func (s *failingStore) err() error {
	if s.fail.Load() {
		return errDown
	}
	return nil
}

func (s *failingStore) CreateFamily(ctx context.Context, family, subject, token string, now, idle, exp time.Time) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.MemoryStore.CreateFamily(ctx, family, subject, token, now, idle, exp)
}

func (s *failingStore) Rotate(ctx context.Context, family, presented, next string, now, idle time.Time) (time.Time, bool, error) {
	if err := s.err(); err != nil {
		return time.Time{}, false, err
	}
	return s.MemoryStore.Rotate(ctx, family, presented, next, now, idle)
}

func (s *failingStore) RevokeFamily(ctx context.Context, family string) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.MemoryStore.RevokeFamily(ctx, family)
}

func (s *failingStore) Revoked(ctx context.Context, token, subject string, issuedAt, now time.Time) (bool, error) {
	if err := s.err(); err != nil {
		return false, err
	}
	return s.MemoryStore.Revoked(ctx, token, subject, issuedAt, now)
}

func TestStoreFailure(t *testing.T) {
	store := &failingStore{MemoryStore: ginfresh.NewMemoryStore()}
	f := newFixture(t, ginfresh.WithStore(store), ginfresh.WithAccessRevocation())
	tok := f.login(t, "alice")
	store.fail.Store(true)

	for _, req := range []request{
		{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "alice-pw")},
		{method: http.MethodPost, path: "/auth/refresh", token: tok.RefreshToken},
		{method: http.MethodPost, path: "/auth/logout", token: tok.RefreshToken},
		{path: "/protected", token: tok.AccessToken},
	} {
		w := f.do(req)
		assert.Equal(t, http.StatusServiceUnavailable, w.Code, "%s %s", req.method, req.path)
		assert.Equal(t, "temporarily_unavailable", errorCode(t, w))
		assert.NotContains(t, w.Body.String(), "connection refused", "internal errors stay inside")
	}

	// Nothing was lost or half-done: once the store is back the session
	// continues where it was.
	store.fail.Store(false)
	assert.Equal(t, http.StatusOK, f.refresh(t, tok.RefreshToken).Code)
}

func TestAuthenticatorFailure(t *testing.T) {
	f := newFixture(t, ginfresh.WithAuthenticator(func(*gin.Context, string, string) (ginfresh.Identity, error) {
		return ginfresh.Identity{}, errors.New("database is down")
	}))
	w := f.do(request{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "alice-pw")})
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, "an authenticator that cannot decide is not a wrong password")
	assert.NotContains(t, w.Body.String(), "database")
}

func TestCustomClaimsSurviveRefreshExactly(t *testing.T) {
	f := newFixture(t, ginfresh.WithAuthenticator(func(*gin.Context, string, string) (ginfresh.Identity, error) {
		return ginfresh.Identity{Subject: "alice", Claims: map[string]any{"uid": int64(1234567890123456789), "roles": []string{"admin", "ops"}}}, nil
	}))
	tok := f.login(t, "alice")
	refreshed := decodeTokens(t, f.refresh(t, tok.RefreshToken))
	c := f.claims(t, ginfresh.AccessToken, refreshed.AccessToken)
	var uid int64
	var roles []string
	ok, err := c.Get("uid", &uid)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(1234567890123456789), uid, "no float64 rounding")
	_, err = c.Get("roles", &roles)
	require.NoError(t, err)
	assert.Equal(t, []string{"admin", "ops"}, roles)
	ok, err = c.Get("missing", &uid)
	assert.NoError(t, err)
	assert.False(t, ok)
}

// On the real clock, login, revocation and the next login often share a
// millisecond, which is all the precision iat has. Whatever the timing, the
// session before the revocation is over and the one after it is not.
func TestRevokeSubjectSameMillisecond(t *testing.T) {
	f := newFixture(t, ginfresh.WithAccessRevocation(), ginfresh.WithTimeFunc(time.Now), ginfresh.WithoutLoginThrottle())
	for i := range 50 {
		old := f.login(t, "alice")
		require.NoError(t, f.auth.RevokeSubject(context.Background(), "alice"))
		fresh := f.login(t, "alice")

		require.Equal(t, http.StatusUnauthorized, f.do(request{path: "/protected", token: old.AccessToken}).Code, "round %d: old access token", i)
		require.Equal(t, http.StatusUnauthorized, f.refresh(t, old.RefreshToken).Code, "round %d: old refresh token", i)
		require.Equal(t, http.StatusOK, f.do(request{path: "/protected", token: fresh.AccessToken}).Code, "round %d: new access token", i)
		require.Equal(t, http.StatusOK, f.refresh(t, fresh.RefreshToken).Code, "round %d: new refresh token", i)
	}
}
