package hooks

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/cache"
)

// heldStorage is a plain backend whose reads wait for release, counting
// them; entered receives once per read that began.
type heldStorage struct {
	backend.Storage
	gets    atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func (h *heldStorage) Get(ctx context.Context, key string) ([]byte, error) {
	h.gets.Add(1)
	h.entered <- struct{}{}
	<-h.release
	return h.Storage.Get(ctx, key)
}

// waiting returns how many callers wait for the read of key in flight.
func (r *reads) waiting(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rd := r.m[key]; rd != nil {
		return rd.waiters
	}
	return 0
}

// waitFor waits, a bounded number of times, until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 100000 {
		if cond() {
			return
		}
		runtime.Gosched()
	}
	t.Fatalf("gave up waiting for %s", what)
}

func TestConcurrentReadsOfAKeyShareOneBackendCall(t *testing.T) {
	ctx := context.Background()
	raw := memory.New()
	if err := NewStore(raw, StoreOptions{}).Save(ctx, "k", recentEntry("body"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	held := &heldStorage{Storage: raw, entered: make(chan struct{}, 1), release: make(chan struct{})}
	s := NewStore(held, StoreOptions{Logger: slog.New(slog.DiscardHandler)})

	const callers = 8
	entries := make([]*cache.Entry, callers)
	shared := make([]bool, callers)
	var wg sync.WaitGroup
	read := func(i int) {
		wg.Go(func() {
			var err error
			entries[i], _, shared[i], err = s.lookup(ctx, "k", true)
			if err != nil {
				t.Error(err)
			}
		})
	}
	read(0)
	<-held.entered // the first read is at the backend
	for i := 1; i < callers; i++ {
		read(i)
	}
	waitFor(t, "the other reads to join", func() bool { return s.reads.waiting(s.full("k")) == callers-1 })

	// A waiter whose context ends stops waiting; the read goes on.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if e, _, _, err := s.lookup(gone, "k", true); e != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled waiter got %v, %v; want context.Canceled", e, err)
	}

	close(held.release)
	wg.Wait()
	if n := held.gets.Load(); n != 1 {
		t.Errorf("%d concurrent reads of one key made %d backend calls, want 1", callers, n)
	}
	for i, e := range entries {
		if e == nil || e != entries[0] || !shared[i] || string(e.Body) != "body" {
			t.Fatalf("read %d: %v (shared %v), want the first read's shared entry", i, e, shared[i])
		}
	}

	// Once the read has ended, the next one asks the backend again.
	held.entered = make(chan struct{}, 1)
	if e, _, _, _ := s.lookup(ctx, "k", true); e == nil || held.gets.Load() != 2 {
		t.Errorf("a read after the shared one: %v, backend calls %d; want the entry and 2", e, held.gets.Load())
	}
	// Lookup, whose caller may modify what it gets, reads alone.
	held.entered = make(chan struct{}, 1)
	if e, _, _ := s.Lookup(ctx, "k"); e == nil || e == entries[0] || held.gets.Load() != 3 {
		t.Errorf("Lookup: %v, backend calls %d; want its own entry and 3", e, held.gets.Load())
	}
}

func TestReadPanicIsEveryCallersError(t *testing.T) {
	var r reads
	started, release := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		_, err := r.do(context.Background(), "k", func() (*cache.Entry, error) {
			close(started)
			<-release
			panic("decoder bug")
		})
		errs <- err
	}()
	<-started
	go func() {
		_, err := r.do(context.Background(), "k", func() (*cache.Entry, error) {
			t.Error("a waiter ran its own read")
			return nil, nil
		})
		errs <- err
	}()
	waitFor(t, "the waiter to join", func() bool { return r.waiting("k") == 1 })
	close(release)
	for range 2 {
		if err := <-errs; !errors.Is(err, ErrBackendPanic) {
			t.Errorf("err = %v, want ErrBackendPanic", err)
		}
	}
	if len(r.m) != 0 {
		t.Errorf("%d reads left in flight after a panic", len(r.m))
	}
}
