package paseto

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ginfresh/ginfresh"
)

func TestDecodeDates(t *testing.T) {
	tests := []struct {
		name    string
		iat     string
		want    time.Time
		wantErr bool
	}{
		{"UTC", "2030-01-02T03:04:05Z", time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), false},
		{"milliseconds", "2030-01-02T03:04:05.678Z", time.Date(2030, 1, 2, 3, 4, 5, 678e6, time.UTC), false},
		{"offset", "2030-01-02T05:04:05.5+02:00", time.Date(2030, 1, 2, 3, 4, 5, 500e6, time.UTC), false},
		{"spec style offset", "2030-01-02T03:04:05+00:00", time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), false},
		{"nanoseconds round to milliseconds", "2030-01-02T03:04:05.123456789Z", time.Date(2030, 1, 2, 3, 4, 5, 123e6, time.UTC), false},
		{"epoch", "1970-01-01T00:00:00Z", time.Time{}, false}, // zero counts as absent
		{"no zone", "2030-01-02T03:04:05", time.Time{}, true},
		{"date only", "2030-01-02", time.Time{}, true},
		{"before 1970", "1969-12-31T23:59:59Z", time.Time{}, true},
		{"past year 5138", "9999-12-31T23:59:59Z", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := decodeClaims([]byte(`{"sub":"a","iat":"` + tt.iat + `"}`))
			if tt.wantErr {
				if !errors.Is(err, ErrPayload) {
					t.Fatalf("got %v, want ErrPayload", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.IsZero() {
				if c.IssuedAt != nil {
					t.Fatalf("got iat %v, want none", c.IssuedAt)
				}
				return
			}
			if c.IssuedAt == nil || !c.IssuedAt.Time.Equal(tt.want) {
				t.Fatalf("got iat %v, want %v", c.IssuedAt, tt.want)
			}
		})
	}
}

func TestEncodeClaims(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 678_900_000, time.UTC)
	c := &ginfresh.Claims{Extra: map[string]any{"n": 1}}
	c.Subject = "alice"
	c.Audience = jwt.ClaimStrings{"a", "b"}
	c.IssuedAt = &jwt.NumericDate{Time: now.In(time.FixedZone("X", 3600))}
	c.ExpiresAt = &jwt.NumericDate{Time: now.Add(time.Minute)}
	got, err := encodeClaims(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"exp":"2030-01-02T03:05:05Z","iat":"2030-01-02T03:04:05.678Z","aud":["a","b"],"sub":"alice","n":1}`
	if string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	back, err := decodeClaims(got)
	if err != nil {
		t.Fatal(err)
	}
	if !back.IssuedAt.Time.Equal(now.Truncate(time.Millisecond)) || !back.ExpiresAt.Time.Equal(now.Add(time.Minute).Truncate(time.Second)) {
		t.Fatalf("got iat %v exp %v", back.IssuedAt, back.ExpiresAt)
	}
	c.Extra = map[string]any{"exp": 1}
	if _, err := encodeClaims(c); err == nil {
		t.Fatal("a custom claim may not replace exp")
	}
}

// FuzzDecodeClaims feeds arbitrary verified payloads (what a key holder
// could mint) to the payload reader: it must never panic, and every
// refusal is ErrPayload.
func FuzzDecodeClaims(f *testing.F) {
	f.Add(`{"sub":"a","iat":"2030-01-02T03:04:05.678Z","exp":"2030-01-02T03:19:05Z","x":[1,{"y":null}]}`)
	f.Add(`{"sub":"a","sub":"b"}`)
	f.Add(`{"exp":1}`)
	f.Add(`{"iat":"2030-01-02T03:04:05Z"} {}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, payload string) {
		c, err := decodeClaims([]byte(payload))
		if err != nil {
			if !errors.Is(err, ErrPayload) {
				t.Fatalf("got %v, want ErrPayload", err)
			}
			return
		}
		if c == nil {
			t.Fatal("nil claims without an error")
		}
	})
}

// FuzzVerify feeds arbitrary strings to both purposes: never a panic,
// every refusal ErrTokenInvalid.
func FuzzVerify(f *testing.F) {
	sk, _ := GenerateSecretKey("k")
	lk, _ := GenerateLocalKey("k")
	public, _ := NewPublic(sk)
	local, _ := NewLocal(lk)
	c := &ginfresh.Claims{}
	c.Subject, c.ID = "alice", "j"
	c.IssuedAt = &jwt.NumericDate{Time: time.Unix(1893553445, 0)}
	for _, format := range []*Format{public, local} {
		tok, err := format.Issue(ginfresh.AccessToken, c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Add("v4.public..")
	f.Add("v4.local.AAAA.e30")
	f.Fuzz(func(t *testing.T, token string) {
		for _, format := range []*Format{public, local} {
			for _, typ := range []ginfresh.TokenType{ginfresh.AccessToken, ginfresh.RefreshToken} {
				if _, err := format.Verify(typ, token); err != nil && !errors.Is(err, ginfresh.ErrTokenInvalid) {
					t.Fatalf("got %v, want ErrTokenInvalid", err)
				}
			}
		}
	})
}
