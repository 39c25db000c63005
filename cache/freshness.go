package cache

import (
	"net/http"
	"time"
)

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

// responseHeaderFreshness reads the caching headers of a response received
// at responseTime for a request sent at requestTime.
func responseHeaderFreshness(h http.Header, requestTime, responseTime time.Time) headerFreshness {
	return headerFreshness{} // TODO: filled in with the Cache-Control parser
}
