package ginfresh

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// TokenType tells access tokens from refresh tokens. Each kind is refused
// wherever the other is expected.
type TokenType uint8

const (
	// AccessToken is presented to protected routes (JWT "typ": "at+jwt", RFC 9068).
	AccessToken TokenType = iota + 1
	// RefreshToken is presented only to the refresh and logout endpoints.
	RefreshToken
)

func (t TokenType) String() string {
	switch t {
	case AccessToken:
		return "access"
	case RefreshToken:
		return "refresh"
	}
	return "unknown"
}

// Claims is what a verified token says. Guards and handlers read it from the
// gin context with [ClaimsFrom]; treat it as read-only, because the same value
// may be served to many requests from the verified-token cache.
//
// Registered claims keep their golang-jwt types so Claims satisfies
// [jwt.Claims]. IssuedAt keeps millisecond precision (RFC 7519 allows
// fractional NumericDates) so that revoking a subject's sessions never
// catches a token minted a moment after the revocation.
type Claims struct {
	jwt.RegisteredClaims

	// Fresh is true only for access tokens minted by a password check
	// (login or fresh-login), never for refreshed ones.
	Fresh bool `json:"fresh,omitempty"`
	// AuthTime is when the user last proved the password. Refreshing
	// copies it, so a refreshed token never looks newer than its login.
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
	// SessionID names the refresh-token family (the login session) a
	// refresh token belongs to. Empty in access tokens.
	SessionID string `json:"sid,omitempty"`
	// CSRF is the double-submit value of a cookie-mode session (see
	// [WithCookies]): requests that carry the token in a cookie must repeat
	// it in the X-CSRF-Token header. Empty in header-mode tokens.
	CSRF string `json:"csrf,omitempty"`
	// Extra holds custom claims to add when minting a token. Verified
	// tokens leave it nil: read custom claims with [Claims.Get].
	Extra map[string]any `json:"-"`

	// owner is the Auth that verified these claims. Guards trust claims in
	// the gin context only from their own Auth, so a second instance on the
	// same router (another key, issuer or audience) never accepts what the
	// first one verified.
	owner *Auth

	// raw is the verified payload, kept so custom claims can be decoded on
	// demand instead of on every request.
	raw string
}

var _ jwt.ClaimsValidator = (*Claims)(nil)

// Validate implements [jwt.ClaimsValidator]: the subject must be non-empty.
func (c *Claims) Validate() error {
	if c.Subject == "" {
		return fmt.Errorf("%w: sub is empty", jwt.ErrTokenInvalidSubject)
	}
	return nil
}

// Get decodes the custom claim name into v and reports whether it was present.
func (c *Claims) Get(name string, v any) (bool, error) {
	if c.Extra != nil {
		val, ok := c.Extra[name]
		if !ok {
			return false, nil
		}
		b, err := json.Marshal(val)
		if err != nil {
			return true, err
		}
		return true, json.Unmarshal(b, v)
	}
	if len(c.raw) == 0 {
		return false, nil
	}
	// raw passed json.Valid and the duplicate check in decodeClaims, so
	// one scan finds the member without decoding the rest.
	var val string
	err := eachMember(c.raw, func(n, v string) error {
		if n == name {
			val = v
			return errFound
		}
		return nil
	})
	if err != nil && err != errFound {
		return false, err
	}
	if val == "" {
		return false, nil
	}
	return true, json.Unmarshal([]byte(val), v)
}

// errFound stops a scan that found what it looked for.
var errFound = errors.New("found")

// registered lists the claim names ginfresh owns; custom claims may not
// replace them (see reservedName).
var registered = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true,
	"jti": true, "fresh": true, "auth_time": true, "sid": true, "csrf": true,
}

// reservedName reports whether a custom claim named k could be read as a
// registered one: the same name, or one encoding/json (and so golang-jwt,
// in other services reading these tokens) matches to it ignoring case.
func reservedName(k string) bool {
	for name := range registered {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// customClaims returns the custom claims of a verified token, for carrying
// them from a refresh token into the tokens minted from it.
func (c *Claims) customClaims() (map[string]any, error) {
	if c.Extra != nil {
		return c.Extra, nil
	}
	if len(c.raw) == 0 {
		return nil, nil
	}
	// Raw values carry each claim across byte for byte (no float64
	// rounding of large numbers).
	extra := map[string]any{}
	if err := eachMember(c.raw, func(k, v string) error {
		if !reservedName(k) {
			extra[k] = json.RawMessage(v)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if len(extra) == 0 {
		return nil, nil
	}
	return extra, nil
}

// maxNumericDate keeps decoded dates in a range time.Time represents exactly
// (year 5138); anything larger is a forged or broken token.
const maxNumericDate = 1e11

var errDateRange = errors.New("date out of range")

// claimsBlock lets one allocation hold the claims and their dates.
type claimsBlock struct {
	claims Claims
	dates  [4]jwt.NumericDate
}

func setDate(dst **jwt.NumericDate, slot *jwt.NumericDate, v float64) error {
	if v == 0 {
		return nil
	}
	if v < 0 || v > maxNumericDate {
		return fmt.Errorf("%w: %w", jwt.ErrInvalidType, errDateRange)
	}
	sec, frac := math.Modf(v)
	slot.Time = time.Unix(int64(sec), int64(frac*1e9)).Round(time.Millisecond)
	*dst = slot
	return nil
}

// UnmarshalJSON decodes a token payload strictly: duplicate claim names,
// mistyped values and out-of-range dates are errors. Formats call it on a
// verified payload.
func (c *Claims) UnmarshalJSON(payload []byte) error {
	d, err := decodeClaims(payload)
	if err != nil {
		return err
	}
	*c = *d
	return nil
}

// decodeClaims parses a verified payload in one pass, keeping it so unknown
// claims are decoded only when asked for. It must be one JSON object naming
// no claim twice, and each registered claim must have its JSON type (null
// counts as absent). Names match exactly, not case-insensitively as
// encoding/json matches fields, so "SUB" is a custom claim, never the
// subject. The string claims are slices of one copy of the payload: a token
// costs two allocations, that copy and the claims.
func decodeClaims(payload []byte) (*Claims, error) {
	if !json.Valid(payload) {
		return nil, fmt.Errorf("%w: payload is not valid JSON", jwt.ErrTokenMalformed)
	}
	blk := &claimsBlock{}
	c := &blk.claims
	c.raw = string(payload)
	var exp, nbf, iat, authTime float64
	err := eachMember(c.raw, func(name, v string) error {
		switch name {
		case "iss":
			return stringClaim(&c.Issuer, name, v)
		case "sub":
			return stringClaim(&c.Subject, name, v)
		case "jti":
			return stringClaim(&c.ID, name, v)
		case "sid":
			return stringClaim(&c.SessionID, name, v)
		case "aud":
			return audienceClaim(&c.Audience, v)
		case "exp":
			return numberClaim(&exp, name, v)
		case "nbf":
			return numberClaim(&nbf, name, v)
		case "iat":
			return numberClaim(&iat, name, v)
		case "auth_time":
			return numberClaim(&authTime, name, v)
		case "csrf":
			return stringClaim(&c.CSRF, name, v)
		case "fresh":
			return boolClaim(&c.Fresh, name, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, d := range []struct {
		dst **jwt.NumericDate
		v   float64
	}{{&c.ExpiresAt, exp}, {&c.NotBefore, nbf}, {&c.IssuedAt, iat}, {&c.AuthTime, authTime}} {
		if err := setDate(d.dst, &blk.dates[i], d.v); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// MarshalJSON renders the payload: registered claims first, then custom
// ones, which may not replace them. Hand-written because it runs on every
// login and refresh and because iat keeps milliseconds.
func (c *Claims) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 256)
	b = append(b, '{')
	str := func(name, v string) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendJSONString(append(append(append(b, '"'), name...), '"', ':'), v)
	}
	date := func(name string, d *jwt.NumericDate, millis bool) {
		if d == nil {
			return
		}
		b = append(append(append(append(b, ','), '"'), name...), '"', ':')
		if millis {
			ms := d.UnixMilli()
			b = strconv.AppendInt(b, ms/1000, 10)
			if r := ms % 1000; r != 0 {
				b = append(b, '.', byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
			}
			return
		}
		b = strconv.AppendInt(b, d.Unix(), 10)
	}
	str("sub", c.Subject)
	if c.Issuer != "" {
		str("iss", c.Issuer)
	}
	if len(c.Audience) > 0 {
		aud, err := json.Marshal([]string(c.Audience))
		if err != nil {
			return nil, err
		}
		b = append(append(b, `,"aud":`...), aud...)
	}
	date("exp", c.ExpiresAt, false)
	date("nbf", c.NotBefore, false)
	date("iat", c.IssuedAt, true)
	if c.ID != "" {
		str("jti", c.ID)
	}
	if c.Fresh {
		b = append(b, `,"fresh":true`...)
	}
	date("auth_time", c.AuthTime, false)
	if c.SessionID != "" {
		str("sid", c.SessionID)
	}
	if c.CSRF != "" {
		str("csrf", c.CSRF)
	}
	for k, v := range c.Extra {
		if reservedName(k) {
			return nil, fmt.Errorf("ginfresh: custom claim %q would replace a registered claim", k)
		}
		if !utf8.ValidString(k) {
			// JSON would turn the bad bytes into U+FFFD, so two names could
			// come out as one.
			return nil, fmt.Errorf("ginfresh: custom claim name %q is not valid UTF-8", k)
		}
		val, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("ginfresh: custom claim %q: %w", k, err)
		}
		b = append(appendJSONString(append(b, ','), k), ':')
		b = append(b, val...)
	}
	return append(b, '}'), nil
}
