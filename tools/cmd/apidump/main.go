// Command apidump writes the exported API of the published modules, one
// line per name, in the manner of Go's own api/*.txt files:
//
//	pkg github.com/ginfresh/ginfresh, func New(...Option) (*Auth, error)
//
// Run it from the tools module: go run ./cmd/apidump -root .. [-o api]. It
// writes api/<module>.txt for each module; `make api` runs it and CI fails
// when the files it writes differ from the ones checked in, so every change
// of the API surface is a reviewed change of those files.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// modules are the published modules: directory, import path, and the API
// file they are written to.
var modules = []struct{ dir, path, file string }{
	{".", "github.com/ginfresh/ginfresh", "ginfresh.txt"},
	{"paseto", "github.com/ginfresh/ginfresh/paseto", "paseto.txt"},
	{"redisstore", "github.com/ginfresh/ginfresh/redisstore", "redisstore.txt"},
	{"sqlstore", "github.com/ginfresh/ginfresh/sqlstore", "sqlstore.txt"},
}

func main() {
	root := flag.String("root", ".", "the repository's root")
	out := flag.String("o", "api", "directory to write the API files to, relative to the root")
	flag.Parse()
	if err := os.Chdir(*root); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, m := range modules {
		lines, err := module(m.dir, m.path)
		if err != nil {
			log.Fatal(err)
		}
		body := strings.Join(lines, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(*out, m.file), []byte(body), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// module lists the API of every public package of the module in dir:
// nested modules, internal packages, commands and tests left out.
func module(dir, path string) ([]string, error) {
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		base := d.Name()
		if rel != "." {
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return fs.SkipDir // another module
			}
			if base == "internal" || base == "testdata" || strings.HasPrefix(base, ".") || base == "node_modules" {
				return fs.SkipDir
			}
		}
		pkgPath := path
		if rel != "." {
			pkgPath += "/" + filepath.ToSlash(rel)
		}
		l, err := pkg(p, pkgPath)
		lines = append(lines, l...)
		return err
	})
	sort.Strings(lines)
	return lines, err
}

func pkg(dir, path string) ([]string, error) {
	var lines []string
	// go/build picks the files a build of this platform compiles, build
	// tags considered; tests are not API.
	bp, err := build.ImportDir(dir, 0)
	if _, none := err.(*build.NoGoError); none {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if bp.Name == "main" {
		return nil, nil
	}
	add := func(format string, args ...any) {
		lines = append(lines, "pkg "+path+", "+fmt.Sprintf(format, args...))
	}
	fset := token.NewFileSet()
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				funcDecl(d, add)
			case *ast.GenDecl:
				genDecl(d, add)
			}
		}
	}
	return lines, nil
}

func funcDecl(d *ast.FuncDecl, add func(string, ...any)) {
	if !d.Name.IsExported() {
		return
	}
	if d.Recv == nil {
		add("func %s%s%s", d.Name.Name, typeParams(d.Type.TypeParams), signature(d.Type))
		return
	}
	recv := types.ExprString(d.Recv.List[0].Type)
	if !ast.IsExported(strings.TrimLeft(strings.SplitN(recv, "[", 2)[0], "*")) {
		return
	}
	add("method (%s) %s%s", recv, d.Name.Name, signature(d.Type))
}

func genDecl(d *ast.GenDecl, add func(string, ...any)) {
	var last ast.Expr // a const spec without a type repeats the one before
	for _, spec := range d.Specs {
		switch s := spec.(type) {
		case *ast.TypeSpec:
			if s.Name.IsExported() {
				typeSpec(s, add)
			}
		case *ast.ValueSpec:
			if s.Type != nil || s.Values != nil {
				last = s.Type
			}
			for _, n := range s.Names {
				if !n.IsExported() {
					continue
				}
				kind := "var"
				if d.Tok == token.CONST {
					kind = "const"
				}
				if last != nil {
					add("%s %s %s", kind, n.Name, types.ExprString(last))
				} else {
					add("%s %s", kind, n.Name)
				}
			}
		}
	}
}

func typeSpec(s *ast.TypeSpec, add func(string, ...any)) {
	name := s.Name.Name + typeParams(s.TypeParams)
	switch t := s.Type.(type) {
	case *ast.StructType:
		add("type %s struct", name)
		for _, f := range t.Fields.List {
			if len(f.Names) == 0 { // embedded
				if e := types.ExprString(f.Type); ast.IsExported(strings.TrimLeft(e[strings.LastIndex(e, ".")+1:], "*")) {
					add("type %s struct, embedded %s", name, e)
				}
				continue
			}
			for _, n := range f.Names {
				if n.IsExported() {
					add("type %s struct, %s %s", name, n.Name, types.ExprString(f.Type))
				}
			}
		}
	case *ast.InterfaceType:
		add("type %s interface", name)
		for _, m := range t.Methods.List {
			for _, n := range m.Names {
				if ft, ok := m.Type.(*ast.FuncType); ok && n.IsExported() {
					add("type %s interface, %s%s", name, n.Name, signature(ft))
				}
			}
		}
	default:
		assign := " "
		if s.Assign.IsValid() {
			assign = " = "
		}
		add("type %s%s%s", name, assign, types.ExprString(s.Type))
	}
}

func typeParams(l *ast.FieldList) string {
	if l == nil || len(l.List) == 0 {
		return ""
	}
	return "[" + fields(l, true) + "]"
}

func signature(t *ast.FuncType) string {
	s := "(" + fields(t.Params, false) + ")"
	if t.Results == nil || len(t.Results.List) == 0 {
		return s
	}
	r := fields(t.Results, false)
	if len(t.Results.List) == 1 && len(t.Results.List[0].Names) == 0 {
		return s + " " + r
	}
	return s + " (" + r + ")"
}

// fields renders a parameter list by types only (names are not API), or
// with names for type parameters.
func fields(l *ast.FieldList, named bool) string {
	if l == nil {
		return ""
	}
	var b bytes.Buffer
	for i, f := range l.List {
		t := types.ExprString(f.Type)
		n := max(1, len(f.Names))
		for j := range n {
			if i+j > 0 {
				b.WriteString(", ")
			}
			if named && len(f.Names) > 0 {
				b.WriteString(f.Names[j].Name + " ")
			}
			b.WriteString(t)
		}
	}
	return b.String()
}
