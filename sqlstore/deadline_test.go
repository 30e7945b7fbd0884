package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
)

var ctx = context.Background()

// digest is the store's form of an ID.
func digest(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:16]
}

func session(id, subject string, at time.Time) ginfresh.Session {
	return ginfresh.Session{ID: id, Subject: subject, Started: at, IdleUntil: at.Add(time.Hour), Expires: at.Add(24 * time.Hour)}
}

func rotation(id, presented, next string, at time.Time) ginfresh.Rotation {
	return ginfresh.Rotation{Session: id, Presented: presented, Next: next, Now: at, IdleUntil: at.Add(time.Hour)}
}

func mustCreate(t *testing.T, s ginfresh.Store, in ginfresh.Session, token string) {
	t.Helper()
	if err := s.CreateSession(ctx, in, token); err != nil {
		t.Fatal(err)
	}
}

func mustRotate(t *testing.T, s ginfresh.Store, r ginfresh.Rotation, want ginfresh.RotateResult) {
	t.Helper()
	got, err := s.Rotate(ctx, r)
	if err != nil || got != want {
		t.Fatalf("Rotate(%s→%s): %v, %v; want %v", r.Presented, r.Next, got, err, want)
	}
}

// lockSession holds what a write to session id must wait for, until the
// returned function is called: the row's lock on PostgreSQL, the
// database's write lock on SQLite.
func lockSession(t *testing.T, u, dialect, id string) (release func()) {
	t.Helper()
	conn, err := sqlDB(t, u).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lock := []string{"BEGIN IMMEDIATE"}
	if dialect == "postgres" {
		lock = []string{"BEGIN", "SELECT 1 FROM ginfresh_sessions WHERE key = $1 FOR UPDATE"}
	}
	for i, q := range lock {
		var args []any
		if i == 1 {
			args = []any{digest(id)}
		}
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
			_ = conn.Close()
		})
	}
	t.Cleanup(release) // a test that fails midway must not leave the lock held
	return release
}

// A call whose deadline passes while it waits (for a lock here; a slow
// network or a stalled server are the same to it) fails soon after the
// deadline and changes nothing: the client's retry finds its token as it
// was. On PostgreSQL a deadline under the fence's 10ms margin fails even
// with nothing to wait for.
func TestDeadlineChangesNothing(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			u := database(t, d)
			s := open(t, u)
			now := time.Now()
			mustCreate(t, s, session("s1", "alice", now), "t1")

			if d == "postgres" {
				c, cancel := context.WithTimeout(ctx, time.Millisecond)
				if _, err := s.Rotate(c, rotation("s1", "t1", "t2", now)); err == nil {
					t.Error("Rotate under a 1ms deadline succeeded")
				}
				if err := s.CreateSession(c, session("s9", "alice", now), "x1"); err == nil {
					t.Error("CreateSession under a 1ms deadline succeeded")
				}
				cancel()
			}

			release := lockSession(t, u, d, "s1")
			for _, deadline := range []time.Duration{time.Millisecond, 100 * time.Millisecond} {
				calls := map[string]func(context.Context) error{
					"Rotate": func(c context.Context) error {
						_, err := s.Rotate(c, rotation("s1", "t1", "t2", now))
						return err
					},
					"RevokeSession": func(c context.Context) error { return s.RevokeSession(c, "alice", "s1", now) },
					"RevokeSubject": func(c context.Context) error { return s.RevokeSubject(c, "alice", now, now.Add(time.Hour)) },
				}
				if d == "sqlite" {
					// A login waits for SQLite's write lock; on PostgreSQL it
					// would not wait for a session's row.
					calls["CreateSession"] = func(c context.Context) error { return s.CreateSession(c, session("s2", "alice", now), "u1") }
				}
				for name, call := range calls {
					c, cancel := context.WithTimeout(ctx, deadline)
					start := time.Now()
					err := call(c)
					took := time.Since(start)
					cancel()
					if err == nil {
						t.Errorf("%s under a %v deadline, with the lock held, succeeded", name, deadline)
					} else if errors.Is(err, ginfresh.ErrSessionNotFound) || errors.Is(err, ginfresh.ErrTokenRevoked) {
						t.Errorf("%s under a %v deadline: %v, want a timeout", name, deadline, err)
					}
					// The deadline, plus pgx's wait for the cancel request.
					if took > deadline+time.Second {
						t.Errorf("%s under a %v deadline took %v", name, deadline, took)
					}
				}
			}
			release()
			// Nothing changed: the token is current, the session live, the
			// subject not revoked.
			mustRotate(t, s, rotation("s1", "t1", "t2", now), ginfresh.Rotated)
			if revoked, err := s.Revoked(ctx, "s1", now); err != nil || revoked {
				t.Errorf("Revoked: %v, %v", revoked, err)
			}
			mustCreate(t, s, session("s3", "alice", now), "v1")
			list, err := s.Sessions(ctx, "alice", now)
			var ids []string
			for _, x := range list {
				ids = append(ids, x.ID)
			}
			slices.Sort(ids)
			if err != nil || !slices.Equal(ids, []string{"s1", "s3"}) {
				t.Errorf("alice's sessions: %v, %v; want s1 and s3 only", ids, err)
			}
		})
	}
}

// A rotation that reaches PostgreSQL's row only after its caller gave up
// changes nothing. Here it waits for a lock past its deadline, and the
// cancel request pgx sends then is lost (the proxy between the store and
// the server refuses it, as a failing network would), so the server runs
// the statement once the lock is free: only the fence, checked again on
// the row it finally locks, stops it. Were it applied, the client's retry
// (the same token, a new next one) would read as a replay and end a live
// session.
func TestLateRotationChangesNothing(t *testing.T) {
	u := database(t, "postgres")
	p, through := startProxy(t, u)
	s := open(t, through)
	s.DB().SetMaxOpenConns(1) // the connection already open, to the end
	now := time.Now()
	mustCreate(t, s, session("s1", "alice", now), "t1")

	release := lockSession(t, u, "postgres", "s1")
	p.refuse.Store(true)
	c, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err := s.Rotate(c, rotation("s1", "t1", "t2", now))
	cancel()
	if err == nil {
		t.Fatal("Rotate with the row locked past its deadline succeeded")
	}
	admin := sqlDB(t, u)
	waiting := func() int {
		var n int
		err := admin.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%clock_timestamp()%' AND pid <> pg_backend_pid()`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	time.Sleep(200 * time.Millisecond) // time for a cancel request to land, were it let through
	if waiting() == 0 {
		t.Fatal("the server is not running the rotation any more: the test would test nothing")
	}
	p.refuse.Store(false)
	release() // the late statement now runs
	for deadline := time.Now().Add(5 * time.Second); waiting() > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the late rotation is still running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var current []byte
	var revoked bool
	if err := admin.QueryRow("SELECT current, revoked FROM ginfresh_sessions WHERE key = $1", digest("s1")).Scan(&current, &revoked); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(current, digest("t1")) || revoked {
		t.Fatalf("the late rotation changed the session (revoked %v)", revoked)
	}
	// The client's retry, with a new next token, is a rotation, not a replay.
	mustRotate(t, s, rotation("s1", "t1", "t3", now), ginfresh.Rotated)
	mustRotate(t, s, rotation("s1", "t3", "t4", now), ginfresh.Rotated)
}
