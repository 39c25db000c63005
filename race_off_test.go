//go:build !race

package restycache_test

// loadRequests is how many requests each load-test worker sends.
const loadRequests = 2000
