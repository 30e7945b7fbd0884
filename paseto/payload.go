package paseto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"aidanwoods.dev/go-paseto"
)

// dateClaims are the registered PASETO claims that hold dates: RFC 3339
// strings in a PASETO payload, NumericDates in whole seconds in the payload
// ginfresh hands to Issue and takes back from Verify. auth_time is not
// among them: PASETO does not register it, so it stays a NumericDate.
var dateClaims = map[string]bool{"exp": true, "nbf": true, "iat": true}

// maxDate is the latest date accepted, in seconds since 1970: ginfresh's
// own bound (year 5138), beyond which time.Time is no longer exact.
const maxDate = 1e11

var (
	errNotObject = errors.New("not a JSON object")
	errDuplicate = errors.New("duplicate name")
	errDate      = errors.New("date is not an RFC 3339 string")
	errDateRange = errors.New("date before 1970 or after 5138")
	errNumeric   = errors.New("date is not a NumericDate in whole seconds")
	errNotBefore = errors.New("nbf is before iat")
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

// toPASETO turns the payload ginfresh issues into a PASETO token: exp, nbf
// and iat from NumericDates to RFC 3339 strings in UTC, a single audience
// from an array to a string (PASETO's aud is a string), every other claim
// as it is. Dates must be whole seconds, as ginfresh writes them, so the
// strings say exactly what the payload said; and nbf may not come before
// iat, which some verifiers (paseto-ts) refuse.
func toPASETO(payload []byte) (*paseto.Token, error) {
	ms, err := members(payload)
	if err != nil {
		return nil, fmt.Errorf("paseto: payload: %w", err)
	}
	t := paseto.NewToken()
	iat, nbf := int64(-1), int64(-1)
	for _, m := range ms {
		var v any = m.value
		switch {
		case dateClaims[m.name]:
			sec, err := strconv.ParseInt(string(m.value), 10, 64)
			if err != nil || sec < 0 || sec > maxDate {
				return nil, fmt.Errorf("paseto: payload: %s: %w", m.name, errNumeric)
			}
			switch m.name {
			case "iat":
				iat = sec
			case "nbf":
				nbf = sec
			}
			v = time.Unix(sec, 0).UTC().Format(time.RFC3339)
		case m.name == "aud":
			var aud []string
			if json.Unmarshal(m.value, &aud) == nil && len(aud) == 1 {
				v = aud[0]
			}
		}
		if err := t.Set(m.name, v); err != nil {
			return nil, fmt.Errorf("paseto: payload: %w", err)
		}
	}
	if nbf >= 0 && nbf < iat {
		return nil, fmt.Errorf("paseto: payload: %w", errNotBefore)
	}
	return &t, nil
}

// fromPASETO turns a verified PASETO payload into the payload ginfresh
// reads: exp, nbf and iat from RFC 3339 strings to NumericDates, every
// other member byte for byte. A fraction of a second is dropped (the date
// is truncated to the whole second it falls in, never rounded up), so a
// token minted elsewhere never expires later, nor looks issued later, than
// it says. Duplicate names are refused here; the claim values are
// ginfresh's to check.
func fromPASETO(payload []byte) ([]byte, error) {
	ms, err := members(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPayload, err)
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
		sec, err := parseDate(m.value)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrPayload, m.name, err)
		}
		b = strconv.AppendInt(b, sec, 10)
	}
	return append(b, '}'), nil
}

// parseDate reads a JSON RFC 3339 string as whole seconds since 1970.
func parseDate(v json.RawMessage) (int64, error) {
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return 0, errDate
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, errDate
	}
	if t.Before(time.Unix(0, 0)) || t.Unix() > maxDate {
		return 0, errDateRange
	}
	return t.Unix(), nil // whole seconds since 1970: truncated
}
