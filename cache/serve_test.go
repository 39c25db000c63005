package cache

import (
	"net/http"
	"testing"
	"time"
)

func TestPolicyServe(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	entry := func(expiresIn time.Duration, flags Flags, mod ...func(*Entry)) *Entry {
		e := &Entry{StatusCode: 200, StoredAt: now.Add(-10 * time.Second), ExpiresAt: now.Add(expiresIn), Flags: flags}
		for _, m := range mod {
			m(e)
		}
		return e
	}
	never := func(e *Entry) { e.ExpiresAt = time.Time{} }
	etag := func(e *Entry) { e.ETag = `"v"` }
	swr := func(d time.Duration) func(*Entry) { return func(e *Entry) { e.StaleWhileRevalidate = d } }
	req := func(s string) *Directives {
		d := ParseCacheControl(http.Header{"Cache-Control": {s}})
		return &d
	}
	plain := &Policy{CacheControl: true}
	always := &Policy{CacheControl: true, AlwaysRevalidate: true}
	for _, tc := range []struct {
		name string
		p    *Policy
		e    *Entry
		req  *Directives
		w    Windows
		want Decision
	}{
		{"fresh", plain, entry(time.Minute, 0), nil, Windows{}, Fresh},
		{"never expires", plain, entry(0, 0, never), nil, Windows{}, Fresh},
		{"expired", plain, entry(-time.Second, 0), nil, Windows{}, Revalidate},
		{"expiring now is stale", plain, entry(0, 0), nil, Windows{}, Revalidate},
		{"no-cache entry", plain, entry(time.Minute, FlagNoCache), nil, Windows{}, Revalidate},
		{"request no-cache", plain, entry(time.Minute, 0), req("no-cache"), Windows{}, Revalidate},
		{"request no-cache, immutable", plain, entry(time.Minute, FlagImmutable), req("no-cache"), Windows{}, Fresh},
		{"request no-cache, stale immutable", plain, entry(-time.Second, FlagImmutable), req("no-cache"), Windows{}, Revalidate},
		{"request max-age=0, immutable", plain, entry(time.Minute, FlagImmutable), req("max-age=0"), Windows{}, Fresh},
		{"request max-age=0, stale immutable", plain, entry(-time.Second, FlagImmutable), req("max-age=0"), Windows{}, Revalidate},
		{"request max-age met", plain, entry(time.Minute, 0), req("max-age=10"), Windows{}, Fresh},
		{"request max-age exceeded", plain, entry(time.Minute, 0), req("max-age=9"), Windows{}, Revalidate},
		{"request min-fresh met", plain, entry(time.Minute, 0), req("min-fresh=60"), Windows{}, Fresh},
		{"request min-fresh not met", plain, entry(time.Minute, 0), req("min-fresh=61"), Windows{}, Revalidate},
		{"max-stale", plain, entry(-30*time.Second, 0), req("max-stale=30"), Windows{}, Stale},
		{"max-stale too small", plain, entry(-31*time.Second, 0), req("max-stale=30"), Windows{}, Revalidate},
		{"bare max-stale", plain, entry(-time.Hour, 0), req("max-stale"), Windows{}, Stale},
		{"max-stale and max-age", plain, entry(-time.Second, 0), req("max-stale, max-age=5"), Windows{}, Revalidate},
		{"max-stale, must-revalidate", plain, entry(-time.Second, FlagMustRevalidate), req("max-stale"), Windows{}, Revalidate},
		{"response swr", plain, entry(-time.Second, 0, swr(time.Minute)), nil, Windows{}, StaleRevalidate},
		{"response swr passed", plain, entry(-2*time.Minute, 0, swr(time.Minute)), nil, Windows{}, Revalidate},
		{"client swr", plain, entry(-time.Second, 0), nil, Windows{StaleWhileRevalidate: time.Minute}, StaleRevalidate},
		{"swr, must-revalidate", plain, entry(-time.Second, FlagMustRevalidate, swr(time.Minute)), nil, Windows{}, Revalidate},
		{"always revalidate, validator", always, entry(time.Minute, 0, etag), nil, Windows{}, Revalidate},
		{"always revalidate, no validator", always, entry(time.Minute, 0), nil, Windows{}, Fresh},
	} {
		if got := tc.p.Serve(tc.e, now, tc.req, tc.w); got != tc.want {
			t.Errorf("%s: Serve = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPolicyServeOnError(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	e := func(stale, sie time.Duration, flags Flags) *Entry {
		return &Entry{StoredAt: now.Add(-time.Hour), ExpiresAt: now.Add(-stale), StaleIfError: sie, Flags: flags}
	}
	p := &Policy{CacheControl: true}
	reqSIE := ParseCacheControl(http.Header{"Cache-Control": {"stale-if-error=5"}})
	for _, tc := range []struct {
		name string
		e    *Entry
		req  *Directives
		w    Windows
		want bool
	}{
		{"no window", e(time.Second, 0, 0), nil, Windows{}, false},
		{"response window", e(time.Second, time.Minute, 0), nil, Windows{}, true},
		{"client window", e(time.Second, 0, 0), nil, Windows{StaleIfError: time.Minute}, true},
		{"request window beats response", e(10*time.Second, time.Minute, 0), &reqSIE, Windows{}, false},
		{"must-revalidate", e(time.Second, time.Minute, FlagMustRevalidate), nil, Windows{}, false},
	} {
		if got := p.ServeOnError(tc.e, now, tc.req, tc.w); got != tc.want {
			t.Errorf("%s: ServeOnError = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEntryAgeComputedOnce(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	e := &Entry{StoredAt: now.Add(-5 * time.Second), InitialAge: 10 * time.Second}
	if got := e.Age(now); got != 15*time.Second {
		t.Errorf("Age = %v, want 15s", got)
	}
	if got := e.Age(now.Add(-time.Hour)); got != 0 {
		t.Errorf("Age before StoredAt = %v, want 0", got)
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		v    string
		size int64
		want ByteRange
		kind RangeKind
	}{
		{"bytes=0-4", 10, ByteRange{0, 4}, RangeSingle},
		{"bytes=5-", 10, ByteRange{5, 9}, RangeSingle},
		{"bytes=-3", 10, ByteRange{7, 9}, RangeSingle},
		{"bytes=-30", 10, ByteRange{0, 9}, RangeSingle},
		{"bytes=8-100", 10, ByteRange{8, 9}, RangeSingle},
		{"Bytes = 1-1", 10, ByteRange{1, 1}, RangeSingle},
		{"bytes=10-", 10, ByteRange{}, RangeUnsatisfiable},
		{"bytes=-0", 10, ByteRange{}, RangeUnsatisfiable},
		{"bytes=0-", 0, ByteRange{}, RangeUnsatisfiable},
		{"bytes=0-1,3-4", 10, ByteRange{}, RangeMultiple},
		{"bytes=4-2", 10, ByteRange{}, RangeNone},
		{"bytes=a-", 10, ByteRange{}, RangeNone},
		{"bytes=", 10, ByteRange{}, RangeNone},
		{"items=0-1", 10, ByteRange{}, RangeNone},
		{"bytes=1", 10, ByteRange{}, RangeNone},
	} {
		got, kind := ParseRange(tc.v, tc.size)
		if got != tc.want || kind != tc.kind {
			t.Errorf("ParseRange(%q, %d) = %v, %v; want %v, %v", tc.v, tc.size, got, kind, tc.want, tc.kind)
		}
	}
	if got := (ByteRange{2, 4}).ContentRange(10); got != "bytes 2-4/10" {
		t.Errorf("ContentRange = %q", got)
	}
}

func TestIfRangeMatches(t *testing.T) {
	stored := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lm := stored.Add(-time.Hour).Format(http.TimeFormat)
	h := http.Header{"Etag": {`"a"`}, "Last-Modified": {lm}, "Date": {stored.Format(http.TimeFormat)}}
	weakLM := http.Header{"Last-Modified": {stored.Format(http.TimeFormat)}, "Date": {stored.Format(http.TimeFormat)}}
	for _, tc := range []struct {
		v    string
		h    http.Header
		want bool
	}{
		{`"a"`, h, true},
		{`"b"`, h, false},
		{`W/"a"`, http.Header{"Etag": {`W/"a"`}}, false},
		{lm, h, true},
		{stored.Format(http.TimeFormat), h, false},
		{stored.Format(http.TimeFormat), weakLM, false},
		{"garbage", h, false},
	} {
		if got := IfRangeMatches(tc.v, tc.h, stored); got != tc.want {
			t.Errorf("IfRangeMatches(%q, %v) = %v, want %v", tc.v, tc.h, got, tc.want)
		}
	}
}

func TestParseHTTPDateStrict(t *testing.T) {
	want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"Sun, 06 Nov 1994 08:49:37 GMT", true},
		{"Sunday, 06-Nov-94 08:49:37 GMT", true},
		{"Sun Nov  6 08:49:37 1994", true},
		{"Sun, 06 Nov 1994 08:49:37 gmt", true},
		{"  Sun, 06 Nov 1994 08:49:37 GMT\t", true},
		{"Sun, 06 Nov 1994 8:49:37 GMT", false},
		{"Sun,  06 Nov 1994 08:49:37 GMT", false},
		{"Sun, 06 Nov 1994 08:49:37 GMT x", false},
		{"Sun, 06 Nov 1994 08:49:37 UTC", false},
		{"Sun, 06 nov 1994 08:49:37 GMT", true},
		{"SUN, 06 NOV 1994 08:49:37 GMT", true},
		{"Sun, 06 Nvo 1994 08:49:37 GMT", false},
		{"Sun, 31 Nov 1994 08:49:37 GMT", false},
		{"Sun, 06 Nov 1994 24:49:37 GMT", false},
		{"Sun Nov 6 08:49:37 1994", false},
		{"0", false},
		{"", false},
	} {
		got, err := ParseHTTPDate(tc.v)
		if tc.ok && (err != nil || !got.Equal(want)) {
			t.Errorf("ParseHTTPDate(%q) = %v, %v; want %v", tc.v, got, err, want)
		}
		if !tc.ok && err == nil {
			t.Errorf("ParseHTTPDate(%q) = %v, want an error", tc.v, got)
		}
	}
	if got, err := ParseHTTPDate("Thursday, 01-Jan-70 00:00:00 GMT"); err != nil || got.Year() != 1970 {
		t.Errorf("RFC 850 year 70: %v, %v", got, err)
	}
}

func TestStoredHeaderAndMerge(t *testing.T) {
	h := http.Header{
		"Connection":        {"X-Hop, close"},
		"X-Hop":             {"1"},
		"Keep-Alive":        {"timeout=5"},
		"Transfer-Encoding": {"chunked"},
		"Age":               {"3"},
		"Cache-Control":     {`max-age=60, no-cache="X-Nc", private="X-Pv, X-Pv2"`},
		"X-Nc":              {"2"}, "X-Pv": {"3"}, "X-Pv2": {"4"}, "X-Keep": {"5"},
	}
	got := StoredHeader(h)
	for _, name := range []string{"Connection", "X-Hop", "Keep-Alive", "Transfer-Encoding", "Age", "X-Nc", "X-Pv", "X-Pv2"} {
		if _, ok := got[name]; ok {
			t.Errorf("StoredHeader kept %s", name)
		}
	}
	if got.Get("X-Keep") != "5" || got.Get("Cache-Control") == "" {
		t.Errorf("StoredHeader dropped what it must keep: %v", got)
	}
	got.Set("X-Keep", "changed")
	if h.Get("X-Keep") != "5" {
		t.Errorf("StoredHeader shares memory with its input")
	}
	merged := MergeHeaders(http.Header{"Content-Length": {"10"}, "X-A": {"old"}, "Etag": {`"v"`}},
		http.Header{"Content-Length": {"0"}, "X-A": {"new"}, "Connection": {"X-B"}, "X-B": {"hop"}, "Age": {"4"}})
	if merged.Get("Content-Length") != "10" || merged.Get("X-A") != "new" || merged.Get("X-B") != "" || merged.Get("Age") != "4" || merged.Get("Etag") != `"v"` {
		t.Errorf("MergeHeaders = %v", merged)
	}
}
