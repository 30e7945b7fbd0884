package redisstore_test

import (
	"testing"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/storetest"
)

func TestConformance(t *testing.T) {
	redisAddr(t) // skip or fail once, not in every subtest
	storetest.Run(t, func(t *testing.T) ginfresh.Store {
		s, _, _ := newStore(t)
		return s
	})
}
