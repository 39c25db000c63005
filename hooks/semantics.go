package hooks

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/restycache/restycache/cache"
)

// windows are the client-wide stale windows, for cache.Policy.Serve.
func (t *Transport) windows() cache.Windows {
	return cache.Windows{StaleWhileRevalidate: t.cfg.StaleWhileRevalidate, StaleIfError: t.cfg.StaleIfError}
}

// decide is the policy's decision for serving e to c at now.
func (t *Transport) decide(c *call, e *cache.Entry, now time.Time) cache.Decision {
	return t.policy.Serve(e, now, &c.cc, t.windows())
}

// usable reports whether e may be served to a request with Cache-Control
// cc without contacting the origin (cache.Fresh).
func (t *Transport) usable(e *cache.Entry, now time.Time, cc *cache.Directives) bool {
	return t.policy.Serve(e, now, cc, t.windows()) == cache.Fresh
}

// inStaleIfError reports whether the stale entry e may be served in place
// of an origin failure (cache.Policy.ServeOnError).
func (t *Transport) inStaleIfError(e *cache.Entry, now time.Time, cc *cache.Directives) bool {
	return t.policy.ServeOnError(e, now, cc, t.windows())
}

// forwardUnsafe sends a request with an unsafe method upstream and, when it
// succeeds, invalidates what is stored for its target URI and for
// same-origin Location and Content-Location (RFC 9111 section 4.4): every
// response listed in each URL's index, whatever credentials, matched headers
// or variant it was stored with, and the GET and HEAD keys the request
// derives itself (which an index lost in a concurrent write may miss).
func (t *Transport) forwardUnsafe(req *http.Request, st *State) (*http.Response, error) {
	requestTime := t.now()
	resp, err := t.forward(req, st)
	responseTime := t.now()
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
		if !t.store.readOnly {
			_ = t.store.Invalidate(req.Context(), t.keyer.URLIndexKey(u, host))
		}
		for _, m := range [...]string{http.MethodGet, http.MethodHead} {
			keys = append(keys, t.keyOf(&http.Request{Method: m, URL: u, Host: host, Header: req.Header}, nil))
		}
	}
	t.deleteKeys(req.Context(), keys...)
	t.storePostAnswer(req, resp, requestTime, responseTime)
	return resp, nil
}

// storePostAnswer stores, as the answer to a GET of req's URL, a successful
// answer to the POST req that has explicit freshness and a
// Content-Location equal to its URL (RFC 9111 section 4, RFC 9110 section
// 9.3.3), once its body has been read to its end.
func (t *Transport) storePostAnswer(req *http.Request, resp *http.Response, requestTime, responseTime time.Time) {
	if req.Method != http.MethodPost || resp.StatusCode != http.StatusOK || t.store.readOnly || !t.policy.MethodAllowed(http.MethodGet) {
		return
	}
	loc := resp.Header.Get("Content-Location")
	if loc == "" {
		return
	}
	u, err := req.URL.Parse(loc)
	if err != nil || t.keyer.RedactURL(u) != t.keyer.RedactURL(req.URL) || !sameOrigin(u, req.URL) {
		return
	}
	get := &http.Request{Method: http.MethodGet, URL: req.URL, Host: req.Host, Header: req.Header.Clone()}
	get = get.WithContext(req.Context())
	get.Header.Del("Content-Type")
	get.Header.Del("Content-Length")
	lifetime := t.policy.Lifetime(cache.Lifetime{}, req.URL)
	if lifetime.IsSet() {
		return // only the response's own explicit freshness makes it a GET answer
	}
	c := &call{req: get, key: t.keyOf(get, nil), lifetime: lifetime}
	if fr := t.policy.Freshness(lifetime, resp, requestTime, responseTime); !fr.Explicit {
		return
	}
	e := t.newEntry(c, resp, requestTime, responseTime)
	if e == nil {
		return
	}
	key := t.storedKey(c, e)
	if resp.Body == nil || resp.Body == http.NoBody {
		t.saveLater(c, e, key)
		return
	}
	resp.Body = &captureBody{src: resp.Body, t: t, c: c, e: e, key: key,
		buf: make([]byte, 0, initialCapacity(resp.ContentLength, t.cfg.MaxBodySize))}
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// deleteKeys deletes keys, detached from the caller's cancellation; the
// Store bounds, counts and reports a failure.
func (t *Transport) deleteKeys(ctx context.Context, keys ...cache.Key) {
	if t.store.readOnly {
		return
	}
	_ = t.store.Delete(ctx, true, keys...)
}
