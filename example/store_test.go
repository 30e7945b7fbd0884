package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func nolog(string, ...any) {}

func TestStoreDefaultsToMemory(t *testing.T) {
	opt, closeStore, err := storeOption(context.Background(), env(nil), nolog)
	require.NoError(t, err)
	assert.Nil(t, opt)
	closeStore()
}

func TestStoreOptionRefusals(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"not a redis URL", map[string]string{"REDIS_URL": "http://user:hunter2@example.com"}, "REDIS_URL is not"},
		{"both Redis variables", map[string]string{"REDIS_URL": "redis://127.0.0.1:1", "REDIS_CLUSTER": "127.0.0.1:2"}, "not several"},
		{"Redis and a database", map[string]string{"REDIS_URL": "redis://127.0.0.1:1", "DATABASE_URL": "sqlite:x.db"}, "not several"},
		{"not a database URL", map[string]string{"DATABASE_URL": "mysql://root:hunter2@db/app"}, "DATABASE_URL: sqlstore: the URL's scheme"},
		{"no database listening", map[string]string{"DATABASE_URL": "postgres://app:hunter2@127.0.0.1:1/app?connect_timeout=1"}, "DATABASE_URL: sqlstore: postgres"},
		{"nothing listening", map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0"}, "redis at 127.0.0.1:1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := storeOption(context.Background(), env(tt.env), nolog)
			require.ErrorContains(t, err, tt.want)
			assert.NotContains(t, err.Error(), "hunter2", "a URL's password is never echoed")
		})
	}
}

// serverEnv is the address of a test server (scripts/with-redis.sh,
// scripts/with-postgres.sh), or a skip (a failure under CI=true).
func serverEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("%s is not set: CI must run this against a real server", name)
		}
		t.Skipf("%s is not set: skipping; run with scripts/with-redis.sh and scripts/with-postgres.sh", name)
	}
	return v
}

// Two example servers on one Redis, one Redis Cluster or one PostgreSQL
// are one API: a session started on one refreshes on the other, once;
// concurrent refreshes of one token across both have exactly one winner;
// a replay and a logout on one end the session on the other.
func TestTwoServersShareAStore(t *testing.T) {
	for _, tt := range []struct{ variable, value, source string }{
		{"REDIS_URL", "redis://" + os.Getenv("GINFRESH_TEST_REDIS_ADDR") + "/0", "GINFRESH_TEST_REDIS_ADDR"},
		{"REDIS_CLUSTER", os.Getenv("GINFRESH_TEST_REDIS_CLUSTER"), "GINFRESH_TEST_REDIS_CLUSTER"},
		{"DATABASE_URL", os.Getenv("GINFRESH_TEST_POSTGRES_URL"), "GINFRESH_TEST_POSTGRES_URL"},
	} {
		t.Run(tt.variable, func(t *testing.T) {
			serverEnv(t, tt.source)
			gin.SetMode(gin.TestMode)
			clk := &testClock{t: time.Now()}
			var servers [2]*gin.Engine
			for i := range servers {
				opt, closeStore, err := storeOption(context.Background(), env(map[string]string{tt.variable: tt.value}), nolog)
				require.NoError(t, err)
				t.Cleanup(closeStore)
				servers[i], err = newServer(config{secret: testSecret, now: clk.now, store: opt})
				require.NoError(t, err)
			}
			a, b := servers[0], servers[1]

			t.Run("replay", func(t *testing.T) {
				access, refresh := login(t, a, "test", "test")
				code, body := call(t, b, "POST", "/refresh", refresh, "")
				require.Equal(t, 200, code, body)
				code, _ = call(t, a, "POST", "/refresh", refresh, "")
				assert.Equal(t, 401, code, "the other server sees the token as retired")
				assert.Equal(t, 401, refusedWithin(b, access), "the replay ended the session everywhere")
				code, _ = call(t, a, "POST", "/refresh", body["refresh_token"].(string), "")
				assert.Equal(t, 401, code, "the winner's token ended with the session")
			})

			t.Run("concurrent refresh", func(t *testing.T) {
				_, refresh := login(t, a, "test", "test")
				const n = 16
				codes := make(chan int, n)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						<-start
						codes <- do(servers[i%2], "POST", "/refresh", refresh, "", nil).Code
					})
				}
				close(start)
				wg.Wait()
				close(codes)
				won := map[int]int{}
				for c := range codes {
					won[c]++
				}
				assert.Equal(t, map[int]int{200: 1, 401: n - 1}, won, "exactly one refresh wins, across both servers")
			})

			t.Run("logout", func(t *testing.T) {
				access, refresh := login(t, a, "test", "test")
				code, _ := call(t, b, "GET", "/protected", access, "")
				require.Equal(t, 200, code)
				code, _ = call(t, a, "POST", "/logout", refresh, "")
				require.Equal(t, 204, code)
				assert.Equal(t, 401, refusedWithin(b, access), "a logout on one server ends the session on the other")
				code, _ = call(t, b, "POST", "/refresh", refresh, "")
				assert.Equal(t, 401, code)
			})
		})
	}
}

// refusedWithin asks r for /protected with access until it is refused or
// 1.5s pass (Redis instances hear of a revocation within half a second;
// SQL stores answer from the database at once), and answers the last code.
func refusedWithin(r http.Handler, access string) int {
	deadline := time.Now().Add(1500 * time.Millisecond)
	for {
		code := do(r, "GET", "/protected", access, "", nil).Code
		if code != 200 || time.Now().After(deadline) {
			return code
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// An example restarted on the same SQLite file keeps every session and
// every revocation: a refresh token from before the restart refreshes,
// and a session ended before it stays ended.
func TestRestartOnSQLiteKeepsSessions(t *testing.T) {
	gin.SetMode(gin.TestMode)
	clk := &testClock{t: time.Now()}
	vars := env(map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "sessions.db")})
	start := func() (*gin.Engine, func()) {
		opt, closeStore, err := storeOption(context.Background(), vars, nolog)
		require.NoError(t, err)
		r, err := newServer(config{secret: testSecret, now: clk.now, store: opt})
		require.NoError(t, err)
		return r, closeStore
	}

	r, stop := start()
	liveAccess, liveRefresh := login(t, r, "test", "test")
	endedAccess, endedRefresh := login(t, r, "test", "test")
	replayedAccess, replayed := login(t, r, "user2", "password2")
	code, _ := call(t, r, "POST", "/logout", endedRefresh, "")
	require.Equal(t, 204, code)
	code, _ = call(t, r, "POST", "/refresh", replayed, "")
	require.Equal(t, 200, code)
	code, _ = call(t, r, "POST", "/refresh", replayed, "")
	require.Equal(t, 401, code, "reuse ends the session")
	stop()

	r, stop = start()
	defer stop()
	code, _ = call(t, r, "GET", "/protected", liveAccess, "")
	assert.Equal(t, 200, code, "a live session's access token still opens")
	code, body := call(t, r, "POST", "/refresh", liveRefresh, "")
	assert.Equal(t, 200, code, "a live session still refreshes: %v", body)
	for name, access := range map[string]string{"logged out": endedAccess, "replayed": replayedAccess} {
		code, _ = call(t, r, "GET", "/protected", access, "")
		assert.Equal(t, 401, code, "a %s session stays ended", name)
	}
	code, _ = call(t, r, "POST", "/refresh", endedRefresh, "")
	assert.Equal(t, 401, code, "a logged-out refresh token stays refused")
	code, _ = call(t, r, "POST", "/refresh", replayed, "")
	assert.Equal(t, 401, code, "a replayed refresh token stays refused")
}
