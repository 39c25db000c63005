package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The child processes of TestConcurrentFirstOpens are this test binary,
// run with -test.run=TestHelperProcess and these variables set.
const (
	helperDirEnv    = "RESTYCACHE_SQLITE_HELPER_DIR"    // where the databases and start files are
	helperRoundsEnv = "RESTYCACHE_SQLITE_HELPER_ROUNDS" // how many databases to open, one after another
	helperNameEnv   = "RESTYCACHE_SQLITE_HELPER_NAME"   // the child's own key
)

// TestHelperProcess is the body of one child process of
// TestConcurrentFirstOpens; run directly, it does nothing. For each round r
// it prints "ready r", waits for the file go-r to appear (the start
// barrier, created once every child is ready), then opens the new database
// db-r.sqlite, stores its own key there and reads it back.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("only run as a child process of TestConcurrentFirstOpens")
	}
	rounds, err := strconv.Atoi(os.Getenv(helperRoundsEnv))
	if err != nil {
		t.Fatal(err)
	}
	name := os.Getenv(helperNameEnv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for r := range rounds {
		fmt.Printf("ready %d\n", r)
		goFile := filepath.Join(dir, fmt.Sprint("go-", r))
		// Polling a file is the barrier; bounded, in case the parent died.
		for {
			if _, err := os.Stat(goFile); err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("round %d: the start file never appeared", r)
			}
			time.Sleep(50 * time.Microsecond)
		}
		b, err := Open(ctx, filepath.Join(dir, fmt.Sprintf("db-%d.sqlite", r)))
		if err != nil {
			t.Fatalf("round %d: Open: %v", r, err)
		}
		if err := b.Set(ctx, name, []byte(name), time.Time{}); err != nil {
			t.Fatalf("round %d: Set: %v", r, err)
		}
		if v, err := b.Get(ctx, name); err != nil || string(v) != name {
			t.Fatalf("round %d: Get = %q, %v", r, v, err)
		}
		if err := b.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", r, err)
		}
	}
}

// TestConcurrentFirstOpens starts child processes that, round after round,
// all Open the same new database file at the same moment; every open must
// succeed, and every child's entry must be in each file afterwards.
func TestConcurrentFirstOpens(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	const (
		children = 16
		rounds   = 60
	)
	dir := t.TempDir()
	events := make(chan string, 2*children*(rounds+1))
	type child struct {
		cmd    *exec.Cmd
		out    *lineWriter
		stderr bytes.Buffer
		err    error
	}
	kids := make([]*child, children)
	exited := make(chan *child, children)
	for i := range kids {
		c := &child{out: &lineWriter{events: events}}
		c.cmd = exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.v")
		c.cmd.Env = append(os.Environ(), helperDirEnv+"="+dir,
			helperRoundsEnv+"="+strconv.Itoa(rounds), fmt.Sprintf("%s=child-%d", helperNameEnv, i))
		c.cmd.Stdout, c.cmd.Stderr = c.out, &c.stderr
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		kids[i] = c
		go func() {
			c.err = c.cmd.Wait()
			exited <- c
		}()
	}
	running := children
	t.Cleanup(func() {
		for _, c := range kids {
			_ = c.cmd.Process.Kill() // an error if it has exited already
		}
		for ; running > 0; running-- {
			<-exited
		}
	})
	report := func(c *child) string {
		return fmt.Sprintf("%v\n%s%s", c.err, c.out, &c.stderr)
	}
	timeout := time.After(5 * time.Minute)
	for r := range rounds {
		want := fmt.Sprint("ready ", r)
		for ready := 0; ready < children; {
			select {
			case line := <-events:
				if line == want {
					ready++
				}
			case c := <-exited:
				running--
				t.Fatalf("a child exited before round %d: %s", r, report(c))
			case <-timeout:
				t.Fatalf("round %d: the children did not all get ready", r)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint("go-", r)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for ; running > 0; running-- {
		select {
		case c := <-exited:
			if c.err != nil {
				t.Errorf("child: %s", report(c))
			}
		case <-timeout:
			t.Fatal("the children did not all finish")
		}
	}
	if t.Failed() {
		return
	}
	for r := range rounds {
		b := New(filepath.Join(dir, fmt.Sprintf("db-%d.sqlite", r)))
		n, err := b.Len(t.Context(), "child-")
		b.Close()
		if err != nil || n != children {
			t.Errorf("round %d: %d entries from children, %v; want %d", r, n, err, children)
		}
	}
}

// lineWriter is a child's stdout: it sends each complete line to events
// and keeps everything for failure messages.
type lineWriter struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	events  chan<- string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
		if strings.HasPrefix(line, "ready ") {
			w.events <- line
		}
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}
