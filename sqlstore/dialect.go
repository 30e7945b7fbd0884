package sqlstore

import "fmt"

// Dialect names the database system behind a *sql.DB.
type Dialect uint8

const (
	// Postgres is PostgreSQL 13 or later, through a driver that takes $1
	// placeholders and []byte as bytea, such as github.com/jackc/pgx/v5/stdlib.
	Postgres Dialect = iota + 1
	// SQLite is SQLite 3.35 or later, through modernc.org/sqlite.
	SQLite
)

func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	}
	return fmt.Sprintf("Dialect(%d)", uint8(d))
}

// statements are a dialect's SQL. Each store call is one of them, except
// where noted; their parameters are listed beside each in postgres.go.
type statements struct {
	clock string // PostgreSQL: the server's clock, µs since the epoch

	createSession string // PostgreSQL: the whole of CreateSession
	subject       string // SQLite, with insertSession in one transaction
	insertSession string

	rotate        string
	revokeSession string
	cut           string // with revokeAll in one transaction
	revokeAll     string
	revoked       string
	sessions      string

	incr  string
	reset string

	sweep [3]string // sessions, subjects, counters

	lock          string // serialises Migrate, in its transaction
	schemaTable   string
	schemaVersion string
	recordVersion string
}
