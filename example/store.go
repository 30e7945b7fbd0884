package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/redisstore"
)

// storeOption keeps sessions in process memory (ginfresh's default) unless
// the environment names a shared store: REDIS_URL (one Redis), or
// REDIS_CLUSTER (a Redis Cluster, as host:port,host:port,…). Every
// instance started with the same store and GINFRESH_SECRET is one API.
// The function it returns closes the store and its client.
func storeOption(ctx context.Context, getenv func(string) string, logf func(string, ...any)) (ginfresh.Option, func(), error) {
	url, nodes := getenv("REDIS_URL"), getenv("REDIS_CLUSTER")
	switch {
	case url != "" && nodes != "":
		return nil, nil, errors.New("set REDIS_URL or REDIS_CLUSTER, not both")
	case url != "":
		opt, err := redis.ParseURL(url)
		if err != nil {
			// The URL may hold a password: name the variable, not its value.
			return nil, nil, errors.New("REDIS_URL is not a redis:// or rediss:// URL")
		}
		opt.ContextTimeoutEnabled = true // ginfresh's store timeout bounds every call
		return redisOption(ctx, redis.NewClient(opt), opt.Addr, logf)
	case nodes != "":
		addrs := strings.Split(nodes, ",")
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
		return redisOption(ctx, c, "cluster "+nodes, logf)
	}
	return nil, func() {}, nil
}

// redisOption checks that Redis answers and puts a store over it.
func redisOption(ctx context.Context, c redis.UniversalClient, where string, logf func(string, ...any)) (ginfresh.Option, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, nil, fmt.Errorf("redis at %s: %w", where, err)
	}
	store, err := redisstore.New(c)
	if err != nil {
		_ = c.Close()
		return nil, nil, err
	}
	logf("sessions are kept in Redis at %s", where)
	return ginfresh.WithStore(store), func() { _ = store.Close(); _ = c.Close() }, nil
}
