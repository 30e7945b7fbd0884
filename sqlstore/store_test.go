package sqlstore_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"sync"
	"testing"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/formattest"
	"github.com/ginfresh/ginfresh/internal/testkit"
	"github.com/ginfresh/ginfresh/sqlstore"
	"github.com/ginfresh/ginfresh/storetest"
)

func TestConformance(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) ginfresh.Store { return newStore(t, d) })
		})
	}
}

// The token formats' suite with sessions in the database: the whole flow,
// session endings and concurrent refreshes included.
func TestFormatConformance(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			formattest.Run(t, func(t *testing.T) formattest.Setup {
				key := make([]byte, 32)
				_, _ = rand.Read(key)
				return formattest.Setup{Issuer: []ginfresh.Option{ginfresh.WithHMACKey(key), ginfresh.WithStore(newStore(t, d))}}
			})
		})
	}
}

var secret = []byte("sqlstore-test-secret-0123456789-abcdef")

// pair is two instances of one API on one database: the same key, each
// with a store and a connection pool of its own, as two processes behind a
// load balancer would be.
func pair(t *testing.T, dialect string) (a, b *testkit.Server) {
	t.Helper()
	u := database(t, dialect)
	clk := testkit.NewClock()
	mk := func() *testkit.Server {
		return testkit.NewServer(t, clk, false,
			ginfresh.WithHMACKey(secret), ginfresh.WithStore(open(t, u)), ginfresh.WithAccessRevocation())
	}
	return mk(), mk()
}

// Each way a session ends on one instance refuses its access tokens on the
// other at the next request, and no other session's.
func TestTwoInstancesSessionEndings(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			testkit.SessionEndings(t, 0, func(t *testing.T) (a, b *testkit.Server) { return pair(t, d) })
		})
	}
}

// Of many concurrent refreshes of one token over two instances, exactly
// one wins; the losers are replays, which end the session on both.
func TestTwoInstancesConcurrentRefresh(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			a, b := pair(t, d)
			tok := a.Login(t, "alice")
			other := b.Login(t, "alice")
			const n = 40
			codes := make(chan int, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					srv := a
					if i%2 == 1 {
						srv = b
					}
					<-start
					codes <- srv.Refresh(tok.RefreshToken).Code
				})
			}
			close(start)
			wg.Wait()
			close(codes)
			won, refused := 0, 0
			for code := range codes {
				switch code {
				case http.StatusOK:
					won++
				case http.StatusUnauthorized:
					refused++
				default:
					t.Errorf("a refresh answered %d", code)
				}
			}
			if won != 1 || refused != n-1 {
				t.Fatalf("%d refreshes won and %d were refused, want 1 and %d", won, refused, n-1)
			}
			for _, srv := range []*testkit.Server{a, b} {
				testkit.Refused(t, srv.Get(testkit.Protected, tok.AccessToken), http.StatusUnauthorized, "invalid_token")
				testkit.Status(t, srv.Get(testkit.Protected, other.AccessToken), http.StatusOK)
			}
			// A replay on one instance ends a session the other refreshed.
			third := a.Login(t, "bob")
			testkit.Status(t, b.Refresh(third.RefreshToken), http.StatusOK)
			testkit.Refused(t, a.Refresh(third.RefreshToken), http.StatusUnauthorized, "invalid_token")
			testkit.Refused(t, b.Get(testkit.Protected, third.AccessToken), http.StatusUnauthorized, "invalid_token")
		})
	}
}

// An API restarted on the same SQLite file keeps every session and every
// revocation: nothing lives only in the process.
func TestSQLiteRestartKeepsSessionsAndRevocations(t *testing.T) {
	u := database(t, "sqlite")
	clk := testkit.NewClock()
	ctx := context.Background()
	start := func() (*testkit.Server, *sqlstore.Store) {
		s, err := sqlstore.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return testkit.NewServer(t, clk, false, ginfresh.WithHMACKey(secret), ginfresh.WithStore(s), ginfresh.WithAccessRevocation()), s
	}
	a, store := start()
	live, gone := a.Login(t, "alice"), a.Login(t, "alice")
	clk.Advance(1)
	sid := a.Claims(t, ginfresh.Access, gone.AccessToken).SessionID
	if err := a.Auth.RevokeSession(ctx, "alice", sid); err != nil {
		t.Fatal(err)
	}
	db := store.DB()
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(ctx); err == nil {
		t.Fatal("Close left the database open")
	}

	b, _ := start()
	testkit.Refused(t, b.Get(testkit.Protected, gone.AccessToken), http.StatusUnauthorized, "invalid_token")
	testkit.Refused(t, b.Refresh(gone.RefreshToken), http.StatusUnauthorized, "invalid_token")
	testkit.Status(t, b.Get(testkit.Protected, live.AccessToken), http.StatusOK)
	testkit.Status(t, b.Refresh(live.RefreshToken), http.StatusOK)
	if list, err := b.Auth.Sessions(ctx, "alice"); err != nil || len(list) != 1 {
		t.Errorf("alice's sessions after the restart: %v, %v; want the live one", list, err)
	}
}
