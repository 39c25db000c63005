package hooks

import (
	"context"
	"fmt"
	"sync"

	"github.com/restycache/restycache/cache"
)

// reads coalesces the concurrent reads of one storage key on a backend
// that keeps no decoded entries of its own (one that is not a
// backend.Memoizer): while a read of the key is in flight, later ones wait
// for its result instead of asking the backend again. A burst of N
// requests for one URL then costs a shared store one round trip, not N,
// before the flight that coalesces their origin request. Each waiter still
// stops waiting when its own context ends, and a panic in the read is the
// error of every caller (golang.org/x/sync/singleflight would re-panic it
// in its waiters). The zero value is ready to use.
type reads struct {
	mu sync.Mutex
	m  map[string]*read
}

// read is one read in flight and, once done, its result. done is made by
// the first waiter, so a read that nobody joins allocates no channel.
type read struct {
	done    chan struct{} // under reads.mu
	waiters int           // joined after the first, under reads.mu (tests watch it)
	entry   *cache.Entry
	err     error
}

// do returns fn's result for key: by running fn, or by waiting for the
// run of fn for key already in flight. A waiter whose ctx ends first
// returns its error.
func (r *reads) do(ctx context.Context, key string, fn func() (*cache.Entry, error)) (e *cache.Entry, err error) {
	r.mu.Lock()
	if rd := r.m[key]; rd != nil {
		rd.waiters++
		if rd.done == nil {
			rd.done = make(chan struct{})
		}
		done := rd.done
		r.mu.Unlock()
		select {
		case <-done:
			return rd.entry, rd.err
		case <-ctx.Done():
			return nil, fmt.Errorf("restycache: read %s: %w", key, ctx.Err())
		}
	}
	if r.m == nil {
		r.m = make(map[string]*read)
	}
	rd := &read{}
	r.m[key] = rd
	r.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			e, err = nil, fmt.Errorf("restycache: read %s: %w: %v", key, ErrBackendPanic, p)
		}
		rd.entry, rd.err = e, err
		r.mu.Lock()
		delete(r.m, key)
		if rd.done != nil {
			close(rd.done)
		}
		r.mu.Unlock()
	}()
	return fn()
}
