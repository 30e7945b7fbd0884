package ginfresh

// Hooks into internals for the external tests and benchmarks, which cannot
// observe these through the API.

import (
	"context"
	"net/http"
	"time"
)

// MemorySweepBatch is how many due records one write to a memory-store
// shard drops at most, for the tests of incremental expiry.
const MemorySweepBatch = sweepBatch

// DropsKey reports whether a key set fetched as next withdraws a key of
// prev, or binds its kid to other material (which empties the token cache).
func DropsKey(prev, next []*Key) (bool, error) {
	p, err := buildJWTFormat(nil, prev)
	if err != nil {
		return false, err
	}
	n, err := buildJWTFormat(nil, next)
	if err != nil {
		return false, err
	}
	return dropsKey(p, n), nil
}

// BearerToken reads a request's Bearer token, for the benchmarks.
func BearerToken(r *http.Request) (string, error) { return bearerToken(r) }

// FormatVerify runs the format's check alone, for the benchmarks.
func (a *Auth) FormatVerify(k Kind, token string) ([]byte, error) { return a.format.Verify(k, token) }

// DecodeClaims decodes a payload alone, for the benchmarks.
func DecodeClaims(payload string) (*Claims, error) { return decodeClaims(payload) }

// CacheHit is a repeat sight's look-up and claim checks, for the
// benchmarks: it reports whether token was found and still holds.
func (a *Auth) CacheHit(token string, now time.Time) bool {
	c := a.cache.Get(token, now)
	return c != nil && a.validate(c, Access, now) == nil
}

// CacheWarm verifies token once so that the cache holds it.
func (a *Auth) CacheWarm(token string) error {
	_, err := a.verify(context.Background(), Access, token)
	return err
}
