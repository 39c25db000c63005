package restycache

import (
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
)

// Expiration is a special lifetime for cached responses. Use one wherever a
// lifetime is accepted, beside a time.Duration (relative to when the
// response is stored) or a time.Time (absolute).
type Expiration uint8

const (
	// NeverExpire: responses stay fresh until deleted. It is the client
	// default.
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

type config struct {
	storage        backend.Storage
	namespace      string
	policy         cache.Policy
	patterns       []patternLifetime
	keys           cache.KeyOptions
	logger         *slog.Logger
	clock          func() time.Time
	maxBodySize    int64
	stripSetCookie bool
	staleRetention time.Duration
	swr, sie       time.Duration
	noCoalescing   bool
	bgTimeout      time.Duration
}

type patternLifetime struct {
	pattern  string
	lifetime cache.Lifetime
}

// WithBackend sets where responses are stored. The default is an unbounded
// in-memory backend (backend/memory). The Client owns the backend: its Close
// closes the backend.
func WithBackend(s backend.Storage) Option { return func(c *config) { c.storage = s } }

// WithNamespace keeps this client's entries apart from other clients' in a
// shared backend: keys are prefixed with name, and Clear, Len and Keys see
// only this namespace. The default is no namespace.
func WithNamespace(name string) Option { return func(c *config) { c.namespace = name } }

// WithExpireAfter sets the default lifetime of stored responses: a
// time.Duration, a time.Time or an Expiration constant. The default is
// NeverExpire. URL patterns (WithURLExpireAfter), the response's headers
// (WithCacheControl) and Request.SetCacheTTL take precedence.
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
// Request.SetCacheTTL overrides it. An empty pattern matches nothing and is
// reported through the logger.
func WithURLExpireAfter[L Lifetime](pattern string, l L) Option {
	return func(c *config) {
		c.patterns = append(c.patterns, patternLifetime{pattern: pattern, lifetime: lifetimeOf(l)})
	}
}

// WithCacheControl makes the response's Cache-Control, Expires and Pragma
// headers decide how long it is fresh (below per-request and URL-pattern
// lifetimes, above the default), and keeps no-store responses out of the
// cache. The default is off, as in requests-cache: many APIs send no-store
// everywhere, which would otherwise disable caching silently.
func WithCacheControl(on bool) Option { return func(c *config) { c.policy.CacheControl = on } }

// WithAllowedCodes sets the status codes that are stored. The default is 200
// only.
func WithAllowedCodes(codes ...int) Option {
	return func(c *config) { c.policy.AllowedCodes = append([]int(nil), codes...) }
}

// WithAllowedMethods sets the request methods whose responses are cached.
// The default is GET and HEAD.
func WithAllowedMethods(methods ...string) Option {
	return func(c *config) {
		c.policy.AllowedMethods = make([]string, len(methods))
		for i, m := range methods {
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
// header is matched, except the sensitive ones (see WithSensitiveNames).
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
// through a hash in the key. The defaults are Authorization,
// Proxy-Authorization, Cookie, X-API-Key, X-Auth-Token, Private-Token,
// Api-Key, X-API-Token, X-Access-Token, api_key, apikey and access_token.
func WithSensitiveNames(names ...string) Option {
	return func(c *config) { c.keys.SensitiveNames = append(c.keys.SensitiveNames, names...) }
}

// WithStripSetCookie keeps Set-Cookie headers out of storage. By default
// they are stored, and a hit replays them into the client's cookie jar, as
// the origin's answer would. A stored Set-Cookie is a credential at rest:
// strip it for shared or persistent backends unless the replay is needed.
func WithStripSetCookie() Option { return func(c *config) { c.stripSetCookie = true } }

// WithMaxBodySize sets the largest response body that is stored. The default
// is DefaultMaxBodySize; larger responses pass through unstored.
func WithMaxBodySize(n int64) Option { return func(c *config) { c.maxBodySize = n } }

// WithStaleRetention sets how long an expired entry that can be revalidated
// (it has an ETag or Last-Modified) is kept in storage. The default is
// DefaultStaleRetention.
func WithStaleRetention(d time.Duration) Option { return func(c *config) { c.staleRetention = d } }

// WithStaleWhileRevalidate lets a response that expired less than d ago be
// served at once while one background request per key revalidates it
// (RFC 5861), unless its response said must-revalidate or no-cache. A
// response's own stale-while-revalidate directive (with WithCacheControl)
// takes precedence. The default is 0: stale responses are revalidated
// before use.
func WithStaleWhileRevalidate(d time.Duration) Option { return func(c *config) { c.swr = d } }

// WithStaleIfError lets a response that expired less than d ago be served,
// marked stale, when the origin fails (a network error or a 5xx status)
// (RFC 5861). A stale-if-error directive of the request, else of the
// response (with WithCacheControl), takes precedence. The default is 0.
func WithStaleIfError(d time.Duration) Option { return func(c *config) { c.sie = d } }

// WithCoalescing turns request coalescing on or off. When on (the
// default), concurrent requests with the same cache key share one origin
// request: each gets its own copy of the answer. Requests that bypass the
// cache are never coalesced.
func WithCoalescing(on bool) Option { return func(c *config) { c.noCoalescing = !on } }

// WithBackgroundTimeout bounds each shared (coalesced) and background
// (stale-while-revalidate) origin fetch, which run detached from any one
// caller's context. The default is DefaultBackgroundTimeout.
func WithBackgroundTimeout(d time.Duration) Option { return func(c *config) { c.bgTimeout = d } }

// WithLogger sets where cache failures that do not fail a request (a broken
// backend, a corrupt entry) are reported. The default discards them.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithClock sets the clock the cache reads; the default is time.Now. It is
// meant for tests that move time instead of waiting for it.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }
