package main

import (
	"bufio"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

// TestReadmeTranscripts runs the console transcripts of the repository's
// README and docs/ against the example server with bash, curl, jq and oathtool, as a
// reader would, and checks that every line the README shows after a
// command is what that command printed, in order (the README leaves out
// headers it does not discuss, so other lines may come between).
func TestReadmeTranscripts(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "oathtool"} {
		if _, err := exec.LookPath(tool); err != nil {
			if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
				t.Fatalf("%s is not on the PATH: CI must run the README's transcripts", tool)
			}
			t.Skipf("%s is not on the PATH: skipping the README's transcripts", tool)
		}
	}
	gin.SetMode(gin.TestMode)
	r, err := newServer(config{secret: testSecret})
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	docs, err := filepath.Glob("../docs/*.md")
	require.NoError(t, err)
	var blocks []transcript
	for _, doc := range append([]string{"../README.md"}, docs...) {
		blocks = append(blocks, transcripts(t, doc)...)
	}
	require.GreaterOrEqual(t, len(blocks), 3, "the docs' transcripts were not found")
	for _, b := range blocks {
		t.Run(fmt.Sprintf("%s:%d", b.doc, b.line), func(t *testing.T) {
			var script strings.Builder
			for i, c := range b.commands {
				fmt.Fprintf(&script, "echo; echo '@@%d'\n%s\n", i, strings.ReplaceAll(c.text, "localhost:8000", srv.Listener.Addr().String()))
			}
			cmd := exec.Command("bash", "-c", script.String())
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			printed := split(string(out), len(b.commands))
			for i, c := range b.commands {
				rest := printed[i]
				for _, want := range c.output {
					at := indexOf(rest, want)
					if at < 0 {
						t.Errorf("%s:%d: `%s`\nshows  %q\nprinted %q", b.doc, c.line, firstLine(c.text), want, printed[i])
						break
					}
					rest = rest[at+1:]
				}
			}
		})
	}
}

type command struct {
	line   int
	text   string   // with its continuation lines
	output []string // the lines the README shows after it
}

type transcript struct {
	doc      string
	line     int
	commands []command
}

// transcripts returns the ```console blocks of a Markdown file.
func transcripts(t *testing.T, path string) []transcript {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []transcript
	var cur *transcript
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```console":
			cur = &transcript{doc: strings.TrimPrefix(path, "../"), line: n}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur == nil:
		case strings.HasPrefix(line, "$ "):
			cur.commands = append(cur.commands, command{line: n, text: strings.TrimPrefix(line, "$ ")})
		case len(cur.commands) == 0:
			t.Fatalf("%s:%d: output before the first command", path, n)
		default:
			c := &cur.commands[len(cur.commands)-1]
			switch {
			case strings.HasSuffix(c.text, "\\") && len(c.output) == 0:
				c.text += "\n" + line
			case strings.TrimSpace(line) != "":
				c.output = append(c.output, line)
			}
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// split cuts the script's output at the markers echoed before each command.
func split(out string, n int) [][]string {
	printed := make([][]string, n)
	i := -1
	for _, line := range strings.Split(strings.ReplaceAll(out, "\r", ""), "\n") {
		if k, ok := strings.CutPrefix(line, "@@"); ok {
			if j, err := strconv.Atoi(k); err == nil && j == i+1 {
				i = j
				continue
			}
		}
		if i >= 0 && line != "" {
			printed[i] = append(printed[i], line)
		}
	}
	return printed
}

func indexOf(lines []string, want string) int {
	for i, l := range lines {
		if l == want {
			return i
		}
	}
	return -1
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
