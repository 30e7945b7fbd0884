package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Open connects to the database at url and returns a store that owns it:
// Close closes both. It accepts
//
//	postgres://user:password@host:5432/db?sslmode=verify-full   (or postgresql://)
//	sqlite:path/to/file.db         a file relative to the working directory
//	sqlite:/abs/path/file.db       (or sqlite:///abs/path/file.db)
//
// A PostgreSQL URL takes every parameter pgx knows (search_path puts the
// tables in a schema of their own, say); the pool holds up to 16
// connections (see [Store.DB]). A SQLite URL may carry modernc.org/sqlite
// parameters after a "?"; by default the file is opened in WAL mode with a
// 10s busy timeout, synchronous=NORMAL and BEGIN IMMEDIATE, and created if
// missing. Open checks that the database answers; call [Store.Migrate]
// before the first use.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	d, db, err := openURL(url)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlstore: %v: %w", d, err)
	}
	s, err := New(ctx, db, d, opts...)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// openURL opens (without connecting) the database url names. Errors name
// the scheme, never the URL, which may hold a password.
func openURL(url string) (Dialect, *sql.DB, error) {
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err := openPostgres(url)
		if err != nil {
			return 0, nil, errors.New("sqlstore: not a valid postgres:// URL")
		}
		return Postgres, db, nil
	case strings.HasPrefix(url, "sqlite:"):
		path, query, _ := strings.Cut(strings.TrimPrefix(url, "sqlite:"), "?")
		if rest, ok := strings.CutPrefix(path, "//"); ok {
			// sqlite:///abs/path: an empty host, then the absolute path.
			if !strings.HasPrefix(rest, "/") {
				return 0, nil, errors.New("sqlstore: sqlite://host/… names a host; use sqlite:relative/path or sqlite:///absolute/path")
			}
			path = rest
		}
		if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
			return 0, nil, errors.New("sqlstore: a sqlite: URL needs the path of a database file (for memory, use ginfresh's memory store)")
		}
		dsn, err := sqliteDSN(path, query)
		if err != nil {
			return 0, nil, fmt.Errorf("sqlstore: sqlite URL: %w", err)
		}
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return 0, nil, fmt.Errorf("sqlstore: sqlite: %w", err)
		}
		return SQLite, db, nil
	}
	return 0, nil, errors.New("sqlstore: the URL's scheme must be postgres, postgresql or sqlite")
}
