package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/backendtest"
)

// TestConformanceBounded runs the shared suite with both bounds set high
// enough for it (its largest value is 1 MiB).
func TestConformanceBounded(t *testing.T) {
	dir := t.TempDir()
	backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
		return New(filepath.Join(dir, name), Options{MaxEntries: 100_000, MaxBytes: 256 << 20})
	})
}

// lruClock is a settable clock.
type lruClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *lruClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *lruClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func present(t *testing.T, b *Backend, keys ...string) string {
	t.Helper()
	var out []string
	for _, k := range keys {
		if _, err := b.Get(t.Context(), k); err == nil {
			out = append(out, k)
		} else if !errors.Is(err, backend.ErrNotFound) {
			t.Fatal(err)
		}
	}
	return strings.Join(out, ",")
}

func TestMaxEntriesEvictsLeastRecentlyUsed(t *testing.T) {
	clk := &lruClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := New(filepath.Join(t.TempDir(), "lru"), Options{MaxEntries: 3, Clock: clk.Now})
	defer b.Close()
	ctx := t.Context()
	for _, k := range []string{"a", "b", "c"} {
		if err := b.Set(ctx, k, []byte("v-"+k), time.Time{}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2 * time.Second)
	}
	if _, err := b.Get(ctx, "a"); err != nil { // a is now the most recently used
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	if err := b.Set(ctx, "d", []byte("v-d"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := present(t, b, "a", "b", "c", "d"); got != "a,c,d" {
		t.Errorf("after a fourth Set: present %q, want a,c,d (b least recently used)", got)
	}
	if n, _ := b.Len(ctx, ""); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
}

func TestReadRecordsUseAtMostOncePerSecond(t *testing.T) {
	clk := &lruClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "touch")
	b := New(path, Options{MaxEntries: 10, Clock: clk.Now})
	defer b.Close()
	ctx := t.Context()
	if err := b.Set(ctx, "k", []byte("v"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", b.resolvedFile(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	usedAt := func() int64 {
		var n int64
		if err := db.QueryRow(`SELECT used_at FROM responses WHERE key = 'k'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	written := usedAt()
	clk.Advance(500 * time.Millisecond)
	if _, err := b.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if got := usedAt(); got != written {
		t.Errorf("a read half a second after the write recorded a use: %d, want %d", got, written)
	}
	clk.Advance(time.Second)
	if _, err := b.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if got, want := usedAt(), clk.Now().UnixNano(); got != want {
		t.Errorf("a read 1.5s after the write: used_at %d, want %d", got, want)
	}
}

func TestMaxBytesEvictsAndRefuses(t *testing.T) {
	clk := &lruClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := New(filepath.Join(t.TempDir(), "bytes"), Options{MaxBytes: 25, Clock: clk.Now})
	defer b.Close()
	ctx := t.Context()
	ten := []byte("0123456789")
	for _, k := range []string{"a", "b", "c"} {
		if err := b.Set(ctx, k, ten, time.Time{}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2 * time.Second)
	}
	if got := present(t, b, "a", "b", "c"); got != "b,c" {
		t.Errorf("30 bytes in a 25-byte budget: present %q, want b,c", got)
	}
	err := b.Set(ctx, "b", make([]byte, 26), time.Time{})
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, backend.ErrTooLarge) {
		t.Fatalf("Set of 26 bytes = %v, want ErrTooLarge", err)
	}
	if got := present(t, b, "b", "c"); got != "c" {
		t.Errorf("after a refused Set: present %q, want the old b removed", got)
	}
}

// TestUnboundedTableGainsColumn: a table made before used_at existed is
// migrated on open, its rows kept.
func TestUnboundedTableGainsColumn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.sqlite")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE responses (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at INTEGER);
		INSERT INTO responses VALUES ('old', x'01', NULL)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	b := New(path, Options{MaxEntries: 1})
	defer b.Close()
	if v, err := b.Get(t.Context(), "old"); err != nil || len(v) != 1 {
		t.Fatalf("old row: %v, %v", v, err)
	}
	if err := b.Set(t.Context(), "new", []byte{2}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := present(t, b, "old", "new"); got != "new" {
		t.Errorf("present %q, want new only", got)
	}
}

func (b *Backend) resolvedFile(t *testing.T) string {
	t.Helper()
	st, err := b.conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st.path
}

// TestBoundsCountEveryWriter: the row count and bytes a bounded Backend
// evicts by include rows written before it opened the file and rows that
// another, unbounded Backend writes, updates and deletes afterwards.
func TestBoundsCountEveryWriter(t *testing.T) {
	clk := &lruClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "shared")
	u := New(path, Options{Clock: clk.Now})
	defer u.Close()
	ctx := t.Context()
	set := func(s *Backend, k string, v []byte) {
		t.Helper()
		if err := s.Set(ctx, k, v, time.Time{}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2 * time.Second)
	}
	for _, k := range []string{"a", "b", "c"} {
		set(u, k, []byte("v-"+k))
	}
	b := New(path, Options{MaxEntries: 5, MaxBytes: 1000, Clock: clk.Now})
	defer b.Close()
	set(b, "d", []byte("v-d")) // opens b: 4 rows counted
	set(u, "e", []byte("v-e"))
	set(u, "a", make([]byte, 100)) // an update: a is now the most recent, 100 bytes
	if err := u.Delete(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	set(u, "f", []byte("v-f"))
	set(u, "g", []byte("v-g")) // 6 rows: b, d, e, a, f, g
	set(b, "h", []byte("v-h")) // 7 rows: b's Set evicts the two least recently used
	if got := present(t, b, "a", "b", "c", "d", "e", "f", "g", "h"); got != "a,e,f,g,h" {
		t.Errorf("present %q, want a,e,f,g,h (b and d least recently used)", got)
	}

	db, err := sql.Open("sqlite3", b.resolvedFile(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var entries, bytes, n, total int64
	if err := db.QueryRow(`SELECT entries, bytes FROM responses_size`).Scan(&entries, &bytes); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*), SUM(length(value)) FROM responses`).Scan(&n, &total); err != nil {
		t.Fatal(err)
	}
	if entries != n || bytes != total {
		t.Errorf("tracked size %d rows, %d bytes; the table has %d rows, %d bytes", entries, bytes, n, total)
	}
	// present read every row at one instant: they are now equally recent,
	// and ties go by key. 112 bytes + 900 is past the budget: a (100
	// bytes, first by key) goes, and that is enough.
	set(b, "big", make([]byte, 900))
	if got := present(t, b, "a", "e", "f", "g", "h", "big"); got != "e,f,g,h,big" {
		t.Errorf("after a 900-byte value in a 1000-byte budget: present %q, want e,f,g,h,big", got)
	}
}

// BenchmarkSetAtCapacity: a Set into a table full at MaxEntries (10,000
// rows), so that every Set evicts one row.
func BenchmarkSetAtCapacity(b *testing.B) {
	const max = 10_000
	s := New(filepath.Join(b.TempDir(), "full"), Options{MaxEntries: max})
	defer s.Close()
	ctx := b.Context()
	value := make([]byte, 512)
	for i := range max {
		if err := s.Set(ctx, fmt.Sprintf("fill-%05d", i), value, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := s.Set(ctx, fmt.Sprintf("new-%08d", i), value, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	if n, _ := s.Len(ctx, ""); n != max {
		b.Fatalf("Len = %d, want %d", n, max)
	}
}
