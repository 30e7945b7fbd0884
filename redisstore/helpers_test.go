package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/formattest"
	"github.com/ginfresh/ginfresh/redisstore"
)

// addrEnv names the address of the redis-server the tests talk to;
// scripts/with-redis.sh starts one and sets it.
const addrEnv = "GINFRESH_TEST_REDIS_ADDR"

func init() {
	gin.SetMode(gin.TestMode)
	// The outage tests dial closed ports on purpose; the client's own
	// complaints about it are noise in the test output.
	redis.SetLogger(quietRedis{})
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// redisAddr returns the test server's address. Without one the test is
// skipped, or fails under CI, where a missing server is a broken set-up.
func redisAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(addrEnv)
	if addr == "" {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("%s is not set: CI must run the Redis tests against a real redis-server (scripts/with-redis.sh starts one)", addrEnv)
		}
		t.Skipf("%s is not set: skipping the Redis tests; run them with scripts/with-redis.sh go test ./...", addrEnv)
	}
	return addr
}

// newClient connects to addr and checks the server answers.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Ping(context.Background()).Err(), "redis at %s", addr)
	return c
}

// testPrefix is a key prefix of its own for one test, whose keys are
// deleted when it ends, so tests share one server without seeing each other.
func testPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "ginfresh-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		for _, k := range scanKeys(t, c, prefix) {
			_ = c.Del(ctx, k).Err()
		}
	})
	return prefix
}

// newStore is a store on the test server under a fresh prefix, and its client.
func newStore(t testing.TB) (*redisstore.Store, *redis.Client, string) {
	t.Helper()
	c := newClient(t, redisAddr(t))
	prefix := testPrefix(t, c)
	s, err := redisstore.New(c, redisstore.WithPrefix(prefix))
	require.NoError(t, err)
	return s, c, prefix
}

func scanKeys(t testing.TB, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	var keys []string
	it := c.Scan(context.Background(), 0, prefix+"*", 100).Iterator()
	for it.Next(context.Background()) {
		keys = append(keys, it.Val())
	}
	require.NoError(t, it.Err())
	return keys
}

// clock is a controllable time source shared by the apps of a test. It
// starts at the real time so key TTLs read sensibly.
type clock = formattest.Clock

func newClock() *clock { return formattest.NewClockAt(time.Now().Truncate(time.Second)) }

var testKey = []byte("test-key-0123456789-0123456789-0123456789")

// app is one instance of an API: the conformance suite's server (users
// alice and bob, routes under /auth and /protected) on a shared store.
type app struct{ *formattest.Server }

func newApp(t testing.TB, store ginfresh.Store, clk *clock, opts ...ginfresh.Option) *app {
	t.Helper()
	base := []ginfresh.Option{ginfresh.WithHMACKey(testKey), ginfresh.WithStore(store), ginfresh.WithAccessRevocation()}
	return &app{formattest.NewServer(t, clk, false, append(base, opts...)...)}
}

func (a *app) login(t testing.TB, user string) ginfresh.Tokens {
	t.Helper()
	w := a.Do(http.MethodPost, "/auth/login", "", `{"username":"`+user+`","password":"`+user+`-pw"}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	return decodeTokens(t, w)
}

func (a *app) refresh(refreshToken string) *httptest.ResponseRecorder {
	return a.Do(http.MethodPost, "/auth/refresh", refreshToken, "")
}

func (a *app) logout(accessToken, refreshToken string) *httptest.ResponseRecorder {
	return a.Do(http.MethodPost, "/auth/logout", accessToken, `{"refresh_token":"`+refreshToken+`"}`)
}

func (a *app) protected(accessToken string) *httptest.ResponseRecorder {
	return a.Do(http.MethodGet, "/protected", accessToken, "")
}

var errorCode = formattest.ErrorCode

// decodeTokens reads a login or refresh answer, which here always carries
// the session's next refresh token.
func decodeTokens(t testing.TB, w *httptest.ResponseRecorder) ginfresh.Tokens {
	t.Helper()
	tok := formattest.DecodeTokens(t, w)
	require.NotEmpty(t, tok.RefreshToken)
	return tok
}
