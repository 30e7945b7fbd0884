package main

import (
	"context"
	"os"
	"strconv"
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
		{"both Redis variables", map[string]string{"REDIS_URL": "redis://127.0.0.1:1", "REDIS_CLUSTER": "127.0.0.1:2"}, "not both"},
		{"nothing listening", map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0"}, "redis at 127.0.0.1:1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := storeOption(context.Background(), env(tt.env), nolog)
			require.ErrorContains(t, err, tt.want)
			assert.NotContains(t, err.Error(), "hunter2", "a URL's password is never echoed")
		})
	}
}

// redisEnv is the address of the test Redis (scripts/with-redis.sh), or a
// skip (a failure under CI=true).
func redisEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("%s is not set: CI must run this against a real Redis", name)
		}
		t.Skipf("%s is not set: skipping; run with scripts/with-redis.sh", name)
	}
	return v
}

// Two example servers on one Redis, or one Redis Cluster, are one API: a
// session started on one refreshes on the other, once.
func TestTwoServersShareRedis(t *testing.T) {
	for _, tt := range []struct{ name, variable, value string }{
		{"REDIS_URL", "REDIS_URL", "redis://" + os.Getenv("GINFRESH_TEST_REDIS_ADDR") + "/0"},
		{"REDIS_CLUSTER", "REDIS_CLUSTER", os.Getenv("GINFRESH_TEST_REDIS_CLUSTER")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			redisEnv(t, map[string]string{"REDIS_URL": "GINFRESH_TEST_REDIS_ADDR", "REDIS_CLUSTER": "GINFRESH_TEST_REDIS_CLUSTER"}[tt.variable])
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
			access, refresh := login(t, servers[0], "test", "test")
			code, body := call(t, servers[1], "POST", "/refresh", refresh, "")
			require.Equal(t, 200, code, body)
			code, _ = call(t, servers[0], "POST", "/refresh", refresh, "")
			assert.Equal(t, 401, code, "the other server sees the token as retired")
			// The other instance hears of the replay within the store's
			// revocation delay (half a second; a few milliseconds here).
			deadline := time.Now().Add(1500 * time.Millisecond)
			for {
				code, _ = call(t, servers[1], "GET", "/protected", access, "")
				if code != 200 || time.Now().After(deadline) {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			assert.Equal(t, 401, code, "the replay ended the session everywhere")
		})
	}
}
