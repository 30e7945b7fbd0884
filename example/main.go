// Command example is a runnable API showing ginfresh's flow: login, refresh,
// fresh-login, logout, an ordinary protected route and fresh-only ones.
//
//	PORT               listen port (default 8000)
//	HOST               listen address (default: every interface)
//	GINFRESH_SECRET    HMAC key, at least 32 bytes, taken as raw bytes;
//	                   when unset a random key is made and tokens die with the process
//	GINFRESH_KEY_FILE  PEM file of an Ed25519 private key (openssl genpkey -algorithm ed25519);
//	                   when set, tokens are signed with EdDSA instead of the HMAC key and
//	                   the public key is served at GET /.well-known/jwks.json
//	REDIS_URL          redis://host:port/db to keep sessions in Redis, shared by
//	                   every instance; when unset they live in process memory
//	TOKEN_FORMAT       jwt (default) or paseto (PASETO v4.public)
//	PASETO_SECRET_KEY  with paseto: the Ed25519 key in hex (32-byte seed or
//	                   64-byte private key); when unset a random key is made
package main

import (
	"crypto/rand"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
)

func main() {
	format, err := tokenFormat(os.Getenv, log.Printf)
	if err != nil {
		log.Fatal(err)
	}
	secret, keyFile := []byte(os.Getenv("GINFRESH_SECRET")), os.Getenv("GINFRESH_KEY_FILE")
	if len(secret) == 0 && keyFile == "" && format == nil {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
		log.Print("GINFRESH_SECRET is not set: signing with a random key; tokens stop working when the process exits")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8000"
	}
	if os.Getenv("GIN_MODE") == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	r, err := newServer(config{secret: secret, keyFile: keyFile, format: format, extra: storeOptions()})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Addr:              net.JoinHostPort(os.Getenv("HOST"), port),
		Handler:           r,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	log.Printf("listening on http://localhost:%s", port)
	log.Fatal(srv.ListenAndServe())
}
