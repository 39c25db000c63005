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
	var buf [512]byte
	b := append(buf[:0], "restycache variant v1\x00"...)
	b = append(b, primary...)
	for _, name := range names {
		b = append(b, 0)
		b = append(b, name...)
		b = append(b, 0)
		if varyListHeader(name) {
			b = appendVaryNormalList(b, h.Values(name))
			continue
		}
		// Field lines join with commas, as their members do.
		comma := false
		for _, line := range h.Values(name) {
			for member := range strings.SplitSeq(line, ",") {
				if comma {
					b = append(b, ',')
				}
				b = append(b, strings.TrimSpace(member)...)
				comma = true
			}
		}
	}
	sum := sha256.Sum256(b)
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
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

// varyPlainMember reports whether s is one list member that normalising
// leaves as it is: printable ASCII without white space, commas or upper
// case.
func varyPlainMember(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ',' || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

// appendVaryNormalList appends the members of lines lower-cased, without
// white space, sorted, with commas. A single member without white space or
// upper case, the common case, is appended as it is.
func appendVaryNormalList(b []byte, lines []string) []byte {
	if len(lines) == 1 && varyPlainMember(lines[0]) {
		return append(b, lines[0]...)
	}
	var members []string
	for _, line := range lines {
		for m := range strings.SplitSeq(line, ",") {
			if m = strings.ToLower(strings.Join(strings.Fields(m), "")); m != "" {
				members = append(members, m)
			}
		}
	}
	slices.Sort(members)
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m...)
	}
	return b
}
