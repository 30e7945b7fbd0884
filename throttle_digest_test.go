package ginfresh_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
)

func TestThrottleKeyValidated(t *testing.T) {
	for _, n := range []int{1, ginfresh.MinHMACKeySize - 1} {
		_, err := ginfresh.New(ginfresh.WithHMACKey(testKey), ginfresh.WithAuthenticator(testAuthenticator),
			ginfresh.WithLoginThrottle(ginfresh.Throttle{Key: bytes.Repeat([]byte{'k'}, n)}))
		require.ErrorIs(t, err, ginfresh.ErrInvalidKey, "%d bytes", n)
		assert.ErrorContains(t, err, "WithLoginThrottle")
	}
	_, err := ginfresh.New(ginfresh.WithHMACKey(testKey), ginfresh.WithAuthenticator(testAuthenticator),
		ginfresh.WithLoginThrottle(ginfresh.Throttle{Key: bytes.Repeat([]byte{'k'}, ginfresh.MinHMACKeySize)}))
	assert.NoError(t, err)
}

// opaqueFormat is a format of WithFormat: its keys are its own.
type opaqueFormat struct{}

func (opaqueFormat) Issue(ginfresh.TokenType, *ginfresh.Claims) (string, error) { return "x", nil }
func (opaqueFormat) Verify(ginfresh.TokenType, string) (*ginfresh.Claims, error) {
	return nil, ginfresh.ErrTokenInvalid
}

// loggedAccount returns the digest a failed login for alice is logged by.
func loggedAccount(t *testing.T, opts ...ginfresh.Option) string {
	t.Helper()
	logs := &capture{}
	f := newKeyFixture(t, append(opts, ginfresh.WithLogger(slog.New(logs)))...)
	require.Equal(t, http.StatusUnauthorized, f.loginFrom(attacker, "alice", "guess").Code)
	failed := logs.find("login failed")
	require.Len(t, failed, 1)
	require.NotEmpty(t, failed[0].attrs["account"])
	return failed[0].attrs["account"]
}

// publicDigest is what anyone could compute for an account if the digest
// key were a constant: HMAC under the HMAC of the label with no key.
func publicDigest(account string) string {
	k := hmac.New(sha256.New, nil)
	k.Write([]byte("ginfresh login throttle"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte("account\x00" + account + "\x00"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Without an HMAC secret the digest key comes from the private signing key,
// so logged digests cannot be matched against guessed usernames offline,
// yet instances sharing the key share the digests and so the counters.
func TestThrottleDigestKeyedBySigningKey(t *testing.T) {
	explicit := ginfresh.WithLoginThrottle(ginfresh.Throttle{Key: bytes.Repeat([]byte("0123456789abcdef"), 2)})
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			k, other := signingKey(t, alg), signingKey(t, alg)
			if alg == "RS256" {
				var err error
				other, err = ginfresh.NewSigningKey("", alg, testRSAKey(t, 1))
				require.NoError(t, err)
			}
			got := loggedAccount(t, ginfresh.WithSigningKey(k))
			assert.NotEqual(t, publicDigest("alice"), got, "the digest is keyed")
			assert.Equal(t, got, loggedAccount(t, ginfresh.WithSigningKey(k)), "instances with one signing key agree")
			assert.NotEqual(t, got, loggedAccount(t, ginfresh.WithSigningKey(other)), "another signing key, another digest")

			withKey := loggedAccount(t, ginfresh.WithSigningKey(k), explicit)
			assert.NotEqual(t, got, withKey, "an explicit Key replaces the derived one")
			assert.Equal(t, withKey, loggedAccount(t, ginfresh.WithSigningKey(other), explicit))
		})
	}
	t.Run("RSA from PKCS#1 PEM", func(t *testing.T) {
		// Instances usually load one key file; its encoding does not matter.
		k, err := ginfresh.NewSigningKey("", "RS256", testRSAKey(t, 0))
		require.NoError(t, err)
		fromPEM, err := ginfresh.ParsePrivateKeyPEM("", "RS256", pemBytes(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(testRSAKey(t, 0))))
		require.NoError(t, err)
		assert.Equal(t, loggedAccount(t, ginfresh.WithSigningKey(k)), loggedAccount(t, ginfresh.WithSigningKey(fromPEM)))
	})
	t.Run("EdDSA shares counters", func(t *testing.T) {
		store, k := ginfresh.NewMemoryStore(), signingKey(t, "EdDSA")
		a := newKeyFixture(t, ginfresh.WithSigningKey(k), ginfresh.WithStore(store))
		b := newKeyFixture(t, ginfresh.WithSigningKey(k), ginfresh.WithStore(store))
		for range ginfresh.DefaultAccountAttempts {
			require.Equal(t, http.StatusUnauthorized, a.loginFrom(attacker, "alice", "guess").Code)
		}
		requireThrottled(t, b.loginFrom(attacker, "alice", "guess"))
	})
}

// A signer or format that shows no key gets a random digest key per
// instance; a shared Key makes instances agree again.
func TestThrottleDigestWithoutVisibleKey(t *testing.T) {
	explicit := ginfresh.WithLoginThrottle(ginfresh.Throttle{Key: bytes.Repeat([]byte("0123456789abcdef"), 2)})
	signer, err := ginfresh.NewSigningKey("", "EdDSA", opaqueSigner{testEdKey(t)})
	require.NoError(t, err)
	for name, opt := range map[string]ginfresh.Option{
		"opaque signer": ginfresh.WithSigningKey(signer),
		"WithFormat":    ginfresh.WithFormat(opaqueFormat{}),
	} {
		t.Run(name, func(t *testing.T) {
			a, b := loggedAccount(t, opt), loggedAccount(t, opt)
			assert.NotEqual(t, publicDigest("alice"), a)
			assert.NotEqual(t, a, b, "each instance has a key of its own")
			assert.Equal(t, loggedAccount(t, opt, explicit), loggedAccount(t, opt, explicit), "a shared Key makes them agree")
		})
	}
}
