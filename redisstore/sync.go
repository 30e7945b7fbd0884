package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// revocations is this instance's copy of every live revocation mark, kept
// in sync with Redis so that Revoked needs no round trip.
//
// Every script that revokes a session publishes the news on the store's
// channel, from the node that holds the session, in the same step. Each
// master has a follower subscribed to it directly. Every few milliseconds a
// follower publishes a heartbeat through its master and notes when the
// heartbeat comes back: Redis delivers a node's messages in the order it
// ran them, so by then every revocation that master made before the
// heartbeat has been received. The copy answers only while the latest
// heartbeat that came back from every master was sent within the bound;
// otherwise (a dropped connection, a restart, a stall) Revoked asks Redis
// until a follower has subscribed again, read every mark on its master
// afresh (SCAN), and heard a heartbeat.
//
// The copy only ever gains marks, which lapse when the sessions they
// revoke would have ended: a Redis that loses data (a restart without
// persistence) does not bring a revoked session back on an instance that
// saw it revoked.
type revocations struct {
	s     *Store
	id    string        // names this instance's heartbeats
	bound time.Duration // the most a revocation takes to reach the copy
	start time.Time     // monotonic origin of heartbeat times

	mu    sync.Mutex                           // serialises writers of marks
	marks atomic.Pointer[map[string]int64]     // sid → mark's end (ms), copy on write
	nodes atomic.Pointer[map[string]*follower] // by master address

	cancel context.CancelFunc
	done   sync.WaitGroup
}

// follower follows one master.
type follower struct {
	addr   string
	client *redis.Client
	heard  atomic.Int64  // send time (ns since start) of the last heartbeat back
	synced atomic.Bool   // subscribed, and every mark read since
	mu     sync.Mutex    // orders gen and synced changes
	gen    atomic.Uint64 // counts subscriptions; a resync counts for its own only
	cancel context.CancelFunc
}

// follow starts following revocations on every master of s.
func follow(s *Store) (*revocations, error) {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	l := &revocations{s: s, id: hex.EncodeToString(id), bound: s.bound, start: time.Now()}
	empty := map[string]int64{}
	l.marks.Store(&empty)
	nodes := map[string]*follower{}
	l.nodes.Store(&nodes)
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	if err := l.discover(ctx); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		cancel()
		return nil, wrap("follow revocations", err)
	} else if err != nil {
		// A Ring or another client: no per-node subscription, so no copy.
		cancel()
		return nil, nil
	}
	l.done.Add(1)
	go l.beat(ctx)
	return l, nil
}

func (l *revocations) stop() {
	l.cancel()
	l.done.Wait()
}

// mono is now on the monotonic clock, in ns since start.
func (l *revocations) mono() int64 { return int64(time.Since(l.start)) }

// revoked answers from the copy: revoked, and whether the answer can be
// trusted (a mark is always trusted; its absence only while in sync).
func (l *revocations) revoked(sid string, nowMS int64) (revoked, sure bool) {
	if until, ok := (*l.marks.Load())[sid]; ok && nowMS < until {
		return true, true
	}
	return false, l.fresh()
}

// fresh reports whether every master's news is known up to the bound.
func (l *revocations) fresh() bool {
	nodes := *l.nodes.Load()
	if len(nodes) == 0 {
		return false
	}
	oldest := l.mono() - int64(l.bound)
	for _, f := range nodes {
		if !f.synced.Load() || f.heard.Load() < oldest {
			return false
		}
	}
	return true
}

// note adds marks to the copy. A nil copy (local revocations off) ignores
// them.
func (l *revocations) note(sid string, until int64) {
	if l == nil {
		return
	}
	l.add(map[string]int64{sid: until})
}

func (l *revocations) add(marks map[string]int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := *l.marks.Load()
	var next map[string]int64
	for sid, until := range marks {
		if until <= cur[sid] {
			continue
		}
		if next == nil {
			next = maps.Clone(cur)
		}
		next[sid] = until
	}
	if next != nil {
		l.marks.Store(&next)
	}
}

// prune drops marks past their end.
func (l *revocations) prune(nowMS int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := *l.marks.Load()
	next := maps.Clone(cur)
	maps.DeleteFunc(next, func(_ string, until int64) bool { return until <= nowMS })
	if len(next) < len(cur) {
		l.marks.Store(&next)
	}
}

// discover starts a follower for each master it does not follow yet and
// stops those of masters that are gone (after a failover or resharding).
func (l *revocations) discover(ctx context.Context) error {
	found := map[string]*redis.Client{}
	var mu sync.Mutex
	err := l.s.masters(ctx, func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		found[c.Options().Addr] = c
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	cur := *l.nodes.Load()
	next := make(map[string]*follower, len(found))
	for addr, c := range found {
		if f, ok := cur[addr]; ok {
			next[addr] = f
			continue
		}
		fctx, cancel := context.WithCancel(ctx)
		f := &follower{addr: addr, client: c, cancel: cancel}
		next[addr] = f
		l.done.Add(1)
		go l.run(fctx, f)
	}
	for addr, f := range cur {
		if _, ok := next[addr]; !ok {
			f.cancel()
		}
	}
	l.nodes.Store(&next)
	return nil
}

// beat publishes heartbeats through every master, rediscovers the masters
// now and then, and prunes lapsed marks.
func (l *revocations) beat(ctx context.Context) {
	defer l.done.Done()
	tick := time.NewTicker(l.bound / 5)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, f := range *l.nodes.Load() {
			go l.heartbeat(ctx, f)
		}
		if n%50 == 0 {
			_ = l.discover(ctx)
			l.prune(time.Now().UnixMilli())
		}
	}
}

// heartbeat publishes one heartbeat through f's master, and measures the
// master's clock on the way (see Store.fence).
func (l *revocations) heartbeat(ctx context.Context, f *follower) {
	ctx, cancel := context.WithTimeout(ctx, l.bound)
	defer cancel()
	sent := l.mono()
	msg := "h " + l.id + " " + f.addr + " " + strconv.FormatInt(sent, 10)
	wall := time.Now()
	t, err := heartbeatScript.Run(ctx, f.client, nil, l.s.channel(), msg).Int64Slice()
	if err != nil || len(t) != 2 {
		return
	}
	mid := wall.Add(time.Since(wall) / 2)
	l.s.offsets.Store(f.addr, time.Unix(t[0], t[1]*1000).Sub(mid))
}

// run keeps f subscribed to its master until ctx ends.
func (l *revocations) run(ctx context.Context, f *follower) {
	defer l.done.Done()
	for backoff := 10 * time.Millisecond; ctx.Err() == nil; backoff = min(2*backoff, time.Second) {
		if l.listen(ctx, f) {
			backoff = 10 * time.Millisecond
		}
		f.mu.Lock()
		f.gen.Add(1) // a resync still running no longer counts
		lost := f.synced.Swap(false)
		f.mu.Unlock()
		if lost {
			l.s.warn("redisstore: lost the revocation channel; asking Redis until it is back", "server", f.addr)
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
}

// listen subscribes once and applies what arrives until the connection
// fails; it reports whether it got as far as subscribing.
func (l *revocations) listen(ctx context.Context, f *follower) bool {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends this subscription's resync too
	ps := f.client.Subscribe(ctx, l.s.channel())
	defer ps.Close()
	// A blocked read ignores ctx: closing the subscription ends it at once.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	subscribed := false
	last := l.mono()
	for {
		msg, err := ps.ReceiveTimeout(ctx, l.bound)
		if err != nil {
			var netErr interface{ Timeout() bool }
			if errors.As(err, &netErr) && netErr.Timeout() && ctx.Err() == nil && l.mono()-last < 3*int64(l.bound) {
				continue
			}
			// Failed, or silent for longer than heartbeats allow: the
			// connection may be dead without having said so. Start over.
			return subscribed
		}
		last = l.mono()
		switch m := msg.(type) {
		case *redis.Subscription:
			// Subscribed: anything published from now on arrives. Read every
			// mark already there, then the copy is whole again.
			subscribed = true
			f.mu.Lock()
			f.synced.Store(false)
			gen := f.gen.Add(1)
			f.mu.Unlock()
			go l.resync(ctx, f, gen)
		case *redis.Message:
			l.apply(f, m.Payload)
		}
	}
}

// apply takes one message: a revocation ("r until sid") or a heartbeat ("h
// instance master sent").
func (l *revocations) apply(f *follower, payload string) {
	kind, rest, _ := strings.Cut(payload, " ")
	switch kind {
	case "r":
		u, sid, ok := strings.Cut(rest, " ")
		if until, err := strconv.ParseInt(u, 10, 64); ok && err == nil {
			l.add(map[string]int64{sid: until})
		}
	case "h":
		p := strings.Split(rest, " ")
		if len(p) != 3 || p[0] != l.id || p[1] != f.addr {
			return // another instance's, or another master's via the cluster bus
		}
		if sent, err := strconv.ParseInt(p[2], 10, 64); err == nil && sent > f.heard.Load() {
			f.heard.Store(sent)
		}
	}
}

// resync reads every revocation mark on f's master into the copy, then
// marks f synced.
func (l *revocations) resync(ctx context.Context, f *follower, gen uint64) {
	pattern := l.s.prefix + "{*}r"
	var cursor uint64
	for {
		keys, next, err := f.client.ScanType(ctx, cursor, pattern, 1000, "string").Result()
		if err != nil {
			return // the listener notices the failure and subscribes again
		}
		if len(keys) > 0 {
			vals, err := f.client.MGet(ctx, keys...).Result()
			if err != nil {
				return
			}
			marks := map[string]int64{}
			for _, v := range vals {
				s, _ := v.(string)
				if until, sid, cut, ok := parseUntil(s); ok && cut == "" {
					marks[sid] = until
				}
			}
			l.add(marks)
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	f.mu.Lock()
	current := f.gen.Load() == gen
	if current {
		f.synced.Store(true)
	}
	f.mu.Unlock()
	if current {
		l.s.info("redisstore: following revocations", "server", f.addr)
	}
}
