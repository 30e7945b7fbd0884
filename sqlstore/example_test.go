package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/sqlstore"
)

// An app opens the store from its DATABASE_URL, creates the tables, and
// hands the store to ginfresh. Sessions and revocations then outlive the
// process and are shared by every instance on the same database.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	url := "sqlite:" + filepath.Join(dir, "sessions.db") // or postgres://…

	ctx := context.Background()
	store, err := sqlstore.Open(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	auth, err := ginfresh.New(
		ginfresh.WithHMACKey([]byte("example-key-example-key-example-key!")),
		ginfresh.WithStore(store),
		ginfresh.WithAccessRevocation(),
	)
	if err != nil {
		log.Fatal(err)
	}

	tokens, err := auth.StartSession(ctx, ginfresh.Identity{Subject: "alice"})
	if err != nil {
		log.Fatal(err)
	}
	sessions, _ := auth.Sessions(ctx, "alice")
	fmt.Println("sessions:", len(sessions))
	_ = auth.RevokeSubject(ctx, "alice")
	_, err = auth.Verify(ctx, ginfresh.Access, tokens.AccessToken)
	fmt.Println("after RevokeSubject:", err)
	// Output:
	// sessions: 1
	// after RevokeSubject: ginfresh: token revoked
}
