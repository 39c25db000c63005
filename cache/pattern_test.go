package cache

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestURLPatternMatch(t *testing.T) {
	tests := []struct {
		pattern string
		url     string
		want    bool
	}{
		// The documented examples.
		{"example.com", "http://example.com/x", true},
		{"example.com", "http://example.com.evil.org/x", false},
		{"example.com", "http://notexample.com/", false},
		{"*.example.com/static*", "https://cdn.example.com/static/a.png", true},
		{"*.example.com/static*", "https://evil.org/x.example.com/static", false},
		{"*.example.com/static*", "https://example.com.evil.org/static", false},
		{"api.example.com/v1/*/items", "https://api.example.com/v1/users/items", true},
		{"api.example.com/v1/*/items", "https://api.example.com/v1/a/b/items", true},
		{"example.com/search?q=*", "http://example.com/search?q=go", true},

		// Scheme is stripped and ignored.
		{"http://example.com", "https://example.com/x", true},
		{"HTTPS://example.com/a", "http://example.com/a", true},
		{"https://example.com/a", "ftp://example.com/a", true},

		// Host: whole host, case-insensitive, default ports dropped.
		{"Example.COM", "http://EXAMPLE.com/", true},
		{"example.com", "http://example.com:80/", true},
		{"example.com", "https://example.com:443/", true},
		{"example.com:443", "https://example.com/", true},
		{"example.com:0443", "https://example.com/", true},
		{"example.com:80", "http://example.com/", true},

		// The URL's port is dropped by the key's rule: only its scheme's
		// default (leading zeros allowed) and an empty port.
		{"example.com", "http://example.com:080/", true},
		{"example.com", "https://example.com:0443/", true},
		{"example.com", "http://example.com:/", true},
		{"example.com", "ws://example.com:80/", true},
		{"example.com", "wss://example.com:443/", true},
		{"example.com", "HTTP://example.com:80/", true},
		{"example.com", "http://example.com:443/", false},
		{"example.com", "https://example.com:80/", false},
		{"example.com", "ftp://example.com:80/", false},
		{"example.com:443", "http://example.com:443/", false},
		{"example.com:*", "http://example.com:443/", true},
		{"example.com:*", "http://example.com:80/", false},
		{"[::1]", "http://[::1]:80/", true},
		{"example.com", "http://example.com:8080/", false},
		{"example.com:8080", "http://example.com:8080/x", true},
		{"example.com:8080", "http://example.com/x", false},
		{"example.com:*", "http://example.com:9/x", true},
		{"*.example.com", "https://example.com/", false},
		{"*.example.com", "https://a.b.example.com/", true},
		{"*", "http://anything.test/path?q", true},
		{"*example.com", "http://notexample.com/", true},
		{"127.0.0.1:*", "http://127.0.0.1:1234/", true},
		{"[::1]:8080", "http://[::1]:8080/", true},
		{"user.example.com", "http://user:pw@user.example.com/", true},

		// Path: anchored at the start, whole path matched, case-sensitive.
		{"example.com/", "http://example.com", true},
		{"example.com/", "http://example.com/", true},
		{"example.com/", "http://example.com/a", false},
		{"example.com/a", "http://example.com/a/b", false},
		{"example.com/a*", "http://example.com/a/b", true},
		{"example.com/A", "http://example.com/a", false},
		{"example.com/a", "http://example.com/x/a", false},
		{"example.com/*/a", "http://example.com/x/a", true},
		{"example.com/a", "http://example.com/a?x=1", false},
		{"example.com/a*", "http://example.com/a?x=1", true},
		{"example.com/a?*", "http://example.com/a", false},
		{"example.com/a?x=1", "http://example.com/a?x=1", true},
		{"example.com/a?x=1", "http://example.com/a?x=2", false},
		{"example.com/a*1", "http://example.com/a?x=1", true},
		{"example.com/a#f", "http://example.com/a#f", false}, // fragments are never matched
		{"example.com/a", "http://example.com/a#f", true},
		{"example.com/a%20b", "http://example.com/a%20b", true},
		{"example.com/a%20b", "http://example.com/a b", true},
		{"example.com/**", "http://example.com/", true},
		{"example.com/*b*b*", "http://example.com/abab", true},
		{"example.com/*b*b*c", "http://example.com/abab", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.url, func(t *testing.T) {
			p, err := CompileURLPattern(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Match(u); got != tt.want {
				t.Fatalf("%q.Match(%q) = %v, want %v", tt.pattern, tt.url, got, tt.want)
			}
		})
	}
}

func TestCompileURLPatternErrors(t *testing.T) {
	for _, pattern := range []string{"", "/static/*", "http:///x", "https://", "example.com:", "example .com", "a\tb", "a\x00", "a\x7f"} {
		p, err := CompileURLPattern(pattern)
		if !errors.Is(err, ErrInvalidPattern) {
			t.Errorf("CompileURLPattern(%q) = %v, %v; want ErrInvalidPattern", pattern, p, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "restycache/cache: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}

func TestURLPatternString(t *testing.T) {
	for _, s := range []string{"https://Example.com:443/a*", "*"} {
		p, err := CompileURLPattern(s)
		if err != nil {
			t.Fatal(err)
		}
		if p.String() != s {
			t.Errorf("String() = %q, want %q", p.String(), s)
		}
	}
	var nilp *URLPattern
	if nilp.String() != "" {
		t.Error("nil pattern String not empty")
	}
}

func TestURLPatternNilAndZero(t *testing.T) {
	u, _ := url.Parse("http://example.com/")
	var nilp *URLPattern
	if nilp.Match(u) || (&URLPattern{}).Match(u) {
		t.Fatal("nil or zero pattern matched")
	}
	p, _ := CompileURLPattern("*")
	if p.Match(nil) {
		t.Fatal("matched a nil URL")
	}
}

func TestURLPatternMatchDoesNotAllocate(t *testing.T) {
	p, _ := CompileURLPattern("*.example.com/v1/*/items*")
	u, _ := url.Parse("https://API.example.com:443/v1/users/42/items?page=2&sort=asc")
	allocs := testing.AllocsPerRun(100, func() {
		if !p.Match(u) {
			t.Fatal("no match")
		}
	})
	if allocs != 0 {
		t.Fatalf("Match allocates %v times", allocs)
	}
}

func BenchmarkURLPatternMatch(b *testing.B) {
	p, _ := CompileURLPattern("*.example.com/v1/*/items*")
	u, _ := url.Parse("https://api.example.com/v1/users/42/items?page=2&sort=asc")
	b.ReportAllocs()
	for b.Loop() {
		if !p.Match(u) {
			b.Fatal("no match")
		}
	}
}

func FuzzURLPattern(f *testing.F) {
	f.Add("*.example.com/static*", "https://cdn.example.com/static/a.png")
	f.Add("example.com", "http://example.com.evil.org/x")
	f.Add("api.example.com/v1/*/items", "http://api.example.com/v1/a/b/items?x=1")
	f.Fuzz(func(t *testing.T, pattern, rawURL string) {
		p, err := CompileURLPattern(pattern)
		if err != nil {
			return
		}
		u, err := url.Parse(rawURL)
		if err != nil {
			return
		}
		got := p.Match(u)
		if p.Match(u) != got {
			t.Fatal("Match not deterministic")
		}
		// A pattern that matches must keep the host boundary: its literal
		// host (no '*') equals the URL's host as the key normalises it.
		host := string(keyAppendHost(nil, u.Scheme, u.Host))
		if got && !strings.Contains(p.host, "*") && host != p.host {
			t.Fatalf("%q matched host %q", pattern, u.Host)
		}
	})
}
