package paseto

import (
	"errors"
	"strings"
	"testing"

	"github.com/ginfresh/ginfresh"
)

func TestFromPASETODates(t *testing.T) {
	tests := []struct {
		name    string
		iat     string
		want    string // the NumericDate Verify hands over
		wantErr error
	}{
		{"UTC", `"2030-01-02T03:04:05Z"`, "1893553445", nil},
		{"offset", `"2030-01-02T05:04:05+02:00"`, "1893553445", nil},
		{"spec style offset", `"2030-01-02T03:04:05+00:00"`, "1893553445", nil},
		{"milliseconds truncate", `"2030-01-02T03:04:05.678Z"`, "1893553445", nil},
		{"nanoseconds truncate", `"2030-01-02T03:04:05.999999999Z"`, "1893553445", nil},
		{"fraction with offset", `"2030-01-02T05:04:05.5+02:00"`, "1893553445", nil},
		{"epoch", `"1970-01-01T00:00:00Z"`, "0", nil}, // ginfresh reads 0 as absent
		{"no zone", `"2030-01-02T03:04:05"`, "", errDate},
		{"date only", `"2030-01-02"`, "", errDate},
		{"a number (JWT style)", `1893553445`, "", errDate},
		{"null", `null`, "", errDate},
		{"before 1970", `"1969-12-31T23:59:59Z"`, "", errDateRange},
		{"just before 1970", `"1969-12-31T23:59:59.999Z"`, "", errDateRange},
		{"past year 5138", `"9999-12-31T23:59:59Z"`, "", errDateRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fromPASETO([]byte(`{"sub":"a","iat":` + tt.iat + `,"auth_time":1893553445.5}`))
			if tt.wantErr != nil {
				if !errors.Is(err, ErrPayload) || !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want ErrPayload and %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// auth_time is no PASETO date: it passes as it is.
			if want := `{"sub":"a","iat":` + tt.want + `,"auth_time":1893553445.5}`; string(got) != want {
				t.Fatalf("got %s, want %s", got, want)
			}
		})
	}
}

func TestFromPASETOPayload(t *testing.T) {
	tests := []struct {
		name, payload, want string
		wantErr             bool
	}{
		{"members keep their order and bytes", `{"x": [1, {"y":null}],"big":12345678901234567890123,"s":"\u00e9"}`, `{"x":[1, {"y":null}],"big":12345678901234567890123,"s":"\u00e9"}`, false},
		{"mistyped claims are ginfresh's to refuse", `{"sub":7,"exp":"2030-01-02T03:04:05Z"}`, `{"sub":7,"exp":1893553445}`, false},
		{"duplicate claim", `{"sub":"a","sub":"b"}`, "", true},
		{"not an object", `["sub"]`, "", true},
		{"trailing data", `{} {}`, "", true},
		{"empty", ``, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fromPASETO([]byte(tt.payload))
			if tt.wantErr {
				if !errors.Is(err, ErrPayload) {
					t.Fatalf("got %v, want ErrPayload", err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %s %v, want %s", got, err, tt.want)
			}
		})
	}
}

func TestToPASETO(t *testing.T) {
	tests := []struct {
		name, payload, want string
		wantErr             error
	}{
		{
			"dates and one audience",
			`{"sub":"alice","aud":["api"],"exp":1893554345,"nbf":1893553445,"iat":1893553445,"auth_time":1893553445,"amr":["pwd"],"n":12345678901234567890123}`,
			`{"amr":["pwd"],"aud":"api","auth_time":1893553445,"exp":"2030-01-02T03:19:05Z","iat":"2030-01-02T03:04:05Z","n":12345678901234567890123,"nbf":"2030-01-02T03:04:05Z","sub":"alice"}`,
			nil,
		},
		{"several audiences", `{"aud":["a","b"]}`, `{"aud":["a","b"]}`, nil},
		{"fractional date", `{"iat":1893553445.678}`, "", errNumeric},
		{"date as a string", `{"exp":"2030-01-02T03:04:05Z"}`, "", errNumeric},
		{"negative date", `{"exp":-1}`, "", errNumeric},
		{"date past 5138", `{"exp":100000000001}`, "", errNumeric},
		{"nbf before iat", `{"nbf":1893553444,"iat":1893553445}`, "", errNotBefore},
		{"duplicate claim", `{"sub":"a","sub":"b"}`, "", errDuplicate},
		{"not an object", `[]`, "", errNotObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := toPASETO([]byte(tt.payload))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(tok.ClaimsJSON()); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestRoundTrip: what Verify hands back is what Issue was given, but for
// the key order and a single audience written as a string.
func TestRoundTrip(t *testing.T) {
	in := `{"sub":"alice","aud":["api","web"],"exp":1893554345,"nbf":1893553445,"iat":1893553445,"jti":"j","fresh":true,"auth_time":1893553440,"sid":"s","acr":"mfa","amr":["pwd","otp"],"csrf":"c","html":"<b>&</b>"}`
	tok, err := toPASETO([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := fromPASETO(tok.ClaimsJSON())
	if err != nil {
		t.Fatal(err)
	}
	var a, b ginfresh.Claims
	if err := a.UnmarshalJSON([]byte(in)); err != nil {
		t.Fatal(err)
	}
	if err := b.UnmarshalJSON(out); err != nil {
		t.Fatal(err)
	}
	ja, _ := a.MarshalJSON()
	jb, _ := b.MarshalJSON()
	if string(ja) != string(jb) {
		t.Fatalf("got %s, want %s", jb, ja)
	}
	if !strings.Contains(string(out), `"nbf":1893553445`) || !strings.Contains(string(out), `"iat":1893553445`) {
		t.Fatalf("nbf and iat must stay equal: %s", out)
	}
}

// FuzzFromPASETO feeds arbitrary verified payloads (what a key holder
// could mint) to the payload reader: it must never panic, every refusal is
// ErrPayload, and what it accepts is one JSON object with numeric dates.
func FuzzFromPASETO(f *testing.F) {
	f.Add(`{"sub":"a","iat":"2030-01-02T03:04:05.678Z","exp":"2030-01-02T03:19:05Z","x":[1,{"y":null}]}`)
	f.Add(`{"sub":"a","sub":"b"}`)
	f.Add(`{"exp":1}`)
	f.Add(`{"iat":"2030-01-02T03:04:05Z"} {}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, payload string) {
		out, err := fromPASETO([]byte(payload))
		if err != nil {
			if !errors.Is(err, ErrPayload) {
				t.Fatalf("got %v, want ErrPayload", err)
			}
			return
		}
		ms, err := members(out)
		if err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		for _, m := range ms {
			if dateClaims[m.name] && (len(m.value) == 0 || m.value[0] < '0' || m.value[0] > '9') {
				t.Fatalf("%s is no NumericDate: %s", m.name, out)
			}
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
	payload := []byte(`{"sub":"alice","jti":"j","sid":"s","iat":1893553445,"nbf":1893553445,"exp":1893554345}`)
	formats := []*Format{public, local}
	for _, format := range formats {
		for _, k := range []ginfresh.Kind{ginfresh.Access, ginfresh.Refresh} {
			tok, err := format.Issue(k, payload)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(tok)
		}
	}
	f.Add("v4.public..")
	f.Add("v4.local.AAAA.e30")
	f.Fuzz(func(t *testing.T, token string) {
		for _, format := range formats {
			for _, k := range []ginfresh.Kind{ginfresh.Access, ginfresh.Refresh} {
				if _, err := format.Verify(k, token); err != nil && !errors.Is(err, ginfresh.ErrTokenInvalid) {
					t.Fatalf("got %v, want ErrTokenInvalid", err)
				}
			}
		}
	})
}
