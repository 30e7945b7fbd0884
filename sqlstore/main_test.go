package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the tests' own connections

	"github.com/ginfresh/ginfresh/sqlstore"
)

// The PostgreSQL tests talk to a real server: the one scripts/with-postgres.sh
// starts for `make test` (GINFRESH_TEST_POSTGRES_URL), and servers of their
// own that the fault tests stop and restart (from GINFRESH_TEST_POSTGRES_BIN
// or Debian's /usr/lib/postgresql/*/bin). Without them the tests skip,
// except under CI=true, where a missing server is a failure. The SQLite
// tests need nothing: their databases are files in t.TempDir().

func need(t testing.TB, what string) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("%s is required under CI=true; run the tests with scripts/with-postgres.sh", what)
	}
	t.Skipf("%s is not available: SKIPPING; run the tests with scripts/with-postgres.sh", what)
}

// dialects are the databases every test that takes one runs on.
var dialects = []string{"postgres", "sqlite"}

// database returns the URL of an empty database of the dialect: a schema of
// its own on the shared PostgreSQL (dropped with the test), or a file in
// t.TempDir().
func database(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == "sqlite" {
		return "sqlite:" + filepath.Join(t.TempDir(), "ginfresh.db")
	}
	base := os.Getenv("GINFRESH_TEST_POSTGRES_URL")
	if base == "" {
		need(t, "GINFRESH_TEST_POSTGRES_URL (a PostgreSQL server)")
	}
	return schema(t, base)
}

// schema creates a schema of its own on the server at base and returns the
// URL whose search_path puts the store's tables in it.
func schema(t testing.TB, base string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	admin := sqlDB(t, base)
	if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec("DROP SCHEMA " + name + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// sqlDB is a connection pool of the test's own on a database URL, closed
// with the test, for looking at what the store wrote.
func sqlDB(t testing.TB, u string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", u
	if path, ok := strings.CutPrefix(u, "sqlite:"); ok {
		driver, dsn = "sqlite", path+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// open opens a store on u and migrates it; the store closes with the test.
func open(t testing.TB, u string, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := sqlstore.Open(ctx, u, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// newStore is a store on an empty database of the dialect.
func newStore(t testing.TB, dialect string, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	return open(t, database(t, dialect), opts...)
}

// pgServer is a PostgreSQL server of a test's own, which the test may
// stall, crash and restart. Under root it runs as nobody: PostgreSQL
// refuses to run as root.
type pgServer struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cred *syscall.Credential
	cmd  *exec.Cmd
}

// postgresBin finds the directory of initdb, postgres and pg_isready.
func postgresBin() string {
	dirs := []string{os.Getenv("GINFRESH_TEST_POSTGRES_BIN")}
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(found, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range append(dirs, found...) {
		if d == "" {
			continue
		}
		all := true
		for _, name := range []string{"initdb", "postgres", "pg_isready"} {
			if _, err := os.Stat(filepath.Join(d, name)); err != nil {
				all = false
			}
		}
		if all {
			return d
		}
	}
	return ""
}

// startPostgres initialises a cluster in a directory of its own and starts
// it on a free port.
func startPostgres(t testing.TB) *pgServer {
	t.Helper()
	bin := postgresBin()
	if bin == "" {
		need(t, "PostgreSQL (initdb and postgres)")
	}
	// Not t.TempDir(): its parent is private to root, and the server's
	// owner must reach its directory.
	dir, err := os.MkdirTemp("/tmp", "ginfresh-sqlstore-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s := &pgServer{t: t, bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	initdb := s.command("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s.start()
	t.Cleanup(s.crash)
	return s
}

func (s *pgServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// url is the server's postgres database.
func (s *pgServer) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// start starts the server on its data directory and waits until it takes
// connections (after crash recovery, on a restart).
func (s *pgServer) start() {
	s.t.Helper()
	log, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o666)
	if err != nil {
		s.t.Fatal(err)
	}
	defer log.Close()
	s.cmd = s.command("postgres", "-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1")
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for range 200 {
		if exec.Command(filepath.Join(s.bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(s.port)).Run() == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	s.t.Fatalf("postgres did not start: %s", out)
}

// crash stops the server at once (SIGQUIT: immediate shutdown, as
// pg_ctl stop -m immediate does): no checkpoint, crash recovery on the
// next start.
func (s *pgServer) crash() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	for _, pid := range s.backends() {
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Signal(syscall.SIGQUIT)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// backends lists the server's child processes (its backends and workers).
func (s *pgServer) backends() []int {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	var pids []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so read after ")".
		i := strings.LastIndexByte(string(stat), ')')
		if f := strings.Fields(string(stat[i+1:])); len(f) > 1 && f[1] == strconv.Itoa(s.cmd.Process.Pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// proxy forwards TCP connections to a server, and can refuse new ones: a
// client that gives up on a statement then cannot reach the server to
// cancel it, as when the network between them fails.
type proxy struct {
	l      net.Listener
	target string
	refuse atomic.Bool
}

// startProxy forwards a local port to the host and port of u, and returns
// the proxy and u rewritten to go through it.
func startProxy(t testing.TB, u string) (*proxy, string) {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: parsed.Host}
	t.Cleanup(func() { _ = l.Close() })
	go p.serve()
	parsed.Host = l.Addr().String()
	return p, parsed.String()
}

func (p *proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		if p.refuse.Load() {
			_ = c.Close()
			continue
		}
		go func() {
			defer c.Close()
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				return
			}
			defer s.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(s, c); done <- struct{}{} }()
			go func() { _, _ = io.Copy(c, s); done <- struct{}{} }()
			<-done
		}()
	}
}
