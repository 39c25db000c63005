package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Size is one body size of the suite.
type Size struct {
	// Name is the size as benchmark names spell it: "2KiB", "64KiB", "1MiB".
	Name string
	// N is the size in bytes.
	N int
}

// Sizes returns the body sizes of the suite, smallest first: 2 KiB, 64 KiB
// and 1 MiB.
func Sizes() []Size {
	return []Size{{"2KiB", 2 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}
}

// SizeNamed returns the Size whose Name is name, and whether there is one.
func SizeNamed(name string) (Size, bool) {
	for _, s := range Sizes() {
		if s.Name == name {
			return s, true
		}
	}
	return Size{}, false
}

// Body returns a JSON document of exactly n bytes (n at least 64): an array
// of small objects, padded to length with a string field. The same n always
// gives the same bytes.
func Body(n int) []byte {
	const tail = `],"pad":""}`
	b := make([]byte, 0, n)
	b = append(b, `{"items":[`...)
	for i := 0; ; i++ {
		// ,{"id":NNNNNNN,"name":"gopher","tags":["a","b"]}
		const itemLen = len(`,{"id":1000000,"name":"gopher","tags":["a","b"]}`)
		if len(b)+itemLen+len(tail) > n {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, int64(1000000+i), 10)
		b = append(b, `,"name":"gopher","tags":["a","b"]}`...)
	}
	b = append(b, `],"pad":"`...)
	for len(b) < n-2 {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

// ETag returns the entity tag the origin sends for a body of size s.
func ETag(s Size) string { return `"` + s.Name + `-v1"` }

// Header returns the response header the origin sends for a body of size s
// on a path of kind (see Origin): the header a floor transport answers
// with. Its Date is fixed.
func Header(kind string, s Size) http.Header {
	cc := "max-age=3600"
	if kind == KindRevalidate {
		cc = "no-cache"
	}
	return http.Header{
		"Content-Type":   {"application/json"},
		"Cache-Control":  {cc},
		"Etag":           {ETag(s)},
		"Date":           {"Tue, 01 Dec 2026 10:00:00 GMT"},
		"Content-Length": {strconv.Itoa(s.N)},
	}
}

// The kinds of path the Origin serves: /KIND/SIZE/anything.
const (
	// KindHit paths answer with Cache-Control: max-age=3600 and an ETag.
	KindHit = "hit"
	// KindMiss paths answer as KindHit paths do; a benchmark asks each
	// one once.
	KindMiss = "miss"
	// KindRevalidate paths answer with Cache-Control: no-cache and an
	// ETag, so that every use of a stored response revalidates it; a
	// matching If-None-Match gets 304 Not Modified.
	KindRevalidate = "reval"
	// KindSlow paths answer as KindHit paths do after the Origin's
	// latency.
	KindSlow = "slow"
)

// Counts is what an Origin answered on one path.
type Counts struct {
	// OK counts 200 answers, NotModified 304 answers.
	OK, NotModified int64
}

// Origin is a local HTTP server on 127.0.0.1 that serves the suite's JSON
// bodies and counts its answers per path. Paths are /KIND/SIZE/anything,
// with KIND one of the Kind constants and SIZE a Size's Name; any other
// path is 404. Every answer carries Content-Type, Cache-Control, ETag,
// Date and Content-Length, and a request whose If-None-Match matches the
// ETag gets 304 Not Modified.
type Origin struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string

	srv     *httptest.Server
	latency time.Duration
	bodies  map[string][]byte

	mu     sync.Mutex
	counts map[string]Counts
	total  int64
}

// NewOrigin starts an Origin. KindSlow paths answer after latency (zero:
// at once). Close stops it.
func NewOrigin(latency time.Duration) *Origin {
	o := &Origin{latency: latency, bodies: map[string][]byte{}, counts: map[string]Counts{}}
	for _, s := range Sizes() {
		o.bodies[s.Name] = Body(s.N)
	}
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	o.URL = o.srv.URL
	return o
}

func (o *Origin) serve(w http.ResponseWriter, r *http.Request) {
	kind, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	name, _, _ := strings.Cut(rest, "/")
	size, ok := SizeNamed(name)
	switch kind {
	case KindHit, KindMiss, KindRevalidate, KindSlow:
	default:
		ok = false
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	if kind == KindSlow && o.latency > 0 {
		time.Sleep(o.latency) // the origin's own latency
	}
	h := w.Header()
	for k, v := range Header(kind, size) {
		if k != "Date" { // net/http sets the real one
			h[k] = v
		}
	}
	notModified := r.Header.Get("If-None-Match") == ETag(size)
	o.mu.Lock()
	c := o.counts[r.URL.Path]
	if notModified {
		c.NotModified++
	} else {
		c.OK++
	}
	o.counts[r.URL.Path] = c
	o.total++
	o.mu.Unlock()
	if notModified {
		delete(h, "Content-Length")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(o.bodies[size.Name])
}

// Count returns what the Origin answered on path (the URL's path, without
// the query).
func (o *Origin) Count(path string) Counts {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[path]
}

// Total returns how many requests the Origin answered on its paths (a 404
// for any other path is not counted).
func (o *Origin) Total() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.total
}

// Close stops the Origin, waiting for the requests in progress.
func (o *Origin) Close() { o.srv.Close() }

// FloorTransport is the floor of a cache hit: an http.RoundTripper that
// answers every request with 200, Header (cloned per response, as a real
// transport makes a new header per response) and the body that Get returns,
// and nothing else. Over a map it is what the client itself costs; over a
// raw store read it is what a hit on that store can cost at least.
type FloorTransport struct {
	// Header is the header of every response.
	Header http.Header
	// Get returns the body for the request.
	Get func(r *http.Request) ([]byte, error)
}

// RoundTrip implements http.RoundTripper.
func (t *FloorTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := t.Get(r)
	if err != nil {
		return nil, err
	}
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: t.Header.Clone(), Body: newReader(body),
		ContentLength: int64(len(body)), Request: r,
	}, nil
}

// MapTransport returns a FloorTransport that answers from bodies, by the
// request URL's path, and fails for a path it does not have.
func MapTransport(header http.Header, bodies map[string][]byte) *FloorTransport {
	return &FloorTransport{Header: header, Get: func(r *http.Request) ([]byte, error) {
		b, ok := bodies[r.URL.Path]
		if !ok {
			return nil, fmt.Errorf("bench: no body for %s", r.URL.Path)
		}
		return b, nil
	}}
}

// reader is a response body over bytes: one allocation.
type reader struct{ bytes.Reader }

func newReader(b []byte) *reader {
	r := new(reader)
	r.Reset(b)
	return r
}

func (*reader) Close() error { return nil }

// TeeTransport is the floor of a miss that stores what it fetched: it sends
// each request through Upstream and copies the response body, while the
// caller reads it, into one buffer sized from Content-Length, as a cache
// that keeps the body must do at least once. Kept is called with each
// complete copy when the body is closed.
type TeeTransport struct {
	// Upstream sends the requests; nil means http.DefaultTransport.
	Upstream http.RoundTripper
	// Kept, if not nil, receives each complete copy.
	Kept func(ctx context.Context, body []byte)
}

// RoundTrip implements http.RoundTripper.
func (t *TeeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	up := t.Upstream
	if up == nil {
		up = http.DefaultTransport
	}
	resp, err := up.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	n := resp.ContentLength
	if n < 0 {
		n = 0
	}
	resp.Body = &tee{rc: resp.Body, buf: make([]byte, 0, n), ctx: r.Context(), kept: t.Kept}
	return resp, nil
}

type tee struct {
	rc   io.ReadCloser
	buf  []byte
	ctx  context.Context
	kept func(context.Context, []byte)
	eof  bool
}

func (t *tee) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	t.buf = append(t.buf, p[:n]...)
	if err == io.EOF {
		t.eof = true
	}
	return n, err
}

func (t *tee) Close() error {
	err := t.rc.Close()
	if t.eof && t.kept != nil {
		t.kept(t.ctx, t.buf)
	}
	return err
}
