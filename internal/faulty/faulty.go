// Package faulty wraps any restycache storage backend in one that injects
// faults: errors, latency, hangs, corrupt values and panics, per kind of
// operation. Tests use it to give every backend, real servers included, the
// same fault tests. It is a test helper: nothing in the library imports it.
package faulty

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/restycache/restycache/backend"
)

// Op names the kind of operation a Fault applies to.
type Op string

// The operations a Fault can apply to.
const (
	Get    Op = "get"
	Set    Op = "set"
	Delete Op = "delete"
	Keys   Op = "keys" // Keys and Scan
	Len    Op = "len"
	Clear  Op = "clear"
	Lock   Op = "lock"
	Ping   Op = "ping"
)

// Fault is what an operation does instead of, or before, reaching the
// wrapped backend. The zero Fault does nothing.
type Fault struct {
	// Err, when set, is returned without calling the wrapped backend.
	Err error
	// Delay waits this long (or until the context is done) before the
	// operation goes on.
	Delay time.Duration
	// Hang blocks until the operation's context is done, then returns its
	// error, like a server that never answers.
	Hang bool
	// Panic, when not nil, makes the operation panic with it.
	Panic any
	// Corrupt, for Get, flips one bit of the value the wrapped backend
	// returned (a copy: the stored value is untouched).
	Corrupt bool
}

// Backend is a backend.Storage that passes every call to the wrapped one
// unless a Fault applies. It also implements backend.Scanner, Locker and
// Pinger: over a wrapped backend that lacks one, Scan reads through Keys
// and Get, TryLock fails and Ping answers nil.
type Backend struct {
	inner backend.Storage

	mu     sync.Mutex
	faults map[Op]Fault
	calls  map[Op]*atomic.Int64
}

var (
	_ backend.Storage = (*Backend)(nil)
	_ backend.Scanner = (*Backend)(nil)
	_ backend.Locker  = (*Backend)(nil)
	_ backend.Pinger  = (*Backend)(nil)
)

// Wrap returns a Backend over inner with no fault injected.
func Wrap(inner backend.Storage) *Backend {
	b := &Backend{inner: inner, faults: map[Op]Fault{}, calls: map[Op]*atomic.Int64{}}
	for _, op := range []Op{Get, Set, Delete, Keys, Len, Clear, Lock, Ping} {
		b.calls[op] = new(atomic.Int64)
	}
	return b
}

// Inner returns the wrapped backend.
func (b *Backend) Inner() backend.Storage { return b.inner }

// Inject makes every later op of the given kinds do f.
func (b *Backend) Inject(f Fault, ops ...Op) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, op := range ops {
		b.faults[op] = f
	}
}

// Heal removes every fault.
func (b *Backend) Heal() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.faults)
}

// Calls reports how many operations of kind op were made, faulty or not.
func (b *Backend) Calls(op Op) int64 { return b.calls[op].Load() }

// enter counts op and applies its fault. It returns a non-nil error when
// the operation must fail without reaching the wrapped backend, and the
// fault, for Corrupt.
func (b *Backend) enter(ctx context.Context, op Op) (Fault, error) {
	b.calls[op].Add(1)
	b.mu.Lock()
	f := b.faults[op]
	b.mu.Unlock()
	if f.Panic != nil {
		panic(f.Panic)
	}
	if f.Hang {
		<-ctx.Done()
		return f, fmt.Errorf("faulty: %s hung: %w", op, ctx.Err())
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return f, fmt.Errorf("faulty: %s delayed: %w", op, ctx.Err())
		case <-t.C:
		}
	}
	if f.Err != nil {
		return f, fmt.Errorf("faulty: %s: %w", op, f.Err)
	}
	return f, nil
}

// Get implements backend.Storage.
func (b *Backend) Get(ctx context.Context, key string) ([]byte, error) {
	f, err := b.enter(ctx, Get)
	if err != nil {
		return nil, err
	}
	v, err := b.inner.Get(ctx, key)
	if err == nil && f.Corrupt && len(v) > 0 {
		v = append([]byte(nil), v...)
		v[len(v)/2] ^= 0x10
	}
	return v, err
}

// Set implements backend.Storage.
func (b *Backend) Set(ctx context.Context, key string, value []byte, expiresAt time.Time) error {
	if _, err := b.enter(ctx, Set); err != nil {
		return err
	}
	return b.inner.Set(ctx, key, value, expiresAt)
}

// Delete implements backend.Storage.
func (b *Backend) Delete(ctx context.Context, keys ...string) error {
	if _, err := b.enter(ctx, Delete); err != nil {
		return err
	}
	return b.inner.Delete(ctx, keys...)
}

// Clear implements backend.Storage.
func (b *Backend) Clear(ctx context.Context, prefix string) error {
	if _, err := b.enter(ctx, Clear); err != nil {
		return err
	}
	return b.inner.Clear(ctx, prefix)
}

// Keys implements backend.Storage.
func (b *Backend) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if _, err := b.enter(ctx, Keys); err != nil {
			yield("", err)
			return
		}
		for k, err := range b.inner.Keys(ctx, prefix) {
			if !yield(k, err) {
				return
			}
		}
	}
}

// Scan implements backend.Scanner.
func (b *Backend) Scan(ctx context.Context, prefix string) iter.Seq2[backend.Record, error] {
	return func(yield func(backend.Record, error) bool) {
		if _, err := b.enter(ctx, Keys); err != nil {
			yield(backend.Record{}, err)
			return
		}
		if sc, ok := b.inner.(backend.Scanner); ok {
			for r, err := range sc.Scan(ctx, prefix) {
				if !yield(r, err) {
					return
				}
			}
			return
		}
		for k, err := range b.inner.Keys(ctx, prefix) {
			if err != nil {
				yield(backend.Record{}, err)
				return
			}
			v, err := b.inner.Get(ctx, k)
			if err != nil {
				continue // gone meanwhile
			}
			if !yield(backend.Record{Key: k, Value: v}, nil) {
				return
			}
		}
	}
}

// Len implements backend.Storage.
func (b *Backend) Len(ctx context.Context, prefix string) (int, error) {
	if _, err := b.enter(ctx, Len); err != nil {
		return 0, err
	}
	return b.inner.Len(ctx, prefix)
}

// DeleteExpired implements backend.Storage; no fault applies to it.
func (b *Backend) DeleteExpired(ctx context.Context) (int, error) {
	return b.inner.DeleteExpired(ctx)
}

// TryLock implements backend.Locker.
func (b *Backend) TryLock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, bool, error) {
	if _, err := b.enter(ctx, Lock); err != nil {
		return nil, false, err
	}
	l, ok := b.inner.(backend.Locker)
	if !ok {
		return nil, false, fmt.Errorf("faulty: %T is no backend.Locker", b.inner)
	}
	return l.TryLock(ctx, key, ttl)
}

// Ping implements backend.Pinger.
func (b *Backend) Ping(ctx context.Context) error {
	if _, err := b.enter(ctx, Ping); err != nil {
		return err
	}
	if p, ok := b.inner.(backend.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// Close implements backend.Storage; no fault applies to it.
func (b *Backend) Close() error { return b.inner.Close() }
