package hooks

import (
	"context"
	"sync"
	"time"

	"github.com/restycache/restycache/cache"
)

// Status tells what the cache did for one request.
type Status uint8

// The values of Status.
const (
	// StatusNone: the request did not reach the cache (for example it
	// failed before being sent).
	StatusNone Status = iota
	// StatusBypass: the cache was not used (bypass requested, method not
	// cacheable, DoNotCache, or disabled for the context).
	StatusBypass
	// StatusMiss: nothing usable was stored; the origin answered.
	StatusMiss
	// StatusHit: a fresh stored response was served without contacting
	// the origin.
	StatusHit
	// StatusRevalidated: a stored response was confirmed by the origin
	// (304 Not Modified) and served.
	StatusRevalidated
	// StatusStale: a stale stored response was served.
	StatusStale
	// StatusCoalesced: the response was shared from a concurrent
	// identical request's origin fetch.
	StatusCoalesced
	// StatusRefresh: the stored response was skipped on request and the
	// origin's answer stored.
	StatusRefresh
	// StatusOnlyIfCachedMiss: only-if-cached was requested and nothing was
	// stored; a 504 was returned without contacting the origin.
	StatusOnlyIfCachedMiss
)

var statusNames = [...]string{"none", "bypass", "miss", "hit", "revalidated", "stale", "coalesced", "refresh", "only-if-cached miss"}

// String returns the status's lower-case name, such as "hit".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// FromCache reports whether the response body came from storage.
func (s Status) FromCache() bool {
	return s == StatusHit || s == StatusRevalidated || s == StatusStale
}

// Options are the per-request cache controls.
type Options struct {
	// Lifetime overrides URL rules, headers and the client default.
	Lifetime cache.Lifetime
	// Bypass: neither read nor write the cache.
	Bypass bool
	// Refresh: skip the read, revalidate or refetch, store the result.
	Refresh bool
	// OnlyIfCached: never contact the origin; a miss answers 504.
	OnlyIfCached bool
	// Key replaces the derived cache key when non-empty.
	Key cache.Key
}

// Result is what the cache did for a request, as recorded by the Transport.
type Result struct {
	Status    Status
	Key       cache.Key
	StoredAt  time.Time
	ExpiresAt time.Time
}

// State is the per-request cache state: the options the request was sent
// with, and the result the Transport recorded. Package restycache puts one
// in each request's context with WithState. It is safe for concurrent use,
// because an http.Client may return (on a timeout) while its transport
// still runs.
type State struct {
	Options Options

	mu      sync.Mutex
	attempt int
	result  Result
}

// Reset prepares s for a new request with the given options, forgetting
// any earlier attempt and result.
func (s *State) Reset(o Options) {
	s.mu.Lock()
	s.Options, s.attempt, s.result = o, 0, Result{}
	s.mu.Unlock()
}

// SetAttempt records the attempt number (1 for the first try) of a request
// that may be retried. Retries skip the cache read so that a stored response
// cannot make every retry fail the same way.
func (s *State) SetAttempt(n int) {
	s.mu.Lock()
	s.attempt = n
	s.mu.Unlock()
}

func (s *State) isRetry() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempt > 1
}

// Result returns what the Transport recorded; its Status is StatusNone
// until then.
func (s *State) Result() Result {
	if s == nil {
		return Result{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.result
}

func (s *State) record(r Result) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.result = r
	s.mu.Unlock()
}

type stateKey struct{}
type disabledKey struct{}

// WithState returns a copy of ctx carrying s.
func WithState(ctx context.Context, s *State) context.Context {
	return context.WithValue(ctx, stateKey{}, s)
}

// StateFrom returns the State carried by ctx, or nil.
func StateFrom(ctx context.Context) *State {
	s, _ := ctx.Value(stateKey{}).(*State)
	return s
}

// WithoutCache returns a copy of ctx with which the Transport neither reads
// nor writes the cache.
func WithoutCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, disabledKey{}, true)
}

// Disabled reports whether ctx was made by WithoutCache.
func Disabled(ctx context.Context) bool {
	v, _ := ctx.Value(disabledKey{}).(bool)
	return v
}
