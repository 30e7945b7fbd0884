package ginfresh

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// appendJSONString appends s as a JSON string. Plain ASCII, the usual case
// for subjects and IDs, is copied as is; anything else goes through
// encoding/json so control characters and invalid UTF-8 are escaped.
func appendJSONString(b []byte, s string) []byte {
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

var errDuplicateClaim = errors.New("duplicate claim")

// checkDuplicateKeys refuses anything but a JSON object naming each member
// once. encoding/json would silently keep the last of two values, while
// another parser in the same system might keep the first:
// {"sub":"alice","sub":"admin"} must not mean different things to different
// readers.
func checkDuplicateKeys(p []byte) error {
	if !json.Valid(p) {
		return fmt.Errorf("%w: not valid JSON", jwt.ErrTokenMalformed)
	}
	return eachMember(string(p), func(string, string) error { return nil })
}

// eachMember calls fn with the name (unescaped) and raw value of each member
// of the object p, refusing a name seen before. p must be valid JSON
// (json.Valid), which lets the scan trust its structure.
func eachMember(p string, fn func(name, value string) error) error {
	var seen [16]string
	names := seen[:0]
	// Past len(seen) names a set keeps the check linear: this runs on
	// unverified headers, where an attacker chooses the member count.
	var many map[string]struct{}
	i := skipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return fmt.Errorf("%w: not a JSON object", jwt.ErrTokenMalformed)
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
				return fmt.Errorf("%w: bad member name", jwt.ErrTokenMalformed)
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
			return fmt.Errorf("%w: %w %q", jwt.ErrTokenMalformed, errDuplicateClaim, name)
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

func typeError(name, want string) error {
	return fmt.Errorf("%w: %w: claim %q must be %s", jwt.ErrTokenMalformed, jwt.ErrInvalidType, name, want)
}

// stringClaim sets *dst to the JSON string v. A plain string (no escapes,
// valid UTF-8, nearly always) is used as it is, a slice of the payload;
// anything else is unquoted by encoding/json.
func stringClaim(dst *string, name, v string) error {
	switch {
	case v == "null":
		return nil
	case v[0] != '"':
		return typeError(name, "a string")
	}
	if s := v[1 : len(v)-1]; strings.IndexByte(s, '\\') < 0 && utf8.ValidString(s) {
		*dst = s
		return nil
	}
	return json.Unmarshal([]byte(v), dst)
}

// numberClaim sets *dst to the JSON number v.
func numberClaim(dst *float64, name, v string) error {
	if v == "null" {
		return nil
	}
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return typeError(name, "a number")
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return fmt.Errorf("%w: claim %q: %w", jwt.ErrTokenMalformed, name, errDateRange)
	}
	*dst = f
	return nil
}

// boolClaim sets *dst to the JSON boolean v.
func boolClaim(dst *bool, name, v string) error {
	switch v {
	case "true":
		*dst = true
	case "false", "null":
	default:
		return typeError(name, "a boolean")
	}
	return nil
}

// audienceClaim decodes aud as jwt.ClaimStrings does: one string or an
// array of strings.
func audienceClaim(dst *jwt.ClaimStrings, v string) error {
	const name = "aud"
	switch v[0] {
	case 'n':
		return nil
	case '"':
		var s string
		if err := stringClaim(&s, name, v); err != nil {
			return err
		}
		*dst = jwt.ClaimStrings{s}
		return nil
	case '[':
	default:
		return typeError(name, "a string or an array of strings")
	}
	var aud jwt.ClaimStrings
	i := skipSpace(v, 1)
	for v[i] != ']' {
		if v[i] != '"' {
			return typeError(name, "a string or an array of strings")
		}
		end, _ := scanString(v, i)
		var s string
		if err := stringClaim(&s, name, v[i:end]); err != nil {
			return err
		}
		aud = append(aud, s)
		if i = skipSpace(v, end); v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	*dst = aud
	return nil
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
