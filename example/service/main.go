// Command service is a compact but realistic API on ginfresh: users with
// bcrypt passwords, roles and a tenant in SQLite, sessions shared by every
// instance through Redis, an admin route, a password change that needs a
// recent login, its own error JSON, and a second service ("reports") that
// verifies the tokens with the issuer's published keys alone.
//
//	SERVICE      issuer (default) or reports
//	PORT         listen port (default 8080)
//	DB           SQLite file of the users (issuer; default service.db)
//	REDIS_URL    redis://host:port/db, shared by the issuer's instances (issuer)
//	SIGNING_KEY  PEM file of the Ed25519 key every issuer instance signs with
//	ISSUER_URL   https://… of the issuer, whose /.well-known/jwks.json reports trusts
package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/redisstore"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	h, err := build(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: ":" + or(os.Getenv("PORT"), "8080"), Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	drain, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_ = srv.Shutdown(drain)
}

// build wires the service the environment names.
func build(getenv func(string) string) (http.Handler, error) {
	if getenv("SERVICE") == "reports" {
		return reports(getenv("ISSUER_URL") + "/.well-known/jwks.json")
	}
	users, err := openUsers(or(getenv("DB"), "service.db"))
	if err != nil {
		return nil, err
	}
	key, err := signingKey(getenv("SIGNING_KEY"))
	if err != nil {
		return nil, err
	}
	var store ginfresh.Store
	if url := getenv("REDIS_URL"); url != "" {
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, errors.New("REDIS_URL is not a redis:// URL")
		}
		opt.ContextTimeoutEnabled = true
		if store, err = redisstore.New(redis.NewClient(opt)); err != nil {
			return nil, err
		}
	}
	return issuer(users, key, store)
}

func or(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}
