package restycache

import (
	"context"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/restycache/restycache/cache"
	"github.com/restycache/restycache/hooks"
)

// Request is a resty request with per-request cache controls. It embeds
// *resty.Request: every resty setter is available on it and returns
// *Request, and the execute methods return *Response.
type Request struct {
	*resty.Request
	client *Client
	cache  hooks.Options
	state  hooks.State // what the cache did for the latest Execute
}

// SetCacheTTL sets how long this request's response stays fresh once
// stored, above every other expiration setting. Zero means "not set"; a
// negative d is ExpireImmediately. See also SetCacheExpiresAt and
// SetCacheExpiration.
func (r *Request) SetCacheTTL(d time.Duration) *Request {
	r.cache.Lifetime = cache.TTL(d)
	return r
}

// SetCacheExpiresAt sets when this request's response stops being fresh,
// above every other expiration setting. The zero time means "not set".
func (r *Request) SetCacheExpiresAt(t time.Time) *Request {
	r.cache.Lifetime = cache.Until(t)
	return r
}

// SetCacheExpiration sets this request's lifetime to one of the Expiration
// constants, above every other expiration setting: SetCacheExpiration
// (DoNotCache) neither reads nor writes the cache.
func (r *Request) SetCacheExpiration(e Expiration) *Request {
	r.cache.Lifetime = e.lifetime()
	return r
}

// SetCacheBypass, when true, makes this request neither read nor write the
// cache. The default is false.
func (r *Request) SetCacheBypass(bypass bool) *Request {
	r.cache.Bypass = bypass
	return r
}

// SetCacheRefresh, when true, skips the stored response: the origin is
// asked (conditionally, when the stored response has validators) and its
// answer stored. The default is false.
func (r *Request) SetCacheRefresh(refresh bool) *Request {
	r.cache.Refresh = refresh
	return r
}

// SetCacheOnlyIfCached, when true, never contacts the origin: a request
// with no fresh stored response gets a 504 Gateway Timeout response whose
// body is ErrOnlyIfCached's message. The default is false.
func (r *Request) SetCacheOnlyIfCached(only bool) *Request {
	r.cache.OnlyIfCached = only
	return r
}

// SetCacheKey stores and looks up this request's response under key instead
// of the key derived from the request. The empty key restores the default.
func (r *Request) SetCacheKey(key string) *Request {
	r.cache.Key = cache.Key(key)
	return r
}

// SetContext sets the request's context (see resty.Request.SetContext). A
// context made by WithoutCache disables the cache for the request.
func (r *Request) SetContext(ctx context.Context) *Request {
	r.Request.SetContext(ctx)
	return r
}

// WithoutCache returns a copy of ctx that disables the cache for every
// request made with it (or a context derived from it), and for no other.
func WithoutCache(ctx context.Context) context.Context { return hooks.WithoutCache(ctx) }

// Execute sends the request with the given method to url, through the
// cache.
func (r *Request) Execute(method, url string) (*Response, error) {
	st := &r.state
	st.Reset(r.cache)
	r.Request.SetContext(hooks.WithState(r.Request.Context(), st))
	resp, err := r.Request.Execute(method, url)
	return wrapResponse(resp, st, r.client), err
}

// Send sends the request with the method and URL already set on it.
func (r *Request) Send() (*Response, error) { return r.Execute(r.Method, r.URL) }

// Get sends a GET request to url.
func (r *Request) Get(url string) (*Response, error) { return r.Execute(resty.MethodGet, url) }

// Head sends a HEAD request to url.
func (r *Request) Head(url string) (*Response, error) { return r.Execute(resty.MethodHead, url) }

// Post sends a POST request to url.
func (r *Request) Post(url string) (*Response, error) { return r.Execute(resty.MethodPost, url) }

// Put sends a PUT request to url.
func (r *Request) Put(url string) (*Response, error) { return r.Execute(resty.MethodPut, url) }

// Patch sends a PATCH request to url.
func (r *Request) Patch(url string) (*Response, error) { return r.Execute(resty.MethodPatch, url) }

// Delete sends a DELETE request to url.
func (r *Request) Delete(url string) (*Response, error) { return r.Execute(resty.MethodDelete, url) }

// Options sends an OPTIONS request to url.
func (r *Request) Options(url string) (*Response, error) {
	return r.Execute(resty.MethodOptions, url)
}
