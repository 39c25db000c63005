package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"net/http"
	"slices"
	"time"
)

// ErrCorrupt is wrapped by every DecodeEntry error about bytes that are not a
// well-formed entry: a wrong magic, truncated input, a checksum mismatch, a
// length or count larger than the bytes left, unsorted or duplicated header
// names, bytes left over after the last field, or a field holding a value no
// response can have (see DecodeEntry). Test with errors.Is.
var ErrCorrupt = errors.New("restycache/cache: corrupt entry")

// ErrUnknownVersion is wrapped by the DecodeEntry error for bytes that carry
// the entry magic but a format version this code does not know (written by a
// newer or incompatible release). Test with errors.Is; callers treat it like
// a miss.
var ErrUnknownVersion = errors.New("restycache/cache: unknown entry format version")

// EntryFormatVersion is the version byte AppendEntry writes; DecodeEntry
// accepts only this version. Version 1 (without a checksum) is no longer
// read: its bytes decode to an error wrapping ErrUnknownVersion.
const EntryFormatVersion = 2

// The encoding starts with codecMagic0, codecMagic1, the version byte and a
// kind byte, and ends with a codecSumLen-byte checksum.
const (
	codecMagic0 = 'r'
	codecMagic1 = 'c'

	codecKindFull  = 0
	codecKindAlias = 1

	codecPrefixLen = 4
	codecSumLen    = 4
)

// codecChecksum returns the CRC-32C (Castagnoli) of b. crc32.MakeTable
// returns the package's shared Castagnoli table for this polynomial (built
// once, never modified, no allocation), which crc32 computes with the CPU's
// CRC instructions where there are any.
func codecChecksum(b []byte) uint32 {
	return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
}

// Bits of the time mask: which of the entry's times are non-zero and follow.
const (
	codecTimeRequest = 1 << iota
	codecTimeStored
	codecTimeExpires

	codecTimeAll = codecTimeRequest | codecTimeStored | codecTimeExpires
)

// AppendEntry appends the binary encoding of e to dst and returns the
// extended slice. The encoding is deterministic: equal entries give equal
// bytes (header names are written in sorted order).
//
// Layout (version 2), with uvarint lengths and counts and varint numbers:
//
//	'r' 'c' version kind record crc
//	kind 1 (alias): record = len Alias
//	kind 0 (full):  record = StatusCode Flags timeMask [RequestTime] [StoredAt] [ExpiresAt]
//	                InitialAge StaleWhileRevalidate StaleIfError
//	                nStrings textLen text bodyLen Body
//	text:           Status Proto Method URL ETag LastModified
//	                nVary Vary... nAliases Aliases...
//	                Header RequestHeader
//	header:         nNames (name nValues values...)...
//	crc:            CRC-32C (Castagnoli) of every byte before it, 4 bytes big-endian
//
// Times are unix nanoseconds and only present when their bit is set in
// timeMask, so the zero time (and only it) decodes as the zero time; times
// outside the years 1678 to 2262 are clamped to that range. Durations are
// nanoseconds. nStrings counts the Vary names and all header values, so the
// decoder can slice them out of one backing array.
//
// An alias record (e.Alias != "") encodes only its Alias; its other fields
// are dropped. Header names without values are dropped. A nil e encodes as
// the empty Entry. AppendEntry does not check e: an entry DecodeEntry would
// reject (a status code of 0 outside a variant index, say) is encoded as it
// is and fails to decode.
func AppendEntry(dst []byte, e *Entry) []byte {
	var n int
	if e != nil {
		n = len(e.Body)
	}
	start := len(dst)
	dst = AppendEntryHead(dst, e, n)
	if e != nil && e.Alias == "" {
		dst = append(dst, e.Body...)
	}
	return FinishEntry(dst, start)
}

// AppendEntryHead appends the encoding of e up to its body, for a body of
// bodyLen bytes (e.Body is not read), with room in the returned slice for
// the body and the checksum. Appending exactly bodyLen bytes of body and
// then calling FinishEntry with the offset at which AppendEntryHead started
// gives the bytes AppendEntry gives for e with that body; it lets a caller
// read a body straight into its place in the encoding. For an alias record
// bodyLen must be 0: AppendEntryHead appends the whole record but its
// checksum.
func AppendEntryHead(dst []byte, e *Entry, bodyLen int) []byte {
	if e == nil {
		e = &Entry{}
	}
	dst = append(dst, codecMagic0, codecMagic1, EntryFormatVersion)
	if e.Alias != "" {
		dst = append(dst, codecKindAlias)
		return codecAppendString(dst, string(e.Alias))
	}
	dst = append(dst, codecKindFull)
	dst = binary.AppendVarint(dst, int64(e.StatusCode))
	dst = binary.AppendUvarint(dst, uint64(e.Flags))

	var mask uint64
	times := [3]time.Time{e.RequestTime, e.StoredAt, e.ExpiresAt}
	for i, t := range times {
		if !t.IsZero() {
			mask |= 1 << i
		}
	}
	dst = binary.AppendUvarint(dst, mask)
	for _, t := range times {
		if !t.IsZero() {
			dst = binary.AppendVarint(dst, codecUnixNano(t))
		}
	}
	dst = binary.AppendVarint(dst, int64(e.InitialAge))
	dst = binary.AppendVarint(dst, int64(e.StaleWhileRevalidate))
	dst = binary.AppendVarint(dst, int64(e.StaleIfError))

	// Sorted header names, kept on the stack for typical entries.
	var hbuf, rbuf [16]string
	hnames := codecSortedNames(hbuf[:0], e.Header)
	rnames := codecSortedNames(rbuf[:0], e.RequestHeader)

	nStrings := len(e.Vary) + codecValueCount(e.Header, hnames) + codecValueCount(e.RequestHeader, rnames)
	textLen := codecStringLen(e.Status) + codecStringLen(e.Proto) +
		codecStringLen(e.Method) + codecStringLen(e.URL) +
		codecStringLen(e.ETag) + codecStringLen(e.LastModified) +
		codecUvarintLen(uint64(len(e.Vary))) + codecUvarintLen(uint64(len(e.Aliases))) +
		codecHeaderLen(e.Header, hnames) + codecHeaderLen(e.RequestHeader, rnames)
	for _, v := range e.Vary {
		textLen += codecStringLen(v)
	}
	for _, k := range e.Aliases {
		textLen += codecStringLen(string(k))
	}

	dst = binary.AppendUvarint(dst, uint64(nStrings))
	dst = binary.AppendUvarint(dst, uint64(textLen))
	dst = slices.Grow(dst, textLen+binary.MaxVarintLen64+bodyLen+codecSumLen)
	dst = codecAppendString(dst, e.Status)
	dst = codecAppendString(dst, e.Proto)
	dst = codecAppendString(dst, e.Method)
	dst = codecAppendString(dst, e.URL)
	dst = codecAppendString(dst, e.ETag)
	dst = codecAppendString(dst, e.LastModified)
	dst = binary.AppendUvarint(dst, uint64(len(e.Vary)))
	for _, v := range e.Vary {
		dst = codecAppendString(dst, v)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Aliases)))
	for _, k := range e.Aliases {
		dst = codecAppendString(dst, string(k))
	}
	dst = codecAppendHeader(dst, e.Header, hnames)
	dst = codecAppendHeader(dst, e.RequestHeader, rnames)

	return binary.AppendUvarint(dst, uint64(bodyLen))
}

// FinishEntry appends the checksum of the record that starts at
// dst[start:], written by AppendEntryHead and its body, and returns the
// extended slice.
func FinishEntry(dst []byte, start int) []byte {
	return binary.BigEndian.AppendUint32(dst, codecChecksum(dst[start:]))
}

// DecodeEntry decodes an entry written by AppendEntry. Errors wrap
// ErrCorrupt or ErrUnknownVersion; DecodeEntry never panics, whatever b holds.
//
// After the magic and the version, DecodeEntry verifies the checksum, then
// the structure, then every field, and rejects an entry that no response
// can have: a status code outside 100 to 599 (0 only in a variant index,
// which has no Status, Header or Body), a Status that does not start with
// the status code, unknown Flags or time-mask bits, a negative InitialAge,
// StaleWhileRevalidate or StaleIfError, a Method, header name or Vary name
// that is not an HTTP token (an empty Method is allowed), or a CR, LF or NUL
// in a header value, Status, Proto, URL, ETag or LastModified.
//
// The decoded Body aliases b (it is not copied), so b must not be modified
// while the Entry is in use. Strings are copied out of b in one piece.
// Decoded times are in UTC without a monotonic clock reading and are Equal
// to the encoded ones; the zero time decodes as the zero time.Time. Empty
// Header, RequestHeader, Body, Vary and Aliases decode as nil. The decoded
// header value slices have no spare capacity, so appending to one copies it.
func DecodeEntry(b []byte) (*Entry, error) {
	if len(b) < codecPrefixLen || b[0] != codecMagic0 || b[1] != codecMagic1 {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	if b[2] != EntryFormatVersion {
		return nil, fmt.Errorf("%w %d", ErrUnknownVersion, b[2])
	}
	if len(b) < codecPrefixLen+codecSumLen {
		return nil, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	end := len(b) - codecSumLen
	if codecChecksum(b[:end]) != binary.BigEndian.Uint32(b[end:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	b = b[:end:end]
	e, err := codecDecode(b)
	if err != nil {
		return nil, err
	}
	if what := codecInvalid(e); what != "" {
		return nil, fmt.Errorf("%w: invalid %s", ErrCorrupt, what)
	}
	return e, nil
}

// codecDecode decodes the record b (without its checksum) structurally.
func codecDecode(b []byte) (*Entry, error) {
	d := codecDecoder{b: b, off: codecPrefixLen}
	switch b[3] {
	case codecKindAlias:
		n := d.length()
		if d.err != nil || n == 0 {
			return nil, d.fail("alias")
		}
		e := &Entry{Alias: Key(b[d.off : d.off+n])}
		d.off += n
		if d.off != len(b) {
			return nil, d.fail("trailing bytes")
		}
		return e, nil
	case codecKindFull:
	default:
		return nil, fmt.Errorf("%w: unknown record kind %d", ErrCorrupt, b[3])
	}

	e := &Entry{}
	status := d.varint()
	if status < 0 || status > math.MaxInt32 {
		return nil, d.fail("status code out of range")
	}
	e.StatusCode = int(status)
	flags := d.uvarint()
	if flags > math.MaxUint32 {
		return nil, d.fail("flags out of range")
	}
	e.Flags = Flags(flags)
	mask := d.uvarint()
	if mask&^codecTimeAll != 0 {
		return nil, d.fail("time mask")
	}
	for i, t := range [3]*time.Time{&e.RequestTime, &e.StoredAt, &e.ExpiresAt} {
		if mask&(1<<i) != 0 {
			*t = time.Unix(0, d.varint()).UTC()
		}
	}
	e.InitialAge = time.Duration(d.varint())
	e.StaleWhileRevalidate = time.Duration(d.varint())
	e.StaleIfError = time.Duration(d.varint())
	nStrings := d.uvarint()
	textLen := d.length()
	if d.err != nil {
		return nil, d.fail("fixed fields")
	}
	// Every string needs at least its one-byte length.
	if nStrings > uint64(textLen) {
		return nil, d.fail("string count")
	}

	// The text section: one string conversion, fields are substrings.
	t := codecText{b: b[:d.off+textLen], s: string(b[d.off : d.off+textLen]), base: d.off, off: d.off}
	d.off += textLen
	e.Status = t.str()
	e.Proto = t.str()
	e.Method = t.str()
	e.URL = t.str()
	e.ETag = t.str()
	e.LastModified = t.str()
	var backing []string
	if nStrings > 0 {
		backing = make([]string, nStrings)
	}
	if n := t.count(); n > 0 && t.err == nil {
		if uint64(n) > uint64(len(backing)) {
			return nil, t.fail("vary count")
		}
		e.Vary = backing[:n:n]
		for i := range e.Vary {
			e.Vary[i] = t.str()
		}
		backing = backing[n:]
	}
	if n := t.count(); n > 0 && t.err == nil {
		e.Aliases = make([]Key, n)
		for i := range e.Aliases {
			e.Aliases[i] = Key(t.str())
		}
	}
	e.Header, backing = t.header(backing)
	e.RequestHeader, backing = t.header(backing)
	if t.err != nil {
		return nil, t.err
	}
	if t.off != len(t.b) {
		return nil, t.fail("text section length")
	}
	if len(backing) != 0 {
		return nil, t.fail("string count")
	}

	n := d.length()
	if d.err != nil {
		return nil, d.fail("body")
	}
	if n > 0 {
		e.Body = b[d.off : d.off+n : d.off+n]
	}
	d.off += n
	if d.off != len(b) {
		return nil, d.fail("trailing bytes")
	}
	return e, nil
}

// codecInvalid returns what makes the structurally decoded e impossible
// (see DecodeEntry), or "" when nothing does. Header names and values are
// checked as they are decoded (see codecText.header), not here.
func codecInvalid(e *Entry) string {
	if e.Alias != "" {
		return "" // an alias record holds nothing else
	}
	switch {
	case e.StatusCode == 0:
		if (len(e.Vary) == 0 && !e.Flags.Has(FlagURLIndex)) || e.Status != "" || len(e.Header) != 0 || len(e.Body) != 0 {
			return "status code 0 outside a variant or URL index"
		}
	case e.StatusCode < 100 || e.StatusCode > 599:
		return "status code"
	case !codecStatusTextOK(e.StatusCode, e.Status):
		return "status text"
	}
	switch {
	case e.Flags&^flagsKnown != 0:
		return "flags"
	case e.InitialAge < 0:
		return "initial age"
	case e.StaleWhileRevalidate < 0:
		return "stale-while-revalidate"
	case e.StaleIfError < 0:
		return "stale-if-error"
	case e.Method != "" && !textIsToken(e.Method):
		return "method"
	case !textIsFieldValue(e.Proto):
		return "proto"
	case !textIsFieldValue(e.URL):
		return "URL"
	case !textIsFieldValue(e.ETag):
		return "ETag"
	case !textIsFieldValue(e.LastModified):
		return "Last-Modified"
	}
	for _, v := range e.Vary {
		if !textIsToken(v) {
			return "Vary name"
		}
	}
	return ""
}

// codecStatusTextOK reports whether status is empty or starts with the
// three digits of code, followed by nothing or a space, and holds no CR,
// LF or NUL. code is in 100..599.
func codecStatusTextOK(code int, status string) bool {
	if status == "" {
		return true
	}
	return len(status) >= 3 &&
		status[0] == byte('0'+code/100) && status[1] == byte('0'+code/10%10) && status[2] == byte('0'+code%10) &&
		(len(status) == 3 || status[3] == ' ') && textIsFieldValue(status)
}

// codecUnixNano returns t as unix nanoseconds, clamped to the int64 range.
func codecUnixNano(t time.Time) int64 {
	if t.Before(time.Unix(0, math.MinInt64)) {
		return math.MinInt64
	}
	if t.After(time.Unix(0, math.MaxInt64)) {
		return math.MaxInt64
	}
	return t.UnixNano()
}

func codecUvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func codecStringLen(s string) int { return codecUvarintLen(uint64(len(s))) + len(s) }

func codecAppendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// codecSortedNames appends h's names that have values to dst, sorted.
func codecSortedNames(dst []string, h http.Header) []string {
	for name, vs := range h {
		if len(vs) > 0 {
			dst = append(dst, name)
		}
	}
	slices.Sort(dst)
	return dst
}

func codecValueCount(h http.Header, names []string) int {
	n := 0
	for _, name := range names {
		n += len(h[name])
	}
	return n
}

func codecHeaderLen(h http.Header, names []string) int {
	n := codecUvarintLen(uint64(len(names)))
	for _, name := range names {
		vs := h[name]
		n += codecStringLen(name) + codecUvarintLen(uint64(len(vs)))
		for _, v := range vs {
			n += codecStringLen(v)
		}
	}
	return n
}

func codecAppendHeader(dst []byte, h http.Header, names []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	for _, name := range names {
		vs := h[name]
		dst = codecAppendString(dst, name)
		dst = binary.AppendUvarint(dst, uint64(len(vs)))
		for _, v := range vs {
			dst = codecAppendString(dst, v)
		}
	}
	return dst
}

// codecDecoder reads the numbers and lengths outside the text section. After
// the first error every read returns zero.
type codecDecoder struct {
	b   []byte
	off int
	err error
}

func (d *codecDecoder) fail(what string) error {
	if d.err != nil {
		return d.err
	}
	d.err = fmt.Errorf("%w: %s at byte %d", ErrCorrupt, what, d.off)
	return d.err
}

func (d *codecDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("truncated or overlong number")
		return 0
	}
	d.off += n
	return v
}

func (d *codecDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("truncated or overlong number")
		return 0
	}
	d.off += n
	return v
}

// length reads a uvarint byte length that must fit in the bytes left.
func (d *codecDecoder) length() int {
	v := d.uvarint()
	if d.err == nil && v > uint64(len(d.b)-d.off) {
		d.fail("length beyond end of input")
		return 0
	}
	return int(v)
}

// codecText reads the text section: numbers from b, strings as substrings
// of s, which holds b[base:] converted once.
type codecText struct {
	b    []byte
	s    string
	base int
	off  int
	err  error
}

func (t *codecText) fail(what string) error {
	if t.err == nil {
		t.err = fmt.Errorf("%w: %s at byte %d", ErrCorrupt, what, t.off)
	}
	return t.err
}

func (t *codecText) uvarint() uint64 {
	if t.err != nil {
		return 0
	}
	v, n := binary.Uvarint(t.b[t.off:])
	if n <= 0 {
		t.fail("truncated or overlong number")
		return 0
	}
	t.off += n
	return v
}

// count reads a count of items that each take at least one byte.
func (t *codecText) count() int {
	v := t.uvarint()
	if t.err == nil && v > uint64(len(t.b)-t.off) {
		t.fail("count beyond end of section")
		return 0
	}
	return int(v)
}

func (t *codecText) str() string {
	n := t.count()
	if t.err != nil {
		return ""
	}
	i := t.off - t.base
	t.off += n
	return t.s[i : i+n]
}

// header decodes one header block, taking its values from backing, and
// returns the rest of backing. Names must be sorted HTTP tokens, values
// free of CR, LF and NUL.
func (t *codecText) header(backing []string) (http.Header, []string) {
	n := t.count()
	if t.err != nil || n == 0 {
		return nil, backing
	}
	h := make(http.Header, n)
	prev := ""
	for i := 0; i < n; i++ {
		name := t.str()
		nv := t.count()
		if t.err != nil {
			return nil, backing
		}
		if nv == 0 || nv > len(backing) {
			t.fail("header value count")
			return nil, backing
		}
		if i > 0 && name <= prev {
			t.fail("header names not sorted")
			return nil, backing
		}
		if !textIsToken(name) {
			t.fail("invalid header name")
			return nil, backing
		}
		prev = name
		vs := backing[:nv:nv]
		backing = backing[nv:]
		for j := range vs {
			if vs[j] = t.str(); !textIsFieldValue(vs[j]) {
				t.fail("invalid header value")
				return nil, backing
			}
		}
		h[name] = vs
	}
	return h, backing
}
