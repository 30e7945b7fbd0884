// Command modcheck builds every nested module of the repository the way a
// user who runs `go get` would: outside the workspace (GOWORK=off), with
// the repository's own modules fetched from a module proxy, not from the
// directories next door. The proxy is a directory it writes from the
// working tree, at the versions the nested modules require; everything
// else comes from the real proxy. A nested module that only builds thanks
// to go.work, or that requires a version of a sibling that does not hold
// what it uses, fails here.
//
// Run it from the tools module: go run ./cmd/modcheck -root ..
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

const repo = "github.com/ginfresh/ginfresh"

func main() {
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	mods, err := modules(*root)
	if err != nil {
		log.Fatal(err)
	}
	proxy, err := os.MkdirTemp("", "ginfresh-proxy-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(proxy)
	// A module cache of this run's own: the shared one may hold an older
	// zip of the same version of a sibling, which it would never fetch
	// again. The shared cache's downloads serve as a proxy (see check), so
	// nothing is fetched twice.
	cache, err := os.MkdirTemp("", "ginfresh-modcache-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(cache) // writable: -modcacherw
	// Serve each sibling at every version another module requires.
	served := map[module.Version]bool{}
	for _, m := range mods {
		for _, r := range m.file.Require {
			if !strings.HasPrefix(r.Mod.Path, repo) || served[r.Mod] {
				continue
			}
			dep, ok := find(mods, r.Mod.Path)
			if !ok {
				log.Fatalf("%s requires %s, which is not in the repository", m.file.Module.Mod.Path, r.Mod.Path)
			}
			if err := serve(proxy, dep.dir, r.Mod); err != nil {
				log.Fatal(err)
			}
			served[r.Mod] = true
		}
	}
	failed := false
	for _, m := range mods {
		if m.dir == filepath.Clean(*root) {
			continue // the root module needs no siblings
		}
		if err := check(proxy, cache, m); err != nil {
			failed = true
			fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", m.file.Module.Mod.Path, err)
			continue
		}
		fmt.Printf("ok   %s (GOWORK=off, siblings from the proxy)\n", m.file.Module.Mod.Path)
	}
	if failed {
		os.RemoveAll(proxy) // os.Exit skips the deferred calls
		os.RemoveAll(cache)
		os.Exit(1)
	}
}

type mod struct {
	dir  string
	file *modfile.File
}

// modules finds every go.mod under root.
func modules(root string) ([]mod, error) {
	var out []mod
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || (strings.HasPrefix(d.Name(), ".") && p != root)) {
			return fs.SkipDir
		}
		if d.Name() != "go.mod" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := modfile.Parse(p, data, nil)
		if err != nil {
			return err
		}
		out = append(out, mod{filepath.Dir(p), f})
		return nil
	})
	return out, err
}

func find(mods []mod, path string) (mod, bool) {
	for _, m := range mods {
		if m.file.Module.Mod.Path == path {
			return m, true
		}
	}
	return mod{}, false
}

// serve writes dir as module version v into the proxy directory, as
// `go mod download` expects it: list, info, mod and zip.
func serve(proxy, dir string, v module.Version) error {
	escaped, err := module.EscapePath(v.Path)
	if err != nil {
		return err
	}
	base := filepath.Join(proxy, escaped, "@v")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	info := fmt.Sprintf(`{"Version":%q,"Time":%q}`, v.Version, time.Now().UTC().Format(time.RFC3339))
	var z bytes.Buffer
	if err := zip.CreateFromDir(&z, v, dir); err != nil {
		return fmt.Errorf("zipping %s: %w", v, err)
	}
	for name, data := range map[string][]byte{
		"list": []byte(v.Version + "\n"), v.Version + ".info": []byte(info),
		v.Version + ".mod": goMod, v.Version + ".zip": z.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(base, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// check copies the module alone into a temporary directory and builds and
// vets it (tests included) outside any workspace.
func check(proxy, cache string, m mod) error {
	tmp, err := os.MkdirTemp("", "ginfresh-modcheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var z bytes.Buffer
	v := module.Version{Path: m.file.Module.Mod.Path, Version: "v0.0.0-checked"}
	if err := zip.CreateFromDir(&z, v, m.dir); err != nil {
		return err
	}
	zipPath := filepath.Join(tmp, "m.zip")
	if err := os.WriteFile(zipPath, z.Bytes(), 0o644); err != nil {
		return err
	}
	work := filepath.Join(tmp, "src")
	if err := zip.Unzip(work, v, zipPath); err != nil {
		return err
	}
	proxies := "file://" + filepath.ToSlash(proxy)
	if shared := goEnv("GOMODCACHE"); shared != "" {
		proxies += ",file://" + filepath.ToSlash(filepath.Join(shared, "cache", "download"))
	}
	for _, args := range [][]string{{"mod", "download"}, {"build", "./..."}, {"vet", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod -modcacherw", "GOMODCACHE="+cache,
			"GOPROXY="+proxies+","+upstream(),
			"GONOSUMDB="+repo)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// upstream is the proxy the go command would use, for every module that is
// not the repository's own.
func upstream() string {
	if p := goEnv("GOPROXY"); p != "" && p != "off" {
		return p
	}
	return "https://proxy.golang.org,direct"
}

func goEnv(name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
