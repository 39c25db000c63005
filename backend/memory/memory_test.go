package memory

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/backendtest"
)

func TestConformance(t *testing.T) {
	var mu sync.Mutex
	stores := map[string]*Backend{}
	backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
		mu.Lock()
		defer mu.Unlock()
		if b, ok := stores[name]; ok {
			return b
		}
		b := New()
		stores[name] = b
		return b
	})
}

func TestConformanceBounded(t *testing.T) {
	// Limits far above what the suite stores must not change behaviour.
	var mu sync.Mutex
	stores := map[string]*Backend{}
	backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
		mu.Lock()
		defer mu.Unlock()
		if b, ok := stores[name]; ok {
			return b
		}
		b := New(Options{MaxEntries: 10_000, MaxBytes: 64 << 20})
		stores[name] = b
		return b
	})
}

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func present(t *testing.T, b *Backend, keys ...string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, k := range keys {
		_, err := b.Get(t.Context(), k)
		switch {
		case err == nil:
			got[k] = true
		case !errors.Is(err, backend.ErrNotFound):
			t.Fatalf("Get(%q): %v", k, err)
		}
	}
	return got
}

func TestLRUMaxEntries(t *testing.T) {
	ctx := t.Context()
	b := New(Options{MaxEntries: 3})
	for _, k := range []string{"a", "b", "c"} {
		if err := b.Set(ctx, k, []byte(k), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	// Reading "a" makes "b" the least recently used.
	if _, err := b.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, "d", []byte("d"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	got := present(t, b, "a", "b", "c", "d")
	want := map[string]bool{"a": true, "c": true, "d": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after eviction present = %v, want %v", got, want)
	}
	// Overwriting "c" counts as use and does not grow the count.
	if err := b.Set(ctx, "c", []byte("C"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, "e", []byte("e"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	// Order before "e" (most recent first): c, d, a -> "a" goes.
	got = present(t, b, "a", "c", "d", "e")
	want = map[string]bool{"c": true, "d": true, "e": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after second eviction present = %v, want %v", got, want)
	}
	if n, _ := b.Len(ctx, ""); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
}

func TestLRUMaxBytes(t *testing.T) {
	ctx := t.Context()
	b := New(Options{MaxBytes: 30}) // each entry below is 1+9 = 10 bytes
	val := []byte("123456789")
	for _, k := range []string{"a", "b", "c"} {
		if err := b.Set(ctx, k, val, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	// LRU order is now a, c, b. Adding 11 bytes makes 41: evicting "b"
	// leaves 31, still too many, so "c" goes too.
	if err := b.Set(ctx, "d", []byte("1234567890"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	got := present(t, b, "a", "b", "c", "d")
	want := map[string]bool{"a": true, "d": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("present = %v, want %v", got, want)
	}

	// Exactly MaxBytes fits (evicting everything else).
	if err := b.Set(ctx, "x", make([]byte, 29), time.Time{}); err != nil {
		t.Fatalf("Set of exactly MaxBytes: %v", err)
	}
	if got := present(t, b, "a", "d", "x"); len(got) != 1 || !got["x"] {
		t.Errorf("present = %v, want only x", got)
	}

	// Too large: refused, and the old value under the key is removed.
	err := b.Set(ctx, "x", make([]byte, 30), time.Time{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Set of MaxBytes+1 = %v, want ErrTooLarge", err)
	}
	if _, err := b.Get(ctx, "x"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get after a refused Set = %v, want ErrNotFound", err)
	}
	if b.bytes != 0 || len(b.items) != 0 {
		t.Errorf("accounting after refusal: %d bytes, %d items; want 0, 0", b.bytes, len(b.items))
	}
}

func TestClockExpiry(t *testing.T) {
	ctx := t.Context()
	clk := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := New(Options{}, Options{Clock: clk.Now}) // the last Options wins
	start := clk.Now()
	for i, ttl := range []time.Duration{time.Minute, time.Minute, 2 * time.Minute, time.Hour, 0} {
		exp := time.Time{}
		if ttl > 0 {
			exp = start.Add(ttl)
		}
		if err := b.Set(ctx, fmt.Sprint("k", i), []byte("v"), exp); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		advance     time.Duration
		wantDeleted int
		wantLen     int
	}{
		{0, 0, 5},
		{time.Minute, 2, 3}, // expiry at exactly now counts as expired
		{30 * time.Second, 0, 3},
		{time.Minute, 1, 2},
		{24 * time.Hour, 1, 1},
		{24 * time.Hour, 0, 1},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		// Len excludes expired entries before they are deleted.
		if n, err := b.Len(ctx, ""); err != nil || n != s.wantLen {
			t.Errorf("step %d: Len = %d, %v; want %d", i, n, err, s.wantLen)
		}
		n, err := b.DeleteExpired(ctx)
		if err != nil || n != s.wantDeleted {
			t.Errorf("step %d: DeleteExpired = %d, %v; want %d", i, n, err, s.wantDeleted)
		}
		if len(b.items) != s.wantLen {
			t.Errorf("step %d: %d entries held, want %d", i, len(b.items), s.wantLen)
		}
	}
	// A Set whose expiry equals the clock's now stores nothing.
	if err := b.Set(ctx, "now", []byte("v"), clk.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "now"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get of an entry expiring now = %v, want ErrNotFound", err)
	}
}

func TestGetReturnsStoredSlice(t *testing.T) {
	ctx := t.Context()
	b := New()
	if err := b.Set(ctx, "k", []byte("value"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	v1, _ := b.Get(ctx, "k")
	v2, _ := b.Get(ctx, "k")
	if &v1[0] != &v2[0] {
		t.Errorf("Get copied the value; it should hand out the stored slice")
	}
	// An overwrite must not touch a slice a reader still holds.
	if err := b.Set(ctx, "k", []byte("VALUE"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if string(v1) != "value" {
		t.Errorf("held slice changed to %q by a later Set", v1)
	}
}

func TestNegativeLimitsAreUnlimited(t *testing.T) {
	ctx := t.Context()
	b := New(Options{MaxEntries: -1, MaxBytes: -1})
	for i := range 100 {
		if err := b.Set(ctx, fmt.Sprint(i), make([]byte, 100), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := b.Len(ctx, ""); n != 100 {
		t.Errorf("Len = %d, want 100", n)
	}
}

func BenchmarkMemory(b *testing.B) {
	backendtest.Bench(b, func(b *testing.B) backend.Storage { return New() })
}

func BenchmarkMemoryBounded(b *testing.B) {
	backendtest.Bench(b, func(b *testing.B) backend.Storage {
		return New(Options{MaxEntries: 10_000, MaxBytes: 64 << 20})
	})
}

func TestGetHitDoesNotAllocate(t *testing.T) {
	ctx := t.Context()
	b := New(Options{MaxEntries: 10})
	if err := b.Set(ctx, "k", make([]byte, 2048), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := b.Get(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Get hit allocates %v times, want 0", allocs)
	}
}
