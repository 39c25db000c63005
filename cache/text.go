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

// textIsTokenByte reports whether c is an RFC 9110 tchar.
func textIsTokenByte(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// textIsFieldValue reports whether s holds no CR, LF or NUL: the bytes that
// would end or break a header field line (RFC 9110 section 5.5).
func textIsFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}
