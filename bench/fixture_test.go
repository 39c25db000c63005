package bench_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/restycache/restycache/bench"
)

func TestBody(t *testing.T) {
	for _, n := range []int{64, 100, 2 << 10, 64 << 10, 1 << 20} {
		b := bench.Body(n)
		if len(b) != n || !json.Valid(b) {
			t.Errorf("Body(%d): %d bytes, valid JSON %v", n, len(b), json.Valid(b))
		}
		if string(bench.Body(n)) != string(b) {
			t.Errorf("Body(%d) is not deterministic", n)
		}
	}
}

func TestOriginRevalidates(t *testing.T) {
	o := bench.NewOrigin(0)
	defer o.Close()
	s, _ := bench.SizeNamed("64KiB")
	req, _ := http.NewRequest("GET", o.URL+"/reval/64KiB/x", nil)
	req.Header.Set("If-None-Match", bench.ETag(s))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 304 || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("got %d, Cache-Control %q; want 304, no-cache", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	resp, err = http.Get(o.URL + "/nope/64KiB/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown kind: got %d, want 404", resp.StatusCode)
	}
	if got := o.Count("/reval/64KiB/x"); got != (bench.Counts{NotModified: 1}) {
		t.Errorf("counts %+v, want one 304", got)
	}
	if o.Total() != 1 { // the 404 is not counted
		t.Errorf("total %d, want 1", o.Total())
	}
}

func TestTeeTransportKeepsTheBody(t *testing.T) {
	o := bench.NewOrigin(0)
	defer o.Close()
	var kept []byte
	c := &http.Client{Transport: &bench.TeeTransport{Kept: func(_ context.Context, b []byte) { kept = b }}}
	resp, err := c.Get(o.URL + "/miss/64KiB/tee")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(kept) != 64<<10 || string(kept) != string(body) || cap(kept) != 64<<10 {
		t.Errorf("kept %d bytes (cap %d), read %d", len(kept), cap(kept), len(body))
	}
}

func TestMapTransport(t *testing.T) {
	s, _ := bench.SizeNamed("2KiB")
	body := bench.Body(s.N)
	rt := bench.MapTransport(bench.Header(bench.KindHit, s), map[string][]byte{"/a": body})
	c := &http.Client{Transport: rt}
	resp, err := c.Get("http://127.0.0.1:1/a")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != string(body) || resp.Header.Get("Etag") != bench.ETag(s) {
		t.Errorf("got %d bytes, ETag %q", len(got), resp.Header.Get("Etag"))
	}
	resp.Header.Set("Etag", "changed")
	if rt.Header.Get("Etag") != bench.ETag(s) {
		t.Error("a response's header is the transport's own: not cloned")
	}
	if _, err := c.Get("http://127.0.0.1:1/b"); err == nil {
		t.Error("an unknown path did not fail")
	}
}
