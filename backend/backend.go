// Package backend defines the storage interface that every restycache backend
// implements, its sentinel errors, and small decorators shared by all backends.
//
// A backend is a key-value store of opaque, already encoded entries with an
// expiry time. It knows nothing about HTTP: keys are strings chosen by the
// cache, values are bytes. Everything above plain storage (encoding, key
// derivation, fail-open behaviour, statistics) lives in the packages that
// use it, so a backend stays small. Every backend runs through the shared
// conformance suite in package backendtest.
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

// Storage is the interface every backend implements. Implementations must be
// safe for concurrent use by multiple goroutines.
//
// Values are opaque bytes. Set must not retain the caller's slice after it
// returns (copy it if it is kept); the slice that Get returns belongs to the
// caller, who must treat it as read-only because a backend may hand out its
// stored copy instead of a new one.
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
	// Clear removes every key of this store.
	Clear(ctx context.Context) error
	// Keys iterates over the keys that are present and not expired, in no
	// particular order. Entries may be deleted during the iteration. An
	// error ends the iteration and is yielded with an empty key.
	Keys(ctx context.Context) iter.Seq2[string, error]
	// Len reports how many keys are present and not expired.
	Len(ctx context.Context) (int, error)
	// DeleteExpired removes expired entries and reports how many it removed.
	// Backends whose server expires keys natively may report 0.
	DeleteExpired(ctx context.Context) (int, error)
	// Close releases the backend's resources. It is idempotent; every
	// other method returns ErrClosed afterwards.
	Close() error
}

// Pinger is implemented by backends that can check their connection.
// Backends connect lazily; Ping forces the connection and reports why it failed.
type Pinger interface {
	Ping(ctx context.Context) error
}
