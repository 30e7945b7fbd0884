package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginfresh/ginfresh"
)

// Store keeps ginfresh sessions, revocations and login-throttle counters in
// Redis, on one server or a Redis Cluster. It implements ginfresh.Store,
// ginfresh.Counter and ginfresh.LocalRevoker; close it with Close. Safe
// for concurrent use.
type Store struct {
	client redis.UniversalClient
	prefix string
	log    *slog.Logger

	evictionOK bool
	local      *revocations // nil: Revoked asks Redis every time
	bound      time.Duration

	offsets sync.Map // master address → clock offset (time.Duration), see fence
}

var (
	_ ginfresh.Store        = (*Store)(nil)
	_ ginfresh.Counter      = (*Store)(nil)
	_ ginfresh.LocalRevoker = (*Store)(nil)
)

// Option configures a [Store].
type Option func(*Store) error

// WithPrefix starts every key the store writes, and its channel, with
// prefix, so that several apps can share one database. It may not hold a
// brace: the store puts hash tags of its own in every key, so that a
// session's keys share one Redis Cluster slot while sessions spread over
// all of them. Default: "ginfresh:".
func WithPrefix(prefix string) Option {
	return func(s *Store) error {
		if prefix == "" || strings.ContainsAny(prefix, "{}") {
			return fmt.Errorf("WithPrefix: %q is empty or holds a brace", prefix)
		}
		s.prefix = prefix
		return nil
	}
}

// WithLogger receives what the store notices on its own: the local copy of
// revocations falling behind and catching up, and eviction warnings.
// Default: none.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		s.log = l
		return nil
	}
}

// WithRevocationDelay sets how stale the local copy of revocations may
// grow before Revoked asks Redis instead: a revocation made through any
// instance is refused by every other within d. Default: 500ms.
func WithRevocationDelay(d time.Duration) Option {
	return func(s *Store) error {
		if d < 50*time.Millisecond || d > time.Minute {
			return fmt.Errorf("WithRevocationDelay: %v is outside 50ms to 1m", d)
		}
		s.bound = d
		return nil
	}
}

// WithoutLocalRevocations makes Revoked ask Redis on every call (one
// round trip per request with ginfresh.WithAccessRevocation) instead of
// answering from the local copy. Default: the local copy.
func WithoutLocalRevocations() Option {
	return func(s *Store) error { s.bound = -1; return nil }
}

// UnsafeAllowEviction lets New start on a Redis whose maxmemory-policy may
// evict keys (anything but noeviction), logging a warning instead of
// failing. An evicted session logs its user out; an evicted revocation
// brings a revoked token back to life until it expires. Default: New
// refuses such a Redis.
func UnsafeAllowEviction() Option {
	return func(s *Store) error { s.evictionOK = true; return nil }
}

// New returns a store over client, which the app keeps owning (and
// closes): pass the client the app already has so the store shares its
// pool. The client must have ContextTimeoutEnabled set, so that ginfresh's
// store timeout bounds every call. New checks Redis's eviction policy (see
// [UnsafeAllowEviction]) and starts following revocations (see
// [WithoutLocalRevocations]).
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	s := &Store{client: client, prefix: "ginfresh:", bound: 500 * time.Millisecond}
	var errs []error
	for _, opt := range opts {
		if err := opt(s); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("redisstore: invalid option: %w", err)
	}
	if !contextTimeouts(client) {
		return nil, errors.New("redisstore: the client must set ContextTimeoutEnabled: without it a stalled Redis holds requests past ginfresh's store timeout")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.checkServers(ctx); err != nil {
		return nil, err
	}
	if s.bound > 0 {
		local, err := follow(s)
		if err != nil {
			return nil, err
		}
		s.local = local
	}
	return s, nil
}

// Close stops following revocations. It does not close the client.
func (s *Store) Close() error {
	if s.local != nil {
		s.local.stop()
	}
	return nil
}

// contextTimeouts reports whether the client lets contexts bound its calls.
func contextTimeouts(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true // another implementation: trust it
}

// masters calls fn on every master: each node of a cluster, or the one
// server of a plain client.
func (s *Store) masters(ctx context.Context, fn func(ctx context.Context, c *redis.Client) error) error {
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, fn)
	case *redis.Client:
		return fn(ctx, c)
	}
	return errors.ErrUnsupported
}

// checkServers refuses a Redis that may evict keys, and measures each
// master's clock against ours (see fence).
func (s *Store) checkServers(ctx context.Context) error {
	err := s.masters(ctx, func(ctx context.Context, c *redis.Client) error {
		if err := s.measure(ctx, c); err != nil {
			return fmt.Errorf("%s: %w", c.Options().Addr, err)
		}
		policy, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
		p := policy["maxmemory-policy"]
		switch {
		case err != nil:
			err = fmt.Errorf("cannot read maxmemory-policy (%w); check that it is noeviction", err)
		case p != "noeviction":
			err = fmt.Errorf("maxmemory-policy is %s: Redis may evict sessions and revocations (set noeviction)", p)
		}
		if err != nil && s.evictionOK {
			s.warn("redisstore: "+err.Error()+"; starting anyway (UnsafeAllowEviction)", "server", c.Options().Addr)
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w; UnsafeAllowEviction starts anyway", c.Options().Addr, err)
		}
		return nil
	})
	if errors.Is(err, errors.ErrUnsupported) {
		return nil // a Ring or another client: nothing to check
	}
	if err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	return nil
}

// measure records how far c's clock is from ours, from the middle of one
// TIME round trip.
func (s *Store) measure(ctx context.Context, c *redis.Client) error {
	sent := time.Now()
	t, err := c.Time(ctx).Result()
	if err != nil {
		return err
	}
	mid := sent.Add(time.Since(sent) / 2)
	s.offsets.Store(c.Options().Addr, t.Sub(mid))
	return nil
}

// fence is the last instant, on the clock of the Redis that holds key, at
// which a change sent now may still be applied: a little before ctx's
// deadline, leaving the answer time to come back. A script that runs later
// (the server stalled, or a retry arrived late) changes nothing, so a
// client told "try again" finds its refresh token unspent.
func (s *Store) fence(ctx context.Context, key string) int64 {
	now := time.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = now.Add(10 * time.Second)
	}
	margin := min(max(deadline.Sub(now)/4, 10*time.Millisecond), 250*time.Millisecond)
	var offset time.Duration
	addr := ""
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		if m, err := c.MasterForKey(ctx, key); err == nil {
			addr = m.Options().Addr
		}
	case *redis.Client:
		addr = c.Options().Addr
	}
	if v, ok := s.offsets.Load(addr); ok {
		offset = v.(time.Duration)
	}
	return deadline.Add(offset - margin).UnixMilli()
}

func (s *Store) warn(msg string, args ...any) {
	if s.log != nil {
		s.log.Warn(msg, args...)
	}
}

func (s *Store) info(msg string, args ...any) {
	if s.log != nil {
		s.log.Info(msg, args...)
	}
}

// Keys. Every ID reaches a key only as its digest, so that any string an
// app passes (a session ID from a URL, say) makes a well-formed key with
// no braces of its own. Keys of one session or one subject carry the
// digest as a hash tag and so share a cluster slot; different sessions
// spread over the slots.
//
//	{S}f  hash    a session (its fields are listed at createScript)
//	{S}r  string  a revoked session: "until sid [cut]" (until when to remember)
//	{U}u  zset    a subject's sessions: sid scored by the session's end
//	{U}c  string  a subject's cut: sessions started at or before it are over
//	c:K   hash    a login-throttle counter: n, reset
//
// S, U and K are the first 128 bits of SHA-256 in base64url. Session IDs
// are random and travel openly in tokens, so a subject's index and the
// revocation marks keep them (a listing needs them); subjects, refresh
// token IDs and throttle keys are stored only as digests.

func digest(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:16]
}

func tag(id string) string { return base64.RawURLEncoding.EncodeToString(digest(id)) }

func (s *Store) sessionKeys(sid string) []string {
	t := s.prefix + "{" + tag(sid) + "}"
	return []string{t + "f", t + "r"}
}

func (s *Store) subjectKeys(subject string) []string {
	t := s.prefix + "{" + tag(subject) + "}"
	return []string{t + "u", t + "c"}
}

func (s *Store) channel() string { return s.prefix + "revocations" }

func ms(t time.Time) int64 { return t.UnixMilli() }

func us(t time.Time) int64 { return t.UnixMicro() }

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// errLate is a change refused because it reached Redis past its fence.
var errLate = errors.New("the call reached Redis after its deadline; nothing changed")

func parseUntil(v string) (until int64, sid, cut string, ok bool) {
	parts := strings.SplitN(v, " ", 3)
	if len(parts) < 2 {
		return 0, "", "", false
	}
	n, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return 0, "", "", false
	}
	if len(parts) == 3 {
		cut = parts[2]
	}
	return n, parts[1], cut, true
}
