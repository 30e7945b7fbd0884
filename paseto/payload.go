package paseto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/ginfresh/ginfresh"
)

// dateClaims are the registered PASETO claims that hold dates: RFC 3339
// strings in a PASETO payload, NumericDates in [ginfresh.Claims].
var dateClaims = map[string]bool{"exp": true, "nbf": true, "iat": true}

var (
	errNotObject = errors.New("not a JSON object")
	errDuplicate = errors.New("duplicate name")
	errDate      = errors.New("date is not an RFC 3339 string")
	errDateRange = errors.New("date before 1970")
)

// member is one name/value pair of a JSON object, the value verbatim.
type member struct {
	name  string
	value json.RawMessage
}

// members splits one JSON object into its members, in order. Duplicate
// names are refused: two readers of {"sub":"a","sub":"b"} might disagree.
func members(b []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errNotObject
	}
	var ms []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errNotObject
		}
		if seen[name] {
			return nil, fmt.Errorf("%w %q", errDuplicate, name)
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		ms = append(ms, member{name, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	return ms, nil
}

// encodeClaims renders claims as a PASETO payload: exp, nbf and iat as RFC
// 3339 strings in UTC (iat keeping its milliseconds, which revocation needs;
// exp and nbf in whole seconds, as in ginfresh's JWTs), a single audience as
// a string, everything else exactly as [ginfresh.Claims.MarshalJSON] writes it.
func encodeClaims(c *ginfresh.Claims) ([]byte, error) {
	rest := *c
	rest.ExpiresAt, rest.NotBefore, rest.IssuedAt, rest.Audience = nil, nil, nil, nil
	body, err := rest.MarshalJSON() // {"sub":…}
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(body)+128)
	b = append(b, '{')
	date := func(name string, t time.Time) {
		b = append(append(append(b, '"'), name...), `":"`...)
		b = append(t.UTC().AppendFormat(b, time.RFC3339Nano), `",`...)
	}
	if c.ExpiresAt != nil {
		date("exp", time.Unix(c.ExpiresAt.Unix(), 0))
	}
	if c.NotBefore != nil {
		date("nbf", time.Unix(c.NotBefore.Unix(), 0))
	}
	if c.IssuedAt != nil {
		date("iat", time.UnixMilli(c.IssuedAt.UnixMilli()))
	}
	if len(c.Audience) > 0 {
		// PASETO's aud is a string; several audiences need an array.
		var aud any = []string(c.Audience)
		if len(c.Audience) == 1 {
			aud = c.Audience[0]
		}
		v, err := json.Marshal(aud)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, `"aud":`...), v...), ',')
	}
	return append(b, body[1:]...), nil
}

// decodeClaims turns a verified PASETO payload into claims: the dates become
// NumericDates (to the millisecond), every other member is carried byte for
// byte, and [ginfresh.Claims.UnmarshalJSON] checks the result.
func decodeClaims(payload []byte) (*ginfresh.Claims, error) {
	ms, err := members(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrPayload, err)
	}
	b := make([]byte, 0, len(payload))
	b = append(b, '{')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		name, _ := json.Marshal(m.name) // cannot fail for a string
		b = append(append(b, name...), ':')
		if !dateClaims[m.name] {
			b = append(b, m.value...)
			continue
		}
		var s string
		if len(m.value) == 0 || m.value[0] != '"' || json.Unmarshal(m.value, &s) != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrPayload, m.name, errDate)
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrPayload, m.name, errDate)
		}
		if t.Before(time.Unix(0, 0)) {
			return nil, fmt.Errorf("%w: %s: %w", ErrPayload, m.name, errDateRange)
		}
		ms := t.Round(time.Millisecond).UnixMilli()
		b = strconv.AppendInt(b, ms/1000, 10)
		if r := ms % 1000; r != 0 {
			b = append(b, '.', byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
		}
	}
	b = append(b, '}')
	c := new(ginfresh.Claims)
	if err := c.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrPayload, err)
	}
	return c, nil
}
