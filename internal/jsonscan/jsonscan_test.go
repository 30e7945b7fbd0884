package jsonscan

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// member is one name and raw value as Each reports them.
type member struct{ name, value string }

func members(t *testing.T, p string) ([]member, error) {
	t.Helper()
	var out []member
	err := Each(p, func(name, value string) error {
		out = append(out, member{name, value})
		return nil
	})
	return out, err
}

func TestEach(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want []member
	}{
		{"empty", `{}`, nil},
		{"empty with space", " {\n\t} ", nil},
		{"scalars", `{"a":1,"b":"x","c":true,"d":null,"e":-1.5e3}`,
			[]member{{"a", "1"}, {"b", `"x"`}, {"c", "true"}, {"d", "null"}, {"e", "-1.5e3"}}},
		{"space everywhere", " { \"a\" : 1 , \"b\"\t:\n[ 1 , 2 ] } ", []member{{"a", "1"}, {"b", "[ 1 , 2 ]"}}},
		{"nested values stay whole", `{"o":{"a":{"b":[1,{"c":"}"}]}},"s":"a\"}b"}`,
			[]member{{"o", `{"a":{"b":[1,{"c":"}"}]}}`}, {"s", `"a\"}b"`}}},
		{"escaped name", `{"\u0073ub":"x"}`, []member{{"sub", `"x"`}}},
		{"invalid UTF-8 name reads as U+FFFD", "{\"a\xffb\":1}", []member{{"a\ufffdb", "1"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := members(t, tt.in)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

// TestEachDuplicates: a name given twice is refused however it is spelled,
// so that no reader of the same JSON sees another value; names in nested
// objects are their own.
func TestEachDuplicates(t *testing.T) {
	for _, tt := range []struct {
		name, in, dup string
	}{
		{"plain", `{"sub":"alice","sub":"admin"}`, "sub"},
		{"escaped", `{"sub":"alice","\u0073ub":"admin"}`, "sub"},
		{"escaped slash", `{"a/b":1,"a\/b":2}`, "a/b"},
		{"invalid UTF-8 read alike", "{\"a\xffb\":1,\"a\xfeb\":2}", "a\ufffdb"},
		{"empty name", `{"":1,"":2}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Each(tt.in, func(string, string) error { return nil })
			var de *DuplicateError
			if !errors.Is(err, ErrDuplicate) || !errors.As(err, &de) || de.Name != tt.dup {
				t.Errorf("got %v, want a DuplicateError naming %q", err, tt.dup)
			}
		})
	}
	for _, in := range []string{`{"a":{"a":1},"b":{"a":2}}`, `{"Sub":1,"sub":2}`, `{"a":[{"a":1},{"a":2}]}`} {
		if err := Object([]byte(in)); err != nil {
			t.Errorf("Object(%s): got %v, want no error", in, err)
		}
	}
}

// TestEachManyMembers: the duplicate check finds a repeat however many
// members come first, past the small set it keeps on the stack too.
func TestEachManyMembers(t *testing.T) {
	for _, n := range []int{1, 15, 16, 17, 200} {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, `"m%d":%d,`, i, i)
		}
		if err := Object([]byte(b.String() + `"last":0}`)); err != nil {
			t.Errorf("%d distinct members: %v", n, err)
		}
		for _, first := range []int{0, n - 1} {
			err := Object([]byte(b.String() + fmt.Sprintf(`"m%d":1}`, first)))
			if !errors.Is(err, ErrDuplicate) {
				t.Errorf("member %d repeated after %d members: got %v, want ErrDuplicate", first, n, err)
			}
		}
	}
}

func TestEachStopsAtError(t *testing.T) {
	stop := errors.New("stop")
	var seen []string
	err := Each(`{"a":1,"b":2,"c":3}`, func(name, _ string) error {
		seen = append(seen, name)
		if name == "b" {
			return stop
		}
		return nil
	})
	if err != stop || !slices.Equal(seen, []string{"a", "b"}) {
		t.Errorf("got %v after %q, want stop after a and b", err, seen)
	}
}

func TestObject(t *testing.T) {
	for _, in := range []string{``, ` `, `null`, `[]`, `[{"a":1}]`, `"{}"`, `1`, `{`, `{"a"}`, `{"a":1,}`, `{"a":1} {}`, `{"a":1}x`, `{'a':1}`} {
		if err := Object([]byte(in)); !errors.Is(err, ErrNotObject) {
			t.Errorf("Object(%q): got %v, want ErrNotObject", in, err)
		}
	}
	for _, in := range []string{`{}`, ` {"a":1} `, `{"a":{"b":[]}}`} {
		if err := Object([]byte(in)); err != nil {
			t.Errorf("Object(%q): got %v, want no error", in, err)
		}
	}
}

func TestStrings(t *testing.T) {
	for _, tt := range []struct {
		in     string
		want   []string
		wantOK bool
	}{
		{`"read"`, []string{"read"}, true},
		{`["read","write"]`, []string{"read", "write"}, true},
		{`[ "a" , "b\u0021" ]`, []string{"a", "b!"}, true},
		{`[]`, nil, true},
		{`[1]`, nil, false},
		{`["a",1]`, []string{"a"}, false},
		{`1`, nil, false},
		{`null`, nil, false},
		{`{"a":"b"}`, nil, false},
		{``, nil, false},
	} {
		var got []string
		ok := Strings(tt.in, func(s string) { got = append(got, s) })
		if ok != tt.wantOK || !slices.Equal(got, tt.want) {
			t.Errorf("Strings(%s) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestUnquote(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		wantOK   bool
	}{
		{`"plain"`, "plain", true},
		{`""`, "", true},
		{`"a\"b\\c\n"`, "a\"b\\c\n", true},
		{`"\u00e9t\u00e9"`, "été", true},
		{"\"a\xffb\"", "a\ufffdb", true},
		{`plain`, "", false},
		{`"`, "", false},
		{`1`, "", false},
	} {
		got, ok := Unquote(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Unquote(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
	// A plain string is a slice of its input: no allocation.
	if n := testing.AllocsPerRun(100, func() { _, _ = Unquote(`"alice"`) }); n != 0 {
		t.Errorf("Unquote of a plain string allocates %v times", n)
	}
}

// TestAppendString: every string comes back as itself through
// encoding/json, and what could close an HTML context is escaped.
func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "alice", `a"b\c`, "tab\there", "\x00\x1f\x7f", "<script>&", "été", "a\xffb", "\u2028\u2029"} {
		out := string(AppendString([]byte("x"), s))
		if !strings.HasPrefix(out, "x") {
			t.Fatalf("AppendString(%q) dropped the prefix: %s", s, out)
		}
		var back string
		if err := json.Unmarshal([]byte(out[1:]), &back); err != nil {
			t.Errorf("AppendString(%q) = %s: %v", s, out, err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want {
			t.Errorf("AppendString(%q) reads back as %q, want %q", s, back, want)
		}
		if strings.ContainsAny(out[1:], "<>&") {
			t.Errorf("AppendString(%q) = %s leaves <, > or & unescaped", s, out)
		}
	}
}

// FuzzEach checks Object and Each against encoding/json: an object both
// accept has the same names with the same raw values, and one that names
// no member twice for Each loses none in encoding/json's map.
func FuzzEach(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[1,{"c":"}"}]}`, `{"sub":1,"\u0073ub":2}`, "{\"a\xffb\":1}", `{"a":{"a":1}}`, `[]`, `{"A":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		err := Object(p)
		var m map[string]json.RawMessage
		jsonErr := json.Unmarshal(p, &m)
		if jsonErr != nil || m == nil {
			if err == nil {
				t.Fatalf("Object accepted %q, which encoding/json refuses as an object: %v", p, jsonErr)
			}
			return
		}
		var got []member
		eachErr := Each(string(p), func(name, value string) error {
			got = append(got, member{name, value})
			return nil
		})
		if (err != nil) != (eachErr != nil) {
			t.Fatalf("Object says %v, Each says %v", err, eachErr)
		}
		if errors.Is(err, ErrBadName) {
			return
		}
		if err != nil {
			var de *DuplicateError
			if !errors.As(err, &de) {
				t.Fatalf("Object(%q) = %v, want a DuplicateError or nothing", p, err)
			}
			if _, ok := m[de.Name]; !ok {
				t.Fatalf("Object(%q) names %q as repeated, which encoding/json does not see at all", p, de.Name)
			}
			return
		}
		if len(got) != len(m) {
			t.Fatalf("Each found %d members in %q, encoding/json %d names, yet no duplicate", len(got), p, len(m))
		}
		for _, mem := range got {
			if raw, ok := m[mem.name]; !ok || string(raw) != mem.value {
				t.Fatalf("member %q: Each %q, encoding/json %q", mem.name, mem.value, raw)
			}
		}
	})
}

// BenchmarkEachWideObject is the cost an unauthenticated header of many
// members can ask for, just under the token size cap of 8 KiB.
func BenchmarkEachWideObject(b *testing.B) {
	var s strings.Builder
	s.WriteString("{")
	for i := 0; s.Len() < 6<<10-16; i++ {
		fmt.Fprintf(&s, `"h%d":1,`, i)
	}
	p := []byte(s.String() + `"x":1}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := Object(p); err != nil {
			b.Fatal(err)
		}
	}
}
