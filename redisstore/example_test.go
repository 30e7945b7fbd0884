package redisstore_test

import (
	"log"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/redisstore"
)

// Several instances of one API share sessions, revocations and the login
// throttle through one Redis. The store borrows the app's client (and its
// connection pool); the app closes it.
func Example() {
	opt, err := redis.ParseURL("redis://127.0.0.1:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	opt.ContextTimeoutEnabled = true // request deadlines bound Redis calls
	rdb := redis.NewClient(opt)
	defer rdb.Close()

	store, err := redisstore.New(rdb, redisstore.WithPrefix("myapi:"))
	if err != nil {
		log.Fatal(err)
	}
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey([]byte(os.Getenv("GINFRESH_SECRET"))),
		ginfresh.WithStore(store),
		ginfresh.WithAccessRevocation(), // logout reaches access tokens on every instance
		ginfresh.WithAuthenticator(func(*gin.Context, string, string) (ginfresh.Identity, error) {
			return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	auth.RegisterRoutes(r.Group("/auth"))
	_ = r.Run("127.0.0.1:8000")
}
