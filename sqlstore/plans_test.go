package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/sqlstore"
)

// Every statement finds its rows through an index, never by reading a
// whole table, so each costs the same with a million sessions as with a
// few. The tables hold a few thousand rows, analysed, so the planners see
// realistic statistics. PostgreSQL is told to avoid sequential scans, so
// a plan that still has one found no index to use, and every index scan
// must have a condition (a scan of a whole index reads the whole table
// too); SQLite's plan says SCAN for a full scan and SEARCH for a lookup.
func TestEveryStatementUsesAnIndex(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			u := database(t, d)
			s := open(t, u, sqlstore.WithSweepInterval(0))
			ctx := context.Background()
			now := time.Now()
			for i := range 2000 {
				in := ginfresh.Session{ID: fmt.Sprint("s", i), Subject: fmt.Sprint("u", i/2), Started: now,
					IdleUntil: now.Add(time.Duration(i) * time.Minute), Expires: now.Add(24 * time.Hour)}
				if err := s.CreateSession(ctx, in, "t"); err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.Incr(ctx, fmt.Sprint("k", i), now, time.Duration(i+1)*time.Second); err != nil {
					t.Fatal(err)
				}
			}
			db := sqlDB(t, u)
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
			dialect, explain := sqlstore.SQLite, "EXPLAIN QUERY PLAN "
			if d == "postgres" {
				dialect, explain = sqlstore.Postgres, "EXPLAIN "
				if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
					t.Fatal(err)
				}
			}
			for _, st := range sqlstore.Statements(dialect) {
				rows, err := conn.QueryContext(ctx, explain+st.SQL, st.Args...)
				if err != nil {
					t.Fatalf("%s: %v", st.Name, err)
				}
				var plan []string
				cols, _ := rows.Columns()
				for rows.Next() {
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					if err := rows.Scan(ptrs...); err != nil {
						t.Fatal(err)
					}
					plan = append(plan, text(vals[len(vals)-1]))
				}
				if err := rows.Close(); err != nil {
					t.Fatal(err)
				}
				if bad := fullScan(plan); bad != "" {
					t.Errorf("%s reads a whole table (%s):\n%s", st.Name, strings.TrimSpace(bad), strings.Join(plan, "\n"))
				}
			}
		})
	}
}

// fullScan returns the first line of plan that reads a whole table: a
// sequential scan, or an index scan without an index condition.
func fullScan(plan []string) string {
	for i, line := range plan {
		switch {
		case strings.Contains(line, "Seq Scan on ginfresh_"), strings.Contains(line, "SCAN ginfresh_"):
			return line
		case strings.Contains(line, "Index Scan using") || strings.Contains(line, "Index Only Scan using"):
			cond := false
			for _, next := range plan[i+1:] {
				if strings.Contains(next, "->") {
					break
				}
				cond = cond || strings.Contains(next, "Index Cond:")
			}
			if !cond {
				return line
			}
		}
	}
	return ""
}

func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}
