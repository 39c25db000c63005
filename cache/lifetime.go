package cache

import "time"

// Lifetime says how long a response stays fresh once stored: a duration, an
// absolute time, or one of the special lifetimes. The zero Lifetime means
// "not set": the next setting in precedence order decides.
type Lifetime struct {
	kind lifetimeKind
	ttl  time.Duration
	at   time.Time
}

type lifetimeKind uint8

const (
	kindUnset lifetimeKind = iota
	kindTTL
	kindAt
	kindNever
	kindDoNotCache
	kindImmediately
)

// TTL returns a Lifetime of d from the moment the response is stored. Zero
// is the unset Lifetime; a negative d is the same as Immediately.
func TTL(d time.Duration) Lifetime {
	switch {
	case d == 0:
		return Lifetime{}
	case d < 0:
		return Immediately()
	}
	return Lifetime{kind: kindTTL, ttl: d}
}

// Until returns a Lifetime that ends at t. The zero time is the unset
// Lifetime.
func Until(t time.Time) Lifetime {
	if t.IsZero() {
		return Lifetime{}
	}
	return Lifetime{kind: kindAt, at: t}
}

// Never returns the Lifetime of a response that never expires.
func Never() Lifetime { return Lifetime{kind: kindNever} }

// DoNotCache returns the Lifetime that disables the cache: the response is
// neither read from nor written to storage.
func DoNotCache() Lifetime { return Lifetime{kind: kindDoNotCache} }

// Immediately returns the Lifetime of a response that is stored but stale at
// once, so it is only used after revalidation with its validators.
func Immediately() Lifetime { return Lifetime{kind: kindImmediately} }

// IsSet reports whether l is not the zero Lifetime.
func (l Lifetime) IsSet() bool { return l.kind != kindUnset }

// IsDoNotCache reports whether l disables the cache.
func (l Lifetime) IsDoNotCache() bool { return l.kind == kindDoNotCache }

// ExpiresAt returns when a response stored at storedAt stops being fresh
// under l: the zero time when it never does. It must not be called on an
// unset or DoNotCache Lifetime, for which it returns storedAt.
func (l Lifetime) ExpiresAt(storedAt time.Time) time.Time {
	switch l.kind {
	case kindTTL:
		return storedAt.Add(l.ttl)
	case kindAt:
		return l.at
	case kindNever:
		return time.Time{}
	}
	return storedAt
}

// String describes l for logs and error messages.
func (l Lifetime) String() string {
	switch l.kind {
	case kindTTL:
		return l.ttl.String()
	case kindAt:
		return "until " + l.at.Format(time.RFC3339)
	case kindNever:
		return "never expire"
	case kindDoNotCache:
		return "do not cache"
	case kindImmediately:
		return "expire immediately"
	}
	return "unset"
}
