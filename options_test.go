package ginfresh_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
)

// verificationKey is a public key that verifies but cannot sign.
func verificationKey(t testing.TB) *ginfresh.Key {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ginfresh.NewVerificationKey("", ginfresh.EdDSA, pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newFails calls New with opts and checks that it fails naming each of
// want.
func newFails(t *testing.T, opts []ginfresh.Option, want ...string) error {
	t.Helper()
	a, err := ginfresh.New(opts...)
	if err == nil || a != nil {
		t.Fatalf("New = %v, %v; want an error", a, err)
	}
	if !strings.HasPrefix(err.Error(), "ginfresh: ") {
		t.Errorf("%q lacks the package prefix", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}
	return err
}

func TestNewValidation(t *testing.T) {
	key := ginfresh.WithHMACKey(hmacTestKey)
	tests := []struct {
		name    string
		opts    []ginfresh.Option
		wantErr []string
	}{
		{"nothing", nil, []string{"signing key is required (use WithHMACKey"}},
		{"nil option", []ginfresh.Option{key, nil}, []string{"nil option"}},
		{"short key", []ginfresh.Option{ginfresh.WithHMACKey([]byte("short"))}, []string{"WithHMACKey", "at least 32"}},
		{"refresh outlives the session", []ginfresh.Option{key, ginfresh.WithRefreshTTL(48 * time.Hour), ginfresh.WithSessionLifetime(24 * time.Hour)}, []string{"exceeds the session lifetime"}},
		{"two signing keys", []ginfresh.Option{key, ginfresh.WithSigningKey(mustHMACKey(t))}, []string{"WithHMACKey and WithSigningKey", "pass one"}},
		{"public key to sign", []ginfresh.Option{ginfresh.WithSigningKey(verificationKey(t))}, []string{"WithSigningKey", "cannot sign"}},
		{"key set URL and a signing key", []ginfresh.Option{key, ginfresh.WithJWKSURL("https://issuer.example/jwks.json")}, []string{"WithJWKSURL", "cannot be combined"}},
		{"key set over http", []ginfresh.Option{ginfresh.WithJWKSURL("http://issuer.example/jwks.json")}, []string{"WithJWKSURL", "must be https"}},
		{"cookies no source reads", []ginfresh.Option{key, ginfresh.WithCookies("/auth/"), ginfresh.WithTokenSources(ginfresh.FromHeader())}, []string{"no token source reads"}},
		{"__Host- refresh cookie on a path", []ginfresh.Option{key, ginfresh.WithCookies("/auth/"), ginfresh.WithCookieNames("a", "__Host-r", "c")}, []string{"__Host- prefix needs the refresh path /"}},
		{"nil authenticator", []ginfresh.Option{key, ginfresh.WithAuthenticator(nil)}, []string{"WithAuthenticator"}},
		{"nil refresh hook", []ginfresh.Option{key, ginfresh.WithRefreshHook(nil)}, []string{"WithRefreshHook"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { newFails(t, tt.opts, tt.wantErr...) })
	}

	// No authenticator is needed: an app may sign users in with Auth.Login
	// only, and a resource server signs no one in.
	for name, opts := range map[string][]ginfresh.Option{
		"HMAC key only":     {key},
		"public keys only":  {ginfresh.WithVerificationKeys(verificationKey(t))},
		"format only":       {ginfresh.WithFormat(newSignedFormat())},
		"key set URL only":  {ginfresh.WithJWKSURL("https://issuer.example/jwks.json")},
		"repeatable option": {key, ginfresh.WithVerificationKeys(verificationKey(t)), ginfresh.WithVerificationKeys(verificationKey(t)), ginfresh.WithTrustedOrigins("https://a.example"), ginfresh.WithTrustedOrigins("https://b.example")},
	} {
		if _, err := ginfresh.New(opts...); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func mustHMACKey(t testing.TB) *ginfresh.Key {
	t.Helper()
	k, err := ginfresh.NewHMACKey("k1", ginfresh.HS384, hmacTestKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestOptionsGivenTwice: an option that sets one thing, given twice, is an
// error naming it: the second would silently replace the first. The list
// is checked against options.go, so a new option cannot skip this test.
func TestOptionsGivenTwice(t *testing.T) {
	single := map[string]ginfresh.Option{
		"WithHMACKey":            ginfresh.WithHMACKey(hmacTestKey),
		"WithSigningKey":         ginfresh.WithSigningKey(mustHMACKey(t)),
		"WithJWKSURL":            ginfresh.WithJWKSURL("https://issuer.example/jwks.json"),
		"WithJWKSMaxAge":         ginfresh.WithJWKSMaxAge(time.Minute),
		"WithFormat":             ginfresh.WithFormat(newSignedFormat()),
		"WithAuthenticator":      ginfresh.WithAuthenticator(testkit.Authenticate),
		"WithRefreshHook":        ginfresh.WithRefreshHook(func(*gin.Context, *ginfresh.Claims) (ginfresh.Identity, error) { return ginfresh.Identity{}, nil }),
		"WithAccessTTL":          ginfresh.WithAccessTTL(time.Minute),
		"WithRefreshTTL":         ginfresh.WithRefreshTTL(time.Hour),
		"WithSessionLifetime":    ginfresh.WithSessionLifetime(24 * time.Hour),
		"WithIdleTimeout":        ginfresh.WithIdleTimeout(time.Hour),
		"WithoutRefreshRotation": ginfresh.WithoutRefreshRotation(),
		"WithAccessRevocation":   ginfresh.WithAccessRevocation(),
		"WithStore":              ginfresh.WithStore(ginfresh.NewMemoryStore()),
		"WithStoreTimeout":       ginfresh.WithStoreTimeout(time.Second),
		"WithIssuer":             ginfresh.WithIssuer("https://issuer.example"),
		"WithAudience":           ginfresh.WithAudience("api"),
		"WithLeeway":             ginfresh.WithLeeway(time.Second),
		"WithTimeFunc":           ginfresh.WithTimeFunc(time.Now),
		"WithRealm":              ginfresh.WithRealm("api"),
		"WithScopeClaim":         ginfresh.WithScopeClaim("roles"),
		"WithTokenCache":         ginfresh.WithTokenCache(100),
		"WithTokenSources":       ginfresh.WithTokenSources(ginfresh.FromHeader()),
		"WithCookies":            ginfresh.WithCookies("/auth/"),
		"WithCookieNames":        ginfresh.WithCookieNames("a", "r", "c"),
		"WithCookieSameSite":     ginfresh.WithCookieSameSite(http.SameSiteStrictMode),
		"WithErrorHandler":       ginfresh.WithErrorHandler(func(*gin.Context, *ginfresh.Error) {}),
		"WithLogger":             ginfresh.WithLogger(slog.Default()),
		"WithLoginThrottle":      ginfresh.WithLoginThrottle(ginfresh.Throttle{}),
		"WithoutLoginThrottle":   ginfresh.WithoutLoginThrottle(),
	}
	src, err := os.ReadFile("options.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`set\("(\w+)"`).FindAllStringSubmatch(string(src), -1) {
		if _, ok := single[m[1]]; !ok {
			t.Errorf("options.go declares %s single-valued; add it to this test", m[1])
		}
	}
	for name, opt := range single {
		t.Run(name, func(t *testing.T) {
			newFails(t, []ginfresh.Option{opt, opt}, name+" given twice")
			if _, err := ginfresh.New(opt); err != nil && strings.Contains(err.Error(), "twice") {
				t.Errorf("given once: %v", err)
			}
		})
	}
}

// TestNewReportsEveryError: one New call names every problem, so fixing a
// configuration takes one round, not one per mistake.
func TestNewReportsEveryError(t *testing.T) {
	err := newFails(t, []ginfresh.Option{
		ginfresh.WithAccessTTL(0),
		ginfresh.WithStoreTimeout(time.Minute),
		ginfresh.WithScopeClaim(""),
		ginfresh.WithRealm(""),
		ginfresh.WithLeeway(time.Hour),
		ginfresh.WithHMACKey(hmacTestKey),
		ginfresh.WithHMACKey(hmacTestKey),
	}, "ginfresh: invalid option: ", "WithAccessTTL", "WithStoreTimeout", "WithScopeClaim", "WithRealm", "WithLeeway", "WithHMACKey given twice")
	if n := strings.Count(err.Error(), "\n") + 1; n != 6 {
		t.Errorf("%d lines, want one per failing option:\n%v", n, err)
	}

	// Settings that are each valid but wrong together, and a missing key.
	newFails(t, []ginfresh.Option{
		ginfresh.WithRefreshTTL(48 * time.Hour), ginfresh.WithSessionLifetime(24 * time.Hour),
		ginfresh.WithIdleTimeout(time.Minute),
		ginfresh.WithLoginThrottle(ginfresh.Throttle{}), ginfresh.WithoutLoginThrottle(),
	}, "signing key is required", "exceeds the session lifetime", "idle timeout", "contradict")
}

func TestWithStoreTimeout(t *testing.T) {
	for _, tt := range []struct {
		d  time.Duration
		ok bool
	}{
		{time.Nanosecond, true},
		{2 * time.Second, true},
		{30 * time.Second, true},
		{30*time.Second + time.Nanosecond, false},
		{time.Hour, false},
		{0, false},
		{-time.Second, false},
	} {
		t.Run(tt.d.String(), func(t *testing.T) {
			opts := []ginfresh.Option{ginfresh.WithHMACKey(hmacTestKey), ginfresh.WithStoreTimeout(tt.d)}
			if tt.ok {
				if _, err := ginfresh.New(opts...); err != nil {
					t.Fatal(err)
				}
				return
			}
			newFails(t, opts, "WithStoreTimeout")
		})
	}
}

// TestWithIdleTimeoutOption: no access token may outlive the idle timeout,
// since the store forgets an idle session, and its revocation with it.
func TestWithIdleTimeoutOption(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []ginfresh.Option
		ok   bool
	}{
		{"shorter than the default access TTL", []ginfresh.Option{ginfresh.WithIdleTimeout(10 * time.Minute)}, false},
		{"the access TTL", []ginfresh.Option{ginfresh.WithIdleTimeout(15 * time.Minute)}, true},
		{"the access TTL, with leeway", []ginfresh.Option{ginfresh.WithIdleTimeout(15 * time.Minute), ginfresh.WithLeeway(time.Second)}, false},
		{"the access TTL plus leeway", []ginfresh.Option{ginfresh.WithIdleTimeout(16 * time.Minute), ginfresh.WithLeeway(time.Minute)}, true},
		{"a shorter access TTL", []ginfresh.Option{ginfresh.WithIdleTimeout(5 * time.Minute), ginfresh.WithAccessTTL(5 * time.Minute)}, true},
		{"zero", []ginfresh.Option{ginfresh.WithIdleTimeout(0)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]ginfresh.Option{ginfresh.WithHMACKey(hmacTestKey)}, tt.opts...)
			if tt.ok {
				if _, err := ginfresh.New(opts...); err != nil {
					t.Fatal(err)
				}
				return
			}
			newFails(t, opts, "dle") // "idle timeout …" or "WithIdleTimeout: …"
		})
	}
}

func TestLoginThrottleOptions(t *testing.T) {
	key := ginfresh.WithHMACKey(hmacTestKey)
	newFails(t, []ginfresh.Option{key, ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 5}), ginfresh.WithoutLoginThrottle()}, "WithLoginThrottle and WithoutLoginThrottle contradict")
	for _, tt := range []struct {
		name string
		th   ginfresh.Throttle
		want string
	}{
		{"negative", ginfresh.Throttle{PerAccount: -1}, "negative"},
		{"account limit over the client's", ginfresh.Throttle{PerAccount: 20, PerClient: 10}, "exceeds PerClient"},
		{"window over a day", ginfresh.Throttle{Window: 25 * time.Hour}, "window"},
		{"short key", ginfresh.Throttle{Key: []byte("short")}, "at least 32"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := newFails(t, []ginfresh.Option{key, ginfresh.WithLoginThrottle(tt.th)}, "WithLoginThrottle", tt.want)
			if tt.th.Key != nil && !errors.Is(err, ginfresh.ErrInvalidKey) {
				t.Errorf("%v: want ErrInvalidKey", err)
			}
		})
	}
	for _, opt := range []ginfresh.Option{ginfresh.WithoutLoginThrottle(), ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 5, PerClient: 50, Window: time.Hour})} {
		if _, err := ginfresh.New(key, opt); err != nil {
			t.Error(err)
		}
	}
}

// TestWithFormatRefusesKeyOptions: a format holds its own keys; a key
// option beside it would be silently ignored, so it is an error instead.
func TestWithFormatRefusesKeyOptions(t *testing.T) {
	for name, opt := range map[string]ginfresh.Option{
		"WithHMACKey":          ginfresh.WithHMACKey(hmacTestKey),
		"WithSigningKey":       ginfresh.WithSigningKey(mustHMACKey(t)),
		"WithVerificationKeys": ginfresh.WithVerificationKeys(verificationKey(t)),
		"WithJWKSURL":          ginfresh.WithJWKSURL("https://issuer.example/jwks.json"),
		"WithJWKSMaxAge":       ginfresh.WithJWKSMaxAge(time.Minute),
	} {
		t.Run(name, func(t *testing.T) {
			newFails(t, []ginfresh.Option{ginfresh.WithFormat(newSignedFormat()), opt}, "WithFormat holds its own keys; drop "+name)
		})
	}
	newFails(t, []ginfresh.Option{ginfresh.WithFormat(nil)}, "WithFormat")
}

func TestWithRealmOption(t *testing.T) {
	for _, realm := range []string{"", `a"b`, `a\b`, "caf\u00e9", "a\nb"} {
		newFails(t, []ginfresh.Option{ginfresh.WithHMACKey(hmacTestKey), ginfresh.WithRealm(realm)}, "WithRealm")
	}
	s := keyedServer(t, ginfresh.WithRealm("my shop"))
	if ch := s.Get(testkit.Protected, "").Header().Get("WWW-Authenticate"); ch != `Bearer realm="my shop"` {
		t.Errorf("challenge %q", ch)
	}
}

// TestWithScopeClaimOption: RequireScopes reads the named claim, here an array,
// and only that one.
func TestWithScopeClaimOption(t *testing.T) {
	newFails(t, []ginfresh.Option{ginfresh.WithHMACKey(hmacTestKey), ginfresh.WithScopeClaim("")}, "WithScopeClaim")

	s := bareServer(t, ginfresh.WithScopeClaim("roles"), ginfresh.WithAuthenticator(func(*gin.Context, *ginfresh.LoginRequest) (ginfresh.Identity, error) {
		return ginfresh.Identity{Subject: "alice", Custom: map[string]any{"roles": []string{"admin"}, "scope": "write"}}, nil
	}))
	tok := s.Login(t, "alice")
	testkit.Status(t, s.Get(testkit.Admin, tok.AccessToken), http.StatusOK)
	testkit.Refused(t, s.Post(testkit.Writer, tok.AccessToken, ""), http.StatusForbidden, "insufficient_scope")
}

// TestVerifyUnknownKindIsError: a Kind that is neither Access nor Refresh is the
// caller's mistake, never a token that verifies.
func TestVerifyUnknownKindIsError(t *testing.T) {
	s := keyedServer(t)
	tok := s.Login(t, "alice")
	for _, k := range []ginfresh.Kind{0, 3, 255} {
		for _, token := range []string{tok.AccessToken, tok.RefreshToken} {
			if c, err := s.Auth.Verify(context.Background(), k, token); err == nil || c != nil {
				t.Errorf("Verify(Kind(%d)) = %v, %v; want an error", k, c, err)
			}
		}
		if k.String() != "unknown" {
			t.Errorf("Kind(%d).String() = %q", k, k.String())
		}
	}
}
