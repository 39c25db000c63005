package restycache

// resty_gen.go holds one forwarder per fluent resty setter, so that every
// setter on Client and Request returns restycache's own type and a chain never
// falls back to a resty type. It is generated from the resty source that
// go.mod requires; after upgrading resty, run `go generate ./...` and commit
// the result (a test in internal/genresty fails while the file is stale).
//
//go:generate go run ./internal/genresty
