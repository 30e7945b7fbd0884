package ginfresh

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Throttle limits guessing at login and fresh-login (ASVS 5 V6.3.1, ASVS
// 4.0.3 V2.2.1), including logins the app runs itself through
// [Auth.Login]. Two kinds of counters run in fixed windows:
//
//   - per account and client: PerAccount attempts that did not succeed. A
//     success resets it. The key holds the client, so an attacker elsewhere
//     fills only the counters of their own network, never those of the
//     user's.
//   - per client: PerClient attempts at any accounts, successful or not (a
//     success cannot undo the count, or an attacker could reset it by
//     logging in to an account of their own). It is the looser limit,
//     against one client spraying many accounts.
//
// A client is an IPv4 address, or an IPv6 /64 (the block one host usually
// holds). Since one party often holds far more IPv6 addresses (a /56 or a
// /48 for a home or a site), IPv6 clients also count per /56, with three
// times the limits, and per /48, with ten times: one /48 gets at most
// 10×PerAccount guesses per account and window, not PerAccount per /64 in
// it.
//
// Over any limit the request is refused with 429 and Retry-After, before
// the authenticator runs. A window starts with its key's first attempt and
// ends Window later whatever happens in it, so continued attempts never
// extend a block; at worst a client waits out one window.
//
// There is deliberately no limit per account over all clients: it would let
// anyone lock any user out. What an attacker can do instead is lock an
// account from the attacker's own network: an IPv4 address, or an IPv6 /64,
// /56 or /48. So a user who shares that network with the attacker (the
// same IPv4 address behind a NAT, a carrier-grade NAT or a NAT64 gateway,
// or the same IPv6 site) can be locked out of their account for one window.
// Users elsewhere cannot.
//
// Counters live in the store when it implements [Counter] (the built-in
// stores do), so every instance sharing the store shares the limits;
// otherwise in the memory of this Auth. Keys are keyed digests: the store
// never sees a username or an address, and the log names a failed account
// by a digest under the same key. A counter that fails answers 503: an
// attempt is never let through uncounted.
//
// The digest key is derived from the signing key, which the issuing
// instances already share (the HMAC secret, the private key, or a format's
// key through its DeriveKey method), so their counters meet in a shared
// store whatever the token format. A format that shows no key (a hardware
// signer, say) makes each instance draw a random key, and instances then
// count separately unless they are given one Key.
type Throttle struct {
	// PerAccount is how many attempts that did not succeed one client may
	// make against one account in a window. Default: 10, or PerClient when
	// that is lower.
	PerAccount int
	// PerClient is how many attempts one client may make in a window,
	// whatever the accounts. Default: 100, or PerAccount when that is
	// higher.
	PerClient int
	// Window is how long attempts are counted, at most 24 hours. Default:
	// 15 minutes.
	Window time.Duration
	// ClientAddress names the client the counters count. The default is
	// the TCP peer, which a client cannot choose; behind a reverse proxy
	// that is the proxy, so every client shares its limits. There, after
	// telling gin which proxies to believe (Engine.SetTrustedProxies or
	// Engine.TrustedPlatform), set (*gin.Context).ClientIP: without that
	// setup gin believes X-Forwarded-For from anyone and each guess could
	// name a new address. The log names clients the same way. A login for
	// which it returns "" is refused with 400 ([ErrInvalidRequest]) rather
	// than counted with every other such client.
	// Default: (*gin.Context).RemoteIP.
	ClientAddress func(*gin.Context) string
	// Key, at least 32 random bytes, keys the digests of accounts and
	// addresses in place of the one derived from the signing key. Keep it
	// secret: with it, logged digests can be matched against guessed
	// usernames. Default: derived from the signing key, else random per
	// instance.
	Key []byte
}

// throttleLabel sets the digest key apart from every other use of the
// material it is derived from.
const throttleLabel = "ginfresh login throttle"

// The wider IPv6 blocks counted, and how many times the /64 limits each
// allows.
var ipv6Tiers = [...]struct{ bits, factor int }{{64, 1}, {56, 3}, {48, 10}}

func (t Throttle) withDefaults() Throttle {
	if t.PerAccount == 0 {
		t.PerAccount = 10
		if t.PerClient > 0 {
			t.PerAccount = min(t.PerAccount, t.PerClient)
		}
	}
	if t.PerClient == 0 {
		t.PerClient = max(100, t.PerAccount)
	}
	if t.Window == 0 {
		t.Window = 15 * time.Minute
	}
	if t.ClientAddress == nil {
		t.ClientAddress = (*gin.Context).RemoteIP
	}
	return t
}

// throttle is the running login throttle. It always exists, so that
// attempts are named the same way in the log whether it is on or off.
type throttle struct {
	Throttle
	off     bool
	counter Counter
	secret  []byte // keys the digests of accounts and addresses
	now     func() time.Time
	timeout time.Duration // bounds each counter call, as every store call
	log     *eventLog
}

// newThrottle finishes the throttle once the store and format are known.
func newThrottle(t *Throttle, off bool, store Store, format Format, now func() time.Time, timeout time.Duration, log *eventLog) *throttle {
	cfg := Throttle{}
	if t != nil {
		cfg = *t
	}
	th := &throttle{Throttle: cfg.withDefaults(), off: off, now: now, timeout: timeout, log: log}
	if c, ok := store.(Counter); ok {
		th.counter = c
	} else {
		th.counter = NewMemoryStore()
	}
	material := th.Key
	if d, ok := format.(interface{ DeriveKey(string) []byte }); ok && len(material) == 0 {
		// Derived under the label already: use it as it is.
		th.secret = d.DeriveKey(throttleLabel)
	}
	if th.secret == nil {
		if len(material) == 0 {
			material = make([]byte, 32)
			_, _ = rand.Read(material) // never fails, see crypto/rand.Read
		}
		m := hmac.New(sha256.New, material)
		m.Write([]byte(throttleLabel))
		th.secret = m.Sum(nil)
	}
	return th
}

// digest names its parts without revealing them.
func (t *throttle) digest(parts ...string) string {
	m := hmac.New(sha256.New, t.secret)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return b64.EncodeToString(m.Sum(nil)[:16])
}

// clientBlocks names the networks the address belongs to, narrowest first,
// with how many times the base limits each allows: the IPv4 address, or its
// IPv6 /64, /56 and /48. Anything that is not an IP address is one client
// as it is.
func clientBlocks(addr string) []clientBlock {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return []clientBlock{{addr, 1}}
	}
	ip = ip.Unmap()
	if !ip.Is6() {
		return []clientBlock{{ip.String(), 1}}
	}
	blocks := make([]clientBlock, 0, len(ipv6Tiers))
	for _, tier := range ipv6Tiers {
		p, _ := ip.Prefix(tier.bits) // cannot fail for an IPv6 address
		blocks = append(blocks, clientBlock{p.String(), tier.factor})
	}
	return blocks
}

type clientBlock struct {
	name   string
	factor int
}

// attempt is one login attempt in progress.
type attempt struct {
	t       *throttle
	account string   // digest of the account, for the log
	client  string   // client address, for the log
	keys    []string // the account's counters, reset by a success
}

// begin counts a login attempt for account (the name the user typed, or ""
// for a login without one) and refuses it when the client is over a limit.
func (t *throttle) begin(c *gin.Context, account string) (*attempt, error) {
	client := t.ClientAddress(c)
	if client == "" && !t.off {
		// One counter for every client without an address would let one of
		// them lock out all the others.
		return nil, fmt.Errorf("%w: login throttle: no client address (see Throttle.ClientAddress)", ErrInvalidRequest)
	}
	// Case and surrounding space do not make another account: an
	// authenticator that ignores them must not multiply the guesses.
	account = strings.ToLower(strings.TrimSpace(account))
	at := &attempt{t: t, client: client, account: t.digest("account", account)}
	if t.off {
		return at, nil
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), t.timeout)
	defer cancel()
	for _, b := range clientBlocks(client) {
		counters := []struct {
			scope, key string
			limit      int
		}{{"client", "ginfresh:throttle:client:" + t.digest("client", b.name), t.PerClient * b.factor}}
		if account != "" {
			key := "ginfresh:throttle:account:" + t.digest("account", account, b.name)
			at.keys = append(at.keys, key)
			counters = append(counters, struct {
				scope, key string
				limit      int
			}{"account", key, t.PerAccount * b.factor})
		}
		for _, k := range counters {
			now := t.now()
			n, reset, err := t.counter.Incr(ctx, k.key, now, t.Window)
			if err != nil {
				return nil, t.log.storeFailed(ctx, "throttle", err)
			}
			if n > int64(k.limit) {
				wait := max(time.Second, (reset.Sub(now) + time.Second - 1).Truncate(time.Second))
				t.log.alert(ctx, "login throttled", "account", at.account, "client", client, "scope", k.scope, "block", b.name, "retry_after", int(wait/time.Second))
				return nil, &retryAfterError{err: ErrTooManyAttempts, wait: wait}
			}
		}
	}
	return at, nil
}

// succeeded forgets the account's failed attempts from this client.
func (at *attempt) succeeded(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, at.t.timeout)
	defer cancel()
	for _, k := range at.keys {
		if err := at.t.counter.Reset(ctx, k); err != nil {
			return at.t.log.storeFailed(ctx, "throttle", err)
		}
	}
	return nil
}
