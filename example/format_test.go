package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testPASETOKey is the seed of the PASETO specification's 4-S test vectors.
const testPASETOKey = "b4cbfb43df4ce210727d953e4a713307fa19bb7d9f85041438d9e11b942a3774"

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestTokenFormat(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		wantPASETO bool
		wantLog    string
		wantErr    string
	}{
		{"default is JWT", nil, false, "", ""},
		{"jwt", map[string]string{"TOKEN_FORMAT": "jwt"}, false, "", ""},
		{"paseto with a key", map[string]string{"TOKEN_FORMAT": "paseto", "PASETO_SECRET_KEY": testPASETOKey}, true, "k4.pid.yh4-bJYjOYAG6CWy0zsfPmpKylxS7uAWrxqVmBN2KAiJ", ""},
		{"paseto with a generated key", map[string]string{"TOKEN_FORMAT": "paseto"}, true, "PASETO_SECRET_KEY is not set", ""},
		{"paseto with a bad key", map[string]string{"TOKEN_FORMAT": "paseto", "PASETO_SECRET_KEY": "beef"}, false, "", "PASETO_SECRET_KEY"},
		{"paseto with a non-hex key", map[string]string{"TOKEN_FORMAT": "paseto", "PASETO_SECRET_KEY": "not hex"}, false, "", "not hex"},
		{"unknown format", map[string]string{"TOKEN_FORMAT": "xml"}, false, "", "want jwt or paseto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			f, err := tokenFormat(env(tt.env), func(format string, args ...any) { fmt.Fprintf(&logs, format+"\n", args...) })
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantPASETO, f != nil)
			assert.Contains(t, logs.String(), tt.wantLog)
			assert.NotContains(t, logs.String(), testPASETOKey, "the secret key is never logged")
		})
	}
}

func TestSeedFlowPASETO(t *testing.T) {
	gin.SetMode(gin.TestMode)
	f, err := tokenFormat(env(map[string]string{"TOKEN_FORMAT": "paseto", "PASETO_SECRET_KEY": testPASETOKey}), t.Logf)
	require.NoError(t, err)
	clk := &testClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	r, err := newServer(config{format: f, now: clk.now})
	require.NoError(t, err)

	access, refresh := login(t, r, "test", "test")
	assert.True(t, strings.HasPrefix(access, "v4.public."), access)
	assert.True(t, strings.HasPrefix(refresh, "v4.public."), refresh)
	code, body := call(t, r, "GET", "/protected", access, "")
	require.Equal(t, 200, code)
	assert.Equal(t, "test", body["user"])
	assert.Equal(t, true, body["fresh"])

	clk.advance(time.Minute)
	code, tok := call(t, r, "POST", "/refresh", refresh, "")
	require.Equal(t, 200, code)
	stale := tok["access_token"].(string)
	code, body = call(t, r, "GET", "/protected-fresh", stale, "")
	assert.Equal(t, 401, code)
	assert.Equal(t, "insufficient_user_authentication", body["error"])
	code, _ = call(t, r, "GET", "/protected", refresh, "")
	assert.Equal(t, 401, code, "a refresh token is no access token")

	code, tok = call(t, r, "POST", "/fresh-login", stale, `{"username":"test","password":"test"}`)
	require.Equal(t, 200, code)
	fresh := tok["access_token"].(string)
	clk.advance(time.Second)
	code, _ = call(t, r, "POST", "/account/change-password", fresh, `{"current_password":"test","new_password":"a-much-better-one"}`)
	require.Equal(t, 200, code)
	code, _ = call(t, r, "GET", "/protected", fresh, "")
	assert.Equal(t, 401, code, "changing the password revokes every token so far")

	clk.advance(time.Microsecond)
	_, refresh = login(t, r, "test", "a-much-better-one")
	code, _ = call(t, r, "POST", "/refresh", refresh, "")
	require.Equal(t, 200, code)
	code, _ = call(t, r, "POST", "/refresh", refresh, "")
	assert.Equal(t, 401, code, "a retired refresh token is a replay")
	_, refresh = login(t, r, "test", "a-much-better-one")
	code, _ = call(t, r, "POST", "/logout", refresh, "")
	assert.Equal(t, 204, code)
	code, _ = call(t, r, "POST", "/refresh", refresh, "")
	assert.Equal(t, 401, code)
}
