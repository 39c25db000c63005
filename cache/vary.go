package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// IsVariantIndex reports whether e is a variant index: the record stored
// under a request's key when the response varies on request headers (its
// Vary header names them). It holds only Vary; the responses themselves are
// stored under VariantKey(key, Vary, request headers), one per variant.
func (e *Entry) IsVariantIndex() bool {
	return e.Alias == "" && e.StatusCode == 0 && len(e.Vary) > 0
}

// IsURLIndex reports whether e is a URL index: the record, stored under a
// URLIndexKey, that lists in Aliases every key stored for one URL, so that
// an unsafe request can invalidate them all.
func (e *Entry) IsURLIndex() bool {
	return e.Alias == "" && e.StatusCode == 0 && e.Flags.Has(FlagURLIndex)
}

// VariantKey returns the key of the variant of the response stored under
// primary that a request with header h selects, given the header names the
// response varies on (canonical, as ParseVary returns them). Values are
// normalised before hashing: field lines are joined with commas and the
// white space around each comma-separated member is dropped.
func VariantKey(primary Key, names []string, h http.Header) Key {
	d := sha256.New()
	d.Write([]byte("restycache variant v1\x00"))
	d.Write([]byte(primary))
	for _, name := range names {
		d.Write([]byte{0})
		d.Write([]byte(name))
		d.Write([]byte{0})
		for i, line := range h.Values(name) {
			if i > 0 {
				d.Write([]byte{','})
			}
			for j, member := range strings.Split(line, ",") {
				if j > 0 {
					d.Write([]byte{','})
				}
				d.Write([]byte(strings.TrimSpace(member)))
			}
		}
	}
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], d.Sum(sum[:0]))
	return Key(out[:])
}
