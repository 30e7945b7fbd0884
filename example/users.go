package main

import (
	"errors"
	"sync"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/ginfresh/ginfresh"
)

// users holds the demo accounts as bcrypt hashes, never as passwords.
type users struct {
	mu     sync.RWMutex
	hashes map[string][]byte
}

// dummyHash is compared against when the user does not exist, so a wrong
// username costs the same time as a wrong password and timing does not tell
// who has an account.
var dummyHash = []byte("$2a$10$aZofo0QZlks4G7iuMwhNz.LutU9Q4SjlU6VpzIDrVov0njXcvkD9q")

func demoUsers() *users {
	return &users{hashes: map[string][]byte{
		"test":  []byte("$2a$10$O.qNsERyuDQN9y2.NTziWOH7qN5lZjbxhpIoDBYZIK5bhF66yaxMa"), // test
		"user1": []byte("$2a$10$c.9Mxr7GdrDcB3VxbwlZIOTJ9QKmfcqt1aC7IqoAff4v30TngBVeW"), // password1
		"user2": []byte("$2a$10$7nVph5aG8tR8dBw9YNb9I.KLBUwemzY75HCBVq6jV9RfVe1vdcIPK"), // password2
	}}
}

// authenticate is the ginfresh.Authenticator of the demo.
func (u *users) authenticate(_ *gin.Context, username, password string) (ginfresh.Identity, error) {
	u.mu.RLock()
	hash, ok := u.hashes[username]
	u.mu.RUnlock()
	if !ok {
		hash = dummyHash
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if !ok || err != nil {
		return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
	}
	return ginfresh.Identity{Subject: username}, nil
}

var errWeakPassword = errors.New("new_password must be 8 to 72 bytes")

func (u *users) setPassword(username, password string) error {
	if len(password) < 8 || len(password) > 72 {
		return errWeakPassword
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.hashes[username] = hash
	return nil
}
