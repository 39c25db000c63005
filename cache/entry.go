package cache

import (
	"net/http"
	"time"
)

// Entry is one stored response together with what the cache needs to serve
// and revalidate it. Entries are written once and treated as immutable
// afterwards: a decoded Entry may share memory with the bytes it was decoded
// from, so neither may be modified.
//
// An Entry whose Alias is set is an alias record: it only points at the key
// of another entry (see Alias) and its other fields are empty.
type Entry struct {
	// Alias, when non-empty, makes this record an alias: the response lives
	// under the key Alias. Redirected requests are stored as aliases of
	// the final response.
	Alias Key

	// StatusCode and Status are the response's status code and line
	// ("200 OK").
	StatusCode int
	Status     string
	// Proto is the response's protocol, "HTTP/1.1" when empty.
	Proto string
	// Header holds the stored response headers: hop-by-hop headers,
	// Content-Length and Age are not stored (Age is folded into
	// InitialAge). Content-Encoding is kept as received, so it still
	// describes Body.
	Header http.Header
	// Body is the response body as the cache received it: still in its
	// Content-Encoding, if Header names one. (A body that the underlying
	// transport already decompressed, as http.Transport does for a gzip it
	// asked for, arrives without the header.)
	Body []byte

	// Method and URL describe the request that produced the response; the
	// URL is normalised as the key normalises it and redacted (see
	// Keyer.RedactURL): it never holds a secret.
	Method string
	URL    string
	// RequestHeader holds the redacted request headers that the entry was
	// selected by (the matched headers).
	RequestHeader http.Header

	// RequestTime is when the request that produced the response was sent,
	// StoredAt when its response was received (RFC 9111's request_time and
	// response_time).
	RequestTime time.Time
	StoredAt    time.Time
	// ExpiresAt is when the entry stops being fresh; the zero time means it
	// never does.
	ExpiresAt time.Time
	// InitialAge is the response's corrected initial age at StoredAt
	// (RFC 9111 section 4.2.3).
	InitialAge time.Duration

	// ETag and LastModified are the response's validators, empty when it
	// sent none.
	ETag         string
	LastModified string
	// Flags are the response's Cache-Control directives that matter when
	// serving the entry, parsed once when it was stored.
	Flags Flags
	// StaleWhileRevalidate and StaleIfError are the windows (RFC 5861)
	// during which the entry may be served after it expired.
	StaleWhileRevalidate time.Duration
	StaleIfError         time.Duration
	// Vary lists the canonical request header names the response varies
	// on, as named by its Vary header.
	Vary []string

	// Aliases lists the keys stored as aliases of this entry, so that
	// deleting the entry deletes them too.
	Aliases []Key
}

// Flags is a set of Cache-Control directives recorded on an Entry.
type Flags uint32

// The Flags an Entry can carry.
const (
	// FlagNoCache: the response must be revalidated before every use.
	FlagNoCache Flags = 1 << iota
	// FlagMustRevalidate: once stale, the response must not be served
	// without successful revalidation.
	FlagMustRevalidate
	// FlagImmutable: the response will not change while fresh.
	FlagImmutable
	// FlagVaryAll: the response carried "Vary: *" and never matches a
	// later request.
	FlagVaryAll
	// FlagURLIndex marks a URL index: a record with no response that
	// lists, in Aliases, the keys stored for one URL (see URLIndexKey).
	FlagURLIndex

	// flagsEnd is one past the last flag; new flags go above it.
	flagsEnd
)

// flagsKnown holds every defined Flag; DecodeEntry rejects other bits.
const flagsKnown = flagsEnd - 1

// Has reports whether all flags in f2 are set in f.
func (f Flags) Has(f2 Flags) bool { return f&f2 == f2 }

// HasValidators reports whether the entry can be revalidated with a
// conditional request.
func (e *Entry) HasValidators() bool { return e.ETag != "" || e.LastModified != "" }

// IsExpired reports whether the entry is past its ExpiresAt at now.
func (e *Entry) IsExpired(now time.Time) bool {
	return !e.ExpiresAt.IsZero() && !now.Before(e.ExpiresAt)
}

// Age returns the entry's current age at now (RFC 9111 section 4.2.3): its
// corrected initial age plus the time it has been stored. It is never
// negative.
func (e *Entry) Age(now time.Time) time.Duration {
	return max(0, e.InitialAge+now.Sub(e.StoredAt))
}

// Staleness returns how long ago, at now, the entry stopped being fresh:
// negative while it is fresh, and 0 for an entry that never expires.
func (e *Entry) Staleness(now time.Time) time.Duration {
	if e.ExpiresAt.IsZero() {
		return 0
	}
	return now.Sub(e.ExpiresAt)
}
