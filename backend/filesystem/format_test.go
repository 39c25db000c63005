package filesystem

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"testing"
	"time"
)

// encodeFile is the whole entry file Set writes.
func encodeFile(key string, value []byte, exp time.Time) []byte {
	b := append(encodeHeader(key, len(value), exp), value...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func TestFormatRoundTrip(t *testing.T) {
	for _, exp := range []time.Time{
		{},
		time.Unix(0, 1),
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC), // negative Unix time
		time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),                // past int64 nanoseconds
		time.Now(),
	} {
		for _, key := range []string{"", "k", "ünï\x00code"} {
			data := encodeFile(key, []byte("value"), exp)
			h, k, v, err := decodeFile(fileName(key), data)
			if err != nil || k != key || string(v) != "value" || !h.expiresAt.Equal(exp) {
				t.Errorf("decode(%q, %v) = %q %q %v, %v", key, exp, k, v, h.expiresAt, err)
			}
			h2, k2, err := readHeader(bytes.NewReader(data), fileName(key), int64(len(data)))
			if err != nil || k2 != key || h2 != h {
				t.Errorf("readHeader(%q, %v) = %+v %q, %v", key, exp, h2, k2, err)
			}
		}
	}
}

func TestUnknownVersionIsAMissButKept(t *testing.T) {
	dir := t.TempDir()
	b := New(dir)
	defer b.Close()
	mustSet(t, b, "k", []byte("v"), time.Now().Add(time.Hour))
	p := fileOf(dir, "k")
	data, _ := os.ReadFile(p)
	data[4] = formatVersion + 1 // as a newer release would write it
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := b.Get(t.Context(), "k")
	if !errors.Is(err, errVersion) {
		t.Errorf("Get = %v, want a miss naming the unknown version", err)
	}
	wantMissing(t, b, "k")
	wantLen(t, b, 0)
	if _, err := b.DeleteExpired(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DeleteExpired removed another version's file")
	}
}

func FuzzDecodeFile(f *testing.F) {
	f.Add(encodeFile("key", []byte("value"), time.Time{}), "key")
	f.Add(encodeFile("k", nil, time.Unix(1e9, 5)), "k")
	f.Add([]byte("RCFS\x01"), "x")
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		name := fileName(key)
		h, k, v, err := decodeFile(name, data)
		h2, k2, err2 := readHeader(bytes.NewReader(data), name, int64(len(data)))
		if err != nil {
			return
		}
		// What decodes is what Set would have written, and its header
		// reads the same on its own.
		if got := encodeFile(k, v, h.expiresAt); !bytes.Equal(got, data) {
			t.Errorf("re-encoding differs")
		}
		if err2 != nil || k2 != k || h2 != h {
			t.Errorf("readHeader = %+v %q %v; decodeFile %+v %q", h2, k2, err2, h, k)
		}
	})
}
