package ginfresh

import (
	"testing"
)

// FuzzParseJWKSet feeds untrusted key-set documents to the parser a
// resource server runs on what it fetches: it must never panic, and every
// key it keeps must be bound to an allowed algorithm under a unique kid.
func FuzzParseJWKSet(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","alg":"RS256","n":"AQAB","e":"AQAB"},{"kty":"oct","alg":"HS256","k":"AAAA"}]}`))
	f.Add([]byte(`{"keys":null}`))
	algs := map[string]bool{}
	for _, alg := range asymmetricAlgs {
		algs[alg] = true
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, _, err := parseJWKSet(body, algs)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if !algs[k.alg] || k.Public() == nil || k.CanSign() {
				t.Fatalf("kept key %q bound to %q", k.id, k.alg)
			}
			if seen[k.id] {
				t.Fatalf("kid %q kept twice", k.id)
			}
			seen[k.id] = true
			if err := checkKeyType(k.alg, k.public); err != nil {
				t.Fatalf("kept key %q: %v", k.id, err)
			}
		}
	})
}
