package cache

import (
	"net/http"
	"testing"
	"time"
)

func TestRequestConditions(t *testing.T) {
	for _, tc := range []struct {
		h    http.Header
		want Conditions
	}{
		{http.Header{}, NoConditions},
		{http.Header{"If-Range": {`"a"`}}, NoConditions},
		{http.Header{"If-None-Match": {""}}, NoConditions},
		{http.Header{"If-None-Match": {`"a"`}}, CacheConditions},
		{http.Header{"If-Modified-Since": {"Wed, 21 Oct 2015 07:28:00 GMT"}}, CacheConditions},
		{http.Header{"If-Match": {`"a"`}}, OriginConditions},
		{http.Header{"If-None-Match": {`"a"`}, "If-Unmodified-Since": {"Wed, 21 Oct 2015 07:28:00 GMT"}}, OriginConditions},
	} {
		if got := RequestConditions(tc.h); got != tc.want {
			t.Errorf("RequestConditions(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestNotModified(t *testing.T) {
	const lm = "Wed, 21 Oct 2015 07:28:00 GMT"
	e := &Entry{ETag: `"v2"`, LastModified: lm}
	weak := &Entry{ETag: `W/"v2"`}
	noValidators := &Entry{}
	for _, tc := range []struct {
		name string
		h    http.Header
		e    *Entry
		want bool
	}{
		{"matching tag", http.Header{"If-None-Match": {`"v2"`}}, e, true},
		{"one of a list", http.Header{"If-None-Match": {`"v1", "v2"`}}, e, true},
		{"second line", http.Header{"If-None-Match": {`"v1"`, `"v2"`}}, e, true},
		{"weak comparison", http.Header{"If-None-Match": {`W/"v2"`}}, e, true},
		{"weak stored tag", http.Header{"If-None-Match": {`"v2"`}}, weak, true},
		{"other tag", http.Header{"If-None-Match": {`"v1"`}}, e, false},
		{"star", http.Header{"If-None-Match": {"*"}}, noValidators, true},
		{"tag against no tag", http.Header{"If-None-Match": {`"v2"`}}, noValidators, false},
		{"If-None-Match wins over the date", http.Header{"If-None-Match": {`"v1"`}, "If-Modified-Since": {lm}}, e, false},
		{"same date", http.Header{"If-Modified-Since": {lm}}, e, true},
		{"later date", http.Header{"If-Modified-Since": {"Thu, 22 Oct 2015 07:28:00 GMT"}}, e, true},
		{"earlier date", http.Header{"If-Modified-Since": {"Tue, 20 Oct 2015 07:28:00 GMT"}}, e, false},
		{"invalid date", http.Header{"If-Modified-Since": {"yesterday"}}, e, false},
		{"no Last-Modified: the Date", http.Header{"If-Modified-Since": {lm}}, &Entry{Header: http.Header{"Date": {lm}}}, true},
		{"no Last-Modified: a later Date", http.Header{"If-Modified-Since": {lm}}, &Entry{Header: http.Header{"Date": {"Thu, 22 Oct 2015 07:28:00 GMT"}}}, false},
		{"no dates: when stored", http.Header{"If-Modified-Since": {lm}}, &Entry{StoredAt: time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)}, true},
		{"nothing to compare", http.Header{"If-Modified-Since": {lm}}, noValidators, false},
	} {
		if got := NotModified(tc.h, tc.e); got != tc.want {
			t.Errorf("%s: NotModified = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNotModifiedHeader(t *testing.T) {
	h := http.Header{"Etag": {`"v"`}, "Cache-Control": {"max-age=60"}, "Content-Type": {"text/plain"}, "Content-Length": {"5"}, "Vary": {"Accept"}}
	got := NotModifiedHeader(h)
	if got.Get("Etag") != `"v"` || got.Get("Cache-Control") != "max-age=60" || got.Get("Vary") != "Accept" {
		t.Errorf("304 header %v lost a field it must carry", got)
	}
	if got.Get("Content-Type") != "" || got.Get("Content-Length") != "" {
		t.Errorf("304 header %v carries the body's fields", got)
	}
	got["Etag"][0] = "changed"
	if h.Get("Etag") != `"v"` {
		t.Errorf("NotModifiedHeader shares its values with the stored header")
	}
}
