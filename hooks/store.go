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

// Stats counts what a Store did. All counters only grow.
type Stats struct {
	Hits, Misses, Writes, Errors uint64
}

// Store sits between the Transport and a backend: it encodes and decodes
// entries, resolves redirect aliases, and turns backend failures into
// misses that are logged and counted instead of failed requests (fail-open).
// It is safe for concurrent use.
type Store struct {
	storage backend.Storage
	log     *slog.Logger

	hits, misses, writes, errs atomic.Uint64
}

// NewStore returns a Store over s. A nil logger discards log records.
func NewStore(s backend.Storage, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{storage: s, log: log}
}

// Storage returns the backend the Store was made with.
func (s *Store) Storage() backend.Storage { return s.storage }

// Stats returns the Store's counters.
func (s *Store) Stats() Stats {
	return Stats{Hits: s.hits.Load(), Misses: s.misses.Load(), Writes: s.writes.Load(), Errors: s.errs.Load()}
}

// Lookup returns the record stored under key, following an alias record to
// its target; the key returned is where the record was found. A missing
// record is (nil, nil). A corrupt one is deleted and reported as missing.
// Other backend errors are returned wrapped, for the caller to treat as a
// miss. Lookup does not count hits or misses: see CountHit.
func (s *Store) Lookup(ctx context.Context, key cache.Key) (*cache.Entry, cache.Key, error) {
	e, err := s.get(ctx, key)
	if err == nil && e != nil && e.Alias != "" {
		target := e.Alias
		e, err = s.get(ctx, target)
		if err == nil && e == nil {
			// The alias outlived its target: drop it.
			_ = s.storage.Delete(ctx, string(key))
		}
		if e != nil && e.Alias != "" { // aliases never chain
			e = nil
		}
		key = target
	}
	if err != nil {
		s.errs.Add(1)
		return nil, key, err
	}
	return e, key, nil
}

// CountHit counts a read that served a stored response (hit true) or found
// none usable.
func (s *Store) CountHit(hit bool) {
	if hit {
		s.hits.Add(1)
	} else {
		s.misses.Add(1)
	}
}

// Get returns the entry or alias record stored under key; a missing one is
// (nil, nil) and a corrupt one is deleted and (nil, nil).
func (s *Store) get(ctx context.Context, key cache.Key) (*cache.Entry, error) {
	b, err := s.storage.Get(ctx, string(key))
	if errors.Is(err, backend.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("restycache: read %s: %w", key, err)
	}
	e, err := cache.DecodeEntry(b)
	if err != nil {
		s.errs.Add(1)
		s.log.WarnContext(ctx, "restycache: deleting undecodable cache entry", "key", string(key), "error", err)
		if derr := s.storage.Delete(ctx, string(key)); derr != nil {
			s.log.WarnContext(ctx, "restycache: delete of corrupt entry failed", "key", string(key), "error", derr)
		}
		return nil, nil
	}
	return e, nil
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
// stores each of e.Aliases as an alias record pointing at key.
func (s *Store) Save(ctx context.Context, key cache.Key, e *cache.Entry, keepUntil time.Time) error {
	buf := cache.AppendEntry(nil, e)
	if err := s.storage.Set(ctx, string(key), buf, keepUntil); err != nil {
		s.errs.Add(1)
		return fmt.Errorf("restycache: write %s: %w", key, err)
	}
	s.writes.Add(1)
	for _, a := range e.Aliases {
		if a == key {
			continue
		}
		rec := cache.AppendEntry(nil, &cache.Entry{Alias: key})
		if err := s.storage.Set(ctx, string(a), rec, keepUntil); err != nil {
			s.errs.Add(1)
			return fmt.Errorf("restycache: write alias %s: %w", a, err)
		}
	}
	return nil
}

// Delete removes the given keys and the aliases their entries recorded.
func (s *Store) Delete(ctx context.Context, keys ...cache.Key) error {
	all := make([]string, 0, len(keys))
	for _, k := range keys {
		all = append(all, string(k))
		if e, err := s.get(ctx, k); err == nil && e != nil {
			for _, a := range e.Aliases {
				all = append(all, string(a))
			}
		}
	}
	if err := s.storage.Delete(ctx, all...); err != nil {
		return fmt.Errorf("restycache: delete: %w", err)
	}
	return nil
}

// Entries calls fn for each stored response (alias records and variant
// indexes are skipped) with
// its key, until fn returns false. Entries that vanish or fail to decode
// during the walk are skipped; a failure to list keys is returned.
func (s *Store) Entries(ctx context.Context, fn func(cache.Key, *cache.Entry) bool) error {
	for k, err := range s.storage.Keys(ctx) {
		if err != nil {
			return fmt.Errorf("restycache: list keys: %w", err)
		}
		e, err := s.get(ctx, cache.Key(k))
		if err != nil || e == nil || e.Alias != "" || e.IsVariantIndex() {
			continue
		}
		if !fn(cache.Key(k), e) {
			return nil
		}
	}
	return nil
}
