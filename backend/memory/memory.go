// Package memory is restycache's zero-configuration storage backend: an
// in-process map with optional least-recently-used eviction. Nothing
// survives the process; use backend/sqlite or a server backend for that.
package memory

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/restycache/restycache/backend"
)

// ErrTooLarge is returned (wrapped) by Set when a single entry is larger
// than Options.MaxBytes, so it could never fit. It is backend.ErrTooLarge;
// test for it with errors.Is.
var ErrTooLarge = backend.ErrTooLarge

// Options configures a Backend. The zero value is an unbounded cache using
// the wall clock.
type Options struct {
	// MaxEntries is the most entries the backend holds; when a Set would
	// exceed it, the least recently used entries are evicted. Zero or
	// negative means no limit (the default).
	MaxEntries int
	// MaxBytes bounds the sum of len(key)+len(value) over all entries;
	// when a Set would exceed it, the least recently used entries are
	// evicted. A single entry larger than MaxBytes is refused with
	// ErrTooLarge. Zero or negative means no limit (the default).
	MaxBytes int64
	// Clock returns the current time, against which expiry is judged.
	// Nil means time.Now; set it in tests.
	Clock func() time.Time
}

// Backend is an in-memory backend.Storage. Get counts as a use for the LRU
// order. Expired entries are dropped when a read finds them and by
// DeleteExpired. It is safe for concurrent use; create it with New.
type Backend struct {
	maxEntries int
	maxBytes   int64
	now        func() time.Time

	mu       sync.Mutex
	items    map[string]*entry
	lru      entry // sentinel: lru.next is the most recently used
	bytes    int64 // sum of len(key)+len(value)
	expiring int   // entries with a non-zero expiry
	locks    map[string]lock
	closed   bool
}

// lock is one lock held through TryLock.
type lock struct {
	holder    *byte // identifies the taker: a fresh allocation per TryLock
	expiresAt time.Time
}

// entry is one stored value and its place in the LRU list.
type entry struct {
	key        string
	value      []byte
	expiresAt  time.Time // zero: never
	memo       any       // see SetMemo; dropped with value
	prev, next *entry
}

func (e *entry) size() int64 { return int64(len(e.key) + len(e.value)) }

// New returns an empty in-memory backend. When several Options are given the
// last one wins; with none, the backend is unbounded and uses time.Now.
// New never fails.
func New(opts ...Options) *Backend {
	var o Options
	if len(opts) > 0 {
		o = opts[len(opts)-1]
	}
	b := &Backend{
		maxEntries: o.MaxEntries,
		maxBytes:   o.MaxBytes,
		now:        o.Clock,
		items:      map[string]*entry{},
	}
	if b.now == nil {
		b.now = time.Now
	}
	b.lru.next, b.lru.prev = &b.lru, &b.lru
	return b
}

var (
	_ backend.Storage  = (*Backend)(nil)
	_ backend.Scanner  = (*Backend)(nil)
	_ backend.Locker   = (*Backend)(nil)
	_ backend.Adopter  = (*Backend)(nil)
	_ backend.Memoizer = (*Backend)(nil)
)

// check reports a done context or a closed backend; b.mu must be held.
func (b *Backend) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("restycache/memory: %w", err)
	}
	if b.closed {
		return backend.ErrClosed
	}
	return nil
}

func (b *Backend) expired(e *entry, now time.Time) bool {
	return !e.expiresAt.IsZero() && !now.Before(e.expiresAt)
}

// unlink removes e from the LRU list.
func (b *Backend) unlink(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

// pushFront makes e the most recently used entry.
func (b *Backend) pushFront(e *entry) {
	e.prev = &b.lru
	e.next = b.lru.next
	b.lru.next.prev = e
	b.lru.next = e
}

// remove deletes e from the map, the list and the accounting.
func (b *Backend) remove(e *entry) {
	delete(b.items, e.key)
	b.unlink(e)
	b.bytes -= e.size()
	if !e.expiresAt.IsZero() {
		b.expiring--
	}
}

// Get returns the stored value itself, without copying it: the caller must
// not modify the returned slice. A hit moves the entry to the front of the
// LRU order. An expired entry is removed and reported as
// backend.ErrNotFound.
func (b *Backend) Get(ctx context.Context, key string) ([]byte, error) {
	v, _, err := b.GetMemo(ctx, key)
	return v, err
}

// GetMemo implements backend.Memoizer: it is Get, and returns the memo
// attached to the value by SetMemo, if any.
func (b *Backend) GetMemo(ctx context.Context, key string) ([]byte, any, error) {
	now := b.now() // before the lock: concurrent hits hold it for less
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return nil, nil, err
	}
	e, ok := b.items[key]
	if !ok {
		return nil, nil, backend.ErrNotFound
	}
	if b.expired(e, now) {
		b.remove(e)
		return nil, nil, backend.ErrNotFound
	}
	if b.lru.next != e {
		b.unlink(e)
		b.pushFront(e)
	}
	return e.value, e.memo, nil
}

// SetMemo implements backend.Memoizer: it attaches memo to the value stored
// under key when that value is still value (the slice Get returned). Stored
// values are never modified in place, so the memo stays true to its value
// until a Set, Delete, expiry or eviction drops both.
func (b *Backend) SetMemo(key string, value []byte, memo any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.items[key]; ok && sameBytes(e.value, value) {
		e.memo = memo
	}
}

// sameBytes reports whether a and b are the same slice of the same array.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// Set stores a copy of value under key, then evicts least recently used
// entries until the limits hold again. An expiresAt that is not after the
// clock's now removes the key instead. An entry larger than MaxBytes
// removes the key and returns an error wrapping ErrTooLarge.
func (b *Backend) Set(ctx context.Context, key string, value []byte, expiresAt time.Time) error {
	// Always a new slice: a caller of Get may still hold the old one.
	return b.set(ctx, key, value, expiresAt, true)
}

// SetOwned implements backend.Adopter: it is Set without the copy. The
// backend keeps value itself, which the caller must never modify again.
func (b *Backend) SetOwned(ctx context.Context, key string, value []byte, expiresAt time.Time) error {
	return b.set(ctx, key, value, expiresAt, false)
}

func (b *Backend) set(ctx context.Context, key string, value []byte, expiresAt time.Time, clone bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return err
	}
	old := b.items[key]
	if old != nil {
		b.remove(old)
	}
	if !expiresAt.IsZero() && !b.now().Before(expiresAt) {
		return nil
	}
	size := int64(len(key) + len(value))
	if b.maxBytes > 0 && size > b.maxBytes {
		return fmt.Errorf("restycache/memory: set %q: %w (%d bytes, limit %d)", key, ErrTooLarge, size, b.maxBytes)
	}
	v := value
	if clone {
		v = make([]byte, len(value))
		copy(v, value)
	}
	e := old
	if e == nil {
		e = &entry{key: key}
	}
	e.value, e.expiresAt, e.memo = v, expiresAt, nil
	b.items[key] = e
	b.pushFront(e)
	b.bytes += size
	if !expiresAt.IsZero() {
		b.expiring++
	}
	for b.overLimit() {
		b.remove(b.lru.prev)
	}
	return nil
}

func (b *Backend) overLimit() bool {
	return (b.maxEntries > 0 && len(b.items) > b.maxEntries) ||
		(b.maxBytes > 0 && b.bytes > b.maxBytes)
}

// Delete removes the given keys; absent keys are ignored.
func (b *Backend) Delete(ctx context.Context, keys ...string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return err
	}
	for _, k := range keys {
		if e, ok := b.items[k]; ok {
			b.remove(e)
		}
	}
	return nil
}

// Clear removes every entry whose key starts with prefix.
func (b *Backend) Clear(ctx context.Context, prefix string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return err
	}
	if prefix == "" {
		b.reset()
		return nil
	}
	for k, e := range b.items {
		if strings.HasPrefix(k, prefix) {
			b.remove(e)
		}
	}
	return nil
}

func (b *Backend) reset() {
	clear(b.items)
	b.lru.next, b.lru.prev = &b.lru, &b.lru
	b.bytes, b.expiring = 0, 0
}

// Keys yields the keys that start with prefix and are present and not
// expired when Keys starts, each once, in no particular order. It works on a
// snapshot of the key set, so the backend may be modified during the
// iteration; a key deleted meanwhile may still be yielded.
func (b *Backend) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for r, err := range b.Scan(ctx, prefix) {
			if !yield(r.Key, err) || err != nil {
				return
			}
		}
	}
}

// Scan yields the entries whose keys start with prefix and that are present
// and not expired when Scan starts, like Keys. Values are the stored slices
// themselves: read-only.
func (b *Backend) Scan(ctx context.Context, prefix string) iter.Seq2[backend.Record, error] {
	return func(yield func(backend.Record, error) bool) {
		b.mu.Lock()
		if err := b.check(ctx); err != nil {
			b.mu.Unlock()
			yield(backend.Record{}, err)
			return
		}
		now := b.now()
		recs := make([]backend.Record, 0, len(b.items))
		for k, e := range b.items {
			if !b.expired(e, now) && strings.HasPrefix(k, prefix) {
				recs = append(recs, backend.Record{Key: k, Value: e.value, ExpiresAt: e.expiresAt})
			}
		}
		b.mu.Unlock()
		for _, r := range recs {
			if err := ctx.Err(); err != nil {
				yield(backend.Record{}, fmt.Errorf("restycache/memory: %w", err))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// Len reports how many entries whose keys start with prefix are present and
// not expired.
func (b *Backend) Len(ctx context.Context, prefix string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return 0, err
	}
	if prefix == "" && b.expiring == 0 {
		return len(b.items), nil
	}
	now := b.now()
	n := 0
	for k, e := range b.items {
		if !b.expired(e, now) && strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n, nil
}

// DeleteExpired removes every entry whose expiry is not after the clock's
// now and reports how many it removed.
func (b *Backend) DeleteExpired(ctx context.Context) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return 0, err
	}
	if b.expiring == 0 {
		return 0, nil
	}
	now := b.now()
	n := 0
	for _, e := range b.items {
		if b.expired(e, now) {
			b.remove(e)
			n++
		}
	}
	return n, nil
}

// TryLock takes the lock named key for ttl unless another taker holds it,
// so that clients sharing this backend in one process coalesce identical
// requests (see backend.Locker). Locks are apart from entries. The clock
// judges their expiry too.
func (b *Backend) TryLock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return nil, false, err
	}
	now := b.now()
	if l, held := b.locks[key]; held && now.Before(l.expiresAt) {
		return nil, false, nil
	}
	if b.locks == nil {
		b.locks = make(map[string]lock)
	}
	holder := new(byte)
	b.locks[key] = lock{holder: holder, expiresAt: now.Add(ttl)}
	unlock := func(context.Context) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		if l, ok := b.locks[key]; ok && l.holder == holder {
			delete(b.locks, key)
		}
		return nil
	}
	return unlock, true, nil
}

// Close drops every entry; later calls of the other methods return
// backend.ErrClosed. Close is idempotent and always returns nil.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		b.reset()
		clear(b.locks)
	}
	return nil
}
