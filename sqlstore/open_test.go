package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh/sqlstore"
)

// Open takes the URL forms an app puts in DATABASE_URL.
func TestOpenSQLiteURLs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tt := range []struct{ url, file string }{
		{"sqlite:relative.db", filepath.Join(dir, "relative.db")},
		{"sqlite:" + filepath.Join(dir, "absolute.db"), filepath.Join(dir, "absolute.db")},
		{"sqlite://" + filepath.Join(dir, "triple.db"), filepath.Join(dir, "triple.db")},
		{"sqlite:" + filepath.Join(dir, "params.db") + "?_pragma=cache_size(-4000)", filepath.Join(dir, "params.db")},
	} {
		t.Run(tt.url, func(t *testing.T) {
			s := open(t, tt.url)
			if s.Dialect() != sqlstore.SQLite {
				t.Errorf("dialect %v", s.Dialect())
			}
			if _, err := os.Stat(tt.file); err != nil {
				t.Errorf("the database file: %v", err)
			}
			var mode string
			var busy int
			if err := s.DB().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
				t.Errorf("journal_mode %q, %v; want wal", mode, err)
			}
			if err := s.DB().QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil || busy != 10000 {
				t.Errorf("busy_timeout %d, %v; want 10000", busy, err)
			}
		})
	}
}

func TestOpenPostgresURL(t *testing.T) {
	u := database(t, "postgres")
	s := open(t, u)
	if s.Dialect() != sqlstore.Postgres {
		t.Errorf("dialect %v", s.Dialect())
	}
	s2 := open(t, "postgresql"+strings.TrimPrefix(u, "postgres"))
	if s2.Dialect() != sqlstore.Postgres {
		t.Errorf("dialect %v", s2.Dialect())
	}
}

// Parameters in a sqlite: URL win over Open's defaults.
func TestOpenSQLiteParametersWin(t *testing.T) {
	s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "full.db")+"?_synchronous=FULL&_busy_timeout=2500")
	var sync, busy int
	if err := s.DB().QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous %d, %v; want 2 (FULL)", sync, err)
	}
	if err := s.DB().QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil || busy != 2500 {
		t.Errorf("busy_timeout %d, %v; want 2500", busy, err)
	}
}

// Bad URLs fail at Open, and no error shows a password.
func TestOpenRefuses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, u := range []string{
		"",
		"mysql://user:hunter2@localhost/db",
		"sqlite:",
		"sqlite::memory:",
		"sqlite://host/file.db",
		"sqlite:" + filepath.Join(t.TempDir(), "a#b.db"),
		"postgres://user:hunter2@127.0.0.1:1/db?connect_timeout=1",
		"postgres://user:hunter2@[::1/db",
	} {
		s, err := sqlstore.Open(ctx, u)
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q): the error shows the password: %v", u, err)
		}
	}
}

// Close stops the store's own work and closes a database Open opened, but
// not one handed to New.
func TestCloseOwnsOnlyWhatOpenOpened(t *testing.T) {
	u := database(t, "sqlite")
	s := open(t, u)
	shared := s.DB()
	s2, err := sqlstore.New(ctx, shared, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := shared.Ping(); err != nil {
		t.Errorf("closing a store from New closed the database: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := shared.Ping(); err == nil {
		t.Error("closing a store from Open left its database open")
	}
	if err := s.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

func TestNewRefuses(t *testing.T) {
	if _, err := sqlstore.New(ctx, nil, sqlstore.SQLite); err == nil {
		t.Error("New with a nil db succeeded")
	}
	db := sqlDB(t, database(t, "sqlite"))
	if _, err := sqlstore.New(ctx, db, sqlstore.Dialect(9)); err == nil {
		t.Error("New with an unknown dialect succeeded")
	}
	_, err := sqlstore.New(ctx, db, sqlstore.SQLite, sqlstore.WithSweepBatch(0), sqlstore.WithSweepInterval(-1), sqlstore.WithLogger(nil))
	if err == nil || !strings.Contains(err.Error(), "WithSweepBatch") || !strings.Contains(err.Error(), "WithSweepInterval") || !strings.Contains(err.Error(), "WithLogger") {
		t.Errorf("New with three bad options: %v", err)
	}
}
