package cache

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// Redacted is what replaces a secret or ignored value in a stored URL or
// stored request header.
const Redacted = "REDACTED"

// RedactURL returns u as it may be stored with an entry: the values of
// ignored and sensitive query parameters replaced by Redacted (other pairs
// keep their order and encoding), a userinfo password replaced by Redacted
// (and a username given without a password, which is usually a token,
// replaced too), and the fragment dropped. u itself is not modified.
// RedactURL returns "" when u is nil.
func (k *Keyer) RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := k.config()
	v := *u
	v.Fragment, v.RawFragment = "", ""
	if v.User != nil {
		if _, ok := v.User.Password(); ok {
			v.User = url.UserPassword(v.User.Username(), Redacted)
		} else if v.User.Username() != "" {
			v.User = url.User(Redacted)
		}
	}
	v.RawQuery = c.redactQuery(v.RawQuery)
	return v.String()
}

// redactQuery replaces the values of ignored and sensitive pairs of a raw
// query by Redacted.
func (c *keyConfig) redactQuery(raw string) string {
	var b strings.Builder
	changed := false
	for rest, first := raw, true; ; first = false {
		pair, next, more := strings.Cut(rest, "&")
		if !first {
			b.WriteByte('&')
		}
		name, _, hasValue := strings.Cut(pair, "=")
		if hasValue && c.redactParam(name) {
			b.WriteString(name)
			b.WriteString("=" + Redacted)
			changed = true
		} else {
			b.WriteString(pair)
		}
		if !more {
			break
		}
		rest = next
	}
	if !changed {
		return raw
	}
	return b.String()
}

// redactParam reports whether the value of the raw (encoded) parameter name
// must not be stored.
func (c *keyConfig) redactParam(raw string) bool {
	name := string(keyAppendUnescape(nil, raw))
	if _, ok := c.ignParam[name]; ok {
		return true
	}
	_, ok := c.sensitive[keyLower(name)]
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
