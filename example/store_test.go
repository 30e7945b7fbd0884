package main

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

func TestStoreOptionsDefaultToMemory(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	assert.Empty(t, storeOptions())
}

func TestRedisStoreBadURL(t *testing.T) {
	_, err := redisStore("http://user:hunter2@example.com")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2", "the URL's password is not echoed")
}

// TestRedisStoreSharedByTwoServers: two example servers on one Redis are one
// API: a session started on one refreshes on the other, once.
func TestRedisStoreSharedByTwoServers(t *testing.T) {
	addr := os.Getenv("GINFRESH_TEST_REDIS_ADDR")
	if addr == "" {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("GINFRESH_TEST_REDIS_ADDR is not set: CI must run this against a real redis-server")
		}
		t.Skip("GINFRESH_TEST_REDIS_ADDR is not set: skipping; run with scripts/with-redis.sh")
	}
	gin.SetMode(gin.TestMode)
	clk := &testClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	servers := make([]*gin.Engine, 2)
	for i := range servers {
		opt, err := redisStore("redis://" + addr + "/0")
		require.NoError(t, err)
		servers[i], err = newServer(config{secret: []byte("example-test-secret-0123456789abcdef"), now: clk.now, extra: []ginfresh.Option{opt}})
		require.NoError(t, err)
	}

	code, body := call(t, servers[0], "POST", "/login", "", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, code, body)
	refresh := body["refresh_token"].(string)
	code, body = call(t, servers[1], "POST", "/refresh", refresh, "")
	require.Equal(t, 200, code, body)
	code, _ = call(t, servers[0], "POST", "/refresh", refresh, "")
	assert.Equal(t, 401, code, "the other server sees the token as retired")
}
