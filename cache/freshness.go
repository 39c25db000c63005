package cache

import (
	"net/http"
	"strings"
	"time"
)

// HeuristicCap bounds the heuristic freshness lifetime given to responses
// that carry Last-Modified but no explicit lifetime.
const HeuristicCap = 24 * time.Hour

// headerFreshness is what a response's caching headers say about it.
type headerFreshness struct {
	noStore              bool
	lifetimeSet          bool
	explicit             bool // max-age or Expires, not heuristic
	noCache              bool // unqualified no-cache (or Pragma)
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
		// must-understand (RFC 9111 section 5.2.2.3) overrides no-store
		// for the status codes this cache understands, and forbids
		// storing the others.
		noStore:              cc.NoStore && !(cc.MustUnderstand && understoodStatus(code)) || cc.MustUnderstand && !understoodStatus(code),
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
		f.lifetimeSet, f.noCache = true, true
	case cc.MaxAge.Present:
		f.lifetimeSet, f.explicit, f.lifetime = true, true, cc.MaxAge.Duration
	default:
		if exp, ok := ExpiresAt(h); ok {
			f.lifetimeSet, f.explicit, f.lifetime = true, true, max(0, exp.Sub(date))
		} else if lm, err := ParseHTTPDate(h.Get("Last-Modified")); err == nil && (heuristicallyCacheable(code) || cc.Public) && lm.Before(date) {
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
	age, _ := AgeValue(h)
	delay := max(0, responseTime.Sub(requestTime))
	return max(apparent, age+delay)
}

// AgeValue returns the age that h's Age header gives (RFC 9111 section
// 5.1): of a list value ("7200, 0"), or of several field lines, the first
// member counts. An invalid value (not a non-negative decimal integer:
// "abc", "-5", "7200.0") is ignored, as section 5.1 asks, like a missing
// one: present is false for both. Values above MaxDelta are clamped to it.
func AgeValue(h http.Header) (age time.Duration, present bool) {
	lines := h.Values("Age")
	if len(lines) == 0 {
		return 0, false
	}
	v, _, _ := strings.Cut(lines[0], ",")
	d, ok := ccDeltaSeconds(strings.Trim(v, " \t"), false)
	if !ok {
		return 0, false
	}
	return d, true
}

// understoodStatus reports whether this cache implements the caching
// semantics of responses with code, as must-understand requires (RFC 9111
// section 5.2.2.3): the final statuses RFC 9110 defines.
func understoodStatus(code int) bool {
	switch code {
	case 200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305, 307, 308,
		400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
		500, 501, 502, 503, 504, 505:
		return true
	}
	return false
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
