package hooks

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// Kind tells what a RequestEvent is about.
type Kind uint8

// The values of Kind.
const (
	// KindRequest: a request that used the cache ended with Status.
	KindRequest Kind = iota
	// KindBackground: a background (stale-while-revalidate) revalidation
	// ran, with no caller waiting; Status is StatusRevalidated (304),
	// StatusMiss (the origin sent a new response, which replaced the
	// stored one), StatusStale (the origin failed and stale-if-error
	// kept the stored one) or StatusNone (the fetch failed).
	KindBackground
	// KindBackgroundSkipped: a background revalidation was not run,
	// because every worker was busy or a fetch of its key was in
	// progress. Status is StatusNone.
	KindBackgroundSkipped
	// KindCrossProcessWait: a shared fetch found another process holding
	// the key's lock (see Config.CrossProcessWait) and waited for its
	// entry. Status is StatusNone.
	KindCrossProcessWait
)

var kindNames = [...]string{"request", "background", "background-skipped", "cross-process-wait"}

// String returns the kind's lower-case name, such as "request".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Revalidation tells whether a request's stored response was revalidated
// with the origin (a conditional request with its validators), and how
// that ended.
type Revalidation uint8

// The values of Revalidation.
const (
	// RevalidationNone: no conditional request was sent.
	RevalidationNone Revalidation = iota
	// RevalidationNotModified: the origin answered 304 Not Modified; the
	// stored response was refreshed and served (StatusRevalidated).
	RevalidationNotModified
	// RevalidationReplaced: the origin answered with a new response,
	// which replaced the stored one (StatusMiss or StatusRefresh).
	RevalidationReplaced
)

// String returns the revalidation's lower-case name, such as
// "not-modified".
func (r Revalidation) String() string {
	switch r {
	case RevalidationNone:
		return "none"
	case RevalidationNotModified:
		return "not-modified"
	case RevalidationReplaced:
		return "replaced"
	}
	return "unknown"
}

// RequestEvent is the outcome of one request that reached the cache, or of
// the cache's own background work (see Kind).
type RequestEvent struct {
	Kind   Kind
	Status Status
	// Revalidation tells whether a conditional request was sent for the
	// stored response, and how it ended.
	Revalidation Revalidation
	// Duration is how long the request took in the cache, from the start
	// of RoundTrip until its response's headers were ready (a body read
	// from the origin streams afterwards). Like BackendEvent.Duration, it
	// is measured only when the Store has an Observer, and it is zero for
	// background events.
	Duration time.Duration
}

// BackendEvent is one backend operation the Store made, or one stored
// record it rejected (Op is OpDecode or OpVerify; Duration is zero).
type BackendEvent struct {
	Op Op
	// Duration is how long the operation took. It is measured only when
	// the Store has an Observer (StoreOptions.Observers); the built-in
	// counters do not need it, and it is zero for them.
	Duration time.Duration
	// Err is the operation's error; nil on success. A missing key is a
	// success (a miss).
	Err error
	// Canceled reports that the operation ended because its caller
	// cancelled its context (Err says so): no failure of the backend.
	Canceled bool
	// Bytes is, for a successful OpSet, the size of the record written,
	// envelope included.
	Bytes int
	// Entry reports, for OpSet, that the record is a response (not a
	// redirect alias, a variant index or a URL index).
	Entry bool
	// Skipped reports that the operation was not sent because the backend
	// had been failing (Err wraps ErrBackendUnavailable).
	Skipped bool
}

// Observer is told what the cache does: each request's outcome and each
// backend operation. The Store's own counters (Store.Stats) are an
// Observer too. Its methods are called on the request's path, from many
// goroutines at once: they must be safe for concurrent use, return
// quickly, and not panic. The events are passed by value and are the
// Observer's to keep.
type Observer interface {
	// ObserveRequest is called once for each request that reached the
	// cache, when its outcome is known, and for the background work
	// that RequestEvent.Kind lists. ctx is the request's context (for
	// background work, the fetch's own).
	ObserveRequest(ctx context.Context, e RequestEvent)
	// ObserveBackend is called once after each backend operation, and
	// for each stored record rejected as corrupt or not authentic.
	ObserveBackend(ctx context.Context, e BackendEvent)
}

// counters are the Store's built-in counters: an Observer of atomic
// counters, with no lock.
type counters struct {
	status                       [len(statusNames)]atomic.Uint64
	revalidation                 [3]atomic.Uint64
	background, backgroundFailed atomic.Uint64
	backgroundSkipped            atomic.Uint64
	crossProcessWaits            atomic.Uint64
	entries, records, bytes      atomic.Uint64
	failed                       [numOps]atomic.Uint64
	skipped                      atomic.Uint64
}

// ObserveRequest implements Observer.
func (c *counters) ObserveRequest(_ context.Context, e RequestEvent) {
	switch e.Kind {
	case KindRequest:
		if int(e.Status) < len(c.status) {
			c.status[e.Status].Add(1)
		}
		if e.Revalidation != RevalidationNone && int(e.Revalidation) < len(c.revalidation) {
			c.revalidation[e.Revalidation].Add(1)
		}
	case KindBackground:
		c.background.Add(1)
		switch e.Status {
		case StatusRevalidated:
			c.revalidation[RevalidationNotModified].Add(1)
		case StatusMiss:
			c.revalidation[RevalidationReplaced].Add(1)
		case StatusNone:
			c.backgroundFailed.Add(1)
		}
	case KindBackgroundSkipped:
		c.backgroundSkipped.Add(1)
	case KindCrossProcessWait:
		c.crossProcessWaits.Add(1)
	}
}

// ObserveBackend implements Observer.
func (c *counters) ObserveBackend(_ context.Context, e BackendEvent) {
	switch {
	case e.Canceled:
	case e.Skipped:
		c.skipped.Add(1)
	case e.Err != nil:
		if e.Op < numOps {
			c.failed[e.Op].Add(1)
		}
	case e.Op == OpSet:
		c.records.Add(1)
		c.bytes.Add(uint64(e.Bytes))
		if e.Entry {
			c.entries.Add(1)
		}
	}
}

// stats returns the counters as Stats.
func (c *counters) stats() Stats {
	s := Stats{
		Hits:                    c.status[StatusHit].Load() + c.status[StatusStale].Load() + c.status[StatusRevalidated].Load(),
		Misses:                  c.status[StatusMiss].Load() + c.status[StatusRefresh].Load() + c.status[StatusCoalesced].Load() + c.status[StatusOnlyIfCachedMiss].Load(),
		Writes:                  c.entries.Load(),
		RecordsWritten:          c.records.Load(),
		BytesWritten:            c.bytes.Load(),
		Skipped:                 c.skipped.Load(),
		RevalidatedNotModified:  c.revalidation[RevalidationNotModified].Load(),
		RevalidatedReplaced:     c.revalidation[RevalidationReplaced].Load(),
		BackgroundRevalidations: c.background.Load(),
		BackgroundFailed:        c.backgroundFailed.Load(),
		BackgroundSkipped:       c.backgroundSkipped.Load(),
		CrossProcessWaits:       c.crossProcessWaits.Load(),
	}
	for st := range c.status {
		if n := c.status[st].Load(); n > 0 {
			if s.ByStatus == nil {
				s.ByStatus = make(map[Status]uint64)
			}
			s.ByStatus[Status(st)] = n
		}
	}
	for op := range numOps {
		if n := c.failed[op].Load(); n > 0 {
			if s.Failed == nil {
				s.Failed = make(map[Op]uint64)
			}
			s.Failed[op] = n
			s.Errors += n
		}
	}
	return s
}

// observeBackground reports the outcome of the background revalidation f,
// from its goroutine, once f's fetch has ended.
func (t *Transport) observeBackground(f *flight) {
	status := f.status
	if f.err != nil {
		status = StatusNone
	}
	t.store.ObserveRequest(context.Background(), RequestEvent{Kind: KindBackground, Status: status})
}

// observeCrossProcessWait reports a shared fetch's wait for another
// process's fetch, once per fetch: on its first poll.
func (t *Transport) observeCrossProcessWait(ctx context.Context, first bool) {
	if first {
		t.store.ObserveRequest(ctx, RequestEvent{Kind: KindCrossProcessWait})
	}
}

// CacheStatusHeader is the name of the response header that
// Config.CacheStatus adds (RFC 9211).
const CacheStatusHeader = "Cache-Status"

// ValidCacheStatusName reports whether name can identify a cache in a
// Cache-Status header: a structured-field token (RFC 8941), which starts
// with a letter or "*" and goes on with token characters, ":" or "/".
func ValidCacheStatusName(name string) bool {
	if name == "" {
		return false
	}
	if c := name[0]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '*') {
		return false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// withCacheStatus answers req and adds the Cache-Status header to the
// response, from the result recorded in req's State (one is made when req
// has none).
func (t *Transport) withCacheStatus(req *http.Request) (*http.Response, error) {
	start := t.store.started()
	st := StateFrom(req.Context())
	if st == nil {
		st = new(State)
		req = req.WithContext(WithState(req.Context(), st))
	}
	resp, err := t.roundTrip(req, start)
	if resp == nil {
		return resp, err
	}
	if v := cacheStatusValue(t.cfg.CacheStatus, st.Result(), t.now()); v != "" {
		if resp.Header == nil {
			resp.Header = make(http.Header, 1)
		}
		// Caches closer to the origin come first (RFC 9211 section 2).
		if prev := resp.Header.Values(CacheStatusHeader); len(prev) > 0 {
			v = strings.Join(prev, ", ") + ", " + v
		}
		resp.Header[CacheStatusHeader] = []string{v}
	}
	return resp, err
}

// cacheStatusValue is the Cache-Status member of the cache named name for
// the result r, at now; empty when the request did not reach the cache.
func cacheStatusValue(name string, r Result, now time.Time) string {
	b := make([]byte, 0, len(name)+40)
	b = append(b, name...)
	ttl := func(b []byte) []byte {
		if r.ExpiresAt.IsZero() {
			return b
		}
		d := r.ExpiresAt.Sub(now)
		secs := int64(d / time.Second)
		if d < 0 && d%time.Second != 0 {
			secs--
		}
		return strconv.AppendInt(append(b, "; ttl="...), secs, 10)
	}
	stored := func(b []byte) []byte {
		if r.StoredAt.IsZero() {
			return b
		}
		return append(b, "; stored"...)
	}
	switch r.Status {
	case StatusHit, StatusStale:
		b = ttl(append(b, "; hit"...))
	case StatusRevalidated:
		b = ttl(append(b, "; fwd=stale; fwd-status=304"...))
	case StatusMiss:
		b = stored(append(b, "; fwd=miss"...))
	case StatusRefresh:
		b = stored(append(b, "; fwd=request"...))
	case StatusCoalesced:
		b = append(b, "; fwd=uri-miss; collapsed"...)
	case StatusOnlyIfCachedMiss:
		b = append(b, `; detail="only-if-cached"`...)
	case StatusBypass:
		b = append(b, "; fwd=bypass"...)
	default:
		return ""
	}
	return string(b)
}
