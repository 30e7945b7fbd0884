package ginfresh

import (
	"testing"
	"time"
)

// benchFormats returns the same HMAC key as a fixed set and as the snapshot
// of a fetched one, and a token it signed: HMAC is cheap, so the benchmark
// shows what surrounds the signature check.
func benchFormats(b *testing.B) (static *jwtFormat, remote *remoteKeys, token string) {
	b.Helper()
	key, err := NewHMACKey("", "HS256", []byte("bench-key-0123456789-0123456789-0123456789"))
	if err != nil {
		b.Fatal(err)
	}
	static, err = newJWTFormat(key, nil)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	c := &Claims{Fresh: true}
	c.Subject, c.ID = "alice", "bench"
	if token, err = static.Issue(AccessToken, c); err != nil {
		b.Fatal(err)
	}
	cfg := &remoteConfig{refresh: time.Hour, minInterval: time.Minute}
	if remote, err = newRemoteKeys(cfg, []*Key{key}, func() time.Time { return now }); err != nil {
		b.Fatal(err)
	}
	// As after a successful fetch: the snapshot is current, nothing is due.
	remote.snap.Store(&keySnapshot{format: remote.snap.Load().format, fetched: now})
	return static, remote, token
}

// BenchmarkKeySetVerify compares the fixed key set with a snapshot of a
// fetched one, verifying the same token.
func BenchmarkKeySetVerify(b *testing.B) {
	static, remote, token := benchFormats(b)
	for _, bc := range []struct {
		name string
		f    Format
	}{{"static", static}, {"remote", remote}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.f.Verify(AccessToken, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
