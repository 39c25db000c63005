package cache

import (
	"net/http"
	"strconv"
	"time"
)

// HeuristicCap bounds the heuristic freshness lifetime given to responses
// that carry Last-Modified but no explicit lifetime.
const HeuristicCap = 24 * time.Hour

// headerFreshness is what a response's caching headers say about it.
type headerFreshness struct {
	noStore              bool
	lifetimeSet          bool
	lifetime             time.Duration
	initialAge           time.Duration
	flags                Flags
	staleWhileRevalidate time.Duration
	staleIfError         time.Duration
}

// responseHeaderFreshness reads the caching headers of a response with
// status code, received at responseTime for a request sent at requestTime
// (RFC 9111 sections 4.2.1 to 4.2.3, RFC 5861).
func responseHeaderFreshness(code int, h http.Header, requestTime, responseTime time.Time) headerFreshness {
	cc := ParseCacheControl(h)
	f := headerFreshness{
		noStore:              cc.NoStore,
		initialAge:           initialAge(h, requestTime, responseTime),
		staleWhileRevalidate: cc.StaleWhileRevalidate.Duration,
		staleIfError:         cc.StaleIfError.Duration,
	}
	if cc.MustRevalidate {
		f.flags |= FlagMustRevalidate
	}
	if cc.Immutable {
		f.flags |= FlagImmutable
	}
	if _, all := ParseVary(h); all {
		f.flags |= FlagVaryAll
	}
	date := responseTime
	if d, err := ParseHTTPDate(h.Get("Date")); err == nil {
		date = d
	}
	switch {
	case cc.NoCache || PragmaNoCache(h):
		f.flags |= FlagNoCache
		f.lifetimeSet = true
	case cc.MaxAge.Present:
		f.lifetimeSet, f.lifetime = true, cc.MaxAge.Duration
	default:
		if exp, ok := ExpiresAt(h); ok {
			f.lifetimeSet, f.lifetime = true, max(0, exp.Sub(date))
		} else if lm, err := ParseHTTPDate(h.Get("Last-Modified")); err == nil && heuristicallyCacheable(code) && lm.Before(date) {
			f.lifetimeSet, f.lifetime = true, min(date.Sub(lm)/10, HeuristicCap)
		}
	}
	return f
}

// initialAge is the corrected initial age of a response (RFC 9111 section
// 4.2.3).
func initialAge(h http.Header, requestTime, responseTime time.Time) time.Duration {
	var apparent time.Duration
	if d, err := ParseHTTPDate(h.Get("Date")); err == nil {
		apparent = max(0, responseTime.Sub(d))
	}
	var age time.Duration
	if v := h.Get("Age"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			age = time.Duration(min(n, int64(MaxDelta/time.Second))) * time.Second
		}
	}
	delay := max(0, responseTime.Sub(requestTime))
	return max(apparent, age+delay)
}

// heuristicallyCacheable reports whether responses with code may be given a
// heuristic freshness lifetime (RFC 9110 section 15.1).
func heuristicallyCacheable(code int) bool {
	switch code {
	case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}
