// Package backend defines the storage interface that every restycache backend
// implements, its sentinel errors, and the optional abilities a backend may
// add.
//
// A backend is a key-value store of opaque, already encoded entries with an
// expiry time. It knows nothing about HTTP: keys are strings chosen by the
// cache, values are bytes. Everything above plain storage (encoding and its
// integrity check, key derivation and namespacing, timeouts, fail-open
// behaviour, statistics) lives in the one wrapper above every backend
// (hooks.Store), so a backend stays small. Every backend runs through the
// shared conformance suite in package backendtest.
package backend

import (
	"context"
	"errors"
	"iter"
	"time"
)

// ErrNotFound is returned by Storage.Get when the key is absent or its entry
// has expired. Test for it with errors.Is.
var ErrNotFound = errors.New("restycache/backend: not found")

// ErrClosed is returned by every Storage method called after Close.
// Test for it with errors.Is.
var ErrClosed = errors.New("restycache/backend: closed")

// ErrTooLarge is wrapped by Set when a value is larger than the backend can
// store (a MongoDB document or a DynamoDB item limit, for instance). Nothing
// is stored, and a previous value under the key is removed. Test for it with
// errors.Is.
var ErrTooLarge = errors.New("restycache/backend: value too large for this backend")

// Storage is the interface every backend implements. Implementations must be
// safe for concurrent use by multiple goroutines, and every method must
// return promptly, with an error wrapping ctx.Err(), once its context is
// done: the cache bounds each call it makes through the context.
//
// Values are opaque bytes. Set must not retain the caller's slice after it
// returns (copy it if it is kept); the slice that Get returns belongs to the
// caller, who must treat it as read-only because a backend may hand out its
// stored copy instead of a new one.
//
// The methods that take a prefix act on the keys that start with it; the
// empty prefix selects every key of the store. A store is what the backend
// was opened on: a SQLite table, a directory, or the keys under a Redis
// backend's own prefix, never anything outside it.
type Storage interface {
	// Get returns the value stored under key. It returns an error wrapping
	// ErrNotFound when the key is absent or expired.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key, replacing any previous value. The entry
	// expires at expiresAt; the zero time means it never expires. An
	// expiresAt in the past stores nothing and removes any previous value.
	Set(ctx context.Context, key string, value []byte, expiresAt time.Time) error
	// Delete removes the given keys. Absent keys are not an error.
	Delete(ctx context.Context, keys ...string) error
	// Clear removes every key that starts with prefix.
	Clear(ctx context.Context, prefix string) error
	// Keys iterates over the keys that start with prefix and are present
	// and not expired, in no particular order. Entries may be written or
	// deleted during the iteration. A key present for the whole iteration
	// is yielded at least once; a key may be yielded more than once (a
	// Redis SCAN can do that), and callers that need each key once remove
	// duplicates. An error ends the iteration and is yielded with an empty
	// key.
	Keys(ctx context.Context, prefix string) iter.Seq2[string, error]
	// Len reports how many keys start with prefix and are present and not
	// expired. While the store changes, the count may be approximate.
	Len(ctx context.Context, prefix string) (int, error)
	// DeleteExpired removes expired entries and reports how many it removed.
	// Backends whose server expires keys natively may report 0.
	DeleteExpired(ctx context.Context) (int, error)
	// Close releases the backend's resources. It is idempotent; every
	// other method returns ErrClosed afterwards. A backend made from a
	// client its caller passed in never closes that client.
	Close() error
}

// Pinger is implemented by backends that can check their connection.
// Backends connect lazily; Ping forces the connection and reports why it failed.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Record is one stored entry as a Scanner yields it.
type Record struct {
	Key   string
	Value []byte
	// ExpiresAt is the entry's expiry; the zero time means it never
	// expires.
	ExpiresAt time.Time
}

// Scanner is implemented by backends that can read entries in bulk: key,
// value and expiry together, in one pass. The management API (listing URLs,
// deleting by URL, deleting expired entries) uses it instead of one Get per
// key when a backend has it.
type Scanner interface {
	// Scan iterates over the present, unexpired entries whose keys start
	// with prefix, with the iteration guarantees of Storage.Keys. The
	// Value of a Record is the caller's, read-only, as from Get.
	Scan(ctx context.Context, prefix string) iter.Seq2[Record, error]
}

// Locker is implemented by shared backends (a server several processes use)
// that can hold a short-lived lock, for coalescing identical requests across
// processes (see restycache.WithCrossProcessCoalescing).
type Locker interface {
	// TryLock tries once, without waiting, to take the lock named key for
	// at most ttl. ok reports whether it was taken. unlock releases it if
	// it is still held by this taker (a lock that expired and was taken by
	// another is left alone); unlock is nil when ok is false. The lock's
	// name space is separate from the entries' keys or, where it cannot
	// be, does not collide with any key the cache writes.
	TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error)
}

// PrefixEnd returns the smallest string greater than every string that
// starts with prefix, for range queries (key >= prefix AND key < end) over
// stores that order keys bytewise. ok is false when there is no such bound
// (prefix is empty or all 0xff bytes): every key from prefix on matches.
func PrefixEnd(prefix string) (end string, ok bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// Adopter is implemented by in-process backends that can keep a value
// without copying it. The cache uses it for the records it has just encoded
// and will never touch again.
type Adopter interface {
	// SetOwned is Set, except that the backend takes ownership of value:
	// it may keep the very slice instead of a copy, and the caller
	// promises never to modify value (nor any slice sharing its bytes)
	// afterwards; it may still read it. The slices that Get then returns
	// stay read-only for their callers, as with Set.
	SetOwned(ctx context.Context, key string, value []byte, expiresAt time.Time) error
}

// Memoizer is implemented by in-process backends whose stored values never
// change once stored (a Set stores a new slice, never writes into the old
// one) and never leave the process. Such a backend can keep, beside a
// value, one object its caller derived from it, such as the decoded entry,
// so that reading the same value again need not decode or verify it again.
// A memo lives exactly as long as the value it was attached to: a Set,
// Delete, expiry or eviction of the key drops it.
type Memoizer interface {
	// GetMemo is Get, and also returns the memo attached to the value
	// returned (nil when none is).
	GetMemo(ctx context.Context, key string) (value []byte, memo any, err error)
	// SetMemo attaches memo to the value stored under key if that value
	// is still value, the very slice a GetMemo or Get returned (the same
	// first byte and length); otherwise it does nothing. memo replaces an
	// earlier one. The backend never looks inside memo.
	SetMemo(key string, value []byte, memo any)
}
