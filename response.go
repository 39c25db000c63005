package restycache

import (
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/restycache/restycache/hooks"
)

// CacheStatus tells what the cache did for a request.
type CacheStatus = hooks.Status

// The CacheStatus values a Response can report.
const (
	CacheNone             = hooks.StatusNone
	CacheBypass           = hooks.StatusBypass
	CacheMiss             = hooks.StatusMiss
	CacheHit              = hooks.StatusHit
	CacheRevalidated      = hooks.StatusRevalidated
	CacheStale            = hooks.StatusStale
	CacheCoalesced        = hooks.StatusCoalesced
	CacheRefresh          = hooks.StatusRefresh
	CacheOnlyIfCachedMiss = hooks.StatusOnlyIfCachedMiss
)

// Response is resty's response plus what the cache did for it. It embeds
// *resty.Response. Its cache accessors are safe to call on a nil
// *Response.
type Response struct {
	*resty.Response
	result hooks.Result
	clock  *hooks.Transport // its Now
}

func wrapResponse(resp *resty.Response, st *hooks.State, c *Client) *Response {
	if resp == nil {
		return nil
	}
	return &Response{Response: resp, result: st.Result(), clock: c.transport}
}

// CacheStatus returns what the cache did for the request.
func (r *Response) CacheStatus() CacheStatus {
	if r == nil {
		return CacheNone
	}
	return r.result.Status
}

// FromCache reports whether the response was served from the cache (a
// hit, a revalidated or a stale response).
func (r *Response) FromCache() bool { return r.CacheStatus().FromCache() }

// Revalidated reports whether a stored response was served after the
// origin confirmed it with 304 Not Modified.
func (r *Response) Revalidated() bool { return r.CacheStatus() == CacheRevalidated }

// IsStale reports whether the response was served stale.
func (r *Response) IsStale() bool { return r.CacheStatus() == CacheStale }

// CacheKey returns the key the response is stored under, or "" when the
// cache was not used.
func (r *Response) CacheKey() string {
	if r == nil {
		return ""
	}
	return string(r.result.Key)
}

// CachedAt returns when the served response was received from the origin
// and stored; the zero time when it was not stored.
func (r *Response) CachedAt() time.Time {
	if r == nil {
		return time.Time{}
	}
	return r.result.StoredAt
}

// ExpiresAt returns when the stored response stops being fresh; the zero
// time when it never does or was not stored.
func (r *Response) ExpiresAt() time.Time {
	if r == nil {
		return time.Time{}
	}
	return r.result.ExpiresAt
}

// IsExpired reports whether the stored response is no longer fresh now.
func (r *Response) IsExpired() bool {
	if r == nil || r.result.ExpiresAt.IsZero() {
		return false
	}
	return !r.clock.Now().Before(r.result.ExpiresAt)
}
