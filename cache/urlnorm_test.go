package cache

import (
	"strings"
	"testing"
)

func TestKeyAppendPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/a/b/c/./../../g", "/a/g"},
		{"mid/content=5/../6", "mid/6"},
		{"/a/./b/../c", "/a/c"},
		{"/..", "/"},
		{"/../../x", "/x"},
		{"/a/.", "/a/"},
		{"/a/..", "/"},
		{".", "/"},
		{"..", "/"},
		{"./a", "a"},
		{"/a//b", "/a//b"},
		{"/a%2fb", "/a%2Fb"},
		{"/%7E%41%2d%5f%2E", "/~A-_."},
		{"/%3a%40", "/%3A%40"},
		{"/a%2E%2E/b", "/a../b"},
		{"/%", "/%25"},
		{"/%zz", "/%25zz"},
		{"/%4", "/%254"},
		{"/a b", "/a%20b"},
		{"/\xff", "/%FF"},
		{"/a..b/.c", "/a..b/.c"},
		{"/a/...", "/a/..."},
	}
	for _, tt := range tests {
		if got := string(keyAppendPath([]byte("prefix"), tt.in)); got != "prefix"+tt.want {
			t.Errorf("keyAppendPath(%q) = %q, want %q", tt.in, strings.TrimPrefix(got, "prefix"), tt.want)
		}
	}
}

func TestKeyAppendHost(t *testing.T) {
	tests := []struct{ scheme, in, want string }{
		{"http", "Example.COM", "example.com"},
		{"http", "example.com:80", "example.com"},
		{"HTTP", "example.com:80", "example.com"},
		{"http", "example.com:0080", "example.com"},
		{"http", "example.com:443", "example.com:443"},
		{"https", "example.com:443", "example.com"},
		{"wss", "example.com:443", "example.com"},
		{"ftp", "example.com:80", "example.com:80"},
		{"http", "example.com:", "example.com"},
		{"http", "example.com:8080", "example.com:8080"},
		{"http", "[::1]:80", "[::1]"},
		{"http", "[::1]:8080", "[::1]:8080"},
		{"http", "[FE80::1]", "[fe80::1]"},
		{"http", "[::1]", "[::1]"},
		{"http", "::1", "::1"},
		{"http", "h:x", "h:x"},
		{"http", "", ""},
	}
	for _, tt := range tests {
		if got := string(keyAppendHost(nil, tt.scheme, tt.in)); got != tt.want {
			t.Errorf("keyAppendHost(%q, %q) = %q, want %q", tt.scheme, tt.in, got, tt.want)
		}
	}
}
