package filesystem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
)

// childDirEnv names the directory a re-executed test binary writes to as
// the child of TestAnotherProcessWrites.
const childDirEnv = "RESTYCACHE_FS_CHILD_DIR"

const (
	childRounds = 400
	childShared = 5
)

// repeated returns the value a writer stores in round i: a unit naming the
// writer and round, repeated so sizes vary.
func repeated(writer string, i int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%s%d|", writer, i)), 1+(i*37)%700)
}

// whole reports whether v is one unit (ending in '|') repeated.
func whole(v []byte) bool {
	i := bytes.IndexByte(v, '|')
	if i < 0 {
		return false
	}
	unit := v[:i+1]
	return len(v)%len(unit) == 0 && bytes.Equal(v, bytes.Repeat(unit, len(v)/len(unit)))
}

// TestChildWriter is the child side of TestAnotherProcessWrites; it does
// nothing unless run by it.
func TestChildWriter(t *testing.T) {
	dir := os.Getenv(childDirEnv)
	if dir == "" {
		t.Skip("run as the child of TestAnotherProcessWrites")
	}
	b := New(dir)
	defer b.Close()
	ctx := context.Background()
	for i := range childRounds {
		if err := b.Set(ctx, fmt.Sprint("shared-", i%childShared), repeated("child", i), time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := b.Set(ctx, fmt.Sprint("child-", i), repeated("child", i), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAnotherProcessWrites re-executes the test binary as a second process
// writing to one directory while this one reads and writes the same keys:
// every read is a miss or a whole value, never a torn one, and every entry
// the child stored is there afterwards.
func TestAnotherProcessWrites(t *testing.T) {
	if os.Getenv(childDirEnv) != "" {
		t.Skip("this is the child")
	}
	dir := t.TempDir()
	b := New(dir)
	defer b.Close()
	ctx := t.Context()

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChildWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	deadline := time.After(2 * time.Minute)
	reads, hits := 0, 0
	var childErr error
loop:
	for i := 0; ; i++ {
		select {
		case childErr = <-done:
			break loop
		case <-deadline:
			t.Fatalf("the child did not finish within 2 minutes")
		default:
		}
		key := fmt.Sprint("shared-", i%childShared)
		v, err := b.Get(ctx, key)
		reads++
		switch {
		case errors.Is(err, backend.ErrNotFound):
		case err != nil:
			t.Fatalf("Get(%s) while the child writes: %v", key, err)
		case !whole(v):
			t.Fatalf("Get(%s) = a torn value of %d bytes: %.40q...", key, len(v), v)
		default:
			hits++
		}
		if i%3 == 0 {
			if err := b.Set(ctx, key, repeated("parent", i), time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if childErr != nil {
		t.Fatalf("child: %v\n%s", childErr, out.Bytes())
	}
	if !bytes.Contains(out.Bytes(), []byte("PASS")) {
		t.Fatalf("the child did not run its writer:\n%s", out.Bytes())
	}
	t.Logf("%d reads while the child wrote, %d hits", reads, hits)
	if hits == 0 {
		t.Errorf("no read hit while the child wrote")
	}
	for i := range childRounds {
		k := fmt.Sprint("child-", i)
		v, err := b.Get(ctx, k)
		if err != nil || !bytes.Equal(v, repeated("child", i)) {
			t.Fatalf("Get(%s) after the child finished: %d bytes, %v", k, len(v), err)
		}
	}
	if n, err := b.Len(ctx, ""); err != nil || n != childRounds+childShared {
		t.Errorf("Len = %d, %v; want %d", n, err, childRounds+childShared)
	}
	if tmp := tempFiles(t, dir); len(tmp) != 0 {
		t.Errorf("temporary files left: %q", tmp)
	}
}
