package cache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RangeKind classifies a request's Range header (RFC 9110 section 14.2)
// against a stored representation, as ParseRange returns it.
type RangeKind uint8

// The RangeKinds.
const (
	// RangeNone: no Range, another unit than bytes, or a syntax error; the
	// header is ignored and the whole representation answers (200).
	RangeNone RangeKind = iota
	// RangeSingle: one satisfiable range, answered with 206.
	RangeSingle
	// RangeMultiple: several ranges; a cache may leave them to the origin.
	RangeMultiple
	// RangeUnsatisfiable: no range overlaps the representation: 416.
	RangeUnsatisfiable
)

// ByteRange is the inclusive span of byte positions First to Last of a
// representation.
type ByteRange struct{ First, Last int64 }

// Len is the number of bytes in r.
func (r ByteRange) Len() int64 { return r.Last - r.First + 1 }

// ContentRange returns the Content-Range value of r in a representation of
// size bytes: "bytes First-Last/size".
func (r ByteRange) ContentRange(size int64) string {
	return "bytes " + strconv.FormatInt(r.First, 10) + "-" + strconv.FormatInt(r.Last, 10) + "/" + strconv.FormatInt(size, 10)
}

// UnsatisfiedRange returns the Content-Range of a 416 answer for a
// representation of size bytes: "bytes */size".
func UnsatisfiedRange(size int64) string { return "bytes */" + strconv.FormatInt(size, 10) }

// ParseRange parses the Range header value v ("bytes=0-99", "bytes=100-",
// "bytes=-100", ...) for a representation of size bytes. Of a single
// range-spec it returns the satisfiable span (a last position past the end
// is cut to the end; a suffix longer than the representation is all of
// it) with RangeSingle, or RangeUnsatisfiable when the first position is at
// or past the end (or the suffix is zero bytes long). Several range-specs
// give RangeMultiple, and anything that is not a valid bytes range set
// RangeNone.
func ParseRange(v string, size int64) (ByteRange, RangeKind) {
	v = strings.Trim(v, " \t")
	unit, set, ok := strings.Cut(v, "=")
	if !ok || !ccEqualFold(strings.Trim(unit, " \t"), "bytes") {
		return ByteRange{}, RangeNone
	}
	specs := 0
	var one string
	for spec := range strings.SplitSeq(set, ",") {
		if spec = strings.Trim(spec, " \t"); spec == "" {
			continue
		}
		if _, ok := parseRangeSpec(spec, size); !ok {
			return ByteRange{}, RangeNone
		}
		specs++
		one = spec
	}
	switch specs {
	case 0:
		return ByteRange{}, RangeNone
	case 1:
	default:
		return ByteRange{}, RangeMultiple
	}
	r, _ := parseRangeSpec(one, size)
	if r.First < 0 {
		return ByteRange{}, RangeUnsatisfiable
	}
	return r, RangeSingle
}

// parseRangeSpec parses one int-range or suffix-range. ok is false for a
// syntax error; an unsatisfiable spec has First -1.
func parseRangeSpec(spec string, size int64) (r ByteRange, ok bool) {
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return r, false
	}
	if first == "" { // suffix-range: the last N bytes
		n, ok := rangeDigits(last)
		if !ok {
			return r, false
		}
		if n == 0 || size == 0 {
			return ByteRange{First: -1}, true
		}
		return ByteRange{First: max(0, size-n), Last: size - 1}, true
	}
	f, ok := rangeDigits(first)
	if !ok {
		return r, false
	}
	l := size - 1
	if last != "" {
		if l, ok = rangeDigits(last); !ok || l < f {
			return r, false
		}
	}
	if f >= size {
		return ByteRange{First: -1}, true
	}
	return ByteRange{First: f, Last: min(l, size-1)}, true
}

func rangeDigits(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// IfRangeMatches reports whether the If-Range value v lets a range of the
// stored response with header h be served (RFC 9110 section 13.1.5): v is
// an entity tag strongly equal to h's ETag (neither weak), or an HTTP-date
// equal to h's Last-Modified where that Last-Modified is strong (at least
// one second before h's Date, or before storedAt, when the cache received
// it, when h has no Date).
func IfRangeMatches(v string, h http.Header, storedAt time.Time) bool {
	v = strings.Trim(v, " \t")
	etag, lastModified := Validators(h)
	if strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "W/") {
		return etag != "" && v == etag && !strings.HasPrefix(v, "W/")
	}
	want, err := ParseHTTPDate(v)
	if err != nil {
		return false
	}
	lm, err := ParseHTTPDate(lastModified)
	if err != nil || !lm.Equal(want) {
		return false
	}
	date, err := ParseHTTPDate(h.Get("Date"))
	if err != nil {
		date = storedAt
	}
	return date.Sub(lm) >= time.Second
}
