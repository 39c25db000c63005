package cache

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// MaxDelta is the largest delta-seconds value, 2^31 seconds (about 68
// years). Larger values are clamped to it, and RFC 9111 section 1.2.2 lets
// it stand for "infinity"; a bare max-stale request directive is
// represented by it.
const MaxDelta = (1 << 31) * time.Second

// Delta is the value of a delta-seconds Cache-Control directive such as
// max-age. The zero Delta means the directive was absent.
type Delta struct {
	// Duration is the directive's value, at most MaxDelta; 0 when Invalid.
	Duration time.Duration
	// Present reports whether the directive appeared at all.
	Present bool
	// Invalid reports that the directive's value was missing, malformed or
	// negative, or that the directive was repeated with different values.
	// Duration is then 0, so an invalid max-age makes a response stale at
	// once (RFC 9111 section 4.2.1).
	Invalid bool
}

// Directives is the parsed Cache-Control of a response or a request (RFC
// 9111 section 5.2). The zero value is an empty Cache-Control. Directives
// that apply only to requests or only to responses are parsed from either.
//
// The qualified forms no-cache="field-names" and private="field-names" set
// NoCacheFields and PrivateFields (the quoted lists as written), not NoCache;
// Private is set by both forms of private.
type Directives struct {
	NoStore         bool // no-store
	NoCache         bool // no-cache without field names
	Private         bool // private, with or without field names
	Public          bool // public
	MustRevalidate  bool // must-revalidate
	ProxyRevalidate bool // proxy-revalidate
	MustUnderstand  bool // must-understand
	Immutable       bool // immutable (RFC 8246)
	NoTransform     bool // no-transform
	OnlyIfCached    bool // only-if-cached (request)

	MaxAge   Delta // max-age
	SMaxAge  Delta // s-maxage (response)
	MaxStale Delta // max-stale (request); Duration is MaxDelta when bare
	MinFresh Delta // min-fresh (request)

	StaleWhileRevalidate Delta // stale-while-revalidate (RFC 5861)
	StaleIfError         Delta // stale-if-error (RFC 5861)

	// NoCacheFields and PrivateFields are the field-name lists of
	// no-cache="…" and private="…", comma separated as written (several
	// directives joined with commas); empty when absent. See FieldNames.
	NoCacheFields string
	PrivateFields string
}

// FieldNames returns the header names listed in a NoCacheFields or
// PrivateFields value, in canonical form; nil when there are none.
func FieldNames(list string) []string {
	var out []string
	for elem := range strings.SplitSeq(list, ",") {
		elem = strings.Trim(elem, " \t\\")
		if ccIsToken(elem) {
			out = append(out, http.CanonicalHeaderKey(elem))
		}
	}
	return out
}

// ParseCacheControl parses all Cache-Control field lines of h, each a comma
// separated list of directives, into one Directives. Directive names are
// case-insensitive; values may be tokens or quoted strings (with backslash
// escapes); whitespace around names, "=" and values is tolerated; unknown
// directives and empty list elements are ignored.
//
// A delta-seconds directive (max-age, s-maxage, max-stale, min-fresh,
// stale-while-revalidate, stale-if-error) whose value is missing, not a
// plain non-negative decimal number, or followed by junk, or that is
// repeated with different values, is Present and Invalid with Duration 0:
// for max-age this makes the response stale. Values above 2^31 seconds are
// clamped to MaxDelta. A bare max-stale means any staleness (MaxDelta).
//
// ParseCacheControl does not allocate.
func ParseCacheControl(h http.Header) Directives {
	var d Directives
	for _, line := range h.Values("Cache-Control") {
		ccParseLine(&d, line)
	}
	return d
}

// ccParseLine merges the directives of one Cache-Control field line into d.
func ccParseLine(d *Directives, s string) {
	i := 0
	for i < len(s) {
		i = ccSkipOWS(s, i)
		// Name: everything up to '=', ',' or whitespace.
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ',' && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		name := s[start:i]
		i = ccSkipOWS(s, i)
		hasValue, valid := false, true
		var value string // the raw value: token, or quoted-string contents
		var quoted bool  // value holds escapes to undo
		if i < len(s) && s[i] == '=' {
			hasValue = true
			i = ccSkipOWS(s, i+1)
			if i < len(s) && s[i] == '"' {
				i++
				vstart := i
				closed := false
				for i < len(s) {
					if s[i] == '\\' && i+1 < len(s) {
						i += 2
						continue
					}
					if s[i] == '"' {
						closed = true
						break
					}
					i++
				}
				value, quoted = s[vstart:i], true
				if closed {
					i++
				} else {
					valid = false
				}
			} else {
				vstart := i
				for i < len(s) && s[i] != ',' && s[i] != ' ' && s[i] != '\t' {
					i++
				}
				value = s[vstart:i]
			}
			i = ccSkipOWS(s, i)
		}
		// Anything before the next comma is junk that spoils the value.
		if i < len(s) && s[i] != ',' {
			valid = false
			for i < len(s) && s[i] != ',' {
				if s[i] == '"' { // skip a stray quoted string whole
					i++
					for i < len(s) && s[i] != '"' {
						if s[i] == '\\' {
							i++
						}
						i++
					}
				}
				i++
			}
		}
		if i < len(s) { // the comma
			i++
		}
		if name != "" {
			ccApply(d, name, hasValue, value, quoted, valid)
		}
	}
}

func ccSkipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// ccApply records one directive in d.
func ccApply(d *Directives, name string, hasValue bool, value string, quoted, valid bool) {
	var delta *Delta
	switch len(name) {
	case 6:
		if ccEqualFold(name, "public") {
			d.Public = true
			return
		}
	case 7:
		switch {
		case ccEqualFold(name, "max-age"):
			delta = &d.MaxAge
		case ccEqualFold(name, "private"):
			d.Private = true
			if hasValue && valid {
				d.PrivateFields = ccAppendList(d.PrivateFields, value)
			}
			return
		}
	case 8:
		switch {
		case ccEqualFold(name, "no-store"):
			d.NoStore = true
			return
		case ccEqualFold(name, "no-cache"):
			if hasValue && valid && value != "" {
				d.NoCacheFields = ccAppendList(d.NoCacheFields, value)
			} else {
				d.NoCache = true
			}
			return
		case ccEqualFold(name, "s-maxage"):
			delta = &d.SMaxAge
		}
	case 9:
		switch {
		case ccEqualFold(name, "max-stale"):
			if !hasValue && valid {
				ccMerge(&d.MaxStale, MaxDelta, true)
				return
			}
			delta = &d.MaxStale
		case ccEqualFold(name, "min-fresh"):
			delta = &d.MinFresh
		case ccEqualFold(name, "immutable"):
			d.Immutable = true
			return
		}
	case 12:
		if ccEqualFold(name, "no-transform") {
			d.NoTransform = true
			return
		}
	case 14:
		if ccEqualFold(name, "only-if-cached") {
			d.OnlyIfCached = true
			return
		}
		if ccEqualFold(name, "stale-if-error") {
			delta = &d.StaleIfError
		}
	case 15:
		if ccEqualFold(name, "must-revalidate") {
			d.MustRevalidate = true
			return
		}
		if ccEqualFold(name, "must-understand") {
			d.MustUnderstand = true
			return
		}
	case 16:
		if ccEqualFold(name, "proxy-revalidate") {
			d.ProxyRevalidate = true
			return
		}
	case 22:
		if ccEqualFold(name, "stale-while-revalidate") {
			delta = &d.StaleWhileRevalidate
		}
	}
	if delta == nil {
		return // unknown directive
	}
	v, ok := time.Duration(0), false
	if hasValue && valid {
		v, ok = ccDeltaSeconds(value, quoted)
	}
	ccMerge(delta, v, ok)
}

// ccAppendList appends a field-name list to list, comma separated. It
// allocates only for a second list.
func ccAppendList(list, value string) string {
	if list == "" {
		return value
	}
	return list + "," + value
}

// ccMerge records a value of a delta-seconds directive, marking it invalid
// when the value is or conflicts with an earlier one.
func ccMerge(d *Delta, v time.Duration, ok bool) {
	switch {
	case !ok || (d.Present && (d.Invalid || d.Duration != v)):
		*d = Delta{Present: true, Invalid: true}
	default:
		*d = Delta{Duration: v, Present: true}
	}
}

// ccDeltaSeconds parses delta-seconds (1*DIGIT), undoing backslash escapes
// when quoted, clamping at MaxDelta.
func ccDeltaSeconds(s string, quoted bool) (time.Duration, bool) {
	const maxSeconds = int64(MaxDelta / time.Second)
	var n int64
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quoted && c == '\\' && i+1 < len(s) {
			i++
			c = s[i]
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		digits++
		if n < maxSeconds {
			n = n*10 + int64(c-'0')
		}
	}
	if digits == 0 {
		return 0, false
	}
	if n > maxSeconds {
		n = maxSeconds
	}
	return time.Duration(n) * time.Second, true
}

// ErrInvalidDate is wrapped by the ParseHTTPDate error for a value that is
// not an HTTP-date. Test with errors.Is.
var ErrInvalidDate = errors.New("restycache/cache: invalid HTTP-date")

// ExpiresAt returns the time given by h's Expires header (RFC 9111 section
// 5.3); present is false when h has none. An Expires that is not a valid
// HTTP-date (such as "0"), or several Expires lines that disagree, yield
// present and the Unix epoch, a time in the past: the response is already
// stale, never "never expires". Callers must ignore Expires when the
// response has a max-age (or, in a shared cache, s-maxage) directive.
func ExpiresAt(h http.Header) (t time.Time, present bool) {
	lines := h.Values("Expires")
	if len(lines) == 0 {
		return time.Time{}, false
	}
	past := time.Unix(0, 0).UTC()
	t, err := ParseHTTPDate(lines[0])
	if err != nil {
		return past, true
	}
	for _, l := range lines[1:] {
		t2, err := ParseHTTPDate(l)
		if err != nil || !t2.Equal(t) {
			return past, true
		}
	}
	return t, true
}

// ParseVary returns the request header names that h's Vary header lines
// list, in canonical form (http.CanonicalHeaderKey), deduplicated and sorted;
// nil when there are none. all is true when any element is "*", meaning the
// response varies on things outside the request headers; names is then nil.
// Elements that are not valid header names are ignored.
func ParseVary(h http.Header) (names []string, all bool) {
	for _, line := range h.Values("Vary") {
		for elem := range strings.SplitSeq(line, ",") {
			elem = strings.Trim(elem, " \t")
			if elem == "*" {
				return nil, true
			}
			if !ccIsToken(elem) {
				continue
			}
			name := http.CanonicalHeaderKey(elem)
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names, false
}

// PragmaNoCache reports whether h asks for no caching with the obsolete
// "Pragma: no-cache" (RFC 9111 section 5.4), which is honoured only when h
// has no Cache-Control (or only empty Cache-Control lines).
func PragmaNoCache(h http.Header) bool {
	for _, line := range h.Values("Cache-Control") {
		if strings.Trim(line, " \t,") != "" {
			return false
		}
	}
	for _, line := range h.Values("Pragma") {
		for elem := range strings.SplitSeq(line, ",") {
			if ccEqualFold(strings.Trim(elem, " \t"), "no-cache") {
				return true
			}
		}
	}
	return false
}

// ccEqualFold reports whether s equals the lower-case ASCII name, ignoring
// ASCII case only (so no Unicode folding such as "ſ" to "s").
func ccEqualFold(s, name string) bool {
	if len(s) != len(name) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// ccIsToken reports whether s is a non-empty RFC 9110 token.
func ccIsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
