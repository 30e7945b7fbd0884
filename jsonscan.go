package ginfresh

import (
	"encoding/json"
	"errors"
	"fmt"

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

// checkDuplicateKeys refuses a payload whose top-level object names a claim
// twice. encoding/json would silently keep the last value, while another
// parser in the same system might keep the first: {"sub":"alice","sub":"admin"}
// must not mean different things to different readers.
func checkDuplicateKeys(p []byte) error {
	var seen [16]string
	keys := seen[:0]
	i := skipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return fmt.Errorf("%w: payload is not a JSON object", jwt.ErrTokenMalformed)
	}
	i = skipSpace(p, i+1)
	if i < len(p) && p[i] == '}' {
		return nil
	}
	for i < len(p) {
		if p[i] != '"' {
			return fmt.Errorf("%w: bad claim name", jwt.ErrTokenMalformed)
		}
		end, escaped := scanString(p, i)
		if end < 0 {
			return fmt.Errorf("%w: bad claim name", jwt.ErrTokenMalformed)
		}
		key := string(p[i+1 : end-1])
		if escaped {
			if err := json.Unmarshal(p[i:end], &key); err != nil {
				return fmt.Errorf("%w: bad claim name", jwt.ErrTokenMalformed)
			}
		}
		for _, k := range keys {
			if k == key {
				return fmt.Errorf("%w: %w %q", jwt.ErrTokenMalformed, errDuplicateClaim, key)
			}
		}
		keys = append(keys, key)
		i = skipSpace(p, end)
		if i >= len(p) || p[i] != ':' {
			return fmt.Errorf("%w: bad claim", jwt.ErrTokenMalformed)
		}
		i = skipValue(p, skipSpace(p, i+1))
		if i < 0 {
			return fmt.Errorf("%w: bad claim value", jwt.ErrTokenMalformed)
		}
		i = skipSpace(p, i)
		if i >= len(p) {
			break
		}
		switch p[i] {
		case ',':
			i = skipSpace(p, i+1)
		case '}':
			return nil
		default:
			return fmt.Errorf("%w: bad claim separator", jwt.ErrTokenMalformed)
		}
	}
	return fmt.Errorf("%w: unterminated payload", jwt.ErrTokenMalformed)
}

func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index just past the string starting at p[i] (a
// quote) and whether it holds escapes; -1 when unterminated.
func scanString(p []byte, i int) (int, bool) {
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

// skipValue returns the index just past the JSON value at p[i], or -1. It
// only finds the value's end; encoding/json validates it afterwards.
func skipValue(p []byte, i int) int {
	if i >= len(p) {
		return -1
	}
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
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(p) && p[j] != ',' && p[j] != '}' && p[j] != ' ' && p[j] != '\t' && p[j] != '\n' && p[j] != '\r' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}
