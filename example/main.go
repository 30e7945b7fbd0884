// Command example is a runnable API showing ginfresh: login, refresh,
// fresh-login with a one-time code, logout, devices, an ordinary protected
// route and fresh-only ones, and a browser demo on HttpOnly cookies at /app.
//
//	PORT               listen port (default 8000)
//	HOST               listen address (default: every interface)
//	GINFRESH_SECRET    HMAC key, at least 32 bytes, taken as raw bytes;
//	                   when unset a random key is made and tokens die with the process
//	GINFRESH_KEY_FILE  PEM file of an Ed25519 private key (openssl genpkey -algorithm ed25519);
//	                   when set, tokens are signed with EdDSA instead of the HMAC key and
//	                   the public key is served at GET /.well-known/jwks.json
//	REDIS_URL          redis://host:port/db: sessions in Redis, shared by every instance
//	REDIS_CLUSTER      host:port,host:port,…: the same on a Redis Cluster
//	DATABASE_URL       postgres://… or sqlite:path: sessions in SQL
//	                   (with none of the three they live in process memory)
//	TOKEN_FORMAT       jwt (default) or paseto (PASETO v4.public)
//	PASETO_SECRET_KEY  with paseto: the Ed25519 key in hex (32-byte seed or
//	                   64-byte private key); when unset a random key is made
//
// It logs security events as JSON to standard error, and on SIGINT or
// SIGTERM stops taking connections and answers the requests in flight
// before it exits.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("example", "error", err.Error())
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	logf := func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }
	format, err := tokenFormat(os.Getenv, logf)
	if err != nil {
		return err
	}
	secret, keyFile := []byte(os.Getenv("GINFRESH_SECRET")), os.Getenv("GINFRESH_KEY_FILE")
	if len(secret) == 0 && keyFile == "" && format == nil {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
		log.Warn("GINFRESH_SECRET is not set: signing with a random key; tokens stop working when the process exits")
	}
	store, closeStore, err := storeOption(context.Background(), os.Getenv, logf)
	if err != nil {
		return err
	}
	defer closeStore()
	if os.Getenv("GIN_MODE") == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	r, err := newServer(config{secret: secret, keyFile: keyFile, format: format, store: store, log: log})
	if err != nil {
		return err
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8000"
	}
	srv := &http.Server{
		Addr:              net.JoinHostPort(os.Getenv("HOST"), port),
		Handler:           r,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, srv, log)
}

// serve runs srv until ctx ends, then drains it: no new connections, every
// request in flight answered (for up to 20 seconds), so that a deploy or a
// scale-down never drops a refresh whose rotation already happened.
func serve(ctx context.Context, srv *http.Server, log *slog.Logger) error {
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return err
	}
	log.Info("listening", "url", "http://localhost:"+portOf(ln))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: answering the requests in flight")
	drain, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(drain); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func portOf(ln net.Listener) string {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
