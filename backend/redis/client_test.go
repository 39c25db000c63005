package redis_test

import (
	"testing"

	rcredis "github.com/restycache/restycache/backend/redis"
	"github.com/restycache/restycache/internal/clienttest"
)

// TestClient runs the client's end-to-end suite on the standalone server:
// a prefix per store name, and a second Backend on the same prefix for the
// same name.
func TestClient(t *testing.T) {
	url := serverEnv(t, "RESTYCACHE_REDIS_URL")
	clienttest.Run(t, opener(t, func(p string) *rcredis.Backend {
		return rcredis.New(url, rcredis.Options{Prefix: p})
	}))
}

// TestClientCluster runs the client's end-to-end suite on the cluster.
func TestClientCluster(t *testing.T) {
	c := clusterClient(t)
	clienttest.Run(t, opener(t, func(p string) *rcredis.Backend {
		return rcredis.NewFromClient(c, rcredis.Options{Prefix: p})
	}))
}
