// Package redisstore keeps ginfresh sessions, revocations and login-throttle
// counters in Redis or Valkey, so every instance behind a load balancer sees
// one truth: a refresh token rotated on one instance is a replay on all of
// them, and a logout on one is a logout everywhere.
//
// [Store] implements ginfresh.Store and ginfresh.Counter without importing
// ginfresh; hand it to ginfresh.WithStore:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	store, err := redisstore.New(rdb)
//	…
//	auth, err := ginfresh.New(ginfresh.WithStore(store), …)
//
// # Guarantees
//
// Every operation is one round trip and atomic on the server: a rotation
// with its reuse check is one Lua script, so of many concurrent refreshes
// with the same token exactly one wins, whichever instance serves them.
// Scripts run by EVALSHA and fall back to EVAL when the server does not
// have them cached (after a restart or SCRIPT FLUSH).
//
// Every key carries a TTL derived from the times ginfresh passes in, so
// Redis forgets a session after its idle deadline or absolute end, and a
// revocation mark once every token it covers has expired. Nothing needs
// sweeping.
//
// Keys hold SHA-256 digests of session IDs, token IDs, subjects and
// throttle keys, never the values themselves; refresh and access tokens are
// never stored at all.
//
// Failures (connection refused, timeouts, a cancelled context) are returned
// as errors, never as success; ginfresh answers them with 503.
//
// # Timeouts
//
// Calls use the caller's context. go-redis bounds each round trip by the
// client's ReadTimeout and WriteTimeout; set ContextTimeoutEnabled on the
// client so that context deadlines bound them as well.
//
// # Persistence and clusters
//
// What survives a Redis restart is what Redis persists: with neither RDB
// nor AOF, a restart ends every session (users log in again) and forgets
// revocations, which is safe for sessions but lets a revoked access token
// live until it expires. Enable AOF where that matters.
//
// A rotation reads the session and its subject's revocation mark in one
// script, and Revoked reads a token's and its subject's marks in one MGET.
// On Redis Cluster those keys must share a slot: give a prefix with a hash
// tag, for example WithPrefix("{ginfresh}:").
//
// The store uses plain commands (GET, SET, MGET, DEL, HSET, HMGET, HINCRBY,
// PEXPIRE) and Lua, nothing from Redis Stack, so it suits Redis 6 or later and
// Valkey.
package redisstore
