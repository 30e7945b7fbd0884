package redisstore

import "github.com/redis/go-redis/v9"

// The scripts run atomically on the server that holds their keys, all of
// which they declare, so they work on a cluster. Times are milliseconds on
// the caller's clock, except session starts and cuts (microseconds: a login
// a moment after a revocation must not be caught by it) and fences (the
// server's clock, see Store.fence).

// late is the preamble of scripts that change state: past the fence (the
// last ARGV) they change nothing. replicate_commands lets TIME be used
// before a write on Redis 6; later versions always replicate effects.
const late = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[#ARGV]) then return -1 end
`

// indexScript adds a new session to its subject's index, unless the
// subject's sessions were revoked at or after its start.
//
// KEYS {U}u, {U}c; ARGV sid, expires, started (µs), now. Returns 1, or 0
// when refused.
var indexScript = redis.NewScript(`
local cut = redis.call('GET', KEYS[2])
if cut and tonumber(ARGV[3]) <= tonumber(cut) then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local keep = tonumber(ARGV[2]) - tonumber(ARGV[4])
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], math.max(keep, 1)) end
return 1
`)

// A session's record {S}f is a hash of one-letter fields, so that it stays
// small (a listpack; a value over 64 bytes would make it a hash table):
//
//	s  digest of the subject     t  started (µs)    h  client address
//	c  digest of the current refresh token          a0…a3  User-Agent, ≤ 64 bytes each
//	p  digest of the one the last rotation retired
//	l  last refresh              i  idle deadline   e  expiry
//
// The session's own ID is the key's hash tag's preimage: scripts that need
// it get it as an argument.

// createScript records a session, unless a revocation of its subject that
// covers its start reached it while the login was in flight.
//
// KEYS {S}f, {S}r; ARGV sub, cur, start (µs), idle, exp, address, now,
// user agent chunks (0 to 4), fence. Returns 1, 0 when revoked, -1 when
// late.
var createScript = redis.NewScript(late + `
local r = redis.call('GET', KEYS[2])
if r then
	local cut = string.match(r, '^%S+ %S+ (%S+)$')
	if not cut or tonumber(ARGV[3]) <= tonumber(cut) then return 0 end
	redis.call('DEL', KEYS[2])
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 's', ARGV[1], 'c', ARGV[2], 'p', '', 't', ARGV[3], 'l', 0, 'i', ARGV[4], 'e', ARGV[5], 'h', ARGV[6])
for n = 8, #ARGV - 1 do redis.call('HSET', KEYS[1], 'a' .. (n - 8), ARGV[n]) end
redis.call('PEXPIRE', KEYS[1], math.max(math.min(tonumber(ARGV[4]), tonumber(ARGV[5])) - tonumber(ARGV[7]), 1))
return 1
`)

// revokeLua ends a session at now: a revocation mark "until sid" that lives
// as long as the session could have, the record gone, and the news
// published on the channel for every instance's local copy.
const revokeLua = `
local function revoke(idle, exp, sid, now, channel)
	local untl = math.min(tonumber(idle), tonumber(exp))
	redis.call('SET', KEYS[2], untl .. ' ' .. sid, 'PX', math.max(untl - now, 1))
	redis.call('DEL', KEYS[1])
	redis.call('PUBLISH', channel, 'r ' .. untl .. ' ' .. sid)
	return untl
end
`

// rotateScript redeems a refresh token. The same call again (a client
// retry) answers as the first did; a retired token revokes the session.
//
// KEYS {S}f, {S}r; ARGV presented, next, now, idleUntil, sid, channel,
// fence. Returns 1 rotated, 3 ended, -1 late, or for a replay the
// revocation mark's end (a time, far above 3).
var rotateScript = redis.NewScript(late + revokeLua + `
local f = redis.call('HMGET', KEYS[1], 'c', 'i', 'e', 'p')
if not f[1] or f[1] == '' then return 3 end
local now, exp = tonumber(ARGV[3]), tonumber(f[3])
if now >= exp or now > tonumber(f[2]) then return 3 end
if f[1] == ARGV[1] then
	local idle = math.min(tonumber(ARGV[4]), exp)
	redis.call('HSET', KEYS[1], 'c', ARGV[2], 'p', ARGV[1], 'l', ARGV[3], 'i', idle)
	redis.call('PEXPIRE', KEYS[1], math.max(idle - now, 1))
	return 1
end
if f[4] == ARGV[1] and f[1] == ARGV[2] then return 1 end
return revoke(f[2], f[3], ARGV[5], now, ARGV[6])
`)

// revokeSessionScript ends a live session of the subject whose digest is
// ARGV[1].
//
// KEYS {S}f, {S}r; ARGV sub, now, sid, channel. Returns the revocation
// mark's end, or 0 when the subject has no such live session.
var revokeSessionScript = redis.NewScript(revokeLua + `
local f = redis.call('HMGET', KEYS[1], 's', 'i', 'e')
local now = tonumber(ARGV[2])
if not f[1] or f[1] ~= ARGV[1] or now >= tonumber(f[3]) or now > tonumber(f[2]) then return 0 end
return revoke(f[2], f[3], ARGV[3], now, ARGV[4])
`)

// cutScript records a subject's cut (keeping the later of two) and returns
// its sessions with their ends.
//
// KEYS {U}u, {U}c; ARGV at (µs), until, now.
var cutScript = redis.NewScript(`
local at = ARGV[1]
local cur = redis.call('GET', KEYS[2])
if cur and tonumber(cur) > tonumber(at) then at = cur end
local keep = math.max(tonumber(ARGV[2]) - tonumber(ARGV[3]), redis.call('PTTL', KEYS[2]), 1)
redis.call('SET', KEYS[2], at, 'PX', keep)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
`)

// memberScript ends one session of a revoked subject if it started at or
// before the cut. A session still being created gets a mark naming the
// cut instead, which createScript reads; it has no tokens yet, so nothing
// is published.
//
// KEYS {S}f, {S}r; ARGV cut (µs), until, now, sid, channel. Returns the
// revocation mark's end when it ended a session, else 0.
var memberScript = redis.NewScript(revokeLua + `
local f = redis.call('HMGET', KEYS[1], 't', 'i', 'e')
local now = tonumber(ARGV[3])
if not f[1] then
	redis.call('SET', KEYS[2], ARGV[2] .. ' ' .. ARGV[4] .. ' ' .. ARGV[1], 'NX', 'PX', math.max(tonumber(ARGV[2]) - now, 1))
	return 0
end
if tonumber(f[1]) > tonumber(ARGV[1]) then return 0 end
return revoke(f[2], f[3], ARGV[4], now, ARGV[5])
`)

// heartbeatScript publishes on the node it runs on and answers its clock.
//
// ARGV channel, message.
var heartbeatScript = redis.NewScript(`
redis.call('PUBLISH', ARGV[1], ARGV[2])
return redis.call('TIME')
`)

// incrScript counts one attempt in a fixed window that starts with the
// first attempt after the previous window ended.
//
// KEYS c:K; ARGV now, window (ms). Returns {count, reset}.
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
