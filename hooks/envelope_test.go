package hooks

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/restycache/restycache/cache"
)

// BenchmarkUnwrap measures what an envelope adds to a hit's read: opening
// a record with a 2 KiB body in each kind of envelope.
func BenchmarkUnwrap(b *testing.B) {
	e := &cache.Entry{StatusCode: 200, Status: "200 OK", Method: "GET", URL: "http://example.com/items",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: bytes.Repeat([]byte("x"), 2048)}
	const key = "ns:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name            string
		signing, sealed [][]byte
	}{
		{"plain", nil, nil},
		{"signed", [][]byte{bytes.Repeat([]byte{1}, 32)}, nil},
		{"sealed", nil, [][]byte{bytes.Repeat([]byte{1}, 32)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			env := newEnvelope(tc.signing, tc.sealed)
			rec := env.wrap(key, e)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := env.unwrap(key, rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestEnvelopeRejects(t *testing.T) {
	e := &cache.Entry{StatusCode: 200, Status: "200 OK", Body: []byte("body")}
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	envs := map[string]*envelope{
		"plain": newEnvelope(nil, nil), "signed": newEnvelope([][]byte{k1}, nil), "sealed": newEnvelope(nil, [][]byte{k1}),
		"signed2": newEnvelope([][]byte{k2}, nil), "sealed2": newEnvelope(nil, [][]byte{k2}),
	}
	for wname, w := range envs {
		rec := w.wrap("a", e)
		for rname, r := range envs {
			_, _, err := r.unwrap("a", rec)
			if (err == nil) != (wname == rname) {
				t.Errorf("written %s, read %s: err %v", wname, rname, err)
			}
			if _, _, err := r.unwrap("b", rec); err == nil {
				t.Errorf("written %s under a, read %s under b: accepted", wname, rname)
			}
		}
	}
}
