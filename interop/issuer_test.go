package interop_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

func init() { gin.SetMode(gin.TestMode) }

// What every token says and every verifier is told to check.
const (
	issuerName = "https://issuer.interop.test"
	audience   = "interop-api"
	subject    = "alice"
	role       = "admin" // a custom claim
	jwksPath   = "/.well-known/jwks.json"
)

// An issuer mints ginfresh tokens three ways from one configuration: with
// its key on the real clock, with the same key on a clock two hours back
// (tokens that have expired), and with another key.
type issuer struct {
	auth, past, other *ginfresh.Auth
	url               string // a live server of auth; its JWK Set is at url+jwksPath
}

// newIssuer builds an issuer of key (an option that sets it) and starts a
// server on 127.0.0.1 that publishes its public keys; otherKey is a key of
// the same kind that verifiers are not given.
func newIssuer(t *testing.T, key, otherKey ginfresh.Option) *issuer {
	t.Helper()
	build := func(opts ...ginfresh.Option) *ginfresh.Auth {
		a, err := ginfresh.New(append(opts, ginfresh.WithIssuer(issuerName), ginfresh.WithAudience(audience))...)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	is := &issuer{
		auth:  build(key),
		past:  build(key, ginfresh.WithTimeFunc(func() time.Time { return time.Now().Add(-2 * time.Hour) })),
		other: build(otherKey),
	}
	r := gin.New()
	r.GET(jwksPath, is.auth.JWKSHandler())
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	is.url = srv.URL
	return is
}

// login starts a session of alice with a and returns its tokens.
func login(t *testing.T, a *ginfresh.Auth) *ginfresh.Tokens {
	t.Helper()
	tok, err := a.StartSession(context.Background(), ginfresh.Identity{
		Subject: subject, Custom: map[string]any{"role": role}, ACR: "pwd", AMR: []string{"pwd"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Tokens an issuer hands out.
func (is *issuer) access(t *testing.T) string   { return login(t, is.auth).AccessToken }
func (is *issuer) refresh(t *testing.T) string  { return login(t, is.auth).RefreshToken }
func (is *issuer) expired(t *testing.T) string  { return login(t, is.past).AccessToken }
func (is *issuer) wrongKey(t *testing.T) string { return login(t, is.other).AccessToken }

// verified is what an external verifier printed for a token it accepted,
// dates in seconds since 1970.
type verified struct {
	sub, jti, sid, role string
	exp, iat, nbf       int64
}

// agree checks that a verifier read the access token as ginfresh does: the
// same sub, exp, iat, jti and sid (and custom claim), issued no later than
// now and valid from the moment it was issued.
func agree(t *testing.T, a *ginfresh.Auth, token string, got verified) {
	t.Helper()
	now := time.Now().Unix() // after the verifier accepted the token
	want, err := a.Verify(context.Background(), ginfresh.Access, token)
	if err != nil {
		t.Fatalf("ginfresh refuses what the verifier accepted: %v", err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"sub", got.sub, want.Subject},
		{"exp", got.exp, want.ExpiresAt.Unix()},
		{"iat", got.iat, want.IssuedAt.Unix()},
		{"jti", got.jti, want.ID},
		{"sid", got.sid, want.SessionID},
		{"nbf", got.nbf, got.iat},
		{"role", got.role, role},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if want.ID == "" || want.SessionID == "" || want.Subject != subject {
		t.Errorf("ginfresh read sub %q, jti %q, sid %q", want.Subject, want.ID, want.SessionID)
	}
	if got.iat > now {
		t.Errorf("iat %d is after now, %d", got.iat, now)
	}
}

// refusal is a token a verifier must refuse, and the reason it must give.
type refusal struct {
	name  string
	token func(*issuer, *testing.T) string
	want  string // in the verifier's "refused: …" line
}

// conform checks that v accepts an access token the moment is issues it,
// reading it (through decode) as ginfresh does, and refuses each of
// refusals for its reason.
func conform(t *testing.T, v verifier, is *issuer, decode func(*testing.T, []byte) verified, refusals []refusal) {
	t.Run("Accepted", func(t *testing.T) {
		t.Parallel()
		var token string
		out, refused := v.check(t, func() string { token = is.access(t); return token })
		if refused != "" {
			t.Fatalf("%s refused an access token just issued: %s", v.name, refused)
		}
		agree(t, is.auth, token, decode(t, out))
	})
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			out, refused := v.check(t, func() string { return r.token(is, t) })
			if refused == "" {
				t.Fatalf("%s accepted it: %s", v.name, out)
			}
			if !strings.Contains(refused, r.want) {
				t.Fatalf("%s %s, want a refusal with %q", v.name, refused, r.want)
			}
		})
	}
}
