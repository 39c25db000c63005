package cache

import (
	"net/http"
	"strings"
)

// Conditions classifies the preconditions a request carries (RFC 9110
// section 13.1).
type Conditions int

const (
	// NoConditions: the request carries none.
	NoConditions Conditions = iota
	// CacheConditions: only If-None-Match and If-Modified-Since, which a
	// cache may evaluate against a fresh stored response (RFC 9111
	// section 4.3.2).
	CacheConditions
	// OriginConditions: If-Match or If-Unmodified-Since, preconditions on
	// the origin's current state that only the origin can evaluate.
	OriginConditions
)

// RequestConditions reports which preconditions h carries. If-Range is
// not counted: it qualifies a Range (see IfRangeMatches).
func RequestConditions(h http.Header) Conditions {
	c := NoConditions
	for name, values := range h {
		if len(name) <= 3 || !strings.EqualFold(name[:3], "if-") || len(values) == 0 || values[0] == "" {
			continue
		}
		switch strings.ToLower(name[3:]) {
		case "match", "unmodified-since":
			return OriginConditions
		case "none-match", "modified-since":
			c = CacheConditions
		}
	}
	return c
}

// NotModified evaluates a request's If-None-Match and If-Modified-Since
// (header req) against the stored response e (RFC 9110 sections 13.1.2,
// 13.1.3 and 13.2.2): true when the request's condition is false, so that
// a 304 (Not Modified) answers it. If-None-Match compares entity tags
// weakly, "*" matching any stored response; If-Modified-Since, evaluated
// only without If-None-Match, needs a valid date no earlier than the stored
// response's modification date.
func NotModified(req http.Header, e *Entry) bool {
	if inm := req.Values("If-None-Match"); len(inm) > 0 {
		for _, line := range inm {
			for tag := range strings.SplitSeq(line, ",") {
				tag = strings.Trim(tag, " \t")
				if tag == "*" || (tag != "" && e.ETag != "" && weakTag(tag) == weakTag(e.ETag)) {
					return true
				}
			}
		}
		return false
	}
	since, err := ParseHTTPDate(req.Get("If-Modified-Since"))
	if err != nil {
		return false
	}
	// The stored response's modification date: its Last-Modified, else
	// its Date, else when it was received (RFC 9111 section 4.3.2).
	lm, err := ParseHTTPDate(e.LastModified)
	if e.LastModified == "" {
		if lm, err = ParseHTTPDate(e.Header.Get("Date")); err != nil {
			lm, err = e.StoredAt, nil
		}
	}
	return err == nil && !lm.IsZero() && !lm.After(since)
}

// weakTag is an entity tag without its weakness indicator, for the weak
// comparison (RFC 9110 section 8.8.3.2).
func weakTag(tag string) string { return strings.TrimPrefix(tag, "W/") }

// notModifiedFields are the fields a 304 answer carries from the stored
// response (RFC 9110 section 15.4.5), beside Date and Age.
var notModifiedFields = []string{"Cache-Control", "Content-Location", "Date", "Etag", "Expires", "Last-Modified", "Vary"}

// NotModifiedHeader returns the header of a 304 answer built from the
// stored response header h.
func NotModifiedHeader(h http.Header) http.Header {
	out := make(http.Header, len(notModifiedFields))
	for _, name := range notModifiedFields {
		if v, ok := h[name]; ok {
			out[name] = append([]string(nil), v...)
		}
	}
	return out
}
