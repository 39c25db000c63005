package hooks

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/restycache/restycache/cache"
)

// usable reports whether e may be served without contacting the origin:
// it is fresh, not marked no-cache, and satisfies the request's max-age and
// min-fresh (RFC 9111 sections 4.2 and 5.2.1).
func (t *Transport) usable(e *cache.Entry, now time.Time, cc *cache.Directives) bool {
	if e.Flags.Has(cache.FlagNoCache) || e.IsExpired(now) {
		return false
	}
	if cc.MaxAge.Present && age(e, now) > cc.MaxAge.Duration {
		return false
	}
	if cc.MinFresh.Present && !e.ExpiresAt.IsZero() && e.ExpiresAt.Sub(now) < cc.MinFresh.Duration {
		return false
	}
	return true
}

// servableStale reports whether the request's max-stale lets the stale
// entry e be served as it is.
func (t *Transport) servableStale(e *cache.Entry, now time.Time, cc *cache.Directives) bool {
	return cc.MaxStale.Present && mayServeStale(e) && staleness(e, now) <= cc.MaxStale.Duration
}

// inStaleWhileRevalidate reports whether the stale entry e is inside its
// stale-while-revalidate window (the response's, else the client's).
func (t *Transport) inStaleWhileRevalidate(e *cache.Entry, now time.Time) bool {
	window := e.StaleWhileRevalidate
	if window == 0 {
		window = t.cfg.StaleWhileRevalidate
	}
	return window > 0 && mayServeStale(e) && staleness(e, now) <= window
}

// inStaleIfError reports whether the stale entry e may be served in place
// of an error: inside the stale-if-error window of the request, else of
// the response, else of the client.
func (t *Transport) inStaleIfError(e *cache.Entry, now time.Time, cc *cache.Directives) bool {
	window := e.StaleIfError
	if cc.StaleIfError.Present {
		window = cc.StaleIfError.Duration
	} else if window == 0 {
		window = t.cfg.StaleIfError
	}
	return window > 0 && mayServeStale(e) && staleness(e, now) <= window
}

// mayServeStale reports whether e may ever be served stale: not when its
// response said no-cache or must-revalidate.
func mayServeStale(e *cache.Entry) bool {
	return !e.Flags.Has(cache.FlagNoCache) && !e.Flags.Has(cache.FlagMustRevalidate)
}

// age is the entry's current age (RFC 9111 section 4.2.3).
func age(e *cache.Entry, now time.Time) time.Duration {
	return e.InitialAge + now.Sub(e.StoredAt)
}

// staleness is how long ago the entry stopped being fresh.
func staleness(e *cache.Entry, now time.Time) time.Duration {
	if e.ExpiresAt.IsZero() {
		return 0
	}
	return now.Sub(e.ExpiresAt)
}

// forwardUnsafe sends a request with an unsafe method upstream and, when it
// succeeds, invalidates what is stored for its target URI and for
// same-origin Location and Content-Location (RFC 9111 section 4.4).
func (t *Transport) forwardUnsafe(req *http.Request, st *State) (*http.Response, error) {
	resp, err := t.forward(req, st)
	if err != nil || resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return resp, err
	}
	targets := []*url.URL{req.URL}
	for _, name := range [...]string{"Location", "Content-Location"} {
		if v := resp.Header.Get(name); v != "" {
			if u, err := req.URL.Parse(v); err == nil && sameOrigin(u, req.URL) {
				targets = append(targets, u)
			}
		}
	}
	keys := make([]cache.Key, 0, 2*len(targets))
	for i, u := range targets {
		host := u.Host
		if i == 0 && req.Host != "" {
			host = req.Host
		}
		for _, m := range [...]string{http.MethodGet, http.MethodHead} {
			keys = append(keys, t.keyer.Key(&http.Request{Method: m, URL: u, Host: host, Header: req.Header}, nil))
		}
	}
	t.deleteKeys(req.Context(), keys...)
	return resp, nil
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// deleteKeys deletes keys, detached from the caller's cancellation; the
// Store bounds, counts and reports a failure.
func (t *Transport) deleteKeys(ctx context.Context, keys ...cache.Key) {
	_ = t.store.Delete(ctx, true, keys...)
}
