// Package hooks is restycache's request path: the caching http.RoundTripper,
// the per-request state that travels in a request's context, and the store
// that sits between the transport and a backend (encoding, fail-open error
// handling, aliases and counters).
//
// The Transport works under any http.Client; package restycache installs it
// under a resty client. hooks depends on packages cache and backend, never
// the reverse.
package hooks
