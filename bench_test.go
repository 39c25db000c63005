package restycache_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
	_ "github.com/mattn/go-sqlite3"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/backend/sqlite"
)

// benchBody is a 2 KiB JSON document.
var benchBody = func() []byte {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < 2048-40; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":1234,"name":"gopher"}`)
	}
	b.WriteString(`],"total":1}`)
	return []byte(b.String())
}()

func benchHeader() http.Header {
	return http.Header{
		"Content-Type":  {"application/json"},
		"Date":          {"Wed, 25 Nov 2026 10:00:00 GMT"},
		"Etag":          {`"abc123"`},
		"Cache-Control": {"max-age=3600"},
		"Vary":          {"Accept-Encoding"},
	}
}

// mapTransport is the floor: a trivial RoundTripper answering from a map,
// so that a benchmark through it measures what resty itself costs.
type mapTransport map[string][]byte

func (m mapTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body := m[r.URL.String()]
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: benchHeader(), Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: r,
	}, nil
}

// selectTransport is the SQLite floor: resty plus one prepared point SELECT
// of the same bytes from a SQLite file, and nothing else.
type selectTransport struct{ stmt *sql.Stmt }

func (t selectTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if err := t.stmt.QueryRowContext(r.Context(), r.URL.String()).Scan(&body); err != nil {
		return nil, err
	}
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: benchHeader(), Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: r,
	}, nil
}

func newSelectTransport(b *testing.B, url string) selectTransport {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(b.TempDir(), "floor.sqlite")+"?_journal_mode=WAL")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (key TEXT PRIMARY KEY, value BLOB NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO t VALUES (?, ?)`, url, benchBody); err != nil {
		b.Fatal(err)
	}
	stmt, err := db.Prepare(`SELECT value FROM t WHERE key = ?`)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stmt.Close() })
	return selectTransport{stmt: stmt}
}

func benchOrigin(b *testing.B) *origin {
	return newOrigin(b, func(w http.ResponseWriter, r *http.Request) {
		for k, v := range benchHeader() {
			w.Header()[k] = v
		}
		_, _ = w.Write(benchBody)
	})
}

// BenchmarkHit compares a cache hit through the full client with the floor
// of resty over an in-memory RoundTripper. See BENCHMARKS.md.
func BenchmarkHit(b *testing.B) {
	const floorURL = "http://127.0.0.1:1/items"
	floor := func(b *testing.B, rt http.RoundTripper) {
		c := resty.New().SetTransport(rt)
		b.ReportAllocs()
		for b.Loop() {
			resp, err := c.R().Get(floorURL)
			if err != nil || len(resp.Body()) != len(benchBody) {
				b.Fatal(err)
			}
		}
	}
	b.Run("floor=resty+map", func(b *testing.B) { floor(b, mapTransport{floorURL: benchBody}) })
	b.Run("floor=resty+sqlite-select", func(b *testing.B) { floor(b, newSelectTransport(b, floorURL)) })
	hit := func(b *testing.B, s backend.Storage, opts ...restycache.Option) {
		o := benchOrigin(b)
		c := restycache.New(append([]restycache.Option{restycache.WithBackend(s)}, opts...)...)
		defer c.Close()
		url := o.URL + "/items"
		if _, err := c.R().Get(url); err != nil {
			b.Fatal(err)
		}
		// Hits never reach the origin: stop it, so that its server does
		// not weigh on the measurement (and any request would fail).
		o.Close()
		b.ReportAllocs()
		for b.Loop() {
			resp, err := c.R().Get(url)
			if err != nil || !resp.FromCache() || len(resp.Body()) != len(benchBody) {
				b.Fatalf("not a hit: %v", err)
			}
		}
	}
	b.Run("memory", func(b *testing.B) { hit(b, memory.New()) })
	// A signed (HMAC-SHA256) and a sealed (AES-256-GCM) hit, beside the
	// plain memory hit: goals 1.1x and 1.2x of it.
	b.Run("memory+signed", func(b *testing.B) { hit(b, memory.New(), restycache.WithSigningKeys(bytes.Repeat([]byte{1}, 32))) })
	b.Run("memory+sealed", func(b *testing.B) { hit(b, memory.New(), restycache.WithEncryptionKeys(bytes.Repeat([]byte{1}, 32))) })
	b.Run("sqlite", func(b *testing.B) { hit(b, sqlite.New(filepath.Join(b.TempDir(), "bench"))) })
}

// BenchmarkCoalescing sends bursts of 200 concurrent requests for one cold
// URL to an origin that answers after 50ms. It reports the origin requests
// per burst (1 when every burst is coalesced) and the burst's time as a
// multiple of the origin's latency.
func BenchmarkCoalescing(b *testing.B) {
	const (
		callers = 200
		latency = 50 * time.Millisecond
	)
	for _, tc := range []struct {
		name    string
		storage func(b *testing.B) backend.Storage
	}{
		{"memory", func(*testing.B) backend.Storage { return memory.New() }},
		{"sqlite", func(b *testing.B) backend.Storage { return sqlite.New(filepath.Join(b.TempDir(), "coalesce")) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			o := newOrigin(b, func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(latency) // the origin's own latency
				_, _ = w.Write(benchBody)
			})
			c := restycache.New(restycache.WithBackend(tc.storage(b)))
			defer c.Close()
			var elapsed time.Duration
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				url := fmt.Sprintf("%s/burst/%d", o.URL, i)
				var wg sync.WaitGroup
				start := time.Now()
				for range callers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if resp, err := c.R().Get(url); err != nil || len(resp.Body()) != len(benchBody) {
							b.Errorf("burst %d: %v", i, err)
						}
					}()
				}
				wg.Wait()
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(o.count())/float64(b.N), "origin-requests/burst")
			b.ReportMetric(float64(elapsed)/float64(b.N)/float64(latency), "latency-ratio")
		})
	}
}
