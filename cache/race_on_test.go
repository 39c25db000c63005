//go:build race

package cache

// raceDetector reports whether the tests run under the race detector, which
// makes sync.Pool drop entries at random and so changes allocation counts.
const raceDetector = true
