package ginfresh

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Defaults of the login throttle, see [Throttle].
const (
	DefaultAccountAttempts = 10
	DefaultClientAttempts  = 100
	DefaultThrottleWindow  = 15 * time.Minute
	// MaxThrottleWindow bounds Window: a longer one comes close to locking
	// an account out.
	MaxThrottleWindow = 24 * time.Hour
)

// Throttle limits password guessing at login and fresh-login (ASVS 5
// V6.3.1, ASVS 4.0.3 V2.2.1). Two counters run in fixed windows:
//
//   - per account and client address: PerAccount attempts that did not
//     succeed. A success resets it. The key holds the client address, so
//     an attacker elsewhere fills only the counter of their own address and
//     never stops the real user's own client from logging in.
//   - per client address: PerClient password checks of any accounts,
//     successful or not (a success cannot undo the count, or an attacker
//     could reset it by logging in to an account of their own). It is the
//     looser limit, against one address spraying many accounts.
//
// Over either limit the request is refused with 429 and Retry-After, before
// the authenticator runs. A window starts with its key's first attempt and
// ends Window later whatever happens in it, so continued attempts never
// extend a block; at worst a client waits out one window.
//
// There is deliberately no limit per account over all addresses: it would
// let anyone lock any user out. Attackers with many addresses are held to
// PerAccount guesses per address and window; IPv6 addresses count per /64,
// so one host cannot walk its own prefix.
//
// Counters live in the store when it implements [Counter] (the built-in
// stores do), so every instance sharing the store shares the limits;
// otherwise in the memory of this Auth. Keys are keyed digests: the store
// never sees a username or an address, and the log names a failed account
// by a digest under the same key. A counter that fails answers 503: an
// attempt is never let through uncounted.
//
// The digest key is derived from secret material the issuing instances
// already share, so their counters meet in a shared store: the HMAC secret,
// else the private signing key (changing it starts the counters afresh). A
// format of [WithFormat] shows no key, and neither does a signer that is
// not an RSA, ECDSA or Ed25519 private key in memory (an HSM, say): such an
// instance digests with a random key of its own, so instances count
// separately unless they are given one Key.
type Throttle struct {
	// PerAccount is how many attempts that did not succeed one client
	// address may make against one account in a window.
	// Default: [DefaultAccountAttempts], or PerClient when that is lower.
	PerAccount int
	// PerClient is how many password checks one client address may make
	// in a window, whatever the accounts. Default: [DefaultClientAttempts],
	// or PerAccount when that is higher.
	PerClient int
	// Window is how long attempts are counted. Default: [DefaultThrottleWindow].
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
	// Key, at least [MinHMACKeySize] random bytes, keys the digests of
	// accounts and addresses in place of the one derived from the signing
	// key. Instances whose format shows no key (see above) need the same
	// Key to share counters. Keep it secret: with it, logged digests can be
	// matched against guessed usernames. Default: derived from the HMAC
	// secret or the signing key, else random per instance.
	Key []byte
}

// WithLoginThrottle sets the limits of the login throttle; zero fields take
// their defaults. PerAccount must not exceed PerClient, Window is at most
// [MaxThrottleWindow], and a Key has at least [MinHMACKeySize] bytes.
// Default: on, with the [Throttle] defaults.
func WithLoginThrottle(t Throttle) Option {
	return func(a *Auth) error {
		switch {
		case t.PerAccount < 0 || t.PerClient < 0:
			return errors.New("WithLoginThrottle: negative limit")
		case t.Window < 0 || t.Window > MaxThrottleWindow:
			return fmt.Errorf("WithLoginThrottle: window %v is outside 0 to %v", t.Window, MaxThrottleWindow)
		case len(t.Key) > 0 && len(t.Key) < MinHMACKeySize:
			return fmt.Errorf("WithLoginThrottle: %w: Key is %d bytes, at least %d are required", ErrInvalidKey, len(t.Key), MinHMACKeySize)
		}
		t = t.withDefaults()
		if t.PerAccount > t.PerClient {
			return fmt.Errorf("WithLoginThrottle: PerAccount %d exceeds PerClient %d", t.PerAccount, t.PerClient)
		}
		t.Key = bytes.Clone(t.Key) // the caller may reuse its slice
		return a.setThrottle(&throttle{Throttle: t})
	}
}

// WithoutLoginThrottle turns the login throttle off, for an app that limits
// password attempts elsewhere (a gateway, or its authenticator).
// Default: the throttle is on.
func WithoutLoginThrottle() Option {
	return func(a *Auth) error {
		return a.setThrottle(&throttle{Throttle: Throttle{}.withDefaults(), off: true})
	}
}

// setThrottle refuses to let one of the throttle options silently undo the
// other.
func (a *Auth) setThrottle(t *throttle) error {
	if a.throttle != nil && a.throttle.off != t.off {
		return errors.New("WithLoginThrottle and WithoutLoginThrottle contradict each other; pass one")
	}
	a.throttle = t
	return nil
}

func (t Throttle) withDefaults() Throttle {
	if t.PerAccount == 0 {
		t.PerAccount = DefaultAccountAttempts
		if t.PerClient > 0 {
			t.PerAccount = min(t.PerAccount, t.PerClient)
		}
	}
	if t.PerClient == 0 {
		t.PerClient = max(DefaultClientAttempts, t.PerAccount)
	}
	if t.Window == 0 {
		t.Window = DefaultThrottleWindow
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
}

// setupThrottle finishes the throttle once the store is known.
func (a *Auth) setupThrottle() {
	if a.throttle == nil {
		a.throttle = &throttle{Throttle: Throttle{}.withDefaults()}
	}
	t := a.throttle
	if c, ok := a.store.(Counter); ok {
		t.counter = c
	} else {
		t.counter = NewMemoryStore()
	}
	t.secret = a.throttleSecret()
}

// throttleLabel sets the digest key apart from every other use of the
// material it is derived from.
const throttleLabel = "ginfresh login throttle"

// throttleSecret derives the digest key, see [Throttle]. The material never
// leaves this function: only its HMAC under a fixed label is kept.
func (a *Auth) throttleSecret() []byte {
	material := a.throttle.Key
	if len(material) == 0 {
		material = a.hmacSecret
	}
	if len(material) == 0 && a.signingKey != nil {
		switch p := a.signingKey.private.(type) {
		case []byte: // an HMAC key's secret
			material = p
		default:
			// RSA, ECDSA and Ed25519 keys marshal; a signer whose
			// private half is out of reach does not.
			material, _ = x509.MarshalPKCS8PrivateKey(p)
		}
	}
	if len(material) == 0 {
		material = make([]byte, 32)
		_, _ = rand.Read(material) // never fails, see crypto/rand.Read
	}
	m := hmac.New(sha256.New, material)
	m.Write([]byte(throttleLabel))
	return m.Sum(nil)
}

// attempt is one password check in progress.
type attempt struct {
	t       *throttle
	account string // digest of the account, for the log
	client  string // client address, for the log
	key     string // counter of the account at this client
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

// clientPrefix groups IPv6 addresses by /64, the block one host usually
// holds; anything that is not an IP address is used as it is.
func clientPrefix(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64) // cannot fail for an IPv6 address
		return p.String()
	}
	return ip.String()
}

// beginAttempt counts a password check for username and refuses it when
// the client is over a limit.
func (a *Auth) beginAttempt(c *gin.Context, username string) (*attempt, error) {
	t := a.throttle
	client := t.ClientAddress(c)
	if client == "" && !t.off {
		// One counter for every client without an address would let
		// one of them lock out all the others.
		return nil, fmt.Errorf("%w: login throttle: no client address (see Throttle.ClientAddress)", ErrInvalidRequest)
	}
	// Case and surrounding space do not make another account: an
	// authenticator that ignores them must not multiply the guesses.
	account := strings.ToLower(strings.TrimSpace(username))
	prefix := clientPrefix(client)
	at := &attempt{t: t, client: client, account: t.digest("account", account)}
	if t.off {
		return at, nil
	}
	at.key = "ginfresh:throttle:account:" + t.digest("account", account, prefix)
	ctx := c.Request.Context()
	for _, k := range []struct {
		scope, key string
		limit      int
	}{
		{"client", "ginfresh:throttle:client:" + t.digest("client", prefix), t.PerClient},
		{"account", at.key, t.PerAccount},
	} {
		now := a.now()
		n, reset, err := t.counter.Incr(ctx, k.key, now, t.Window)
		if err != nil {
			return nil, fmt.Errorf("%w: login throttle: %w", ErrStoreUnavailable, err)
		}
		if n > int64(k.limit) {
			wait := max(time.Second, (reset.Sub(now) + time.Second - 1).Truncate(time.Second))
			a.alert(ctx, "login throttled", "account", at.account, "client", client, "scope", k.scope, "retry_after", int(wait/time.Second))
			return nil, &retryAfterError{err: ErrTooManyAttempts, wait: wait}
		}
	}
	return at, nil
}

// succeeded forgets the account's failed attempts at this client.
func (at *attempt) succeeded(ctx context.Context) error {
	if at.key == "" {
		return nil
	}
	if err := at.t.counter.Reset(ctx, at.key); err != nil {
		return fmt.Errorf("%w: login throttle: %w", ErrStoreUnavailable, err)
	}
	return nil
}
