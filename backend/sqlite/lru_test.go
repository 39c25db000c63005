package sqlite

import (
	"database/sql"
	"errors"
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
