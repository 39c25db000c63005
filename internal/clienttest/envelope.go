package clienttest

import (
	"bytes"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
)

// The keys the Envelope subtests sign and seal with: 32 bytes each.
func envKeyOld() []byte { return bytes.Repeat([]byte{0x11}, 32) }
func envKeyNew() []byte { return bytes.Repeat([]byte{0x22}, 32) }

// envMode is one way of storing entries: plain, signed or sealed.
type envMode struct {
	name string
	// with returns the options of a client of this mode using keys.
	with func(keys ...[]byte) restycache.Option
	// rejectedAs is the operation a record that is not authentic counts
	// under.
	rejectedAs restycache.BackendOp
}

func envModes() []envMode {
	return []envMode{
		{"plain", nil, restycache.OpDecode},
		{"signed", restycache.WithSigningKeys, restycache.OpVerify},
		{"sealed", restycache.WithEncryptionKeys, restycache.OpVerify},
	}
}

func (m envMode) opts(keys ...[]byte) []restycache.Option {
	if m.with == nil {
		return []restycache.Option{quietLogs()}
	}
	return []restycache.Option{m.with(keys...), quietLogs()}
}

// quietLogs keeps the rejections these tests provoke out of the test log.
func quietLogs() restycache.Option { return restycache.WithLogger(slog.New(slog.DiscardHandler)) }

// testEnvelope checks the envelope that every record is stored in, on this
// backend: a changed byte, a record moved under another key or namespace,
// one written with another key or none, and key rotation are all misses,
// never served, counted; sealed records show nothing of the response.
func testEnvelope(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"FlipOneByte", testEnvFlipOneByte},
		{"OtherKey", testEnvOtherKey},
		{"MovedToAnotherKey", testEnvMoved},
		{"RotateKeys", testEnvRotate},
		{"NothingReadableWhenSealed", testEnvSealedAtRest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// rawStore opens the store called name for reading and writing records
// behind the clients' backs. It is opened before any client of the store
// so that it is closed after them.
func rawStore(t *testing.T, open Opener, name string) backend.Storage {
	t.Helper()
	s := open(t, name)
	if s == nil {
		t.Fatalf("Opener(%q) returned nil", name)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawRecords returns every record of s by key: through its Scanner when it
// has one, else Keys and Get.
func rawRecords(t *testing.T, s backend.Storage) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	if sc, ok := s.(backend.Scanner); ok {
		for r, err := range sc.Scan(t.Context(), "") {
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			out[r.Key] = bytes.Clone(r.Value)
		}
		return out
	}
	for k, err := range s.Keys(t.Context(), "") {
		if err != nil {
			t.Fatalf("Keys: %v", err)
		}
		v, err := s.Get(t.Context(), k)
		if err != nil {
			t.Fatalf("Get(%q): %v", k, err)
		}
		out[k] = bytes.Clone(v)
	}
	return out
}

// rawGet returns a copy of the record stored under key.
func rawGet(t *testing.T, s backend.Storage, key string) []byte {
	t.Helper()
	v, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("raw Get(%q): %v", key, err)
	}
	return bytes.Clone(v)
}

func rawSet(t *testing.T, s backend.Storage, key string, v []byte) {
	t.Helper()
	if err := s.Set(t.Context(), key, v, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("raw Set(%q): %v", key, err)
	}
}

// mustMiss GETs url through c and fails unless the origin answered it with
// the body it sends for the path (never a stored record).
func mustMiss(t *testing.T, c *restycache.Client, o *origin, url, path, why string) {
	t.Helper()
	before := o.count()
	r := get(t, c, url)
	if r.FromCache() || o.count() != before+1 {
		t.Errorf("%s: status %v, origin asked %d times; want a miss answered by the origin", why, r.CacheStatus(), o.count()-before)
	}
	if got, want := r.String(), wantBody(path); got != want {
		t.Errorf("%s: body %q, want the origin's %q", why, got, want)
	}
}

// rejected returns how many records c refused as corrupt or not authentic.
func rejected(c *restycache.Client) uint64 { return c.Cache().Stats().Rejected }

func testEnvFlipOneByte(t *testing.T, open Opener) {
	for _, m := range envModes() {
		t.Run(m.name, func(t *testing.T) {
			name := "envflip" + m.name
			raw := rawStore(t, open, name)
			o := newOrigin(t, nil)
			c := newClient(t, open, name, m.opts(envKeyNew())...)
			url := o.URL + "/flip"
			key := get(t, c, url).CacheKey()
			waitStored(t, c, url)
			good := rawGet(t, raw, key)
			for _, at := range []int{0, 2, 4, len(good) / 2, len(good) - 1} {
				bad := bytes.Clone(good)
				bad[at] ^= 0x01
				rawSet(t, raw, key, bad)
				before, beforeOp := rejected(c), c.Cache().Stats().Failed[m.rejectedAs]
				mustMiss(t, c, o, url, "/flip", "byte "+strconv.Itoa(at)+" flipped")
				if rejected(c) != before+1 || c.Cache().Stats().Failed[m.rejectedAs] != beforeOp+1 {
					t.Errorf("byte %d flipped: Rejected %d -> %d, Failed[%v] %d -> %d; want each one more",
						at, before, rejected(c), m.rejectedAs, beforeOp, c.Cache().Stats().Failed[m.rejectedAs])
				}
				waitStored(t, c, url)
				if r := get(t, c, url); !r.FromCache() {
					t.Errorf("byte %d flipped: the origin's answer was not stored again (status %v)", at, r.CacheStatus())
				}
			}
		})
	}
}

func testEnvOtherKey(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name           string
		writer, reader []restycache.Option
	}{
		{"signed-by-another-key", envModes()[1].opts(envKeyOld()), envModes()[1].opts(envKeyNew())},
		{"sealed-by-another-key", envModes()[2].opts(envKeyOld()), envModes()[2].opts(envKeyNew())},
		{"unsigned-read-by-signer", envModes()[0].opts(), envModes()[1].opts(envKeyNew())},
		{"unsealed-read-by-sealer", envModes()[0].opts(), envModes()[2].opts(envKeyNew())},
		{"signed-read-by-sealer", envModes()[1].opts(envKeyNew()), envModes()[2].opts(envKeyNew())},
		{"sealed-read-by-signer", envModes()[2].opts(envKeyNew()), envModes()[1].opts(envKeyNew())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "envother" + strings.ReplaceAll(tc.name, "-", "")
			raw := rawStore(t, open, name)
			o := newOrigin(t, nil)
			writer := newClient(t, open, name, tc.writer...)
			reader := newClient(t, open, name, tc.reader...)
			url := o.URL + "/other"
			key := get(t, writer, url).CacheKey()
			waitStored(t, writer, url)
			written := rawGet(t, raw, key)
			if r := get(t, writer, url); !r.FromCache() {
				t.Fatalf("the writer does not read its own record (status %v)", r.CacheStatus())
			}
			mustMiss(t, reader, o, url, "/other", "read by the other client")
			// Two records refused: the response, and the URL index the
			// reader reads when it stores the origin's answer.
			if n := reader.Cache().Stats().Failed[restycache.OpVerify]; n != 2 {
				t.Errorf("reader's Failed[OpVerify] = %d, want 2 (the response and its URL index)", n)
			}
			// The reader deleted the record it refused and stored the
			// origin's answer in its own envelope.
			waitStored(t, reader, url)
			if r := get(t, reader, url); !r.FromCache() {
				t.Errorf("the reader did not store its own record (status %v)", r.CacheStatus())
			}
			if bytes.Equal(rawGet(t, raw, key), written) {
				t.Errorf("the refused record is still stored as the writer wrote it")
			}
		})
	}
}

func testEnvMoved(t *testing.T, open Opener) {
	for _, m := range envModes() {
		t.Run(m.name, func(t *testing.T) {
			name := "envmoved" + m.name
			raw := rawStore(t, open, name)
			o := newOrigin(t, nil)
			c := newClient(t, open, name, m.opts(envKeyNew())...)
			one, two := o.URL+"/one", o.URL+"/two"
			k1, k2 := get(t, c, one).CacheKey(), get(t, c, two).CacheKey()
			waitStored(t, c, one)
			waitStored(t, c, two)
			rawSet(t, raw, k2, rawGet(t, raw, k1)) // /one's record under /two's key
			mustMiss(t, c, o, two, "/two", "a record moved under another key")
			if n := c.Cache().Stats().Failed[m.rejectedAs]; n != 1 {
				t.Errorf("Failed[%v] = %d, want 1", m.rejectedAs, n)
			}
			if r := get(t, c, one); !r.FromCache() || r.String() != wantBody("/one") {
				t.Errorf("the original record: status %v body %q; want a hit", r.CacheStatus(), r.String())
			}

			// The same key in another namespace is another storage key.
			a := newClient(t, open, name, append(m.opts(envKeyNew()), restycache.WithNamespace("a"))...)
			b := newClient(t, open, name, append(m.opts(envKeyNew()), restycache.WithNamespace("b"))...)
			three := o.URL + "/three"
			ka := get(t, a, three).CacheKey()
			waitStored(t, a, three)
			get(t, b, three)
			waitStored(t, b, three)
			fromA := rawGet(t, raw, "a"+":"+ka)
			rawSet(t, raw, "b"+":"+ka, fromA)
			mustMiss(t, b, o, three, "/three", "a record copied from namespace a into namespace b")
			if n := b.Cache().Stats().Failed[m.rejectedAs]; n != 1 {
				t.Errorf("namespace b: Failed[%v] = %d, want 1", m.rejectedAs, n)
			}
		})
	}
}

func testEnvRotate(t *testing.T, open Opener) {
	for _, m := range envModes()[1:] {
		t.Run(m.name, func(t *testing.T) {
			name := "envrotate" + m.name
			raw := rawStore(t, open, name)
			o := newOrigin(t, nil)
			old := newClient(t, open, name, m.opts(envKeyOld())...)
			rotated := newClient(t, open, name, m.opts(envKeyNew(), envKeyOld())...)
			done := newClient(t, open, name, m.opts(envKeyNew())...)
			first, second := o.URL+"/before", o.URL+"/after"

			k1 := get(t, old, first).CacheKey()
			waitStored(t, old, first)
			if r := get(t, rotated, first); !r.FromCache() {
				t.Errorf("after rotation, an entry under the old key: status %v, want a hit", r.CacheStatus())
			}
			k2 := get(t, rotated, second).CacheKey()
			waitStored(t, rotated, second)
			if id := keyIDIn(rawGet(t, raw, k2)); !bytes.Equal(id, keyID(envKeyNew())) {
				t.Errorf("entry written after rotation names key id %x, want the new key's %x", id, keyID(envKeyNew()))
			}
			if id := keyIDIn(rawGet(t, raw, k1)); !bytes.Equal(id, keyID(envKeyOld())) {
				t.Errorf("entry written before rotation names key id %x, want the old key's %x", id, keyID(envKeyOld()))
			}
			if r := get(t, old, second); r.FromCache() {
				t.Errorf("a client with only the old key served an entry of the new key")
			}
			// old's miss stored /after again under the old key; rotated
			// reads it, and rewrites nothing.
			waitStored(t, old, second)
			if r := get(t, rotated, second); !r.FromCache() {
				t.Errorf("rotated client: status %v for an old-key entry, want a hit", r.CacheStatus())
			}
			// With the old key retired, its entries are misses.
			mustMiss(t, done, o, first, "/before", "an entry of a retired key")
			if n := done.Cache().Stats().Failed[restycache.OpVerify]; n != 2 {
				t.Errorf("Failed[OpVerify] = %d, want 2 (the response and its URL index)", n)
			}
		})
	}
}

// keyIDIn returns the key id in a signed or sealed envelope.
func keyIDIn(record []byte) []byte {
	if len(record) < 7 {
		return nil
	}
	return record[3:7]
}

func keyID(key []byte) []byte {
	sum := sha256.Sum256(key)
	return sum[:4]
}

func testEnvSealedAtRest(t *testing.T, open Opener) {
	const (
		body   = "a-body-only-the-origin-knows"
		header = "a-header-value-only-the-origin-knows"
		path   = "/a-path-only-the-client-knows"
	)
	for _, m := range envModes() {
		t.Run(m.name, func(t *testing.T) {
			name := "envrest" + m.name
			raw := rawStore(t, open, name)
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Origin-Secret", header)
				w.Header().Set("Cache-Control", "max-age=3600")
				w.Header().Set("Etag", `"v1"`)
				_, _ = w.Write([]byte(body))
			})
			c := newClient(t, open, name, append(m.opts(envKeyNew()), restycache.WithCacheControl(true))...)
			url := o.URL + path + "?q=query-only-the-client-knows"
			get(t, c, url)
			waitStored(t, c, url)
			if r := get(t, c, url); !r.FromCache() || r.String() != body || r.Header().Get("X-Origin-Secret") != header {
				t.Fatalf("hit: status %v body %q header %q", r.CacheStatus(), r.String(), r.Header().Get("X-Origin-Secret"))
			}
			records := rawRecords(t, raw)
			if len(records) == 0 {
				t.Fatal("no records stored")
			}
			found := map[string]bool{}
			for k, v := range records {
				for _, secret := range []string{body, header, path, "query-only-the-client-knows", "127.0.0.1"} {
					if bytes.Contains(v, []byte(secret)) || strings.Contains(k, secret) {
						found[secret] = true
					}
				}
			}
			if m.name == "sealed" && len(found) > 0 {
				t.Errorf("sealed records show %v at rest", found)
			}
			// Unsealed, the same search finds them: it would catch a leak.
			if m.name != "sealed" && (!found[body] || !found[header] || !found[path]) {
				t.Errorf("the search found only %v in %s records", found, m.name)
			}
		})
	}
}
