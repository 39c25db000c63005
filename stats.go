package restycache

import "github.com/restycache/restycache/hooks"

// Stats counts what a client's cache did since the client was made, as
// Cache.Stats returns it. Every counter only grows; a Stats is a snapshot,
// each counter read atomically (a Stats taken while requests run may be a
// little out of step between counters).
type Stats struct {
	// Hits counts requests answered from storage: fresh hits, stale
	// responses served (StaleServed of them) and responses revalidated
	// with a 304.
	Hits uint64
	// Misses counts requests that needed the origin's answer: misses,
	// refreshes (Request.SetCacheRefresh), requests coalesced onto
	// another's fetch (Coalesced of them) and only-if-cached misses.
	Misses uint64
	// StaleServed counts stale responses served (stale-while-revalidate,
	// stale-if-error, max-stale).
	StaleServed uint64
	// Coalesced counts requests that waited for a concurrent identical
	// request's origin fetch and shared its answer (WithCoalescing).
	Coalesced uint64
	// Bypassed counts requests that did not use the cache (a bypass, an
	// uncached method, DoNotCache, a conditional request of the caller's).
	Bypassed uint64
	// ByStatus has every request that reached the cache by its final
	// CacheStatus (only statuses seen are present).
	ByStatus map[CacheStatus]uint64
	// RevalidatedNotModified counts revalidations the origin confirmed
	// with 304 Not Modified; RevalidatedReplaced those it answered with
	// a new response, which was stored instead. Background revalidations
	// are included.
	RevalidatedNotModified, RevalidatedReplaced uint64
	// BackgroundRevalidations counts background (stale-while-revalidate)
	// revalidations run, BackgroundFailed those of them whose fetch
	// failed, and BackgroundSkipped those not run because every worker
	// was busy or the key was being fetched already.
	BackgroundRevalidations, BackgroundFailed, BackgroundSkipped uint64
	// CrossProcessWaits counts fetches that waited for another process's
	// fetch of the same key (WithCrossProcessCoalescing).
	CrossProcessWaits uint64
	// EntriesWritten counts responses stored. RecordsWritten counts every
	// record written to the backend (responses, redirect aliases, the
	// indexes of varying responses and of URLs), and BytesWritten their
	// size as stored, envelope included.
	EntriesWritten, RecordsWritten, BytesWritten uint64
	// Errors counts failed backend operations of every kind; Failed has
	// them by operation (only operations that failed are present).
	// Failed[OpDecode] counts corrupt records, Failed[OpVerify] records
	// that were not authentic (WithSigningKeys, WithEncryptionKeys).
	Errors uint64
	Failed map[BackendOp]uint64
	// Rejected counts stored records refused and deleted as corrupt or
	// not authentic: Failed[OpDecode] + Failed[OpVerify].
	Rejected uint64
	// Skipped counts backend operations not sent because the backend had
	// been failing (a short, growing pause after failures in a row).
	Skipped uint64
}

// HitRatio returns Hits / (Hits + Misses), or 0 before any request.
func (s Stats) HitRatio() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

func statsOf(h hooks.Stats) Stats {
	return Stats{
		Hits:                    h.Hits,
		Misses:                  h.Misses,
		StaleServed:             h.ByStatus[hooks.StatusStale],
		Coalesced:               h.ByStatus[hooks.StatusCoalesced],
		Bypassed:                h.ByStatus[hooks.StatusBypass],
		ByStatus:                h.ByStatus,
		RevalidatedNotModified:  h.RevalidatedNotModified,
		RevalidatedReplaced:     h.RevalidatedReplaced,
		BackgroundRevalidations: h.BackgroundRevalidations,
		BackgroundFailed:        h.BackgroundFailed,
		BackgroundSkipped:       h.BackgroundSkipped,
		CrossProcessWaits:       h.CrossProcessWaits,
		EntriesWritten:          h.Writes,
		RecordsWritten:          h.RecordsWritten,
		BytesWritten:            h.BytesWritten,
		Errors:                  h.Errors,
		Failed:                  h.Failed,
		Rejected:                h.Failed[hooks.OpDecode] + h.Failed[hooks.OpVerify],
		Skipped:                 h.Skipped,
	}
}

// BackendOp names a kind of backend operation, in Stats.Failed and
// BackendEvent.
type BackendOp = hooks.Op

// The BackendOp values.
const (
	OpGet           = hooks.OpGet
	OpSet           = hooks.OpSet
	OpDelete        = hooks.OpDelete
	OpKeys          = hooks.OpKeys
	OpLen           = hooks.OpLen
	OpClear         = hooks.OpClear
	OpDeleteExpired = hooks.OpDeleteExpired
	OpPing          = hooks.OpPing
	OpLock          = hooks.OpLock
	OpClose         = hooks.OpClose
	// OpDecode is no backend call: a stored record that was corrupt.
	OpDecode = hooks.OpDecode
	// OpVerify is no backend call: a stored record that failed its
	// signature or seal, or lacked one (WithSigningKeys,
	// WithEncryptionKeys).
	OpVerify = hooks.OpVerify
)

// Observer is told of each request's outcome, with its duration, and of
// each backend operation, with its duration and error (see WithObserver).
// The cache's own Stats are counted by an Observer too. Its methods are
// called on the request's path from many goroutines: they must be safe for
// concurrent use, quick, and must not panic. Package otelcache has one that
// records OpenTelemetry metrics.
type Observer = hooks.Observer

// RequestEvent is a request's outcome, or an event of the cache's
// background work, as an Observer is told of it.
type RequestEvent = hooks.RequestEvent

// BackendEvent is a backend operation, as an Observer is told of it.
type BackendEvent = hooks.BackendEvent

// EventKind tells what a RequestEvent is about.
type EventKind = hooks.Kind

// The EventKind values.
const (
	// KindRequest: a request ended with RequestEvent.Status.
	KindRequest = hooks.KindRequest
	// KindBackground: a background revalidation ran.
	KindBackground = hooks.KindBackground
	// KindBackgroundSkipped: a background revalidation was not run.
	KindBackgroundSkipped = hooks.KindBackgroundSkipped
	// KindCrossProcessWait: a fetch waited for another process's.
	KindCrossProcessWait = hooks.KindCrossProcessWait
)

// Revalidation tells whether and how a request's stored response was
// revalidated with the origin.
type Revalidation = hooks.Revalidation

// The Revalidation values.
const (
	RevalidationNone        = hooks.RevalidationNone
	RevalidationNotModified = hooks.RevalidationNotModified
	RevalidationReplaced    = hooks.RevalidationReplaced
)
