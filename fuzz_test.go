package ginfresh_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

// mutations derives hostile seeds from a genuine token.
func mutations(token string) []string {
	p := strings.Split(token, ".")
	return []string{
		token,
		token + "=",
		token + ".",
		token[:len(token)-1],
		p[0] + "." + p[1],
		p[0] + "." + p[1] + ".",
		p[0] + "." + p[1] + "." + flip(p[2]),
		p[0] + "." + p[1] + "." + p[2][:5] + "\n" + p[2][5:],
		"eyJhbGciOiJub25lIn0." + p[1] + ".",
		p[1] + "." + p[0] + "." + p[2],
		strings.ToUpper(token),
		"",
	}
}

// fixedTokens are genuine tokens that come out the same in every process:
// the seeds a fuzzing coordinator hands its workers must be genuine there
// too, and minted tokens carry random IDs. The refresh token's session is
// put in store.
func fixedTokens(t testing.TB, fx *fixture, store ginfresh.Store) (access, refresh string) {
	t.Helper()
	probe, err := fx.auth.CreateAccessToken(ginfresh.Identity{Subject: "alice"}, false)
	if err != nil {
		t.Fatal(err)
	}
	now := fx.clock.Now()
	kid := segment(t, probe, 0)["kid"].(string)
	dates := `"iat":` + itoa(now.Unix()) + `,"nbf":` + itoa(now.Unix()) + `,"auth_time":` + itoa(now.Unix())
	header := func(typ string) string { return `{"alg":"HS256","kid":"` + kid + `","typ":"` + typ + `"}` }
	access = signHMAC(sha256.New, header("at+jwt"), `{"sub":"alice","exp":`+itoa(now.Unix()+600)+`,`+dates+`,"jti":"fuzz-access","fresh":true}`, testKey)
	end := now.Add(time.Hour)
	refresh = signHMAC(sha256.New, header("refresh+jwt"), `{"sub":"alice","exp":`+itoa(end.Unix())+`,`+dates+`,"jti":"fuzz-refresh","sid":"fuzz-session"}`, testKey)
	if store != nil {
		if err := store.CreateFamily(context.Background(), "fuzz-session", "alice", "fuzz-refresh", now, end, end); err != nil {
			t.Fatal(err)
		}
	}
	return access, refresh
}

// FuzzVerify feeds verification mutated tokens. No input may panic, every
// refusal is ErrTokenInvalid, and the only strings accepted are the genuine
// tokens themselves, each as its own type.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	access, refresh := fixedTokens(f, fx, nil)
	genuine := map[ginfresh.TokenType]string{ginfresh.AccessToken: access, ginfresh.RefreshToken: refresh}
	ctx := context.Background()
	for typ, t := range genuine {
		if _, err := fx.auth.Verify(ctx, typ, t); err != nil {
			f.Fatalf("the genuine %s token is refused: %v", typ, err)
		}
		for _, m := range mutations(t) {
			f.Add(m)
		}
	}
	f.Fuzz(func(t *testing.T, token string) {
		for typ, want := range genuine {
			c, err := fx.auth.Verify(ctx, typ, token)
			switch {
			case err == nil && token != want:
				t.Fatalf("%s verification accepted a token that was never issued: %q (claims %+v)", typ, token, c)
			case err == nil && c.Subject != "alice":
				t.Fatalf("genuine token verified with subject %q", c.Subject)
			case err != nil && !errors.Is(err, ginfresh.ErrTokenInvalid):
				t.Fatalf("refusal %v is not ErrTokenInvalid", err)
			}
		}
	})
}

// checkAnswer fails on a 5xx or on a refusal that is not a JSON error.
func checkAnswer(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 500 || (w.Code != http.StatusOK && (w.Code < 400 || w.Code > 499)) {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	if w.Code != http.StatusOK {
		var body struct{ Error string }
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" {
			t.Fatalf("refusal %d without a JSON error: %q", w.Code, w.Body.String())
		}
	}
}

// FuzzLoginBody posts arbitrary bodies to login and fresh-login. Nothing
// answers 5xx; a 200 comes only when the authenticator approved the
// genuine credentials in that very request, and carries tokens of that user.
func FuzzLoginBody(f *testing.F) {
	var approved string
	fx := newFixture(f, ginfresh.WithoutLoginThrottle(), ginfresh.WithAuthenticator(func(c *gin.Context, user, pass string) (ginfresh.Identity, error) {
		id, err := testAuthenticator(c, user, pass)
		if err == nil {
			approved = id.Subject
		}
		return id, err
	}))
	for _, seed := range []string{
		credentials("alice", "alice-pw"), credentials("alice", "wrong"), credentials("bob", "bob-pw"),
		`{"USERNAME":"alice","Password":"alice-pw"}`, `{"username":"\u0061lice","password":"alice-pw"}`,
		`{"username":"alice","password":"alice-pw","username":"bob"}`, `{"username":["alice"],"password":"x"}`,
		`{"username":"alice","password":"alice-pw"} {}`, `null`, `[]`, `{`, ``, `"alice"`,
		`{"username":"alice","password":null}`, `{"username":"alice\u0000","password":"alice-pw"}`,
	} {
		f.Add("/auth/login", []byte(seed))
		f.Add("/auth/fresh-login", []byte(seed))
	}
	if w := fx.do(request{method: http.MethodPost, path: "/auth/login", body: credentials("alice", "alice-pw")}); w.Code != http.StatusOK || approved != "alice" {
		f.Fatalf("the genuine credentials are refused: %s", w.Body.String())
	}
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		if path != "/auth/login" {
			path = "/auth/fresh-login"
		}
		approved = ""
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
		w := httptest.NewRecorder()
		fx.router.ServeHTTP(w, r)
		checkAnswer(t, w)
		if w.Code != http.StatusOK {
			return
		}
		if approved == "" {
			t.Fatalf("200 without approved credentials for %q", body)
		}
		var tok ginfresh.Tokens
		if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil {
			t.Fatal(err)
		}
		c, err := fx.auth.Verify(context.Background(), ginfresh.AccessToken, tok.AccessToken)
		if err != nil || c.Subject != approved {
			t.Fatalf("200 for %q answered a token of %v (%v), want %q", body, c, err, approved)
		}
	})
}

// FuzzRefreshRequest sends arbitrary Authorization headers and bodies to the
// refresh endpoint. Nothing answers 5xx, and a 200 needs exactly the genuine
// refresh token as the Bearer credential.
func FuzzRefreshRequest(f *testing.F) {
	store := ginfresh.NewMemoryStore()
	fx := newFixture(f, ginfresh.WithStore(store), ginfresh.WithRefreshRotation(false))
	access, refresh := fixedTokens(f, fx, store)
	if w := fx.refresh(f, refresh); w.Code != http.StatusOK {
		f.Fatalf("the genuine refresh token is refused: %s", w.Body.String())
	}
	for _, m := range append(mutations(refresh), access) {
		f.Add("Bearer "+m, []byte(nil))
		f.Add("bearer  "+m, []byte(`{"refresh_token":"`+m+`"}`))
	}
	f.Add("Basic "+refresh, []byte("refresh_token="+refresh))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/auth/refresh", strings.NewReader(string(body)))
		r.Header["Authorization"] = []string{header}
		w := httptest.NewRecorder()
		fx.router.ServeHTTP(w, r)
		checkAnswer(t, w)
		if w.Code != http.StatusOK {
			return
		}
		scheme, rest, _ := strings.Cut(header, " ")
		if !strings.EqualFold(scheme, "bearer") || strings.TrimLeft(rest, " ") != refresh {
			t.Fatalf("refresh accepted %q", header)
		}
	})
}
