package hooks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/cache"
)

// FuzzTransport drives the whole Transport with fuzzed response headers and
// status codes and a moving clock: a sequence of GET, HEAD, POST and
// conditional requests over a few URLs. Whatever the headers say, a request
// never fails (the upstream never does), never panics, and a GET is only
// ever answered with a body the origin sent for that same URL.
func FuzzTransport(f *testing.F) {
	f.Add(uint16(200), "max-age=60", "", "", `"e"`, "", "", []byte{0, 1, 2, 3, 4, 5})
	f.Add(uint16(200), "no-cache", "Thu, 01 Jan 1970 00:00:00 GMT", "10", "", "Accept", "Mon, 02 Jan 2006 15:04:05 GMT", []byte{0, 0, 9, 0, 16, 0})
	f.Add(uint16(304), "max-age=0, stale-while-revalidate=60", "", "7200, 0", `W/"x"`, "*", "", []byte{0, 7, 0, 7, 0})
	f.Add(uint16(503), "stale-if-error=60, max-age=1", "garbage", "-1", "", "", "", []byte{0, 20, 0, 30, 2, 0})
	f.Add(uint16(206), "public, s-maxage=5, must-revalidate", "", "", "", "Accept-Encoding, Cookie", "", []byte{8, 0, 1, 0, 3, 0})
	// A head larger than recordHeadRoom before a small body.
	f.Add(uint16(0), "max-age=60", "", "", `"`+strings.Repeat("e", 2*recordHeadRoom)+`"`, "", "", []byte{0, 0, 1})
	f.Fuzz(func(t *testing.T, status uint16, cc, expires, age, etag, vary, lastModified string, steps []byte) {
		if len(steps) > 64 {
			steps = steps[:64]
		}
		code := 200 + int(status)%400 // 200 to 599
		var mu sync.Mutex
		sent := map[string]int{} // the latest version sent for each path
		up := upstreamFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			sent[r.URL.Path]++
			v := sent[r.URL.Path]
			mu.Unlock()
			h := http.Header{}
			for name, value := range map[string]string{"Cache-Control": cc, "Expires": expires, "Age": age, "Etag": etag, "Vary": vary, "Last-Modified": lastModified} {
				if value != "" {
					h[name] = []string{value}
				}
			}
			body := fmt.Sprintf("v%d %s", v, r.URL.Path)
			resp := &http.Response{StatusCode: code, Status: fmt.Sprintf("%d fuzzed", code), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}
			if r.Header.Get("If-None-Match") != "" && code == http.StatusNotModified {
				resp.Body, resp.ContentLength = http.NoBody, 0
			}
			return resp, nil
		})
		now := time.Unix(1_700_000_000, 0)
		var clockMu sync.Mutex
		clock := func() time.Time {
			clockMu.Lock()
			defer clockMu.Unlock()
			return now
		}
		tr := NewTransport(Config{
			Store:    NewStore(memory.New(), StoreOptions{Logger: slog.New(slog.DiscardHandler)}),
			Keyer:    cache.NewKeyer(cache.KeyOptions{}),
			Policy:   &cache.Policy{CacheControl: true, AllowedCodes: []int{200, 203, 300, 301, 404, 410, 500, 503}},
			Upstream: up,
			Clock:    clock,
		})
		defer tr.Close()
		for i, b := range steps {
			path := fmt.Sprintf("/p%d", b%3)
			var req *http.Request
			switch b >> 5 {
			case 0, 1, 2:
				req, _ = http.NewRequest(http.MethodGet, "http://127.0.0.1:1"+path, nil)
			case 3:
				req, _ = http.NewRequest(http.MethodHead, "http://127.0.0.1:1"+path, nil)
			case 4:
				req, _ = http.NewRequest(http.MethodPost, "http://127.0.0.1:1"+path, strings.NewReader("x"))
			case 5:
				req, _ = http.NewRequest(http.MethodGet, "http://127.0.0.1:1"+path, nil)
				req.Header.Set("Cache-Control", []string{"no-cache", "max-age=0", "max-stale=600", "only-if-cached", "min-fresh=5"}[i%5])
			case 6:
				req, _ = http.NewRequest(http.MethodGet, "http://127.0.0.1:1"+path, nil)
				req.Header.Set("Accept", []string{"a", "b"}[i%2])
			default:
				clockMu.Lock()
				now = now.Add(time.Duration(b&31) * 7 * time.Second)
				clockMu.Unlock()
				continue
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("step %d (%s %s): %v", i, req.Method, path, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("step %d: reading the body: %v", i, err)
			}
			if req.Method != http.MethodGet || resp.StatusCode == http.StatusGatewayTimeout && len(body) > 0 && !strings.HasPrefix(string(body), "v") {
				continue // HEAD, POST, or an only-if-cached miss
			}
			var v int
			var got string
			if _, err := fmt.Sscanf(string(body), "v%d %s", &v, &got); err != nil || got != path {
				t.Fatalf("step %d: GET %s answered with %q", i, path, body)
			}
			mu.Lock()
			latest := sent[path]
			mu.Unlock()
			if v < 1 || v > latest {
				t.Fatalf("step %d: GET %s answered with version %d, the origin sent %d", i, path, v, latest)
			}
		}
	})
}

// FuzzStoreRecord stores entries with fuzzed header and body sizes, through
// a record read in place (NewRecord) or encoded whole (Save), plain, signed
// or sealed, on a backend that adopts the record and on one that copies it,
// and reads each back: the layout of a record around its body (alignedHead,
// alignedRecord, recordHeadRoom, recentMaxRecord) never loses a byte.
func FuzzStoreRecord(f *testing.F) {
	f.Add(uint16(10), uint32(100), byte(0))
	f.Add(uint16(recordHeadRoom), uint32(1), byte(1))
	f.Add(uint16(2*recordHeadRoom), uint32(alignMin), byte(6))
	f.Add(uint16(3), uint32(recentMaxRecord), byte(11))
	sign, seal := [][]byte{bytes.Repeat([]byte{7}, 32)}, [][]byte{bytes.Repeat([]byte{9}, 32)}
	quiet := slog.New(slog.DiscardHandler)
	var stores []*Store
	for _, opts := range []StoreOptions{{Logger: quiet}, {SigningKeys: sign, Logger: quiet}, {EncryptionKeys: seal, Logger: quiet}} {
		stores = append(stores, NewStore(memory.New(), opts), NewStore(plainStorage{memory.New()}, opts))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, headLen uint16, bodyLen uint32, how byte) {
		h, n := int(headLen)%(4*recordHeadRoom), int(bodyLen)%(recentMaxRecord+2*alignMin)
		s := stores[int(how>>1)%len(stores)]
		body := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		e := recentEntry("")
		e.Header.Set("X-Pad", strings.Repeat("p", h))
		if how&1 == 0 {
			e.Body = body
			if err := s.Save(ctx, "k", e, time.Time{}); err != nil {
				t.Fatal(err)
			}
		} else {
			rec := s.NewRecord("k", e, n)
			if rec == nil {
				if s.env.kind != envSealed {
					t.Fatal("NewRecord made no record for a plain or signed Store")
				}
				e.Body = body
			} else {
				if len(rec.Body()) != n {
					t.Fatalf("NewRecord's room is %d bytes, want %d", len(rec.Body()), n)
				}
				copy(rec.Body(), body)
				e.Body = rec.Body()
			}
			if err := s.SaveRecord(ctx, "k", e, rec, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, shareable := range []bool{true, false} {
			got, _, _, err := s.lookup(ctx, "k", shareable)
			if err != nil || got == nil {
				t.Fatalf("read back (shareable %v): %v, %v", shareable, got, err)
			}
			if !bytes.Equal(got.Body, body) || got.Header.Get("X-Pad") != e.Header.Get("X-Pad") || got.StatusCode != e.StatusCode {
				t.Fatalf("read back (shareable %v): body %d bytes, want %d; header %d bytes, want %d", shareable, len(got.Body), n, len(got.Header.Get("X-Pad")), h)
			}
		}
	})
}
