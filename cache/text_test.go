package cache

import (
	"strings"
	"testing"
)

// TestTextIsTokenByte checks the tchar bitmaps against RFC 9110's list for
// every byte.
func TestTextIsTokenByte(t *testing.T) {
	const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for c := 0; c < 256; c++ {
		want := strings.IndexByte(tchar, byte(c)) >= 0
		if got := textIsTokenByte(byte(c)); got != want {
			t.Errorf("textIsTokenByte(%q) = %v, want %v", byte(c), got, want)
		}
	}
	for _, s := range []string{"", " ", "a b", "a:", "é", "a\x00"} {
		if textIsToken(s) {
			t.Errorf("textIsToken(%q) = true", s)
		}
	}
	if !textIsToken("X-Request-Id") || !textIsToken("M-SEARCH") {
		t.Error("textIsToken rejects a token")
	}
}

func TestTextIsFieldValue(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c != '\r' && c != '\n' && c != 0
		if got := textIsFieldValue("ab" + string(rune(c))[:1] + "cd"); c < 128 && got != want {
			t.Errorf("textIsFieldValue with %q = %v, want %v", byte(c), got, want)
		}
	}
	if !textIsFieldValue("") || !textIsFieldValue("\t\x7f\xff") {
		t.Error("textIsFieldValue rejects a valid value")
	}
}
