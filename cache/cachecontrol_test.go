package cache

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func cc(lines ...string) http.Header { return http.Header{"Cache-Control": lines} }

func secs(n int64) Delta { return Delta{Duration: time.Duration(n) * time.Second, Present: true} }

var invalidDelta = Delta{Present: true, Invalid: true}

func TestParseCacheControl(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		want Directives
	}{
		{"no header", http.Header{}, Directives{}},
		{"nil header", nil, Directives{}},
		{"empty line", cc(""), Directives{}},
		{"only commas", cc(" , ,, "), Directives{}},
		{"max-age", cc("max-age=60"), Directives{MaxAge: secs(60)}},
		{"max-age zero", cc("max-age=0"), Directives{MaxAge: secs(0)}},
		{"max-age leading zeros", cc("max-age=007"), Directives{MaxAge: secs(7)}},
		{"case-insensitive names", cc("Max-Age=60, NO-STORE, Public"), Directives{MaxAge: secs(60), NoStore: true, Public: true}},
		{"all booleans", cc("no-store, no-cache, private, public, must-revalidate, proxy-revalidate, must-understand, immutable, no-transform, only-if-cached"),
			Directives{NoStore: true, NoCache: true, Private: true, Public: true, MustRevalidate: true, ProxyRevalidate: true, MustUnderstand: true, Immutable: true, NoTransform: true, OnlyIfCached: true}},
		{"all deltas", cc("max-age=1, s-maxage=2, max-stale=3, min-fresh=4, stale-while-revalidate=5, stale-if-error=6"),
			Directives{MaxAge: secs(1), SMaxAge: secs(2), MaxStale: secs(3), MinFresh: secs(4), StaleWhileRevalidate: secs(5), StaleIfError: secs(6)}},
		{"repeated lines merged", cc("public", "max-age=60", "stale-if-error=30"), Directives{Public: true, MaxAge: secs(60), StaleIfError: secs(30)}},
		{"whitespace tolerant", cc("  max-age = 60 ,\tprivate\t,no-cache  "), Directives{MaxAge: secs(60), Private: true, NoCache: true}},
		{"quoted delta", cc(`max-age="60"`), Directives{MaxAge: secs(60)}},
		{"quoted delta with escape", cc(`max-age="6\0"`), Directives{MaxAge: secs(60)}},
		{"no-cache field names", cc(`no-cache="Set-Cookie, X-Foo", max-age=5`), Directives{NoCacheFields: "Set-Cookie, X-Foo", MaxAge: secs(5)}},
		{"private field names", cc(`private="Set-Cookie"`), Directives{Private: true, PrivateFields: "Set-Cookie"}},
		{"bare and qualified no-cache", cc(`no-cache, no-cache="X-A"`), Directives{NoCache: true, NoCacheFields: "X-A"}},
		{"empty qualified no-cache is bare", cc(`no-cache=""`), Directives{NoCache: true}},
		{"quoted comma does not split", cc(`x-ext="a,max-age=9", max-age=1`), Directives{MaxAge: secs(1)}},
		{"quoted escaped quote", cc(`x-ext="a\",max-age=9", max-age=1`), Directives{MaxAge: secs(1)}},
		{"unknown directives ignored", cc("foo, bar=baz, max-age=10, community=\"UCI\""), Directives{MaxAge: secs(10)}},
		{"no Unicode case folding", cc("max-ſtale=5, ſ-maxage=1"), Directives{}},
		{"bare max-stale is any staleness", cc("max-stale"), Directives{MaxStale: Delta{Duration: MaxDelta, Present: true}}},
		{"max-stale with value", cc("max-stale=30"), Directives{MaxStale: secs(30)}},
		{"same value twice", cc("max-age=60", "max-age=60"), Directives{MaxAge: secs(60)}},
		{"overflow clamps", cc("max-age=99999999999999999999999"), Directives{MaxAge: Delta{Duration: MaxDelta, Present: true}}},
		{"2^31 exactly", cc("max-age=2147483648"), Directives{MaxAge: Delta{Duration: MaxDelta, Present: true}}},
		{"just below 2^31", cc("max-age=2147483647"), Directives{MaxAge: secs(2147483647)}},

		// Invalid values: present, zero, invalid (stale for max-age).
		{"max-age=abc", cc("max-age=abc"), Directives{MaxAge: invalidDelta}},
		{"max-age negative", cc("max-age=-1"), Directives{MaxAge: invalidDelta}},
		{"max-age plus sign", cc("max-age=+5"), Directives{MaxAge: invalidDelta}},
		{"max-age empty", cc("max-age="), Directives{MaxAge: invalidDelta}},
		{"max-age empty quoted", cc(`max-age=""`), Directives{MaxAge: invalidDelta}},
		{"max-age without value", cc("max-age"), Directives{MaxAge: invalidDelta}},
		{"max-age fraction", cc("max-age=1.5"), Directives{MaxAge: invalidDelta}},
		{"max-age trailing junk", cc("max-age=60 junk"), Directives{MaxAge: invalidDelta}},
		{"max-age semicolon", cc("max-age=60; public"), Directives{MaxAge: invalidDelta}},
		{"max-age unterminated quote", cc(`max-age="60`), Directives{MaxAge: invalidDelta}},
		{"conflicting duplicates", cc("max-age=60, max-age=120"), Directives{MaxAge: invalidDelta}},
		{"conflict across lines", cc("max-age=60", "max-age=0"), Directives{MaxAge: invalidDelta}},
		{"invalid then valid stays invalid", cc("max-age=x, max-age=60"), Directives{MaxAge: invalidDelta}},
		{"bare and valued max-stale conflict", cc("max-stale, max-stale=5"), Directives{MaxStale: invalidDelta}},
		{"invalid s-maxage", cc("s-maxage=oops"), Directives{SMaxAge: invalidDelta}},
		{"invalid swr", cc("stale-while-revalidate"), Directives{StaleWhileRevalidate: invalidDelta}},
		{"junk does not hide the next directive", cc("max-age=1 x, no-store"), Directives{MaxAge: invalidDelta, NoStore: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseCacheControl(tt.h); got != tt.want {
				t.Fatalf("ParseCacheControl(%q) =\n %+v\nwant\n %+v", tt.h.Values("Cache-Control"), got, tt.want)
			}
		})
	}
}

func TestParseCacheControlNonCanonicalKey(t *testing.T) {
	h := http.Header{}
	h.Add("cache-control", "no-store") // Add canonicalises
	if !ParseCacheControl(h).NoStore {
		t.Fatal("no-store not seen")
	}
}

func TestParseCacheControlAllocs(t *testing.T) {
	for _, h := range []http.Header{
		{"Content-Type": {"text/plain"}},
		cc("public, max-age=3600, stale-while-revalidate=60", `no-cache="Set-Cookie"`),
	} {
		if n := testing.AllocsPerRun(100, func() { ParseCacheControl(h) }); n != 0 {
			t.Errorf("ParseCacheControl(%v) allocates %v times", h, n)
		}
	}
}

func BenchmarkParseCacheControl(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    http.Header
	}{
		{"absent", http.Header{"Content-Type": {"text/plain"}}},
		{"typical", cc("public, max-age=3600, stale-while-revalidate=60, stale-if-error=86400")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ParseCacheControl(bc.h)
			}
		})
	}
}

func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{"max-age=60", `no-cache="a,b", max-stale`, `x="\`, "max-age=-1, max-age=9", "MAX-AGE = 1 ,,", "\"", "max-age=99999999999999999999"} {
		f.Add(s, "")
	}
	f.Add("public", "max-age=1")
	f.Fuzz(func(t *testing.T, a, b string) {
		h := cc(a, b)
		d := ParseCacheControl(h)
		if d != ParseCacheControl(h) {
			t.Fatal("not deterministic")
		}
		for _, v := range []Delta{d.MaxAge, d.SMaxAge, d.MaxStale, d.MinFresh, d.StaleWhileRevalidate, d.StaleIfError} {
			if v.Duration < 0 || v.Duration > MaxDelta || (v.Invalid && (v.Duration != 0 || !v.Present)) || (!v.Present && v != Delta{}) {
				t.Fatalf("impossible Delta %+v from %q", v, h["Cache-Control"])
			}
		}
		// Merging two lines is the same as one comma-joined line, unless a
		// quoted string is unterminated (it would swallow the comma).
		if strings.Count(a, `"`)%2 == 0 && !strings.HasSuffix(a, `\`) {
			if j := ParseCacheControl(cc(a + "," + b)); j != d {
				t.Fatalf("lines %q,%q gave %+v; joined gave %+v", a, b, d, j)
			}
		}
	})
}

func TestParseHTTPDate(t *testing.T) {
	want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	for _, s := range []string{
		"Sun, 06 Nov 1994 08:49:37 GMT",    // IMF-fixdate
		"Sunday, 06-Nov-94 08:49:37 GMT",   // RFC 850
		"Sun Nov  6 08:49:37 1994",         // asctime
		"  Sun, 06 Nov 1994 08:49:37 GMT ", // surrounding whitespace
	} {
		got, err := ParseHTTPDate(s)
		if err != nil {
			t.Errorf("ParseHTTPDate(%q): %v", s, err)
			continue
		}
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseHTTPDate(%q) = %v, want %v in UTC", s, got, want)
		}
	}
	for _, s := range []string{"", "0", "-1", "tomorrow", "Sun, 06 Nov 1994 08:49:37", "2024-01-01T00:00:00Z", "Sun, 32 Nov 1994 08:49:37 GMT"} {
		if _, err := ParseHTTPDate(s); !errors.Is(err, ErrInvalidDate) {
			t.Errorf("ParseHTTPDate(%q) err = %v, want ErrInvalidDate", s, err)
		}
	}
}

func TestExpiresAt(t *testing.T) {
	epoch := time.Unix(0, 0)
	future := "Fri, 01 Jan 2100 00:00:00 GMT"
	tests := []struct {
		name        string
		lines       []string
		want        time.Time
		wantPresent bool
	}{
		{"absent", nil, time.Time{}, false},
		{"valid", []string{future}, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"past date kept", []string{"Thu, 01 Jan 1998 00:00:00 GMT"}, time.Date(1998, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"zero", []string{"0"}, epoch, true},
		{"minus one", []string{"-1"}, epoch, true},
		{"empty", []string{""}, epoch, true},
		{"garbage", []string{"never"}, epoch, true},
		{"two equal lines", []string{future, future}, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"two different lines", []string{future, "Sat, 01 Jan 2101 00:00:00 GMT"}, epoch, true},
		{"valid then invalid", []string{future, "0"}, epoch, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.lines != nil {
				h["Expires"] = tt.lines
			}
			got, present := ExpiresAt(h)
			if present != tt.wantPresent || !got.Equal(tt.want) || got.IsZero() != tt.want.IsZero() {
				t.Fatalf("ExpiresAt(%q) = %v, %v; want %v, %v", tt.lines, got, present, tt.want, tt.wantPresent)
			}
			if present && !got.Before(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)) && tt.want.Equal(epoch) {
				t.Fatal("an invalid Expires must be in the past")
			}
		})
	}
}

func FuzzExpires(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "0", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := http.Header{"Expires": {s}}
		t1, p1 := ExpiresAt(h)
		t2, p2 := ExpiresAt(h)
		if !p1 || !p2 || !t1.Equal(t2) {
			t.Fatalf("ExpiresAt(%q) not deterministic or not present: %v %v / %v %v", s, t1, p1, t2, p2)
		}
		if t1.IsZero() {
			t.Fatalf("ExpiresAt(%q) is the zero time (never expires)", s)
		}
		if _, err := ParseHTTPDate(s); err != nil && !t1.Equal(time.Unix(0, 0)) {
			t.Fatalf("invalid %q gave %v, want the epoch", s, t1)
		}
	})
}

func TestParseVary(t *testing.T) {
	tests := []struct {
		name    string
		lines   []string
		want    []string
		wantAll bool
	}{
		{"absent", nil, nil, false},
		{"empty", []string{""}, nil, false},
		{"one", []string{"accept-encoding"}, []string{"Accept-Encoding"}, false},
		{"sorted and deduplicated", []string{"Accept-Language, accept", "ACCEPT ,accept-language"}, []string{"Accept", "Accept-Language"}, false},
		{"whitespace and empty elements", []string{" , Origin ,\t,"}, []string{"Origin"}, false},
		{"star", []string{"Accept, *"}, nil, true},
		{"star on a later line", []string{"Accept", " * "}, nil, true},
		{"invalid names ignored", []string{"Accept Encoding, X(y), User-Agent"}, []string{"User-Agent"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.lines != nil {
				h["Vary"] = tt.lines
			}
			got, all := ParseVary(h)
			if all != tt.wantAll || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseVary(%q) = %q, %v; want %q, %v", tt.lines, got, all, tt.want, tt.wantAll)
			}
		})
	}
}

func FuzzParseVary(f *testing.F) {
	for _, s := range []string{"Accept, accept-encoding", "*", " , x", "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := http.Header{"Vary": {s}}
		names, all := ParseVary(h)
		names2, all2 := ParseVary(h)
		if all != all2 || !reflect.DeepEqual(names, names2) {
			t.Fatal("not deterministic")
		}
		if all && names != nil {
			t.Fatalf("all with names %q", names)
		}
		for i, n := range names {
			if n != http.CanonicalHeaderKey(n) || !ccIsToken(n) {
				t.Fatalf("name %q not a canonical token", n)
			}
			if i > 0 && names[i-1] >= n {
				t.Fatalf("names %q not sorted and unique", names)
			}
		}
	})
}

func TestPragmaNoCache(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		want bool
	}{
		{"none", http.Header{}, false},
		{"pragma no-cache", http.Header{"Pragma": {"no-cache"}}, true},
		{"case and list", http.Header{"Pragma": {"x=1, NO-CACHE "}}, true},
		{"other pragma", http.Header{"Pragma": {"no-cachex"}}, false},
		{"cache-control wins", http.Header{"Pragma": {"no-cache"}, "Cache-Control": {"max-age=60"}}, false},
		{"empty cache-control is absent", http.Header{"Pragma": {"no-cache"}, "Cache-Control": {" "}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PragmaNoCache(tt.h); got != tt.want {
				t.Fatalf("PragmaNoCache(%v) = %v, want %v", tt.h, got, tt.want)
			}
		})
	}
}
