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
	"github.com/ginfresh/ginfresh/sqlstore"
)

// storeOption keeps sessions in process memory (ginfresh's default) unless
// the environment names a store: REDIS_URL (one Redis), REDIS_CLUSTER (a
// Redis Cluster, as host:port,host:port,…) or DATABASE_URL (PostgreSQL as
// postgres://…, or a SQLite file as sqlite:path). Every instance started
// with the same store and GINFRESH_SECRET is one API. The function it
// returns closes the store and its client.
func storeOption(ctx context.Context, getenv func(string) string, logf func(string, ...any)) (ginfresh.Option, func(), error) {
	url, nodes, database := getenv("REDIS_URL"), getenv("REDIS_CLUSTER"), getenv("DATABASE_URL")
	set := 0
	for _, v := range []string{url, nodes, database} {
		if v != "" {
			set++
		}
	}
	switch {
	case set > 1:
		return nil, nil, errors.New("set one of REDIS_URL, REDIS_CLUSTER and DATABASE_URL, not several")
	case database != "":
		return sqlOption(ctx, database, logf)
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

// sqlOption opens the database, creates or upgrades the tables, and puts a
// store over it.
func sqlOption(ctx context.Context, url string, logf func(string, ...any)) (ginfresh.Option, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// sqlstore's errors name the scheme, never the URL and its password.
	store, err := sqlstore.Open(ctx, url)
	if err != nil {
		return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if err := store.Migrate(ctx); err != nil {
		_ = store.Close()
		return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	logf("sessions are kept in %v", store.Dialect())
	return ginfresh.WithStore(store), func() { _ = store.Close() }, nil
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
