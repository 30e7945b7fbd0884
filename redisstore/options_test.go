package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh/redisstore"
)

func TestNew(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = c.Close() })
	tests := []struct {
		name    string
		client  redis.UniversalClient
		opts    []redisstore.Option
		wantErr string
	}{
		{"defaults", c, nil, ""},
		{"prefix", c, []redisstore.Option{redisstore.WithPrefix("{api}:")}, ""},
		{"nil client", nil, nil, "nil client"},
		{"empty prefix", c, []redisstore.Option{redisstore.WithPrefix("")}, "WithPrefix: empty prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := redisstore.New(tt.client, tt.opts...)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.NotNil(t, s)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Nil(t, s)
		})
	}
}
