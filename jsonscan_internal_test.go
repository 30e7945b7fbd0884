package ginfresh

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The duplicate check finds a repeat however many members come first, past
// the small set it keeps on the stack too.
func TestEachMemberDuplicates(t *testing.T) {
	for _, n := range []int{1, 15, 16, 17, 200} {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, `"m%d":%d,`, i, i)
		}
		assert.NoError(t, checkDuplicateKeys([]byte(b.String()+`"last":0}`)), "%d distinct members", n)
		assert.ErrorIs(t, checkDuplicateKeys([]byte(b.String()+`"m0":1}`)), errDuplicateClaim, "a repeat after %d members", n)
	}
}

// BenchmarkDuplicateCheckWideHeader is the cost an unauthenticated header
// of many members can ask for, just under the token size cap.
func BenchmarkDuplicateCheckWideHeader(b *testing.B) {
	var s strings.Builder
	s.WriteString("{")
	for i := 0; s.Len() < MaxTokenSize*3/4-16; i++ {
		fmt.Fprintf(&s, `"h%d":1,`, i)
	}
	p := []byte(s.String() + `"x":1}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkDuplicateKeys(p); err != nil {
			b.Fatal(err)
		}
	}
}
