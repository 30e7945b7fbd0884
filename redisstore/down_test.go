package redisstore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh/redisstore"
)

// proxy forwards TCP to Redis and can cut it off, which looks to the client
// exactly like a server that went away and came back on the same address.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { _ = ln.Close(); p.setDown(true) })
	go p.serve()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *proxy) forward(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	_, _ = io.Copy(c, up)
	_ = c.Close()
}

// setDown cuts every open connection and refuses new ones, or lets them
// through again.
func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			_ = c.Close()
		}
		clear(p.conns)
	}
}

// TestRedisDown: while Redis is unreachable every handler that needs it
// answers 503 with a JSON error, never 500 and never success; when it is
// back, nothing was half-written: the session goes on where it was.
func TestRedisDown(t *testing.T) {
	addr := redisAddr(t)
	direct := newClient(t, addr)
	prefix := testPrefix(t, direct)
	px := startProxy(t, addr)
	c := redis.NewClient(&redis.Options{Addr: px.addr(), MaxRetries: 1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	store, err := redisstore.New(c, redisstore.WithPrefix(prefix))
	require.NoError(t, err)
	clk := newClock()
	a := newApp(t, store, clk)

	tok := a.login(t, "alice")
	require.Equal(t, http.StatusOK, a.protected(tok.AccessToken).Code)
	keys := scanKeys(t, direct, prefix)

	px.setDown(true)
	for name, w := range map[string]func() *http.Response{
		"login": func() *http.Response {
			return a.Do(http.MethodPost, "/auth/login", "", `{"username":"bob","password":"bob-pw"}`).Result()
		},
		"refresh":   func() *http.Response { return a.refresh(tok.RefreshToken).Result() },
		"logout":    func() *http.Response { return a.logout(tok.AccessToken, tok.RefreshToken).Result() },
		"protected": func() *http.Response { return a.protected(tok.AccessToken).Result() },
	} {
		res := w()
		body, _ := io.ReadAll(res.Body)
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "%s: %s", name, body)
		assert.Equal(t, "application/json; charset=utf-8", res.Header.Get("Content-Type"), name)
		assert.Contains(t, string(body), `"temporarily_unavailable"`, name)
		assert.NotContains(t, string(body), px.addr(), "%s: internal errors stay inside", name)
	}
	require.Error(t, a.Auth.RevokeSubject(context.Background(), "alice"), "a revocation that did not happen is an error")

	px.setDown(false)
	assert.ElementsMatch(t, keys, scanKeys(t, direct, prefix), "the failed login wrote nothing")
	w := a.refresh(tok.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code, "the failed refresh and logout changed nothing: %s", w.Body.String())
	assert.Equal(t, http.StatusUnauthorized, a.refresh(tok.RefreshToken).Code, "and rotation works again")
	assert.Equal(t, http.StatusOK, a.protected(tok.AccessToken).Code, "the failed revocations left the access token alone")
}

// TestStoreErrors: every method reports a failure as an error, including
// a closed port and a context cancelled or past its deadline.
func TestStoreErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())

	// A server that accepts and never answers: only a deadline ends a call.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = hang.Close() })
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	now := time.Now()
	tests := []struct {
		name    string
		opts    redis.Options
		ctx     func() (context.Context, context.CancelFunc)
		wantErr func(error) bool
	}{
		{"closed port", redis.Options{Addr: closed, MaxRetries: -1, DialerRetries: 1}, background, nil},
		{"cancelled context", redis.Options{Addr: redisAddr(t)}, func() (context.Context, context.CancelFunc) { return cancelled, func() {} },
			func(err error) bool { return errors.Is(err, context.Canceled) }},
		// The client's own read timeout is far off: the context ends the call.
		{"deadline", redis.Options{Addr: hang.Addr().String(), MaxRetries: -1, ReadTimeout: time.Minute, ContextTimeoutEnabled: true},
			func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			}, isTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := redis.NewClient(&tt.opts)
			t.Cleanup(func() { _ = c.Close() })
			s, err := redisstore.New(c)
			require.NoError(t, err)
			calls := map[string]func(context.Context) error{
				"CreateFamily": func(ctx context.Context) error {
					return s.CreateFamily(ctx, "f", "alice", "t1", now, now.Add(time.Hour), now.Add(time.Hour))
				},
				"Rotate": func(ctx context.Context) error {
					_, _, err := s.Rotate(ctx, "f", "t1", "t2", now, now.Add(time.Hour))
					return err
				},
				"RevokeFamily":  func(ctx context.Context) error { return s.RevokeFamily(ctx, "f") },
				"RevokeSubject": func(ctx context.Context) error { return s.RevokeSubject(ctx, "alice", now, now.Add(time.Hour)) },
				"RevokeToken":   func(ctx context.Context) error { return s.RevokeToken(ctx, "j", now, now.Add(time.Hour)) },
				"Revoked": func(ctx context.Context) error {
					_, err := s.Revoked(ctx, "j", "alice", now, now)
					return err
				},
				"Incr": func(ctx context.Context) error {
					_, _, err := s.Incr(ctx, "k", now, time.Minute)
					return err
				},
				"Reset": func(ctx context.Context) error { return s.Reset(ctx, "k") },
			}
			for name, call := range calls {
				ctx, cancel := tt.ctx()
				start := time.Now()
				err := call(ctx)
				cancel()
				require.Error(t, err, name)
				assert.True(t, strings.HasPrefix(err.Error(), "redisstore: "), "%s: %v", name, err)
				if tt.wantErr != nil {
					assert.True(t, tt.wantErr(err), "%s: got %v", name, err)
				}
				assert.Less(t, time.Since(start), 5*time.Second, "%s returns instead of hanging", name)
			}
		})
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

func background() (context.Context, context.CancelFunc) { return context.Background(), func() {} }
