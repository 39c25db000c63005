package restycache_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// origin is a local test server that counts the requests it answers.
type origin struct {
	*httptest.Server
	hits atomic.Int64

	mu      sync.Mutex
	byPath  map[string]int
	lastReq *http.Request
}

// newOrigin starts a server answering with h (after counting the request).
func newOrigin(t testing.TB, h http.HandlerFunc) *origin {
	t.Helper()
	o := &origin{byPath: map[string]int{}}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		o.byPath[r.URL.Path]++
		o.lastReq = r.Clone(r.Context())
		o.mu.Unlock()
		// No Date header: tests move the client's clock, and a real Date
		// would skew the ages the cache computes.
		w.Header()["Date"] = nil
		h(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

// jsonOrigin answers every request with a small JSON document and 200.
func jsonOrigin(t testing.TB) *origin {
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"path":"` + r.URL.Path + `","n":1}`))
	})
}

func (o *origin) count() int64 { return o.hits.Load() }

func (o *origin) last() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lastReq
}

// clock is a settable clock for WithClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
