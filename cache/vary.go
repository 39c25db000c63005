package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
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
// white space around each comma-separated member is dropped. The members of
// Accept, Accept-Charset, Accept-Encoding and Accept-Language, whose values
// are case-insensitive lists, are also lower-cased and sorted, so that
// "en-US, de" and "de,EN-us" select one variant.
func VariantKey(primary Key, names []string, h http.Header) Key {
	d := sha256.New()
	d.Write([]byte("restycache variant v1\x00"))
	d.Write([]byte(primary))
	for _, name := range names {
		d.Write([]byte{0})
		d.Write([]byte(name))
		d.Write([]byte{0})
		if varyListHeader(name) {
			d.Write([]byte(varyNormalList(h.Values(name))))
			continue
		}
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

// varyListHeader reports whether the request header name (canonical) holds
// a case-insensitive list whose order VariantKey ignores.
func varyListHeader(name string) bool {
	switch name {
	case "Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language":
		return true
	}
	return false
}

// varyNormalList joins the members of lines lower-cased, without white
// space, sorted, with commas.
func varyNormalList(lines []string) string {
	var members []string
	for _, line := range lines {
		for m := range strings.SplitSeq(line, ",") {
			if m = strings.ToLower(strings.Join(strings.Fields(m), "")); m != "" {
				members = append(members, m)
			}
		}
	}
	slices.Sort(members)
	return strings.Join(members, ",")
}
