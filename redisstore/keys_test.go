package redisstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// payloadIDs reads jti and sid from a JWT without verifying it, for tokens
// that no longer verify (retired or revoked).
func payloadIDs(t *testing.T, token string) (ids struct {
	ID        string `json:"jti"`
	SessionID string `json:"sid"`
}) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(payload, &ids))
	require.NotEmpty(t, ids.ID)
	return ids
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestKeys drives every kind of write through the handlers and reads Redis
// back: each key has a TTL that matches what it records, and neither a
// token nor an ID, subject or throttle key is stored in clear.
func TestKeys(t *testing.T) {
	store, c, prefix := newStore(t)
	clk := newClock()
	// The login throttle's own counters would add keys named by digests
	// the test cannot predict; one counter is made by hand below instead.
	a := newApp(t, store, clk, ginfresh.WithoutLoginThrottle(),
		ginfresh.WithAccessTTL(15*time.Minute), ginfresh.WithRefreshTTL(2*time.Hour),
		ginfresh.WithIdleTimeout(time.Hour), ginfresh.WithSessionLifetime(24*time.Hour))
	ctx := context.Background()
	verify := func(typ ginfresh.TokenType, tok string) *ginfresh.Claims {
		t.Helper()
		claims, err := a.Auth.Verify(ctx, typ, tok)
		require.NoError(t, err)
		return claims
	}

	alice := a.login(t, "alice")
	w := a.refresh(alice.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code)
	alice2 := decodeTokens(t, w)
	gone := a.login(t, "alice")
	goneAccess := verify(ginfresh.AccessToken, gone.AccessToken)
	require.Equal(t, http.StatusNoContent, a.logout(gone.AccessToken, gone.RefreshToken).Code)
	bob := a.login(t, "bob")
	clk.Advance(time.Second)
	require.NoError(t, a.Auth.RevokeSubject(ctx, "bob"))
	throttleKey := "login:alice|203.0.113.7"
	_, _, err := store.Incr(ctx, throttleKey, clk.Now(), time.Minute)
	require.NoError(t, err)

	// The logged-out family is gone; everything else has one key.
	want := map[string]time.Duration{
		prefix + "f:" + sha(verify(ginfresh.RefreshToken, alice2.RefreshToken).SessionID): time.Hour,
		prefix + "f:" + sha(verify(ginfresh.RefreshToken, bob.RefreshToken).SessionID):    time.Hour,
		prefix + "t:" + sha(goneAccess.ID):                                                15 * time.Minute,
		prefix + "s:" + sha("bob"):                                                        24 * time.Hour,
		prefix + "c:" + sha(throttleKey):                                                  time.Minute,
	}
	keys := scanKeys(t, c, prefix)
	got := make([]string, 0, len(keys))
	var stored strings.Builder
	for _, k := range keys {
		got = append(got, k)
		stored.WriteString(k + "\n")
		switch typ := c.Type(ctx, k).Val(); typ {
		case "hash":
			for f, v := range c.HGetAll(ctx, k).Val() {
				stored.WriteString(f + "=" + v + "\n")
			}
		case "string":
			stored.WriteString(c.Get(ctx, k).Val() + "\n")
		default:
			t.Errorf("%s is a %s", k, typ)
		}

		pttl, err := c.PTTL(ctx, k).Result()
		require.NoError(t, err)
		if bound, known := want[k]; known {
			// TTLs come from the app's clock, which the test moved 1s forward.
			assert.LessOrEqual(t, pttl, bound, "TTL of %s", k)
			assert.Greater(t, pttl, bound-time.Minute, "TTL of %s", k)
		} else {
			assert.Positive(t, pttl, "%s has a TTL", k)
		}
	}
	wantKeys := make([]string, 0, len(want))
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	assert.ElementsMatch(t, wantKeys, got)

	secrets := []string{"alice", "bob", throttleKey, "203.0.113.7"}
	for _, tok := range []ginfresh.Tokens{alice, alice2, gone, bob} {
		secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
		for _, s := range []string{tok.AccessToken, tok.RefreshToken} {
			ids := payloadIDs(t, s)
			secrets = append(secrets, ids.ID, ids.SessionID)
		}
	}
	for _, s := range secrets {
		if s != "" {
			assert.NotContains(t, stored.String(), s, "stored in clear")
		}
	}
}

// TestScriptsSurviveFlush: after a restart or SCRIPT FLUSH the server has
// no cached scripts; EVALSHA fails with NOSCRIPT and the store falls back
// to EVAL.
func TestScriptsSurviveFlush(t *testing.T) {
	store, c, _ := newStore(t)
	ctx, now := context.Background(), time.Now()
	require.NoError(t, store.CreateFamily(ctx, "f", "alice", "t1", now, now.Add(time.Hour), now.Add(2*time.Hour)))
	require.NoError(t, c.ScriptFlush(ctx).Err())
	exp, reused, err := store.Rotate(ctx, "f", "t1", "t2", now, now.Add(time.Hour))
	require.NoError(t, err)
	assert.False(t, reused)
	assert.Equal(t, now.Add(2*time.Hour).UnixMilli(), exp.UnixMilli())
	require.NoError(t, c.ScriptFlush(ctx).Err())
	_, _, err = store.Incr(ctx, "k", now, time.Minute)
	require.NoError(t, err)
	require.NoError(t, c.ScriptFlush(ctx).Err())
	require.NoError(t, store.RevokeSubject(ctx, "alice", now, now.Add(time.Hour)))
}
