package cache

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrInvalidPattern is wrapped by the CompileURLPattern error for a pattern
// that cannot be compiled. Test with errors.Is.
var ErrInvalidPattern = errors.New("restycache/cache: invalid URL pattern")

// URLPattern is a compiled glob that selects request URLs, used for per-URL
// expiration. A URLPattern is immutable and safe for concurrent use; the zero
// value and nil match nothing.
//
// A pattern is matched against host[:port] + path + "?" + query of a URL;
// the scheme is ignored, and a leading "http://" or "https://" in the
// pattern is stripped and means nothing. "*" matches any run of characters,
// including none. Only "*" is special; "?" and everything else match
// themselves.
//
// Host and path are matched separately, so a match respects the host's
// boundaries. The part of the pattern before the first "/" is the host
// pattern: it is matched against the whole host, case-insensitively, and
// there "*" never crosses a "/". The URL's host has its port dropped by the
// rule of cache keys: an empty port, or the default port of the URL's
// scheme (80 for http and ws, 443 for https and wss, leading zeros
// allowed), so http://h:443/ keeps its port. The host pattern, which has
// no scheme, has an empty port and the ports 80 and 443 dropped: the
// pattern "h:443" selects https://h/ but not http://h:443/. The rest of the pattern, from its first "/" on, is matched
// against the whole (escaped) path, followed by "?" and the raw query when
// the URL has a query; an empty path counts as "/". Here "*" crosses "/" and
// "?". A pattern without "/" matches every path of the hosts it names.
//
// Examples:
//
//	example.com                 matches http://example.com/x
//	                            not http://example.com.evil.org/x
//	                            not http://notexample.com/
//	*.example.com/static*       matches https://cdn.example.com/static/a.png
//	                            not https://evil.org/x.example.com/static
//	                            not https://example.com.evil.org/static
//	api.example.com/v1/*/items  matches https://api.example.com/v1/users/items
//	                            and https://api.example.com/v1/a/b/items
//	example.com/search?q=*      matches http://example.com/search?q=go
type URLPattern struct {
	pattern string // as given to CompileURLPattern
	host    string // lower case, default port dropped
	path    string // starts with "/"; empty when the pattern has no path
}

// CompileURLPattern compiles pattern (see URLPattern). It returns an error
// wrapping ErrInvalidPattern when the pattern is empty, has an empty host
// part (use "*" to match any host), or holds whitespace or control
// characters.
func CompileURLPattern(pattern string) (*URLPattern, error) {
	if pattern == "" {
		return nil, fmt.Errorf("%w: empty pattern", ErrInvalidPattern)
	}
	for i := 0; i < len(pattern); i++ {
		if c := pattern[i]; c <= ' ' || c == 0x7f {
			return nil, fmt.Errorf("%w %q: whitespace or control character", ErrInvalidPattern, pattern)
		}
	}
	rest := pattern
	for _, scheme := range [...]string{"http://", "https://"} {
		if len(rest) >= len(scheme) && strings.EqualFold(rest[:len(scheme)], scheme) {
			rest = rest[len(scheme):]
			break
		}
	}
	host, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if strings.HasSuffix(host, ":") {
		return nil, fmt.Errorf("%w %q: empty port", ErrInvalidPattern, pattern)
	}
	host = strings.ToLower(host)
	if name, port := keySplitHost(host); port != "" && (keyIsDefaultPort("http", port) || keyIsDefaultPort("https", port)) {
		host = name
	}
	if host == "" {
		return nil, fmt.Errorf("%w %q: empty host (use * for any host)", ErrInvalidPattern, pattern)
	}
	return &URLPattern{pattern: pattern, host: host, path: path}, nil
}

// String returns the pattern as it was given to CompileURLPattern; "" for
// nil.
func (p *URLPattern) String() string {
	if p == nil {
		return ""
	}
	return p.pattern
}

// Match reports whether u matches the pattern. It is false for a nil or zero
// pattern and a nil u. Match does not allocate for URLs whose path needs no
// escaping.
func (p *URLPattern) Match(u *url.URL) bool {
	if p == nil || p.host == "" || u == nil {
		return false
	}
	// The host as keyAppendHost normalises it, without building it:
	// patternGlob folds the case.
	name, port := keySplitHost(u.Host)
	if port != "" && keyIsDefaultPort(u.Scheme, port) {
		port = ""
	}
	if !patternGlob(p.host, patternSubject{a: name, b: port, sep: ':', withSep: port != ""}, true) {
		return false
	}
	if p.path == "" {
		return true
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	s := patternSubject{a: path, sep: '?'}
	if u.RawQuery != "" {
		s.b = u.RawQuery
		s.withSep = true
	}
	return patternGlob(p.path, s, false)
}

// patternSubject is the string a, followed by sep and b when withSep is
// set, without building it.
type patternSubject struct {
	a, b    string
	sep     byte
	withSep bool
}

func (s patternSubject) len() int {
	if s.withSep {
		return len(s.a) + 1 + len(s.b)
	}
	return len(s.a)
}

func (s patternSubject) at(i int) byte {
	switch {
	case i < len(s.a):
		return s.a[i]
	case i == len(s.a):
		return s.sep
	}
	return s.b[i-len(s.a)-1]
}

// patternGlob reports whether the whole subject s matches the glob pat, in
// which only '*' is special. With fold, subject bytes are compared lower-
// cased (pat must already be lower case) and '*' does not match '/'.
func patternGlob(pat string, s patternSubject, fold bool) bool {
	n := s.len()
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < n {
		if pi < len(pat) && pat[pi] == '*' {
			starP, starS = pi, si
			pi++
			continue
		}
		c := s.at(si)
		if fold && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if pi < len(pat) && pat[pi] == c {
			pi++
			si++
			continue
		}
		// Backtrack: let the last '*' swallow one more byte.
		if starP < 0 || (fold && s.at(starS) == '/') {
			return false
		}
		starS++
		pi, si = starP+1, starS
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}
