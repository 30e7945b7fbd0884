package redisstore_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// TestTwoInstancesThrottleOneClient: guesses spread over two instances, each
// naming a new address in X-Forwarded-For, still meet one limit in Redis.
func TestTwoInstancesThrottleOneClient(t *testing.T) {
	a, b, _ := twoApps(t)
	for i := range ginfresh.DefaultAccountAttempts + 2 {
		app := a
		if i%2 == 1 {
			app = b
		}
		req := httptest.NewRequest(http.MethodPost, "/auth/login", strings.NewReader(`{"username":"alice","password":"guess"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i+1))
		w := httptest.NewRecorder()
		app.ServeHTTP(w, req)
		if i < ginfresh.DefaultAccountAttempts {
			require.Equal(t, http.StatusUnauthorized, w.Code, "attempt %d", i+1)
			continue
		}
		assert.Equal(t, http.StatusTooManyRequests, w.Code, "attempt %d", i+1)
		assert.NotEmpty(t, w.Header().Get("Retry-After"))
	}
}
