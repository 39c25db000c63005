package restycache_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/internal/faulty"
)

// versioned is an origin whose answers carry ETag v<version>: a request
// with the current ETag gets 304.
func versioned(t *testing.T, version *atomic.Int64) *origin {
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		etag := `"v` + string(rune('0'+version.Load())) + `"`
		w.Header().Set("Etag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte("body " + etag))
	})
}

func TestStatsCountEachOutcome(t *testing.T) {
	var version atomic.Int64
	version.Store(1)
	o := versioned(t, &version)
	clk := newClock()
	c := restycache.New(restycache.WithClock(clk.Now), restycache.WithExpireAfter(time.Minute), quiet)
	defer c.Close()
	url := o.URL + "/r"

	mustGet(t, c, url) // miss, stored
	mustGet(t, c, url) // hit
	clk.Advance(2 * time.Minute)
	if r := mustGet(t, c, url); r.CacheStatus() != restycache.CacheRevalidated { // 304
		t.Fatalf("status %v, want revalidated", r.CacheStatus())
	}
	clk.Advance(2 * time.Minute)
	version.Store(2)
	if r := mustGet(t, c, url); r.CacheStatus() != restycache.CacheMiss { // 200: replaced
		t.Fatalf("status %v, want a miss", r.CacheStatus())
	}
	if _, err := c.R().SetCacheBypass(true).Get(url); err != nil {
		t.Fatal(err)
	}
	st := c.Cache().Stats()
	for _, tc := range []struct {
		name      string
		got, want uint64
	}{
		{"Hits", st.Hits, 2},
		{"Misses", st.Misses, 2},
		{"RevalidatedNotModified", st.RevalidatedNotModified, 1},
		{"RevalidatedReplaced", st.RevalidatedReplaced, 1},
		{"Bypassed", st.Bypassed, 1},
		{"ByStatus[hit]", st.ByStatus[restycache.CacheHit], 1},
		{"ByStatus[revalidated]", st.ByStatus[restycache.CacheRevalidated], 1},
		{"EntriesWritten", st.EntriesWritten, 3}, // the miss, the 304's refresh, the replacement
		{"Errors", st.Errors, 0},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d (stats %+v)", tc.name, tc.got, tc.want, st)
		}
	}
	if st.RecordsWritten <= st.EntriesWritten || st.BytesWritten < 3*uint64(len("body \"v1\"")) {
		t.Errorf("RecordsWritten %d, BytesWritten %d: want the URL index written too, and every byte", st.RecordsWritten, st.BytesWritten)
	}
	if got := st.HitRatio(); got != 0.5 {
		t.Errorf("HitRatio = %v, want 0.5", got)
	}
}

func TestStatsCountStaleBackgroundAndSkipped(t *testing.T) {
	var version atomic.Int64
	version.Store(1)
	release := make(chan struct{})
	var slow atomic.Bool
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if slow.Load() {
			<-release
		}
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte("v1"))
	})
	clk := newClock()
	c := restycache.New(restycache.WithClock(clk.Now), restycache.WithExpireAfter(time.Minute),
		restycache.WithStaleWhileRevalidate(time.Hour), quiet)
	defer c.Close()
	url := o.URL + "/swr"
	mustGet(t, c, url)
	clk.Advance(2 * time.Minute)
	slow.Store(true)
	for range 3 { // the first starts a revalidation, held by the origin; the others find it running
		if r := mustGet(t, c, url); r.CacheStatus() != restycache.CacheStale {
			t.Fatalf("status %v, want stale", r.CacheStatus())
		}
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for c.Cache().Stats().BackgroundRevalidations == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no background revalidation counted within 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	st := c.Cache().Stats()
	if st.StaleServed != 3 || st.BackgroundRevalidations != 1 || st.BackgroundSkipped != 2 || st.RevalidatedNotModified != 1 || st.BackgroundFailed != 0 {
		t.Errorf("stats %+v: want 3 stale served, 1 background revalidation (304), 2 skipped", st)
	}
}

func TestStatsCountCoalescedWaiters(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		_, _ = w.Write([]byte("shared"))
	})
	c := restycache.New(quiet)
	defer c.Close()
	const callers = 10
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.R().Get(o.URL + "/burst"); err != nil {
				t.Errorf("GET: %v", err)
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.CacheTransport().Waiting() < callers {
		if time.Now().After(deadline) {
			t.Fatalf("only %d callers waiting after 10s", c.CacheTransport().Waiting())
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	st := c.Cache().Stats()
	if st.Coalesced != callers-1 || st.ByStatus[restycache.CacheMiss] != 1 || st.Misses != callers {
		t.Errorf("stats %+v: want %d coalesced waiters and 1 miss", st, callers-1)
	}
}

func TestStatsCountCrossProcessWaits(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		_, _ = w.Write([]byte("once"))
	})
	mem := memory.New()
	a := restycache.New(restycache.WithBackend(mem), restycache.WithCrossProcessCoalescing(5*time.Second), quiet)
	b := restycache.New(restycache.WithBackend(mem), restycache.WithCrossProcessCoalescing(5*time.Second), quiet)
	defer a.Close()
	url := o.URL + "/xp"
	done := make(chan *restycache.Response, 2)
	go func() { r, _ := a.R().Get(url); done <- r }()
	deadline := time.Now().Add(10 * time.Second)
	for o.count() == 0 { // a holds the lock and asks the origin
		if time.Now().After(deadline) {
			t.Fatal("a did not reach the origin")
		}
		time.Sleep(time.Millisecond)
	}
	go func() { r, _ := b.R().Get(url); done <- r }()
	for b.Cache().Stats().CrossProcessWaits == 0 {
		if time.Now().After(deadline) {
			t.Fatal("b did not wait for a's fetch")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	<-done
	<-done
	if n := o.count(); n != 1 {
		t.Errorf("origin asked %d times, want 1", n)
	}
	if st := b.Cache().Stats(); st.CrossProcessWaits != 1 || a.Cache().Stats().CrossProcessWaits != 0 {
		t.Errorf("CrossProcessWaits: a %d, b %d; want 0 and 1", a.Cache().Stats().CrossProcessWaits, st.CrossProcessWaits)
	}
}

func TestStatsCountBackendErrorsByOperation(t *testing.T) {
	fb := faulty.Wrap(memory.New())
	o := jsonOrigin(t)
	c := restycache.New(restycache.WithBackend(fb), quiet)
	defer c.Close()
	mustGet(t, c, o.URL+"/e")
	fb.Inject(faulty.Fault{Err: errors.New("injected")}, faulty.Get)
	mustGet(t, c, o.URL+"/e")
	st := c.Cache().Stats()
	if st.Failed[restycache.OpGet] == 0 || st.Errors < st.Failed[restycache.OpGet] || st.Failed[restycache.OpSet] != 0 {
		t.Errorf("stats %+v: want failed gets counted, no failed sets", st)
	}
}

// recorder is an Observer that keeps every event.
type recorder struct {
	mu       sync.Mutex
	requests []restycache.RequestEvent
	backend  []restycache.BackendEvent
}

func (r *recorder) ObserveRequest(_ context.Context, e restycache.RequestEvent) {
	r.mu.Lock()
	r.requests = append(r.requests, e)
	r.mu.Unlock()
}

func (r *recorder) ObserveBackend(_ context.Context, e restycache.BackendEvent) {
	r.mu.Lock()
	r.backend = append(r.backend, e)
	r.mu.Unlock()
}

func TestObserverSeesRequestsAndBackendOperations(t *testing.T) {
	rec := &recorder{}
	o := jsonOrigin(t)
	c := restycache.New(restycache.WithObserver(rec), quiet)
	defer c.Close()
	mustGet(t, c, o.URL+"/o")
	mustGet(t, c, o.URL+"/o")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.requests) != 2 || rec.requests[0].Status != restycache.CacheMiss || rec.requests[1].Status != restycache.CacheHit {
		t.Fatalf("request events %+v, want a miss then a hit", rec.requests)
	}
	for _, e := range rec.requests {
		if e.Duration <= 0 || e.Kind != restycache.KindRequest {
			t.Errorf("request event %+v: want a request with a duration", e)
		}
	}
	var gets, sets int
	for _, e := range rec.backend {
		if e.Duration <= 0 || e.Err != nil {
			t.Errorf("backend event %+v: want a duration and no error", e)
		}
		switch e.Op {
		case restycache.OpGet:
			gets++
		case restycache.OpSet:
			sets++
			if e.Bytes == 0 {
				t.Errorf("set event %+v without its size", e)
			}
		}
	}
	if gets < 2 || sets < 1 {
		t.Errorf("%d gets and %d sets observed, want at least 2 and 1", gets, sets)
	}
}
