package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/cache"
)

// upstreamFunc adapts a function to http.RoundTripper.
type upstreamFunc func(*http.Request) (*http.Response, error)

func (f upstreamFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func okResponse(r *http.Request, body string) *http.Response {
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r,
	}
}

func newFlightTransport(t testing.TB, up http.RoundTripper, cfg Config) *Transport {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = NewStore(memory.New(), StoreOptions{})
	}
	cfg.Keyer = cache.NewKeyer(cache.KeyOptions{})
	if cfg.Policy == nil {
		cfg.Policy = &cache.Policy{}
	}
	cfg.Upstream = up
	tr := NewTransport(cfg)
	t.Cleanup(func() { tr.Close() })
	return tr
}

func newGet(ctx context.Context, url string) *http.Request {
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	return r
}

// waitWaiters waits until n requests wait for the flight of key.
func waitWaiters(t *testing.T, tr *Transport, key cache.Key, n int32) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		tr.flights.mu.Lock()
		f := tr.flights.flights[key]
		tr.flights.mu.Unlock()
		if f != nil && f.waiters.Load() == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters did not gather", n)
		}
		time.Sleep(time.Millisecond)
	}
}

// coalesce sends n identical GETs at once; the upstream blocks until every
// one waits for the shared flight, then calls answer.
func coalesce(t *testing.T, n int, cfg Config, answer func(*http.Request) (*http.Response, error)) (calls int64, resps []*http.Response, errs []error) {
	t.Helper()
	release := make(chan struct{})
	var count atomic.Int64
	tr := newFlightTransport(t, upstreamFunc(func(r *http.Request) (*http.Response, error) {
		count.Add(1)
		<-release
		return answer(r)
	}), cfg)
	const url = "http://127.0.0.1:1/shared"
	key := tr.keyer.Key(newGet(context.Background(), url), nil)
	resps, errs = make([]*http.Response, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resps[i], errs[i] = tr.RoundTrip(newGet(context.Background(), url))
		}()
	}
	waitWaiters(t, tr, key, int32(n))
	close(release)
	wg.Wait()
	return count.Load(), resps, errs
}

func TestCoalescedRequestsEachGetTheirOwnResponse(t *testing.T) {
	calls, resps, errs := coalesce(t, 50, Config{}, func(r *http.Request) (*http.Response, error) {
		return okResponse(r, "shared body"), nil
	})
	if calls != 1 {
		t.Errorf("upstream calls = %d, want 1", calls)
	}
	for i, resp := range resps {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		// Each reader is independent: read half, then all of it.
		buf := make([]byte, 6)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(resp.Body)
		if got := string(buf) + string(rest); got != "shared body" {
			t.Errorf("caller %d read %q", i, got)
		}
		resp.Header.Set("X-Mine", fmt.Sprint(i)) // independent headers
	}
	if resps[0].Header.Get("X-Mine") == resps[1].Header.Get("X-Mine") {
		t.Errorf("callers share a header map")
	}
}

func TestCoalescedFailureReachesEveryWaiter(t *testing.T) {
	boom := errors.New("origin unreachable")
	calls, _, errs := coalesce(t, 20, Config{}, func(*http.Request) (*http.Response, error) { return nil, boom })
	if calls != 1 {
		t.Errorf("upstream calls = %d, want 1", calls)
	}
	for i, err := range errs {
		if !errors.Is(err, boom) {
			t.Errorf("caller %d: err = %v, want %v", i, err, boom)
		}
	}
}

func TestCoalescedPanicBecomesAnError(t *testing.T) {
	calls, _, errs := coalesce(t, 20, Config{}, func(*http.Request) (*http.Response, error) { panic("upstream bug") })
	if calls != 1 {
		t.Errorf("upstream calls = %d, want 1", calls)
	}
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "panicked") {
			t.Errorf("caller %d: err = %v, want the panic as an error", i, err)
		}
	}
}

func TestSharedFetchHasItsOwnTimeout(t *testing.T) {
	tr := newFlightTransport(t, upstreamFunc(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}), Config{BackgroundTimeout: 20 * time.Millisecond})
	_, err := tr.RoundTrip(newGet(context.Background(), "http://127.0.0.1:1/slow"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the shared fetch's deadline", err)
	}
}

func TestCancelledCallerDoesNotCancelTheSharedFetch(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	tr := newFlightTransport(t, upstreamFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		<-release
		if err := r.Context().Err(); err != nil {
			return nil, err
		}
		return okResponse(r, "still here"), nil
	}), Config{})
	const url = "http://127.0.0.1:1/c"
	key := tr.keyer.Key(newGet(context.Background(), url), nil)
	ctx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := tr.RoundTrip(newGet(ctx, url))
		leaderErr <- err
	}()
	waitWaiters(t, tr, key, 1)
	other := make(chan *http.Response, 1)
	go func() {
		resp, _ := tr.RoundTrip(newGet(context.Background(), url))
		other <- resp
	}()
	waitWaiters(t, tr, key, 2)
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: err = %v", err)
	}
	close(release)
	resp := <-other
	if resp == nil {
		t.Fatal("the other caller got no response")
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "still here" || calls.Load() != 1 {
		t.Errorf("other caller: %q after %d upstream calls", b, calls.Load())
	}
}

func TestUncacheableRequestsAreNotCoalesced(t *testing.T) {
	const n = 5
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	tr := newFlightTransport(t, upstreamFunc(func(r *http.Request) (*http.Response, error) {
		arrived.Done()
		select { // every request must reach the upstream on its own
		case <-all:
		case <-time.After(5 * time.Second):
			return nil, errors.New("requests were coalesced")
		}
		return okResponse(r, "x"), nil
	}), Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range 2 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var req *http.Request
			if i < n {
				req, _ = http.NewRequest(http.MethodPost, "http://127.0.0.1:1/p", bytes.NewReader([]byte("b")))
			} else {
				req = newGet(WithoutCache(context.Background()), "http://127.0.0.1:1/bypass")
			}
			if _, err := tr.RoundTrip(req); err != nil {
				errs <- err
			}
		}()
		if i == n-1 {
			wg.Wait() // the POSTs first, then the bypassing GETs
			arrived.Add(n)
			all = make(chan struct{})
			go func() { arrived.Wait(); close(all) }()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestFlightsAreReleasedWhenIdle(t *testing.T) {
	tr := newFlightTransport(t, upstreamFunc(func(r *http.Request) (*http.Response, error) {
		return okResponse(r, "x"), nil
	}), Config{})
	const keys = 100_000
	for i := range keys {
		resp, err := tr.RoundTrip(newGet(context.Background(), fmt.Sprintf("http://127.0.0.1:1/k/%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := tr.Flush(context.Background()); err != nil { // the last write
		t.Fatal(err)
	}
	tr.flights.mu.Lock()
	n := len(tr.flights.flights)
	tr.flights.mu.Unlock()
	if n != 0 {
		t.Errorf("%d flights still tracked after %d distinct keys", n, keys)
	}
}

// BenchmarkRoundTripHit measures the Transport alone answering a fresh hit
// from the memory backend, which keeps decoded entries beside its values,
// and from one that does not, as a server backend does not.
func BenchmarkRoundTripHit(b *testing.B) {
	for _, tc := range []struct {
		name    string
		storage backend.Storage
	}{{"memory", memory.New()}, {"plain", plainStorage{memory.New()}}} {
		b.Run(tc.name, func(b *testing.B) {
			body := strings.Repeat("x", 2048)
			tr := newFlightTransport(b, upstreamFunc(func(r *http.Request) (*http.Response, error) {
				resp := okResponse(r, body)
				resp.Header = http.Header{"Content-Type": {"application/json"}, "Etag": {`"abc"`}, "Cache-Control": {"max-age=3600"}, "Vary": {"Accept-Encoding"}}
				return resp, nil
			}), Config{Store: NewStore(tc.storage, StoreOptions{})})
			req := newGet(context.Background(), "http://127.0.0.1:1/items")
			req.Header.Set("User-Agent", "bench")
			resp, _ := tr.RoundTrip(req)
			io.Copy(io.Discard, resp.Body)
			tr.Flush(context.Background())
			b.ReportAllocs()
			for b.Loop() {
				resp, err := tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
		})
	}
}
