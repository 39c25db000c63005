package cache

import "strings"

// keyAppendHost appends host lower-cased, without the scheme's default port
// (and without an empty port).
func keyAppendHost(dst []byte, scheme, host string) []byte {
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
		name, port = host, ""
	}
	dst = keyAppendLower(dst, name)
	if port != "" && !keyIsDefaultPort(scheme, port) {
		dst = append(dst, ':')
		dst = append(dst, port...)
	}
	return dst
}

func keyAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

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
