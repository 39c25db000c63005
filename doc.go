// Package restycache adds a persistent, RFC 9111-aware cache to resty v2
// clients: what requests-cache and aiohttp-client-cache give Python, as a
// drop-in for resty.New.
//
//	c := restycache.New(restycache.WithBackend(sqlite.New("demo_cache")))
//	defer c.Close()
//	resp, err := c.R().SetCacheTTL(time.Minute).Get("https://api.example.com/items")
//	resp.FromCache() // true on the second call: the origin is hit once
//
// A Client embeds *resty.Client and a Request embeds *resty.Request: every
// resty setter is available and returns the restycache type, and resty's
// result decoding, retries, middlewares and logging work on hits and misses
// alike. The cache itself is an http.RoundTripper (package hooks) installed
// under resty; the caching rules live in package cache and the storage in
// package backend and its subpackages.
//
// How long a response stays fresh is decided, highest first, by the request
// (Request.SetCacheTTL and friends), the first matching URL pattern
// (WithURLExpireAfter), the response's Cache-Control and Expires headers
// when WithCacheControl is on, and the client default (WithExpireAfter,
// NeverExpire unless set). With WithCacheControl(true) the client behaves as
// an RFC 9111 private cache: validation, Vary, invalidation,
// stale-while-revalidate and stale-if-error. Concurrent identical requests
// share one origin request in both modes.
//
// Nothing the cache does fails a request the origin could answer: a broken
// backend or a corrupt entry degrades to a pass-through, reported through
// WithLogger and Cache.Stats.
package restycache
