package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The example as its users run it: the binary, stopped with SIGTERM.

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// build compiles the example once per test run.
func build(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ginfresh-example-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "example")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// instance is one running example server.
type instance struct {
	cmd  *exec.Cmd
	base string
	log  *strings.Builder
	done chan error
}

// start runs the example with env on a free port and waits until it answers.
func start(t *testing.T, env ...string) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command(build(t))
	cmd.Env = append(os.Environ(), append(env, "HOST=127.0.0.1", fmt.Sprintf("PORT=%d", port), "GINFRESH_SECRET="+string(testSecret))...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), log: &strings.Builder{}, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			mu.Lock()
			in.log.WriteString(s.Text() + "\n")
			mu.Unlock()
		}
		in.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	for range 100 {
		if resp, err := http.Get(in.base + "/public"); err == nil {
			_ = resp.Body.Close()
			return in
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the example did not start")
	return nil
}

func (in *instance) post(path, token, body string) (int, map[string]any, error) {
	return in.postTraced(nil, path, token, body)
}

// postTraced is post with the client's side of the request traced.
func (in *instance) postTraced(trace *httptrace.ClientTrace, path, token, body string) (int, map[string]any, error) {
	req, _ := http.NewRequest(http.MethodPost, in.base+path, strings.NewReader(body))
	if trace != nil {
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out, err
}

// SIGTERM with logins in flight: every one of them is answered, then the
// process exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	in := start(t)
	const n = 20
	var answered atomic.Int32
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	users := []string{`{"username":"test","password":"test"}`, `{"username":"user1","password":"password1"}`, `{"username":"user2","password":"password2"}`}
	// A login is in flight once the server has accepted its connection:
	// the client has written it, and the accept loop has had its turn,
	// which on a busy machine (20 bcrypt hashes on two cores) can wait
	// behind the running goroutines for a good part of a second.
	var written sync.WaitGroup
	written.Add(n)
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { written.Done() }}
	for i := range n {
		wg.Go(func() {
			// Three accounts, so that the login throttle (ten attempts per
			// account and client at once) does not answer some with 429.
			code, body, err := in.postTraced(trace, "/login", "", users[i%3])
			if err == nil && code == http.StatusOK {
				answered.Add(1)
				return
			}
			mu.Lock()
			failures = append(failures, fmt.Sprintf("%d %v %v", code, body, err))
			mu.Unlock()
		})
	}
	written.Wait()
	time.Sleep(300 * time.Millisecond)
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the example did not exit")
	}
	if answered.Load() != n {
		t.Errorf("%d of %d logins in flight answered; the others: %v\n%s", answered.Load(), n, failures, in.log)
	}
	_, drained, ok := strings.Cut(in.log.String(), "answering the requests in flight")
	if !ok {
		t.Errorf("no drain logged:\n%s", in.log)
	}
	// Else the test proves nothing: every login was done before SIGTERM.
	if !strings.Contains(drained, "ginfresh: login") {
		t.Errorf("no login was answered during the drain:\n%s", in.log)
	}
}

// Two instances on one Redis under load, one of them stopped: no session
// is revoked by it. Clients whose instance is gone try the other with the
// same token.
func TestStopOneOfTwoInstances(t *testing.T) {
	addr := serverEnv(t, "GINFRESH_TEST_REDIS_ADDR")
	url := "REDIS_URL=redis://" + addr + "/0"
	a, b := start(t, url), start(t, url)
	const clients = 40
	tokens := make([]string, clients)
	for i := range tokens {
		code, tok, err := a.post("/login", "", `{"username":"test","password":"test"}`)
		if err != nil || code != http.StatusOK {
			t.Fatalf("login: %d %v", code, err)
		}
		tokens[i] = tok["refresh_token"].(string)
	}
	var revoked, refreshed, retried atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			servers := []*instance{a, b}
			for k := i; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				code, tok, err := servers[k%2].post("/refresh", tokens[i], "")
				switch {
				case err != nil: // that instance is gone: the next try goes to the other
					retried.Add(1)
				case code == http.StatusOK:
					refreshed.Add(1)
					tokens[i] = tok["refresh_token"].(string)
				case code == http.StatusServiceUnavailable:
				default:
					revoked.Add(1)
					t.Errorf("client %d: %d %v", i, code, tok)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(700 * time.Millisecond)
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("refreshes %d, retried on the other instance %d", refreshed.Load(), retried.Load())
	if revoked.Load() != 0 {
		t.Errorf("%d sessions revoked by stopping an instance", revoked.Load())
	}
	for i, tok := range tokens {
		if code, body, err := b.post("/refresh", tok, ""); err != nil || code != http.StatusOK {
			t.Errorf("session %d after the stop: %d %v %v", i, code, body, err)
		}
	}
}
