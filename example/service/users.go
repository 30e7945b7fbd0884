package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
	_ "modernc.org/sqlite" // the "sqlite" driver, pure Go

	"github.com/ginfresh/ginfresh"
)

// userDB is the service's own user table; nothing in it is ginfresh's.
type userDB struct{ db *sql.DB }

type user struct {
	ID, Email, Tenant string
	Roles             []string
	hash              []byte
	disabled          bool
}

func (u user) identity() ginfresh.Identity {
	return ginfresh.Identity{Subject: u.ID, Custom: map[string]any{"roles": u.Roles, "tenant": u.Tenant}}
}

func openUsers(path string) (*userDB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, err
	}
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS users (
		id TEXT PRIMARY KEY, email TEXT UNIQUE NOT NULL, hash BLOB NOT NULL,
		roles TEXT NOT NULL DEFAULT '', tenant TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0)`)
	return &userDB{db}, err
}

// add creates a user (for tests and set-up scripts).
func (d *userDB) add(ctx context.Context, id, email, password, tenant string, roles ...string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost+2)
	if err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO users (id, email, hash, roles, tenant) VALUES (?, ?, ?, ?, ?)`,
		id, email, hash, strings.Join(roles, " "), tenant)
	return err
}

func (d *userDB) find(ctx context.Context, where string, arg any) (user, error) {
	var u user
	var roles string
	err := d.db.QueryRowContext(ctx, `SELECT id, email, hash, roles, tenant, disabled FROM users WHERE `+where, arg).
		Scan(&u.ID, &u.Email, &u.hash, &roles, &u.Tenant, &u.disabled)
	u.Roles = strings.Fields(roles)
	return u, err
}

// dummy is compared when nobody has the e-mail, so timing tells nothing.
var dummy, _ = bcrypt.GenerateFromPassword([]byte("dummy"), bcrypt.MinCost+2)

// check is the authenticator: wrong credentials and disabled users are
// ErrInvalidCredentials; anything else is the database's failure (503).
func (d *userDB) check(ctx context.Context, email, password string) (user, error) {
	u, err := d.find(ctx, "email = ?", strings.ToLower(email))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_ = bcrypt.CompareHashAndPassword(dummy, []byte(password))
		return user{}, ginfresh.ErrInvalidCredentials
	case err != nil:
		return user{}, err
	case bcrypt.CompareHashAndPassword(u.hash, []byte(password)) != nil || u.disabled:
		return user{}, ginfresh.ErrInvalidCredentials
	}
	return u, nil
}

// byID is the refresh hook's look-up: a disabled or deleted user's session
// ends (ErrTokenRevoked).
func (d *userDB) byID(ctx context.Context, id string) (user, error) {
	u, err := d.find(ctx, "id = ?", id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && u.disabled) {
		return user{}, fmt.Errorf("user %s: %w", id, ginfresh.ErrTokenRevoked)
	}
	return u, err
}

func (d *userDB) inTenant(ctx context.Context, tenant string) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT email FROM users WHERE tenant = ? ORDER BY email`, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (d *userDB) setPassword(ctx context.Context, id, current, next string) error {
	u, err := d.find(ctx, "id = ?", id)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword(u.hash, []byte(current)) != nil {
		return ginfresh.ErrInvalidCredentials
	}
	if len(next) < 8 || len(next) > 72 {
		return fmt.Errorf("%w: the new password must be 8 to 72 bytes", ginfresh.ErrInvalidRequest)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(next), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, `UPDATE users SET hash = ? WHERE id = ?`, hash, id)
	return err
}

func (d *userDB) disable(ctx context.Context, id string) error {
	_, err := d.db.ExecContext(ctx, `UPDATE users SET disabled = 1 WHERE id = ?`, id)
	return err
}
