package ginfresh

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Errors returned by verification, guards, handlers and sessions. They wrap
// their cause (often a golang-jwt error), so errors.Is finds both; every
// failure a handler or guard answers is an [*Error] that wraps one of them.
var (
	// ErrInvalidRequest: a malformed request: a repeated, empty or oversized
	// Authorization header, a token sent by two methods at once (RFC 6750
	// §2), or a body that is not the JSON object the endpoint takes.
	ErrInvalidRequest = errors.New("ginfresh: invalid request")
	// ErrTokenMissing: the request carries no token at all.
	ErrTokenMissing = errors.New("ginfresh: token missing")
	// ErrTokenInvalid: the token is malformed, tampered with, signed by an
	// unknown key or carries claims that fail validation.
	ErrTokenInvalid = errors.New("ginfresh: token invalid")
	// ErrTokenExpired: the token is past its exp (it is also ErrTokenInvalid).
	ErrTokenExpired = errors.New("ginfresh: token expired")
	// ErrWrongTokenType: a refresh token where an access token is expected,
	// or the other way round (it is also ErrTokenInvalid).
	ErrWrongTokenType = errors.New("ginfresh: wrong token type")
	// ErrTokenRevoked: the token or its session was revoked or has ended
	// (it is also ErrTokenInvalid). A [RefreshHook] returns it to end a
	// session.
	ErrTokenRevoked = errors.New("ginfresh: token revoked")
	// ErrTokenReused: a retired refresh token was presented again; its whole
	// session is now revoked (it is also ErrTokenRevoked).
	ErrTokenReused = errors.New("ginfresh: refresh token reused")
	// ErrTokenNotFresh: a valid access token on a route that needs a fresh
	// one, an older one than the route's MaxAge, or one whose acr is not
	// among the route's ACRValues.
	ErrTokenNotFresh = errors.New("ginfresh: token not fresh")
	// ErrInsufficientScope: the token lacks a scope the route requires.
	ErrInsufficientScope = errors.New("ginfresh: insufficient scope")
	// ErrInvalidCredentials: the authenticator refused the credentials.
	ErrInvalidCredentials = errors.New("ginfresh: invalid credentials")
	// ErrSubjectMismatch: fresh-login authenticated another user than the
	// one whose access token the request carries.
	ErrSubjectMismatch = errors.New("ginfresh: subject mismatch")
	// ErrCSRF: a state-changing request came from another origin, or one
	// that relies on cookies lacks a matching X-CSRF-Token header.
	ErrCSRF = errors.New("ginfresh: cross-site request refused")
	// ErrTooManyAttempts: the client made too many login attempts; the
	// answer's Retry-After says when it may try again (see [Throttle]).
	ErrTooManyAttempts = errors.New("ginfresh: too many attempts")
	// ErrSessionNotFound: no live session of that subject has that ID.
	ErrSessionNotFound = errors.New("ginfresh: session not found")
	// ErrStoreUnavailable: the session store (or the authenticator, or a
	// hook) failed or timed out. Nothing was changed that the client was
	// told about.
	ErrStoreUnavailable = errors.New("ginfresh: store unavailable")
	// ErrKeySetUnavailable: the remote JWK Set of [WithJWKSURL] has never
	// been fetched successfully, so no token can be checked yet.
	ErrKeySetUnavailable = errors.New("ginfresh: key set unavailable")
	// ErrCannotIssue: this instance only verifies tokens; it cannot mint them.
	ErrCannotIssue = errors.New("ginfresh: cannot issue tokens")
	// ErrInvalidKey: key material was refused when building a [Key]: the
	// wrong type, curve or size for its algorithm, or a PEM file that is
	// encrypted, malformed or holds more than one block.
	ErrInvalidKey = errors.New("ginfresh: invalid key")
)

// Error is how a failure is answered, as data: the HTTP status, the error
// code and description of the JSON body and of the RFC 6750 Bearer
// challenge, and the challenge's parameters. Every failure a guard or
// handler answers is an *Error; [WithErrorHandler] receives it, and
// errors.Is finds the sentinel it wraps. Values the library hands out may
// be shared between requests: do not modify them.
type Error struct {
	// Status is the HTTP status: 400, 401, 403, 404, 415, 429, 501 or 503,
	// or 500 for anything unexpected.
	Status int
	// Code is the error code: an RFC 6750 one ("invalid_request",
	// "invalid_token", "insufficient_scope"), RFC 9470's
	// "insufficient_user_authentication", or one of ginfresh's own. It is
	// empty when the request carried no token at all (RFC 6750 §3.1), and
	// the default body then says "unauthorized".
	Code string
	// Description is a sentence for the client. It never holds a token or
	// an internal error.
	Description string
	// Scope lists the scopes the route requires (insufficient_scope).
	Scope string
	// MaxAge and ACRValues say what login a route requires (RFC 9470 §3):
	// one at most MaxAge ago, at one of the space-separated levels.
	MaxAge    time.Duration
	ACRValues string
	// RetryAfter is how long the client must wait before trying again (a
	// throttled login), zero if it need not.
	RetryAfter time.Duration
	// Err is the cause, a sentinel of this package wrapping what went wrong.
	Err error

	realm     string
	challenge string // rendered WWW-Authenticate, set with realm
	body      []byte // rendered default body
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return "ginfresh: " + e.Description
}

func (e *Error) Unwrap() error { return e.Err }

// SetHeaders sets the headers ginfresh sends with e: the WWW-Authenticate
// challenge, Retry-After when the client must wait, and Cache-Control:
// no-store. A [WithErrorHandler] handler that writes its own body calls it
// to keep them.
func (e *Error) SetHeaders(h http.Header) {
	ch := e.challenge
	if ch == "" && e.realm != "" {
		ch = e.renderChallenge()
	}
	if ch != "" {
		h["Www-Authenticate"] = []string{ch}
	}
	h["Cache-Control"] = []string{"no-store"}
	if e.RetryAfter > 0 {
		h["Retry-After"] = []string{strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10)}
	}
}

// renderChallenge builds the Bearer challenge. 401s and 400s carry one, and
// so does a 403 for a missing scope (RFC 6750 §3); a missing token gets one
// without an error code (RFC 6750 §3.1).
func (e *Error) renderChallenge() string {
	if e.Status != http.StatusUnauthorized && e.Status != http.StatusBadRequest && e.Code != "insufficient_scope" {
		return ""
	}
	var b strings.Builder
	b.WriteString(`Bearer realm="` + e.realm + `"`)
	if e.Code != "" && e.Code != "invalid_credentials" {
		b.WriteString(`, error="` + e.Code + `", error_description="` + quotable(e.Description) + `"`)
	}
	if e.Scope != "" {
		b.WriteString(`, scope="` + quotable(e.Scope) + `"`)
	}
	if e.ACRValues != "" {
		b.WriteString(`, acr_values="` + quotable(e.ACRValues) + `"`)
	}
	if e.MaxAge > 0 {
		// Whole seconds, rounded up: max_age=0 would ask for a login no
		// client can achieve before its next request.
		b.WriteString(`, max_age=` + strconv.FormatInt(int64((e.MaxAge+time.Second-1)/time.Second), 10))
	}
	return b.String()
}

// quotable drops what a quoted-string cannot hold.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == '\\' || r > 0x7e {
			return -1
		}
		return r
	}, s)
}

// render fills in what an Auth adds to an Error: its realm, the challenge
// and the default body.
func (e *Error) render(realm string) *Error {
	e.realm = realm
	e.challenge = e.renderChallenge()
	code := e.Code
	if code == "" {
		code = "unauthorized"
	}
	e.body, _ = json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, e.Description})
	return e
}

// errorTable maps errors to answers. Order matters: the first sentinel an
// error matches wins, so outages come first and refinements before
// ErrTokenInvalid.
type errorTable struct {
	realm    string
	rows     []errorRow
	fallback *Error
}

type errorRow struct {
	sentinel error
	answer   *Error
}

func newErrorTable(realm string) *errorTable {
	t := &errorTable{realm: realm}
	add := func(sentinel error, status int, code, desc string) {
		t.rows = append(t.rows, errorRow{sentinel, (&Error{Status: status, Code: code, Description: desc, Err: sentinel}).render(realm)})
	}
	// A service that failed answers 503 whatever else the error says: the
	// client did nothing wrong and should try again.
	add(ErrStoreUnavailable, http.StatusServiceUnavailable, "temporarily_unavailable", "A service the request needs is unavailable; try again later.")
	add(ErrKeySetUnavailable, http.StatusServiceUnavailable, "temporarily_unavailable", "The keys to check tokens are unavailable; try again later.")
	add(ErrInvalidRequest, http.StatusBadRequest, "invalid_request", "The request is malformed.")
	add(ErrTokenMissing, http.StatusUnauthorized, "", "Authentication is required.")
	add(ErrTokenReused, http.StatusUnauthorized, "invalid_token", "The refresh token was already used; the session is revoked.")
	add(ErrTokenRevoked, http.StatusUnauthorized, "invalid_token", "The token has been revoked.")
	add(ErrTokenExpired, http.StatusUnauthorized, "invalid_token", "The token has expired.")
	add(ErrWrongTokenType, http.StatusUnauthorized, "invalid_token", "The token is of the wrong type for this endpoint.")
	add(ErrTokenInvalid, http.StatusUnauthorized, "invalid_token", "The token is invalid.")
	add(ErrTokenNotFresh, http.StatusUnauthorized, "insufficient_user_authentication", "A fresh login is required.")
	add(ErrInsufficientScope, http.StatusForbidden, "insufficient_scope", "The token lacks the scope this route requires.")
	add(ErrInvalidCredentials, http.StatusUnauthorized, "invalid_credentials", "The credentials are wrong.")
	add(ErrTooManyAttempts, http.StatusTooManyRequests, "too_many_attempts", "Too many failed attempts; try again later.")
	add(ErrCSRF, http.StatusForbidden, "csrf_check_failed", "The request failed the cross-site request forgery check.")
	add(ErrSubjectMismatch, http.StatusForbidden, "access_denied", "The credentials belong to another user than the access token.")
	add(ErrSessionNotFound, http.StatusNotFound, "not_found", "There is no such session.")
	add(ErrCannotIssue, http.StatusNotImplemented, "unsupported", "This server verifies tokens but does not issue them.")
	t.fallback = (&Error{Status: http.StatusInternalServerError, Code: "server_error", Description: "The server could not complete the request."}).render(realm)
	return t
}

// answer returns the Error that answers err.
func (t *errorTable) answer(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.body == nil {
			// Built by the app: render a copy for this Auth.
			c := *e
			if c.Status == 0 {
				c.Status = http.StatusInternalServerError
			}
			return c.render(t.realm)
		}
		return e
	}
	for _, row := range t.rows {
		if err == row.sentinel {
			return row.answer
		}
		if errors.Is(err, row.sentinel) {
			c := *row.answer
			c.Err = err
			var ra *retryAfterError
			if errors.As(err, &ra) {
				c.RetryAfter = ra.wait
			}
			return &c
		}
	}
	c := *t.fallback
	c.Err = err
	return &c
}

// Fail answers err the library's way and aborts the chain: the error
// handler of [WithErrorHandler] if there is one, else JSON
// {"error","error_description"} with the status and headers of its
// [Error]. err may be one of this package's errors (as a guard of the app's
// own finds it), an *Error the app built (a Status and Code of its own, say
// a 403 insufficient_scope with its Scope), or anything else, which answers
// 500 server_error without revealing it.
func (a *Auth) Fail(c *gin.Context, err error) {
	e := a.errors.answer(err)
	_ = c.Error(e)
	if a.errorHandler != nil {
		a.errorHandler(c, e)
		c.Abort()
		return
	}
	e.SetHeaders(c.Writer.Header())
	c.Data(e.Status, "application/json; charset=utf-8", e.body)
	c.Abort()
}

// retryAfterError asks the client to wait before trying again.
type retryAfterError struct {
	err  error
	wait time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// tokenError wraps cause under a sentinel, and under ErrTokenInvalid for
// the sentinels that refine it, so callers can test any of them.
func tokenError(sentinel, cause error) error {
	return wrapped{sentinel, cause}
}

// wrapped reads "sentinel: cause" and unwraps to both.
type wrapped struct{ sentinel, cause error }

func (w wrapped) Error() string {
	if w.cause == nil {
		return w.sentinel.Error()
	}
	return w.sentinel.Error() + ": " + w.cause.Error()
}

func (w wrapped) Unwrap() []error {
	errs := make([]error, 0, 3)
	errs = append(errs, w.sentinel)
	switch w.sentinel {
	case ErrTokenExpired, ErrWrongTokenType, ErrTokenRevoked:
		errs = append(errs, ErrTokenInvalid)
	case ErrTokenReused:
		errs = append(errs, ErrTokenRevoked, ErrTokenInvalid)
	}
	if w.cause != nil {
		errs = append(errs, w.cause)
	}
	return errs
}
