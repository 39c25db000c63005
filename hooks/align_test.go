package hooks

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"
	"unsafe"

	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/cache"
)

func aligned(b []byte) bool { return uintptr(unsafe.Pointer(unsafe.SliceData(b)))%bodyAlign == 0 }

func TestStoredBodiesAreAligned(t *testing.T) {
	ctx := context.Background()
	for _, signing := range [][][]byte{nil, {bytes.Repeat([]byte{7}, 32)}} {
		for _, n := range []int{1, 100, 5000, 70000} {
			t.Run(fmt.Sprintf("signed=%v/body=%d", signing != nil, n), func(t *testing.T) {
				body := bytes.Repeat([]byte("0123456789"), n/10+1)[:n]
				s := NewStore(memory.New(), StoreOptions{SigningKeys: signing, Logger: slog.New(slog.DiscardHandler)})

				// A record read into its place (the miss path).
				e := recentEntry("")
				rec := s.NewRecord("read-in", e, n)
				if !aligned(rec.Body()) {
					t.Error("NewRecord's room for the body is not aligned")
				}
				copy(rec.Body(), body)
				e.Body = rec.Body()
				if err := s.SaveRecord(ctx, "read-in", e, rec, time.Time{}); err != nil {
					t.Fatal(err)
				}
				// A record encoded whole (Save).
				if err := s.Save(ctx, "whole", recentEntry(string(body)), time.Time{}); err != nil {
					t.Fatal(err)
				}
				for _, key := range []cache.Key{"read-in", "whole"} {
					got, _, shared, err := s.lookup(ctx, key, true)
					if err != nil || got == nil || !shared || !bytes.Equal(got.Body, body) {
						t.Fatalf("%s: %v, shared %v, err %v", key, got, shared, err)
					}
					if !aligned(got.Body) {
						t.Errorf("%s: the stored body, which memory hands out, is not aligned", key)
					}
				}
			})
		}
	}
}

func TestRememberedLargeRecordsAreAligned(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{100, alignMin, 70000, recentMaxRecord + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			body := bytes.Repeat([]byte("abcdefghij"), n/10+1)[:n]
			// plainStorage hides Adopter: memory copies what it is given,
			// to an allocation of its own, as a server backend's driver does.
			s := NewStore(plainStorage{memory.New()}, StoreOptions{Logger: slog.New(slog.DiscardHandler)})
			if err := s.Save(ctx, "k", recentEntry(string(body)), time.Time{}); err != nil {
				t.Fatal(err)
			}
			first, _, _, err := s.lookup(ctx, "k", true)
			if err != nil || first == nil || !bytes.Equal(first.Body, body) {
				t.Fatalf("first read: %v, %v", first, err)
			}
			remembered := n <= recentMaxRecord
			if remembered && n >= alignMin && !aligned(first.Body) {
				t.Error("a remembered large body is not aligned")
			}
			if again, _, _, _ := s.lookup(ctx, "k", true); (again == first) != remembered {
				t.Errorf("the next read of the same bytes shared the first one's entry: %v, want %v", again == first, remembered)
			}
		})
	}
}

func TestAlignedRecordMovesOnlyWhatIsRemembered(t *testing.T) {
	// 1 byte past a large allocation's start, which is aligned: not aligned.
	record := func(size int) ([]byte, *cache.Entry) {
		b := make([]byte, size)
		return b, &cache.Entry{Body: b[1 : 1+alignMin]}
	}
	b, e := record(2 * alignMin)
	if moved, me := alignedRecord(b, e); &moved[0] == &b[0] || !aligned(me.Body) || len(moved) != len(b) {
		t.Error("a record that will be remembered was not moved to align its body")
	}
	// Too large to remember: the next hit reads it anew, so it stays where
	// it was read rather than being copied for nothing.
	b, e = record(recentMaxRecord + 1)
	if kept, _ := alignedRecord(b, e); &kept[0] != &b[0] {
		t.Error("a record too large to remember was copied")
	}
	// A body below alignMin stays where it is.
	b = make([]byte, 2*alignMin)
	if kept, _ := alignedRecord(b, &cache.Entry{Body: b[1:100]}); &kept[0] != &b[0] {
		t.Error("a small body was moved")
	}
}

// TestHeadsLargerThanTheirRoom stores entries whose fields before the body
// outgrow recordHeadRoom, where the head's buffer is reallocated and cannot
// be aligned (found by FuzzTransport: a small body after a large head).
func TestHeadsLargerThanTheirRoom(t *testing.T) {
	ctx := context.Background()
	s := NewStore(memory.New(), StoreOptions{Logger: slog.New(slog.DiscardHandler)})
	for _, h := range []int{recordHeadRoom - 100, recordHeadRoom, recordHeadRoom + 100, 3 * recordHeadRoom} {
		for _, n := range []int{0, 1, 100, 5000} {
			t.Run(fmt.Sprintf("head=%d/body=%d", h, n), func(t *testing.T) {
				body := bytes.Repeat([]byte("x"), n)
				e := recentEntry("")
				e.Header.Set("X-Large", string(bytes.Repeat([]byte("h"), h)))
				rec := s.NewRecord("read-in", e, n)
				copy(rec.Body(), body)
				e.Body = rec.Body()
				if err := s.SaveRecord(ctx, "read-in", e, rec, time.Time{}); err != nil {
					t.Fatal(err)
				}
				whole := recentEntry(string(body))
				whole.Header = e.Header
				if err := s.Save(ctx, "whole", whole, time.Time{}); err != nil {
					t.Fatal(err)
				}
				for _, key := range []cache.Key{"read-in", "whole"} {
					got, _, _, err := s.lookup(ctx, key, true)
					if err != nil || got == nil || !bytes.Equal(got.Body, body) || got.Header.Get("X-Large") != e.Header.Get("X-Large") {
						t.Fatalf("%s: %v, err %v", key, got, err)
					}
				}
			})
		}
	}
}
