package ginfresh

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// response is one error answer, rendered once in New so refusing a request
// costs no encoding.
type response struct {
	status    int
	challenge string // WWW-Authenticate, or ""
	body      []byte
}

// responses maps ginfresh's errors to answers. Order matters: the first
// sentinel an error matches wins, so refinements come before ErrTokenInvalid.
type responses struct {
	realm    string
	rows     []responseRow
	fallback *response
}

type responseRow struct {
	err  error
	resp *response
}

func newResponses(realm string) *responses {
	rs := &responses{realm: realm}
	add := func(err error, status int, code, desc string) {
		rs.rows = append(rs.rows, responseRow{err, rs.build(status, code, desc, 0)})
	}
	add(ErrInvalidRequest, http.StatusBadRequest, "invalid_request", "The request is malformed.")
	add(ErrTokenMissing, http.StatusUnauthorized, "", "Authentication is required.")
	add(ErrTokenReused, http.StatusUnauthorized, "invalid_token", "The refresh token was already used; the session is revoked.")
	add(ErrTokenRevoked, http.StatusUnauthorized, "invalid_token", "The token has been revoked.")
	add(ErrTokenExpired, http.StatusUnauthorized, "invalid_token", "The token has expired.")
	add(ErrWrongTokenType, http.StatusUnauthorized, "invalid_token", "The token is of the wrong type for this endpoint.")
	add(ErrTokenInvalid, http.StatusUnauthorized, "invalid_token", "The token is invalid.")
	add(ErrTokenNotFresh, http.StatusUnauthorized, "insufficient_user_authentication", "A fresh login is required.")
	add(ErrInvalidCredentials, http.StatusUnauthorized, "invalid_credentials", "The username or password is wrong.")
	add(ErrTooManyAttempts, http.StatusTooManyRequests, "too_many_attempts", "Too many failed attempts; try again later.")
	add(ErrCSRF, http.StatusForbidden, "csrf_check_failed", "The request failed the cross-site request forgery check.")
	add(ErrSubjectMismatch, http.StatusForbidden, "access_denied", "The credentials belong to another user than the access token.")
	add(ErrStoreUnavailable, http.StatusServiceUnavailable, "temporarily_unavailable", "The session store is unavailable; try again later.")
	add(ErrKeySetUnavailable, http.StatusServiceUnavailable, "temporarily_unavailable", "The keys to check tokens are unavailable; try again later.")
	add(ErrKeyUnavailable, http.StatusNotImplemented, "unsupported", "This server verifies tokens but does not issue them.")
	rs.fallback = rs.build(http.StatusInternalServerError, "server_error", "The server could not complete the request.", 0)
	return rs
}

// build renders a response. 401s and 400s carry a Bearer challenge; a
// missing token gets one without an error code (RFC 6750 §3.1), a stale one
// gets RFC 9470's code and max_age.
func (rs *responses) build(status int, code, desc string, maxAge time.Duration) *response {
	r := &response{status: status}
	bodyCode := code
	if code == "" {
		bodyCode = "unauthorized"
	}
	r.body, _ = json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{bodyCode, desc})
	if status == http.StatusUnauthorized || status == http.StatusBadRequest {
		ch := `Bearer realm="` + rs.realm + `"`
		if code != "" && code != "invalid_credentials" {
			ch += `, error="` + code + `", error_description="` + desc + `"`
		}
		if maxAge > 0 {
			// Whole seconds, rounded up: max_age=0 would ask for a login
			// no client can achieve before its next request.
			ch += `, max_age=` + strconv.FormatInt(int64((maxAge+time.Second-1)/time.Second), 10)
		}
		r.challenge = ch
	}
	return r
}

func (rs *responses) lookup(err error) *response {
	var fe *freshnessError
	if errors.As(err, &fe) && fe.resp != nil {
		return fe.resp
	}
	for _, row := range rs.rows {
		if errors.Is(err, row.err) {
			return row.resp
		}
	}
	return rs.fallback
}

// freshnessError is ErrTokenNotFresh for a guard with MaxAge, carrying the
// guard's prebuilt response so the challenge can name max_age.
type freshnessError struct {
	maxAge time.Duration
	resp   *response
}

func (e *freshnessError) Error() string {
	if e.maxAge > 0 {
		return ErrTokenNotFresh.Error() + ": authenticated more than " + e.maxAge.String() + " ago"
	}
	return ErrTokenNotFresh.Error()
}

func (e *freshnessError) Unwrap() error { return ErrTokenNotFresh }

// fail records err on the context, answers it and aborts the chain.
func (a *Auth) fail(c *gin.Context, err error) {
	_ = c.Error(err)
	if a.errorHandler != nil {
		a.errorHandler(c, err)
		c.Abort()
		return
	}
	r := a.responses.lookup(err)
	h := c.Writer.Header()
	if r.challenge != "" {
		h["Www-Authenticate"] = []string{r.challenge}
	}
	h["Cache-Control"] = []string{"no-store"}
	if wait, ok := RetryAfter(err); ok {
		h["Retry-After"] = []string{strconv.FormatInt(int64(wait/time.Second), 10)}
	}
	c.Data(r.status, "application/json; charset=utf-8", r.body)
	c.Abort()
}

// RetryAfter returns how long the client must wait before trying again when
// err refuses a request for that reason, as a login throttled with
// [ErrTooManyAttempts] does: a whole number of seconds, at least one. The
// default error handler sends it as Retry-After; a handler of
// [WithErrorHandler] can do the same.
func RetryAfter(err error) (time.Duration, bool) {
	var ra *retryAfterError
	if errors.As(err, &ra) {
		return ra.wait, true
	}
	return 0, false
}

// retryAfterError asks the client to wait before trying again.
type retryAfterError struct {
	err  error
	wait time.Duration // whole seconds
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }
