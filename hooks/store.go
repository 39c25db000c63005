package hooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/cache"
)

// DefaultBackendTimeout bounds each backend operation on a request's path
// (a read, a write, a delete) when StoreOptions.Timeout is zero. Past it the
// request is answered by the origin.
const DefaultBackendTimeout = 500 * time.Millisecond

// DefaultReportInterval is how often a backend failure that goes on is
// reported again, with a count of the reports suppressed meanwhile, when
// StoreOptions.ReportInterval is zero.
const DefaultReportInterval = 10 * time.Second

// NamespaceSeparator separates a namespace from the keys inside it: in
// namespace "api", key "k" is stored as "api:k".
const NamespaceSeparator = ":"

// ErrBackendPanic is wrapped by the error of a backend operation that
// panicked. The panic is recovered: the operation failed, nothing else.
var ErrBackendPanic = errors.New("restycache: backend panicked")

// ErrBackendUnavailable is wrapped by the error of a request-path operation
// that the Store did not send because the backend has been failing: after a
// few failures in a row it is left alone for a short, growing pause, then
// tried again.
var ErrBackendUnavailable = errors.New("restycache: backend unavailable, retrying later")

// Op names a kind of backend operation, for Stats and reports.
type Op uint8

// The kinds of backend operation.
const (
	OpGet Op = iota
	OpSet
	OpDelete
	OpKeys
	OpLen
	OpClear
	OpDeleteExpired
	OpPing
	OpLock
	OpClose
	// OpDecode is not a backend call: a stored entry that failed to decode.
	OpDecode
	numOps
)

var opNames = [numOps]string{"get", "set", "delete", "keys", "len", "clear", "delete-expired", "ping", "lock", "close", "decode"}

// String returns the operation's lower-case name, such as "get".
func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return "unknown"
}

// Stats counts what a Store did. All counters only grow.
type Stats struct {
	// Hits and Misses count requests answered from storage or not.
	Hits, Misses uint64
	// Writes counts entries stored.
	Writes uint64
	// Errors counts failed backend operations of every kind; Failed has
	// them by kind (only kinds that failed are present). Corrupt entries
	// count under OpDecode.
	Errors uint64
	Failed map[Op]uint64
	// Skipped counts request-path operations not sent to a backend that
	// was failing (ErrBackendUnavailable).
	Skipped uint64
}

// StoreOptions configures a Store. The zero value is usable.
type StoreOptions struct {
	// Namespace, when not empty, keeps the Store's keys apart from other
	// Stores' on one backend: keys are stored under Namespace +
	// NamespaceSeparator, and Clear, Len and the listings see only them.
	Namespace string
	// Timeout bounds each backend operation on a request's path; zero
	// means DefaultBackendTimeout.
	Timeout time.Duration
	// Logger receives reports of backend failures; nil means
	// slog.Default(). Reports are rate-limited: once when a failure
	// starts, then at most once per ReportInterval with a count of what
	// was suppressed, and once when it ends.
	Logger *slog.Logger
	// ReportInterval is the least time between two reports of one
	// failing kind of operation; zero means DefaultReportInterval.
	ReportInterval time.Duration
}

// Store is the one layer between the Transport and a backend. It encodes
// and decodes entries (a corrupt one is a miss, deleted), resolves redirect
// aliases, namespaces keys, and makes every backend call safe: bounded by
// the per-operation timeout, a panic recovered as an error, failures
// counted and reported at a limited rate, and a backend that keeps failing
// left alone for a growing pause. It never fails a request: callers treat
// its errors as misses. It is safe for concurrent use.
type Store struct {
	storage backend.Storage
	prefix  string
	timeout time.Duration
	rep     *reporter
	brk     breaker

	hits, misses, writes, skipped atomic.Uint64
	failed                        [numOps]atomic.Uint64
}

// NewStore returns a Store over s.
func NewStore(s backend.Storage, o StoreOptions) *Store {
	st := &Store{storage: s, timeout: o.Timeout}
	if o.Namespace != "" {
		st.prefix = o.Namespace + NamespaceSeparator
	}
	if st.timeout <= 0 {
		st.timeout = DefaultBackendTimeout
	}
	st.rep = newReporter(o.Logger, o.ReportInterval)
	return st
}

// Storage returns the backend the Store was made with.
func (s *Store) Storage() backend.Storage { return s.storage }

// Stats returns the Store's counters.
func (s *Store) Stats() Stats {
	st := Stats{Hits: s.hits.Load(), Misses: s.misses.Load(), Writes: s.writes.Load(), Skipped: s.skipped.Load()}
	for op := range numOps {
		if n := s.failed[op].Load(); n > 0 {
			if st.Failed == nil {
				st.Failed = make(map[Op]uint64)
			}
			st.Failed[op] = n
			st.Errors += n
		}
	}
	return st
}

// CountHit counts a request answered from storage (hit true) or not.
func (s *Store) CountHit(hit bool) {
	if hit {
		s.hits.Add(1)
	} else {
		s.misses.Add(1)
	}
}

// call runs one backend operation safely. On a request's path (bounded) it
// is skipped while the backend is left alone, limited to the Store's
// timeout, and its failures are reported through the logger (management
// calls return theirs to the caller). A panic becomes an error wrapping
// ErrBackendPanic. Failures are counted, except a miss and the end of a
// context the caller ended itself.
func (s *Store) call(ctx context.Context, op Op, bounded bool, fn func(context.Context) error) (err error) {
	if bounded {
		if !s.brk.allow() {
			s.skipped.Add(1)
			return fmt.Errorf("restycache: backend %s: %w", op, ErrBackendUnavailable)
		}
		var cancel context.CancelFunc
		parent := ctx
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
		defer func() {
			if err != nil && parent.Err() != nil {
				return // the caller gave up: no verdict on the backend
			}
			s.brk.record(err == nil || errors.Is(err, backend.ErrNotFound))
		}()
	}
	defer func() {
		if r := recover(); r != nil {
			if yp, ok := r.(yieldPanic); ok {
				panic(yp.v) // the caller's callback panicked, not the backend
			}
			err = fmt.Errorf("restycache: backend %s: %w: %v", op, ErrBackendPanic, r)
		}
		switch {
		case err == nil || errors.Is(err, backend.ErrNotFound):
			s.rep.ok(op)
		case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
			// Cancelled by the caller: not the backend's failure.
		default:
			s.failed[op].Add(1)
			if bounded { // management calls return their errors instead
				s.rep.fail(op, err)
			}
		}
	}()
	return fn(ctx)
}

// detached returns a context for a write or delete made on behalf of a
// request: it keeps ctx's values but not its cancellation, so a response is
// not lost because its caller went away. The Store's timeout still bounds
// it.
func detached(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

func (s *Store) full(key cache.Key) string { return s.prefix + string(key) }

// Lookup returns the record stored under key, following an alias record to
// its target; the key returned is where the record was found. A missing
// record is (nil, nil). A corrupt one is deleted and reported as missing.
// Other failures are returned wrapped, for the caller to treat as a miss.
// Lookup does not count hits or misses: see CountHit.
func (s *Store) Lookup(ctx context.Context, key cache.Key) (*cache.Entry, cache.Key, error) {
	e, err := s.get(ctx, key)
	if err == nil && e != nil && e.Alias != "" {
		target := e.Alias
		e, err = s.get(ctx, target)
		if err == nil && e == nil {
			// The alias outlived its target: drop it.
			s.deleteRaw(detached(ctx), true, s.full(key))
		}
		if e != nil && e.Alias != "" { // aliases never chain
			e = nil
		}
		key = target
	}
	if err != nil {
		return nil, key, err
	}
	return e, key, nil
}

// get returns the entry or alias record stored under key; a missing one is
// (nil, nil) and a corrupt one is deleted and (nil, nil).
func (s *Store) get(ctx context.Context, key cache.Key) (*cache.Entry, error) {
	var b []byte
	err := s.call(ctx, OpGet, true, func(ctx context.Context) (err error) {
		b, err = s.storage.Get(ctx, s.full(key))
		return err
	})
	if errors.Is(err, backend.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("restycache: read %s: %w", key, err)
	}
	return s.decode(ctx, key, b), nil
}

// decode decodes b, stored under key; a corrupt entry is counted, reported,
// deleted and nil.
func (s *Store) decode(ctx context.Context, key cache.Key, b []byte) *cache.Entry {
	e, err := cache.DecodeEntry(b)
	if err == nil {
		return e
	}
	s.failed[OpDecode].Add(1)
	s.rep.fail(OpDecode, fmt.Errorf("restycache: deleting undecodable entry %s: %w", key, err))
	s.deleteRaw(detached(ctx), true, s.full(key))
	return nil
}

// Entry returns the entry stored under key without counting it as a hit or
// miss and without following aliases; a missing entry is an error wrapping
// backend.ErrNotFound.
func (s *Store) Entry(ctx context.Context, key cache.Key) (*cache.Entry, error) {
	e, err := s.get(ctx, key)
	if err == nil && e == nil {
		err = fmt.Errorf("restycache: %s: %w", key, backend.ErrNotFound)
	}
	return e, err
}

// Save stores e under key until keepUntil (zero: no storage expiry), and
// stores each of e.Aliases as an alias record pointing at key. The writes
// keep ctx's values but not its cancellation, and each is bounded by the
// Store's timeout.
func (s *Store) Save(ctx context.Context, key cache.Key, e *cache.Entry, keepUntil time.Time) error {
	ctx = detached(ctx)
	if err := s.set(ctx, key, cache.AppendEntry(nil, e), keepUntil); err != nil {
		return err
	}
	s.writes.Add(1)
	for _, a := range e.Aliases {
		if a == key {
			continue
		}
		if err := s.set(ctx, a, cache.AppendEntry(nil, &cache.Entry{Alias: key}), keepUntil); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) set(ctx context.Context, key cache.Key, value []byte, until time.Time) error {
	err := s.call(ctx, OpSet, true, func(ctx context.Context) error {
		return s.storage.Set(ctx, s.full(key), value, until)
	})
	if err != nil {
		return fmt.Errorf("restycache: write %s: %w", key, err)
	}
	return nil
}

// Delete removes the given keys and the aliases their entries recorded. On
// a request's path (bounded), each backend call is limited by the Store's
// timeout and the caller's cancellation does not stop it.
func (s *Store) Delete(ctx context.Context, bounded bool, keys ...cache.Key) error {
	if bounded {
		ctx = detached(ctx)
	}
	all := make([]string, 0, len(keys))
	for _, k := range keys {
		all = append(all, s.full(k))
		if e, err := s.get(ctx, k); err == nil && e != nil {
			for _, a := range e.Aliases {
				all = append(all, s.full(a))
			}
		}
	}
	return s.deleteRaw(ctx, bounded, all...)
}

func (s *Store) deleteRaw(ctx context.Context, bounded bool, keys ...string) error {
	err := s.call(ctx, OpDelete, bounded, func(ctx context.Context) error {
		return s.storage.Delete(ctx, keys...)
	})
	if err != nil {
		return fmt.Errorf("restycache: delete: %w", err)
	}
	return nil
}

// Entries calls fn for each stored response of the Store's namespace (alias
// records and variant indexes are skipped), once per key, until fn returns
// false. It reads key, value and expiry in one pass when the backend is a
// backend.Scanner, else one Get per key. Entries that vanish or fail to
// decode during the walk are skipped; a failure to list keys is returned.
func (s *Store) Entries(ctx context.Context, fn func(cache.Key, *cache.Entry) bool) error {
	seen := make(map[string]struct{})
	visit := func(full string, e *cache.Entry) bool {
		if e == nil || e.Alias != "" || e.IsVariantIndex() {
			return true
		}
		if _, dup := seen[full]; dup {
			return true
		}
		seen[full] = struct{}{}
		return fn(cache.Key(full[len(s.prefix):]), e)
	}
	err := s.call(ctx, OpKeys, false, func(ctx context.Context) error {
		if sc, ok := s.storage.(backend.Scanner); ok {
			for r, err := range sc.Scan(ctx, s.prefix) {
				if err != nil {
					return err
				}
				if !guardedYield(func() bool { return visit(r.Key, s.decode(ctx, cache.Key(r.Key[len(s.prefix):]), r.Value)) }) {
					return nil
				}
			}
			return nil
		}
		for k, err := range s.storage.Keys(ctx, s.prefix) {
			if err != nil {
				return err
			}
			key := cache.Key(k[len(s.prefix):])
			if !guardedYield(func() bool {
				e, err := s.get(ctx, key)
				return err != nil || visit(k, e)
			}) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("restycache: list keys: %w", err)
	}
	return nil
}

// yieldPanic carries a panic of the caller's callback through call's
// recovery, which is meant for the backend's panics only.
type yieldPanic struct{ v any }

// guardedYield runs the caller's side of an iteration and re-panics its
// panics as a yieldPanic, so that they are told apart from the backend's.
func guardedYield(f func() bool) (more bool) {
	done := false
	defer func() {
		if !done {
			panic(yieldPanic{recover()})
		}
	}()
	more = f()
	done = true
	return more
}

// Clear removes every key of the Store's namespace (of the whole store
// without one).
func (s *Store) Clear(ctx context.Context) error {
	err := s.call(ctx, OpClear, false, func(ctx context.Context) error { return s.storage.Clear(ctx, s.prefix) })
	if err != nil {
		return fmt.Errorf("restycache: clear: %w", err)
	}
	return nil
}

// Len reports how many records the Store's namespace holds, redirect
// aliases and variant indexes included.
func (s *Store) Len(ctx context.Context) (n int, err error) {
	err = s.call(ctx, OpLen, false, func(ctx context.Context) (err error) {
		n, err = s.storage.Len(ctx, s.prefix)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("restycache: len: %w", err)
	}
	return n, nil
}

// DeleteExpired asks the backend to remove its expired entries (of every
// namespace) and reports how many it removed.
func (s *Store) DeleteExpired(ctx context.Context) (n int, err error) {
	err = s.call(ctx, OpDeleteExpired, false, func(ctx context.Context) (err error) {
		n, err = s.storage.DeleteExpired(ctx)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("restycache: delete expired: %w", err)
	}
	return n, nil
}

// Ping checks the backend's connection when it is a backend.Pinger; other
// backends answer nil.
func (s *Store) Ping(ctx context.Context) error {
	p, ok := s.storage.(backend.Pinger)
	if !ok {
		return nil
	}
	if err := s.call(ctx, OpPing, false, p.Ping); err != nil {
		return fmt.Errorf("restycache: ping backend: %w", err)
	}
	return nil
}

// Close closes the backend.
func (s *Store) Close() error {
	err := s.call(context.Background(), OpClose, false, func(context.Context) error { return s.storage.Close() })
	if err != nil {
		return fmt.Errorf("restycache: close backend: %w", err)
	}
	return nil
}
