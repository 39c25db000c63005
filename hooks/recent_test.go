package hooks

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/cache"
)

// plainStorage hides every optional interface of the backend it holds, as
// a server backend has none of memory's: its reads decode every time.
type plainStorage struct{ backend.Storage }

func recentEntry(body string) *cache.Entry {
	return &cache.Entry{StatusCode: 200, Status: "200 OK", Method: "GET", URL: "http://example.com/items",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

func TestRecentRecordsAreSharedUntilTheirBytesChange(t *testing.T) {
	ctx := context.Background()
	raw := memory.New()
	for _, tc := range []struct {
		name    string
		signing [][]byte
	}{{"plain", nil}, {"signed", [][]byte{bytes.Repeat([]byte{7}, 32)}}} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(plainStorage{raw}, StoreOptions{Namespace: tc.name, SigningKeys: tc.signing, Logger: slog.New(slog.DiscardHandler)})
			if err := s.Save(ctx, "k", recentEntry("one"), time.Time{}); err != nil {
				t.Fatal(err)
			}
			first, _, shared, err := s.lookup(ctx, "k", true)
			if err != nil || first == nil || !shared {
				t.Fatalf("first read: %v, shared %v, err %v", first, shared, err)
			}
			again, _, shared, _ := s.lookup(ctx, "k", true)
			if again != first || !shared {
				t.Fatalf("a read of the same bytes decoded them again (shared %v)", shared)
			}
			if own, _, _ := s.Lookup(ctx, "k"); own == first {
				t.Fatalf("Lookup, whose caller may modify the entry, got the shared one")
			}

			// Another writer replaces the record: the new bytes are decoded.
			if err := NewStore(plainStorage{raw}, StoreOptions{Namespace: tc.name, SigningKeys: tc.signing}).Save(ctx, "k", recentEntry("two"), time.Time{}); err != nil {
				t.Fatal(err)
			}
			if e, _, _, _ := s.lookup(ctx, "k", true); e == nil || string(e.Body) != "two" {
				t.Fatalf("after another writer's Set: %v, want body two", e)
			}

			// A changed byte is checked, not matched against what was remembered.
			full := s.full("k")
			b, err := raw.Get(ctx, full)
			if err != nil {
				t.Fatal(err)
			}
			bad := bytes.Clone(b)
			bad[len(bad)/2] ^= 1
			if err := raw.Set(ctx, full, bad, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if e, _, _, _ := s.lookup(ctx, "k", true); e != nil {
				t.Fatalf("a flipped byte was served: %q", e.Body)
			}
			if st := s.Stats(); st.Failed[OpDecode]+st.Failed[OpVerify] != 1 {
				t.Errorf("failures %v, want the flipped record counted once", st.Failed)
			}
		})
	}
}

func TestRecentForgetsDeletedAndClearedRecords(t *testing.T) {
	ctx := context.Background()
	s := NewStore(plainStorage{memory.New()}, StoreOptions{})
	for _, k := range []cache.Key{"a", "b"} {
		if err := s.Save(ctx, k, recentEntry(string(k)), time.Time{}); err != nil {
			t.Fatal(err)
		}
		if e, _, _, _ := s.lookup(ctx, k, true); e == nil {
			t.Fatalf("%s: miss", k)
		}
	}
	if err := s.Delete(ctx, true, "a"); err != nil {
		t.Fatal(err)
	}
	if s.recent.get(s.full("a"), nil) != nil || len(s.recent.m) != 1 {
		t.Errorf("after Delete: %d remembered, want only b", len(s.recent.m))
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.recent.m) != 0 || s.recent.bytes != 0 {
		t.Errorf("after Clear: %d records, %d bytes remembered", len(s.recent.m), s.recent.bytes)
	}
}

func TestRecentIsBounded(t *testing.T) {
	var r recent
	e := recentEntry("x")
	for i := range recentEntries + 10 {
		r.put(fmt.Sprint(i), make([]byte, 100), e)
		if len(r.m) > recentEntries {
			t.Fatalf("%d records remembered, bound %d", len(r.m), recentEntries)
		}
	}
	big := make([]byte, recentMaxRecord+1)
	r.put("big", big, e)
	if r.get("big", big) != nil {
		t.Errorf("a record above %d bytes was remembered", recentMaxRecord)
	}
	r = recent{}
	for i := range 2 * recentBytes / recentMaxRecord {
		before := r.bytes
		r.put(fmt.Sprint(i), make([]byte, recentMaxRecord), e)
		if r.bytes > recentBytes {
			t.Fatalf("%d bytes remembered, bound %d", r.bytes, recentBytes)
		}
		if r.bytes < before {
			return // it started again rather than pass the bound
		}
	}
	t.Fatalf("never started again: %d bytes", r.bytes)
}
