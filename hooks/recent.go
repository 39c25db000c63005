package hooks

import (
	"bytes"
	"sync"
	"unsafe"

	"github.com/restycache/restycache/cache"
)

// Bounds of a Store's recent records (see recent).
const (
	recentEntries   = 1024
	recentBytes     = 8 << 20
	recentMaxRecord = 256 << 10
)

// recent remembers, for a backend that keeps no decoded entries of its own
// (one that is not a backend.Memoizer), the records a Store decoded last,
// each with the entry decoded from it. A read that returns the very same
// bytes for the same storage key again is answered with that entry, shared,
// instead of checking, verifying or opening and decoding the bytes again:
// comparing them costs a fraction of that. Equal bytes under one key decode
// to an equal entry under the Store's one envelope, so this never serves
// what a fresh decode would not; a record changed by another writer is
// simply decoded anew.
//
// It holds at most recentEntries records of at most recentMaxRecord bytes
// each, recentBytes in all (comparing a larger record costs about what
// checking it does); when a record would pass a bound, it forgets every
// record and starts again. It is safe for concurrent use.
type recent struct {
	mu    sync.RWMutex
	m     map[string]recentRecord
	bytes int
}

type recentRecord struct {
	raw   []byte // as read; entry's Body aliases it
	entry *cache.Entry
}

// get returns the entry decoded from b under key, if b is the record last
// remembered there; otherwise nil.
func (r *recent) get(key string, b []byte) *cache.Entry {
	r.mu.RLock()
	rec, ok := r.m[key]
	r.mu.RUnlock()
	if ok && bytes.Equal(rec.raw, b) {
		return rec.entry
	}
	return nil
}

// put remembers e, decoded from b (which nobody may modify from now on),
// under key.
func (r *recent) put(key string, b []byte, e *cache.Entry) {
	if len(b) > recentMaxRecord {
		r.forget(key)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.m[key]; ok {
		r.bytes -= len(old.raw)
	}
	if r.m == nil || len(r.m) >= recentEntries || r.bytes+len(b) > recentBytes {
		r.m = make(map[string]recentRecord)
		r.bytes = 0
	}
	r.m[key] = recentRecord{raw: b, entry: e}
	r.bytes += len(b)
}

// forget drops what is remembered under keys.
func (r *recent) forget(keys ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		if old, ok := r.m[k]; ok {
			r.bytes -= len(old.raw)
			delete(r.m, k)
		}
	}
}

// forgetAll drops every record.
func (r *recent) forgetAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m, r.bytes = nil, 0
}

// alignMin is the smallest body that alignedRecord moves.
const alignMin = 4 << 10

// alignedRecord returns b and e, decoded from it, with the record copied to
// where e's body starts on a bodyAlign boundary, when the body is at least
// alignMin bytes, is a slice of b and is not aligned already, and the
// record is small enough to be remembered (recentMaxRecord). The record a
// backend returns starts where its driver's allocation does, so its body
// sits at an arbitrary offset; a remembered record is served many times,
// and every hit copies its body out (see bodyAlign). e must not be shared
// yet.
func alignedRecord(b []byte, e *cache.Entry) ([]byte, *cache.Entry) {
	n := len(e.Body)
	if n < alignMin || len(b) > recentMaxRecord {
		return b, e
	}
	base, body := uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(unsafe.Pointer(unsafe.SliceData(e.Body)))
	if body < base || body+uintptr(n) > base+uintptr(len(b)) || body%bodyAlign == 0 {
		return b, e // decrypted elsewhere, or aligned
	}
	off := int(body - base)
	cp := make([]byte, len(b)+bodyAlign-1)
	p := alignPad(cp, off)
	cp = cp[p : p+len(b) : p+len(b)]
	copy(cp, b)
	e.Body = cp[off : off+n : off+n]
	return cp, e
}
