package dynamodb

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/internal/clienttest"
	"github.com/restycache/restycache/internal/testenv"
)

// TestClient runs the client's end-to-end suite over DynamoDB: one table
// per store name, and a second Backend on the same table for the same
// name. Its LargeBody subtest is skipped: 1 MiB of random bytes cannot fit
// in an item; TestClientOversizedBody checks what the client does instead.
func TestClient(t *testing.T) {
	e := testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT")
	c := testClient(e)
	var mu sync.Mutex
	tables := map[string]string{}
	clienttest.Run(t, func(t *testing.T, name string) backend.Storage {
		if name == "largebody" {
			t.Skip("a 1 MiB incompressible body exceeds DynamoDB's item limit: see TestClientOversizedBody")
		}
		mu.Lock()
		defer mu.Unlock()
		table, ok := tables[name]
		if !ok {
			table = testTable(t, c, "client-"+name)
			tables[name] = table
		}
		return NewFromClient(c, table, testOptions(""))
	})
}

// TestClientOversizedBody: a response too large for an item is served
// intact and simply not cached; a large one that compresses is cached.
func TestClientOversizedBody(t *testing.T) {
	e := testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT")
	dc := testClient(e)
	random := make([]byte, 1<<20)
	_, _ = rand.Read(random)
	compressible := bytes.Repeat([]byte("a cacheable line of text\n"), 40<<10) // 1 MiB
	var hits atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.URL.Path == "/random" {
			_, _ = w.Write(random)
			return
		}
		_, _ = w.Write(compressible)
	}))
	defer origin.Close()
	c := restycache.New(restycache.WithBackend(NewFromClient(dc, testTable(t, dc, "oversized"), testOptions(""))))
	defer c.Close()

	for i := range 2 {
		r, err := c.R().Get(origin.URL + "/random")
		if err != nil || r.StatusCode() != http.StatusOK || !bytes.Equal(r.Body(), random) {
			t.Fatalf("GET %d of the oversized body: %v, status %d, %d bytes", i, err, r.StatusCode(), len(r.Body()))
		}
		if r.FromCache() {
			t.Errorf("GET %d of the oversized body came from the cache", i)
		}
		// Its write fails after the answer is out; a request during that
		// write would share the answer, as concurrent ones do.
		if err := c.Cache().Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("origin hit %d times for two GETs of an uncacheable body, want 2", n)
	}

	hits.Store(0)
	url := origin.URL + "/compressible"
	for i := range 2 {
		if i == 1 {
			// The client may store the response in the background.
			deadline := time.Now().Add(clienttest.StoreWait)
			for {
				ok, err := c.Cache().ContainsURL(t.Context(), http.MethodGet, url)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the compressible response was not stored within %v", clienttest.StoreWait)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		r, err := c.R().Get(url)
		if err != nil || r.StatusCode() != http.StatusOK || !bytes.Equal(r.Body(), compressible) {
			t.Fatalf("GET %d of the compressible body: %v, status %d, %d bytes", i, err, r.StatusCode(), len(r.Body()))
		}
		if i == 1 && !r.FromCache() {
			t.Errorf("second GET of a 1 MiB compressible body: %v, want a hit", r.CacheStatus())
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("origin hit %d times for the compressible body, want 1", n)
	}
}
