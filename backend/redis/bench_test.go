package redis_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-resty/resty/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/restycache/restycache"
	rcredis "github.com/restycache/restycache/backend/redis"
	"github.com/restycache/restycache/internal/testenv"
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

// floorTransport is the floor of a Redis hit: a RoundTripper that answers
// from a map of prepared bodies after one raw go-redis GET of the same
// bytes, so it costs resty plus one round trip to Redis and nothing else.
type floorTransport struct {
	c      *goredis.Client
	key    string
	bodies map[string][]byte
}

func (t floorTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	v, err := t.c.Get(r.Context(), t.key).Bytes()
	if err != nil {
		return nil, err
	}
	body := t.bodies[r.URL.String()]
	if !bytes.Equal(v, body) {
		return nil, io.ErrUnexpectedEOF
	}
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: benchHeader(), Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: r,
	}, nil
}

// BenchmarkHit compares a cache hit through the full restycache client on
// Redis with its floor: resty over floorTransport (one raw GET of the same
// 2 KiB). Both use one go-redis client with its default pool.
func BenchmarkHit(b *testing.B) {
	url := testenv.Require(b, "RESTYCACHE_REDIS_URL")
	b.Run("floor=resty+redis-get", func(b *testing.B) {
		raw := rawClient(b, url)
		key := prefix(b, "floor")
		if err := raw.Set(b.Context(), key, benchBody, 0).Err(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { raw.Del(context.Background(), key) })
		const floorURL = "http://127.0.0.1:1/items"
		c := resty.New().SetTransport(floorTransport{c: raw, key: key, bodies: map[string][]byte{floorURL: benchBody}})
		b.ReportAllocs()
		for b.Loop() {
			resp, err := c.R().Get(floorURL)
			if err != nil || len(resp.Body()) != len(benchBody) {
				b.Fatal(err)
			}
		}
	})
	b.Run("restycache", func(b *testing.B) {
		o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for k, v := range benchHeader() {
				w.Header()[k] = v
			}
			_, _ = w.Write(benchBody)
		}))
		p := prefix(b, "hit")
		s := rcredis.New(url, rcredis.Options{Prefix: p})
		b.Cleanup(func() {
			_ = s.Clear(context.Background(), "")
			_ = s.Close()
		})
		c := restycache.New(restycache.WithBackend(s))
		defer c.Close()
		if _, err := c.R().Get(o.URL + "/items"); err != nil {
			b.Fatal(err)
		}
		// Hits never reach the origin: stop it, so that any request fails.
		o.Close()
		b.ReportAllocs()
		for b.Loop() {
			resp, err := c.R().Get(o.URL + "/items")
			if err != nil || !resp.FromCache() || len(resp.Body()) != len(benchBody) {
				b.Fatalf("not a hit: %v", err)
			}
		}
	})
}
