// Package jsonscan reads JSON objects member by member without decoding
// them into maps: the claims of a verified token and the members of an
// unverified JOSE header. Names are compared exactly (encoding/json would
// match them ignoring case) and a name given twice is an error, so that
// {"sub":"alice","sub":"admin"} cannot mean one thing here and another to a
// reader that keeps the first value.
package jsonscan

import (
	"encoding/json"
	"errors"
	"slices"
	"unicode/utf8"
)

var (
	// ErrNotObject: the input is not one valid JSON object.
	ErrNotObject = errors.New("not a JSON object")
	// ErrDuplicate: a member name appears twice.
	ErrDuplicate = errors.New("duplicate member")
	// ErrBadName: a member name does not unescape.
	ErrBadName = errors.New("bad member name")
)

// Object checks that p is one valid JSON object naming each member once.
func Object(p []byte) error {
	if !json.Valid(p) {
		return ErrNotObject
	}
	return Each(string(p), func(string, string) error { return nil })
}

// Each calls fn with the name (unescaped) and the raw value of each member
// of the object p, in order, and stops at the first error fn returns. A
// name seen before is an error. p must have passed json.Valid, which lets
// the scan trust its structure.
func Each(p string, fn func(name, value string) error) error {
	var seen [16]string
	names := seen[:0]
	// Past len(seen) names a set keeps the check linear: this runs on
	// unverified headers, where an attacker chooses the member count.
	var many map[string]struct{}
	i := skipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return ErrNotObject
	}
	if i = skipSpace(p, i+1); p[i] == '}' {
		return nil
	}
	for {
		end, escaped := scanString(p, i)
		name := p[i+1 : end-1]
		// Unescape as encoding/json would, which also reads invalid UTF-8
		// as U+FFFD: names must compare the way every reader sees them.
		if escaped || !utf8.ValidString(name) {
			var unquoted string
			if err := json.Unmarshal([]byte(p[i:end]), &unquoted); err != nil {
				return ErrBadName
			}
			name = unquoted
		}
		var dup bool
		if many != nil {
			_, dup = many[name]
			many[name] = struct{}{}
		} else if dup = slices.Contains(names, name); !dup {
			if names = append(names, name); len(names) == len(seen) {
				many = make(map[string]struct{}, 2*len(seen))
				for _, n := range names {
					many[n] = struct{}{}
				}
			}
		}
		if dup {
			return &DuplicateError{Name: name}
		}
		start := skipSpace(p, skipSpace(p, end)+1) // past the colon
		end = skipValue(p, start)
		if err := fn(name, p[start:end]); err != nil {
			return err
		}
		if i = skipSpace(p, end); p[i] == '}' {
			return nil
		}
		i = skipSpace(p, i+1) // past the comma
	}
}

// DuplicateError names the member given twice; it is [ErrDuplicate].
type DuplicateError struct{ Name string }

func (e *DuplicateError) Error() string { return "duplicate member " + strconvQuote(e.Name) }

// Is makes errors.Is(err, ErrDuplicate) true.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

func strconvQuote(s string) string {
	b, _ := json.Marshal(s) // cannot fail for a string
	return string(b)
}

// Strings calls fn with each element of the JSON array of strings v, or
// with v itself when it is a single string; ok is false for anything else.
// Elements are unquoted.
func Strings(v string, fn func(string)) (ok bool) {
	switch {
	case v == "":
		return false
	case v[0] == '"':
		s, ok := Unquote(v)
		if ok {
			fn(s)
		}
		return ok
	case v[0] != '[':
		return false
	}
	i := skipSpace(v, 1)
	for v[i] != ']' {
		if v[i] != '"' {
			return false
		}
		end, _ := scanString(v, i)
		s, ok := Unquote(v[i:end])
		if !ok {
			return false
		}
		fn(s)
		if i = skipSpace(v, end); v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return true
}

// Unquote returns the JSON string v unquoted; a plain string (no escapes,
// valid UTF-8, nearly always) is a slice of v, allocating nothing.
func Unquote(v string) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if s := v[1 : len(v)-1]; !hasEscape(s) && utf8.ValidString(s) {
		return s, true
	}
	var s string
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return "", false
	}
	return s, true
}

func hasEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			return true
		}
	}
	return false
}

// AppendString appends s as a JSON string. Plain ASCII, the usual case for
// subjects and IDs, is copied as is; anything else goes through
// encoding/json so that control characters and invalid UTF-8 are escaped
// the way every JSON reader expects (and <, > and & as \u003c…, which keeps
// a token's payload inert if it ever lands in HTML).
func AppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // cannot fail for a string
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func skipSpace(p string, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index just past the string starting at p[i] (a
// quote) and whether it holds escapes; -1 when unterminated.
func scanString(p string, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(p); j++ {
		switch p[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, escaped
}

// skipValue returns the index just past the JSON value at p[i], which must
// be valid JSON.
func skipValue(p string, i int) int {
	switch p[i] {
	case '"':
		end, _ := scanString(p, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(p); j++ {
			switch p[j] {
			case '"':
				end, _ := scanString(p, j)
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(p)
	}
	j := i
	for j < len(p) && p[j] != ',' && p[j] != '}' && p[j] != ']' && p[j] != ' ' && p[j] != '\t' && p[j] != '\n' && p[j] != '\r' {
		j++
	}
	return j
}
