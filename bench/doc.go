// Package bench is restycache's benchmark suite: a cache hit, a miss, a 304
// revalidation and a burst of concurrent cold requests, measured for
// restycache on each backend, for the Go peers (gregjones/httpcache,
// sandrolain/httpcache, bartventer/httpcache) and for the floors that bound
// what any cache in that position can cost (resty or net/http over a
// RoundTripper answering from a map, a raw go-redis GET, a raw SQLite point
// SELECT, a resty miss that tees the body into one buffer).
//
// It is a Go module of its own, so the peers never enter restycache's
// go.mod, and "go test ./..." in the main module neither runs nor builds it.
// The benchmarks live in the package's test files; this package holds their
// fixtures: the bodies, the origin and the floor transports. bench/run.sh
// runs the suite in interleaved rounds and writes bench/RESULTS.md and its
// chart (see bench/cmd/report).
//
// The Redis benchmarks read the server's address from RESTYCACHE_REDIS_URL
// (bench/run.sh starts a private redis-server when it is unset); without it
// they are skipped, and they fail when CI=true.
package bench
