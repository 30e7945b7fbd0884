package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/redisstore"
)

// storeOptions keeps sessions in process memory (ginfresh's default) unless
// REDIS_URL is set, in which case every instance started with the same URL
// and GINFRESH_SECRET shares them through Redis.
func storeOptions() []ginfresh.Option {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		return nil
	}
	opt, err := redisStore(url)
	if err != nil {
		log.Fatal(err)
	}
	return []ginfresh.Option{opt}
}

// redisStore connects to the Redis at url and checks that it answers.
func redisStore(url string) (ginfresh.Option, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		// The URL may hold a password: name the variable, not its value.
		return nil, errors.New("REDIS_URL is not a redis:// or rediss:// URL")
	}
	opt.ContextTimeoutEnabled = true // a request's deadline bounds its Redis calls
	rdb := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
	}
	store, err := redisstore.New(rdb)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	log.Printf("sessions are kept in Redis at %s", opt.Addr)
	return ginfresh.WithStore(store), nil
}
