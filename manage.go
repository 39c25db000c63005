package restycache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/cache"
	"github.com/restycache/restycache/hooks"
)

// Entry is one stored response, as returned by Cache.Get.
type Entry = cache.Entry

// ErrNotFound is returned (wrapped) by Cache.Get when nothing is stored
// under a key. It is backend.ErrNotFound.
var ErrNotFound = backend.ErrNotFound

// Filter selects entries by freshness in Cache.Keys and Cache.URLs.
type Filter uint8

// The Filter values.
const (
	// AllEntries selects every stored entry.
	AllEntries Filter = iota
	// FreshEntries selects entries that have not expired.
	FreshEntries
	// ExpiredEntries selects entries that have expired (they may still be
	// stored for revalidation).
	ExpiredEntries
)

// Cache inspects and manages a client's stored responses. It is safe for
// concurrent use. Methods that take a URL derive nothing from the client's
// headers: they walk the stored entries and compare their (redacted) method
// and URL, so they cost one read per stored entry.
//
// Every method that reads or changes the stored entries first waits for
// the writes of the responses the client has already answered (see
// Flush), so a request's entry is visible to the next call, and Clear or a
// Delete is never undone by a write that lands after it.
type Cache struct {
	store     *hooks.Store
	keyer     *cache.Keyer
	transport *hooks.Transport

	closeOnce sync.Once
	closeErr  error
}

// Get returns the entry stored under key (or under the key a redirect alias
// at key points to). A missing key is an error wrapping ErrNotFound, and so
// is the key of a response that varies on request headers (WithCacheControl):
// its variants have keys of their own, as Response.CacheKey reports.
func (c *Cache) Get(ctx context.Context, key string) (*Entry, error) {
	if err := c.Flush(ctx); err != nil {
		return nil, err
	}
	e, err := c.store.Entry(ctx, cache.Key(key))
	if err != nil {
		return nil, err
	}
	if e.Alias != "" {
		if e, err = c.store.Entry(ctx, e.Alias); err != nil {
			return nil, err
		}
	}
	if e.IsVariantIndex() {
		return nil, fmt.Errorf("restycache: %s indexes the variants of a response that varies on %v, use a variant's key: %w", key, e.Vary, ErrNotFound)
	}
	return e, nil
}

// Contains reports whether an entry is stored under key.
func (c *Cache) Contains(ctx context.Context, key string) (bool, error) {
	_, err := c.Get(ctx, key)
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, err
}

// ContainsURL reports whether a response to method and rawURL is stored,
// whatever headers the request had.
func (c *Cache) ContainsURL(ctx context.Context, method, rawURL string) (bool, error) {
	if err := c.Flush(ctx); err != nil {
		return false, err
	}
	want, err := c.redacted(rawURL)
	if err != nil {
		return false, err
	}
	found := false
	err = c.store.Entries(ctx, func(_ cache.Key, e *cache.Entry) bool {
		found = strings.EqualFold(e.Method, method) && e.URL == want
		return !found
	})
	return found, err
}

// ContainsRequest reports whether a response to req is stored under the key
// req derives (its method, URL, body and matched headers, as sent; the
// client's default headers are not added).
func (c *Cache) ContainsRequest(ctx context.Context, req *http.Request) (bool, error) {
	key, err := c.KeyOf(req)
	if err != nil {
		return false, err
	}
	return c.Contains(ctx, key)
}

// KeyOf returns the cache key of req, as sent (the client's default headers
// are not added): the WithKeyFunc function's key when it gives one, else
// the built-in key. It reads req's body through GetBody, or not at all
// when GetBody is nil.
func (c *Cache) KeyOf(req *http.Request) (string, error) {
	var body []byte
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return "", fmt.Errorf("restycache: read request body: %w", err)
		}
		defer rc.Close()
		if body, err = io.ReadAll(rc); err != nil {
			return "", fmt.Errorf("restycache: read request body: %w", err)
		}
	}
	return string(c.transport.Key(req, body)), nil
}

// Delete removes the entries stored under keys, and the redirect aliases
// that point at them.
func (c *Cache) Delete(ctx context.Context, keys ...string) error {
	if err := c.Flush(ctx); err != nil {
		return err
	}
	ks := make([]cache.Key, len(keys))
	for i, k := range keys {
		ks[i] = cache.Key(k)
	}
	return c.store.Delete(ctx, false, ks...)
}

// DeleteURL removes every stored response to method and rawURL, whatever
// headers its request had, and reports how many it removed.
func (c *Cache) DeleteURL(ctx context.Context, method, rawURL string) (int, error) {
	if err := c.Flush(ctx); err != nil {
		return 0, err
	}
	want, err := c.redacted(rawURL)
	if err != nil {
		return 0, err
	}
	return c.deleteWhere(ctx, func(e *cache.Entry) bool {
		return strings.EqualFold(e.Method, method) && e.URL == want
	})
}

// DeleteExpired removes every entry that has expired, including those kept
// for revalidation, and reports how many it removed.
func (c *Cache) DeleteExpired(ctx context.Context) (int, error) {
	if err := c.Flush(ctx); err != nil {
		return 0, err
	}
	n, err := c.store.DeleteExpired(ctx)
	if err != nil {
		return n, err
	}
	now := c.transport.Now()
	m, err := c.deleteWhere(ctx, func(e *cache.Entry) bool { return e.IsExpired(now) })
	return n + m, err
}

func (c *Cache) deleteWhere(ctx context.Context, match func(*cache.Entry) bool) (int, error) {
	var keys []cache.Key
	err := c.store.Entries(ctx, func(k cache.Key, e *cache.Entry) bool {
		if match(e) {
			keys = append(keys, k)
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	if err := c.store.Delete(ctx, false, keys...); err != nil {
		return 0, err
	}
	return len(keys), nil
}

// Clear removes every stored response.
func (c *Cache) Clear(ctx context.Context) error {
	if err := c.Flush(ctx); err != nil {
		return err
	}
	return c.store.Clear(ctx)
}

// Len reports how many records are stored, redirect aliases and the
// indexes of varying responses included.
func (c *Cache) Len(ctx context.Context) (int, error) {
	if err := c.Flush(ctx); err != nil {
		return 0, err
	}
	return c.store.Len(ctx)
}

// Keys iterates over the keys of the stored responses selected by f
// (redirect aliases are not listed). An error ends the iteration and is
// yielded with an empty key.
func (c *Cache) Keys(ctx context.Context, f Filter) iter.Seq2[string, error] {
	return c.walk(ctx, f, func(k cache.Key, _ *cache.Entry) string { return string(k) })
}

// URLs iterates over the (redacted) URLs of the stored responses selected
// by f. An error ends the iteration and is yielded with an empty URL.
func (c *Cache) URLs(ctx context.Context, f Filter) iter.Seq2[string, error] {
	return c.walk(ctx, f, func(_ cache.Key, e *cache.Entry) string { return e.URL })
}

func (c *Cache) walk(ctx context.Context, f Filter, pick func(cache.Key, *cache.Entry) string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := c.Flush(ctx); err != nil {
			yield("", err)
			return
		}
		now := c.transport.Now()
		stopped := false
		err := c.store.Entries(ctx, func(k cache.Key, e *cache.Entry) bool {
			expired := e.IsExpired(now)
			if (f == FreshEntries && expired) || (f == ExpiredEntries && !expired) {
				return true
			}
			stopped = !yield(pick(k, e), nil)
			return !stopped
		})
		if err != nil && !stopped {
			yield("", err)
		}
	}
}

// Flush waits until the responses already given to callers have been
// written to the backend, or until ctx is done. A miss's answer reaches its
// callers before it is stored, so that no request waits for a backend
// write. The other Cache methods call Flush first; call it yourself before
// reading the backend directly right after a request, as tests do. Close
// also waits for those writes.
func (c *Cache) Flush(ctx context.Context) error { return c.transport.Flush(ctx) }

// Ping checks the backend's connection, opening it if it was not open yet,
// and returns why it failed. Backends connect lazily, so this is how a
// program fails fast at start-up. Backends with nothing to check (memory)
// always answer nil.
func (c *Cache) Ping(ctx context.Context) error {
	return c.store.Ping(ctx)
}

// Stats returns what the cache did since the client was made: hits,
// misses, stale responses served, revalidations, coalesced requests,
// background work, backend errors by operation, and what was written. Its
// counters are atomic; reading them takes no lock on the request path.
func (c *Cache) Stats() Stats { return statsOf(c.store.Stats()) }

// Close stops the cache's background work, waiting for it, and closes the
// backend. It is idempotent.
func (c *Cache) Close() error { return c.close() }

func (c *Cache) close() error {
	c.closeOnce.Do(func() {
		_ = c.transport.Close()
		c.closeErr = c.store.Close()
	})
	return c.closeErr
}

func (c *Cache) redacted(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("restycache: %w", err)
	}
	return c.keyer.RedactURL(u), nil
}

func isNotFound(err error) bool { return errors.Is(err, backend.ErrNotFound) }
