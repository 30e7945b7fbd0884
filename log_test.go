package ginfresh_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

// capture is a slog handler that keeps every record, rendered with all its
// attributes.
type capture struct {
	mu      sync.Mutex
	records []captured
}

type captured struct {
	level slog.Level
	msg   string
	attrs map[string]string
	text  string
}

func (h *capture) Enabled(context.Context, slog.Level) bool { return true }
func (h *capture) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *capture) WithGroup(string) slog.Handler            { return h }

func (h *capture) Handle(_ context.Context, r slog.Record) error {
	c := captured{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		c.attrs[a.Key] = a.Value.String()
		b.WriteString(" " + a.String())
		return true
	})
	c.text = b.String()
	h.mu.Lock()
	h.records = append(h.records, c)
	h.mu.Unlock()
	return nil
}

// find returns the records with message msg.
func (h *capture) find(msg string) []captured {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []captured
	for _, r := range h.records {
		if r.msg == "ginfresh: "+msg {
			out = append(out, r)
		}
	}
	return out
}

func (h *capture) all() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, r := range h.records {
		b.WriteString(r.text + "\n")
	}
	return b.String()
}

// TestLogNeverHoldsSecrets drives every flow that logs and proves the log
// names who, where and which token, and never holds a token, one of its
// segments, a password, the key or a cookie value. Error bodies of the same
// flow never echo a token or an internal error.
func TestLogNeverHoldsSecrets(t *testing.T) {
	logs := &capture{}
	store := &failingStore{MemoryStore: ginfresh.NewMemoryStore()}
	f := newFixture(t, ginfresh.WithLogger(slog.New(logs)), ginfresh.WithStore(store), ginfresh.WithAccessRevocation(),
		ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 3}))
	const cookie = "session-cookie-value-4f1d9a"
	secrets := []string{"alice-pw", "bob-pw", "guess-0", "guess-1", "guess-2", "hunter2-typed-as-username", cookie, errDown.Error(),
		string(testKey), base64.StdEncoding.EncodeToString(testKey), base64.RawURLEncoding.EncodeToString(testKey), hex.EncodeToString(testKey)}
	var bodies []string // of the error answers
	do := func(req request) *httptest.ResponseRecorder {
		if req.remoteAddr == "" {
			req.remoteAddr = victim
		}
		if req.header == nil {
			req.header = http.Header{}
		}
		req.header["Cookie"] = []string{"session=" + cookie}
		w := f.do(req)
		require.Less(t, w.Code, 500, "%s %s: %s", req.method, req.path, w.Body.String())
		if w.Code >= 400 {
			bodies = append(bodies, w.Body.String())
		}
		return w
	}
	login := func(user, pw, addr string) *httptest.ResponseRecorder {
		return do(request{method: http.MethodPost, path: "/auth/login", body: credentials(user, pw), remoteAddr: addr})
	}
	var tokens []string
	keep := func(w *httptest.ResponseRecorder) ginfresh.Tokens {
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		tok := decodeTokens(t, w)
		for _, s := range []string{tok.AccessToken, tok.RefreshToken} {
			if s != "" {
				tokens = append(tokens, s)
			}
		}
		return tok
	}

	first := keep(login("alice", "alice-pw", victim))
	for i := range 3 {
		assert.Equal(t, http.StatusUnauthorized, login("alice", "guess-"+itoa(int64(i)), attacker).Code)
	}
	assert.Equal(t, http.StatusTooManyRequests, login("alice", "alice-pw", attacker).Code)
	assert.Equal(t, http.StatusUnauthorized, login("hunter2-typed-as-username", "x", attacker).Code)

	f.clock.Advance(time.Minute)
	second := keep(do(request{method: http.MethodPost, path: "/auth/refresh", token: first.RefreshToken}))
	assert.Equal(t, http.StatusUnauthorized, do(request{method: http.MethodPost, path: "/auth/refresh", token: first.RefreshToken}).Code, "replay")
	assert.Equal(t, http.StatusUnauthorized, do(request{method: http.MethodPost, path: "/auth/refresh", token: second.RefreshToken}).Code, "family revoked")

	fresh := keep(do(request{method: http.MethodPost, path: "/auth/fresh-login", token: second.AccessToken, body: credentials("alice", "alice-pw")}))
	assert.Equal(t, http.StatusForbidden, do(request{method: http.MethodPost, path: "/auth/fresh-login", token: fresh.AccessToken, body: credentials("bob", "bob-pw")}).Code)

	third := keep(login("alice", "alice-pw", victim))
	assert.Equal(t, http.StatusNoContent, do(request{method: http.MethodPost, path: "/auth/logout", token: third.AccessToken,
		body: `{"refresh_token":"` + third.RefreshToken + `"}`}).Code)
	assert.Equal(t, http.StatusUnauthorized, do(request{path: "/protected", token: third.AccessToken}).Code)
	assert.Equal(t, http.StatusUnauthorized, do(request{path: "/protected", token: flipLast(fresh.AccessToken)}).Code)

	f.clock.Advance(time.Second)
	require.NoError(t, f.auth.RevokeSubject(context.Background(), "alice"))
	assert.Equal(t, http.StatusUnauthorized, do(request{method: http.MethodPost, path: "/auth/fresh-login", token: fresh.AccessToken, body: credentials("alice", "alice-pw")}).Code)

	store.fail.Store(true)
	w := f.do(request{path: "/protected", token: fresh.AccessToken})
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	bodies = append(bodies, w.Body.String())
	store.fail.Store(false)

	// The events are there, naming who, where and which token.
	claim := func(tok, name string) string { return segment(t, tok, 1)[name].(string) }
	for _, tt := range []struct {
		msg   string
		level slog.Level
		attrs map[string]string
	}{
		{"login", slog.LevelInfo, map[string]string{"sub": "alice", "client": "203.0.113.9", "jti": claim(first.AccessToken, "jti"),
			"sid": claim(first.RefreshToken, "sid")}},
		{"login failed", slog.LevelWarn, map[string]string{"client": "198.51.100.7"}},
		{"login throttled", slog.LevelWarn, map[string]string{"client": "198.51.100.7", "scope": "account"}},
		{"refresh", slog.LevelInfo, map[string]string{"sub": "alice", "client": "203.0.113.9", "jti": claim(second.AccessToken, "jti")}},
		{"refresh token reuse; session revoked", slog.LevelWarn, map[string]string{"sub": "alice", "jti": claim(first.RefreshToken, "jti")}},
		{"refresh refused: session ended", slog.LevelWarn, map[string]string{"sub": "alice", "jti": claim(second.RefreshToken, "jti")}},
		{"fresh login", slog.LevelInfo, map[string]string{"sub": "alice", "jti": claim(fresh.AccessToken, "jti")}},
		{"fresh-login subject mismatch", slog.LevelWarn, map[string]string{"sub": "alice", "authenticated": "bob"}},
		{"logout", slog.LevelInfo, map[string]string{"sub": "alice", "sid": claim(third.RefreshToken, "sid")}},
		{"access token revoked", slog.LevelInfo, map[string]string{"sub": "alice", "jti": claim(third.AccessToken, "jti")}},
		{"sessions revoked", slog.LevelInfo, map[string]string{"sub": "alice"}},
	} {
		recs := logs.find(tt.msg)
		require.NotEmpty(t, recs, "no %q event in\n%s", tt.msg, logs.all())
		r := recs[0]
		assert.Equal(t, tt.level, r.level, tt.msg)
		for k, v := range tt.attrs {
			assert.Equal(t, v, r.attrs[k], "%s: %s", tt.msg, k)
		}
	}
	failed := logs.find("login failed")
	require.Len(t, failed, 4)
	assert.NotEmpty(t, failed[0].attrs["account"], "a failed login names the account by digest")
	assert.Equal(t, failed[0].attrs["account"], failed[2].attrs["account"], "one account, one digest")
	assert.NotEqual(t, failed[0].attrs["account"], failed[3].attrs["account"])

	// Nothing secret, anywhere.
	text := logs.all()
	require.Len(t, tokens, 7)
	for _, tok := range tokens {
		secrets = append(secrets, tok)
		secrets = append(secrets, strings.Split(tok, ".")...)
	}
	for _, s := range secrets {
		assert.NotContains(t, text, s, "the log holds a secret")
		for _, body := range bodies {
			assert.NotContains(t, body, s, "an error answer echoes a secret")
		}
	}
}
