package restycache_test

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/memory"
)

func key32(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestKeyMisconfigurationPanicsNamingTheOption(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []restycache.Option
		want string
	}{
		{"no signing key", []restycache.Option{restycache.WithSigningKeys()}, "WithSigningKeys: no key given"},
		{"short signing key", []restycache.Option{restycache.WithSigningKeys(make([]byte, 31))}, "WithSigningKeys: signing key 0 is 31 bytes"},
		{"signing key twice", []restycache.Option{restycache.WithSigningKeys(key32(1), key32(1))}, "WithSigningKeys: signing key 1 has the key id"},
		{"no encryption key", []restycache.Option{restycache.WithEncryptionKeys()}, "WithEncryptionKeys: no key given"},
		{"16-byte encryption key", []restycache.Option{restycache.WithEncryptionKeys(make([]byte, 16))}, "WithEncryptionKeys: encryption key 0 is 16 bytes, want exactly 32"},
		{"33-byte encryption key", []restycache.Option{restycache.WithEncryptionKeys(make([]byte, 33))}, "want exactly 32"},
		{"both", []restycache.Option{restycache.WithSigningKeys(key32(1)), restycache.WithEncryptionKeys(key32(2))}, "WithSigningKeys and WithEncryptionKeys"},
		{"nil observer", []restycache.Option{restycache.WithObserver(nil)}, "WithObserver: nil Observer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Errorf("New panicked with %v, want a message containing %q", r, tc.want)
				}
			}()
			restycache.New(tc.opts...).Close()
		})
	}
}

// The caller's key slices are copied: changing them later changes nothing.
func TestKeysAreCopied(t *testing.T) {
	o := jsonOrigin(t)
	k := key32(5)
	mem := memory.New()
	c := restycache.New(restycache.WithBackend(mem), restycache.WithSigningKeys(k), quiet)
	defer c.Close()
	mustGet(t, c, o.URL+"/k")
	k[0] ^= 0xff
	if r := mustGet(t, c, o.URL+"/k"); !r.FromCache() {
		t.Errorf("after the caller changed its key slice: status %v, want a hit", r.CacheStatus())
	}
}

// Many tampered entries: each is a miss, never served, never an error, each
// deleted and counted, and the logger hears of them a few times only.
func TestTamperedEntriesAreCountedAndReportedAtALimitedRate(t *testing.T) {
	for _, mode := range []struct {
		name string
		opt  restycache.Option
	}{{"signed", restycache.WithSigningKeys(key32(1))}, {"sealed", restycache.WithEncryptionKeys(key32(1))}} {
		t.Run(mode.name, func(t *testing.T) {
			o := jsonOrigin(t)
			mem := memory.New()
			rec := &logRecorder{}
			c := restycache.New(restycache.WithBackend(mem), mode.opt, restycache.WithLogger(slog.New(rec)))
			defer c.Close()
			const n = 50
			for i := range n {
				url := fmt.Sprintf("%s/t%d", o.URL, i)
				key := mustGet(t, c, url).CacheKey()
				b, err := mem.Get(context.Background(), key)
				if err != nil {
					t.Fatal(err)
				}
				b = bytes.Clone(b)
				b[len(b)-1-i%8] ^= 0x80
				if err := mem.Set(context.Background(), key, b, time.Time{}); err != nil {
					t.Fatal(err)
				}
				r, err := c.R().Get(url)
				if err != nil || r.FromCache() || r.StatusCode() != 200 {
					t.Fatalf("tampered entry %d: err %v, status %v %d", i, err, r.CacheStatus(), r.StatusCode())
				}
			}
			st := c.Cache().Stats()
			if st.Failed[restycache.OpVerify] != n || st.Rejected != n {
				t.Errorf("Failed[OpVerify] = %d, Rejected = %d; want %d", st.Failed[restycache.OpVerify], st.Rejected, n)
			}
			if lines := rec.messages(); len(lines) == 0 || len(lines) > 3 {
				t.Errorf("%d tampered entries logged %d lines, want 1 to 3: %q", n, len(lines), lines)
			}
		})
	}
}

// A namespace is part of the storage key that a signature covers.
func TestSignatureCoversTheNamespace(t *testing.T) {
	o := jsonOrigin(t)
	mem := memory.New()
	k := restycache.WithSigningKeys(key32(9))
	a := restycache.New(restycache.WithBackend(mem), restycache.WithNamespace("a"), k, quiet)
	b := restycache.New(restycache.WithBackend(mem), restycache.WithNamespace("b"), k, quiet)
	defer a.Close()
	key := mustGet(t, a, o.URL+"/ns").CacheKey()
	rec, err := mem.Get(context.Background(), "a:"+key)
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.Set(context.Background(), "b:"+key, bytes.Clone(rec), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if r := mustGet(t, b, o.URL+"/ns"); r.FromCache() {
		t.Error("namespace b served a record copied from namespace a")
	}
	if n := b.Cache().Stats().Failed[restycache.OpVerify]; n != 1 {
		t.Errorf("Failed[OpVerify] = %d, want 1", n)
	}
}

// A signed or sealed hit allocates no more than a plain one (sealed: one
// more, the opened record) on a backend that hands out bytes to decode on
// every read; on the memory backend, which keeps the decoded entry beside
// its value (backend.Memoizer), exactly as many.
func TestSignedAndSealedHitAllocations(t *testing.T) {
	if testing.CoverMode() != "" || raceDetector {
		t.Skip("the race detector and coverage change allocation counts (sync.Pool drops items under -race)")
	}
	allocs := func(s backend.Storage, opts ...restycache.Option) float64 {
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(benchBody) })
		c := restycache.New(append(opts, restycache.WithBackend(s), quiet)...)
		defer c.Close()
		url := o.URL + "/alloc"
		mustGet(t, c, url)
		return testing.AllocsPerRun(200, func() {
			if r, err := c.R().Get(url); err != nil || !r.FromCache() {
				t.Fatalf("not a hit: %v", err)
			}
		})
	}
	for _, tc := range []struct {
		name        string
		storage     func() backend.Storage
		sealedExtra float64
	}{
		{"memory", func() backend.Storage { return memory.New() }, 0},
		// The memory backend with its optional abilities hidden: a
		// backend whose records are decoded on every read.
		{"decoded-per-read", func() backend.Storage { return struct{ backend.Storage }{memory.New()} }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain := allocs(tc.storage())
			signed := allocs(tc.storage(), restycache.WithSigningKeys(key32(1)))
			sealed := allocs(tc.storage(), restycache.WithEncryptionKeys(key32(1)))
			t.Logf("allocations per hit: plain %v, signed %v, sealed %v", plain, signed, sealed)
			if signed > plain {
				t.Errorf("a signed hit allocates %v times, a plain one %v", signed, plain)
			}
			if sealed > plain+tc.sealedExtra {
				t.Errorf("a sealed hit allocates %v times, a plain one %v: want at most %v more", sealed, plain, tc.sealedExtra)
			}
		})
	}
}

// benchBody is a 2 KiB body.
var benchBody = bytes.Repeat([]byte("0123456789abcdef"), 128)

// Seal entries with a key derived from a longer secret with HKDF-SHA256.
func ExampleWithEncryptionKeys() {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "a private answer")
	}))
	defer origin.Close()

	secret := []byte("a long secret from the environment or a secret manager")
	key, err := hkdf.Key(sha256.New, secret, nil, "restycache entries v1", 32)
	if err != nil {
		log.Fatal(err)
	}
	// Rotation: WithEncryptionKeys(newKey, key) seals with newKey and
	// still opens what key sealed.
	c := restycache.New(restycache.WithEncryptionKeys(key))
	defer c.Close()
	for range 2 {
		r, err := c.R().Get(origin.URL + "/private")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.String(), r.CacheStatus())
	}
	// Output:
	// a private answer miss
	// a private answer hit
}
