package paseto_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/internal/testkit"
	"github.com/ginfresh/ginfresh/paseto"
)

func TestKeyConstructors(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "a fixed seed for the key tests..")
	private := ed25519.NewKeyFromSeed(seed)
	broken := append(ed25519.PrivateKey(nil), private...)
	broken[40] ^= 1 // the embedded public key no longer matches the seed

	tests := []struct {
		name    string
		build   func() (interface{ ID() string }, error)
		wantErr string
	}{
		{"secret from Go value", func() (interface{ ID() string }, error) { return paseto.NewSecretKey("k1", private) }, ""},
		{"secret from seed", func() (interface{ ID() string }, error) { return paseto.SecretKeyFromBytes("k1", seed) }, ""},
		{"secret from 64 bytes", func() (interface{ ID() string }, error) { return paseto.SecretKeyFromBytes("k1", private) }, ""},
		{"secret from hex", func() (interface{ ID() string }, error) {
			return paseto.SecretKeyFromHex("k1", hex.EncodeToString(seed))
		}, ""},
		{"secret of 31 bytes", func() (interface{ ID() string }, error) { return paseto.SecretKeyFromBytes("k1", seed[:31]) }, "31 bytes"},
		{"secret not hex", func() (interface{ ID() string }, error) { return paseto.SecretKeyFromHex("k1", "zz") }, "not hex"},
		{"secret with mismatched public half", func() (interface{ ID() string }, error) { return paseto.NewSecretKey("k1", broken) }, "secret key"},
		{"public from hex", func() (interface{ ID() string }, error) {
			return paseto.PublicKeyFromHex("k1", hex.EncodeToString(private.Public().(ed25519.PublicKey)))
		}, ""},
		{"public of 33 bytes", func() (interface{ ID() string }, error) { return paseto.NewPublicKey("k1", make([]byte, 33)) }, "public key"},
		{"local from hex", func() (interface{ ID() string }, error) {
			return paseto.LocalKeyFromHex("k1", hex.EncodeToString(seed))
		}, ""},
		{"local of 16 bytes", func() (interface{ ID() string }, error) { return paseto.NewLocalKey("k1", seed[:16]) }, "local key"},
		{"id too long", func() (interface{ ID() string }, error) {
			return paseto.NewLocalKey(strings.Repeat("k", paseto.MaxKeyIDSize+1), seed)
		}, "key id"},
		{"id with a control character", func() (interface{ ID() string }, error) { return paseto.NewLocalKey("k\n1", seed) }, "key id"},
		{"id with non-ASCII", func() (interface{ ID() string }, error) { return paseto.NewLocalKey("clé", seed) }, "key id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := tt.build()
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "k1", k.ID())
		})
	}
}

func TestKeyIDs(t *testing.T) {
	sk, err := paseto.GenerateSecretKey("")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(sk.ID(), "k4.pid."), sk.ID())
	assert.Equal(t, sk.ID(), sk.Public().ID(), "a secret key is named by its public half")

	again, err := paseto.SecretKeyFromHex("", sk.ExportHex())
	require.NoError(t, err)
	assert.Equal(t, sk.ID(), again.ID(), "the derived id survives export and import")
	pub, err := paseto.PublicKeyFromHex("", sk.Public().ExportHex())
	require.NoError(t, err)
	assert.Equal(t, sk.ID(), pub.ID())

	lk, err := paseto.GenerateLocalKey("")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(lk.ID(), "k4.lid."), lk.ID())
	assert.NotContains(t, lk.ID(), lk.ExportHex())
	lk2, err := paseto.LocalKeyFromHex("", lk.ExportHex())
	require.NoError(t, err)
	assert.Equal(t, lk.ID(), lk2.ID())
}

func TestKeyCopiesCallerBytes(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	lk, err := paseto.NewLocalKey("k", secret)
	require.NoError(t, err)
	f, err := paseto.NewLocal(lk)
	require.NoError(t, err)
	srv := testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithFormat(f))
	tok := srv.Login(t, "alice")
	copy(secret, "ffffffffffffffffffffffffffffffff") // the caller reuses its buffer
	assert.Equal(t, http.StatusOK, srv.Get(testkit.Protected, tok.AccessToken).Code)

	_, private, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	sk, err := paseto.NewSecretKey("k", private)
	require.NoError(t, err)
	pf, err := paseto.NewPublic(sk)
	require.NoError(t, err)
	srv = testkit.NewServer(t, testkit.NewClock(), false, ginfresh.WithFormat(pf))
	tok = srv.Login(t, "alice")
	clear(private)
	assert.Equal(t, http.StatusOK, srv.Get(testkit.Protected, tok.AccessToken).Code)
	tok = srv.Login(t, "alice")
	assert.Equal(t, http.StatusOK, srv.Get(testkit.Protected, tok.AccessToken).Code)
}

func TestFormatConstructors(t *testing.T) {
	sk, err := paseto.GenerateSecretKey("k1")
	require.NoError(t, err)
	twin, err := paseto.GenerateSecretKey("k1")
	require.NoError(t, err)
	lk, err := paseto.GenerateLocalKey("k1")
	require.NoError(t, err)
	ltwin, err := paseto.GenerateLocalKey("k1")
	require.NoError(t, err)
	tests := []struct {
		name    string
		build   func() (*paseto.Format, error)
		wantErr string
	}{
		{"public", func() (*paseto.Format, error) { return paseto.NewPublic(sk) }, ""},
		{"public without signer", func() (*paseto.Format, error) { return paseto.NewPublic(nil) }, "nil signer"},
		{"public with a nil verifier", func() (*paseto.Format, error) { return paseto.NewPublic(sk, nil) }, "nil public key"},
		{"public ids collide", func() (*paseto.Format, error) { return paseto.NewPublic(sk, twin.Public()) }, `share the id "k1"`},
		{"verifier", func() (*paseto.Format, error) { return paseto.NewPublicVerifier(sk.Public()) }, ""},
		{"verifier without keys", func() (*paseto.Format, error) { return paseto.NewPublicVerifier() }, "no keys"},
		{"local", func() (*paseto.Format, error) { return paseto.NewLocal(lk) }, ""},
		{"local without key", func() (*paseto.Format, error) { return paseto.NewLocal(nil) }, "nil key"},
		{"local with a nil key", func() (*paseto.Format, error) { return paseto.NewLocal(lk, nil) }, "nil local key"},
		{"local ids collide", func() (*paseto.Format, error) { return paseto.NewLocal(lk, ltwin) }, `share the id "k1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := tt.build()
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, f)
		})
	}
}

func TestVerifyOnly(t *testing.T) {
	sk, err := paseto.GenerateSecretKey("")
	require.NoError(t, err)
	f, err := paseto.NewPublicVerifier(sk.Public())
	require.NoError(t, err)
	assert.False(t, f.CanIssue())
	assert.Nil(t, f.DeriveKey("label"), "a verifier holds no secret to derive from")
	_, err = f.Issue(ginfresh.Access, []byte(`{"sub":"alice"}`))
	assert.ErrorIs(t, err, ginfresh.ErrCannotIssue)

	_, err = ginfresh.New(ginfresh.WithFormat(f))
	assert.NoError(t, err, "a resource server needs no authenticator")
	signer, err := paseto.NewPublic(sk)
	require.NoError(t, err)
	assert.True(t, signer.CanIssue())
	assert.NotNil(t, signer.DeriveKey("label"))
}

// rotation is one key rotation of a purpose: tokens of old, an Auth that
// issues with next and still verifies old, and one that has dropped old.
type rotation struct {
	name            string
	old, both, next *paseto.Format
	impostor        *paseto.Format // another key under old's id
}

func rotations(t *testing.T) []rotation {
	t.Helper()
	must := func(f *paseto.Format, err error) *paseto.Format { require.NoError(t, err); return f }
	oldSK, err := paseto.GenerateSecretKey("2024")
	require.NoError(t, err)
	newSK, err := paseto.GenerateSecretKey("2025")
	require.NoError(t, err)
	fakeSK, err := paseto.GenerateSecretKey("2024")
	require.NoError(t, err)
	oldLK, err := paseto.GenerateLocalKey("2024")
	require.NoError(t, err)
	newLK, err := paseto.GenerateLocalKey("2025")
	require.NoError(t, err)
	fakeLK, err := paseto.GenerateLocalKey("2024")
	require.NoError(t, err)
	return []rotation{
		{"v4.public", must(paseto.NewPublic(oldSK)), must(paseto.NewPublic(newSK, oldSK.Public())), must(paseto.NewPublic(newSK)), must(paseto.NewPublic(fakeSK))},
		{"v4.local", must(paseto.NewLocal(oldLK)), must(paseto.NewLocal(newLK, oldLK)), must(paseto.NewLocal(newLK)), must(paseto.NewLocal(fakeLK))},
	}
}

func TestRotation(t *testing.T) {
	for _, r := range rotations(t) {
		t.Run(r.name, func(t *testing.T) {
			clk := testkit.NewClock()
			store := ginfresh.NewMemoryStore()
			before := testkit.NewServer(t, clk, false, ginfresh.WithFormat(r.old), ginfresh.WithStore(store))
			tok := before.Login(t, "alice")

			during := testkit.NewServer(t, clk, false, ginfresh.WithFormat(r.both), ginfresh.WithStore(store))
			assert.Equal(t, http.StatusOK, during.Get(testkit.Protected, tok.AccessToken).Code, "old tokens still verify")
			w := during.Refresh(tok.RefreshToken)
			testkit.Status(t, w, http.StatusOK)
			next := testkit.DecodeTokens(t, w)
			assert.Contains(t, footerOf(t, next.AccessToken), `"kid":"2025"`, "new tokens use the active key")

			after := testkit.NewServer(t, clk, false, ginfresh.WithFormat(r.next), ginfresh.WithStore(store))
			assert.Equal(t, http.StatusOK, after.Get(testkit.Protected, next.AccessToken).Code)
			testkit.Refused(t, after.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
			_, err := after.Auth.Verify(context.Background(), ginfresh.Access, tok.AccessToken)
			assert.ErrorIs(t, err, paseto.ErrUnknownKey, "a retired key's tokens name an unknown kid")

			_, err = r.impostor.Verify(ginfresh.Access, tok.AccessToken)
			assert.ErrorIs(t, err, paseto.ErrAuthentication, "a kid is a hint, the key decides")
		})
	}
}

// footerOf returns a token's decoded footer.
func footerOf(t *testing.T, token string) string {
	t.Helper()
	f, err := b64.DecodeString(token[strings.LastIndexByte(token, '.')+1:])
	require.NoError(t, err)
	return string(f)
}

// TestDeriveKey: formats holding the same active key derive the same
// secret, so instances share their login-throttle counters; other keys,
// other labels and the other purpose derive others; a verifier derives
// none.
func TestDeriveKey(t *testing.T) {
	const label = "ginfresh login throttle"
	sk, err := paseto.GenerateSecretKey("")
	require.NoError(t, err)
	skAgain, err := paseto.SecretKeyFromHex("another id", sk.ExportHex())
	require.NoError(t, err)
	otherSK, err := paseto.GenerateSecretKey("")
	require.NoError(t, err)
	lk, err := paseto.GenerateLocalKey("")
	require.NoError(t, err)
	lkAgain, err := paseto.LocalKeyFromHex("", lk.ExportHex())
	require.NoError(t, err)
	otherLK, err := paseto.GenerateLocalKey("")
	require.NoError(t, err)
	must := func(f *paseto.Format, err error) *paseto.Format { require.NoError(t, err); return f }

	public := must(paseto.NewPublic(sk)).DeriveKey(label)
	assert.Len(t, public, 32)
	assert.Equal(t, public, must(paseto.NewPublic(skAgain)).DeriveKey(label), "same key, same secret")
	assert.Equal(t, public, must(paseto.NewPublic(sk, otherSK.Public())).DeriveKey(label), "verifier keys play no part")
	assert.NotEqual(t, public, must(paseto.NewPublic(otherSK)).DeriveKey(label), "another key")
	assert.NotEqual(t, public, must(paseto.NewPublic(sk)).DeriveKey("another label"))

	local := must(paseto.NewLocal(lk)).DeriveKey(label)
	assert.Len(t, local, 32)
	assert.Equal(t, local, must(paseto.NewLocal(lkAgain)).DeriveKey(label))
	assert.Equal(t, local, must(paseto.NewLocal(lk, otherLK)).DeriveKey(label), "retired keys play no part")
	assert.NotEqual(t, local, must(paseto.NewLocal(otherLK)).DeriveKey(label))
	assert.NotEqual(t, local, must(paseto.NewLocal(otherLK, lk)).DeriveKey(label), "the active key decides")
	assert.NotEqual(t, local, public)

	assert.Nil(t, must(paseto.NewPublicVerifier(sk.Public())).DeriveKey(label))

	f := must(paseto.NewPublic(sk))
	d := f.DeriveKey(label)
	d[0] ^= 1
	assert.Equal(t, public, f.DeriveKey(label), "the caller owns the slice")
}

// TestThrottleSharedAcrossInstances: instances holding the same key and
// store count the same login attempts, since ginfresh keys its throttle
// digests with DeriveKey; so do a JWT and a PASETO instance on one key,
// as while a fleet moves between formats.
func TestThrottleSharedAcrossInstances(t *testing.T) {
	_, private, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	secret := []byte("0123456789abcdef0123456789abcdef")
	sk, err := paseto.NewSecretKey("", private)
	require.NoError(t, err)
	lk, err := paseto.NewLocalKey("", secret)
	require.NoError(t, err)
	jwtKey, err := ginfresh.NewSigningKey("", ginfresh.EdDSA, private)
	require.NoError(t, err)
	must := func(f *paseto.Format, err error) ginfresh.Option {
		require.NoError(t, err)
		return ginfresh.WithFormat(f)
	}
	other, err := paseto.GenerateSecretKey("")
	require.NoError(t, err)

	tests := []struct {
		name   string
		a, b   ginfresh.Option
		shared bool
	}{
		{"v4.public", must(paseto.NewPublic(sk)), must(paseto.NewPublic(sk)), true},
		{"v4.local", must(paseto.NewLocal(lk)), must(paseto.NewLocal(lk)), true},
		{"JWT EdDSA and v4.public", ginfresh.WithSigningKey(jwtKey), must(paseto.NewPublic(sk)), true},
		{"JWT HS256 and v4.local", ginfresh.WithHMACKey(secret), must(paseto.NewLocal(lk)), true},
		{"another key", must(paseto.NewPublic(sk)), must(paseto.NewPublic(other)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := ginfresh.NewMemoryStore()
			clk := testkit.NewClock()
			opts := []ginfresh.Option{ginfresh.WithStore(store), ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 2})}
			a := testkit.NewServer(t, clk, false, append(opts, tt.a)...)
			b := testkit.NewServer(t, clk, false, append(opts, tt.b)...)
			wrong := testkit.Credentials("alice", "wrong")
			testkit.Refused(t, a.Post("/auth/login", "", wrong), http.StatusUnauthorized, "invalid_credentials")
			testkit.Refused(t, b.Post("/auth/login", "", wrong), http.StatusUnauthorized, "invalid_credentials")
			if tt.shared {
				testkit.Refused(t, a.Post("/auth/login", "", wrong), http.StatusTooManyRequests, "too_many_attempts")
				testkit.Refused(t, b.Post("/auth/login", "", wrong), http.StatusTooManyRequests, "too_many_attempts")
			} else {
				testkit.Refused(t, a.Post("/auth/login", "", wrong), http.StatusUnauthorized, "invalid_credentials")
			}
		})
	}
}
