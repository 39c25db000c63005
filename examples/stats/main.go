// Command stats shows what a cache did, offline: it starts a local origin
// on 127.0.0.1, sends a burst of mixed requests through a client (repeated
// URLs, a coalesced burst, a bypass, a revalidation, a tampered entry with
// signing on), and prints Cache().Stats() as a small table.
//
//	go run ./examples/stats
package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend/memory"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(50 * time.Millisecond)
		}
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprintf(w, "answer for %s", r.URL.Path)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	// A clock the program moves, so that entries expire without waiting.
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	store := memory.New()
	c := restycache.New(
		restycache.WithBackend(store),
		restycache.WithSigningKeys(bytes.Repeat([]byte("k"), 32)),
		restycache.WithExpireAfter(time.Minute),
		restycache.WithClock(clock),
		restycache.WithLogger(slog.New(slog.DiscardHandler)),
	)
	defer c.Close()

	get := func(path string) (*restycache.Response, error) { return c.R().Get(base + path) }
	for i := range 40 { // 5 URLs, 8 times each: 5 misses, 35 hits
		if _, err := get(fmt.Sprintf("/items/%d", i%5)); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup // 20 requests at once for one cold URL: 1 miss, 19 coalesced
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = get("/slow") }()
	}
	wg.Wait()
	if _, err := c.R().SetCacheBypass(true).Get(base + "/items/0"); err != nil {
		return err
	}
	advance(2 * time.Minute) // /items/0 expired: revalidated with a 304
	if _, err := get("/items/0"); err != nil {
		return err
	}
	// Someone rewrites a stored entry behind the cache's back: the
	// signature catches it, and the origin answers instead.
	r, err := get("/items/0")
	if err != nil {
		return err
	}
	raw, err := store.Get(context.Background(), r.CacheKey())
	if err != nil {
		return err
	}
	raw = bytes.Clone(raw)
	raw[len(raw)/2] ^= 1
	if err := store.Set(context.Background(), r.CacheKey(), raw, time.Time{}); err != nil {
		return err
	}
	if _, err := get("/items/0"); err != nil {
		return err
	}

	st := c.Cache().Stats()
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, row := range []struct {
		name string
		n    uint64
	}{
		{"hits", st.Hits},
		{"misses", st.Misses},
		{"coalesced waiters", st.Coalesced},
		{"stale served", st.StaleServed},
		{"revalidated (304)", st.RevalidatedNotModified},
		{"revalidated (replaced)", st.RevalidatedReplaced},
		{"bypassed", st.Bypassed},
		{"rejected (not authentic)", st.Failed[restycache.OpVerify]},
		{"errors (rejections included)", st.Errors},
		{"entries written", st.EntriesWritten},
		{"bytes written", st.BytesWritten},
	} {
		fmt.Fprintf(w, "%s\t%d\t\n", row.name, row.n)
	}
	fmt.Fprintf(w, "hit ratio\t%.2f\t\n", st.HitRatio())
	return w.Flush()
}
