package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/backendtest"
)

func TestConformance(t *testing.T) {
	dir := t.TempDir()
	backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
		// A second open of a name is a second Backend on the same file.
		return New(filepath.Join(dir, name))
	})
}

func TestConformanceInMemory(t *testing.T) {
	var mu sync.Mutex
	stores := map[string]*Backend{}
	backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
		mu.Lock()
		defer mu.Unlock()
		if b, ok := stores[name]; ok {
			return b
		}
		b := New(MemoryPath)
		stores[name] = b
		return b
	})
}

func TestPathHandling(t *testing.T) {
	home := t.TempDir()
	cwd := t.TempDir()
	t.Setenv("HOME", home)
	t.Chdir(cwd)
	cases := []struct {
		path string
		want string // the file that must exist afterwards
	}{
		{"demo_cache", filepath.Join(cwd, "demo_cache.sqlite")},
		{"kept.db", filepath.Join(cwd, "kept.db")},
		{"nested/dirs/are/made/cache", filepath.Join(cwd, "nested/dirs/are/made/cache.sqlite")},
		{"~/in-home", filepath.Join(home, "in-home.sqlite")},
		{"~/deep/in/home.cache", filepath.Join(home, "deep/in/home.cache")},
		{filepath.Join(cwd, "absolute", "x"), filepath.Join(cwd, "absolute", "x.sqlite")},
		{"odd name?with=query&#frag %41", filepath.Join(cwd, "odd name?with=query&#frag %41.sqlite")},
		{"dotted.dir/plain", filepath.Join(cwd, "dotted.dir/plain.sqlite")},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			b := New(c.path)
			defer b.Close()
			if err := b.Set(t.Context(), "k", []byte("v"), time.Time{}); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if fi, err := os.Stat(c.want); err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("database file %s: %v", c.want, err)
			}
			// A second Backend on the same path sees the entry.
			b2 := New(c.want)
			defer b2.Close()
			if v, err := b2.Get(t.Context(), "k"); err != nil || string(v) != "v" {
				t.Errorf("Get through %s = %q, %v", c.want, v, err)
			}
		})
	}
}

func TestBadPath(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	isDir := filepath.Join(dir, "a.dir")
	if err := os.Mkdir(isDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"", filepath.Join(blocker, "sub", "db"), isDir} {
		t.Run(path, func(t *testing.T) {
			ctx := t.Context()
			b := New(path)
			defer b.Close()
			_, err := b.Get(ctx, "k")
			if err == nil || errors.Is(err, backend.ErrNotFound) {
				t.Fatalf("Get on a bad path = %v, want an open error", err)
			}
			if !strings.HasPrefix(err.Error(), "restycache/sqlite: open ") {
				t.Errorf("error %q lacks the package and open prefix", err)
			}
			if err := b.Ping(ctx); err == nil {
				t.Errorf("Ping on a bad path = nil, want an error")
			}
			if err := b.Set(ctx, "k", nil, time.Time{}); err == nil {
				t.Errorf("Set on a bad path = nil, want an error")
			}
			if s, err := Open(ctx, path); err == nil || s != nil {
				t.Errorf("Open on a bad path = %v, %v; want nil and an error", s, err)
			}
		})
	}
}

// TestFailedOpenIsRetried checks the pause after a failed open: calls
// inside it answer with the last error at once, without touching the file
// system; the pause doubles from 100ms to at most 5s; and once the cause is
// gone, the next attempt after the pause opens the database.
func TestFailedOpenIsRetried(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := New(filepath.Join(blocker, "cache"))
	b.wallNow = clk.Now
	defer b.Close()
	attempted := func(err error) bool {
		t.Helper()
		if err == nil {
			t.Fatal("a call with a file in the way succeeded")
		}
		if !strings.HasPrefix(err.Error(), "restycache/sqlite: open ") {
			t.Errorf("error %q lacks the package and open prefix", err)
		}
		return !strings.Contains(err.Error(), "next attempt in")
	}
	if err := b.Ping(ctx); !attempted(err) {
		t.Fatalf("first Ping = %v, want a fresh attempt", err)
	}
	// The pause doubles after each failed attempt, up to 5s.
	for _, pause := range []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000} {
		pause *= time.Millisecond
		clk.Advance(pause - time.Millisecond)
		_, err := b.Get(ctx, "k")
		if attempted(err) {
			t.Fatalf("Get 1ms before a %v pause ended attempted an open: %v", pause, err)
		}
		if !strings.Contains(err.Error(), "next attempt in 1ms") {
			t.Errorf("Get 1ms before a %v pause ended = %v, want it to say when", pause, err)
		}
		clk.Advance(time.Millisecond)
		if err := b.Set(ctx, "k", nil, time.Time{}); !attempted(err) {
			t.Fatalf("Set after a %v pause = %v, want a fresh attempt", pause, err)
		}
	}
	// With the obstacle gone, calls inside the pause still fail at once:
	// they do not try.
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, "k", []byte("v"), time.Time{}); attempted(err) {
		t.Fatalf("Set inside the pause = %v, want the last error", err)
	}
	if _, err := os.Stat(blocker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a call inside the pause touched the file system: %v", err)
	}
	clk.Advance(5 * time.Second)
	if err := b.Set(ctx, "k", []byte("v"), time.Time{}); err != nil {
		t.Fatalf("Set after the obstacle was removed and the pause ended: %v", err)
	}
	if _, err := os.Stat(filepath.Join(blocker, "cache.sqlite")); err != nil {
		t.Errorf("database file: %v", err)
	}
	if v, err := b.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Errorf("Get after the open = %q, %v", v, err)
	}
}

// TestCancelledOpenIsNotAFailure checks that an open cut short by its
// caller's context does not make the next caller wait.
func TestCancelledOpenIsNotAFailure(t *testing.T) {
	b := New(filepath.Join(t.TempDir(), "c"))
	defer b.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ping with a cancelled context = %v", err)
	}
	if err := b.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after a cancelled one: %v", err)
	}
}

// TestDirectoryPath checks that a path naming a directory is an error,
// ErrIsDirectory, from Open and every method, and creates nothing beside
// it.
func TestDirectoryPath(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"plain", "with.ext", "trailing/"} {
		path := filepath.Join(dir, name)
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "/") {
			path += "/"
		}
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			if b, err := Open(ctx, path); !errors.Is(err, ErrIsDirectory) || b != nil {
				t.Errorf("Open(%q) = %v, %v; want ErrIsDirectory", path, b, err)
			}
			b := New(path)
			defer b.Close()
			for op, err := range map[string]error{
				"Ping":   b.Ping(ctx),
				"Set":    b.Set(ctx, "k", []byte("v"), time.Time{}),
				"Delete": b.Delete(ctx, "k", "l"),
				"Clear":  b.Clear(ctx, ""),
				"Get":    second(b.Get(ctx, "k")),
				"Len":    second(b.Len(ctx, "")),
				"Expire": second(b.DeleteExpired(ctx)),
			} {
				if !errors.Is(err, ErrIsDirectory) {
					t.Errorf("%s = %v, want ErrIsDirectory", op, err)
				}
			}
			var scanErr error
			for _, err := range b.Scan(ctx, "") {
				scanErr = err
			}
			if !errors.Is(scanErr, ErrIsDirectory) {
				t.Errorf("Scan = %v, want ErrIsDirectory", scanErr)
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("%d entries in the directory, want the 3 directories only: %v", len(entries), entries)
	}
}

func second[T any](_ T, err error) error { return err }

func TestTableName(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		table string
		ok    bool
	}{
		{"", true}, // DefaultTable
		{"_private", true},
		{"Cache2", true},
		{strings.Repeat("t", 64), true},
		{strings.Repeat("t", 65), false},
		{"2cache", false},
		{"with-dash", false},
		{"with space", false},
		{`x"; DROP TABLE responses; --`, false},
		{"sqlite_master", false},
		{"SQLITE_thing", false},
		{"tablé", false},
	}
	for i, c := range cases {
		t.Run(c.table, func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(dir, fmt.Sprintf("t%d", i))
			b := New(path, Options{Table: c.table})
			defer b.Close()
			err := b.Set(ctx, "k", []byte("v"), time.Time{})
			if c.ok {
				if err != nil {
					t.Fatalf("Set with table %q: %v", c.table, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidTable) {
				t.Errorf("Set with table %q = %v, want ErrInvalidTable", c.table, err)
			}
			if _, err := Open(ctx, path, Options{Table: c.table}); !errors.Is(err, ErrInvalidTable) {
				t.Errorf("Open with table %q = %v, want ErrInvalidTable", c.table, err)
			}
		})
	}
}

func TestTablesAreSeparate(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shared.sqlite")
	a, err := Open(ctx, path, Options{Table: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, path, Options{Table: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.Set(ctx, "k", []byte("in a"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get from table b = %v, want ErrNotFound", err)
	}
	if err := b.Clear(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if v, err := a.Get(ctx, "k"); err != nil || string(v) != "in a" {
		t.Errorf("Get from table a after Clear of b = %q, %v", v, err)
	}
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

// rowCount counts the rows physically in the table, expired or not.
func rowCount(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM responses`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeleteExpiredWithClock(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "clock.sqlite")
	clk := &fakeClock{now: time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)}
	b := New(path, Options{Clock: clk.Now})
	defer b.Close()
	start := clk.Now()
	ttls := []time.Duration{time.Second, time.Minute, time.Minute, time.Hour, 0, 0}
	for i, ttl := range ttls {
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
		wantRows    int
	}{
		{0, 0, 6},
		{time.Second, 1, 5}, // an expiry equal to now counts as expired
		{30 * time.Second, 0, 5},
		{30 * time.Second, 2, 3},
		{100 * 365 * 24 * time.Hour, 1, 2},
		{time.Hour, 0, 2},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		if n, err := b.Len(ctx, ""); err != nil || n != s.wantRows {
			t.Errorf("step %d: Len = %d, %v; want %d", i, n, err, s.wantRows)
		}
		n, err := b.DeleteExpired(ctx)
		if err != nil || n != s.wantDeleted {
			t.Errorf("step %d: DeleteExpired = %d, %v; want %d", i, n, err, s.wantDeleted)
		}
		if got := rowCount(t, path); got != s.wantRows {
			t.Errorf("step %d: %d rows in the table, want %d", i, got, s.wantRows)
		}
	}
	for _, k := range []string{"k4", "k5"} {
		if _, err := b.Get(ctx, k); err != nil {
			t.Errorf("Get(%s) of an entry without expiry: %v", k, err)
		}
	}
}

func TestTwoBackendsWritingConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared")
	a, b := New(path), New(path)
	defer a.Close()
	defer b.Close()
	backendtest.SharedStore(t, a, b)
}

func TestCloseWithoutUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unused")
	b := New(path)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + Extension); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close of an unused Backend touched the file system: %v", err)
	}
	if err := b.Ping(t.Context()); !errors.Is(err, backend.ErrClosed) {
		t.Errorf("Ping after Close = %v, want ErrClosed", err)
	}
}

func BenchmarkSQLiteFile(b *testing.B) {
	dir := b.TempDir()
	n := 0
	backendtest.Bench(b, func(b *testing.B) backend.Storage {
		n++
		return New(filepath.Join(dir, fmt.Sprint("bench", n)))
	})
}

func BenchmarkSQLiteInMemory(b *testing.B) {
	backendtest.Bench(b, func(b *testing.B) backend.Storage { return New(MemoryPath) })
}

// TestGetValuesAreTheCallers checks what Get's single copy relies on: every
// Get returns a slice of its own, which later queries on the same
// connection never touch.
func TestGetValuesAreTheCallers(t *testing.T) {
	for _, path := range []string{MemoryPath, filepath.Join(t.TempDir(), "own")} {
		b := New(path)
		defer b.Close()
		ctx := t.Context()
		want := map[string][]byte{"a": []byte("value of a"), "b": []byte("value of b"), "e": {}}
		for k, v := range want {
			if err := b.Set(ctx, k, v, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string][]byte{}
		for range 3 {
			for k := range want {
				v, err := b.Get(ctx, k)
				if err != nil {
					t.Fatal(err)
				}
				if v == nil {
					t.Errorf("%s: Get(%q) = nil, want a non-nil slice", path, k)
				}
				if prev, ok := got[k]; ok && len(v) > 0 && &prev[0] == &v[0] {
					t.Errorf("%s: two Gets of %q share memory", path, k)
				}
				got[k] = v
			}
		}
		// Scribble over one result; later reads, of it and of others, are
		// unaffected, and so are the results already handed out.
		a := got["a"]
		for i := range a {
			a[i] = 'x'
		}
		if v, err := b.Get(ctx, "a"); err != nil || string(v) != "value of a" {
			t.Errorf("%s: Get(a) after scribbling over a result = %q, %v", path, v, err)
		}
		if string(got["b"]) != "value of b" {
			t.Errorf("%s: a result changed under its caller: %q", path, got["b"])
		}
	}
}

// TestScanPages checks Scan across pages ended by the row limit and by the
// size of the values, with each entry's expiry.
func TestScanPages(t *testing.T) {
	ctx := t.Context()
	b := New(filepath.Join(t.TempDir(), "scan"))
	defer b.Close()
	base := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	big := make([]byte, 1<<20)
	want := map[string]time.Time{}
	for i := range 2*keysPage + 10 {
		k := fmt.Sprintf("k%04d", i)
		v := []byte(k)
		if i%50 == 7 {
			v = append(bytes.Clone(big), k...) // a few large values: pages end by size
		}
		exp := time.Time{}
		if i%2 == 0 {
			exp = base.Add(time.Duration(i) * time.Second)
		}
		if err := b.Set(ctx, k, v, exp); err != nil {
			t.Fatal(err)
		}
		want[k] = exp
	}
	for i := range 5 {
		if err := b.Set(ctx, fmt.Sprint("big", i), big, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for r, err := range b.Scan(ctx, "k") {
		if err != nil {
			t.Fatal(err)
		}
		if seen[r.Key] {
			t.Errorf("Scan yielded %q twice", r.Key)
		}
		seen[r.Key] = true
		exp, ok := want[r.Key]
		if !ok {
			t.Errorf("Scan(k) yielded %q", r.Key)
			continue
		}
		if !r.ExpiresAt.Equal(exp) {
			t.Errorf("%s expires at %v, want %v", r.Key, r.ExpiresAt, exp)
		}
		if !bytes.HasSuffix(r.Value, []byte(r.Key)) {
			t.Errorf("%s has a value of %d bytes not ending in its key", r.Key, len(r.Value))
		}
	}
	if len(seen) != len(want) {
		t.Errorf("Scan(k) yielded %d entries, want %d", len(seen), len(want))
	}
}
