package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The schema's versions, one file each per dialect: NNN_name.sql, applied
// in order of NNN. A released file never changes; a change to the schema
// is a new file.
//
//go:embed migrations
var migrations embed.FS

// migration is one version of the schema.
type migration struct {
	version int
	name    string
	sql     string
}

// SchemaVersion is the schema version this package creates and uses.
const SchemaVersion = 1

// Migrate creates or upgrades the store's tables to [SchemaVersion], in one
// transaction, and records each version applied in the ginfresh_schema
// table. Running it again, or from several instances at once, is safe: the
// versions already there are skipped, and one instance migrates while the
// others wait (a PostgreSQL advisory lock, or SQLite's write lock). It
// refuses a database whose schema is newer than this package knows, rather
// than run an older build against it.
func (s *Store) Migrate(ctx context.Context) error {
	all, err := loadMigrations(s.dialect)
	if err != nil {
		return wrap("migrate", err)
	}
	if err := s.acquire(ctx); err != nil {
		return wrap("migrate", err)
	}
	defer s.release()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return wrap("migrate", err)
	}
	defer conn.Close()
	// SQLite: IMMEDIATE takes the write lock at once, before the version is
	// read, so two processes cannot both decide to apply a version.
	begin := "BEGIN"
	if s.dialect == SQLite {
		begin = "BEGIN IMMEDIATE"
	}
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		return wrap("migrate", err)
	}
	if err := s.migrate(ctx, conn, all); err != nil {
		// A rollback that fails leaves the connection in a transaction:
		// drop it from the pool.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_, rerr := conn.ExecContext(rctx, "ROLLBACK")
		cancel()
		if rerr != nil {
			_ = conn.Raw(func(any) error { return errBadConn })
		}
		return wrap("migrate", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		_ = conn.Raw(func(any) error { return errBadConn })
		return wrap("migrate", err)
	}
	return nil
}

// errBadConn makes database/sql drop a connection instead of reusing it.
var errBadConn = driver.ErrBadConn

func (s *Store) migrate(ctx context.Context, conn *sql.Conn, all []migration) error {
	if s.q.lock != "" {
		if _, err := conn.ExecContext(ctx, s.q.lock); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, s.q.schemaTable); err != nil {
		return err
	}
	var current int
	if err := conn.QueryRowContext(ctx, s.q.schemaVersion).Scan(&current); err != nil {
		return err
	}
	if latest := all[len(all)-1].version; current > latest {
		return fmt.Errorf("the database's schema is at version %d, newer than this build's %d: upgrade ginfresh", current, latest)
	}
	for _, m := range all {
		if m.version <= current {
			continue
		}
		if _, err := conn.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		if _, err := conn.ExecContext(ctx, s.q.recordVersion, m.version); err != nil {
			return err
		}
	}
	return nil
}

// loadMigrations reads the dialect's migrations, in order, and checks that
// their versions run 1, 2, … up to SchemaVersion.
func loadMigrations(d Dialect) ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	var all []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s: not NNN_name.sql", e.Name())
		}
		b, err := migrations.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		all = append(all, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(all, func(a, b migration) int { return a.version - b.version })
	for i, m := range all {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d", m.name, i+1)
		}
	}
	if len(all) != SchemaVersion {
		return nil, fmt.Errorf("%d migrations, want %d", len(all), SchemaVersion)
	}
	return all, nil
}
