package cache

import (
	"net/url"
	"strings"
)

// normalURL is a URL in the normal form that both its cache key and its
// stored (redacted) form are made from, so that two URLs with one key are
// stored as one URL. Its byte slices point into a keyEncoder's buffers and
// are valid until the encoder is used again.
type normalURL struct {
	scheme []byte        // lower-case
	user   *url.Userinfo // as given; nil without userinfo
	host   []byte        // see keyAppendHost
	path   []byte        // see keyAppendPath; the raw opaque part when opaque
	opaque bool
	pairs  []keyPair // the query, as sortedPairs returns it
}

// normalizeURL is the one URL normaliser, used by Key and by RedactURL. It
// returns u with host in place of u.Host: the scheme lower-cased; the host
// lower-cased without an empty port or the scheme's default port (see
// keyAppendHost); the path's dot-segments removed and its percent-encoding
// normalised, "/" for an empty path (see keyAppendPath), or the opaque part
// as it is; the query's pairs without empty pairs and ignored parameters,
// sorted by decoded name then decoded value, duplicates kept; no fragment.
func (c *keyConfig) normalizeURL(e *keyEncoder, u *url.URL, host string) normalURL {
	b := keyAppendLower(e.url[:0], u.Scheme)
	schemeEnd := len(b)
	b = keyAppendHost(b, u.Scheme, host)
	hostEnd := len(b)
	n := normalURL{user: u.User, opaque: u.Opaque != ""}
	if n.opaque {
		b = append(b, u.Opaque...)
	} else {
		b = keyAppendPath(b, u.EscapedPath())
	}
	e.url = b
	n.scheme, n.host, n.path = b[:schemeEnd:schemeEnd], b[schemeEnd:hostEnd:hostEnd], b[hostEnd:]
	n.pairs = c.sortedPairs(e, u.RawQuery)
	return n
}

// keyAppendHost appends host lower-cased, without the scheme's default port
// (see keyIsDefaultPort) and without an empty port.
func keyAppendHost(dst []byte, scheme, host string) []byte {
	name, port := keySplitHost(host)
	dst = keyAppendLower(dst, name)
	if port != "" && !keyIsDefaultPort(scheme, port) {
		dst = append(dst, ':')
		dst = append(dst, port...)
	}
	return dst
}

// keySplitHost splits host into its name and its port: the digits after
// the closing bracket of an IPv6 literal, or after the only ':' of any
// other host. A host with an empty port gives an empty port; a host whose
// port is not all digits (or with several ':' outside brackets) is all name.
func keySplitHost(host string) (name, port string) {
	name, port, hasPort := host, "", false
	if strings.HasPrefix(host, "[") {
		// An IPv6 literal: a port can only follow the closing bracket.
		if j := strings.LastIndexByte(host, ']'); j > 0 && strings.HasPrefix(host[j+1:], ":") {
			name, port, hasPort = host[:j+1], host[j+2:], true
		}
	} else if i := strings.IndexByte(host, ':'); i >= 0 && strings.LastIndexByte(host, ':') == i {
		name, port, hasPort = host[:i], host[i+1:], true
	}
	if hasPort && !keyAllDigits(port) {
		return host, ""
	}
	return name, port
}

func keyAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// keyIsDefaultPort reports whether the digits port (leading zeros allowed)
// are the default port of scheme: 80 for http and ws, 443 for https and wss,
// the scheme matched case-insensitively. Other schemes have none.
func keyIsDefaultPort(scheme, port string) bool {
	port = strings.TrimLeft(port, "0")
	switch {
	case strings.EqualFold(scheme, "http"), strings.EqualFold(scheme, "ws"):
		return port == "80"
	case strings.EqualFold(scheme, "https"), strings.EqualFold(scheme, "wss"):
		return port == "443"
	}
	return false
}

// keyIsUnreserved reports whether c is an RFC 3986 unreserved character,
// which percent-encoding normalisation decodes.
func keyIsUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// keyIsPathChar reports whether c may appear unencoded in a path.
func keyIsPathChar(c byte) bool {
	if keyIsUnreserved(c) {
		return true
	}
	switch c {
	case '/', ':', '@', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
		return true
	}
	return false
}

const keyUpperHex = "0123456789ABCDEF"

// keyAppendPath appends the normalised form of an escaped path: unreserved
// characters decoded, other escapes with upper-case hex digits, characters
// that a path may not hold and malformed escapes encoded, dot-segments
// removed (RFC 3986 section 5.2.4), and "/" for an empty path.
func keyAppendPath(dst []byte, p string) []byte {
	start := len(dst)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' && i+2 < len(p) {
			hi, ok1 := keyUnhex(p[i+1])
			lo, ok2 := keyUnhex(p[i+2])
			if ok1 && ok2 {
				if d := hi<<4 | lo; keyIsUnreserved(d) {
					dst = append(dst, d)
				} else {
					dst = append(dst, '%', keyUpperHex[hi], keyUpperHex[lo])
				}
				i += 2
				continue
			}
		}
		if keyIsPathChar(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', keyUpperHex[c>>4], keyUpperHex[c&15])
		}
	}
	n := keyRemoveDotSegments(dst[start:])
	dst = dst[:start+n]
	if n == 0 {
		dst = append(dst, '/')
	}
	return dst
}

// keyRemoveDotSegments applies RFC 3986's remove_dot_segments to p in
// place and returns the length of the result. The output never overtakes
// the input, so one buffer serves both.
func keyRemoveDotSegments(p []byte) int {
	w, i := 0, 0 // output is p[:w], input is p[i:]
	for i < len(p) {
		in := p[i:]
		switch {
		case keyHasPrefix(in, "../"):
			i += 3
		case keyHasPrefix(in, "./"):
			i += 2
		case keyHasPrefix(in, "/./"):
			i += 2
		case string(in) == "/.":
			i = len(p) - 1
			p[i] = '/'
		case keyHasPrefix(in, "/../"):
			i += 3
			w = keyLastSlash(p[:w])
		case string(in) == "/..":
			i = len(p) - 1
			p[i] = '/'
			w = keyLastSlash(p[:w])
		case string(in) == "." || string(in) == "..":
			i = len(p)
		default:
			j := 0
			if in[0] == '/' {
				j = 1
			}
			for j < len(in) && in[j] != '/' {
				j++
			}
			w += copy(p[w:], in[:j])
			i += j
		}
	}
	return w
}

func keyHasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}

func keyLastSlash(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '/' {
			return i
		}
	}
	return 0
}

// keyIsQueryChar reports whether c stands for itself in a query component
// as the stored URL writes it: unreserved characters and the delimiters
// that mean nothing inside a name or value.
func keyIsQueryChar(c byte) bool {
	if keyIsUnreserved(c) {
		return true
	}
	switch c {
	case '!', '$', '\'', '(', ')', '*', ',', '/', ':', ';', '@', '?':
		return true
	}
	return false
}

// keyAppendQueryComponent appends the raw query name or value s in its one
// written form: decoded as the key decodes it (see keyUnescapeAt), then a
// space written as '+', keyIsQueryChar characters as themselves and every
// other byte as an upper-case %XX escape. Components that decode alike are
// written alike.
func keyAppendQueryComponent(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		var c byte
		c, i = keyUnescapeAt(s, i)
		switch {
		case c == ' ':
			dst = append(dst, '+')
		case keyIsQueryChar(c):
			dst = append(dst, c)
		default:
			dst = append(dst, '%', keyUpperHex[c>>4], keyUpperHex[c&15])
		}
	}
	return dst
}

// keyAppendEscapedHost appends the normalised host h with every byte that
// a URL's host may not hold as it is escaped as %XX: a zone's '%', non-ASCII
// bytes, control characters, space. The bytes kept are those url.Parse
// accepts unescaped in a host (RFC 3986 section 3.2.2 and the brackets of
// IPv6 literals, plus '<', '>' and '"').
func keyAppendEscapedHost(dst, h []byte) []byte {
	for _, c := range h {
		switch {
		case keyIsUnreserved(c):
			dst = append(dst, c)
		case strings.IndexByte(`!$&'()*+,;=:[]<>"`, c) >= 0:
			dst = append(dst, c)
		default:
			dst = append(dst, '%', keyUpperHex[c>>4], keyUpperHex[c&15])
		}
	}
	return dst
}
