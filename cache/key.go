package cache

// Key identifies one stored entry. Keys built by a Keyer are the lower-case
// hexadecimal SHA-256 of the request's normalised method, URL, body and
// matched headers; a caller-chosen key (Request.SetCacheKey) is used as given.
type Key string

// String returns the key as stored in a backend.
func (k Key) String() string { return string(k) }
