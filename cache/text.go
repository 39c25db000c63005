package cache

// textIsToken reports whether s is a non-empty HTTP token (RFC 9110
// section 5.6.2), the syntax of methods and header field names.
func textIsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !textIsTokenByte(s[i]) {
			return false
		}
	}
	return true
}

// textTokenLo and textTokenHi are the RFC 9110 tchar bytes below 64 and
// from 64 to 127, as bitmaps: bit c (or c-64) is set for a tchar c.
const (
	textTokenLo = 1<<'!' | 1<<'#' | 1<<'$' | 1<<'%' | 1<<'&' | 1<<'\'' | 1<<'*' | 1<<'+' | 1<<'-' | 1<<'.' |
		0x3ff<<'0' // digits
	textTokenHi = 1<<('^'-64) | 1<<('_'-64) | 1<<('`'-64) | 1<<('|'-64) | 1<<('~'-64) |
		0x3ffffff<<('A'-64) | 0x3ffffff<<('a'-64) // letters
)

// textIsTokenByte reports whether c is an RFC 9110 tchar.
func textIsTokenByte(c byte) bool {
	if c < 64 {
		return textTokenLo>>c&1 != 0
	}
	return c < 128 && textTokenHi>>(c-64)&1 != 0
}

// textIsFieldValue reports whether s holds no CR, LF or NUL: the bytes that
// would end or break a header field line (RFC 9110 section 5.5).
func textIsFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		// One comparison for the usual byte, above '\r'.
		if c := s[i]; c <= '\r' && (c == '\r' || c == '\n' || c == 0) {
			return false
		}
	}
	return true
}

func keyLowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

func keyLower(s string) string { return string(keyAppendLower(nil, s)) }

func keyAppendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, keyLowerByte(s[i]))
	}
	return dst
}

func keyAppendUpper(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func keyUnhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// keyUnescapeAt decodes the query byte at s[i]: a valid %XX escape is one
// byte, '+' is a space, anything else (a malformed escape included) is
// itself. It returns the byte and the index after it.
func keyUnescapeAt(s string, i int) (byte, int) {
	switch c := s[i]; c {
	case '+':
		return ' ', i + 1
	case '%':
		if i+2 < len(s) {
			if hi, ok := keyUnhex(s[i+1]); ok {
				if lo, ok := keyUnhex(s[i+2]); ok {
					return hi<<4 | lo, i + 3
				}
			}
		}
		return c, i + 1
	default:
		return c, i + 1
	}
}

func keyAppendUnescape(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		var c byte
		c, i = keyUnescapeAt(s, i)
		dst = append(dst, c)
	}
	return dst
}

// keyCompareUnescaped compares the decoded forms of two query components
// without decoding them into memory.
func keyCompareUnescaped(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		var ca, cb byte
		ca, i = keyUnescapeAt(a, i)
		cb, j = keyUnescapeAt(b, j)
		if ca != cb {
			return int(ca) - int(cb)
		}
	}
	switch {
	case i < len(a):
		return 1
	case j < len(b):
		return -1
	}
	return 0
}
