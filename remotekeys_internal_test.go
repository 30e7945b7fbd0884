package ginfresh

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An unchanged set must not read as a dropped key, or every fetch would
// empty the token cache; configured HMAC keys have no Equal method.
func TestDropsKeyComparesHMACSecrets(t *testing.T) {
	secret := []byte("remote-test-key-0123456789-0123456789")
	k1, err := NewHMACKey("h", "HS256", secret)
	require.NoError(t, err)
	k2, err := NewHMACKey("h", "HS256", secret)
	require.NoError(t, err)
	other, err := NewHMACKey("h", "HS256", []byte("another-test-key-0123456789-01234567"))
	require.NoError(t, err)
	build := func(k *Key) *jwtFormat {
		f, err := buildJWTFormat(nil, []*Key{k})
		require.NoError(t, err)
		return f
	}
	assert.False(t, dropsKey(build(k1), build(k2)), "the same secret under the same kid")
	assert.True(t, dropsKey(build(k1), build(other)), "another secret under the kid")
}
