package cache

import (
	"bytes"
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// keySpan locates one canonical object member within a buffer.
type keySpan struct{ start, keyEnd, end int }

// keyJSONName returns name as canonical JSON string content, the form that
// object keys take in appendCanonicalJSON.
func keyJSONName(name string) string {
	quoted, _ := json.Marshal(name) // a string always marshals
	out, _ := keyAppendCanonicalString(nil, quoted, 0)
	return string(out[1 : len(out)-1])
}

// appendCanonicalJSON appends the canonical form of the valid JSON text src
// to dst: no insignificant whitespace, object members stably sorted by key
// at every depth, strings in one escaping, numbers and literals as written,
// and the ignored names dropped from a top-level object.
func (c *keyConfig) appendCanonicalJSON(e *keyEncoder, dst, src []byte) []byte {
	j := keyJSON{src: src, spans: e.spans[:0], ignored: c.ignJSON}
	dst, _ = j.value(dst, keySkipSpace(src, 0), true)
	e.spans = j.spans
	return dst
}

type keyJSON struct {
	src     []byte
	spans   []keySpan
	ignored map[string]struct{}
}

func keySkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// value canonicalises the value starting at src[i] and returns the index
// after it. src is known to be valid JSON.
func (j *keyJSON) value(dst []byte, i int, top bool) ([]byte, int) {
	switch j.src[i] {
	case '{':
		return j.object(dst, i, top)
	case '[':
		dst = append(dst, '[')
		i = keySkipSpace(j.src, i+1)
		for first := true; j.src[i] != ']'; first = false {
			if !first {
				dst = append(dst, ',')
				i = keySkipSpace(j.src, i+1) // past ','
			}
			dst, i = j.value(dst, i, false)
			i = keySkipSpace(j.src, i)
		}
		return append(dst, ']'), i + 1
	case '"':
		return keyAppendCanonicalString(dst, j.src, i)
	default: // number, true, false, null
		k := i
	scan:
		for ; k < len(j.src); k++ {
			switch j.src[k] {
			case ',', ']', '}', ' ', '\t', '\r', '\n':
				break scan
			}
		}
		return append(dst, j.src[i:k]...), k
	}
}

func (j *keyJSON) object(dst []byte, i int, top bool) ([]byte, int) {
	dst = append(dst, '{')
	members := len(dst)
	base := len(j.spans)
	i = keySkipSpace(j.src, i+1)
	for first := true; j.src[i] != '}'; first = false {
		if !first {
			i = keySkipSpace(j.src, i+1) // past ','
		}
		start := len(dst)
		dst, i = keyAppendCanonicalString(dst, j.src, i)
		keyEnd := len(dst)
		i = keySkipSpace(j.src, i)
		dst = append(dst, ':')
		dst, i = j.value(dst, keySkipSpace(j.src, i+1), false)
		i = keySkipSpace(j.src, i)
		if top && len(j.ignored) > 0 {
			if _, ign := j.ignored[string(dst[start+1:keyEnd-1])]; ign {
				dst = dst[:start]
				continue
			}
		}
		j.spans = append(j.spans, keySpan{start, keyEnd, len(dst)})
	}
	spans := j.spans[base:]
	if len(spans) > 1 {
		// Members were written back to back; append them sorted and
		// comma-separated after the buffer's end, then move them into place.
		slices.SortStableFunc(spans, func(a, b keySpan) int {
			return bytes.Compare(dst[a.start+1:a.keyEnd-1], dst[b.start+1:b.keyEnd-1])
		})
		tail := len(dst)
		for n, s := range spans {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, dst[s.start:s.end]...)
		}
		n := copy(dst[members:], dst[tail:])
		dst = dst[:members+n]
	}
	j.spans = j.spans[:base]
	return append(dst, '}'), i + 1
}

// keyAppendCanonicalString appends the JSON string starting at src[i] in
// canonical form: escapes decoded to UTF-8 except for '"', '\\', control
// characters (always \u00xx) and unpaired surrogates (\uxxxx, lower-case).
// It returns the index after the closing quote.
func keyAppendCanonicalString(dst, src []byte, i int) ([]byte, int) {
	dst = append(dst, '"')
	for i++; i < len(src) && src[i] != '"'; {
		c := src[i]
		if c != '\\' {
			dst = keyAppendJSONByte(dst, c)
			i++
			continue
		}
		if i+1 >= len(src) {
			break
		}
		switch esc := src[i+1]; esc {
		case 'u':
			r, ok := keyHex4(src, i+2)
			if !ok {
				return append(dst, '"'), len(src)
			}
			i += 6
			switch {
			case 0xD800 <= r && r < 0xDC00:
				if i+1 < len(src) && src[i] == '\\' && src[i+1] == 'u' {
					if r2, ok := keyHex4(src, i+2); ok && 0xDC00 <= r2 && r2 < 0xE000 {
						dst = utf8.AppendRune(dst, 0x10000+(r-0xD800)<<10+(r2-0xDC00))
						i += 6
						continue
					}
				}
				dst = keyAppendUEscape(dst, r)
			case 0xDC00 <= r && r < 0xE000:
				dst = keyAppendUEscape(dst, r)
			case r < utf8.RuneSelf:
				dst = keyAppendJSONByte(dst, byte(r))
			default:
				dst = utf8.AppendRune(dst, r)
			}
			continue
		case 'b':
			dst = keyAppendJSONByte(dst, '\b')
		case 'f':
			dst = keyAppendJSONByte(dst, '\f')
		case 'n':
			dst = keyAppendJSONByte(dst, '\n')
		case 'r':
			dst = keyAppendJSONByte(dst, '\r')
		case 't':
			dst = keyAppendJSONByte(dst, '\t')
		default: // '"', '\\', '/'
			dst = keyAppendJSONByte(dst, esc)
		}
		i += 2
	}
	return append(dst, '"'), i + 1
}

func keyAppendJSONByte(dst []byte, c byte) []byte {
	switch {
	case c == '"' || c == '\\':
		return append(dst, '\\', c)
	case c < 0x20:
		return keyAppendUEscape(dst, rune(c))
	}
	return append(dst, c)
}

func keyAppendUEscape(dst []byte, r rune) []byte {
	const lowerHex = "0123456789abcdef"
	return append(dst, '\\', 'u', lowerHex[r>>12&15], lowerHex[r>>8&15], lowerHex[r>>4&15], lowerHex[r&15])
}

func keyHex4(src []byte, i int) (rune, bool) {
	if i+4 > len(src) {
		return 0, false
	}
	var r rune
	for _, c := range src[i : i+4] {
		d, ok := keyUnhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}
