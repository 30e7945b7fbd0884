package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key the store writes.
const DefaultPrefix = "ginfresh:"

// Key kinds, after the prefix. Each is followed by the SHA-256 of an ID.
const (
	kindFamily  = "f:" // hash: sub, cur, created, idle, exp
	kindSubject = "s:" // string "at:until": sessions of the subject revoked at
	kindToken   = "t:" // string: until when an access token is revoked
	kindCounter = "c:" // hash: n, reset
)

// Store is a ginfresh.Store and ginfresh.Counter on Redis or Valkey. Times
// are stored as Unix milliseconds. Safe for concurrent use.
type Store struct {
	client redis.UniversalClient
	prefix string
}

// Option configures a [Store].
type Option func(*Store) error

// WithPrefix starts every key with prefix, so several apps can share one
// database. On Redis Cluster use a hash tag, such as "{ginfresh}:", so that
// a script's keys share a slot. Default: [DefaultPrefix].
func WithPrefix(prefix string) Option {
	return func(s *Store) error {
		if prefix == "" {
			return errors.New("WithPrefix: empty prefix")
		}
		s.prefix = prefix
		return nil
	}
}

// New returns a store over client, which the app keeps owning (and closes):
// pass the client the app already has so the store shares its pool.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	s := &Store{client: client, prefix: DefaultPrefix}
	var errs []error
	for _, opt := range opts {
		if err := opt(s); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("redisstore: invalid option: %w", err)
	}
	return s, nil
}

// key names the record of id: the prefix, the kind and id's SHA-256, so no
// ID, subject or throttle key is stored in clear.
func (s *Store) key(kind, id string) string {
	return s.prefix + kind + digest(id)
}

func digest(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// ttl turns a deadline on the caller's clock into a key lifetime. A key
// always gets one: a deadline already past keeps it for a millisecond.
func ttl(now, until time.Time) time.Duration {
	return max(until.Sub(now).Truncate(time.Millisecond), time.Millisecond)
}

// CreateFamily starts a session. The key lives until the idle deadline (each
// rotation extends it) and never past the session's end.
func (s *Store) CreateFamily(ctx context.Context, family, subject, token string, now, idleUntil, expires time.Time) error {
	k := s.key(kindFamily, family)
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, k)
		p.HSet(ctx, k, "sub", digest(subject), "cur", digest(token), "created", ms(now), "idle", ms(idleUntil), "exp", ms(expires))
		p.PExpire(ctx, k, ttl(now, earlier(idleUntil, expires)))
		return nil
	})
	return wrap("create family", err)
}

// rotateScript consumes the family's current token if presented is it, and
// revokes the family (deletes it) if presented is a retired one.
//
// KEYS[1] family; ARGV presented, next, now, idleUntil, subject-key prefix.
// Returns {expires, reused}: expires 0 when the family is not live.
var rotateScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'sub', 'cur', 'created', 'idle', 'exp')
if not f[2] then return {0, 0} end
local now, exp = tonumber(ARGV[3]), tonumber(f[5])
if now >= exp or now > tonumber(f[4]) then return {0, 0} end
local mark = redis.call('GET', ARGV[5] .. f[1])
if mark and tonumber(f[3]) < tonumber(string.match(mark, '^[^:]+')) then return {0, 0} end
if f[2] ~= ARGV[1] then
	redis.call('DEL', KEYS[1])
	return {0, 1}
end
local idle = ARGV[4]
if tonumber(idle) > exp then idle = f[5] end
redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'idle', idle)
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(idle) - now, 1))
return {exp, 0}
`)

// Rotate replaces the family's current token in one atomic script; see
// ginfresh.Store for the contract.
func (s *Store) Rotate(ctx context.Context, family, presented, next string, now, idleUntil time.Time) (time.Time, bool, error) {
	res, err := rotateScript.Run(ctx, s.client, []string{s.key(kindFamily, family)},
		digest(presented), digest(next), ms(now), ms(idleUntil), s.prefix+kindSubject).Int64Slice()
	if err != nil {
		return time.Time{}, false, wrap("rotate", err)
	}
	if len(res) != 2 {
		return time.Time{}, false, fmt.Errorf("redisstore: rotate: unexpected reply %v", res)
	}
	if res[0] == 0 {
		return time.Time{}, res[1] == 1, nil
	}
	return time.UnixMilli(res[0]), false, nil
}

// RevokeFamily ends a session by deleting it; its tokens then find nothing
// to rotate.
func (s *Store) RevokeFamily(ctx context.Context, family string) error {
	return wrap("revoke family", s.client.Del(ctx, s.key(kindFamily, family)).Err())
}

// revokeSubjectScript records "at:until", keeping the later of the stored
// and the given value of each, so an older revocation never undoes a newer
// one.
//
// KEYS[1] subject mark; ARGV at, until.
var revokeSubjectScript = redis.NewScript(`
local at, untl = ARGV[1], ARGV[2]
local mark = redis.call('GET', KEYS[1])
if mark then
	local a, u = string.match(mark, '^([^:]+):(.+)$')
	if tonumber(a) > tonumber(at) then at = a end
	if tonumber(u) > tonumber(untl) then untl = u end
end
redis.call('SET', KEYS[1], at .. ':' .. untl, 'PX', math.max(tonumber(untl) - tonumber(ARGV[1]), 1))
return 1
`)

// RevokeSubject ends every session of subject started before at and marks
// its access tokens issued before at, until until.
func (s *Store) RevokeSubject(ctx context.Context, subject string, at, until time.Time) error {
	err := revokeSubjectScript.Run(ctx, s.client, []string{s.key(kindSubject, subject)}, ms(at), ms(until)).Err()
	return wrap("revoke subject", err)
}

// RevokeToken marks one access token revoked until until.
func (s *Store) RevokeToken(ctx context.Context, token string, now, until time.Time) error {
	return wrap("revoke token", s.client.Set(ctx, s.key(kindToken, token), ms(until), ttl(now, until)).Err())
}

// Revoked reads the token's mark and its subject's in one MGET, so
// ginfresh.WithAccessRevocation costs one round trip per request.
func (s *Store) Revoked(ctx context.Context, token, subject string, issuedAt, now time.Time) (bool, error) {
	vals, err := s.client.MGet(ctx, s.key(kindToken, token), s.key(kindSubject, subject)).Result()
	if err != nil {
		return false, wrap("revoked", err)
	}
	if len(vals) != 2 {
		return false, fmt.Errorf("redisstore: revoked: unexpected reply %v", vals)
	}
	nowMS := now.UnixMilli()
	if v, ok := vals[0].(string); ok {
		until, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false, fmt.Errorf("redisstore: revoked: bad token mark: %w", err)
		}
		if nowMS < until {
			return true, nil
		}
	}
	if v, ok := vals[1].(string); ok {
		a, u, _ := strings.Cut(v, ":")
		at, err1 := strconv.ParseInt(a, 10, 64)
		until, err2 := strconv.ParseInt(u, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return false, fmt.Errorf("redisstore: revoked: bad subject mark: %w", err)
		}
		if nowMS < until && issuedAt.UnixMilli() < at {
			return true, nil
		}
	}
	return false, nil
}

// incrScript counts one attempt in a fixed window that starts with the
// first attempt after the previous window ended.
//
// KEYS[1] counter; ARGV now, window (ms). Returns {count, reset}.
var incrScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset'))
if not reset or now >= reset then
	reset = now + tonumber(ARGV[2])
	redis.call('DEL', KEYS[1])
	redis.call('HSET', KEYS[1], 'reset', reset)
end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('PEXPIRE', KEYS[1], math.max(reset - now, 1))
return {n, reset}
`)

// Incr counts one attempt under key, for the login throttle; the count is
// shared by every instance on the same Redis.
func (s *Store) Incr(ctx context.Context, key string, now time.Time, window time.Duration) (int64, time.Time, error) {
	if window < time.Millisecond {
		return 0, time.Time{}, fmt.Errorf("redisstore: incr: window %v is under a millisecond", window)
	}
	res, err := incrScript.Run(ctx, s.client, []string{s.key(kindCounter, key)}, ms(now), window.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, time.Time{}, wrap("incr", err)
	}
	if len(res) != 2 {
		return 0, time.Time{}, fmt.Errorf("redisstore: incr: unexpected reply %v", res)
	}
	return res[0], time.UnixMilli(res[1]), nil
}

// Reset forgets key's attempts.
func (s *Store) Reset(ctx context.Context, key string) error {
	return wrap("reset", s.client.Del(ctx, s.key(kindCounter, key)).Err())
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}
