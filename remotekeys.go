package ginfresh

import (
	"crypto"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ginfresh/ginfresh/internal/keyfetch"
)

// Limits of a fetched JWK Set: a larger document, or one with more keys, is
// refused.
const (
	maxJWKSSize = 64 << 10
	maxJWKSKeys = 32
)

// asymmetricAlgs are the algorithms a fetched key may be bound to. HMAC is
// never among them: a shared secret is never taken from a URL.
var asymmetricAlgs = []Algorithm{RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA}

// remoteKeys is the [Format] of a resource server whose keys come from a
// URL (see [WithJWKSURL]). Requests read an immutable snapshot without a
// lock; the fetcher swaps in a new one after each successful fetch.
type remoteKeys struct {
	keys *keyfetch.Fetcher[*jwtFormat]
}

// newRemoteKeys builds the format. dropped runs when a fetch withdraws a
// key (or binds its kid to other material), so that tokens verified with it
// leave the token cache; logf reports fetches.
func newRemoteKeys(cfg *jwksConfig, static []*Key, now func() time.Time, dropped func(), logf func(string, ...any)) (*remoteKeys, error) {
	initial, err := buildJWTFormat(nil, static)
	if err != nil {
		return nil, err
	}
	parse := func(body []byte) (*jwtFormat, error) {
		keys, skipped, err := parseJWKSet(body, cfg.algs)
		if err != nil {
			return nil, err
		}
		f, err := buildJWTFormat(nil, mergeKeys(static, keys))
		if err == nil {
			logf("key set fetched", "keys", len(f.keys), "skipped", skipped)
		}
		return f, err
	}
	swapped := func(old, next *jwtFormat) {
		if dropsKey(old, next) {
			dropped()
		}
	}
	fetch := keyfetch.Config{
		URL: cfg.url, Client: cfg.client, Accept: jwkSetContentType + ", application/json",
		MaxSize: maxJWKSSize, Timeout: cfg.timeout, Refresh: cfg.refresh, MinInterval: cfg.minInterval,
	}
	return &remoteKeys{keys: keyfetch.New(fetch, now, initial, parse, swapped, logf)}, nil
}

// Issue implements [Format]: a resource server never mints tokens.
func (r *remoteKeys) Issue(Kind, []byte) (string, error) { return "", ErrCannotIssue }

// CanIssue implements [Format].
func (r *remoteKeys) CanIssue() bool { return false }

// Verify implements [Format] with the current snapshot, fetching the set
// again when it is due or when the token names a kid the snapshot lacks.
func (r *remoteKeys) Verify(kind Kind, token string) ([]byte, error) {
	f, _ := r.keys.Current()
	p, err := f.Verify(kind, token)
	if err == nil || !errors.Is(err, errUnknownKey) {
		return p, err
	}
	// The issuer may have rotated to a key published after our last fetch.
	r.keys.Refetch()
	next, fetched := r.keys.Current()
	if next != f {
		p, err = next.Verify(kind, token)
	}
	if !fetched && errors.Is(err, errUnknownKey) {
		return nil, tokenError(ErrKeySetUnavailable, r.keys.LastError())
	}
	return p, err
}

// parseJWKSet reads an untrusted JWK Set and returns the keys it may use:
// a signature key (use absent or "sig") with an allowed alg and well-formed
// public members. Other entries are skipped, not fatal, so one odd key does
// not cost the rest; a malformed document or one with too many keys is.
func parseJWKSet(body []byte, algs map[Algorithm]bool) (keys []*Key, skipped int, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Keys == nil {
		return nil, 0, errors.New("not a JWK Set")
	}
	if len(doc.Keys) > maxJWKSKeys {
		return nil, 0, fmt.Errorf("%d keys, at most %d are taken", len(doc.Keys), maxJWKSKeys)
	}
	seen := map[string]bool{}
	for _, raw := range doc.Keys {
		var j JWK
		if json.Unmarshal(raw, &j) != nil || !algs[Algorithm(j.Algorithm)] || (j.Use != "" && j.Use != "sig") ||
			(j.KeyOps != nil && !slices.Contains(j.KeyOps, "verify")) {
			skipped++
			continue
		}
		pub, err := j.PublicKey()
		if err != nil {
			skipped++
			continue
		}
		k, err := NewVerificationKey(j.KeyID, Algorithm(j.Algorithm), pub)
		if err != nil || seen[k.id] {
			skipped++
			continue
		}
		seen[k.id] = true
		keys = append(keys, k)
	}
	return keys, skipped, nil
}

// mergeKeys puts the configured keys first; a fetched key cannot replace
// one of them by taking its kid.
func mergeKeys(static, fetched []*Key) []*Key {
	all := append([]*Key(nil), static...)
	taken := map[string]bool{}
	for _, k := range static {
		taken[k.id] = true
	}
	for _, k := range fetched {
		if !taken[k.id] {
			all = append(all, k)
		}
	}
	return all
}

// dropsKey reports whether next lacks a kid of prev, or binds it to other
// material.
func dropsKey(prev, next *jwtFormat) bool {
	for id, k := range prev.keys {
		n, ok := next.keys[id]
		if n == k {
			continue // a configured key: the same *Key in every snapshot
		}
		if !ok || n.alg != k.alg || !publicEqual(n.public, k.public) {
			return true
		}
	}
	return false
}

func publicEqual(a, b any) bool {
	if x, ok := a.([]byte); ok { // an HMAC secret among the configured keys
		y, ok := b.([]byte)
		return ok && hmac.Equal(x, y)
	}
	x, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && x.Equal(b)
}
