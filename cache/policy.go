package cache

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultAllowedCodes returns the status codes stored when none are
// configured: 200.
func DefaultAllowedCodes() []int { return []int{http.StatusOK} }

// DefaultAllowedMethods returns the methods cached when none are configured:
// GET and HEAD.
func DefaultAllowedMethods() []string { return []string{http.MethodGet, http.MethodHead} }

// URLRule gives the Lifetime of responses to URLs matching Pattern.
type URLRule struct {
	Pattern  *URLPattern
	Lifetime Lifetime
}

// Policy decides from settings and headers whether a response is stored and
// for how long. A Policy must not be modified once in use; it is then safe
// for concurrent use.
type Policy struct {
	// ExpireAfter is the client-wide default Lifetime. Unset means Never
	// without CacheControl; with CacheControl it means that the headers
	// decide (see Default).
	ExpireAfter Lifetime
	// URLs are per-URL Lifetimes; the first rule whose pattern matches
	// applies.
	URLs []URLRule
	// CacheControl makes the response's Cache-Control, Expires and Pragma
	// headers decide the Lifetime when neither the request nor a URL rule
	// does, and makes no-store responses unstorable. Off by default.
	CacheControl bool
	// AllowedCodes are the storable status codes; nil means
	// DefaultAllowedCodes.
	AllowedCodes []int
	// AllowedMethods are the cacheable request methods (upper case); nil
	// means DefaultAllowedMethods.
	AllowedMethods []string
	// Filter, when set, must approve a response for it to be stored, and
	// again each time a stored response is read.
	Filter func(*http.Response) bool
	// AlwaysRevalidate makes every use of a stored response that has a
	// validator (ETag or Last-Modified) wait for the origin to confirm it
	// with a conditional request, however fresh it is. Off by default.
	AlwaysRevalidate bool
}

// MethodAllowed reports whether requests with method may be served from and
// stored in the cache.
func (p *Policy) MethodAllowed(method string) bool {
	if p.AllowedMethods == nil {
		return method == http.MethodGet || method == http.MethodHead ||
			strings.EqualFold(method, http.MethodGet) || strings.EqualFold(method, http.MethodHead)
	}
	for _, m := range p.AllowedMethods {
		if m == method || strings.EqualFold(m, method) {
			return true
		}
	}
	return false
}

// CodeAllowed reports whether responses with status code may be stored.
func (p *Policy) CodeAllowed(code int) bool {
	if p.AllowedCodes == nil {
		return code == http.StatusOK
	}
	return slices.Contains(p.AllowedCodes, code)
}

// Lifetime returns the Lifetime that the settings alone give a response to
// u, given the request's own Lifetime: the request's when set, else the
// first matching URL rule's. It returns the unset Lifetime when neither
// applies, so that headers (with CacheControl) or the default decide.
// DoNotCache anywhere wins: when the request, the first matching URL rule or
// the default says DoNotCache, so does Lifetime.
func (p *Policy) Lifetime(request Lifetime, u *url.URL) Lifetime {
	if request.IsDoNotCache() || p.ExpireAfter.IsDoNotCache() {
		return DoNotCache()
	}
	var rule Lifetime
	for i := range p.URLs {
		if p.URLs[i].Pattern.Match(u) {
			rule = p.URLs[i].Lifetime
			break
		}
	}
	if request.IsSet() && !rule.IsDoNotCache() {
		return request
	}
	return rule
}

// Default returns the client-wide default Lifetime: ExpireAfter, or, when
// it is unset, Never without CacheControl and Immediately with it (the
// headers decide: a response whose headers give it no freshness is stale
// at once, so it is stored only when it can be revalidated).
func (p *Policy) Default() Lifetime {
	switch {
	case p.ExpireAfter.IsSet():
		return p.ExpireAfter
	case p.CacheControl:
		return Immediately()
	}
	return Never()
}

// Filtered reports whether the Filter rejects resp.
func (p *Policy) Filtered(resp *http.Response) bool {
	return p.Filter != nil && !p.Filter(resp)
}

// storableStatus reports whether a response with code may be stored when
// headers are honoured. With AllowedCodes unset, a 200 always may, and
// another final status when the response gives explicit or heuristic
// freshness (RFC 9111 section 3), so a 301, 404 or 410 with max-age is
// stored; partial (206) and 304 responses never are. AllowedCodes, when
// set, narrows this further.
func (p *Policy) storableStatus(code int, h headerFreshness) bool {
	if p.AllowedCodes != nil && !p.CodeAllowed(code) {
		return false
	}
	switch {
	case code < 200 || code > 599 || code == http.StatusPartialContent || code == http.StatusNotModified:
		return false
	case code == http.StatusOK || p.AllowedCodes != nil:
		return true
	}
	return h.lifetimeSet && !h.flags.Has(FlagNoCache)
}

// Freshness describes how long a stored response stays fresh, as computed
// by Policy.Freshness when the response is stored.
type Freshness struct {
	// Store is false when the response must not be stored at all.
	Store bool
	// ExpiresAt is when the response stops being fresh; zero for never.
	ExpiresAt time.Time
	// InitialAge is the response's corrected initial age at response time.
	InitialAge time.Duration
	// Explicit reports that the lifetime came from the response's max-age
	// or Expires (with CacheControl), not from a setting or a heuristic.
	Explicit bool
	// Flags, StaleWhileRevalidate and StaleIfError come from the
	// response's Cache-Control when header honouring is on.
	Flags                Flags
	StaleWhileRevalidate time.Duration
	StaleIfError         time.Duration
}

// Freshness decides whether resp, the answer to a request sent at
// requestTime and received at responseTime, is stored and until when it is
// fresh. lifetime is what Policy.Lifetime returned for the request. The
// status code, filter and (with CacheControl) no-store are checked here;
// the method is not.
func (p *Policy) Freshness(lifetime Lifetime, resp *http.Response, requestTime, responseTime time.Time) Freshness {
	if lifetime.IsDoNotCache() || p.Filtered(resp) {
		return Freshness{}
	}
	if !p.CacheControl && !p.CodeAllowed(resp.StatusCode) {
		return Freshness{}
	}
	f := Freshness{Store: true}
	if p.CacheControl {
		h := responseHeaderFreshness(resp.StatusCode, resp.Header, requestTime, responseTime)
		if h.noStore || !p.storableStatus(resp.StatusCode, h) {
			return Freshness{}
		}
		f.InitialAge = h.initialAge
		f.Flags = h.flags
		f.StaleWhileRevalidate = h.staleWhileRevalidate
		f.StaleIfError = h.staleIfError
		if !lifetime.IsSet() && h.lifetimeSet {
			f.ExpiresAt = responseTime.Add(h.lifetime - h.initialAge)
			f.Explicit = h.explicit
			if !p.usefulStale(f, h.noCache, resp.Header, responseTime) {
				return Freshness{}
			}
			return f
		}
		if !lifetime.IsSet() && !p.ExpireAfter.IsSet() {
			// The headers decide, and give no freshness.
			f.ExpiresAt = responseTime
			if !p.usefulStale(f, false, resp.Header, responseTime) {
				return Freshness{}
			}
			return f
		}
	}
	if !lifetime.IsSet() {
		lifetime = p.Default()
	}
	f.ExpiresAt = lifetime.ExpiresAt(responseTime)
	return f
}

// usefulStale reports whether a response whose headers decided its
// freshness f is worth storing: it is fresh for a while, or it can be
// revalidated (it has a validator), or served stale (a stale window).
func (p *Policy) usefulStale(f Freshness, noCache bool, h http.Header, responseTime time.Time) bool {
	if !noCache && (f.ExpiresAt.IsZero() || f.ExpiresAt.After(responseTime)) {
		return true
	}
	if etag, lm := Validators(h); etag != "" || lm != "" {
		return true
	}
	return !noCache && (f.StaleWhileRevalidate > 0 || f.StaleIfError > 0)
}
