package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// need fails under CI=true, where every verifier must run, and otherwise
// skips, saying loudly what is missing and how to get it.
func need(t *testing.T, problem error, install string) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("%v: required under CI=true; %s", problem, install)
	}
	t.Skipf("SKIPPING interoperability test: %v; %s", problem, install)
}

// debianPython is Debian's interpreter, which python3-jwt installs into;
// the python3 first on PATH may be another one without it.
const debianPython = "/usr/bin/python3"

const pythonInstall = "apt-get install -y python3-jwt python3-cryptography"

// python returns Debian's python3 once it can import PyJWT and the
// cryptography package that PyJWT's EdDSA needs.
func python(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(debianPython, "-c",
		"import cryptography, jwt; print('PyJWT', jwt.__version__, 'cryptography', cryptography.__version__)").CombinedOutput()
	if err != nil {
		need(t, fmt.Errorf("%s cannot import jwt and cryptography: %w %s", debianPython, err, bytes.TrimSpace(out)), pythonInstall)
	}
	t.Logf("%s", bytes.TrimSpace(out))
	return debianPython
}

// jsDir holds the npm verifiers and the lock file that pins them.
const jsDir = "js"

const nodeInstall = "install Node.js 20 or later with npm (jose 6 needs it: Debian 12's nodejs 18 is too old, Debian 13's 20 will do)"

type nodeSetup struct {
	node, versions string
	err            error
	install        string
}

// setUpNode finds node and, unless js/node_modules is up to date with the
// lock file, runs npm ci once for every test of the process.
var setUpNode = sync.OnceValue(func() nodeSetup {
	node, err := exec.LookPath("node")
	if err != nil {
		return nodeSetup{err: fmt.Errorf("node is missing: %w", err), install: nodeInstall}
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nodeSetup{err: fmt.Errorf("%s --version: %w", node, err), install: nodeInstall}
	}
	version := strings.TrimSpace(string(out))
	if major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0]); major < 20 {
		return nodeSetup{err: fmt.Errorf("node %s is older than 20", version), install: nodeInstall}
	}
	var installed string
	if stale, why := nodeModulesStale(); stale {
		npm, err := exec.LookPath("npm")
		if err != nil {
			return nodeSetup{err: fmt.Errorf("%s and npm is missing: %w", why, err), install: nodeInstall}
		}
		cmd := exec.Command(npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
		cmd.Dir = jsDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nodeSetup{
				err:     fmt.Errorf("%s and npm ci failed: %w\n%s", why, err, out),
				install: "npm ci in interop/js needs the npm registry",
			}
		}
		installed = " (npm ci ran: " + why + ")"
	}
	versions := "node " + version
	for _, pkg := range []string{"jose", "paseto-ts"} {
		var meta struct{ Version string }
		b, err := os.ReadFile(filepath.Join(jsDir, "node_modules", pkg, "package.json"))
		if err == nil {
			err = json.Unmarshal(b, &meta)
		}
		if err != nil {
			return nodeSetup{err: fmt.Errorf("js/node_modules lacks %s: %w", pkg, err), install: "run npm ci in interop/js"}
		}
		versions += ", " + pkg + " " + meta.Version
	}
	return nodeSetup{node: node, versions: versions + installed}
})

// nodeModulesStale reports whether npm ci must run: node_modules is missing
// or older than the lock file (npm writes node_modules/.package-lock.json
// last, on every install).
func nodeModulesStale() (bool, string) {
	installed, err := os.Stat(filepath.Join(jsDir, "node_modules", ".package-lock.json"))
	if err != nil {
		return true, "js/node_modules is missing"
	}
	lock, err := os.Stat(filepath.Join(jsDir, "package-lock.json"))
	if err != nil || lock.ModTime().After(installed.ModTime()) {
		return true, "js/node_modules is older than js/package-lock.json"
	}
	return false, ""
}

// node returns node once js/node_modules holds the locked verifiers.
func node(t *testing.T) string {
	t.Helper()
	s := setUpNode()
	if s.err != nil {
		need(t, s.err, s.install)
	}
	t.Log(s.versions)
	return s.node
}

// A verifier is an external program that checks one token: it prints
// "ready" once its library is loaded, reads the token from stdin, and
// prints the verified claims as one JSON object, or exits 1 with
// "refused: …" on stderr.
type verifier struct {
	name string
	argv []string // the program and its arguments
}

// check starts v, and only once v is ready mints the token and hands it
// over: v checks it within milliseconds of its minting, against a clock
// that has barely moved. That is when a token dated in the future, even by
// a fraction of a second, is refused. check returns what v printed when it
// accepted the token, or its refusal; anything else (a crash, a missing
// module, a timeout) fails the test.
func (v verifier) check(t *testing.T, mint func() string) (accepted []byte, refused string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, v.argv[0], v.argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", v.name, err)
	}
	defer func() {
		if cmd.ProcessState == nil { // a failure below: do not leave it running
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	r := bufio.NewReader(stdout)
	if line, err := r.ReadString('\n'); line != "ready\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("%s did not get ready (%q, %v): %s", v.name, line, err, &stderr)
	}
	startOfSecond()
	token := mint()
	if _, err := io.WriteString(stdin, token+"\n"); err != nil {
		t.Fatalf("%s: writing the token: %v", v.name, err)
	}
	_ = stdin.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: reading its answer: %v", v.name, err)
	}
	err = cmd.Wait()
	if err == nil {
		return out, ""
	}
	// The refusal is a line of its own: a runtime may warn on stderr first.
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		for line := range strings.Lines(stderr.String()) {
			if strings.HasPrefix(line, "refused: ") {
				return nil, strings.TrimSpace(line)
			}
		}
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	t.Fatalf("%s failed (%v): %s%s", v.name, err, out, &stderr)
	return nil, ""
}

// startOfSecond waits for the next second when this one is nearly over, so
// that a verifier checks a token within the second it was issued in: a
// fractional iat (the whole-second fix undone) is then always in the
// verifier's future, never lost to a second boundary.
func startOfSecond() {
	now := time.Now()
	if left := now.Truncate(time.Second).Add(time.Second).Sub(now); left < 300*time.Millisecond {
		time.Sleep(left + time.Millisecond)
	}
}
