package sqlstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/sqlstore"
)

// Migrate records each version it applies, skips those already there,
// may run from several instances at once, and refuses a schema newer than
// it knows.
func TestMigrate(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			u := database(t, d)
			ctx := context.Background()
			stores := make([]*sqlstore.Store, 4)
			for i := range stores {
				s, err := sqlstore.Open(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				stores[i] = s
			}
			// Instances starting together all migrate; one does the work.
			var wg sync.WaitGroup
			for _, s := range stores {
				wg.Go(func() {
					if err := s.Migrate(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			db := sqlDB(t, u)
			versions := func() []int {
				t.Helper()
				rows, err := db.Query("SELECT version FROM ginfresh_schema ORDER BY version")
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var vs []int
				for rows.Next() {
					var v int
					if err := rows.Scan(&v); err != nil {
						t.Fatal(err)
					}
					vs = append(vs, v)
				}
				return vs
			}
			if got := versions(); len(got) != sqlstore.SchemaVersion || got[len(got)-1] != sqlstore.SchemaVersion {
				t.Fatalf("recorded versions %v, want 1…%d once each", got, sqlstore.SchemaVersion)
			}

			// Again, with data in the tables: nothing changes, nothing is lost.
			now := time.Now()
			in := ginfresh.Session{ID: "s1", Subject: "alice", Started: now, IdleUntil: now.Add(time.Hour), Expires: now.Add(24 * time.Hour)}
			if err := stores[0].CreateSession(ctx, in, "t1"); err != nil {
				t.Fatal(err)
			}
			if err := stores[1].Migrate(ctx); err != nil {
				t.Fatalf("a second Migrate: %v", err)
			}
			if got := versions(); len(got) != sqlstore.SchemaVersion {
				t.Errorf("after a second Migrate: versions %v", got)
			}
			if res, err := stores[2].Rotate(ctx, ginfresh.Rotation{Session: "s1", Presented: "t1", Next: "t2", Now: now, IdleUntil: now.Add(time.Hour)}); err != nil || res != ginfresh.Rotated {
				t.Errorf("the session after a second Migrate: %v, %v", res, err)
			}

			// A schema from a newer build: an older one must not run on it.
			if _, err := db.Exec("INSERT INTO ginfresh_schema (version) VALUES (999)"); err != nil {
				t.Fatal(err)
			}
			err := stores[3].Migrate(ctx)
			if err == nil || !strings.Contains(err.Error(), "newer") {
				t.Errorf("Migrate on a newer schema: %v", err)
			}
		})
	}
}

// A store used before Migrate fails, and says so; it does not create
// tables behind the app's back.
func TestUnmigratedStoreFails(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			s, err := sqlstore.Open(context.Background(), database(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Revoked(context.Background(), "s1", time.Now()); err == nil {
				t.Error("Revoked on an empty database succeeded")
			}
		})
	}
}
