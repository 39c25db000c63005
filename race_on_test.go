//go:build race

package restycache_test

// loadRequests is how many requests each load-test worker sends. The race
// detector slows requests about tenfold, so its runs send fewer, still
// enough for 64 workers to contend on 200 URLs.
const loadRequests = 300

// raceDetector reports whether the tests run with the race detector.
const raceDetector = true
