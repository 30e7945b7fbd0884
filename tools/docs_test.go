package tools

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDocSnippets compiles (go vet) every Go snippet of the README, docs/
// and the modules' READMEs, so that none of them lies about the API. A
// snippet that starts with "package" is a file of its own; any other is
// either top-level declarations or statements, which run in a function.
// Either way each gets a package of its own, with the imports a snippet may
// use and stand-ins for what snippets name without defining (secret,
// checkPassword, profile, r …), declared only where the snippet does not
// define them. //line directives make errors point into the Markdown.
func TestDocSnippets(t *testing.T) {
	var docs []string
	for _, pattern := range []string{"../README.md", "../docs/*.md", "../*/README.md"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, m...)
	}
	dir, err := os.MkdirTemp(".", "snippets-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	n := 0
	for _, doc := range docs {
		for _, s := range snippets(t, doc) {
			n++
			pkg := filepath.Join(dir, fmt.Sprintf("s%03d", n))
			if err := os.MkdirAll(pkg, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(pkg, "snippet.go"), []byte(wrap(t, s)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n < 10 {
		t.Fatalf("found %d snippets: the extraction is broken", n)
	}
	out, err := exec.Command("go", "vet", "./"+filepath.Base(dir)+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("the docs' Go snippets do not compile or vet:\n%s", out)
	}
	t.Logf("%d snippets compile and vet", n)
}

type snippet struct {
	doc  string
	line int // of the snippet's first line
	code string
}

// snippets returns the ```go blocks of a Markdown file.
func snippets(t *testing.T, doc string) []snippet {
	t.Helper()
	f, err := os.Open(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []snippet
	var cur *snippet
	var b strings.Builder
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(text) == "```go":
			cur = &snippet{doc: doc, line: line + 1}
			b.Reset()
		case cur != nil && strings.TrimSpace(text) == "```":
			cur.code = b.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			b.WriteString(text + "\n")
		}
	}
	return out
}

// wrap turns a snippet into a file.
func wrap(t *testing.T, s snippet) string {
	rel, _ := filepath.Rel("..", s.doc)
	at := fmt.Sprintf("//line %s:%d\n", rel, s.line)
	if strings.HasPrefix(strings.TrimSpace(s.code), "package ") {
		return at + s.code
	}
	// Top-level declarations parse as a file; statements do not.
	if f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+s.code, 0); err == nil {
		return "package p\n\n" + prelude(declared(f)) + at + s.code
	}
	body := "func snippet() {\n" + at + s.code
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+body+"}\n", 0)
	if err != nil {
		t.Fatalf("%s:%d: the snippet is neither declarations nor statements: %v", rel, s.line, err)
	}
	// Names the statements declare may go unused in a snippet: use them.
	var use []string
	for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				for _, e := range st.Lhs {
					if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
						use = append(use, id.Name)
					}
				}
			}
		case *ast.DeclStmt:
			for _, sp := range st.Decl.(*ast.GenDecl).Specs {
				if vs, ok := sp.(*ast.ValueSpec); ok {
					for _, id := range vs.Names {
						use = append(use, id.Name)
					}
				}
			}
		}
	}
	slices.Sort(use)
	use = slices.Compact(use)
	for _, u := range use {
		body += "\t_ = " + u + "\n"
	}
	return "package p\n\n" + prelude(nil) + body + "}\n"
}

// declared lists the top-level names a file declares.
func declared(f *ast.File) map[string]bool {
	names := map[string]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			names[d.Name.Name] = true
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					names[sp.Name.Name] = true
				case *ast.ValueSpec:
					for _, id := range sp.Names {
						names[id.Name] = true
					}
				}
			}
		}
	}
	return names
}

// standIns are what snippets name without defining.
var standIns = map[string]string{
	"secret":         "var secret []byte",
	"ctx":            "var ctx = context.Background()",
	"r":              "var r = gin.New()",
	"auth":           "var auth *ginfresh.Auth",
	"passwordOK":     "func passwordOK(user, password string) bool { return false }",
	"checkPassword":  "func checkPassword(*gin.Context, *ginfresh.LoginRequest) (ginfresh.Identity, error) { return ginfresh.Identity{}, nil }",
	"profile":        "func profile(*gin.Context) {}",
	"changePassword": "func changePassword(*gin.Context) {}",
	"admin":          "func admin(*gin.Context) {}",
	"orders":         "func orders(*gin.Context) {}",
	"pay":            "func pay(*gin.Context) {}",
	"users":          "var users appUsers",
	"appUsers": `type appUser struct {
	ID       string
	Roles    []string
	Profile  map[string]any
	Disabled bool
}

type appUsers struct{}

func (appUsers) Check(context.Context, string, string, string) (appUser, error) { return appUser{}, nil }
func (appUsers) ByID(context.Context, string) (appUser, error)                  { return appUser{}, nil }`,
	"magicLinks": `var magicLinks magic

type magic struct{}

func (magic) Redeem(context.Context, string) (ginfresh.Identity, error) { return ginfresh.Identity{}, nil }`,
}

// prelude imports every package a snippet may use and declares the
// stand-ins the snippet does not declare itself.
func prelude(defined map[string]bool) string {
	var b strings.Builder
	b.WriteString(`import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/paseto"
	"github.com/ginfresh/ginfresh/redisstore"
	"github.com/ginfresh/ginfresh/sqlstore"
)

var (
	_ = context.Background
	_ = errors.New
	_ = fmt.Sprint
	_ = log.Fatal
	_ = slog.Default
	_ = http.StatusOK
	_ = os.Getenv
	_ = time.Second
	_ = gin.New
	_ = redis.NewClient
	_ = ginfresh.New
	_ = paseto.NewPublic
	_ = redisstore.New
	_ = sqlstore.Open
)

`)
	keys := make([]string, 0, len(standIns))
	for k := range standIns {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if defined[k] || (k == "appUsers" && defined["users"]) {
			continue
		}
		b.WriteString(standIns[k] + "\n\n")
	}
	return b.String()
}
