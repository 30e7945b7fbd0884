package ginfresh_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) ginfresh.Store { return ginfresh.NewMemoryStore() })
}

// TestMemoryStoreSweepsExpired checks that memory is bounded by what is
// still live: expired families, marks and counters go on a later write.
func TestMemoryStoreSweepsExpired(t *testing.T) {
	ctx := context.Background()
	s := ginfresh.NewMemoryStore()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		id := fmt.Sprint(i)
		require.NoError(t, s.CreateFamily(ctx, "f"+id, "alice", "t"+id, t0, t0.Add(time.Hour), t0.Add(2*time.Hour)))
		require.NoError(t, s.RevokeToken(ctx, "j"+id, t0, t0.Add(time.Hour)))
		_, _, err := s.Incr(ctx, "k"+id, t0, time.Minute)
		require.NoError(t, err)
	}
	require.NoError(t, s.RevokeSubject(ctx, "alice", t0, t0.Add(time.Hour)))
	require.Equal(t, 301, s.Len())

	// One write after everything has lapsed leaves only what it wrote.
	later := t0.Add(3 * time.Hour)
	require.NoError(t, s.RevokeToken(ctx, "j-late", later, later.Add(time.Hour)))
	assert.Equal(t, 1, s.Len(), "expired records are swept")
}
