package ginfresh

import (
	"sync"
	"sync/atomic"
	"time"
)

// A rotation whose answer is lost: the store commits it, then stalls or
// drops the connection before it replies, and the client is told 503 with
// its refresh token apparently unspent. Its retry (a new request with the
// same token) would be a second step from a token the store has retired: a
// replay, ending a live session. So the instance remembers the next token
// ID of each rotation whose outcome it never learned, and a retry of the
// same refresh token reuses it: the retry is then the very same step, which
// every store answers as Rotated whether or not the first one happened.
//
// No token with that ID ever reached a client, so reusing it grants nothing
// new, and the first answer from the store settles the matter: whichever
// copy of the token is presented after that is a replay, as it would have
// been without the loss. A retry that reaches another instance is not
// covered (docs/sessions.md says so).
type unanswered struct {
	size  atomic.Int64 // len(steps), read without the lock on every refresh
	mu    sync.Mutex
	steps map[string]unansweredStep // by the presented refresh token's ID
}

type unansweredStep struct {
	next string
	at   time.Time
}

const (
	// A client retries within seconds; after this the entry is dropped.
	unansweredTTL = 10 * time.Minute
	// Bounds the memory a long store outage can take.
	unansweredMax = 10_000
)

// take returns the ID for the next refresh token after presented: the one
// an unanswered rotation of presented used, else a new one. An entry is
// handed out once, so of two retries at the same moment only one can be
// the same step; the other is a second step from a retired token, a
// replay, as for any two concurrent refreshes.
func (u *unanswered) take(presented string, now time.Time) string {
	if u.size.Load() == 0 {
		return newID()
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	s, ok := u.steps[presented]
	if !ok {
		return newID()
	}
	delete(u.steps, presented)
	u.size.Store(int64(len(u.steps)))
	if now.Sub(s.at) >= unansweredTTL {
		return newID()
	}
	return s.next
}

// remember records that the rotation of presented to next failed without
// the store saying whether it happened.
func (u *unanswered) remember(presented, next string, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.steps == nil {
		u.steps = make(map[string]unansweredStep)
	}
	if len(u.steps) >= unansweredMax {
		for id, s := range u.steps {
			if now.Sub(s.at) >= unansweredTTL {
				delete(u.steps, id)
			}
		}
		for id := range u.steps {
			if len(u.steps) < unansweredMax {
				break
			}
			delete(u.steps, id) // an arbitrary one: the outage is long
		}
	}
	u.steps[presented] = unansweredStep{next: next, at: now}
	u.size.Store(int64(len(u.steps)))
}
