package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
)

// removeDB deletes a database file with its -wal and -shm files.
func removeDB(t *testing.T, path string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
}

// wantStored opens path with a Backend of its own and checks that it holds
// exactly the given entries, each valued as its key.
func wantStored(t *testing.T, path string, keys ...string) {
	t.Helper()
	b := New(path)
	defer b.Close()
	for _, k := range keys {
		if v, err := b.Get(t.Context(), k); err != nil || string(v) != k {
			t.Errorf("%s holds %q = %q, %v; want %q", filepath.Base(path), k, v, err, k)
		}
	}
	if n, err := b.Len(t.Context(), ""); err != nil || n != len(keys) {
		t.Errorf("%s holds %d entries, %v; want %d", filepath.Base(path), n, err, len(keys))
	}
}

func set(t *testing.T, b *Backend, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := b.Set(t.Context(), k, []byte(k), time.Time{}); err != nil {
			t.Fatalf("Set(%q): %v", k, err)
		}
	}
}

// frozen returns a wall clock for b that only moves when told, so that no
// identity check falls due unless the test advances it.
func frozen(b *Backend) *fakeClock {
	clk := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	b.wallNow = clk.Now
	return clk
}

// TestDeletedFileIsRecreated deletes the database while a Backend uses it:
// within the identity check interval the Backend reopens the path, and what
// it stores afterwards is in the new file there.
func TestDeletedFileIsRecreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deleted.sqlite")
	b := New(path)
	clk := frozen(b)
	defer b.Close()
	set(t, b, "before")
	// Enough readers to keep several pool connections open across the
	// deletion.
	for range 3 {
		if _, err := b.Get(t.Context(), "before"); err != nil {
			t.Fatal(err)
		}
	}
	removeDB(t, path)
	clk.Advance(identityCheckInterval)
	set(t, b, "after")
	wantStored(t, path, "after")
	if v, err := b.Get(t.Context(), "after"); err != nil || string(v) != "after" {
		t.Errorf("Get(after) = %q, %v", v, err)
	}
	if _, err := b.Get(t.Context(), "before"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get(before) after the file was deleted = %v, want ErrNotFound", err)
	}
}

// TestDeletedFileWithTheRealClock is TestDeletedFileIsRecreated on the wall
// clock: writes reach the new file within about the check interval.
func TestDeletedFileWithTheRealClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deleted.sqlite")
	b := New(path)
	defer b.Close()
	set(t, b, "before")
	removeDB(t, path)
	probe := New(path)
	defer probe.Close()
	deadline := time.Now().Add(identityCheckInterval + 5*time.Second)
	for i := 0; ; i++ {
		k := fmt.Sprint("after-", i)
		set(t, b, k)
		if v, err := probe.Get(t.Context(), k); err == nil && string(v) == k {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no write reached the new file within %v", identityCheckInterval+5*time.Second)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReplacedFileIsReopened replaces the database by another valid one:
// after the check interval the Backend uses the replacement.
func TestReplacedFileIsReopened(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.sqlite")
	b := New(path)
	clk := frozen(b)
	defer b.Close()
	set(t, b, "old")

	other := filepath.Join(dir, "other.sqlite")
	o := New(other)
	set(t, o, "from-the-replacement")
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	removeDB(t, path)
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	clk.Advance(identityCheckInterval)
	set(t, b, "new")
	wantStored(t, path, "from-the-replacement", "new")
}

// TestReplacedByADatabaseWithoutTheTable replaces the file by a database
// that lacks the table: it is created there.
func TestReplacedByADatabaseWithoutTheTable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.sqlite")
	b := New(path)
	clk := frozen(b)
	defer b.Close()
	set(t, b, "old")

	other := filepath.Join(dir, "other.sqlite")
	db, err := sql.Open("sqlite3", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE unrelated (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	removeDB(t, path)
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	clk.Advance(identityCheckInterval)
	set(t, b, "new")
	wantStored(t, path, "new")
}

// TestDroppedTableIsRecreated drops the table under a Backend whose
// identity checks never fall due: the "no such table" error alone makes it
// recreate the table, and the call succeeds.
func TestDroppedTableIsRecreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dropped.sqlite")
	b := New(path)
	frozen(b)
	defer b.Close()
	set(t, b, "before")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `DROP TABLE responses`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(t.Context(), "before"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get after the table was dropped = %v, want ErrNotFound", err)
	}
	set(t, b, "after")
	wantStored(t, path, "after")
}

// TestTwoBackendsSurviveADeletion deletes a file that two Backends use:
// each reopens the path when its check falls due, and both then read and
// write the one new file. (The guard against the second one's old pool
// deleting the new -wal and -shm by name matters across processes; within
// one process SQLite shares that state, so this test cannot tell.)
func TestTwoBackendsSurviveADeletion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.sqlite")
	a, b := New(path), New(path)
	clkA, clkB := frozen(a), frozen(b)
	defer a.Close()
	defer b.Close()
	set(t, a, "a-before")
	set(t, b, "b-before")
	removeDB(t, path)

	clkA.Advance(identityCheckInterval)
	set(t, a, "a-after")
	clkB.Advance(identityCheckInterval)
	set(t, b, "b-after")
	set(t, a, "a-later")
	wantStored(t, path, "a-after", "b-after", "a-later")
	for _, s := range []*Backend{a, b} {
		if n, err := s.Len(t.Context(), ""); err != nil || n != 3 {
			t.Errorf("Len = %d, %v; want 3", n, err)
		}
	}
}
