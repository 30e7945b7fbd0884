package ginfresh

import (
	"testing"
	"time"
)

// BenchmarkJWTFormatVerify measures the format's own work on an access
// token (structure, characters, signature, claims), without the cache.
func BenchmarkJWTFormatVerify(b *testing.B) {
	f, err := newJWTFormat(mustHMACKey(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	token, err := f.Issue(AccessToken, (&Auth{}).claims(session{subject: "alice", fresh: true, authTime: now}, newID(), now, now.Add(time.Minute)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Verify(AccessToken, token); err != nil {
			b.Fatal(err)
		}
	}
}

func mustHMACKey(b *testing.B) *Key {
	k, err := NewHMACKey("", "HS256", []byte("bench-key-0123456789-0123456789-0123"))
	if err != nil {
		b.Fatal(err)
	}
	return k
}
