package cache

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// seal appends the checksum of payload to a copy of it, as AppendEntry
// does: bytes built or edited by hand pass the checksum and reach the
// structural and field checks.
func seal(payload []byte) []byte {
	out := bytes.Clone(payload)
	return binary.BigEndian.AppendUint32(out, crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
}

// reseal returns a copy of the encoding b with its checksum recomputed
// after b's payload was edited.
func reseal(b []byte) []byte { return seal(payload(b)) }

// payload returns the encoding b without its checksum.
func payload(b []byte) []byte { return b[: len(b)-codecSumLen : len(b)-codecSumLen] }

// fullEntry returns a realistic Entry with every field set: several
// headers, some with more than one value, request headers, validators,
// times, Vary, aliases and a body of a few hundred bytes.
func fullEntry() *Entry {
	loc := time.FixedZone("X", 3*3600)
	return &Entry{
		StatusCode: 200,
		Status:     "200 OK",
		Proto:      "HTTP/1.1",
		Header: http.Header{
			"Cache-Control": {"public, max-age=60", "stale-if-error=3600"},
			"Content-Type":  {"application/json"},
			"Etag":          {`"abc"`},
			"Set-Cookie":    {"a=1", "b=2; Path=/; HttpOnly"},
			"Vary":          {"Accept", "Accept-Encoding"},
			"X-Empty-Value": {""},
		},
		Body:                 bytes.Repeat([]byte(`{"hello":"world","n":[1,2,3]},`), 12),
		Method:               "GET",
		URL:                  "https://example.com/a?b=REDACTED",
		RequestHeader:        http.Header{"Accept": {"application/json"}, "Accept-Encoding": {"gzip", "br"}},
		RequestTime:          time.Date(2024, 5, 6, 7, 8, 9, 123456789, loc),
		StoredAt:             time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC),
		ExpiresAt:            time.Date(2024, 5, 7, 7, 8, 10, 0, time.UTC),
		InitialAge:           3 * time.Second,
		ETag:                 `"abc"`,
		LastModified:         "Mon, 06 May 2024 07:00:00 GMT",
		Flags:                FlagNoCache | FlagImmutable,
		StaleWhileRevalidate: time.Minute,
		StaleIfError:         time.Hour,
		Vary:                 []string{"Accept", "Accept-Encoding"},
		Aliases:              []Key{"k1", "k2"},
	}
}

// normalise makes an expected entry comparable with a decoded one: times in
// UTC without monotonic readings, empty collections nil.
func normalise(e *Entry) *Entry {
	c := *e
	for _, t := range []*time.Time{&c.RequestTime, &c.StoredAt, &c.ExpiresAt} {
		if !t.IsZero() {
			*t = time.Unix(0, t.UnixNano()).UTC()
		}
	}
	if len(c.Header) == 0 {
		c.Header = nil
	}
	if len(c.RequestHeader) == 0 {
		c.RequestHeader = nil
	}
	if len(c.Body) == 0 {
		c.Body = nil
	}
	if len(c.Vary) == 0 {
		c.Vary = nil
	}
	if len(c.Aliases) == 0 {
		c.Aliases = nil
	}
	return &c
}

func TestCodecRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   *Entry
	}{
		{"full", fullEntry()},
		{"alias", &Entry{Alias: "0123abcd"}},
		{"minimal", &Entry{StatusCode: 204}},
		{"variant index", &Entry{Vary: []string{"Accept"}, Aliases: []Key{"k1"}}},
		{"empty collections", &Entry{StatusCode: 200, Header: http.Header{}, Body: []byte{}, Vary: []string{}, Aliases: []Key{}}},
		{"epoch is not the zero time", &Entry{StatusCode: 200, ExpiresAt: time.Unix(0, 0), StoredAt: time.Unix(0, 1)}},
		{"before 1970", &Entry{StatusCode: 200, StoredAt: time.Date(1900, 1, 1, 0, 0, 0, 5, time.UTC)}},
		{"only body", &Entry{StatusCode: 200, Body: bytes.Repeat([]byte{0, 0xff}, 1000)}},
		{"status and flag extremes", &Entry{StatusCode: 599, Status: "599", Flags: flagsKnown}},
		{"lowest status", &Entry{StatusCode: 100, Status: "100 Continue"}},
		{"odd but valid text", &Entry{StatusCode: 200, Status: "200 \xff\t", Method: "M-SEARCH",
			Header: http.Header{"X-!#$%&'*+-.^_`|~": {"\t\x7f\xff obs-text"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendEntry(nil, tt.in)
			got, err := DecodeEntry(b)
			if err != nil {
				t.Fatalf("DecodeEntry: %v", err)
			}
			if want := normalise(tt.in); !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip:\n got  %#v\n want %#v", got, want)
			}
			for _, pair := range [][2]time.Time{{got.RequestTime, tt.in.RequestTime}, {got.StoredAt, tt.in.StoredAt}, {got.ExpiresAt, tt.in.ExpiresAt}} {
				if !pair[0].Equal(pair[1]) || pair[0].IsZero() != pair[1].IsZero() {
					t.Errorf("time %v decoded as %v", pair[1], pair[0])
				}
				if !pair[0].IsZero() && pair[0].Location() != time.UTC {
					t.Errorf("time %v not in UTC", pair[0])
				}
			}
			// Deterministic: encoding the decoded entry gives the same bytes.
			if b2 := AppendEntry(nil, got); !bytes.Equal(b, b2) {
				t.Errorf("re-encoding differs:\n%x\n%x", b, b2)
			}
		})
	}
}

func TestCodecAppendsToDst(t *testing.T) {
	prefix := []byte("prefix")
	b := AppendEntry(bytes.Clone(prefix), fullEntry())
	if !bytes.HasPrefix(b, prefix) {
		t.Fatalf("AppendEntry lost dst: %q", b[:10])
	}
	if _, err := DecodeEntry(b[len(prefix):]); err != nil {
		t.Fatal(err)
	}
}

func TestCodecNilEntry(t *testing.T) {
	b := AppendEntry(nil, nil)
	if !bytes.Equal(b, AppendEntry(nil, &Entry{})) {
		t.Fatalf("nil entry encoded as %x, not as the empty Entry", b)
	}
	// The empty Entry has status code 0 and is no variant index: no
	// response looks like it, so it does not decode.
	if e, err := DecodeEntry(b); !errors.Is(err, ErrCorrupt) || e != nil {
		t.Fatalf("empty entry decoded as %#v, %v; want ErrCorrupt", e, err)
	}
}

func TestCodecAliasIsCompact(t *testing.T) {
	e := fullEntry()
	e.Alias = "target"
	b := AppendEntry(nil, e)
	if want := 4 + 1 + len("target") + 4; len(b) != want {
		t.Fatalf("alias record is %d bytes, want %d", len(b), want)
	}
	got, err := DecodeEntry(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &Entry{Alias: "target"}) {
		t.Fatalf("alias decoded as %#v", got)
	}
}

func TestCodecBodyAliasesInput(t *testing.T) {
	b := AppendEntry(nil, fullEntry())
	e, err := DecodeEntry(b)
	if err != nil {
		t.Fatal(err)
	}
	if &e.Body[0] != &b[len(b)-codecSumLen-len(e.Body)] {
		t.Fatal("Body was copied; it should alias the input")
	}
	if cap(e.Body) != len(e.Body) {
		t.Fatalf("Body has spare capacity %d", cap(e.Body)-len(e.Body))
	}
}

func TestCodecHeaderValuesHaveNoSpareCapacity(t *testing.T) {
	e, err := DecodeEntry(AppendEntry(nil, fullEntry()))
	if err != nil {
		t.Fatal(err)
	}
	// Appending to one header's values must not overwrite another's.
	before := strings.Join(e.Header["Set-Cookie"], ",") + "|" + strings.Join(e.Header["X-Empty-Value"], ",") + "|" + strings.Join(e.RequestHeader["Accept"], ",")
	e.Header["Content-Type"] = append(e.Header["Content-Type"], "x")
	e.Header["Etag"] = append(e.Header["Etag"], "y")
	e.Vary = append(e.Vary, "z")
	after := strings.Join(e.Header["Set-Cookie"], ",") + "|" + strings.Join(e.Header["X-Empty-Value"], ",") + "|" + strings.Join(e.RequestHeader["Accept"], ",")
	if before != after {
		t.Fatalf("append clobbered a neighbour: %q -> %q", before, after)
	}
}

func TestCodecEveryTruncationIsCorrupt(t *testing.T) {
	for _, e := range []*Entry{fullEntry(), {Alias: "abc"}, {StatusCode: 200}} {
		b := AppendEntry(nil, e)
		for n := 0; n < len(b); n++ {
			_, err := DecodeEntry(b[:n:n])
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("truncation to %d of %d bytes: err = %v, want ErrCorrupt", n, len(b), err)
			}
		}
	}
}

func TestCodecTrailingGarbageIsCorrupt(t *testing.T) {
	for _, e := range []*Entry{fullEntry(), {Alias: "abc"}, {StatusCode: 200}} {
		b := AppendEntry(nil, e)
		if _, err := DecodeEntry(append(bytes.Clone(b), 0)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("trailing byte: err = %v, want ErrCorrupt", err)
		}
		// A trailing byte inside the checksummed record is found too.
		_, err := DecodeEntry(seal(append(bytes.Clone(payload(b)), 0)))
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "trailing bytes") {
			t.Fatalf("sealed trailing byte: err = %v, want ErrCorrupt about trailing bytes", err)
		}
	}
}

// TestCodecEveryBitFlipIsDetected flips each bit of a realistic entry and
// of an alias record, one at a time: every flip must make DecodeEntry fail.
func TestCodecEveryBitFlipIsDetected(t *testing.T) {
	for _, e := range []*Entry{fullEntry(), {Alias: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"}} {
		b := AppendEntry(nil, e)
		if _, err := DecodeEntry(b); err != nil {
			t.Fatalf("unflipped: %v", err)
		}
		flipped := 0
		for i := range b {
			for bit := range 8 {
				c := bytes.Clone(b)
				c[i] ^= 1 << bit
				got, err := DecodeEntry(c)
				if err == nil {
					t.Fatalf("flip of bit %d of byte %d (of %d) decoded: %#v", bit, i, len(b), got)
				}
				if !errors.Is(err, ErrCorrupt) && !(i == 2 && errors.Is(err, ErrUnknownVersion)) {
					t.Fatalf("flip of bit %d of byte %d: err = %v wraps neither sentinel as expected", bit, i, err)
				}
				flipped++
			}
		}
		if flipped != 8*len(b) {
			t.Fatalf("flipped %d bits of %d", flipped, 8*len(b))
		}
	}
}

func TestCodecChecksumMismatch(t *testing.T) {
	b := AppendEntry(nil, fullEntry())
	b[len(b)-1] ^= 0xff
	if _, err := DecodeEntry(b); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("err = %v, want ErrCorrupt about the checksum", err)
	}
}

// TestCodecRejectsImpossibleValues encodes entries no response can have.
// AppendEntry does not check what it encodes, so their checksums are valid
// and only the field checks can reject them.
func TestCodecRejectsImpossibleValues(t *testing.T) {
	ok := func() *Entry { return &Entry{StatusCode: 200, Status: "200 OK", Method: "GET"} }
	with := func(f func(*Entry)) *Entry { e := ok(); f(e); return e }
	tests := []struct {
		name string
		in   *Entry
	}{
		{"status 0", &Entry{Method: "GET"}},
		{"status 0 with headers and Vary", &Entry{Vary: []string{"Accept"}, Header: http.Header{"A": {"1"}}}},
		{"status 0 with body and Vary", &Entry{Vary: []string{"Accept"}, Body: []byte("x")}},
		{"status 0 with status text and Vary", &Entry{Vary: []string{"Accept"}, Status: "200 OK"}},
		{"status 99", with(func(e *Entry) { e.StatusCode, e.Status = 99, "" })},
		{"status 600", with(func(e *Entry) { e.StatusCode, e.Status = 600, "" })},
		{"status 712", with(func(e *Entry) { e.StatusCode, e.Status = 712, "" })},
		{"status 4296", with(func(e *Entry) { e.StatusCode, e.Status = 4296, "" })},
		{"status -201", with(func(e *Entry) { e.StatusCode, e.Status = -201, "" })},
		{"status -1", with(func(e *Entry) { e.StatusCode, e.Status = -1, "" })},
		{"status text of another code", with(func(e *Entry) { e.Status = "404 Not Found" })},
		{"status text without space", with(func(e *Entry) { e.Status = "200OK" })},
		{"status text too short", with(func(e *Entry) { e.Status = "20" })},
		{"status text with LF", with(func(e *Entry) { e.Status = "200 OK\n" })},
		{"unknown flag bit", with(func(e *Entry) { e.Flags = flagsEnd })},
		{"top flag bit", with(func(e *Entry) { e.Flags = FlagNoCache | 1<<31 })},
		{"negative initial age", with(func(e *Entry) { e.InitialAge = -1 })},
		{"negative stale-while-revalidate", with(func(e *Entry) { e.StaleWhileRevalidate = -time.Second })},
		{"negative stale-if-error", with(func(e *Entry) { e.StaleIfError = -time.Hour })},
		{"method with space", with(func(e *Entry) { e.Method = "GE T" })},
		{"method with CR", with(func(e *Entry) { e.Method = "GET\r" })},
		{"header name with space", with(func(e *Entry) { e.Header = http.Header{"Bad Name": {"v"}} })},
		{"header name with colon", with(func(e *Entry) { e.Header = http.Header{"Bad:": {"v"}} })},
		{"empty header name", with(func(e *Entry) { e.Header = http.Header{"": {"v"}} })},
		{"header name non-ASCII", with(func(e *Entry) { e.Header = http.Header{"X-\xe9": {"v"}} })},
		{"header value with CR", with(func(e *Entry) { e.Header = http.Header{"A": {"ok", "x\ry"}} })},
		{"header value with LF", with(func(e *Entry) { e.Header = http.Header{"A": {"x\ny"}} })},
		{"header value with NUL", with(func(e *Entry) { e.Header = http.Header{"A": {"x\x00y"}} })},
		{"request header name", with(func(e *Entry) { e.RequestHeader = http.Header{"A B": {"v"}} })},
		{"request header value", with(func(e *Entry) { e.RequestHeader = http.Header{"Accept": {"a\r\nX-Injected: 1"}} })},
		{"Vary name", with(func(e *Entry) { e.Vary = []string{"Accept", "Accept Encoding"} })},
		{"empty Vary name", with(func(e *Entry) { e.Vary = []string{""} })},
		{"proto with LF", with(func(e *Entry) { e.Proto = "HTTP/1.1\n" })},
		{"URL with CR", with(func(e *Entry) { e.URL = "http://h/\r" })},
		{"ETag with NUL", with(func(e *Entry) { e.ETag = "\"a\x00\"" })},
		{"Last-Modified with LF", with(func(e *Entry) { e.LastModified = "x\ny" })},
	}
	if _, err := DecodeEntry(AppendEntry(nil, ok())); err != nil {
		t.Fatalf("base entry: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := DecodeEntry(AppendEntry(nil, tt.in))
			if !errors.Is(err, ErrCorrupt) || e != nil {
				t.Fatalf("DecodeEntry = %#v, %v; want ErrCorrupt", e, err)
			}
			if strings.Contains(err.Error(), "checksum") {
				t.Fatalf("rejected by the checksum, not the field check: %v", err)
			}
		})
	}
}

// TestCodecVersion1IsUnknown feeds bytes of the old, unchecksummed format.
func TestCodecVersion1IsUnknown(t *testing.T) {
	const v1 = "726301" + "00" + "9003" + "00" + "00" + "00" + "00" + "00" + "00" + "05" + "00000000000000" + "00"
	b, _ := hex.DecodeString(v1)
	if _, err := DecodeEntry(b); !errors.Is(err, ErrUnknownVersion) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("version 1 entry: err = %v, want ErrUnknownVersion only", err)
	}
	b, _ = hex.DecodeString("726301" + "01" + "0174") // a version 1 alias record
	if _, err := DecodeEntry(b); !errors.Is(err, ErrUnknownVersion) {
		t.Fatalf("version 1 alias: err = %v, want ErrUnknownVersion", err)
	}
}

func TestCodecUnknownVersion(t *testing.T) {
	b := AppendEntry(nil, fullEntry())
	for _, v := range []byte{0, EntryFormatVersion + 1, 0xff} {
		c := bytes.Clone(b)
		c[2] = v
		_, err := DecodeEntry(c)
		if !errors.Is(err, ErrUnknownVersion) {
			t.Errorf("version %d: err = %v, want ErrUnknownVersion", v, err)
		}
		if errors.Is(err, ErrCorrupt) {
			t.Errorf("version %d: err %v also matches ErrCorrupt", v, err)
		}
	}
}

func TestCodecCorruptInputs(t *testing.T) {
	valid := payload(AppendEntry(nil, &Entry{StatusCode: 200, Header: http.Header{"A": {"1"}, "B": {"2"}}}))
	// Offsets in valid: magic(2) version kind status(2: varint 200 = 90 03)
	// flags mask iage swr sie nStrings textLen.
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(valid)) }
	v := byte(EntryFormatVersion)
	// Each input is a payload: the test seals it, so that only the
	// structural checks can reject it.
	tests := []struct {
		name string
		in   []byte
	}{
		{"nil", nil},
		{"bad magic", mutate(func(b []byte) []byte { b[0] = 'x'; return b })},
		{"unknown kind", mutate(func(b []byte) []byte { b[3] = 7; return b })},
		{"empty alias", []byte{'r', 'c', v, 1, 0}},
		{"alias length beyond end", []byte{'r', 'c', v, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'}},
		{"overlong varint", []byte{'r', 'c', v, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"status beyond int32", []byte{'r', 'c', v, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}},
		{"negative status", []byte{'r', 'c', v, 0, 0x01}},
		{"unknown time bit", mutate(func(b []byte) []byte { b[7] = 0x08; return b })},
		{"flags above 32 bits", []byte{'r', 'c', v, 0, 0x90, 0x03, 0x80, 0x80, 0x80, 0x80, 0x10}},
		{"string count beyond text", mutate(func(b []byte) []byte { b[11] = 0x7f; return b })},
		{"string count too small", mutate(func(b []byte) []byte { b[11]--; return b })},
		{"text length beyond end", mutate(func(b []byte) []byte { b[12] = 0x7f; return b })},
		{"unsorted header names", bytes.Replace(valid, []byte{1, 'A', 1, 1, '1', 1, 'B'}, []byte{1, 'B', 1, 1, '1', 1, 'A'}, 1)},
		{"duplicate header names", bytes.Replace(valid, []byte{1, 'A', 1, 1, '1', 1, 'B'}, []byte{1, 'A', 1, 1, '1', 1, 'A'}, 1)},
		{"header without values", bytes.Replace(valid, []byte{1, 'A', 1, 1, '1'}, []byte{1, 'A', 0, 1, '1'}, 1)},
		{"header name not a token", bytes.Replace(valid, []byte{1, 'A', 1, 1, '1'}, []byte{1, ' ', 1, 1, '1'}, 1)},
		{"header value with LF", bytes.Replace(valid, []byte{1, 'A', 1, 1, '1'}, []byte{1, 'A', 1, 1, '\n'}, 1)},
		{"trailing byte", append(bytes.Clone(valid), 0)},
	}
	if _, err := DecodeEntry(seal(valid)); err != nil {
		t.Fatalf("base input: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.in) > 0 && bytes.Equal(tt.in, valid) {
				t.Fatal("mutation did not change the input")
			}
			e, err := DecodeEntry(seal(tt.in))
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v (entry %#v), want ErrCorrupt", err, e)
			}
			if e != nil {
				t.Fatalf("entry %#v returned with error", e)
			}
			if strings.Contains(err.Error(), "checksum") {
				t.Fatalf("rejected by the checksum, not the structure: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "restycache/cache: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestCodecGolden pins the version 2 format: if this fails, the encoding has
// changed and EntryFormatVersion must be bumped. The checksum was computed
// independently of Go's hash/crc32 (a bitwise CRC-32C in Python).
func TestCodecGolden(t *testing.T) {
	e := &Entry{
		StatusCode:   200,
		Status:       "200 OK",
		Header:       http.Header{"Content-Type": {"text/plain"}, "B": {"1", "2"}},
		Body:         []byte("hi"),
		Method:       "GET",
		URL:          "http://h/",
		StoredAt:     time.Unix(1700000000, 0),
		ExpiresAt:    time.Unix(1700000060, 0),
		ETag:         `"e"`,
		Flags:        FlagMustRevalidate,
		StaleIfError: time.Second,
		Vary:         []string{"Accept"},
	}
	const golden = "726302" + "00" + // magic, version, kind full
		"9003" + "02" + "06" + // status 200, flags, time mask (stored, expires)
		"8080d0e2c6bfce972f" + "80e08ae785c3ce972f" + // StoredAt, ExpiresAt
		"00" + "00" + "80a8d6b907" + // InitialAge, SWR, SIE
		"04" + "46" + // nStrings 4, textLen 70
		"06323030204f4b" + "00" + "03474554" + "09687474703a2f2f682f" + // Status Proto Method URL
		"03226522" + "00" + // ETag LastModified
		"0106416363657074" + "00" + // Vary, Aliases
		"02" + "014202013101320c436f6e74656e742d54797065010a746578742f706c61696e" + // Header
		"00" + // RequestHeader
		"026869" + // Body
		"9f1f6a29" // CRC-32C of all the above, big-endian
	got := hex.EncodeToString(AppendEntry(nil, e))
	if got != golden {
		t.Fatalf("encoding changed:\n got  %s\n want %s", got, golden)
	}
	b, _ := hex.DecodeString(golden)
	d, err := DecodeEntry(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, normalise(e)) {
		t.Fatalf("golden decodes as %#v", d)
	}
}

// typicalEntry has 8 response headers, a 2 KiB body and no request headers.
func typicalEntry() *Entry {
	return &Entry{
		StatusCode: 200,
		Status:     "200 OK",
		Proto:      "HTTP/1.1",
		Header: http.Header{
			"Cache-Control": {"public, max-age=3600"},
			"Content-Type":  {"application/json; charset=utf-8"},
			"Date":          {"Mon, 06 May 2024 07:08:09 GMT"},
			"Etag":          {`W/"5f2a-1b"`},
			"Last-Modified": {"Sun, 05 May 2024 07:08:09 GMT"},
			"Server":        {"nginx"},
			"Vary":          {"Accept-Encoding"},
			"X-Request-Id":  {"4c1d8a0e-3f7b-4d6a-9e2c-0a1b2c3d4e5f"},
		},
		Body:         bytes.Repeat([]byte("0123456789abcdef"), 128),
		Method:       "GET",
		URL:          "https://api.example.com/v1/users?page=2",
		RequestTime:  time.Unix(1700000000, 0),
		StoredAt:     time.Unix(1700000001, 0),
		ExpiresAt:    time.Unix(1700003601, 0),
		ETag:         `W/"5f2a-1b"`,
		LastModified: "Sun, 05 May 2024 07:08:09 GMT",
		Vary:         []string{"Accept-Encoding"},
	}
}

func TestDecodeEntryAllocs(t *testing.T) {
	b := AppendEntry(nil, typicalEntry())
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := DecodeEntry(b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 6 {
		t.Fatalf("DecodeEntry: %v allocs per run, want <= 6", allocs)
	}
}

func BenchmarkDecodeEntry(b *testing.B) {
	buf := AppendEntry(nil, typicalEntry())
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := DecodeEntry(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendEntry(b *testing.B) {
	e := typicalEntry()
	buf := AppendEntry(nil, e)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = AppendEntry(buf[:0], e)
	}
}

// FuzzDecodeEntry decodes each input twice: as it is (which almost always
// fails the checksum) and sealed with a valid checksum, so that the fuzzer
// reaches the structural and field checks.
func FuzzDecodeEntry(f *testing.F) {
	for _, e := range []*Entry{fullEntry(), typicalEntry(), {Alias: "k"}, {StatusCode: 200}, {Vary: []string{"Accept"}}, {}} {
		f.Add(payload(AppendEntry(nil, e)))
	}
	f.Add([]byte{})
	f.Add([]byte("rc\x02\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzDecode(t, b)
		fuzzDecode(t, seal(b))
	})
}

func fuzzDecode(t *testing.T, b []byte) {
	e, err := DecodeEntry(b)
	if err != nil {
		if e != nil {
			t.Fatalf("entry returned with error %v", err)
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownVersion) {
			t.Fatalf("error %v wraps neither sentinel", err)
		}
		return
	}
	if what := codecInvalid(e); what != "" {
		t.Fatalf("decoded an entry with an invalid %s: %#v", what, e)
	}
	for _, h := range []http.Header{e.Header, e.RequestHeader} {
		for name, vs := range h {
			if !textIsToken(name) {
				t.Fatalf("decoded header name %q", name)
			}
			for _, v := range vs {
				if !textIsFieldValue(v) {
					t.Fatalf("decoded header value %q", v)
				}
			}
		}
	}
	b2 := AppendEntry(nil, e)
	e2, err := DecodeEntry(b2)
	if err != nil {
		t.Fatalf("re-encoded entry does not decode: %v", err)
	}
	if !reflect.DeepEqual(e, e2) {
		t.Fatalf("re-decoded entry differs:\n%#v\n%#v", e, e2)
	}
	if b3 := AppendEntry(nil, e2); !bytes.Equal(b2, b3) {
		t.Fatalf("encoding not deterministic")
	}
}
