package redisstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginfresh/ginfresh"
)

// CreateSession implements ginfresh.Store in two steps, each atomic on the
// server that holds its keys: the session joins its subject's index (unless
// the subject was revoked since it started), then its record is written
// (unless a revocation of the subject reached it in between).
func (s *Store) CreateSession(ctx context.Context, in ginfresh.Session, token string) error {
	sub := s.subjectKeys(in.Subject)
	ok, err := indexScript.Run(ctx, s.client, sub, in.ID, ms(in.Expires), us(in.Started), ms(in.Started)).Int()
	if err != nil {
		return wrap("create session", err)
	}
	if ok == 0 {
		return ginfresh.ErrTokenRevoked
	}
	keys := s.sessionKeys(in.ID)
	args := []any{digest(in.Subject), tokenDigest(token), us(in.Started), ms(in.IdleUntil), ms(in.Expires), in.Address, ms(in.Started)}
	for ua := in.UserAgent; ua != ""; {
		n := min(len(ua), 64)
		args = append(args, ua[:n])
		ua = ua[n:]
	}
	res, err := createScript.Run(ctx, s.client, keys, append(args, s.fence(ctx, keys[0]))...).Int()
	switch {
	case err != nil:
		return wrap("create session", err)
	case res == -1:
		return wrap("create session", errLate)
	case res == 0:
		return ginfresh.ErrTokenRevoked
	}
	return nil
}

// tokenDigest is the stored form of a refresh token's ID; "" (a session of
// access tokens only) stays empty.
func tokenDigest(id string) []byte {
	if id == "" {
		return nil
	}
	return digest(id)
}

// Rotate implements ginfresh.Store in one script. A call that reaches Redis
// after ctx's deadline (Redis stalled, or a client-side retry arrived late)
// changes nothing and fails, so the client's own retry finds its token
// current; the same call arriving twice answers Rotated both times.
func (s *Store) Rotate(ctx context.Context, r ginfresh.Rotation) (ginfresh.RotateResult, error) {
	keys := s.sessionKeys(r.Session)
	res, err := rotateScript.Run(ctx, s.client, keys,
		digest(r.Presented), digest(r.Next), ms(r.Now), ms(r.IdleUntil), r.Session, s.channel(), s.fence(ctx, keys[0])).Int64()
	switch {
	case err != nil:
		return 0, wrap("rotate", err)
	case res == 1:
		return ginfresh.Rotated, nil
	case res == 3:
		return ginfresh.SessionEnded, nil
	case res == -1:
		return 0, wrap("rotate", errLate)
	case res > 3:
		// This instance knows at once, before the published news is back.
		s.local.note(r.Session, res)
		return ginfresh.Replayed, nil
	}
	return 0, fmt.Errorf("redisstore: rotate: unexpected reply %d", res)
}

// RevokeSession implements ginfresh.Store.
func (s *Store) RevokeSession(ctx context.Context, subject, id string, now time.Time) error {
	until, err := revokeSessionScript.Run(ctx, s.client, s.sessionKeys(id), digest(subject), ms(now), id, s.channel()).Int64()
	if err != nil {
		return wrap("revoke session", err)
	}
	if until == 0 {
		return ginfresh.ErrSessionNotFound
	}
	s.local.note(id, until)
	return nil
}

// RevokeSubject implements ginfresh.Store: one script records the cut and
// lists the subject's sessions, then one script per session ends it, all
// sent in one pipeline (on a cluster, one per node).
func (s *Store) RevokeSubject(ctx context.Context, subject string, at, until time.Time) error {
	members, err := cutScript.Run(ctx, s.client, s.subjectKeys(subject), us(at), ms(until), ms(at)).StringSlice()
	if err != nil {
		return wrap("revoke subject", err)
	}
	if len(members) == 0 {
		return nil
	}
	cmds := make(map[string]*redis.Cmd, len(members)/2)
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := 0; i+1 < len(members); i += 2 {
			sid, end := members[i], members[i+1]
			// Eval, not EvalSha: a pipeline cannot fall back when a node has
			// not cached the script, and this runs rarely.
			cmds[sid] = memberScript.Eval(ctx, p, s.sessionKeys(sid), us(at), end, ms(at), sid, s.channel())
		}
		return nil
	})
	if err != nil {
		return wrap("revoke subject", err)
	}
	for sid, cmd := range cmds {
		if until, _ := cmd.Int64(); until > 0 {
			s.local.note(sid, until)
		}
	}
	return nil
}

// Revoked implements ginfresh.Store. It answers from the local copy of
// revocations while that is in sync (see doc.go), and asks Redis
// otherwise.
func (s *Store) Revoked(ctx context.Context, session string, now time.Time) (bool, error) {
	if revoked, sure := s.RevokedLocally(session, now); sure {
		return revoked, nil
	}
	v, err := s.client.Get(ctx, s.sessionKeys(session)[1]).Result()
	switch {
	case err == redis.Nil:
		return false, nil
	case err != nil:
		return false, wrap("revoked", err)
	}
	until, _, cut, ok := parseUntil(v)
	if !ok {
		return false, fmt.Errorf("redisstore: revoked: malformed mark")
	}
	// A mark naming a cut guards a login in flight: that session never got
	// tokens.
	return cut == "" && ms(now) < until, nil
}

// RevokedLocally implements ginfresh.LocalRevoker: the local copy of
// revocations answers while it is current (see the package doc); it is
// never sure with [WithoutLocalRevocations].
func (s *Store) RevokedLocally(session string, now time.Time) (revoked, sure bool) {
	if s.local == nil {
		return false, false
	}
	return s.local.revoked(session, ms(now))
}

// Sessions implements ginfresh.Store: the index, then every record in one
// pipeline.
func (s *Store) Sessions(ctx context.Context, subject string, now time.Time) ([]ginfresh.Session, error) {
	ids, err := s.client.ZRangeByScore(ctx, s.subjectKeys(subject)[0], &redis.ZRangeBy{Min: strconv.FormatInt(ms(now), 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, wrap("sessions", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, s.sessionKeys(id)[0], "s", "t", "l", "i", "e", "h", "a0", "a1", "a2", "a3")
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return nil, wrap("sessions", err)
	}
	want := string(digest(subject))
	nowMS := ms(now)
	var out []ginfresh.Session
	for i, cmd := range cmds {
		v := cmd.Val()
		if len(v) != 10 || v[0] != want {
			continue // ended, revoked, or never created
		}
		f := make([]int64, 4)
		for i := range f {
			f[i], _ = strconv.ParseInt(fmt.Sprint(v[1+i]), 10, 64)
		}
		if nowMS >= f[3] || nowMS > f[2] {
			continue
		}
		var ua strings.Builder
		for _, chunk := range v[6:] {
			if s, ok := chunk.(string); ok {
				ua.WriteString(s)
			}
		}
		addr, _ := v[5].(string)
		x := ginfresh.Session{
			ID: ids[i], Subject: subject, Started: time.UnixMicro(f[0]),
			IdleUntil: time.UnixMilli(f[2]), Expires: time.UnixMilli(f[3]),
			UserAgent: ua.String(), Address: addr,
		}
		if f[1] > 0 {
			x.Refreshed = time.UnixMilli(f[1])
		}
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b ginfresh.Session) int { return cmp.Compare(a.Started.UnixMicro(), b.Started.UnixMicro()) })
	return out, nil
}

// Incr counts one attempt under key, for the login throttle; the count is
// shared by every instance on the same Redis.
func (s *Store) Incr(ctx context.Context, key string, now time.Time, window time.Duration) (int64, time.Time, error) {
	if window < time.Millisecond {
		return 0, time.Time{}, fmt.Errorf("redisstore: incr: window %v is under a millisecond", window)
	}
	res, err := incrScript.Run(ctx, s.client, []string{s.counterKey(key)}, ms(now), window.Milliseconds()).Int64Slice()
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
	return wrap("reset", s.client.Del(ctx, s.counterKey(key)).Err())
}

func (s *Store) counterKey(key string) string { return s.prefix + "c:" + tag(key) }
