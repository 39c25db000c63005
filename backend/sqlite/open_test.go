package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The child processes of TestConcurrentFirstOpens are this test binary,
// run with -test.run=TestHelperProcess and these variables set.
const (
	helperDBEnv   = "RESTYCACHE_SQLITE_HELPER_DB"   // the database path to open
	helperGoEnv   = "RESTYCACHE_SQLITE_HELPER_GO"   // the start barrier: a file to wait for
	helperNameEnv = "RESTYCACHE_SQLITE_HELPER_NAME" // the child's own key
)

// TestHelperProcess is the body of one child process of
// TestConcurrentFirstOpens; run directly, it does nothing.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperDBEnv)
	if path == "" {
		t.Skip("only run as a child process of TestConcurrentFirstOpens")
	}
	goFile, name := os.Getenv(helperGoEnv), os.Getenv(helperNameEnv)
	fmt.Println("ready")
	// The barrier: every child polls for the same file, which the parent
	// creates once all of them are ready. Bounded, in case the parent died.
	for deadline := time.Now().Add(time.Minute); ; {
		if _, err := os.Stat(goFile); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the start file never appeared")
		}
		time.Sleep(100 * time.Microsecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer b.Close()
	if err := b.Set(ctx, name, []byte(name), time.Time{}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if v, err := b.Get(ctx, name); err != nil || string(v) != name {
		t.Fatalf("Get = %q, %v", v, err)
	}
}

// TestConcurrentFirstOpens starts child processes that all Open the same new
// database file at the same moment; every one must succeed, and every
// child's entry must be in the file afterwards.
func TestConcurrentFirstOpens(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	const (
		rounds   = 20
		children = 20
	)
	for round := range rounds {
		dir := t.TempDir()
		path := filepath.Join(dir, "shared.sqlite")
		goFile := filepath.Join(dir, "go")
		cmds := make([]*exec.Cmd, children)
		stderr := make([]bytes.Buffer, children)
		stdout := make([]*readySignal, children)
		var ready sync.WaitGroup
		for i := range cmds {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(),
				helperDBEnv+"="+path, helperGoEnv+"="+goFile, fmt.Sprintf("%s=child-%d", helperNameEnv, i))
			cmd.Stderr = &stderr[i]
			sig := &readySignal{ready: &ready}
			stdout[i] = sig
			ready.Add(1)
			cmd.Stdout = sig
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds[i] = cmd
		}
		allReady := make(chan struct{})
		go func() { ready.Wait(); close(allReady) }()
		select {
		case <-allReady:
		case <-time.After(2 * time.Minute):
			for _, cmd := range cmds {
				_ = cmd.Process.Kill()
			}
			t.Fatalf("round %d: the children did not all start", round)
		}
		if err := os.WriteFile(goFile, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		failed := 0
		for i, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				failed++
				t.Errorf("round %d: child %d: %v\n%s%s", round, i, err, stdout[i].String(), stderr[i].String())
			}
		}
		if failed > 0 {
			t.Fatalf("round %d: %d of %d concurrent first opens failed", round, failed, children)
		}
		b := New(path)
		n, err := b.Len(t.Context(), "child-")
		b.Close()
		if err != nil || n != children {
			t.Fatalf("round %d: %d entries from children, %v; want %d", round, n, err, children)
		}
	}
}

// readySignal is a child's stdout: it marks ready done once the child has
// printed "ready", and keeps the rest for failure messages.
type readySignal struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready *sync.WaitGroup
	seen  bool
}

func (r *readySignal) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.Write(p)
	if !r.seen && bytes.Contains(r.buf.Bytes(), []byte("ready\n")) {
		r.seen = true
		r.ready.Done()
	}
	return len(p), nil
}

func (r *readySignal) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}
