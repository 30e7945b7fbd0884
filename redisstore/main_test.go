package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginfresh/ginfresh/redisstore"
)

// The tests talk to real Redis servers: the one and the cluster that
// scripts/with-redis.sh starts for `make test` (GINFRESH_TEST_REDIS_ADDR,
// GINFRESH_TEST_REDIS_CLUSTER), and servers of their own that the fault
// tests stop, kill and restart. Without them the tests skip, except under
// CI=true, where a missing server is a failure.

func need(t testing.TB, what string) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("%s is required under CI=true; run the tests with scripts/with-redis.sh", what)
	}
	t.Skipf("%s is not available: skipping; run the tests with scripts/with-redis.sh", what)
}

// single returns a client of the shared single server.
func single(t testing.TB) *redis.Client {
	t.Helper()
	addr := os.Getenv("GINFRESH_TEST_REDIS_ADDR")
	if addr == "" {
		need(t, "GINFRESH_TEST_REDIS_ADDR (a redis-server)")
	}
	return client(t, addr)
}

func client(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// cluster returns a client of the shared three-master cluster.
func cluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	addrs := os.Getenv("GINFRESH_TEST_REDIS_CLUSTER")
	if addrs == "" {
		need(t, "GINFRESH_TEST_REDIS_CLUSTER (a Redis Cluster)")
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ","), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// prefix is a key prefix no other test uses.
func prefix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b) + ":"
}

// newStore is a store on c with a prefix of its own, closed with the test.
func newStore(t testing.TB, c redis.UniversalClient, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(c, append([]redisstore.Option{redisstore.WithPrefix(prefix())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// withPrefix is newStore with a given prefix, for instances that share one.
func withPrefix(t testing.TB, c redis.UniversalClient, p string, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(c, append([]redisstore.Option{redisstore.WithPrefix(p)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// server is a redis-server of a test's own, which the test may stop,
// resume, kill and restart.
type server struct {
	t    testing.TB
	dir  string
	port int
	args []string
	cmd  *exec.Cmd
}

// startServer starts redis-server on a free port with a directory of its
// own; args are extra configuration ("--appendonly", "yes", say).
func startServer(t testing.TB, args ...string) *server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		need(t, "redis-server")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &server{t: t, dir: t.TempDir(), port: port, args: args}
	s.start()
	t.Cleanup(func() { s.kill() })
	return s
}

func (s *server) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

func (s *server) start() {
	s.t.Helper()
	args := append([]string{"--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(s.dir, "redis.log")}, s.args...)
	s.cmd = exec.Command("redis-server", args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	s.t.Fatalf("redis-server did not start: %s", log)
}

func (s *server) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}

// stall freezes the server (SIGSTOP); resume (SIGCONT) lets it go on with
// whatever reached it meanwhile.
func (s *server) stall()  { s.signal(syscall.SIGSTOP) }
func (s *server) resume() { s.signal(syscall.SIGCONT) }

// kill ends the server at once (SIGKILL), as a crash would.
func (s *server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// restart kills the server and starts it again on the same port and
// directory (so with whatever it persisted there).
func (s *server) restart() {
	s.kill()
	s.start()
}

// syncBuffer is a log destination tests read while the store writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func bytesBuffer(s string) *bytes.Buffer { return bytes.NewBufferString(s) }

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
