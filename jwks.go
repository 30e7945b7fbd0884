package ginfresh

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// DefaultJWKSMaxAge is how long clients and proxies may cache the JWK Set
// that [Auth.JWKSHandler] serves.
const DefaultJWKSMaxAge = 15 * time.Minute

// jwkSetContentType is the media type of a JWK Set (RFC 7517 §8.5.1).
const jwkSetContentType = "application/jwk-set+json"

// WithJWKSMaxAge sets the Cache-Control max-age of [Auth.JWKSHandler]. A
// new key must be published at least this long before it signs (see the
// rotation procedure in the README). Default: [DefaultJWKSMaxAge].
func WithJWKSMaxAge(d time.Duration) Option {
	return func(a *Auth) error {
		return positive("WithJWKSMaxAge", d, &a.jwksMaxAge)
	}
}

// jwksDocument is the JWK Set, rendered once in New.
type jwksDocument struct {
	body         []byte
	etag         string
	cacheControl string
}

// newJWKSDocument publishes the public half of every asymmetric key. HMAC
// secrets have no public half and are left out; private parts never leave
// the Key.
func newJWKSDocument(keys []*Key, maxAge time.Duration) (*jwksDocument, error) {
	maxAge = cmp.Or(maxAge, DefaultJWKSMaxAge)
	set := JWKSet{Keys: []JWK{}}
	seen := map[string]bool{}
	for _, k := range keys {
		if k == nil || k.Public() == nil || seen[k.id] {
			continue
		}
		seen[k.id] = true
		j, err := k.PublicJWK()
		if err != nil {
			return nil, fmt.Errorf("publishing key %q: %w", k.id, err)
		}
		set.Keys = append(set.Keys, j)
	}
	body, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	return &jwksDocument{
		body:         body,
		etag:         `"` + b64.EncodeToString(sum[:16]) + `"`,
		cacheControl: "public, max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10),
	}, nil
}

// JWKSHandler serves the public verification keys as an RFC 7517 JWK Set,
// for example at GET /.well-known/jwks.json, so that other services can
// verify tokens without holding a secret. Each key carries its kid, alg and
// use "sig". The document is built once in [New]; it is cacheable for
// [WithJWKSMaxAge] and answers If-None-Match with 304. It holds the keys
// configured with [WithSigningKey] and [WithVerificationKeys], never keys
// fetched with [WithJWKSURL]: a resource server does not republish its issuer.
func (a *Auth) JWKSHandler() gin.HandlerFunc {
	d := a.jwks
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Cache-Control", d.cacheControl)
		h.Set("ETag", d.etag)
		if etagMatches(c.GetHeader("If-None-Match"), d.etag) {
			c.Status(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, jwkSetContentType, d.body)
	}
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 §13.1.2).
func etagMatches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
