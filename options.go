package restycache

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/cache"
	"github.com/restycache/restycache/hooks"
)

// Defaults of a Client made without options. A test checks these against
// the documentation.
const (
	// DefaultMaxBodySize is the largest response body stored (32 MiB);
	// larger responses pass through unstored. See WithMaxBodySize.
	DefaultMaxBodySize = hooks.DefaultMaxBodySize
	// DefaultStaleRetention is how long an expired entry that can be
	// revalidated stays in storage. See WithStaleRetention.
	DefaultStaleRetention = hooks.DefaultStaleRetention
	// DefaultBackgroundTimeout bounds shared and background origin
	// fetches (30s). See WithBackgroundTimeout.
	DefaultBackgroundTimeout = hooks.DefaultBackgroundTimeout
	// DefaultBackendTimeout bounds each backend operation on a request's
	// path (500ms). See WithBackendTimeout.
	DefaultBackendTimeout = hooks.DefaultBackendTimeout
)

// Expiration is a special lifetime for cached responses. Use one wherever a
// lifetime is accepted, beside a time.Duration (relative to when the
// response is stored) or a time.Time (absolute).
type Expiration uint8

const (
	// NeverExpire: responses stay fresh until deleted. It is the client
	// default in settings mode; with WithCacheControl(true) and no
	// WithExpireAfter, the response's headers decide instead.
	NeverExpire Expiration = iota + 1
	// DoNotCache: responses are neither read from nor written to the
	// cache. DoNotCache wins wherever it is set.
	DoNotCache
	// ExpireImmediately: responses are stored but stale at once, so a
	// stored response is used only after the origin confirms it with its
	// validators (ETag, Last-Modified).
	ExpireImmediately
)

// String returns the constant's name.
func (e Expiration) String() string {
	switch e {
	case NeverExpire:
		return "NeverExpire"
	case DoNotCache:
		return "DoNotCache"
	case ExpireImmediately:
		return "ExpireImmediately"
	}
	return "Expiration(invalid)"
}

// Lifetime is what expiration settings accept: a time.Duration from the
// moment the response is stored (zero means "not set"; negative is
// ExpireImmediately), a time.Time at which it expires (the zero time means
// "not set"), or an Expiration constant.
type Lifetime interface {
	time.Duration | time.Time | Expiration
}

func lifetimeOf[L Lifetime](l L) cache.Lifetime {
	switch v := any(l).(type) {
	case time.Duration:
		return cache.TTL(v)
	case time.Time:
		return cache.Until(v)
	case Expiration:
		return v.lifetime()
	}
	return cache.Lifetime{}
}

func (e Expiration) lifetime() cache.Lifetime {
	switch e {
	case NeverExpire:
		return cache.Never()
	case DoNotCache:
		return cache.DoNotCache()
	case ExpireImmediately:
		return cache.Immediately()
	}
	return cache.Lifetime{}
}

// Option configures a Client made by New or Wrap.
type Option func(*config)

// config is what the options set. Each setting lives in one place: the
// Store's and the Transport's own configuration, or here when Wrap
// derives those from it.
type config struct {
	storage   backend.Storage
	store     hooks.StoreOptions
	transport hooks.Config
	policy    cache.Policy
	patterns  []patternLifetime
	keys      cache.KeyOptions
	errs      []error // misconfiguration, reported by Wrap
}

// invalid records a misconfigured option; Wrap panics with every one.
func (c *config) invalid(option, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("restycache: %s: %s", option, fmt.Sprintf(format, args...)))
}

// err returns the misconfiguration found, as one error, or nil.
func (c *config) err() error { return errors.Join(c.errs...) }

type patternLifetime struct {
	pattern  string
	lifetime cache.Lifetime
}

// WithBackend sets where responses are stored. The default is an unbounded
// in-memory backend (backend/memory). The Client owns the backend: its Close
// closes the backend.
//
// A nil backend is a misconfiguration: New panics.
func WithBackend(s backend.Storage) Option {
	return func(c *config) {
		if s == nil {
			c.invalid("WithBackend", "nil backend")
		}
		c.storage = s
	}
}

// WithNamespace keeps this client's entries apart from other clients' in a
// shared backend: keys are prefixed with name, and Clear, Len and Keys see
// only this namespace. The default is no namespace.
func WithNamespace(name string) Option { return func(c *config) { c.store.Namespace = name } }

// WithExpireAfter sets the default lifetime of stored responses: a
// time.Duration, a time.Time or an Expiration constant. The default is
// NeverExpire in settings mode. With WithCacheControl(true) and no
// WithExpireAfter, the headers decide: a response whose headers give it no
// freshness (no max-age, Expires or Last-Modified) is stored only when it
// has a validator, and then revalidated before every use. URL patterns
// (WithURLExpireAfter), the response's headers (WithCacheControl) and
// Request.SetCacheTTL take precedence.
func WithExpireAfter[L Lifetime](l L) Option {
	return func(c *config) { c.policy.ExpireAfter = lifetimeOf(l) }
}

// WithURLExpireAfter sets the lifetime of responses to URLs matching
// pattern. Patterns are globs matched against host, path and query, the
// scheme ignored; "*" matches any run of characters, and the host part is
// matched as a whole host, so "example.com" never matches
// "example.com.evil.org":
//
//	"api.example.com/v1/*"    every URL under /v1/ of that host
//	"*.example.com/static*"   static files of every subdomain
//	"example.com"             every URL of example.com
//
// The first matching pattern, in the order the options were given, applies.
// A pattern overrides the response's headers and the default;
// Request.SetCacheTTL overrides it. A pattern that does not compile (an
// empty one, for instance) is a misconfiguration: New panics, naming it.
func WithURLExpireAfter[L Lifetime](pattern string, l L) Option {
	return func(c *config) {
		c.patterns = append(c.patterns, patternLifetime{pattern: pattern, lifetime: lifetimeOf(l)})
	}
}

// WithCacheControl makes the response's Cache-Control, Expires and Pragma
// headers decide how long it is fresh (below per-request and URL-pattern
// lifetimes, above a WithExpireAfter default), and keeps no-store responses
// out of the cache: the client is then an RFC 9111 private cache. Without
// WithExpireAfter, a response whose headers give it no freshness is not
// fresh at all (see WithExpireAfter). The default is off, as in
// requests-cache: many APIs send no-store everywhere, which would otherwise
// disable caching silently.
func WithCacheControl(on bool) Option { return func(c *config) { c.policy.CacheControl = on } }

// WithAllowedCodes sets the status codes that are stored. The default is 200
// only. Codes must be HTTP status codes (100 to 599) and at least one must
// be given; anything else is a misconfiguration: New panics.
func WithAllowedCodes(codes ...int) Option {
	return func(c *config) {
		if len(codes) == 0 {
			c.invalid("WithAllowedCodes", "no status code given")
		}
		for _, code := range codes {
			if code < 100 || code > 599 {
				c.invalid("WithAllowedCodes", "%d is not an HTTP status code (100 to 599)", code)
			}
		}
		c.policy.AllowedCodes = append([]int(nil), codes...)
	}
}

// WithAllowedMethods sets the request methods whose responses are cached.
// The default is GET and HEAD. Methods are HTTP tokens, compared
// upper-cased, and at least one must be given; anything else is a
// misconfiguration: New panics.
func WithAllowedMethods(methods ...string) Option {
	return func(c *config) {
		if len(methods) == 0 {
			c.invalid("WithAllowedMethods", "no method given (it would cache nothing)")
		}
		c.policy.AllowedMethods = make([]string, len(methods))
		for i, m := range methods {
			if !isToken(m) {
				c.invalid("WithAllowedMethods", "%q is not an HTTP method", m)
			}
			c.policy.AllowedMethods[i] = strings.ToUpper(m)
		}
	}
}

// WithFilter sets a function that must approve a response for it to be
// stored, and again each time it is read from the cache: a stored response
// it no longer approves is deleted. The default approves everything.
func WithFilter(f func(*http.Response) bool) Option {
	return func(c *config) { c.policy.Filter = f }
}

// WithMatchHeaders makes the named request headers part of the cache key,
// so requests that differ in them get separate entries. By default no
// header is matched, except the sensitive ones other than Cookie (see
// WithSensitiveNames); WithMatchHeaders("Cookie") gives each cookie its own
// entries.
func WithMatchHeaders(names ...string) Option {
	return func(c *config) { c.keys.MatchHeaders = append(c.keys.MatchHeaders, names...) }
}

// WithMatchAllHeaders makes every request header part of the cache key.
func WithMatchAllHeaders() Option { return func(c *config) { c.keys.MatchAllHeaders = true } }

// WithIgnoredParams names query parameters, top-level JSON body fields,
// form fields and request headers that are left out of the cache key and
// redacted in storage, such as rotating auth tokens. The default is none.
func WithIgnoredParams(names ...string) Option {
	return func(c *config) { c.keys.IgnoredParams = append(c.keys.IgnoredParams, names...) }
}

// WithSensitiveNames adds header and parameter names whose values never
// reach storage (they are stored as "REDACTED") but still separate entries,
// through a hash in the key; Cookie is the exception, stored redacted but
// separating entries only when matched (WithMatchHeaders) or named by a
// response's Vary, so a cookie jar does not split the cache. The defaults are Authorization,
// Proxy-Authorization, Cookie, X-API-Key, X-Auth-Token, Private-Token,
// Api-Key, X-API-Token, X-Access-Token, api_key, apikey and access_token.
func WithSensitiveNames(names ...string) Option {
	return func(c *config) { c.keys.SensitiveNames = append(c.keys.SensitiveNames, names...) }
}

// WithStripSetCookie keeps Set-Cookie headers out of storage. By default
// they are stored, and a hit replays them into the client's cookie jar, as
// the origin's answer would. A stored Set-Cookie is a credential at rest:
// strip it for shared or persistent backends unless the replay is needed.
func WithStripSetCookie() Option { return func(c *config) { c.transport.StripSetCookie = true } }

// WithMaxBodySize sets the largest response body that is stored; larger
// responses pass through unstored. It also bounds the request body read to
// derive a cache key: a request with a larger body is not cached. The
// default is DefaultMaxBodySize. n must be positive.
func WithMaxBodySize(n int64) Option {
	return func(c *config) {
		positive(c, "WithMaxBodySize", n)
		c.transport.MaxBodySize = n
	}
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2), as
// a method is.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// positive records a misconfiguration when v is not positive.
func positive[T int64 | time.Duration](c *config, option string, v T) {
	if v <= 0 {
		c.invalid(option, "%v is not positive", v)
	}
}

// WithStaleRetention sets how long an expired entry that can be revalidated
// (it has an ETag or Last-Modified) is kept in storage. The default is
// DefaultStaleRetention.
// d must be positive.
func WithStaleRetention(d time.Duration) Option {
	return func(c *config) {
		positive(c, "WithStaleRetention", d)
		c.transport.StaleRetention = d
	}
}

// WithStaleWhileRevalidate lets a response that expired less than d ago be
// served at once while one background request per key revalidates it
// (RFC 5861), unless its response said must-revalidate or no-cache. A
// response's own stale-while-revalidate directive (with WithCacheControl)
// takes precedence. The default is 0: stale responses are revalidated
// before use.
func WithStaleWhileRevalidate(d time.Duration) Option {
	return func(c *config) { c.transport.StaleWhileRevalidate = d }
}

// WithStaleIfError lets a response that expired less than d ago be served,
// marked stale, when the origin fails (a network error or a 5xx status)
// (RFC 5861). A stale-if-error directive of the request, else of the
// response (with WithCacheControl), takes precedence. The default is 0.
func WithStaleIfError(d time.Duration) Option {
	return func(c *config) { c.transport.StaleIfError = d }
}

// WithCoalescing turns request coalescing on or off. When on (the
// default), concurrent requests with the same cache key share one origin
// request: each gets its own copy of the answer. Requests that bypass the
// cache are never coalesced.
func WithCoalescing(on bool) Option { return func(c *config) { c.transport.DisableCoalescing = !on } }

// WithBackgroundTimeout bounds each shared (coalesced) and background
// (stale-while-revalidate) origin fetch, which run detached from any one
// caller's context. The default is DefaultBackgroundTimeout. d must be
// positive.
func WithBackgroundTimeout(d time.Duration) Option {
	return func(c *config) {
		positive(c, "WithBackgroundTimeout", d)
		c.transport.BackgroundTimeout = d
	}
}

// WithBackendTimeout bounds each backend operation on a request's path (a
// read, a write, a delete): past it the operation is abandoned and the
// request answered from the origin, so a slow or hung backend never holds a
// request longer than d. A response's write holds its caller at most d
// too. The default is DefaultBackendTimeout. d must be positive.
func WithBackendTimeout(d time.Duration) Option {
	return func(c *config) {
		positive(c, "WithBackendTimeout", d)
		c.store.Timeout = d
	}
}

// WithCrossProcessCoalescing makes identical requests that miss at once in
// several processes (or several clients) sharing one backend make one
// origin request between them: one takes a short lock in the backend and
// fetches, the others wait up to maxWait for its entry to land in the store
// and answer from it; past maxWait, or when the one fetching fails, each
// fetches itself. The lock's key is the entry's, so requests that would not
// share an entry (other credentials, say) never wait for each other.
// In-process coalescing (WithCoalescing) still comes first, so a process
// takes at most one lock per key at a time. The default is off. The backend
// must be a backend.Locker (Redis, Dragonfly, MongoDB, DynamoDB, memory),
// and maxWait positive: otherwise New panics.
func WithCrossProcessCoalescing(maxWait time.Duration) Option {
	return func(c *config) {
		positive(c, "WithCrossProcessCoalescing", maxWait)
		c.transport.CrossProcessWait = maxWait
	}
}

// WithLogger sets where trouble that does not fail a request (a broken or
// slow backend, a corrupt entry, a response too large to store) is
// reported. Reports are rate-limited: once when a failure starts, then at
// most once per interval with a count of what was suppressed, and once when
// it ends. The default is slog.Default(); a logger with
// slog.DiscardHandler silences them.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.store.Logger = l }
}

// WithClock sets the clock the cache reads; the default is time.Now. It is
// meant for tests that move time instead of waiting for it.
func WithClock(now func() time.Time) Option { return func(c *config) { c.transport.Clock = now } }

// WithReadOnly makes the client read and serve stored responses but never
// write or delete one: answers are not stored, revalidations refresh
// nothing, unsafe requests invalidate nothing (requests-cache's
// read_only). Cache management (Cache().Delete, Clear, ...) still works.
// The default is off.
func WithReadOnly() Option { return func(c *config) { c.store.ReadOnly = true } }

// WithAlwaysRevalidate makes every use of a stored response that has a
// validator (ETag or Last-Modified) send a conditional request first,
// however fresh the response is: a 304 serves it, anything else replaces
// it (requests-cache's always_revalidate). Responses without validators
// are served by their lifetime as usual. The default is off.
func WithAlwaysRevalidate() Option { return func(c *config) { c.policy.AlwaysRevalidate = true } }

// WithKeyFunc sets a function that derives the cache key of every request
// from the request and its body (requests-cache's key_fn), in place of the
// built-in key; an empty result falls back to the built-in key, and a
// per-request Request.SetCacheKey still wins. The function must be safe for
// concurrent use and must not modify the request. The default is the
// built-in key (see Cache.KeyOf). A nil function is a misconfiguration:
// New panics.
func WithKeyFunc(f func(req *http.Request, body []byte) string) Option {
	return func(c *config) {
		if f == nil {
			c.invalid("WithKeyFunc", "nil function")
		}
		c.transport.KeyFunc = f
	}
}

// WithSigningKeys makes every stored entry signed with HMAC-SHA256 under
// the first key, over the entry and its full storage key (namespace
// included), and every entry read verified under whichever listed key
// signed it (the envelope names it by a key id: the first 4 bytes of the
// key's SHA-256). To rotate keys without losing the cache, put the new key
// first and keep the old one until its entries have expired. An entry that
// is tampered with, unsigned, signed with a key not listed, or moved under
// another key is never served: it is a miss, deleted, counted
// (Stats.Failed[OpVerify]) and reported through the logger at a limited
// rate; the caller sees no error. Each key must be at least 32 bytes, and
// at least one must be given; WithSigningKeys and WithEncryptionKeys
// exclude each other (encryption authenticates too): otherwise New panics.
// The default is no signature: entries are checked for corruption and for
// their key only.
func WithSigningKeys(keys ...[]byte) Option {
	return func(c *config) {
		if len(keys) == 0 {
			c.invalid("WithSigningKeys", "no key given")
		}
		c.store.SigningKeys = copyKeys(keys)
	}
}

// WithEncryptionKeys makes every stored entry sealed with AES-256-GCM under
// the first key (a random nonce per entry, the full storage key as
// associated data), and every entry read opened with whichever listed key
// sealed it (named in the envelope by a key id: the first 4 bytes of the
// key's SHA-256). Nothing of a response (URL, headers, body) is readable
// at rest; the storage keys, which the backend needs, are hashes. Keys
// rotate as with WithSigningKeys, and an entry that cannot be opened is
// treated as an unsigned one there. Each key must be exactly 32 bytes,
// used as it is: derive it from a longer secret with crypto/hkdf when
// needed. At least one key must be given, and WithSigningKeys must not be:
// otherwise New panics. Random nonces bound a key to about 2^32 entries
// written; rotate before that. The default is no encryption.
func WithEncryptionKeys(keys ...[]byte) Option {
	return func(c *config) {
		if len(keys) == 0 {
			c.invalid("WithEncryptionKeys", "no key given")
		}
		c.store.EncryptionKeys = copyKeys(keys)
	}
}

func copyKeys(keys [][]byte) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = append([]byte(nil), k...)
	}
	return out
}

// WithObserver adds an Observer, told of every request's outcome and every
// backend operation (see Observer; otelcache.New makes one that records
// OpenTelemetry metrics). Observers are called in the order given, after
// the cache's own counters (Cache.Stats). With an Observer, backend
// operations are timed. The default is none; a nil Observer is a
// misconfiguration: New panics.
func WithObserver(o Observer) Option {
	return func(c *config) {
		if o == nil {
			c.invalid("WithObserver", "nil Observer")
			return
		}
		c.store.Observers = append(c.store.Observers, o)
	}
}

// WithCacheStatusHeader adds the standard Cache-Status response header
// (RFC 9211) to every response of a request that reached the cache, with
// name as the cache's identifier: "name; hit; ttl=42" for a hit (a
// negative ttl for a stale one), "name; fwd=miss; stored" for a stored
// miss, "name; fwd=stale; fwd-status=304" for a revalidated response,
// "name; fwd=uri-miss; collapsed" for a request coalesced onto another's
// fetch, "name; fwd=request" for a refresh and "name; fwd=bypass" for a
// request that did not use the cache. A Cache-Status the response already
// had (from caches nearer the origin) is kept, ours appended. The name must
// be a structured-field token, such as "restycache" (a letter or "*", then
// letters, digits and !#$%&'*+-.^_`|~:/); otherwise New panics. The default
// is no header.
func WithCacheStatusHeader(name string) Option {
	return func(c *config) {
		if !hooks.ValidCacheStatusName(name) {
			c.invalid("WithCacheStatusHeader", "%q is not a structured-field token", name)
		}
		c.transport.CacheStatus = name
	}
}
