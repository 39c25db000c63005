package cache

import (
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"
)

// Redacted is what replaces a secret in a stored URL (a sensitive
// parameter's value, the whole userinfo) and a sensitive or ignored value
// in a stored request header.
const Redacted = "REDACTED"

// RedactURL returns u as it is stored with an entry: in the normal form
// that Key hashes (see Key), so that two URLs with the same key are stored
// as the same URL, and without secrets. Precisely, the scheme and host are
// lower-cased, an empty or default port is dropped, the path's dot-segments
// are removed and its percent-encoding normalised, the fragment is dropped,
// and the query's pairs are sorted by decoded name and value (duplicates
// kept, empty pairs dropped) and written in one escaping ("name=value",
// space as '+'). Ignored parameters are left out, as they are of the key;
// the non-empty value of a sensitive parameter is replaced by Redacted; and
// any userinfo, whatever its form ("user", "user:pass", "user:", ":pass"),
// is replaced by Redacted as a whole. (Credentials still separate keys:
// Key hashes them.) u itself is not modified. RedactURL returns "" when u
// is nil.
func (k *Keyer) RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := k.config()
	e := c.encoder()
	defer c.release(e)
	n := c.normalizeURL(e, u, u.Host)

	size := len(n.scheme) + len(n.host) + len(n.path) + len(u.RawQuery) + len("://"+Redacted+"@/?")
	b := make([]byte, 0, size+size/4)
	if len(n.scheme) > 0 {
		b = append(b, n.scheme...)
		b = append(b, ':')
	}
	switch {
	case n.opaque:
		b = append(b, n.path...)
	case len(n.scheme) > 0 || len(n.host) > 0 || n.user != nil:
		b = append(b, "//"...)
		if n.user != nil {
			b = append(b, Redacted+"@"...)
		}
		b = keyAppendEscapedHost(b, n.host)
		if len(n.path) > 0 && n.path[0] != '/' {
			b = append(b, '/')
		}
		b = append(b, n.path...)
	default:
		// A relative reference: a ':' in its first segment would read as
		// a scheme.
		first := n.path
		if i := bytes.IndexByte(first, '/'); i >= 0 {
			first = first[:i]
		}
		if bytes.IndexByte(first, ':') >= 0 {
			b = append(b, "./"...)
		}
		b = append(b, n.path...)
	}
	for i, p := range n.pairs {
		if i == 0 {
			b = append(b, '?')
		} else {
			b = append(b, '&')
		}
		b = keyAppendQueryComponent(b, p.name)
		b = append(b, '=')
		if p.value != "" && c.sensitiveParam(e, p.name) {
			b = append(b, Redacted...)
		} else {
			b = keyAppendQueryComponent(b, p.value)
		}
	}
	return string(b)
}

// sensitiveParam reports whether the raw (encoded) parameter name, once
// decoded, is a sensitive name.
func (c *keyConfig) sensitiveParam(e *keyEncoder, raw string) bool {
	e.tmp = keyAppendUnescape(e.tmp[:0], raw)
	for i, ch := range e.tmp {
		e.tmp[i] = keyLowerByte(ch)
	}
	_, ok := c.sensitive[string(e.tmp)]
	return ok
}

// StoredHeaders returns the request headers to store with an entry: the
// matched headers (every header with MatchAllHeaders) that are present,
// with each value of a sensitive or ignored header replaced by Redacted.
// Names match case-insensitively and are stored in canonical form. The
// result shares no memory with h. StoredHeaders returns nil when no
// matched header is present.
func (k *Keyer) StoredHeaders(h http.Header) http.Header {
	c := k.config()
	var out http.Header
	for name, vs := range h {
		lower := keyLower(name)
		if _, ok := c.match[lower]; !ok && !c.matchAll {
			continue
		}
		_, ign := c.ignHeader[lower]
		_, sens := c.sensitive[lower]
		if out == nil {
			out = make(http.Header)
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		for _, v := range vs {
			if ign || sens {
				v = Redacted
			}
			out[key] = append(out[key], v)
		}
		if vs != nil && out[key] == nil {
			out[key] = []string{} // present without values
		}
	}
	return out
}
