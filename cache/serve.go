package cache

import "time"

// Decision is what a cache may do with a stored response for a request, as
// Policy.Serve decides it.
type Decision uint8

// The Decisions.
const (
	// Revalidate: the stored response must not be used before the origin
	// confirms it (a conditional request when it has validators) or
	// replaces it.
	Revalidate Decision = iota
	// Fresh: serve the stored response; the origin is not contacted.
	Fresh
	// Stale: serve the stored response although it is stale, as the
	// request's max-stale allows; the origin is not contacted.
	Stale
	// StaleRevalidate: serve the stale stored response at once and
	// revalidate it in the background (stale-while-revalidate).
	StaleRevalidate
)

var decisionNames = [...]string{"revalidate", "fresh", "stale", "stale-revalidate"}

// String returns the decision's name, such as "fresh".
func (d Decision) String() string {
	if int(d) < len(decisionNames) {
		return decisionNames[d]
	}
	return "Decision(invalid)"
}

// Served reports whether the stored response answers the request now.
func (d Decision) Served() bool { return d != Revalidate }

// Windows are the client-wide stale windows (RFC 5861) that apply to
// entries whose response set none. The zero value is no window.
type Windows struct {
	StaleWhileRevalidate time.Duration
	StaleIfError         time.Duration
}

// Serve decides how the stored response e may answer a request with the
// Cache-Control req (nil for none) at now, given the client-wide stale
// windows w (RFC 9111 sections 4.2 and 5.2.1, RFC 5861, RFC 8246):
//
//   - Revalidate when e is marked no-cache, when AlwaysRevalidate is set
//     and e has a validator, or when the request says no-cache (unless e is
//     fresh and immutable);
//   - Fresh when e is fresh and meets the request's max-age and min-fresh
//     (a fresh immutable e meets any max-age: a reload's max-age=0 is
//     answered without asking the origin, RFC 8246 section 2);
//   - otherwise, unless e said must-revalidate (or no-cache): Stale when e
//     is stale by no more than the request's max-stale, StaleRevalidate
//     when it is inside its stale-while-revalidate window (the
//     response's, else w's);
//   - Revalidate in every other case.
func (p *Policy) Serve(e *Entry, now time.Time, req *Directives, w Windows) Decision {
	if req == nil {
		req = &Directives{}
	}
	if e.Flags.Has(FlagNoCache) || (p.AlwaysRevalidate && e.HasValidators()) {
		return Revalidate
	}
	fresh := !e.IsExpired(now)
	if req.NoCache {
		if fresh && e.Flags.Has(FlagImmutable) {
			return Fresh
		}
		return Revalidate
	}
	if fresh {
		if req.MaxAge.Present && e.Age(now) > req.MaxAge.Duration && !e.Flags.Has(FlagImmutable) {
			return Revalidate
		}
		if req.MinFresh.Present && !e.ExpiresAt.IsZero() && e.ExpiresAt.Sub(now) < req.MinFresh.Duration {
			return Revalidate
		}
		return Fresh
	}
	if !MayServeStale(e) {
		return Revalidate
	}
	staleness := e.Staleness(now)
	if req.MaxStale.Present && staleness <= req.MaxStale.Duration &&
		(!req.MaxAge.Present || e.Age(now) <= req.MaxAge.Duration) {
		return Stale
	}
	window := e.StaleWhileRevalidate
	if window == 0 {
		window = w.StaleWhileRevalidate
	}
	if window > 0 && staleness <= window {
		return StaleRevalidate
	}
	return Revalidate
}

// ServeOnError reports whether the stored response e may be served, marked
// stale, in place of an origin failure (a network error or a 5xx) at now:
// inside the stale-if-error window of the request, else of the response,
// else w's, and never when e said must-revalidate or no-cache (RFC 5861
// section 4).
func (p *Policy) ServeOnError(e *Entry, now time.Time, req *Directives, w Windows) bool {
	window := e.StaleIfError
	if req != nil && req.StaleIfError.Present {
		window = req.StaleIfError.Duration
	} else if window == 0 {
		window = w.StaleIfError
	}
	return window > 0 && MayServeStale(e) && e.Staleness(now) <= window
}

// MayServeStale reports whether e may ever be served stale without
// revalidation: not when its response said no-cache or must-revalidate.
func MayServeStale(e *Entry) bool {
	return !e.Flags.Has(FlagNoCache) && !e.Flags.Has(FlagMustRevalidate)
}
