package hooks

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"sync"
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
	// OpDecode is not a backend call: a stored record that failed to
	// decode, or whose plain envelope was made for another key.
	OpDecode
	// OpVerify is not a backend call: a stored record that failed its
	// signature, could not be opened, was signed or sealed with an
	// unknown key, or lacked the signature or seal the Store requires
	// (see StoreOptions.SigningKeys and EncryptionKeys).
	OpVerify
	numOps
)

var opNames = [numOps]string{"get", "set", "delete", "keys", "len", "clear", "delete-expired", "ping", "lock", "close", "decode", "verify"}

// class is the breaker an operation goes through: 0 for reads, 1 for
// writes.
func (o Op) class() int {
	switch o {
	case OpSet, OpDelete, OpClear, OpLock:
		return 1
	}
	return 0
}

// String returns the operation's lower-case name, such as "get".
func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return "unknown"
}

// Stats counts what a Store and the Transports over it did. All counters
// only grow.
type Stats struct {
	// Hits counts requests answered from storage (StatusHit, StatusStale,
	// StatusRevalidated); Misses those that needed the origin's answer
	// (StatusMiss, StatusRefresh, StatusCoalesced,
	// StatusOnlyIfCachedMiss). ByStatus has every request that reached
	// the cache by its final status, bypasses included (only statuses
	// seen are present).
	Hits, Misses uint64
	ByStatus     map[Status]uint64
	// RevalidatedNotModified counts revalidations the origin answered
	// with 304 Not Modified, RevalidatedReplaced those it answered with
	// a new response; background revalidations included.
	RevalidatedNotModified, RevalidatedReplaced uint64
	// BackgroundRevalidations counts background revalidations run (of
	// which BackgroundFailed failed to reach the origin or read its
	// answer); BackgroundSkipped those not run because every worker was
	// busy or the key was being fetched already.
	BackgroundRevalidations, BackgroundFailed, BackgroundSkipped uint64
	// CrossProcessWaits counts shared fetches that waited for another
	// process's fetch of the same key (Config.CrossProcessWait).
	CrossProcessWaits uint64
	// Writes counts responses stored; RecordsWritten every record
	// written (responses, redirect aliases, variant and URL indexes),
	// and BytesWritten their size, envelopes included.
	Writes, RecordsWritten, BytesWritten uint64
	// Errors counts failed backend operations of every kind; Failed has
	// them by kind (only kinds that failed are present). Corrupt records
	// count under OpDecode, records that are not authentic under
	// OpVerify.
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
	// Logger receives reports of trouble that does not fail a request:
	// backend failures, corrupt entries, and the Transport's notes (a
	// response too large to store, a shared fetch that failed); nil means
	// slog.Default(). Reports are rate-limited: once when a failure
	// starts, then at most once per ReportInterval with a count of what
	// was suppressed, and once when it ends.
	Logger *slog.Logger
	// ReportInterval is the least time between two reports of one
	// failing kind of operation; zero means DefaultReportInterval.
	ReportInterval time.Duration
	// ReadOnly makes the request path read and serve stored entries but
	// never write or delete a record: answers are not stored, 304s refresh
	// nothing, unsafe requests invalidate nothing, and a record that fails
	// to decode or verify is a miss left in place. Management calls
	// (Delete, Clear, ...) still change storage. Off by default.
	ReadOnly bool
	// SigningKeys, when not empty, makes every record stored signed with
	// HMAC-SHA256 under the first key, over the record and its full
	// storage key, and every record read verified under the key its
	// envelope names (by a key id: the first KeyIDSize bytes of the
	// key's SHA-256), so keys can be rotated by putting the new key
	// first. Each key is at least MinSigningKeySize bytes. A record that
	// is unsigned, signed with a key not listed, tampered with, or moved
	// under another key is a miss: it is deleted, counted under OpVerify
	// and reported, never served. The default (none) stores records in a
	// plain envelope, which checks integrity (CRC-32C) and the storage
	// key but stops no writer.
	SigningKeys [][]byte
	// EncryptionKeys, when not empty, makes every record stored sealed
	// with AES-256-GCM under the first key (a random 96-bit nonce per
	// record, the full storage key as associated data), and every record
	// read opened under the key its envelope names, so keys can be
	// rotated by putting the new key first. Each key is exactly
	// EncryptionKeySize (32) bytes, used as it is (derive it with
	// crypto/hkdf from a longer secret if needed). Nothing of a response
	// (URL, headers, body) is readable at rest; storage keys stay
	// readable, as the backend needs them, and reveal only hashes. A
	// record that cannot be opened is treated as SigningKeys describes.
	// Random nonces bound a key's safe use to about 2^32 records
	// written: rotate keys before that. SigningKeys and EncryptionKeys
	// are exclusive; the default is none.
	//
	// Over an in-process backend that keeps decoded entries beside its
	// values (a backend.Memoizer, such as backend/memory), a record is
	// checked, verified or opened once per stored value, on its first
	// read, and the decoded entry is kept in the process's memory beside
	// it for the reads that follow. Over every other backend, a Store
	// remembers the last records it decoded (up to 1024 of up to 256 KiB,
	// 8 MiB in all) with their entries: a read that returns the very same
	// bytes again is answered from the remembered entry after comparing
	// the bytes, and any other record is checked as it is read.
	EncryptionKeys [][]byte
	// Observers are told of every request outcome and backend operation
	// (see Observer), beside the Store's own counters. The default is
	// none.
	Observers []Observer
}

// Store is the one layer between the Transport and a backend. It encodes
// and decodes entries, each in an envelope bound to its full storage key
// and optionally signed or encrypted (a corrupt or inauthentic one is a
// miss, deleted), resolves redirect aliases, namespaces keys, counts what
// happens and tells its Observers, and makes every backend call safe: bounded by
// the per-operation timeout, a panic recovered as an error, failures
// counted and reported at a limited rate, and a backend that keeps failing
// left alone for a growing pause. It never fails a request: callers treat
// its errors as misses. It is safe for concurrent use.
type Store struct {
	storage  backend.Storage
	memo     backend.Memoizer // storage, when it keeps decoded entries beside its values
	recent   recent           // the records last decoded, when storage is no Memoizer
	reads    reads            // the reads in flight, when storage is no Memoizer
	adopter  backend.Adopter  // storage, when it can keep a fresh record without a copy
	prefix   string
	budget   budget
	rep      *reporter
	brk      [2]breaker // for reads and for writes: a store may fail one and not the other
	env      *envelope
	readOnly bool // see StoreOptions.ReadOnly

	counters  counters
	observers []Observer // beside counters; when any, backend calls are timed

	// indexing serialises the read-modify-write of each URL index within
	// the Store (striped by indexSeed), so that flights landing together
	// never lose each other's keys.
	indexSeed maphash.Seed
	indexing  [32]sync.Mutex
}

// NewStore returns a Store over s. It panics when the keys of o are
// misconfigured (see CheckKeys).
func NewStore(s backend.Storage, o StoreOptions) *Store {
	if err := CheckKeys(o.SigningKeys, o.EncryptionKeys); err != nil {
		panic("restycache/hooks: " + err.Error())
	}
	st := &Store{storage: s, budget: budget{timeout: o.Timeout, base: time.Now()}, env: newEnvelope(o.SigningKeys, o.EncryptionKeys), readOnly: o.ReadOnly, indexSeed: maphash.MakeSeed()}
	st.adopter, _ = s.(backend.Adopter)
	st.memo, _ = s.(backend.Memoizer)
	for _, obs := range o.Observers {
		if obs != nil {
			st.observers = append(st.observers, obs)
		}
	}
	if o.Namespace != "" {
		st.prefix = o.Namespace + NamespaceSeparator
	}
	if st.budget.timeout <= 0 {
		st.budget.timeout = DefaultBackendTimeout
	}
	st.rep = newReporter(o.Logger, o.ReportInterval)
	return st
}

// Storage returns the backend the Store was made with.
func (s *Store) Storage() backend.Storage { return s.storage }

// Stats returns the Store's counters.
func (s *Store) Stats() Stats { return s.counters.stats() }

// ObserveRequest counts a request's outcome, or an event of background
// work, and tells the Store's Observers. The Transport calls it once per
// request, from the request's final status.
func (s *Store) ObserveRequest(ctx context.Context, e RequestEvent) {
	s.counters.ObserveRequest(ctx, e)
	for _, o := range s.observers {
		o.ObserveRequest(ctx, e)
	}
}

// started returns the time now when the Store has observers, which are
// told how long requests take, and the zero time otherwise: the built-in
// counters need no durations, and a hit then spares two clock reads.
func (s *Store) started() time.Time {
	if len(s.observers) == 0 {
		return time.Time{}
	}
	return time.Now()
}

// since is the time elapsed since start, a time from started: zero when
// start is.
func since(start time.Time) time.Duration {
	if start.IsZero() {
		return 0
	}
	return time.Since(start)
}

func (s *Store) observeBackend(ctx context.Context, e BackendEvent) {
	s.counters.ObserveBackend(ctx, e)
	for _, o := range s.observers {
		o.ObserveBackend(ctx, e)
	}
}

// call runs one backend operation safely. On a request's path (bounded) it
// is skipped while the backend is left alone, limited to the Store's
// timeout (see budget: the caller's cancellation does not reach it), and
// its failures are reported through the logger (management
// calls return theirs to the caller). A panic becomes an error wrapping
// ErrBackendPanic. Failures are counted, except a miss and the end of a
// context the caller ended itself.
func (s *Store) call(ctx context.Context, op Op, bounded bool, fn func(context.Context) error) (err error) {
	return s.callSized(ctx, op, bounded, 0, false, fn)
}

// callSized is call for a write of a record of n bytes (entry: a
// response), which the Store's counters and Observers are told of.
func (s *Store) callSized(ctx context.Context, op Op, bounded bool, n int, entry bool, fn func(context.Context) error) (err error) {
	if bounded {
		brk := &s.brk[op.class()]
		if !brk.allow() {
			err = fmt.Errorf("restycache: backend %s: %w", op, ErrBackendUnavailable)
			s.observeBackend(ctx, BackendEvent{Op: op, Err: err, Skipped: true})
			return err
		}
		ctx = s.budget.bound(ctx)
		defer func() { brk.record(err == nil || errors.Is(err, backend.ErrNotFound)) }()
	}
	var start time.Time
	if len(s.observers) > 0 {
		start = time.Now()
	}
	defer func() {
		if r := recover(); r != nil {
			if yp, ok := r.(yieldPanic); ok {
				panic(yp.v) // the caller's callback panicked, not the backend
			}
			err = fmt.Errorf("restycache: backend %s: %w: %v", op, ErrBackendPanic, r)
		}
		ev := BackendEvent{Op: op, Bytes: n, Entry: entry, Err: err}
		if !start.IsZero() {
			ev.Duration = time.Since(start)
		}
		switch {
		case err == nil || errors.Is(err, backend.ErrNotFound):
			ev.Err = nil
			s.rep.ok(op)
		case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
			// Cancelled by the caller: not the backend's failure.
			ev.Canceled = true
		default:
			if bounded { // management calls return their errors instead
				s.rep.fail(op, err)
			}
		}
		s.observeBackend(ctx, ev)
	}()
	return fn(ctx)
}

// detached returns a context for a write or delete made on behalf of a
// request: it keeps ctx's values but not its cancellation, so a response is
// not lost because its caller went away. The Store's timeout still bounds
// it. (Bounded calls already drop the caller's cancellation; this is for
// the reads that a write or delete makes first.)
func detached(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

func (s *Store) full(key cache.Key) string { return s.prefix + string(key) }

// Lookup returns the record stored under key, following an alias record to
// its target; the key returned is where the record was found. A missing
// record is (nil, nil). A corrupt one is deleted and reported as missing.
// Other failures are returned wrapped, for the caller to treat as a miss.
// Lookup does not count hits or misses: see CountHit. Each call decodes
// the entry anew: the caller may modify the entry it gets (not its Body).
func (s *Store) Lookup(ctx context.Context, key cache.Key) (*cache.Entry, cache.Key, error) {
	e, key, _, err := s.lookup(ctx, key, false)
	return e, key, err
}

// lookup is Lookup. With shareable, an entry may come from the backend's
// memo (see backend.Memoizer) and be shared with other requests: shared
// then reports it, and the caller must not modify it.
func (s *Store) lookup(ctx context.Context, key cache.Key, shareable bool) (*cache.Entry, cache.Key, bool, error) {
	e, shared, err := s.get(ctx, key, shareable)
	if err == nil && e != nil && e.Alias != "" {
		target := e.Alias
		e, shared, err = s.get(ctx, target, shareable)
		if err == nil && e == nil && !s.readOnly {
			// The alias outlived its target: drop it.
			s.deleteRaw(detached(ctx), true, s.full(key))
		}
		if e != nil && e.Alias != "" { // aliases never chain
			e = nil
		}
		key = target
	}
	if err != nil {
		return nil, key, false, err
	}
	return e, key, shared, nil
}

// get returns the entry or alias record stored under key; a missing one is
// (nil, nil) and a corrupt one is deleted and (nil, nil). With shareable
// and a backend.Memoizer, a record is decoded (and verified) once per
// stored value, and the decoded entry is kept beside the value and shared
// by every later read of it; with shareable and any other backend,
// concurrent reads of key share one backend call (see reads), and a read
// of the same bytes as a recent one shares the entry decoded then (see
// recent). shared reports such an entry, which nobody may modify.
func (s *Store) get(ctx context.Context, key cache.Key, shareable bool) (e *cache.Entry, shared bool, err error) {
	if !shareable || s.memo != nil {
		return s.read(ctx, key, shareable)
	}
	e, err = s.reads.do(ctx, s.full(key), func() (*cache.Entry, error) {
		e, _, err := s.read(ctx, key, true)
		return e, err
	})
	return e, e != nil, err
}

// read is get without coalescing.
func (s *Store) read(ctx context.Context, key cache.Key, shareable bool) (e *cache.Entry, shared bool, err error) {
	var b []byte
	var memo any
	full := s.full(key)
	m := s.memo
	if !shareable {
		m = nil
	}
	err = s.call(ctx, OpGet, true, func(ctx context.Context) (err error) {
		if m != nil {
			b, memo, err = m.GetMemo(ctx, full)
			return err
		}
		b, err = s.storage.Get(ctx, full)
		return err
	})
	if errors.Is(err, backend.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("restycache: read %s: %w", key, err)
	}
	// A memo counts only for the envelope that made it: another Store on
	// the same backend (other keys, another kind) verifies for itself.
	if d, ok := memo.(*decoded); ok && d.env == s.env {
		return d.entry, true, nil
	}
	remember := shareable && s.memo == nil
	if remember {
		if e := s.recent.get(full, b); e != nil {
			return e, true, nil
		}
	}
	e = s.decode(ctx, key, full, b)
	switch {
	case e == nil:
	case m != nil:
		m.SetMemo(full, b, &decoded{env: s.env, entry: e})
		shared = true
	case remember:
		b, e = alignedRecord(b, e)
		s.recent.put(full, b, e)
		shared = true
	}
	return e, shared, nil
}

// decoded is the memo a Store keeps beside a stored value in a
// backend.Memoizer: the entry it decoded from the value, and the envelope
// (keys included) that opened and verified it.
type decoded struct {
	env   *envelope
	entry *cache.Entry
}

// decode opens the envelope of b, stored under key (full with the
// namespace), and decodes the entry inside. A record that is corrupt
// (OpDecode) or not authentic (OpVerify) is counted, reported, deleted and
// nil.
func (s *Store) decode(ctx context.Context, key cache.Key, full string, b []byte) *cache.Entry {
	op := OpDecode
	inner, verify, err := s.env.unwrap(full, b)
	if err == nil {
		var e *cache.Entry
		if e, err = cache.DecodeEntry(inner); err == nil {
			return e
		}
	} else if verify {
		op = OpVerify
	}
	what := "undecodable"
	if op == OpVerify {
		what = "unauthenticated"
	}
	if s.readOnly {
		err = fmt.Errorf("restycache: ignoring %s stored record %s (read-only): %w", what, key, err)
	} else {
		err = fmt.Errorf("restycache: deleting %s stored record %s: %w", what, key, err)
	}
	s.observeBackend(ctx, BackendEvent{Op: op, Err: err})
	s.rep.fail(op, err)
	if !s.readOnly {
		s.deleteRaw(detached(ctx), true, full)
	}
	return nil
}

// Entry returns the entry stored under key without counting it as a hit or
// miss and without following aliases; a missing entry is an error wrapping
// backend.ErrNotFound.
func (s *Store) Entry(ctx context.Context, key cache.Key) (*cache.Entry, error) {
	e, _, err := s.get(ctx, key, false)
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
	return s.SaveRecord(ctx, key, e, nil, keepUntil)
}

// Record is a response's record being encoded for storage with room for
// its body, so that the body can be read straight into its place: the
// record then holds the only copy of the body, and the entry's Body can be
// a slice of it. Make one with NewRecord; store it with SaveRecord.
type Record struct {
	buf   []byte // envelope head and entry up to its body; room for the rest
	start int    // where the entry starts in buf
	n     int    // the body's length
}

// Body returns the record's room for the body: exactly as many bytes as
// NewRecord was told, for the caller to fill before SaveRecord. The entry
// saved may take it as its Body.
func (r *Record) Body() []byte {
	at := len(r.buf)
	return r.buf[at : at+r.n : at+r.n]
}

// recordHeadRoom is the room a Record leaves for the envelope head and the
// entry's fields before the body; a larger head costs one more copy.
const recordHeadRoom = 512

// NewRecord starts the record of e, whose body of n bytes is not read yet,
// for storage under key. It returns nil when the Store's envelope cannot be
// finished around a body read in place (a sealed record is encrypted as a
// whole): the caller then sets e.Body and calls Save.
func (s *Store) NewRecord(key cache.Key, e *cache.Entry, n int) *Record {
	if s.env.kind == envSealed || n < 0 {
		return nil
	}
	buf, start := s.env.alignedHead(s.full(key), e, n)
	return &Record{buf: buf, start: start, n: n}
}

// SaveRecord is Save for e, whose record, when rec is not nil, is rec
// (made by NewRecord for e and key, its Body filled): the record is
// finished and stored as it is, kept without a copy by a backend.Adopter.
// rec must not be used again.
func (s *Store) SaveRecord(ctx context.Context, key cache.Key, e *cache.Entry, rec *Record, keepUntil time.Time) error {
	ctx = detached(ctx)
	var value []byte
	if rec != nil {
		buf := rec.buf[:len(rec.buf)+rec.n]
		value = s.env.finish(s.full(key), buf, rec.start)
	}
	if err := s.set(ctx, key, e, value, keepUntil); err != nil {
		return err
	}
	for _, a := range e.Aliases {
		if a == key {
			continue
		}
		if err := s.set(ctx, a, &cache.Entry{Alias: key}, nil, keepUntil); err != nil {
			return err
		}
	}
	return nil
}

// set stores the record e under key until the given time, in the Store's
// envelope; value, when not nil, is that record already encoded. The
// record is freshly made and never touched again, so a backend.Adopter
// keeps it without a copy.
func (s *Store) set(ctx context.Context, key cache.Key, e *cache.Entry, value []byte, until time.Time) error {
	full := s.full(key)
	if value == nil {
		value = s.env.wrap(full, e)
	}
	isEntry := e.Alias == "" && !e.IsVariantIndex() && !e.IsURLIndex()
	err := s.callSized(ctx, OpSet, true, len(value), isEntry, func(ctx context.Context) error {
		if s.adopter != nil {
			return s.adopter.SetOwned(ctx, full, value, until)
		}
		return s.storage.Set(ctx, full, value, until)
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
		if e, _, err := s.get(ctx, k, false); err == nil && e != nil {
			for _, a := range e.Aliases {
				all = append(all, s.full(a))
			}
		}
	}
	return s.deleteRaw(ctx, bounded, all...)
}

// maxIndexed bounds the keys a URL index lists; past it the oldest are
// dropped (they are still found by the keys an invalidating request
// derives itself, and they expire).
const maxIndexed = 256

// Index adds keys to the URL index stored under index, kept until until
// (zero: forever; an index is kept as long as the longest-kept key it
// lists). It writes only when a key is new to the index or until is later.
// The index is a read-modify-write, serialised within the Store: two
// processes (or two Stores) adding different keys to one index at the same
// moment may still lose one addition.
func (s *Store) Index(ctx context.Context, index cache.Key, until time.Time, keys ...cache.Key) error {
	mu := &s.indexing[maphash.String(s.indexSeed, string(index))%uint64(len(s.indexing))]
	mu.Lock()
	defer mu.Unlock()
	e, _, err := s.get(ctx, index, true) // read only: merged below is a copy
	if err != nil {
		return err
	}
	var have []cache.Key
	var kept time.Time // zero: forever
	if e != nil && e.IsURLIndex() {
		have, kept = e.Aliases, e.ExpiresAt
	}
	merged := slices.Clone(have)
	for _, k := range keys {
		if !slices.Contains(merged, k) {
			merged = append(merged, k)
		}
	}
	if !until.IsZero() && (e == nil || (!kept.IsZero() && until.After(kept))) {
		kept = until
	} else if until.IsZero() {
		kept = time.Time{}
	}
	if e != nil && len(merged) == len(have) && kept.Equal(e.ExpiresAt) {
		return nil
	}
	if len(merged) > maxIndexed {
		merged = merged[len(merged)-maxIndexed:]
	}
	rec := &cache.Entry{Flags: cache.FlagURLIndex, Aliases: merged, ExpiresAt: kept}
	return s.set(detached(ctx), index, rec, nil, kept)
}

// Invalidate deletes every key listed in the URL index stored under index,
// with their aliases, and the index itself.
func (s *Store) Invalidate(ctx context.Context, index cache.Key) error {
	e, _, err := s.get(ctx, index, false)
	if err != nil || e == nil || !e.IsURLIndex() {
		return err
	}
	return s.Delete(ctx, true, append(slices.Clone(e.Aliases), index)...)
}

func (s *Store) deleteRaw(ctx context.Context, bounded bool, keys ...string) error {
	s.recent.forget(keys...)
	err := s.call(ctx, OpDelete, bounded, func(ctx context.Context) error {
		return s.storage.Delete(ctx, keys...)
	})
	if err != nil {
		return fmt.Errorf("restycache: delete: %w", err)
	}
	return nil
}

// Entries calls fn for each stored response of the Store's namespace (alias
// records, variant and URL indexes are skipped), once per key, until fn returns
// false. It reads key, value and expiry in one pass when the backend is a
// backend.Scanner, else one Get per key. Entries that vanish or fail to
// decode during the walk are skipped; a failure to list keys is returned.
func (s *Store) Entries(ctx context.Context, fn func(cache.Key, *cache.Entry) bool) error {
	seen := make(map[string]struct{})
	visit := func(full string, e *cache.Entry) bool {
		if e == nil || e.Alias != "" || e.IsVariantIndex() || e.IsURLIndex() {
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
				if !guardedYield(func() bool { return visit(r.Key, s.decode(ctx, cache.Key(r.Key[len(s.prefix):]), r.Key, r.Value)) }) {
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
				e, _, err := s.get(ctx, key, false)
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

// TryLock takes the backend lock named key (in the Store's namespace) for
// ttl, without waiting; ok reports whether it was taken. A backend that is
// no backend.Locker gives an error.
func (s *Store) TryLock(ctx context.Context, key cache.Key, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error) {
	l, isLocker := s.storage.(backend.Locker)
	if !isLocker {
		return nil, false, fmt.Errorf("restycache: backend %T cannot lock: it is no backend.Locker", s.storage)
	}
	var release func(context.Context) error
	err = s.call(ctx, OpLock, true, func(ctx context.Context) (err error) {
		release, ok, err = l.TryLock(ctx, s.full(key), ttl)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("restycache: lock %s: %w", key, err)
	}
	if !ok {
		return nil, false, nil
	}
	return func(ctx context.Context) error {
		return s.call(detached(ctx), OpLock, true, release)
	}, true, nil
}

// Clear removes every key of the Store's namespace (of the whole store
// without one).
func (s *Store) Clear(ctx context.Context) error {
	s.recent.forgetAll()
	err := s.call(ctx, OpClear, false, func(ctx context.Context) error { return s.storage.Clear(ctx, s.prefix) })
	if err != nil {
		return fmt.Errorf("restycache: clear: %w", err)
	}
	return nil
}

// Len reports how many records the Store's namespace holds, redirect
// aliases and variant indexes included, URL indexes (whose keys start with
// cache.URLIndexPrefix) not.
func (s *Store) Len(ctx context.Context) (n int, err error) {
	err = s.call(ctx, OpLen, false, func(ctx context.Context) error {
		all, err := s.storage.Len(ctx, s.prefix)
		if err != nil {
			return err
		}
		indexes, err := s.storage.Len(ctx, s.prefix+cache.URLIndexPrefix)
		n = max(all-indexes, 0)
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
