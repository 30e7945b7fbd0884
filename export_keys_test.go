package ginfresh

// Internal tests of the key cluster, for what no public API can observe.

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"testing"
)

// A fetch that withdraws a kid, or binds it to other material or another
// algorithm, must empty the token cache (tokens verified with the old key
// would otherwise outlive it there); an unchanged set must not, or every
// fetch would. Each fetch builds new *Key values, and configured HMAC
// secrets have no Equal method, so both are compared by content.
func TestRemoteDropsKey(t *testing.T) {
	must := func(k *Key, err error) *Key {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	secret := []byte("remote-test-key-0123456789-0123456789")
	hmac1 := must(NewHMACKey("h", HS256, secret))
	hmac2 := must(NewHMACKey("h", HS256, secret))
	hmacOther := must(NewHMACKey("h", HS256, []byte("another-test-key-0123456789-01234567")))
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ed := must(NewVerificationKey("e", EdDSA, edPub))
	edAgain := must(NewVerificationKey("e", EdDSA, edPub))
	edOther := must(NewVerificationKey("e", EdDSA, otherPub))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs := must(NewVerificationKey("r", RS256, rsaKey.Public()))
	ps := must(NewVerificationKey("r", PS256, rsaKey.Public()))

	for _, tt := range []struct {
		name       string
		prev, next []*Key
		want       bool
	}{
		{"the same configured key", []*Key{hmac1}, []*Key{hmac1}, false},
		{"the same secret under the same kid", []*Key{hmac1}, []*Key{hmac2}, false},
		{"another secret under the kid", []*Key{hmac1}, []*Key{hmacOther}, true},
		{"a fetched key fetched again", []*Key{hmac1, ed}, []*Key{hmac1, edAgain}, false},
		{"a key added", []*Key{hmac1}, []*Key{hmac1, ed}, false},
		{"a key withdrawn", []*Key{hmac1, ed}, []*Key{hmac1}, true},
		{"the kid bound to other material", []*Key{ed}, []*Key{edOther}, true},
		{"the kid bound to another algorithm", []*Key{rs}, []*Key{ps}, true},
		{"a secret's kid now a public key", []*Key{hmac1}, []*Key{must(NewVerificationKey("h", EdDSA, edPub))}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prev, err := buildJWTFormat(nil, tt.prev)
			if err != nil {
				t.Fatal(err)
			}
			next, err := buildJWTFormat(nil, tt.next)
			if err != nil {
				t.Fatal(err)
			}
			if got := dropsKey(prev, next); got != tt.want {
				t.Fatalf("dropsKey = %v, want %v", got, tt.want)
			}
		})
	}
}
