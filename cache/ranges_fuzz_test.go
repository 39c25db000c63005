package cache

import (
	"net/http"
	"testing"
)

// FuzzParseRange checks that every single range ParseRange accepts lies
// inside the representation.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-4", "bytes=-3", "bytes=5-", "bytes=1-2,4-5", "bytes=99999999999999999999-"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		if size < 0 {
			size = -size
		}
		r, kind := ParseRange(v, size)
		if kind == RangeSingle && (r.First < 0 || r.Last < r.First || r.Last >= size) {
			t.Fatalf("ParseRange(%q, %d) = %v outside the representation", v, size, r)
		}
	})
}

// FuzzParseHTTPDate checks that every date ParseHTTPDate accepts formats
// back, as IMF-fixdate, to a date it parses to the same instant.
func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseHTTPDate(s)
		if err != nil {
			return
		}
		back, err := ParseHTTPDate(d.Format(http.TimeFormat))
		if err != nil || !back.Equal(d) {
			t.Fatalf("ParseHTTPDate(%q) = %v, which does not round-trip: %v, %v", s, d, back, err)
		}
	})
}
