package hooks_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/cache"
	"github.com/restycache/restycache/hooks"
	"github.com/restycache/restycache/internal/faulty"
)

// testOrigin is a local server that counts the requests it answers and
// remembers the last request body it received.
type testOrigin struct {
	*httptest.Server
	hits atomic.Int64

	mu       sync.Mutex
	lastBody []byte
}

func (o *testOrigin) count() int64 { return o.hits.Load() }

func (o *testOrigin) body() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lastBody
}

// newTestOrigin starts a server on 127.0.0.1 that answers with h.
func newTestOrigin(t *testing.T, h http.HandlerFunc) *testOrigin {
	t.Helper()
	o := &testOrigin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		o.lastBody = b
		o.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

// textOrigin answers every request with 200 and a body naming its path.
func textOrigin(t *testing.T) *testOrigin {
	return newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Origin", "yes")
		_, _ = io.WriteString(w, "body of "+r.URL.Path)
	})
}

// etagOrigin sends ETag "v1" and answers 304 to a matching If-None-Match.
func etagOrigin(t *testing.T) *testOrigin {
	return newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = io.WriteString(w, "versioned body")
	})
}

type setup struct {
	policy     cache.Policy
	upstream   http.RoundTripper
	noCoalesce bool // Config.DisableCoalescing: the caller's read of the body is what stores it
}

// forEachMode runs f as a subtest in each of the two ways a miss reaches
// the caller: through a shared fetch that reads the whole answer first (the
// default), or streamed to the caller and stored as it reads (coalescing
// disabled).
func forEachMode(t *testing.T, f func(t *testing.T, s setup)) {
	t.Run("coalescing", func(t *testing.T) { f(t, setup{}) })
	t.Run("streaming", func(t *testing.T) { f(t, setup{noCoalesce: true}) })
}

// with returns s with policy p.
func (s setup) with(p cache.Policy) setup {
	s.policy = p
	return s
}

// newTransport builds a Transport the way restycache.Wrap does, over an
// in-memory backend, with the origin's client transport as upstream.
func newTransport(t *testing.T, o *testOrigin, s setup) (*hooks.Transport, *hooks.Store) {
	t.Helper()
	store := hooks.NewStore(memory.New(), hooks.StoreOptions{})
	t.Cleanup(func() { _ = store.Storage().Close() })
	policy := s.policy
	up := s.upstream
	if up == nil && o != nil {
		up = o.Client().Transport
	}
	tr := hooks.NewTransport(hooks.Config{
		Store:             store,
		Keyer:             cache.NewKeyer(cache.KeyOptions{}),
		Policy:            &policy,
		Upstream:          up,
		DisableCoalescing: s.noCoalesce,
	})
	t.Cleanup(func() { _ = tr.Close() })
	return tr, store
}

// roundTrip sends req through rt, reads the body to its end and closes it.
func roundTrip(t *testing.T, rt http.RoundTripper, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	if resp.Body == nil {
		t.Fatalf("%s %s: nil response body", req.Method, req.URL)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatalf("%s %s: close body: %v", req.Method, req.URL, err)
	}
	return resp, string(b)
}

func newRequest(t *testing.T, ctx context.Context, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// withState returns req carrying a new State with opts.
func withState(req *http.Request, opts hooks.Options) (*http.Request, *hooks.State) {
	st := &hooks.State{Options: opts}
	return req.WithContext(hooks.WithState(req.Context(), st)), st
}

// requestSnapshot is what RoundTrip must leave untouched in a caller's
// request.
type requestSnapshot struct {
	method        string
	url           url.URL
	urlString     string
	header        http.Header
	host          string
	contentLength int64
	body          io.ReadCloser
	getBodySet    bool
	ctx           context.Context
}

func snapshot(req *http.Request) requestSnapshot {
	return requestSnapshot{
		method:        req.Method,
		url:           *req.URL,
		urlString:     req.URL.String(),
		header:        req.Header.Clone(),
		host:          req.Host,
		contentLength: req.ContentLength,
		body:          req.Body,
		getBodySet:    req.GetBody != nil,
		ctx:           req.Context(),
	}
}

func (s requestSnapshot) check(t *testing.T, what string, req *http.Request) {
	t.Helper()
	now := snapshot(req)
	if now.method != s.method {
		t.Errorf("%s: Method changed from %q to %q", what, s.method, now.method)
	}
	if !reflect.DeepEqual(now.url, s.url) || now.urlString != s.urlString {
		t.Errorf("%s: URL changed from %s to %s", what, s.urlString, now.urlString)
	}
	if !reflect.DeepEqual(now.header, s.header) {
		t.Errorf("%s: Header changed from %v to %v", what, s.header, now.header)
	}
	if now.host != s.host {
		t.Errorf("%s: Host changed from %q to %q", what, s.host, now.host)
	}
	if now.contentLength != s.contentLength {
		t.Errorf("%s: ContentLength changed from %d to %d", what, s.contentLength, now.contentLength)
	}
	if now.body != s.body {
		t.Errorf("%s: Body replaced", what)
	}
	if now.getBodySet != s.getBodySet {
		t.Errorf("%s: GetBody set=%v, was %v", what, now.getBodySet, s.getBodySet)
	}
	if now.ctx != s.ctx {
		t.Errorf("%s: context replaced", what)
	}
}

func TestTransportDoesNotModifyRequest(t *testing.T) {
	forEachMode(t, testTransportDoesNotModifyRequest)
}

func testTransportDoesNotModifyRequest(t *testing.T, s setup) {
	o := etagOrigin(t)

	t.Run("miss and hit", func(t *testing.T) {
		tr, _ := newTransport(t, o, s)
		for _, what := range []string{"miss", "hit"} {
			req := newRequest(t, context.Background(), http.MethodGet, o.URL+"/fresh", nil)
			req.Header.Set("Accept", "text/plain")
			req, st := withState(req, hooks.Options{})
			before := snapshot(req)
			roundTrip(t, tr, req)
			before.check(t, what, req)
			if got := st.Result().Status.String(); got != what {
				t.Errorf("status = %s, want %s", got, what)
			}
		}
	})

	t.Run("revalidation", func(t *testing.T) {
		tr, _ := newTransport(t, o, s.with(cache.Policy{ExpireAfter: cache.Immediately()}))
		wantStatus := []hooks.Status{hooks.StatusMiss, hooks.StatusRevalidated, hooks.StatusRevalidated}
		before := o.count()
		for i, want := range wantStatus {
			req := newRequest(t, context.Background(), http.MethodGet, o.URL+"/etag", nil)
			req.Header.Set("Accept", "text/plain")
			req, st := withState(req, hooks.Options{})
			snap := snapshot(req)
			resp, body := roundTrip(t, tr, req)
			snap.check(t, want.String(), req)
			if req.Header.Get("If-None-Match") != "" {
				t.Errorf("request %d: If-None-Match leaked into the caller's header", i)
			}
			if got := st.Result().Status; got != want {
				t.Errorf("request %d: status = %v, want %v", i, got, want)
			}
			if resp.StatusCode != http.StatusOK || body != "versioned body" {
				t.Errorf("request %d: %d %q, want 200 %q", i, resp.StatusCode, body, "versioned body")
			}
			if resp.Request != req {
				t.Errorf("request %d: resp.Request is not the caller's request", i)
			}
		}
		if got := o.count() - before; got != int64(len(wantStatus)) {
			t.Errorf("origin hits = %d, want %d (every use revalidated)", got, len(wantStatus))
		}
	})

	t.Run("POST body without GetBody", func(t *testing.T) {
		tr, _ := newTransport(t, o, s.with(cache.Policy{AllowedMethods: []string{"POST"}}))
		for _, what := range []string{"miss", "hit"} {
			req := newRequest(t, context.Background(), http.MethodPost, o.URL+"/post", io.NopCloser(strings.NewReader("payload")))
			req, st := withState(req, hooks.Options{})
			snap := snapshot(req)
			roundTrip(t, tr, req)
			snap.check(t, what, req)
			if got := st.Result().Status.String(); got != what {
				t.Errorf("status = %s, want %s", got, what)
			}
		}
	})
}

func TestTransportResponseBodyAndError(t *testing.T) {
	forEachMode(t, testTransportResponseBodyAndError)
}

func testTransportResponseBodyAndError(t *testing.T, s setup) {
	o := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.WriteHeader(code)
		if code != http.StatusNotModified {
			_, _ = io.WriteString(w, "status "+strconv.Itoa(code))
		}
	})
	tr, _ := newTransport(t, o, s)
	for _, tc := range []struct {
		code   int
		header http.Header
		want   []hooks.Status // one per request
	}{
		{200, nil, []hooks.Status{hooks.StatusMiss, hooks.StatusHit}},
		{404, nil, []hooks.Status{hooks.StatusMiss, hooks.StatusMiss}},
		{500, nil, []hooks.Status{hooks.StatusMiss, hooks.StatusMiss}},
		{304, nil, []hooks.Status{hooks.StatusMiss, hooks.StatusMiss}},
		{304, http.Header{"If-None-Match": {`"x"`}}, []hooks.Status{hooks.StatusBypass, hooks.StatusBypass}},
	} {
		for i, want := range tc.want {
			req := newRequest(t, context.Background(), http.MethodGet, o.URL+"/"+strconv.Itoa(tc.code), nil)
			for k, v := range tc.header {
				req.Header[k] = v
			}
			req, st := withState(req, hooks.Options{})
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Errorf("%d #%d: error %v, want nil", tc.code, i, err)
				continue
			}
			if resp.Body == nil {
				t.Errorf("%d #%d: nil Body", tc.code, i)
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Errorf("%d #%d: status %d", tc.code, i, resp.StatusCode)
			}
			if got := st.Result().Status; got != want {
				t.Errorf("%d #%d (header %v): cache status %v, want %v", tc.code, i, tc.header, got, want)
			}
		}
	}

	// The synthetic 504 of an only-if-cached miss has a body too.
	req, st := withState(newRequest(t, context.Background(), http.MethodGet, o.URL+"/200?other", nil), hooks.Options{OnlyIfCached: true})
	before := o.count()
	resp, body := roundTrip(t, tr, req)
	if resp.StatusCode != http.StatusGatewayTimeout || body != hooks.ErrOnlyIfCached.Error() {
		t.Errorf("only-if-cached miss: %d %q", resp.StatusCode, body)
	}
	if st.Result().Status != hooks.StatusOnlyIfCachedMiss || o.count() != before {
		t.Errorf("only-if-cached miss: status %v, origin contacted %d times", st.Result().Status, o.count()-before)
	}
}

// closeBody is a request body that records its Close.
type closeBody struct {
	io.Reader
	once   sync.Once
	closed chan struct{}
}

func newCloseBody(s string) *closeBody {
	return &closeBody{Reader: strings.NewReader(s), closed: make(chan struct{})}
}

func (b *closeBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

// waitClosed waits for b's Close; net/http's transport may close a request
// body from its own goroutine after RoundTrip returned.
func (b *closeBody) waitClosed(t *testing.T, what string) {
	t.Helper()
	select {
	case <-b.closed:
	case <-time.After(5 * time.Second):
		t.Errorf("%s: request body never closed", what)
	}
}

func TestTransportClosesRequestBodies(t *testing.T) { forEachMode(t, testTransportClosesRequestBodies) }

func testTransportClosesRequestBodies(t *testing.T, s setup) {
	o := textOrigin(t)
	tr, _ := newTransport(t, o, s.with(cache.Policy{AllowedMethods: []string{"POST"}}))

	post := func(path string, opts hooks.Options, withGetBody bool) (*closeBody, *hooks.State) {
		b := newCloseBody("data")
		req := newRequest(t, context.Background(), http.MethodPost, o.URL+path, b)
		if withGetBody {
			req.ContentLength = 4
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("data")), nil }
		}
		req, st := withState(req, opts)
		roundTrip(t, tr, req)
		return b, st
	}

	for _, getBody := range []bool{false, true} {
		name := "without GetBody"
		if getBody {
			name = "with GetBody"
		}
		t.Run(name, func(t *testing.T) {
			path := "/" + strings.ReplaceAll(name, " ", "-")
			for _, tc := range []struct {
				what string
				path string
				opts hooks.Options
				want hooks.Status
			}{
				{"miss", path, hooks.Options{}, hooks.StatusMiss},
				{"hit", path, hooks.Options{}, hooks.StatusHit},
				{"bypass", path, hooks.Options{Bypass: true}, hooks.StatusBypass},
				{"only-if-cached miss", path + "/none", hooks.Options{OnlyIfCached: true}, hooks.StatusOnlyIfCachedMiss},
			} {
				b, st := post(tc.path, tc.opts, getBody)
				b.waitClosed(t, tc.what)
				if got := st.Result().Status; got != tc.want {
					t.Errorf("%s: status %v, want %v", tc.what, got, tc.want)
				}
			}
		})
	}

	t.Run("cancelled context", func(t *testing.T) {
		b := newCloseBody("data")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := newRequest(t, ctx, http.MethodPost, o.URL+"/cancelled", b)
		if _, err := tr.RoundTrip(req); !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
		b.waitClosed(t, "cancelled")
	})
}

func TestTransportCancelledContextFailsOnFreshEntry(t *testing.T) {
	forEachMode(t, testTransportCancelledContextFailsOnFreshEntry)
}

func testTransportCancelledContextFailsOnFreshEntry(t *testing.T, s setup) {
	o := textOrigin(t)
	tr, _ := newTransport(t, o, s)
	client := &http.Client{Transport: tr}

	resp, err := client.Get(o.URL + "/fresh")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	// The entry is fresh: a live context gets a hit.
	req, st := withState(newRequest(t, context.Background(), http.MethodGet, o.URL+"/fresh", nil), hooks.Options{})
	roundTrip(t, tr, req)
	if st.Result().Status != hooks.StatusHit {
		t.Fatalf("status %v, want a hit before the cancelled request", st.Result().Status)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := o.count()
	resp, err = client.Do(newRequest(t, ctx, http.MethodGet, o.URL+"/fresh", nil))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("cancelled context: got %d, want an error", resp.StatusCode)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if o.count() != before {
		t.Errorf("origin contacted by a cancelled request")
	}
}

func TestTransportWithoutState(t *testing.T) { forEachMode(t, testTransportWithoutState) }

func testTransportWithoutState(t *testing.T, s setup) {
	o := textOrigin(t)
	tr, store := newTransport(t, o, s)
	client := &http.Client{Transport: tr}

	var bodies []string
	for range 3 {
		resp, err := client.Get(o.URL + "/plain")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, string(b))
	}
	if got := o.count(); got != 1 {
		t.Errorf("origin hits = %d, want 1", got)
	}
	for i, b := range bodies {
		if b != "body of /plain" {
			t.Errorf("response %d body = %q", i, b)
		}
	}
	if s := store.Stats(); s.Writes != 1 || s.Hits != 2 {
		t.Errorf("stats = %+v, want 1 write and 2 hits", s)
	}

	// With a State, the Result tells what happened and under which key.
	keyer := cache.NewKeyer(cache.KeyOptions{})
	req, st := withState(newRequest(t, context.Background(), http.MethodGet, o.URL+"/plain", nil), hooks.Options{})
	roundTrip(t, tr, req)
	res := st.Result()
	if res.Status != hooks.StatusHit || res.Key != keyer.Key(req, nil) || res.StoredAt.IsZero() {
		t.Errorf("hit result = %+v, want a hit under %s", res, keyer.Key(req, nil))
	}
	req, st = withState(newRequest(t, context.Background(), http.MethodGet, o.URL+"/other", nil), hooks.Options{})
	roundTrip(t, tr, req)
	res = st.Result()
	if res.Status != hooks.StatusMiss || res.Key != keyer.Key(req, nil) {
		t.Errorf("miss result = %+v, want a miss under %s", res, keyer.Key(req, nil))
	}
	if (&hooks.State{}).Result().Status != hooks.StatusNone {
		t.Errorf("a State nothing recorded into must report StatusNone")
	}
}

func TestTransportHitHeadersAreIndependent(t *testing.T) {
	forEachMode(t, testTransportHitHeadersAreIndependent)
}

func testTransportHitHeadersAreIndependent(t *testing.T, s setup) {
	o := textOrigin(t)
	tr, _ := newTransport(t, o, s)
	get := func() *http.Response {
		resp, _ := roundTrip(t, tr, newRequest(t, context.Background(), http.MethodGet, o.URL+"/h", nil))
		return resp
	}

	miss := get()
	miss.Header.Set("X-Origin", "changed by the caller")
	miss.Header.Set("X-Added", "1")

	first := get()
	if got := first.Header.Get("X-Origin"); got != "yes" {
		t.Errorf("after mutating the miss: X-Origin = %q, want %q", got, "yes")
	}
	first.Header.Set("X-Origin", "changed")
	first.Header["Content-Type"][0] = "changed/in-place"
	first.Header.Add("X-Added", "1")
	first.Header.Del("X-Origin")

	second := get()
	if got := second.Header.Get("X-Origin"); got != "yes" {
		t.Errorf("X-Origin = %q, want %q", got, "yes")
	}
	if got := second.Header.Get("Content-Type"); got != "text/plain" {
		t.Errorf("Content-Type = %q, want %q", got, "text/plain")
	}
	if _, ok := second.Header["X-Added"]; ok {
		t.Errorf("a header added to one hit showed up on the next")
	}
	if o.count() != 1 {
		t.Errorf("origin hits = %d, want 1", o.count())
	}
}

func TestTransportMissHeaderMutatedBeforeEOF(t *testing.T) {
	forEachMode(t, testTransportMissHeaderMutatedBeforeEOF)
}

func testTransportMissHeaderMutatedBeforeEOF(t *testing.T, s setup) {
	o := textOrigin(t)
	tr, _ := newTransport(t, o, s)
	resp, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodGet, o.URL+"/m", nil))
	if err != nil {
		t.Fatal(err)
	}
	// The caller owns the response: changing its header before reading the
	// body must not change what is stored.
	resp.Header["X-Origin"][0] = "changed in place"
	resp.Header.Set("Content-Type", "changed/set")
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	hit, _ := roundTrip(t, tr, newRequest(t, context.Background(), http.MethodGet, o.URL+"/m", nil))
	if got := hit.Header.Get("X-Origin"); got != "yes" {
		t.Errorf("stored X-Origin = %q, want the origin's %q", got, "yes")
	}
	if got := hit.Header.Get("Content-Type"); got != "text/plain" {
		t.Errorf("stored Content-Type = %q, want the origin's %q", got, "text/plain")
	}
}

// TestTransportStoresOnlyCompleteBodies covers the streaming path
// (coalescing disabled), where the caller's reading is what stores a miss.
func TestTransportStoresOnlyCompleteBodies(t *testing.T) {
	big := strings.Repeat("0123456789", 1000)
	o := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, big)
	})
	tr, store := newTransport(t, o, setup{noCoalesce: true})
	url := o.URL + "/big"

	// Partly read, then closed: not stored.
	resp, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodGet, url, nil))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if w := store.Stats().Writes; w != 0 {
		t.Fatalf("partly read body: %d writes, want 0", w)
	}
	if n, err := store.Storage().Len(context.Background(), ""); err != nil || n != 0 {
		t.Fatalf("partly read body: Len = %d, %v; want 0", n, err)
	}

	// Read to EOF (and past it), then closed: stored exactly once.
	resp, err = tr.RoundTrip(newRequest(t, context.Background(), http.MethodGet, url, nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != big {
		t.Fatalf("read %d bytes, %v", len(b), err)
	}
	for range 2 {
		if n, err := resp.Body.Read(buf); n != 0 || err != io.EOF {
			t.Errorf("read past EOF = %d, %v", n, err)
		}
	}
	resp.Body.Close()
	if err := tr.Flush(context.Background()); err != nil { // the write runs after EOF
		t.Fatal(err)
	}
	if w := store.Stats().Writes; w != 1 {
		t.Errorf("body read to EOF: %d writes, want 1", w)
	}
	assertStoredHit(t, tr, store, o, url, big)
}

// TestTransportSharedFetchStoresOnce covers the default path, where a
// shared fetch reads the whole answer before handing it out: what the
// caller then reads does not decide, and the answer is stored once.
func TestTransportSharedFetchStoresOnce(t *testing.T) {
	big := strings.Repeat("0123456789", 1000)
	o := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, big)
	})
	tr, store := newTransport(t, o, setup{})
	url := o.URL + "/big"

	resp, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodGet, url, nil))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != big[:10] {
		t.Fatalf("read %q, %v", buf, err)
	}
	resp.Body.Close()
	if err := tr.Flush(context.Background()); err != nil { // the answer is out before its write
		t.Fatal(err)
	}
	if w := store.Stats().Writes; w != 1 {
		t.Fatalf("shared fetch: %d writes, want 1", w)
	}
	assertStoredHit(t, tr, store, o, url, big)
}

// assertStoredHit checks that url is now answered from the cache with body,
// and that serving it wrote nothing.
func assertStoredHit(t *testing.T, tr *hooks.Transport, store *hooks.Store, o *testOrigin, url, body string) {
	t.Helper()
	before, writes := o.count(), store.Stats().Writes
	for range 2 {
		req, st := withState(newRequest(t, context.Background(), http.MethodGet, url, nil), hooks.Options{})
		hit, got := roundTrip(t, tr, req)
		if st.Result().Status != hooks.StatusHit || got != body {
			t.Errorf("status %v, body %d bytes; want a hit with %d bytes", st.Result().Status, len(got), len(body))
		}
		if hit.ContentLength != int64(len(body)) {
			t.Errorf("hit ContentLength = %d, want %d", hit.ContentLength, len(body))
		}
	}
	if o.count() != before {
		t.Errorf("origin contacted %d times for stored responses", o.count()-before)
	}
	if w := store.Stats().Writes; w != writes {
		t.Errorf("hits wrote %d times", w-writes)
	}
}

func TestTransportPostBodyReachesOrigin(t *testing.T) {
	forEachMode(t, testTransportPostBodyReachesOrigin)
}

func testTransportPostBodyReachesOrigin(t *testing.T, s setup) {
	o := textOrigin(t)
	tr, _ := newTransport(t, o, s.with(cache.Policy{AllowedMethods: []string{"POST"}}))
	client := &http.Client{Transport: tr}
	payload := `{"query":"` + strings.Repeat("x", 4096) + `"}`

	for _, tc := range []struct {
		name string
		body func() io.Reader
	}{
		{"GetBody", func() io.Reader { return bytes.NewReader([]byte(payload)) }},
		{"no GetBody", func() io.Reader { return io.NopCloser(strings.NewReader(payload)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/" + strings.ReplaceAll(tc.name, " ", "-")
			before := o.count()
			for i := range 2 {
				req := newRequest(t, context.Background(), http.MethodPost, o.URL+path, tc.body())
				if (req.GetBody != nil) != (tc.name == "GetBody") {
					t.Fatalf("GetBody set = %v", req.GetBody != nil)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if i == 0 {
					if got := string(o.body()); got != payload {
						t.Errorf("origin received %d bytes, want the %d-byte payload", len(got), len(payload))
					}
				}
			}
			if got := o.count() - before; got != 1 {
				t.Errorf("origin hits = %d, want 1 (the second POST is a hit)", got)
			}
		})
	}
}

// countingRT counts the requests it forwards to next.
type countingRT struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestTransportSetUpstream(t *testing.T) {
	o := textOrigin(t)
	a := &countingRT{next: o.Client().Transport}
	b := &countingRT{next: o.Client().Transport}
	tr, _ := newTransport(t, o, setup{upstream: a})
	if tr.Upstream() != a {
		t.Fatalf("Upstream() is not the configured one")
	}
	roundTrip(t, tr, newRequest(t, context.Background(), http.MethodGet, o.URL+"/a", nil))

	tr.SetUpstream(b)
	if tr.Upstream() != b {
		t.Fatalf("Upstream() after SetUpstream is not the new one")
	}
	roundTrip(t, tr, newRequest(t, context.Background(), http.MethodGet, o.URL+"/b", nil))
	roundTrip(t, tr, newRequest(t, context.Background(), http.MethodGet, o.URL+"/a", nil)) // a hit: no upstream
	if a.n.Load() != 1 || b.n.Load() != 1 {
		t.Errorf("upstream calls: old %d, new %d; want 1 and 1", a.n.Load(), b.n.Load())
	}

	tr.SetUpstream(nil)
	if tr.Upstream() != http.DefaultTransport {
		t.Errorf("SetUpstream(nil): Upstream() = %T, want http.DefaultTransport", tr.Upstream())
	}
	def := hooks.NewTransport(hooks.Config{
		Store:  hooks.NewStore(memory.New(), hooks.StoreOptions{}),
		Keyer:  cache.NewKeyer(cache.KeyOptions{}),
		Policy: &cache.Policy{},
	})
	if def.Upstream() != http.DefaultTransport {
		t.Errorf("nil Config.Upstream: Upstream() = %T, want http.DefaultTransport", def.Upstream())
	}
}

// TestTransportCallerGivesUpDuringFetch cancels a request while the origin
// is still answering: the caller gets its context's error at once. With
// coalescing the shared fetch goes on, detached from that caller, so the
// next identical request is answered by it without a second origin
// request; streaming, the fetch dies with its caller.
func TestTransportCallerGivesUpDuringFetch(t *testing.T) {
	forEachMode(t, func(t *testing.T, s setup) {
		arrived := make(chan struct{}, 1)
		release := make(chan struct{})
		o := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case arrived <- struct{}{}:
			default:
			}
			<-release
			_, _ = io.WriteString(w, "slow answer")
		})
		t.Cleanup(func() {
			select {
			case <-release:
			default:
				close(release)
			}
		})
		tr, _ := newTransport(t, o, s)

		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		slow := newRequest(t, ctx, http.MethodGet, o.URL+"/slow", nil)
		go func() {
			resp, err := tr.RoundTrip(slow)
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		<-arrived
		cancel()
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled caller: error %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("cancelled caller still waiting")
		}
		close(release)

		req, st := withState(newRequest(t, context.Background(), http.MethodGet, o.URL+"/slow", nil), hooks.Options{})
		_, body := roundTrip(t, tr, req)
		if body != "slow answer" {
			t.Errorf("next request: body %q", body)
		}
		status := st.Result().Status
		if s.noCoalesce {
			if status != hooks.StatusMiss || o.count() != 2 {
				t.Errorf("streaming: next request %v with %d origin requests, want a miss and 2", status, o.count())
			}
		} else if (status != hooks.StatusHit && status != hooks.StatusCoalesced) || o.count() != 1 {
			t.Errorf("coalescing: next request %v with %d origin requests, want a hit or coalesced answer and 1", status, o.count())
		}
	})
}

// Flights landing together add their keys to one URL index, a
// read-modify-write: within a Store none of the additions is lost, even on
// a backend slow enough that every reader sees the index as it was.
func TestURLIndexKeepsConcurrentAdditions(t *testing.T) {
	fb := faulty.Wrap(memory.New())
	fb.Inject(faulty.Fault{Delay: 20 * time.Millisecond}, faulty.Get)
	store := hooks.NewStore(fb, hooks.StoreOptions{Timeout: 10 * time.Second})
	ctx := t.Context()
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := store.Index(ctx, "u-index", time.Time{}, cache.Key(fmt.Sprint("k", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	fb.Heal()
	e, err := store.Entry(ctx, "u-index")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Aliases) != n {
		t.Errorf("the index lists %d keys, want %d: %v", len(e.Aliases), n, e.Aliases)
	}
}
