// Package redisstore keeps ginfresh sessions, revocations and login-throttle
// counters in Redis, on one server or a Redis Cluster, so that
// every instance behind a load balancer sees one truth: a refresh token
// rotated on one instance is a replay on all of them, and a logout on one
// is a logout everywhere.
//
// [Store] implements ginfresh.Store and ginfresh.Counter; hand it to
// ginfresh.WithStore:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
//	store, err := redisstore.New(rdb)
//	…
//	defer store.Close()
//	auth, err := ginfresh.New(ginfresh.WithStore(store), ginfresh.WithAccessRevocation(), …)
//
// A cluster client works the same way (redis.NewClusterClient).
//
// # Guarantees
//
// Every change is a Lua script, atomic on the server that holds its keys,
// and declares every key it touches. A refresh is one script: of many
// concurrent refreshes with one token exactly one wins, whichever instance
// serves them. The same script arriving twice (go-redis retries a command
// that timed out) answers as the first did, never as a replay. A script
// that reaches Redis after the caller gave up (a stalled server that wakes
// up, a retry that arrives late) changes nothing, so a client told to try
// again finds its refresh token unspent: a stall never revokes a live
// session. This compares the deadline with the server's clock, whose
// offset from the instance's is measured and followed.
//
// # Revocations without a round trip
//
// Every revocation is published on a channel in the same script. Each
// instance follows it on every master and keeps a copy of the live
// revocations, so [Store.Revoked] (every request, with
// ginfresh.WithAccessRevocation) needs no round trip. The instance that
// revokes refuses at once; every other within the revocation delay
// (default 500ms, [WithRevocationDelay]; typically a few milliseconds).
// Heartbeats published through each master prove the copy current: when
// they stop coming back (a dropped connection, a restart, a stall) the
// instance asks Redis on every request, until it has subscribed again and
// read every revocation afresh. [WithoutLocalRevocations] asks Redis every
// time: one round trip per request, and every instance refuses at once.
//
// # Keys, slots and sizes
//
// A session's keys share a hash tag, so on a cluster they live in one slot
// while sessions spread over all slots; a subject's index and revocation
// cut share another. Keys hold digests (the first 128 bits of SHA-256) of
// session IDs, subjects and throttle keys, so any string makes a valid key;
// records keep refresh-token IDs and subjects only as binary digests. A
// session's record also holds its ID (random, carried openly in every
// token) and the client's User-Agent and address, so sessions can be
// listed. Every key has a TTL derived from the times ginfresh passes in:
// nothing needs sweeping. Refresh and access tokens are never stored.
//
// # Durability
//
// The store refuses to start on a Redis whose maxmemory-policy may evict
// keys: an evicted session logs its user out, and an evicted revocation
// brings a revoked token back until it expires ([UnsafeAllowEviction]
// starts anyway, with a warning). What survives a restart is what Redis
// persists:
//
//   - AOF with appendfsync always (or everysec, losing at most a second)
//     keeps sessions and revocations across a crash.
//   - With no persistence, a restart ends every session (users log in
//     again): safe. Revocations are lost with it; an instance that saw one
//     keeps refusing its tokens, a new instance cannot know of it.
//   - Restoring an older snapshot (RDB) or failing over to a replica that
//     had not caught up undoes what happened since: revoked sessions and
//     tokens work again until they expire, and a session that refreshed
//     since presents a token the restored record calls retired, which ends
//     it as a replay (its user logs in again).
//
// # Timeouts
//
// Calls use the caller's context, which ginfresh bounds by its store
// timeout; New requires the client's ContextTimeoutEnabled so that go-redis
// honours it. Failures (connection refused, timeouts, a cancelled context)
// are returned as errors, never as success; ginfresh answers them with 503.
//
// The store uses plain commands and Lua, nothing from Redis Stack; its
// tests run against Redis 7.0, one server and a three-master cluster.
package redisstore
