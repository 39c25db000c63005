// Package cache holds restycache's pure HTTP caching logic: cache keys,
// stored entries and their binary codec, lifetimes and the storage policy,
// URL patterns, Cache-Control parsing and redaction of secrets.
//
// It performs no I/O and imports nothing else of restycache, so every rule in
// it is tested by table-driven tests and fuzz targets alone.
package cache
