// Command example is a runnable API showing ginfresh's flow: login, refresh,
// fresh-login, logout, an ordinary protected route and fresh-only ones.
//
//	PORT             listen port (default 8000)
//	HOST             listen address (default: every interface)
//	GINFRESH_SECRET  HMAC key, at least 32 bytes, taken as raw bytes;
//	                 when unset a random key is made and tokens die with the process
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
	secret := []byte(os.Getenv("GINFRESH_SECRET"))
	if len(secret) == 0 {
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
	r, err := newServer(config{secret: secret})
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
