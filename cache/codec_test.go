package cache

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fullEntry returns an Entry with every field set.
func fullEntry() *Entry {
	loc := time.FixedZone("X", 3*3600)
	return &Entry{
		StatusCode: 200,
		Status:     "200 OK",
		Proto:      "HTTP/1.1",
		Header: http.Header{
			"Content-Type":  {"application/json"},
			"Etag":          {`"abc"`},
			"Set-Cookie":    {"a=1", "b=2"},
			"X-Empty-Value": {""},
		},
		Body:                 []byte(`{"hello":"world"}`),
		Method:               "GET",
		URL:                  "https://example.com/a?b=REDACTED",
		RequestHeader:        http.Header{"Accept": {"application/json"}},
		RequestTime:          time.Date(2024, 5, 6, 7, 8, 9, 123456789, loc),
		StoredAt:             time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC),
		ExpiresAt:            time.Date(2024, 5, 7, 7, 8, 10, 0, time.UTC),
		InitialAge:           3 * time.Second,
		ETag:                 `"abc"`,
		LastModified:         "Mon, 06 May 2024 07:00:00 GMT",
		Flags:                FlagNoCache | FlagImmutable,
		StaleWhileRevalidate: time.Minute,
		StaleIfError:         -time.Hour, // negative numbers must survive too
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
		{"empty", &Entry{}},
		{"empty collections", &Entry{Header: http.Header{}, Body: []byte{}, Vary: []string{}, Aliases: []Key{}}},
		{"epoch is not the zero time", &Entry{ExpiresAt: time.Unix(0, 0), StoredAt: time.Unix(0, 1)}},
		{"before 1970", &Entry{StoredAt: time.Date(1900, 1, 1, 0, 0, 0, 5, time.UTC)}},
		{"only body", &Entry{Body: bytes.Repeat([]byte{0, 0xff}, 1000)}},
		{"status extremes", &Entry{StatusCode: -1, Flags: ^Flags(0)}},
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
	got, err := DecodeEntry(AppendEntry(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &Entry{}) {
		t.Fatalf("nil entry decoded as %#v", got)
	}
}

func TestCodecAliasIsCompact(t *testing.T) {
	e := fullEntry()
	e.Alias = "target"
	b := AppendEntry(nil, e)
	if want := 4 + 1 + len("target"); len(b) != want {
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
	if &e.Body[0] != &b[len(b)-len(e.Body)] {
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
	for _, e := range []*Entry{fullEntry(), {Alias: "abc"}, {}} {
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
	for _, e := range []*Entry{fullEntry(), {Alias: "abc"}, {}} {
		b := append(AppendEntry(nil, e), 0)
		if _, err := DecodeEntry(b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("trailing byte: err = %v, want ErrCorrupt", err)
		}
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
	valid := AppendEntry(nil, &Entry{StatusCode: 200, Header: http.Header{"A": {"1"}, "B": {"2"}}})
	// Offsets in valid: magic(2) version kind status(2: varint 200 = 90 03)
	// flags mask iage swr sie nStrings textLen.
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(valid)) }
	tests := []struct {
		name string
		in   []byte
	}{
		{"nil", nil},
		{"bad magic", mutate(func(b []byte) []byte { b[0] = 'x'; return b })},
		{"unknown kind", mutate(func(b []byte) []byte { b[3] = 7; return b })},
		{"empty alias", []byte{'r', 'c', EntryFormatVersion, 1, 0}},
		{"alias length beyond end", []byte{'r', 'c', EntryFormatVersion, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'}},
		{"overlong varint", []byte{'r', 'c', EntryFormatVersion, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"unknown time bit", mutate(func(b []byte) []byte { b[7] = 0x08; return b })},
		{"flags above 32 bits", []byte{'r', 'c', EntryFormatVersion, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10}},
		{"string count beyond text", mutate(func(b []byte) []byte { b[11] = 0x7f; return b })},
		{"string count too small", mutate(func(b []byte) []byte { b[11]--; return b })},
		{"text length beyond end", mutate(func(b []byte) []byte { b[12] = 0x7f; return b })},
		{"unsorted header names", bytes.Replace(valid, []byte{1, 'A', 1, 1, '1', 1, 'B'}, []byte{1, 'B', 1, 1, '1', 1, 'A'}, 1)},
		{"duplicate header names", bytes.Replace(valid, []byte{1, 'A', 1, 1, '1', 1, 'B'}, []byte{1, 'A', 1, 1, '1', 1, 'A'}, 1)},
		{"header without values", bytes.Replace(valid, []byte{1, 'A', 1, 1, '1'}, []byte{1, 'A', 0, 1, '1'}, 1)},
	}
	if _, err := DecodeEntry(valid); err != nil {
		t.Fatalf("base input: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.in) > 0 && bytes.Equal(tt.in, valid) {
				t.Fatal("mutation did not change the input")
			}
			e, err := DecodeEntry(tt.in)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v (entry %#v), want ErrCorrupt", err, e)
			}
			if e != nil {
				t.Fatalf("entry %#v returned with error", e)
			}
			if !strings.HasPrefix(err.Error(), "restycache/cache: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestCodecGolden pins the version 1 format: if this fails, the encoding has
// changed and EntryFormatVersion must be bumped.
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
	const golden = "726301" + "00" + // magic, version, kind full
		"9003" + "02" + "06" + // status 200, flags, time mask (stored, expires)
		"8080d0e2c6bfce972f" + "80e08ae785c3ce972f" + // StoredAt, ExpiresAt
		"00" + "00" + "80a8d6b907" + // InitialAge, SWR, SIE
		"04" + "46" + // nStrings 4, textLen 70
		"06323030204f4b" + "00" + "03474554" + "09687474703a2f2f682f" + // Status Proto Method URL
		"03226522" + "00" + // ETag LastModified
		"0106416363657074" + "00" + // Vary, Aliases
		"02" + "014202013101320c436f6e74656e742d54797065010a746578742f706c61696e" + // Header
		"00" + // RequestHeader
		"026869" // Body
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

func FuzzDecodeEntry(f *testing.F) {
	f.Add(AppendEntry(nil, fullEntry()))
	f.Add(AppendEntry(nil, typicalEntry()))
	f.Add(AppendEntry(nil, &Entry{Alias: "k"}))
	f.Add(AppendEntry(nil, &Entry{}))
	f.Add([]byte{})
	f.Add([]byte("rc\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
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
	})
}
