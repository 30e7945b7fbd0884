package ginfresh_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// flakyStore fails the next call to one method, like a Redis that times
// out once.
type flakyStore struct {
	*ginfresh.MemoryStore
	failFamily, failToken atomic.Bool
}

func (s *flakyStore) RevokeFamily(ctx context.Context, family string) error {
	if s.failFamily.Swap(false) {
		return errDown
	}
	return s.MemoryStore.RevokeFamily(ctx, family)
}

func (s *flakyStore) RevokeToken(ctx context.Context, token string, now, until time.Time) error {
	if s.failToken.Swap(false) {
		return errDown
	}
	return s.MemoryStore.RevokeToken(ctx, token, now, until)
}

// TestLogoutRetryAfterStoreFailure: a logout that failed half-way answers
// 503 and the same request, retried, completes it; no failure leaves a
// state the retry cannot get past.
func TestLogoutRetryAfterStoreFailure(t *testing.T) {
	for _, tt := range []struct {
		name string
		fail func(*flakyStore)
	}{
		{"session revocation fails", func(s *flakyStore) { s.failFamily.Store(true) }},
		{"access-token revocation fails", func(s *flakyStore) { s.failToken.Store(true) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := &flakyStore{MemoryStore: ginfresh.NewMemoryStore()}
			f := newFixture(t, ginfresh.WithStore(store), ginfresh.WithAccessRevocation())
			tok := f.login(t, "alice")
			logout := request{method: http.MethodPost, path: "/auth/logout", token: tok.AccessToken,
				body: `{"refresh_token":"` + tok.RefreshToken + `"}`}

			tt.fail(store)
			w := f.do(logout)
			require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
			w = f.do(logout)
			require.Equal(t, http.StatusNoContent, w.Code, "the retry completes the logout: %s", w.Body.String())
			assert.Equal(t, http.StatusUnauthorized, f.refresh(t, tok.RefreshToken).Code)
			assert.Equal(t, http.StatusUnauthorized, f.do(request{path: "/protected", token: tok.AccessToken}).Code)
		})
	}
}
