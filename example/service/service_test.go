package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

func init() { gin.SetMode(gin.TestMode) }

// fixture is the service's users in a fresh SQLite file: alice (admin) and
// bob (reports) of tenant acme, carol of tenant globex.
func fixture(t *testing.T) *userDB {
	t.Helper()
	db, err := openUsers(filepath.Join(t.TempDir(), "users.db"))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, db.add(ctx, "u1", "alice@acme.test", "alice-password", "acme", "admin"))
	require.NoError(t, db.add(ctx, "u2", "bob@acme.test", "bob-password", "acme", "reports"))
	require.NoError(t, db.add(ctx, "u3", "carol@globex.test", "carol-password", "globex"))
	return db
}

func send(t *testing.T, h http.Handler, method, path, token, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var out map[string]any
	if w.Body.Len() > 0 {
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), w.Body.String())
	}
	return w.Code, out, w.Header()
}

func login(t *testing.T, h http.Handler, email, password string) (access, refresh string) {
	t.Helper()
	code, body, _ := send(t, h, "POST", "/auth/login", "", `{"username":"`+email+`","password":"`+password+`"}`)
	require.Equal(t, 200, code, body)
	return body["access_token"].(string), body["refresh_token"].(string)
}

func newIssuer(t *testing.T, db *userDB, store ginfresh.Store) (http.Handler, *ginfresh.Key) {
	t.Helper()
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	key, err := ginfresh.NewSigningKey("", ginfresh.EdDSA, k)
	require.NoError(t, err)
	h, err := issuer(db, key, store)
	require.NoError(t, err)
	return h, key
}

func TestIssuer(t *testing.T) {
	db := fixture(t)
	h, _ := newIssuer(t, db, nil)
	alice, _ := login(t, h, "Alice@acme.test", "alice-password")
	code, me, _ := send(t, h, "GET", "/me", alice, "")
	require.Equal(t, 200, code)
	assert.Equal(t, map[string]any{"id": "u1", "roles": []any{"admin"}, "tenant": "acme"}, me)

	code, list, _ := send(t, h, "GET", "/admin/users", alice, "")
	require.Equal(t, 200, code)
	assert.Equal(t, []any{"alice@acme.test", "bob@acme.test"}, list["users"], "the admin sees their own tenant")

	bob, _ := login(t, h, "bob@acme.test", "bob-password")
	code, refusal, header := send(t, h, "GET", "/admin/users", bob, "")
	assert.Equal(t, 403, code)
	assert.Equal(t, map[string]any{"ok": false, "code": "insufficient_scope", "message": "The token lacks the scope this route requires."}, refusal, "the service's own error JSON")
	assert.Contains(t, header.Get("WWW-Authenticate"), `scope="admin"`, "and ginfresh's challenge")

	code, refusal, _ = send(t, h, "POST", "/auth/login", "", `{"username":"bob@acme.test","password":"nope"}`)
	assert.Equal(t, 401, code)
	assert.Equal(t, "invalid_credentials", refusal["code"])
}

// Roles and the disabled flag are read again at each refresh.
func TestRefreshReloadsUsers(t *testing.T) {
	db := fixture(t)
	h, _ := newIssuer(t, db, nil)
	ctx := context.Background()
	access, refresh := login(t, h, "carol@globex.test", "carol-password")
	_, err := db.db.ExecContext(ctx, `UPDATE users SET roles = 'admin' WHERE id = 'u3'`)
	require.NoError(t, err)
	code, _, _ := send(t, h, "GET", "/admin/users", access, "")
	assert.Equal(t, 403, code, "the old token keeps the old roles")
	code, tok, _ := send(t, h, "POST", "/auth/refresh", refresh, "")
	require.Equal(t, 200, code, tok)
	code, _, _ = send(t, h, "GET", "/admin/users", tok["access_token"].(string), "")
	assert.Equal(t, 200, code, "the refreshed token carries the new role")

	require.NoError(t, db.disable(ctx, "u3"))
	code, _, _ = send(t, h, "POST", "/auth/refresh", tok["refresh_token"].(string), "")
	assert.Equal(t, 401, code, "a disabled user's session ends at refresh")
	code, _, _ = send(t, h, "GET", "/me", tok["access_token"].(string), "")
	assert.Equal(t, 401, code, "and its access tokens with it")
	code, _, _ = send(t, h, "POST", "/auth/login", "", `{"username":"carol@globex.test","password":"carol-password"}`)
	assert.Equal(t, 401, code)
}

func TestPasswordChange(t *testing.T) {
	db := fixture(t)
	h, _ := newIssuer(t, db, nil)
	access, refresh := login(t, h, "bob@acme.test", "bob-password")
	code, _, _ := send(t, h, "POST", "/account/password", access, `{"current":"wrong","new":"a-new-password"}`)
	assert.Equal(t, 401, code)
	code, _, _ = send(t, h, "POST", "/account/password", access, `{"current":"bob-password","new":"short"}`)
	assert.Equal(t, 400, code)
	code, _, _ = send(t, h, "POST", "/account/password", access, `{"current":"bob-password","new":"a-new-password"}`)
	assert.Equal(t, 204, code)
	code, _, _ = send(t, h, "GET", "/me", access, "")
	assert.Equal(t, 401, code, "every token before the change is refused")
	code, _, _ = send(t, h, "POST", "/auth/refresh", refresh, "")
	assert.Equal(t, 401, code)
	login(t, h, "bob@acme.test", "a-new-password")
}

// The reports service trusts the issuer's published keys and nothing else.
func TestReportsService(t *testing.T) {
	db := fixture(t)
	h, _ := newIssuer(t, db, nil)
	iss := httptest.NewTLSServer(h)
	defer iss.Close()
	rep, err := reports(iss.URL+"/.well-known/jwks.json", ginfresh.JWKSHTTPClient(iss.Client()))
	require.NoError(t, err)
	bob, _ := login(t, h, "bob@acme.test", "bob-password")
	code, body, _ := send(t, rep, "GET", "/reports", bob, "")
	require.Equal(t, 200, code, body)
	assert.Equal(t, "acme", body["tenant"])
	alice, _ := login(t, h, "alice@acme.test", "alice-password")
	code, body, _ = send(t, rep, "GET", "/reports", alice, "")
	assert.Equal(t, 403, code)
	assert.Equal(t, "insufficient_scope", body["code"])
	code, _, _ = send(t, rep, "GET", "/reports", "forged."+bob, "")
	assert.Equal(t, 401, code)
}

// Two issuer instances share sessions through Redis: one key, one store.
func TestTwoInstancesOnRedis(t *testing.T) {
	addr := os.Getenv("GINFRESH_TEST_REDIS_ADDR")
	if addr == "" {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("GINFRESH_TEST_REDIS_ADDR is not set: CI must run this against a real Redis")
		}
		t.Skip("GINFRESH_TEST_REDIS_ADDR is not set: skipping; run with scripts/with-redis.sh")
	}
	dir := t.TempDir()
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	keyFile := filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	env := map[string]string{"DB": filepath.Join(dir, "users.db"), "SIGNING_KEY": keyFile, "REDIS_URL": "redis://" + addr + "/0"}
	a, err := build(func(k string) string { return env[k] })
	require.NoError(t, err)
	b, err := build(func(k string) string { return env[k] })
	require.NoError(t, err)
	db, err := openUsers(env["DB"])
	require.NoError(t, err)
	require.NoError(t, db.add(context.Background(), "u9", "dave@acme.test", "dave-password", "acme"))

	_, refresh := login(t, a, "dave@acme.test", "dave-password")
	code, tok, _ := send(t, b, "POST", "/auth/refresh", refresh, "")
	require.Equal(t, 200, code, tok)
	code, _, _ = send(t, a, "POST", "/auth/refresh", refresh, "")
	assert.Equal(t, 401, code, "the other instance knows the token was used")
}
