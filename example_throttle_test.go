package ginfresh_test

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

// An error handler of its own keeps the Retry-After of a throttled login.
func ExampleRetryAfter() {
	gin.SetMode(gin.ReleaseMode)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey([]byte("example-secret-of-at-least-32-bytes!")),
		ginfresh.WithTimeFunc(func() time.Time { return now }),
		ginfresh.WithAuthenticator(func(*gin.Context, string, string) (ginfresh.Identity, error) {
			return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
		}),
		ginfresh.WithLoginThrottle(ginfresh.Throttle{PerAccount: 2, Window: time.Minute}),
		ginfresh.WithErrorHandler(func(c *gin.Context, err error) {
			if wait, ok := ginfresh.RetryAfter(err); ok {
				c.Header("Retry-After", strconv.Itoa(int(wait/time.Second)))
			}
			status := http.StatusUnauthorized
			if errors.Is(err, ginfresh.ErrTooManyAttempts) {
				status = http.StatusTooManyRequests
			}
			c.JSON(status, gin.H{"message": "login refused"})
		}),
	)
	if err != nil {
		panic(err)
	}
	r := gin.New()
	auth.RegisterRoutes(r)
	for range 3 {
		w := post(r, "/login", "", `{"username":"alice","password":"guess"}`)
		fmt.Printf("%d Retry-After: %q\n", w.Code, w.Header().Get("Retry-After"))
	}
	// Output:
	// 401 Retry-After: ""
	// 401 Retry-After: ""
	// 429 Retry-After: "60"
}
