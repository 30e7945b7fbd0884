// Package api is what the example's two front ends share: the demo
// accounts and the routes an app puts behind ginfresh.
package api

import (
	"errors"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"

	"github.com/ginfresh/ginfresh"
)

// Users holds the demo accounts: bcrypt hashes, never passwords, and for
// user1 a TOTP secret (RFC 6238), so that a sensitive route can demand a
// password and a one-time code.
type Users struct {
	mu     sync.RWMutex
	hashes map[string][]byte
	totp   map[string]string // base32 secrets
}

// DemoTOTPSecret is user1's TOTP secret, public on purpose: a demo. Any
// authenticator app takes it, as does `oathtool --totp -b`.
const DemoTOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// dummyHash is compared against when the user does not exist, so a wrong
// username costs the same time as a wrong password and timing does not tell
// who has an account.
var dummyHash = []byte("$2a$10$aZofo0QZlks4G7iuMwhNz.LutU9Q4SjlU6VpzIDrVov0njXcvkD9q")

// DemoUsers returns test/test, user1/password1 (with TOTP) and
// user2/password2.
func DemoUsers() *Users {
	return &Users{
		hashes: map[string][]byte{
			"test":  []byte("$2a$10$O.qNsERyuDQN9y2.NTziWOH7qN5lZjbxhpIoDBYZIK5bhF66yaxMa"), // test
			"user1": []byte("$2a$10$c.9Mxr7GdrDcB3VxbwlZIOTJ9QKmfcqt1aC7IqoAff4v30TngBVeW"), // password1
			"user2": []byte("$2a$10$7nVph5aG8tR8dBw9YNb9I.KLBUwemzY75HCBVq6jV9RfVe1vdcIPK"), // password2
		},
		totp: map[string]string{"user1": DemoTOTPSecret},
	}
}

// Authenticate is the demo's ginfresh.Authenticator: a password, plus for
// user1 an optional one-time code in the "otp" field, which lifts the
// login to acr "mfa".
func (u *Users) Authenticate(_ *gin.Context, req *ginfresh.LoginRequest) (ginfresh.Identity, error) {
	if !u.CheckPassword(req.Username, req.Password) {
		return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
	}
	id := ginfresh.Identity{Subject: req.Username, ACR: "pwd", AMR: []string{"pwd"}}
	var code string
	if ok, err := req.Field("otp", &code); err != nil {
		return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
	} else if ok {
		u.mu.RLock()
		secret, enrolled := u.totp[req.Username]
		u.mu.RUnlock()
		if !enrolled || !totp.Validate(code, secret) {
			return ginfresh.Identity{}, ginfresh.ErrInvalidCredentials
		}
		id.ACR, id.AMR = "mfa", []string{"pwd", "otp"}
	}
	return id, nil
}

// CheckPassword takes the same time whether or not the user exists.
func (u *Users) CheckPassword(username, password string) bool {
	u.mu.RLock()
	hash, ok := u.hashes[username]
	u.mu.RUnlock()
	if !ok {
		hash = dummyHash
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && ok
}

// ErrWeakPassword refuses a new password outside 8 to 72 bytes (bcrypt's
// limit).
var ErrWeakPassword = errors.New("new_password must be 8 to 72 bytes")

// SetPassword replaces a user's password.
func (u *Users) SetPassword(username, password string) error {
	if len(password) < 8 || len(password) > 72 {
		return ErrWeakPassword
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
