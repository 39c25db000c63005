package otelcache_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/otelcache"
)

// collect reads every metric of reader by name.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelcache.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, otelcache.ScopeName)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// sum returns the value of the counter name at the data point whose
// attributes include every one of attrs.
func sum(t *testing.T, ms map[string]metricdata.Aggregation, name string, attrs ...attribute.KeyValue) int64 {
	t.Helper()
	s, ok := ms[name].(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s: %T, want an int64 sum", name, ms[name])
	}
	var n int64
	for _, dp := range s.DataPoints {
		if hasAll(dp.Attributes, attrs) {
			n += dp.Value
		}
	}
	return n
}

func histCount(t *testing.T, ms map[string]metricdata.Aggregation, name string, attrs ...attribute.KeyValue) (uint64, float64) {
	t.Helper()
	h, ok := ms[name].(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s: %T, want a float64 histogram", name, ms[name])
	}
	var n uint64
	var total float64
	for _, dp := range h.DataPoints {
		if hasAll(dp.Attributes, attrs) {
			n += dp.Count
			total += dp.Sum
		}
	}
	return n, total
}

func hasAll(set attribute.Set, attrs []attribute.KeyValue) bool {
	for _, kv := range attrs {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

func newClient(t *testing.T, opts ...restycache.Option) (*restycache.Client, *sdkmetric.ManualReader, *memory.Backend) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	obs, err := otelcache.New(mp)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.New()
	c := restycache.New(append([]restycache.Option{restycache.WithBackend(mem), restycache.WithObserver(obs),
		restycache.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	t.Cleanup(func() { c.Close() })
	return c, reader, mem
}

func origin(t *testing.T) *httptest.Server {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("answer for " + r.URL.Path))
	}))
	t.Cleanup(o.Close)
	return o
}

func TestRequestsAndBackendOperations(t *testing.T) {
	c, reader, _ := newClient(t)
	o := origin(t)
	for range 3 {
		if _, err := c.R().Get(o.URL + "/a"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.R().SetCacheBypass(true).Get(o.URL + "/a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Cache().Flush(t.Context()); err != nil { // the entry's write
		t.Fatal(err)
	}
	ms := collect(t, reader)
	status := func(s string) attribute.KeyValue { return otelcache.KeyStatus.String(s) }
	if n := sum(t, ms, "restycache.requests", status("miss")); n != 1 {
		t.Errorf("requests{status=miss} = %d, want 1", n)
	}
	if n := sum(t, ms, "restycache.requests", status("hit"), otelcache.KeyRevalidation.String("none")); n != 2 {
		t.Errorf("requests{status=hit,revalidation=none} = %d, want 2", n)
	}
	if n := sum(t, ms, "restycache.requests", status("bypass")); n != 1 {
		t.Errorf("requests{status=bypass} = %d, want 1", n)
	}
	if n, total := histCount(t, ms, "restycache.request.duration", status("hit")); n != 2 || total <= 0 {
		t.Errorf("request.duration{status=hit}: %d observations summing to %vs, want 2 above 0", n, total)
	}
	get := otelcache.KeyOperation.String("get")
	ok := otelcache.KeyOutcome.String("ok")
	if n := sum(t, ms, "restycache.backend.operations", get, ok); n < 3 {
		t.Errorf("backend.operations{op=get,outcome=ok} = %d, want at least 3", n)
	}
	if n, total := histCount(t, ms, "restycache.backend.duration", get, ok); n < 3 || total <= 0 {
		t.Errorf("backend.duration{op=get}: %d observations summing to %vs, want at least 3 above 0", n, total)
	}
	if n := sum(t, ms, "restycache.written.records", otelcache.KeyRecord.String("entry")); n != 1 {
		t.Errorf("written.records{record=entry} = %d, want 1", n)
	}
	if st := c.Cache().Stats(); sum(t, ms, "restycache.written.bytes") != int64(st.BytesWritten) || st.BytesWritten == 0 {
		t.Errorf("written.bytes = %d, Stats().BytesWritten = %d; want equal and above 0", sum(t, ms, "restycache.written.bytes"), st.BytesWritten)
	}
}

func TestRejectedRecordsAndFailures(t *testing.T) {
	c, reader, mem := newClient(t, restycache.WithSigningKeys(bytes.Repeat([]byte{7}, 32)))
	o := origin(t)
	key := mustGet(t, c, o.URL+"/a").CacheKey()
	b, err := mem.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Clone(b)
	b[len(b)/2] ^= 1
	if err := mem.Set(context.Background(), key, b, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if r := mustGet(t, c, o.URL+"/a"); r.FromCache() {
		t.Fatal("a tampered entry was served")
	}
	ms := collect(t, reader)
	if n := sum(t, ms, "restycache.backend.operations", otelcache.KeyOperation.String("verify"), otelcache.KeyOutcome.String("error")); n != 1 {
		t.Errorf("backend.operations{op=verify,outcome=error} = %d, want 1", n)
	}
	if n := sum(t, ms, "restycache.requests", otelcache.KeyStatus.String("miss")); n != 2 {
		t.Errorf("requests{status=miss} = %d, want 2", n)
	}
}

func TestBackgroundRevalidation(t *testing.T) {
	var clk atomic.Int64
	clk.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clk.Load()) }
	c, reader, _ := newClient(t, restycache.WithClock(now), restycache.WithExpireAfter(time.Minute),
		restycache.WithStaleWhileRevalidate(time.Hour))
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte("v1"))
	}))
	defer o.Close()
	mustGet(t, c, o.URL+"/swr")
	clk.Add(int64(2 * time.Minute))
	if r := mustGet(t, c, o.URL+"/swr"); r.CacheStatus() != restycache.CacheStale {
		t.Fatalf("status %v, want stale", r.CacheStatus())
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.Cache().Stats().BackgroundRevalidations == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no background revalidation within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ms := collect(t, reader)
	if n := sum(t, ms, "restycache.background", otelcache.KeyOutcome.String("revalidated")); n != 1 {
		t.Errorf("background{outcome=revalidated} = %d, want 1", n)
	}
	if n := sum(t, ms, "restycache.requests", otelcache.KeyStatus.String("stale")); n != 1 {
		t.Errorf("requests{status=stale} = %d, want 1", n)
	}
}

func TestNilMeterProvider(t *testing.T) {
	if _, err := otelcache.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

func mustGet(t *testing.T, c *restycache.Client, url string) *restycache.Response {
	t.Helper()
	r, err := c.R().Get(url)
	if ferr := c.Cache().Flush(t.Context()); ferr != nil {
		t.Fatalf("Flush: %v", ferr)
	}
	if err != nil || r.StatusCode() != 200 {
		t.Fatalf("GET %s: %v", url, err)
	}
	return r
}
