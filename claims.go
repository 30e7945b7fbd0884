package ginfresh

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ginfresh/ginfresh/internal/jsonscan"
)

// Kind tells access tokens from refresh tokens. Each kind is refused
// wherever the other is expected.
type Kind uint8

const (
	// Access tokens are presented to protected routes (JWT "typ": "at+jwt",
	// RFC 9068).
	Access Kind = iota + 1
	// Refresh tokens are presented only to the refresh and logout endpoints.
	Refresh
)

func (k Kind) String() string {
	switch k {
	case Access:
		return "access"
	case Refresh:
		return "refresh"
	}
	return "unknown"
}

// Claims is what a verified token says. Every field is a plain value, the
// zero value when the token lacks the claim, so reading one never panics.
// Guards and handlers read it from the gin context with [ClaimsFrom]; treat
// it as read-only, because the same value may serve many requests from the
// verified-token cache.
//
// Dates are whole seconds, as RFC 7519 NumericDates are usually written:
// verifiers that compare iat with their own clock (PyJWT, jose) then never
// see a token issued in the future.
type Claims struct {
	Subject   string    // sub
	Issuer    string    // iss
	Audience  []string  // aud
	ID        string    // jti: 128 random bits
	IssuedAt  time.Time // iat
	NotBefore time.Time // nbf
	ExpiresAt time.Time // exp
	// AuthTime is when the user last proved who they are (auth_time, RFC
	// 9470). Refreshing copies it, so a refreshed token never looks newer
	// than the login behind it.
	AuthTime time.Time
	// SessionID (sid) names the login session every token of it carries;
	// revoking the session refuses them all.
	SessionID string
	// Fresh is true only for access tokens minted by a login or fresh-login,
	// never for refreshed ones.
	Fresh bool
	// ACR and AMR say how the user authenticated (RFC 9470: the level, such
	// as "mfa", and the methods, such as ["pwd","otp"]), as the
	// authenticator's [Identity] said at login or fresh-login.
	ACR string
	AMR []string

	// csrf is the double-submit value of a cookie-mode session.
	csrf string
	// custom holds the custom claims to write when minting.
	custom map[string]any
	// raw is the verified payload: custom claims are decoded from it on
	// demand, never on every request.
	raw string
	// owner is the Auth that verified these claims. Guards trust claims in
	// the gin context only from their own Auth, so a second instance on the
	// same router (another key, issuer or audience) never accepts what the
	// first one verified.
	owner *Auth
}

// Get decodes the custom claim name into v and reports whether the token
// has it.
func (c *Claims) Get(name string, v any) (bool, error) {
	val, err := c.member(name)
	if err != nil || val == "" {
		return false, err
	}
	return true, json.Unmarshal([]byte(val), v)
}

// member returns the raw value of the claim name, "" when absent.
func (c *Claims) member(name string) (string, error) {
	if c.raw == "" {
		return "", nil
	}
	var val string
	// raw passed json.Valid and the duplicate check, so one scan finds the
	// member without decoding the rest.
	err := jsonscan.Each(c.raw, func(n, v string) error {
		if n == name {
			val = v
			return errFound
		}
		return nil
	})
	if err != nil && err != errFound {
		return "", err
	}
	return val, nil
}

// Custom decodes a token's claims into T, a struct of the app's own custom
// claims with json tags:
//
//	type AppClaims struct {
//		Role   string `json:"role"`
//		Tenant string `json:"tenant"`
//	}
//	app, err := ginfresh.Custom[AppClaims](claims)
//
// It decodes on each call (a microsecond or so): call it once per request.
func Custom[T any](c *Claims) (T, error) {
	var v T
	if c == nil || c.raw == "" {
		return v, errors.New("ginfresh: Custom: claims of no verified token")
	}
	err := json.Unmarshal([]byte(c.raw), &v)
	return v, err
}

// errFound stops a scan that found what it looked for.
var errFound = errors.New("found")

// registered lists the claim names ginfresh owns; custom claims may not
// replace them (see reservedName).
var registered = [...]string{
	"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
	"fresh", "auth_time", "sid", "csrf", "acr", "amr",
}

// reservedName reports whether a custom claim named k could be read as a
// registered one: the same name, or one encoding/json (and so golang-jwt,
// in other services reading these tokens) matches to it ignoring case.
func reservedName(k string) bool {
	for _, name := range registered {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// customClaims returns the custom claims of a verified token as raw JSON,
// for carrying them byte for byte (no float64 rounding of large numbers)
// into the tokens minted from it.
func (c *Claims) customClaims() (map[string]any, error) {
	if c.raw == "" {
		return nil, nil
	}
	var extra map[string]any
	err := jsonscan.Each(c.raw, func(k, v string) error {
		if !reservedName(k) {
			if extra == nil {
				extra = map[string]any{}
			}
			extra[k] = json.RawMessage(v)
		}
		return nil
	})
	return extra, err
}

// maxNumericDate keeps decoded dates in a range time.Time represents exactly
// (year 5138); anything larger is a forged or broken token.
const maxNumericDate = 1e11

var (
	errDateRange = errors.New("date out of range")
	errPayload   = fmt.Errorf("%w: payload is not one JSON object", jwt.ErrTokenMalformed)
)

func numericDate(name, v string) (time.Time, error) {
	if v == "null" {
		return time.Time{}, nil
	}
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return time.Time{}, typeError(name, "a number")
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > maxNumericDate {
		return time.Time{}, fmt.Errorf("%w: %w: claim %q: %w", jwt.ErrTokenMalformed, jwt.ErrInvalidType, name, errDateRange)
	}
	if f < 1 {
		// Whole seconds: anything before the first one is the zero date,
		// absent, as 0 itself is.
		return time.Time{}, nil
	}
	// Whole seconds, as ginfresh writes them: a fraction from another
	// issuer is dropped, which makes exp earlier, never later.
	return time.Unix(int64(f), 0), nil
}

func typeError(name, want string) error {
	return fmt.Errorf("%w: %w: claim %q must be %s", jwt.ErrTokenMalformed, jwt.ErrInvalidType, name, want)
}

func stringClaim(dst *string, name, v string) error {
	if v == "null" {
		return nil
	}
	s, ok := jsonscan.Unquote(v)
	if !ok {
		return typeError(name, "a string")
	}
	*dst = s
	return nil
}

func stringsClaim(dst *[]string, name, v string, single bool) error {
	if v == "null" {
		return nil
	}
	if !single && v[0] != '[' {
		return typeError(name, "an array of strings")
	}
	var out []string
	if !jsonscan.Strings(v, func(s string) { out = append(out, s) }) {
		return typeError(name, "a string or an array of strings")
	}
	*dst = out
	return nil
}

// decodeClaims parses a verified payload in one pass, keeping it so that
// custom claims are decoded only when asked for. It must be one JSON object
// naming no claim twice, and each registered claim must have its JSON type
// (null counts as absent). Names match exactly, not ignoring case as
// encoding/json matches fields, so "SUB" is a custom claim, never the
// subject. Plain string claims are slices of the payload, which becomes the
// claims' raw text without a copy: the caller hands it over.
func decodeClaims(payload string) (*Claims, error) {
	if !json.Valid([]byte(payload)) {
		return nil, errPayload
	}
	c := &Claims{raw: payload}
	err := jsonscan.Each(payload, func(name, v string) (err error) {
		switch name {
		case "iss":
			return stringClaim(&c.Issuer, name, v)
		case "sub":
			return stringClaim(&c.Subject, name, v)
		case "jti":
			return stringClaim(&c.ID, name, v)
		case "sid":
			return stringClaim(&c.SessionID, name, v)
		case "csrf":
			return stringClaim(&c.csrf, name, v)
		case "acr":
			return stringClaim(&c.ACR, name, v)
		case "aud":
			return stringsClaim(&c.Audience, name, v, true)
		case "amr":
			return stringsClaim(&c.AMR, name, v, false)
		case "exp":
			c.ExpiresAt, err = numericDate(name, v)
		case "nbf":
			c.NotBefore, err = numericDate(name, v)
		case "iat":
			c.IssuedAt, err = numericDate(name, v)
		case "auth_time":
			c.AuthTime, err = numericDate(name, v)
		case "fresh":
			switch v {
			case "true":
				c.Fresh = true
			case "false", "null":
			default:
				return typeError(name, "a boolean")
			}
		}
		return err
	})
	if err != nil {
		if errors.Is(err, jsonscan.ErrNotObject) || errors.Is(err, jsonscan.ErrDuplicate) || errors.Is(err, jsonscan.ErrBadName) {
			err = fmt.Errorf("%w: %w", jwt.ErrTokenMalformed, err)
		}
		return nil, err
	}
	return c, nil
}

// UnmarshalJSON decodes a token payload strictly, as verification does:
// duplicate claim names, mistyped values and out-of-range dates are errors.
func (c *Claims) UnmarshalJSON(payload []byte) error {
	d, err := decodeClaims(string(payload))
	if err != nil {
		return err
	}
	*c = *d
	return nil
}

// MarshalJSON renders the payload: registered claims first, dates in whole
// seconds, then custom ones, which may not replace registered ones.
// Hand-written because it runs on every login and refresh.
func (c *Claims) MarshalJSON() ([]byte, error) {
	return c.appendJSON(make([]byte, 0, 320))
}

func (c *Claims) appendJSON(b []byte) ([]byte, error) {
	str := func(name, v string) {
		if v != "" {
			b = jsonscan.AppendString(append(append(append(b, ',', '"'), name...), '"', ':'), v)
		}
	}
	date := func(name string, t time.Time) {
		if !t.IsZero() {
			b = strconv.AppendInt(append(append(append(b, ',', '"'), name...), '"', ':'), t.Unix(), 10)
		}
	}
	b = jsonscan.AppendString(append(b, `{"sub":`...), c.Subject)
	str("iss", c.Issuer)
	if len(c.Audience) > 0 {
		b = append(b, `,"aud":[`...)
		for i, a := range c.Audience {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonscan.AppendString(b, a)
		}
		b = append(b, ']')
	}
	date("exp", c.ExpiresAt)
	date("nbf", c.NotBefore)
	date("iat", c.IssuedAt)
	str("jti", c.ID)
	if c.Fresh {
		b = append(b, `,"fresh":true`...)
	}
	date("auth_time", c.AuthTime)
	str("sid", c.SessionID)
	str("acr", c.ACR)
	if len(c.AMR) > 0 {
		b = append(b, `,"amr":[`...)
		for i, m := range c.AMR {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonscan.AppendString(b, m)
		}
		b = append(b, ']')
	}
	str("csrf", c.csrf)
	for k, v := range c.custom {
		if err := checkCustomName(k); err != nil {
			return nil, err
		}
		val, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("ginfresh: custom claim %q: %w", k, err)
		}
		b = append(append(jsonscan.AppendString(append(b, ','), k), ':'), val...)
	}
	return append(b, '}'), nil
}

// checkCustomName refuses a custom claim name that could be read as a
// registered claim or that JSON cannot carry faithfully.
func checkCustomName(k string) error {
	if reservedName(k) {
		return fmt.Errorf("ginfresh: custom claim %q would replace a registered claim", k)
	}
	if !utf8.ValidString(k) {
		// JSON would turn the bad bytes into U+FFFD, so two names could come
		// out as one.
		return fmt.Errorf("ginfresh: custom claim name %q is not valid UTF-8", k)
	}
	return nil
}
