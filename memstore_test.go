package ginfresh_test

import (
	"testing"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) ginfresh.Store { return ginfresh.NewMemoryStore() })
}
