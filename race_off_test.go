//go:build !race

package restycache_test

// loadRequests is how many requests each load-test worker sends.
const loadRequests = 2000

// raceDetector reports whether the tests run with the race detector.
const raceDetector = false
