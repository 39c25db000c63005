package filesystem

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/backendtest"
)

func TestConformance(t *testing.T) {
	base := t.TempDir()
	backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
		return New(filepath.Join(base, name))
	})
}

func TestConformanceBoundedAndSynced(t *testing.T) {
	// Limits far above what the suite stores must not change behaviour;
	// they switch on the use-time and running-total paths.
	base := t.TempDir()
	backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
		return New(filepath.Join(base, name), Options{MaxBytes: 1 << 30, MaxEntries: 100_000, Sync: true})
	})
}

func BenchmarkFilesystem(b *testing.B) {
	dir := b.TempDir()
	n := 0
	backendtest.Bench(b, func(b *testing.B) backend.Storage {
		n++
		return New(filepath.Join(dir, fmt.Sprint("bench", n)))
	})
}

func BenchmarkFilesystemBounded(b *testing.B) {
	dir := b.TempDir()
	n := 0
	backendtest.Bench(b, func(b *testing.B) backend.Storage {
		n++
		return New(filepath.Join(dir, fmt.Sprint("bench", n)), Options{MaxBytes: 1 << 30})
	})
}

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)}
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

func mustSet(t *testing.T, b *Backend, key string, value []byte, exp time.Time) {
	t.Helper()
	if err := b.Set(t.Context(), key, value, exp); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func wantValue(t *testing.T, b *Backend, key string, want []byte) {
	t.Helper()
	got, err := b.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Get(%q) = %q, want %q", key, got, want)
	}
}

func wantMissing(t *testing.T, b *Backend, key string) {
	t.Helper()
	if v, err := b.Get(t.Context(), key); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
}

func wantLen(t *testing.T, b *Backend, want int) {
	t.Helper()
	n, err := b.Len(t.Context(), "")
	if err != nil || n != want {
		t.Errorf("Len = %d, %v; want %d", n, err, want)
	}
}

// present returns which of keys Get finds.
func present(t *testing.T, b *Backend, keys ...string) []string {
	t.Helper()
	var got []string
	for _, k := range keys {
		_, err := b.Get(t.Context(), k)
		switch {
		case err == nil:
			got = append(got, k)
		case !errors.Is(err, backend.ErrNotFound):
			t.Fatalf("Get(%q): %v", k, err)
		}
	}
	return got
}

// fileOf is where the entry of key lives under dir.
func fileOf(dir, key string) string {
	sum := sha256.Sum256([]byte(key))
	name := hex.EncodeToString(sum[:])
	return filepath.Join(dir, name[:2], name)
}

// allFiles lists every regular file under dir, relative to it.
func allFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestLayoutAndPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "cache")
	b := New(dir)
	defer b.Close()
	exp := time.Now().Add(time.Hour).Round(0)
	key := "GET https://example.com/a?b=c"
	mustSet(t, b, key, []byte("the value"), exp)

	p := fileOf(dir, key)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("entry file %s: %v", p, err)
	}
	if fi.Mode().Perm() != FilePerm {
		t.Errorf("file mode %v, want %v", fi.Mode().Perm(), FilePerm)
	}
	for _, d := range []string{dir, filepath.Dir(p)} {
		di, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if di.Mode().Perm() != DirPerm {
			t.Errorf("directory %s mode %v, want %v", d, di.Mode().Perm(), DirPerm)
		}
	}
	// Exactly one file: no temporary or probe file left behind.
	rel, _ := filepath.Rel(dir, p)
	if got := allFiles(t, dir); len(got) != 1 || got[0] != rel {
		t.Errorf("files under the directory: %q, want only %q", got, rel)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("RCFS\x01")) || !bytes.Contains(data, []byte(key)) {
		t.Errorf("file does not start with the magic and version or lacks the key: %q", data)
	}
	if int64(len(data)) != int64(headerSize+len(key)+len("the value")+trailerSize) {
		t.Errorf("file is %d bytes", len(data))
	}
	// The expiry round-trips exactly through Scan.
	for r, err := range b.Scan(t.Context(), "") {
		if err != nil {
			t.Fatal(err)
		}
		if r.Key != key || !r.ExpiresAt.Equal(exp) || string(r.Value) != "the value" {
			t.Errorf("Scan = %q %v %q; want %q %v", r.Key, r.ExpiresAt, r.Value, key, exp)
		}
	}
}

func TestHomeDirectory(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, c := range []struct{ dir, want string }{
		{"~", home},
		{"~/cache", filepath.Join(home, "cache")},
		{"~/deep/er/cache", filepath.Join(home, "deep/er/cache")},
	} {
		b, err := Open(t.Context(), c.dir)
		if err != nil {
			t.Fatalf("Open(%q): %v", c.dir, err)
		}
		mustSet(t, b, "k", []byte(c.dir), time.Time{})
		if _, err := os.Stat(fileOf(c.want, "k")); err != nil {
			t.Errorf("Open(%q): entry not under %s: %v", c.dir, c.want, err)
		}
		b.Close()
	}
}

func TestBadPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path string
		is         error
	}{
		{"empty", "", nil},
		{"is a file", file, ErrNotDir},
		{"parent is a file", filepath.Join(file, "sub", "cache"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			if b, err := Open(ctx, c.path); err == nil || b != nil {
				t.Fatalf("Open = %v, %v; want nil and an error", b, err)
			} else if !strings.HasPrefix(err.Error(), "restycache/filesystem: open ") {
				t.Errorf("Open error %q lacks the package and open prefix", err)
			} else if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("Open error %v, want one wrapping %v", err, c.is)
			}
			b := New(c.path) // lazy: no error yet
			defer b.Close()
			if err := b.Ping(ctx); err == nil {
				t.Errorf("Ping = nil, want an error")
			}
			if err := b.Set(ctx, "k", []byte("v"), time.Time{}); err == nil {
				t.Errorf("Set = nil, want an error")
			}
			if _, err := b.Get(ctx, "k"); err == nil || errors.Is(err, backend.ErrNotFound) {
				t.Errorf("Get = %v, want an open error, not a miss", err)
			}
		})
	}
	if fi, err := os.Stat(file); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the file in the way was changed: %v", err)
	}
}

func TestFailedOpenIsRetried(t *testing.T) {
	ctx := t.Context()
	blocker := filepath.Join(t.TempDir(), "blocker")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	b := New(filepath.Join(blocker, "cache"))
	defer b.Close()
	if err := b.Ping(ctx); err == nil {
		t.Fatal("Ping with a file in the way = nil, want an error")
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	mustSet(t, b, "k", []byte("v"), time.Time{})
	if err := b.Ping(ctx); err != nil {
		t.Errorf("Ping after the obstacle went: %v", err)
	}
}

// TestUnwritableDirectory checks that a directory that cannot be written
// makes Set fail (the layer above then passes requests through) while what
// is stored stays readable. Permission bits do not stop root, so as root
// only the cases that really fail for root run: the directory, or one
// shard of it, replaced by a regular file.
func TestUnwritableDirectory(t *testing.T) {
	ctx := t.Context()
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root: permission bits do not stop root's writes; the other subtests make writes really fail")
		}
		dir := t.TempDir()
		b := New(dir)
		defer b.Close()
		mustSet(t, b, "stored", []byte("v"), time.Time{})
		shard := filepath.Dir(fileOf(dir, "stored"))
		for _, d := range []string{dir, shard} {
			if err := os.Chmod(d, 0o500); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(d, 0o700)
		}
		err := b.Set(ctx, "new", []byte("v"), time.Time{})
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("Set in a read-only directory = %v, want a permission error", err)
		}
		if err := b.Set(ctx, "stored", []byte("v2"), time.Time{}); err == nil {
			t.Errorf("overwrite in a read-only directory = nil, want an error")
		}
		wantValue(t, b, "stored", []byte("v"))
		if err := b.Ping(ctx); err == nil {
			t.Errorf("Ping of a read-only directory = nil, want an error")
		}
	})
	t.Run("directory replaced by a file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "cache")
		b, err := Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		mustSet(t, b, "k", []byte("v"), time.Time{})
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir, []byte("in the way"), 0o600); err != nil {
			t.Fatal(err)
		}
		err = b.Set(ctx, "k2", []byte("v"), time.Time{})
		if err == nil || !strings.HasPrefix(err.Error(), "restycache/filesystem: set: ") {
			t.Errorf("Set with the directory replaced by a file = %v, want a set error", err)
		}
		if err := b.Ping(ctx); !errors.Is(err, ErrNotDir) {
			t.Errorf("Ping = %v, want ErrNotDir", err)
		}
		if _, err := b.Len(ctx, ""); err == nil {
			t.Errorf("Len = nil error, want one")
		}
		if got, _ := os.ReadFile(dir); string(got) != "in the way" {
			t.Errorf("the file in the way was changed: %q", got)
		}
	})
	t.Run("shard replaced by a file", func(t *testing.T) {
		dir := t.TempDir()
		b := New(dir)
		defer b.Close()
		mustSet(t, b, "a", []byte("v"), time.Time{})
		shard := filepath.Dir(fileOf(dir, "a"))
		if err := os.RemoveAll(shard); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(shard, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := b.Set(ctx, "a", []byte("v2"), time.Time{}); err == nil {
			t.Errorf("Set into a shard that is a file = nil, want an error")
		}
		// A key of another shard is unaffected.
		other := ""
		for i := 0; other == ""; i++ {
			if k := fmt.Sprint("other-", i); filepath.Dir(fileOf(dir, k)) != shard {
				other = k
			}
		}
		mustSet(t, b, other, []byte("fine"), time.Time{})
		wantValue(t, b, other, []byte("fine"))
		wantLen(t, b, 1)
	})
}

func TestCorruptAndForeignFiles(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	b := New(dir)
	defer b.Close()
	value := bytes.Repeat([]byte("0123456789"), 100)
	for _, k := range []string{"flipped", "truncated", "swapped", "good"} {
		mustSet(t, b, k, value, time.Time{})
	}
	// A bit flipped in the value, a file cut short, a valid file of
	// another key under this key's name.
	flip := fileOf(dir, "flipped")
	data, _ := os.ReadFile(flip)
	data[len(data)/2] ^= 0x10
	if err := os.WriteFile(flip, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(fileOf(dir, "truncated"), 40); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(fileOf(dir, "good"))
	if err := os.WriteFile(fileOf(dir, "swapped"), good, 0o600); err != nil {
		t.Fatal(err)
	}
	// Foreign files: in the root, in a directory that is no shard, in a
	// shard under a name that is no entry's, and a temporary file.
	goodShard := filepath.Dir(fileOf(dir, "good"))
	foreign := []string{
		filepath.Join(dir, "README"),
		filepath.Join(dir, "zz", strings.Repeat("a", 64)),
		filepath.Join(goodShard, "notes.txt"),
		filepath.Join(goodShard, strings.Repeat("b", 64)), // entry-like name in the wrong shard
	}
	for _, f := range foreign {
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("not ours"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	for _, k := range []string{"flipped", "truncated", "swapped"} {
		_, err := b.Get(ctx, k)
		if !errors.Is(err, backend.ErrNotFound) || !strings.Contains(err.Error(), "not a valid entry file") {
			t.Errorf("Get(%s) = %v, want a miss that says the file is invalid", k, err)
		}
	}
	wantValue(t, b, "good", value)
	// The truncated file is skipped by header walks; the flipped one only
	// by Scan (walks read headers, not the checksum); the swapped one holds
	// a key that does not hash to its name.
	keys := map[string]bool{}
	for k, err := range b.Keys(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		keys[k] = true
	}
	if !keys["good"] || keys["truncated"] || keys["swapped"] || len(keys) > 2 {
		t.Errorf("Keys = %v, want good (and maybe flipped)", keys)
	}
	var scanned []string
	for r, err := range b.Scan(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		scanned = append(scanned, r.Key)
	}
	if len(scanned) != 1 || scanned[0] != "good" {
		t.Errorf("Scan = %q, want only good", scanned)
	}

	// DeleteExpired removes broken entry files without counting them;
	// foreign files stay.
	if n, err := b.DeleteExpired(ctx); err != nil || n != 0 {
		t.Errorf("DeleteExpired = %d, %v; want 0", n, err)
	}
	for _, k := range []string{"truncated", "swapped"} {
		if _, err := os.Stat(fileOf(dir, k)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("broken file of %s not removed: %v", k, err)
		}
	}
	// A Set repairs a broken file.
	mustSet(t, b, "flipped", []byte("repaired"), time.Time{})
	wantValue(t, b, "flipped", []byte("repaired"))
	if err := b.Clear(ctx, ""); err != nil {
		t.Fatal(err)
	}
	wantLen(t, b, 0)
	for _, f := range foreign {
		if got, err := os.ReadFile(f); err != nil || string(got) != "not ours" {
			t.Errorf("foreign file %s touched: %q, %v", f, got, err)
		}
	}
}

func TestExpiryWithClock(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	clk := newFakeClock()
	b := New(dir, Options{Clock: clk.Now})
	defer b.Close()
	start := clk.Now()
	for i, ttl := range []time.Duration{time.Second, time.Minute, time.Minute, time.Hour, 0} {
		exp := time.Time{}
		if ttl > 0 {
			exp = start.Add(ttl)
		}
		mustSet(t, b, fmt.Sprint("k", i), []byte("v"), exp)
	}
	clk.Advance(time.Second) // an expiry equal to now counts as expired
	wantLen(t, b, 4)
	// A Get of an expired entry is a miss and removes its file.
	wantMissing(t, b, "k0")
	if _, err := os.Stat(fileOf(dir, "k0")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("expired file still there after Get: %v", err)
	}
	clk.Advance(time.Minute)
	wantLen(t, b, 2)
	if n, err := b.DeleteExpired(ctx); err != nil || n != 2 {
		t.Errorf("DeleteExpired = %d, %v; want 2", n, err)
	}
	if got := allFiles(t, dir); len(got) != 2 {
		t.Errorf("%d files left, want 2: %q", len(got), got)
	}
	// A Set whose expiry is now stores nothing and removes the old file.
	mustSet(t, b, "k4", []byte("v"), clk.Now())
	wantMissing(t, b, "k4")
	if _, err := os.Stat(fileOf(dir, "k4")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file of k4 still there: %v", err)
	}
}

func TestStaleTempFiles(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	b := New(dir)
	defer b.Close()
	mustSet(t, b, "k", []byte("v"), time.Time{})
	shard := filepath.Dir(fileOf(dir, "k"))
	old, fresh := filepath.Join(shard, tempPrefix+"old"), filepath.Join(shard, tempPrefix+"fresh")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("half an entry"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-2 * StaleTempAge)
	if err := os.Chtimes(old, long, long); err != nil {
		t.Fatal(err)
	}
	wantLen(t, b, 1) // temporary files are no entries
	if n, err := b.DeleteExpired(ctx); err != nil || n != 0 {
		t.Errorf("DeleteExpired = %d, %v; want 0", n, err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary file (a write under way) was removed: %v", err)
	}
}

func TestLRUMaxEntries(t *testing.T) {
	ctx := t.Context()
	clk := newFakeClock()
	b := New(t.TempDir(), Options{MaxEntries: 10, Clock: clk.Now})
	defer b.Close()
	var keys []string
	for i := range 10 {
		k := fmt.Sprint("k", i)
		keys = append(keys, k)
		mustSet(t, b, k, []byte(k), time.Time{})
		clk.Advance(time.Minute)
	}
	// Reading k0 and k1 makes them recent; k2 and k3 are now the oldest.
	wantValue(t, b, "k0", []byte("k0"))
	clk.Advance(time.Minute)
	wantValue(t, b, "k1", []byte("k1"))
	clk.Advance(time.Minute)
	// Overwriting k4 counts as use and does not add an entry.
	mustSet(t, b, "k4", []byte("K4"), time.Time{})
	wantLen(t, b, 10)
	clk.Advance(time.Minute)
	// The 11th entry takes the count over 10: eviction brings it to 90%
	// of the limit, 9, removing the two least recently used.
	mustSet(t, b, "new", []byte("new"), time.Time{})
	got := present(t, b, append(keys, "new")...)
	want := []string{"k0", "k1", "k4", "k5", "k6", "k7", "k8", "k9", "new"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after eviction present %v, want %v", got, want)
	}
	if n, _ := b.Len(ctx, ""); n != 9 {
		t.Errorf("Len = %d, want 9", n)
	}
}

func TestLRUMaxBytes(t *testing.T) {
	ctx := t.Context()
	clk := newFakeClock()
	// Each entry below is a 1-byte key and a 63-byte value: 100 bytes of file.
	const fileSize = headerSize + 1 + 63 + trailerSize
	b := New(t.TempDir(), Options{MaxBytes: 10 * fileSize, Clock: clk.Now})
	defer b.Close()
	val := bytes.Repeat([]byte("v"), 63)
	keys := strings.Split("abcdefghij", "")
	for _, k := range keys {
		mustSet(t, b, k, val, time.Time{})
		clk.Advance(time.Minute)
	}
	wantValue(t, b, "a", val) // a is now the most recent
	clk.Advance(time.Minute)
	mustSet(t, b, "k", val, time.Time{}) // 11 files: evict b, c to reach 9
	if got, want := present(t, b, append(keys, "k")...), strings.Split("adefghijk", ""); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("present %v, want %v", got, want)
	}
	// An entry whose file alone exceeds MaxBytes is refused, and the old
	// value under its key removed.
	err := b.Set(ctx, "a", make([]byte, 10*fileSize), time.Time{})
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, backend.ErrTooLarge) {
		t.Fatalf("Set larger than MaxBytes = %v, want ErrTooLarge", err)
	}
	wantMissing(t, b, "a")
	// Exactly MaxBytes fits, evicting everything else.
	mustSet(t, b, "x", make([]byte, 10*fileSize-headerSize-1-trailerSize), time.Time{})
	if got := present(t, b, append(keys, "k", "x")...); fmt.Sprint(got) != "[x]" {
		t.Errorf("present %v, want only x", got)
	}
}

func TestRunningTotalAvoidsWalks(t *testing.T) {
	dir := t.TempDir()
	// Files already there are counted by the first Set.
	pre := New(dir)
	for i := range 20 {
		mustSet(t, pre, fmt.Sprint("pre-", i), []byte("v"), time.Time{})
	}
	pre.Close()
	clk := newFakeClock()
	b := New(dir, Options{MaxEntries: 100, Clock: clk.Now})
	defer b.Close()
	for i := range 80 {
		mustSet(t, b, fmt.Sprint("k", i), []byte("v"), time.Time{})
		clk.Advance(time.Second)
	}
	if w := b.walks.Load(); w != 1 {
		t.Errorf("%d walks for 80 Sets under the limit, want 1 (the first count)", w)
	}
	wantLen(t, b, 100)
	mustSet(t, b, "over", []byte("v"), time.Time{}) // 101: evict to 90
	if w := b.walks.Load(); w != 2 {
		t.Errorf("%d walks after going over the limit, want 2", w)
	}
	wantLen(t, b, 90)
	wantMissing(t, b, "pre-0") // the oldest went first
	for i := range 10 {
		mustSet(t, b, fmt.Sprint("more-", i), []byte("v"), time.Time{})
	}
	if w := b.walks.Load(); w != 2 {
		t.Errorf("%d walks after refilling to the limit, want still 2", w)
	}
	// Deletes are accounted for too: after deleting 10, 10 more fit.
	for i := range 10 {
		if err := b.Delete(t.Context(), fmt.Sprint("more-", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		mustSet(t, b, fmt.Sprint("again-", i), []byte("v"), time.Time{})
	}
	if w := b.walks.Load(); w != 2 {
		t.Errorf("%d walks, want still 2", w)
	}
	wantLen(t, b, 100)
}

func TestCloseStopsAWalk(t *testing.T) {
	b := New(t.TempDir())
	for i := range 50 {
		mustSet(t, b, fmt.Sprint("k", i), []byte("v"), time.Time{})
	}
	n := 0
	var last error
	for _, err := range b.Keys(t.Context(), "") {
		if err != nil {
			last = err
			break
		}
		n++
		if n == 1 {
			b.Close()
		}
	}
	if n != 1 || !errors.Is(last, backend.ErrClosed) {
		t.Errorf("Keys after Close mid-walk: %d keys then %v; want 1 then ErrClosed", n, last)
	}
}

func TestCloseWithoutUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "unused")
	b := New(dir)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Close of an unused Backend touched the file system: %v", err)
	}
	if err := b.Ping(t.Context()); !errors.Is(err, backend.ErrClosed) {
		t.Errorf("Ping after Close = %v, want ErrClosed", err)
	}
}

func TestTwoBackendsWritingConcurrently(t *testing.T) {
	dir := t.TempDir()
	a, b := New(dir), New(dir)
	defer a.Close()
	defer b.Close()
	backendtest.SharedStore(t, a, b)
	if tmp := tempFiles(t, dir); len(tmp) != 0 {
		t.Errorf("temporary files left: %q", tmp)
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, f := range allFiles(t, dir) {
		if strings.HasPrefix(filepath.Base(f), tempPrefix) {
			out = append(out, f)
		}
	}
	return out
}
