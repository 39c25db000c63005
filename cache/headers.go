package cache

import (
	"net/http"
	"strings"
)

// hopByHop reports whether a response header field is hop-by-hop (RFC 9110
// section 7.6.1) or otherwise never stored: Age is kept as an entry's
// InitialAge instead.
func hopByHop(name string) bool {
	switch name {
	case "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authentication-Info", "Proxy-Connection",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Age":
		return true
	}
	return false
}

// unstoredNames returns the header names that h itself says must not be
// stored (RFC 9111 section 3.1): those its Connection header lists, and
// those named by a qualified no-cache="…" or private="…" directive; nil
// when there are none.
func unstoredNames(h http.Header) []string {
	var names []string
	for _, line := range h.Values("Connection") {
		for elem := range strings.SplitSeq(line, ",") {
			if elem = strings.Trim(elem, " \t"); ccIsToken(elem) {
				names = append(names, http.CanonicalHeaderKey(elem))
			}
		}
	}
	if len(h["Cache-Control"]) > 0 {
		cc := ParseCacheControl(h)
		names = append(names, FieldNames(cc.NoCacheFields)...)
		names = append(names, FieldNames(cc.PrivateFields)...)
	}
	return names
}

// StoredHeader returns a copy of a response's header without the fields
// that are not stored (RFC 9111 section 3.1): the hop-by-hop fields, the
// fields the response's Connection header names, those named by a
// qualified no-cache="…" or private="…", and Age (kept as the entry's
// InitialAge). The copy shares nothing with h, so a caller changing its
// response's header cannot change what is stored. It is never nil.
func StoredHeader(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		return make(http.Header)
	}
	for _, name := range unstoredNames(h) {
		delete(out, name)
	}
	for name := range out {
		if hopByHop(name) {
			delete(out, name)
		}
	}
	return out
}

// MergeHeaders returns the header of a stored response updated by the
// header of a 304 (Not Modified) or HEAD answer that confirms it (RFC 9111
// sections 3.2, 4.3.4 and 4.3.5): each field the answer carries replaces the
// stored one, except those that describe the stored body (Content-Length,
// Content-Encoding, Content-Range) and those that are never stored. Age is
// copied, for the caller to fold into the entry's InitialAge. stored is not
// modified.
func MergeHeaders(stored, update http.Header) http.Header {
	header := stored.Clone()
	if header == nil {
		header = make(http.Header)
	}
	skip := unstoredNames(update)
	for name, values := range update {
		switch {
		case name == "Age":
		case hopByHop(name), name == "Content-Encoding", name == "Content-Range", name == "Content-Length":
			continue
		}
		if containsName(skip, name) {
			continue
		}
		header[name] = values
	}
	for _, name := range unstoredNames(header) {
		delete(header, name)
	}
	return header
}

func containsName(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// Validators returns the ETag and Last-Modified of a response header, empty
// when absent.
func Validators(h http.Header) (etag, lastModified string) {
	return strings.TrimSpace(h.Get("Etag")), strings.TrimSpace(h.Get("Last-Modified"))
}
