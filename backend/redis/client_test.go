package redis_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/restycache/restycache"

	rcredis "github.com/restycache/restycache/backend/redis"
	"github.com/restycache/restycache/internal/clienttest"
	"github.com/restycache/restycache/internal/testenv"
)

// TestClient runs the client's end-to-end suite on the standalone server:
// a prefix per store name, and a second Backend on the same prefix for the
// same name.
func TestClient(t *testing.T) {
	url := testenv.Require(t, "RESTYCACHE_REDIS_URL")
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

// TestOneRoundTripPerHit counts, on a private server, the commands that
// cache hits through the full client send: one GET each, nothing else.
func TestOneRoundTripPerHit(t *testing.T) {
	bin := redisServerBinary(t)
	port := testenv.FreePort(t)
	startRedis(t, bin, port)
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Etag", `"v1"`)
		_, _ = w.Write(benchBody)
	}))
	defer o.Close()
	c := restycache.New(restycache.WithBackend(rcredis.New(url)))
	defer c.Close()
	if resp, err := c.R().Get(o.URL + "/items"); err != nil || resp.FromCache() {
		t.Fatalf("first request = %v, FromCache %v; want a miss", err, resp.FromCache())
	}
	raw := rawClient(t, url)
	// Wait for the miss's writes to land, then start counting.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.R().Get(o.URL + "/items")
		if err == nil && resp.FromCache() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no hit 10s after the miss: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := raw.ConfigResetStat(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	const hits = 50
	for range hits {
		resp, err := c.R().Get(o.URL + "/items")
		if err != nil || !resp.FromCache() || len(resp.Body()) != len(benchBody) {
			t.Fatalf("not a hit: %v", err)
		}
	}
	stats, err := raw.Info(t.Context(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	for _, line := range strings.Split(stats, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
		calls[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	delete(calls, "info") // this test's own
	delete(calls, "config|resetstat")
	if calls["get"] != hits || len(calls) != 1 {
		t.Errorf("%d hits sent %v; want exactly %d GETs", hits, calls, hits)
	}
}

// benchBody is a 2 KiB body.
var benchBody = bytes.Repeat([]byte("0123456789abcdef"), 128)
