package restycache_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend/memory"
)

// ourGoroutines returns the stacks of the goroutines running restycache's
// own code (the test's goroutines excepted).
func ourGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		s := string(g)
		if strings.Contains(s, "github.com/restycache/restycache/") && !strings.Contains(s, "restycache_test.") {
			out = append(out, s)
		}
	}
	return out
}

// After Close, no goroutine of ours is left: background revalidations,
// shared fetches whose callers gave up and answers handed off while
// streaming are all stopped and waited for.
func TestNoGoroutineIsLeftAfterClose(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/large":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(bytes.Repeat([]byte("x"), 64<<10))
			return
		}
		w.Header().Set("Cache-Control", "max-age=1, stale-while-revalidate=3600")
		_, _ = w.Write([]byte("answer"))
	})
	defer close(release)
	clk := newClock()
	mem := memory.New()
	c := restycache.New(restycache.WithBackend(mem), restycache.WithCacheControl(true), restycache.WithClock(clk.Now),
		restycache.WithMaxBodySize(1<<10), restycache.WithCrossProcessCoalescing(time.Second), quiet)

	// A stale entry revalidated in the background.
	mustGet(t, c, o.URL+"/swr")
	clk.Advance(time.Minute)
	if r := mustGet(t, c, o.URL+"/swr"); !r.IsStale() {
		t.Fatalf("not served stale: %v", r.CacheStatus())
	}
	// A shared fetch its caller gave up on, still hanging at the origin.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	if _, err := c.R().SetContext(ctx).Get(o.URL + "/hang"); err == nil {
		t.Fatal("the request to a hanging origin did not time out")
	}
	cancel()
	// An answer too large to store, handed off while streaming, never read
	// to its end.
	r, err := c.R().SetDoNotParseResponse(true).Get(o.URL + "/large")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.CopyN(io.Discard, r.RawBody(), 10)
	r.RawBody().Close()

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := ourGoroutines()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of ours left after Close:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
