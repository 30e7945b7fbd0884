package ginfresh

import (
	"context"
	"crypto"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Limits and defaults of [WithJWKSURL].
const (
	// MaxJWKSSize caps a fetched JWK Set document, in bytes.
	MaxJWKSSize = 64 << 10
	// MaxJWKSKeys caps the keys of a fetched JWK Set; a larger one is refused.
	MaxJWKSKeys = 32

	// DefaultJWKSRefresh is how old a fetched set may grow before it is
	// fetched again.
	DefaultJWKSRefresh = 15 * time.Minute
	// DefaultJWKSMinInterval is the least time between two fetches.
	DefaultJWKSMinInterval = time.Minute
	// DefaultJWKSTimeout bounds one fetch.
	DefaultJWKSTimeout = 5 * time.Second
)

// asymmetricAlgs are the algorithms a fetched key may be bound to. HMAC is
// never among them: a shared secret is never taken from a URL.
var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// JWKSOption refines [WithJWKSURL].
type JWKSOption func(*remoteConfig) error

type remoteConfig struct {
	url                  string
	client               *http.Client
	timeout              time.Duration
	refresh, minInterval time.Duration
	algs                 map[string]bool
}

// WithJWKSURL makes the instance a resource server that verifies tokens with
// the JWK Set published at rawURL (an issuer's [Auth.JWKSHandler], say). It
// cannot mint tokens. The set is fetched on first use, again every
// [JWKSRefresh] in the background, and at once when a token names an unknown
// kid, at most once per [JWKSMinInterval] so random kids cannot make it
// hammer the URL. A failed fetch keeps the last good set. Only keys whose alg
// is allowed (see [JWKSAlgorithms]) are used; a key without alg is ignored,
// because every key must be bound to exactly one algorithm. The URL must be
// https, or http on a loopback address. Keys given with
// [WithVerificationKeys] are used as well. Default: none.
func WithJWKSURL(rawURL string, opts ...JWKSOption) Option {
	return func(a *Auth) error {
		u, err := url.Parse(rawURL)
		if err != nil {
			return fmt.Errorf("WithJWKSURL: %w", err)
		}
		if u.Scheme != "https" && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
			return fmt.Errorf("WithJWKSURL: %q must be https (http only on a loopback address)", u.Redacted())
		}
		cfg := &remoteConfig{
			url:         u.String(),
			timeout:     DefaultJWKSTimeout,
			refresh:     DefaultJWKSRefresh,
			minInterval: DefaultJWKSMinInterval,
			algs:        map[string]bool{},
		}
		for _, alg := range asymmetricAlgs {
			cfg.algs[alg] = true
		}
		for _, opt := range opts {
			if opt == nil {
				return errors.New("WithJWKSURL: nil option")
			}
			if err := opt(cfg); err != nil {
				return fmt.Errorf("WithJWKSURL: %w", err)
			}
		}
		if cfg.client == nil {
			cfg.client = &http.Client{Timeout: cfg.timeout, CheckRedirect: noDowngrade}
		} else {
			// The caller's client keeps its transport and its own redirect
			// policy, but never follows a redirect to plain http: that is
			// where anyone on the path could hand out the keys.
			c := *cfg.client
			own := c.CheckRedirect
			c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
				if err := noDowngrade(req, via); err != nil {
					return err
				}
				if own != nil {
					return own(req, via)
				}
				return nil
			}
			cfg.client = &c
		}
		a.remote = cfg
		return nil
	}
}

// noDowngrade follows at most three redirects, none of them from https to
// plain http off loopback.
func noDowngrade(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return errors.New("too many redirects")
	}
	if req.URL.Scheme != "https" && !isLoopback(req.URL.Hostname()) {
		return fmt.Errorf("redirect to %s refused: not https", req.URL.Redacted())
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// JWKSRefresh sets how often the key set is fetched again. Default:
// [DefaultJWKSRefresh].
func JWKSRefresh(d time.Duration) JWKSOption {
	return func(c *remoteConfig) error { return positive("JWKSRefresh", d, &c.refresh) }
}

// JWKSMinInterval sets the least time between two fetches, whatever
// triggers them: unknown kids and failed fetches retry no sooner. Default:
// [DefaultJWKSMinInterval].
func JWKSMinInterval(d time.Duration) JWKSOption {
	return func(c *remoteConfig) error { return positive("JWKSMinInterval", d, &c.minInterval) }
}

// JWKSTimeout bounds one fetch, connection to last byte. Default:
// [DefaultJWKSTimeout].
func JWKSTimeout(d time.Duration) JWKSOption {
	return func(c *remoteConfig) error { return positive("JWKSTimeout", d, &c.timeout) }
}

// JWKSHTTPClient fetches with client (for a proxy or custom TLS roots); the
// [JWKSTimeout] still bounds each fetch, and redirects to plain http are
// refused whatever the client's own policy. Default: a client with that
// timeout.
func JWKSHTTPClient(client *http.Client) JWKSOption {
	return func(c *remoteConfig) error {
		if client == nil {
			return errors.New("JWKSHTTPClient: nil client")
		}
		c.client = client
		return nil
	}
}

// JWKSAlgorithms narrows the algorithms a fetched key may be bound to, for
// example to what the issuer is known to sign with. Default: RS256, RS384,
// RS512, PS256, PS384, PS512, ES256, ES384, ES512 and EdDSA.
func JWKSAlgorithms(algs ...string) JWKSOption {
	return func(c *remoteConfig) error {
		if len(algs) == 0 {
			return errors.New("JWKSAlgorithms: no algorithm")
		}
		allowed := map[string]bool{}
		for _, alg := range algs {
			if !slices.Contains(asymmetricAlgs, alg) {
				return fmt.Errorf("JWKSAlgorithms: %q is not an asymmetric algorithm ginfresh supports", alg)
			}
			allowed[alg] = true
		}
		c.algs = allowed
		return nil
	}
}

// remoteKeys is the [Format] of a resource server whose keys come from a
// URL. Requests read an immutable snapshot through an atomic pointer, so
// the verify path takes no lock; a fetch builds a new snapshot and swaps it.
type remoteKeys struct {
	cfg     *remoteConfig
	static  []*Key
	now     func() time.Time
	removed func() // called when a fetch drops a kid
	logf    func(msg string, args ...any)

	snap atomic.Pointer[keySnapshot]

	// lastTry is when the last fetch began, in Unix nanoseconds: written
	// under mu, read without it so a rate-limited refresh costs no lock.
	lastTry atomic.Int64

	mu      sync.Mutex
	running chan struct{} // closed when the running fetch ends; nil if none
	lastErr error
}

// keySnapshot is one key set; fetched is zero until a fetch succeeded.
type keySnapshot struct {
	format  *jwtFormat
	fetched time.Time
}

func newRemoteKeys(cfg *remoteConfig, static []*Key, now func() time.Time) (*remoteKeys, error) {
	f, err := buildJWTFormat(nil, static)
	if err != nil {
		return nil, err
	}
	r := &remoteKeys{cfg: cfg, static: static, now: now, removed: func() {}, logf: func(string, ...any) {}}
	r.snap.Store(&keySnapshot{format: f})
	return r, nil
}

// Issue implements [Format]: a resource server never mints tokens.
func (r *remoteKeys) Issue(TokenType, *Claims) (string, error) { return "", ErrKeyUnavailable }

// CanIssue implements the optional part of [Format]: a resource server
// never mints.
func (r *remoteKeys) CanIssue() bool { return false }

// Verify implements [Format] with the current snapshot, fetching the set
// again when it is due or when the token names a kid the snapshot lacks.
func (r *remoteKeys) Verify(typ TokenType, token string) (*Claims, error) {
	s := r.snap.Load()
	if now := r.now(); s.fetched.IsZero() || now.Sub(s.fetched) >= r.cfg.refresh {
		if now.UnixNano()-r.lastTry.Load() >= int64(r.cfg.minInterval) {
			r.start()
		}
	}
	c, err := s.format.Verify(typ, token)
	if err == nil || !errors.Is(err, errUnknownKey) {
		return c, err
	}
	// The issuer may have rotated to a key published after our last fetch.
	if done := r.start(); done != nil {
		<-done
	}
	if next := r.snap.Load(); next != s {
		s = next
		c, err = s.format.Verify(typ, token)
	}
	if s.fetched.IsZero() && errors.Is(err, errUnknownKey) {
		r.mu.Lock()
		cause := r.lastErr
		r.mu.Unlock()
		return nil, tokenError(ErrKeySetUnavailable, cause)
	}
	return c, err
}

// start begins a fetch in the background unless one is running (then it
// returns that one's channel) or the last began less than minInterval ago
// (then nil).
func (r *remoteKeys) start() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running != nil {
		return r.running
	}
	now := r.now().UnixNano()
	if last := r.lastTry.Load(); last != 0 && now-last < int64(r.cfg.minInterval) {
		return nil
	}
	r.lastTry.Store(now)
	done := make(chan struct{})
	r.running = done
	go func() {
		err := r.fetch()
		r.mu.Lock()
		r.lastErr, r.running = err, nil
		r.mu.Unlock()
		close(done)
	}()
	return done
}

// fetch downloads the set and swaps the snapshot; on failure the last good
// one stays.
func (r *remoteKeys) fetch() error {
	keys, skipped, err := r.download()
	if err == nil {
		var f *jwtFormat
		if f, err = buildJWTFormat(nil, mergeKeys(r.static, keys)); err == nil {
			old := r.snap.Swap(&keySnapshot{format: f, fetched: r.now()})
			if dropsKey(old.format, f) {
				r.removed()
			}
			r.logf("key set fetched", "keys", len(f.keys), "skipped", skipped)
			return nil
		}
	}
	err = fmt.Errorf("fetching the JWK Set: %w", err)
	r.logf("key set fetch failed; keeping the last good set", "error", err.Error())
	return err
}

func (r *remoteKeys) download() (keys []*Key, skipped int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", jwkSetContentType+", application/json")
	resp, err := r.cfg.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSSize+1))
	if err != nil {
		return nil, 0, err
	}
	if len(body) > MaxJWKSSize {
		return nil, 0, fmt.Errorf("document over %d bytes", MaxJWKSSize)
	}
	return parseJWKSet(body, r.cfg.algs)
}

// parseJWKSet reads an untrusted JWK Set and returns the keys it may use:
// a signature key (use absent or "sig") with an allowed alg and well-formed
// public members. Other entries are skipped, not fatal, so one odd key does
// not cost the rest; a malformed document or one with too many keys is.
func parseJWKSet(body []byte, algs map[string]bool) (keys []*Key, skipped int, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Keys == nil {
		return nil, 0, errors.New("not a JWK Set")
	}
	if len(doc.Keys) > MaxJWKSKeys {
		return nil, 0, fmt.Errorf("%d keys, at most %d are taken", len(doc.Keys), MaxJWKSKeys)
	}
	seen := map[string]bool{}
	for _, raw := range doc.Keys {
		var j JWK
		if json.Unmarshal(raw, &j) != nil || !algs[j.Algorithm] || (j.Use != "" && j.Use != "sig") ||
			(j.KeyOps != nil && !slices.Contains(j.KeyOps, "verify")) {
			skipped++
			continue
		}
		pub, err := j.PublicKey()
		if err != nil {
			skipped++
			continue
		}
		k, err := NewVerificationKey(j.KeyID, j.Algorithm, pub)
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
