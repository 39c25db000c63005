// Package clienttest is restycache's end-to-end suite for a storage
// backend: it builds restycache clients over the backend and checks, against
// local test origins, what a user of the client sees (hits, misses, expiry,
// revalidation, request coalescing, the management API, namespaces, sharing
// between clients, large bodies). Where backendtest checks the Storage
// contract, clienttest checks that the whole client works on top of it.
//
// A backend's test file calls Run with an Opener:
//
//	func TestClient(t *testing.T) {
//		dir := t.TempDir()
//		clienttest.Run(t, func(t *testing.T, name string) backend.Storage {
//			return mybackend.New(filepath.Join(dir, name))
//		})
//	}
//
// The package is meant for tests only; it imports nothing but the standard
// library, resty and restycache's own packages.
package clienttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
)

// Opener returns a backend over the store called name. Called with a name
// not used before in this test, it returns an empty store. Called again with
// the same name, it returns a second instance over the same store (as a
// second process sharing a SQLite file or a Redis database would), or, for a
// backend whose store lives in its own memory, the same instance. The
// clients the suite builds own what it opens and close it (Close must be
// idempotent, so closing a shared instance twice is fine).
//
// Run calls the Opener from parallel subtests, so it must be safe for
// concurrent use; it may call t.Fatal when it cannot open the store. The
// names Run uses are plain lowercase words, distinct within one Run call, and
// usable as file names or key prefixes.
type Opener func(t *testing.T, name string) backend.Storage

// Callers is how many goroutines the Coalescing subtest sends at one cold
// URL at once.
const Callers = 50

// LargeBodySize is the size in bytes of the incompressible body the
// LargeBody subtest stores and reads back (1 MiB).
const LargeBodySize = 1 << 20

// StoreWait bounds how long a subtest waits for a response to be stored
// before it asks for it again, in case the client writes in the background.
const StoreWait = 10 * time.Second

// Run runs the end-to-end suite against the backend that open returns. Each
// subtest uses stores of its own and runs in parallel with the others.
func Run(t *testing.T, open Opener) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Hit", testHit},
		{"Miss", testMiss},
		{"Expiry", testExpiry},
		{"Revalidation304", testRevalidation304},
		{"Coalescing", testCoalescing},
		{"Management", testManagement},
		{"Namespaces", testNamespaces},
		{"TwoClientsShareEntries", testTwoClientsShareEntries},
		{"LargeBody", testLargeBody},
		{"Envelope", testEnvelope},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// origin is a local test server on 127.0.0.1 that counts the requests it
// answers and, unless its handler says otherwise, names the request's URL
// in the body.
type origin struct {
	*httptest.Server
	hits atomic.Int64

	mu     sync.Mutex
	byPath map[string]int
}

// newOrigin starts an origin whose handler is h (nil: bodyFor the request's
// URL, 200). The server is closed when the test ends.
func newOrigin(t *testing.T, h http.HandlerFunc) *origin {
	t.Helper()
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, bodyFor(r))
		}
	}
	o := &origin{byPath: map[string]int{}}
	// httptest listens on a free port of 127.0.0.1.
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		o.byPath[r.URL.Path]++
		o.mu.Unlock()
		// No Date header: tests move the client's clock, and a real Date
		// would skew the ages the cache computes.
		w.Header()["Date"] = nil
		h(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

// bodyFor is the default body of an origin: it names the request's URL.
func bodyFor(r *http.Request) string {
	return "origin answer for " + r.Method + " " + r.URL.RequestURI()
}

// wantBody is the body the default origin sends for a GET of path.
func wantBody(path string) string { return "origin answer for GET " + path }

func (o *origin) count() int64 { return o.hits.Load() }

func (o *origin) countOf(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.byPath[path]
}

// clock is a settable clock for restycache.WithClock, safe for concurrent
// use. It starts at the wall clock's now, so the expiry times the client
// hands the backend are in the future for the backend too.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newClient returns a client over the store called name, closed (with its
// backend) when the test ends.
func newClient(t *testing.T, open Opener, name string, opts ...restycache.Option) *restycache.Client {
	t.Helper()
	s := open(t, name)
	if s == nil {
		t.Fatalf("Opener(%q) returned nil", name)
	}
	// A server on a loaded CI machine may take longer than the default
	// 500ms bound; these tests are about what the cache does, not about
	// that bound (the fault tests of each backend are).
	c := restycache.New(append([]restycache.Option{restycache.WithBackend(s), restycache.WithBackendTimeout(StoreWait)}, opts...)...)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close of the client over %q: %v", name, err)
		}
	})
	return c
}

// get sends a GET through c and fails the test on a transport error or a
// status other than 200.
func get(t *testing.T, c *restycache.Client, url string) *restycache.Response {
	t.Helper()
	r, err := c.R().Get(url)
	if ferr := c.Cache().Flush(t.Context()); ferr != nil {
		t.Fatalf("Flush: %v", ferr)
	}
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if r.StatusCode() != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200 (body %q)", url, r.StatusCode(), short(r.Body()))
	}
	return r
}

// waitStored waits until c's cache holds a response to a GET of url, in
// case the client stores responses in the background, and fails the test
// after StoreWait.
func waitStored(t *testing.T, c *restycache.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(StoreWait)
	for {
		ok, err := c.Cache().ContainsURL(t.Context(), http.MethodGet, url)
		if err != nil {
			t.Fatalf("ContainsURL(%s): %v", url, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the response to GET %s was not stored within %v", url, StoreWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// collect gathers what seq yields, failing the test on an error.
func collect(t *testing.T, what string, seq func(yield func(string, error) bool)) []string {
	t.Helper()
	var out []string
	for s, err := range seq {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func mustLen(t *testing.T, c *restycache.Client, want int) {
	t.Helper()
	n, err := c.Cache().Len(t.Context())
	if err != nil {
		t.Fatalf("Len: %v", err)
	}
	if n != want {
		t.Errorf("Len = %d, want %d", n, want)
	}
}

func contains(t *testing.T, c *restycache.Client, url string) bool {
	t.Helper()
	ok, err := c.Cache().ContainsURL(t.Context(), http.MethodGet, url)
	if err != nil {
		t.Fatalf("ContainsURL(%s): %v", url, err)
	}
	return ok
}

// short formats b for a failure message without flooding it.
func short(b []byte) string {
	if len(b) <= 64 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q... (%d bytes)", b[:64], len(b))
}

func randomBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0] = byte(seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

func testHit(t *testing.T, open Opener) {
	o := newOrigin(t, nil)
	c := newClient(t, open, "hit")
	url := o.URL + "/hit?q=1"

	first := get(t, c, url)
	if first.FromCache() || first.CacheStatus() != restycache.CacheMiss {
		t.Errorf("first GET: status %v, FromCache %v; want a miss", first.CacheStatus(), first.FromCache())
	}
	if got, want := first.String(), wantBody("/hit?q=1"); got != want {
		t.Fatalf("first GET body %q, want %q", got, want)
	}
	waitStored(t, c, url)
	second := get(t, c, url)
	if !second.FromCache() || second.CacheStatus() != restycache.CacheHit {
		t.Errorf("second GET: status %v, FromCache %v; want a hit", second.CacheStatus(), second.FromCache())
	}
	if !bytes.Equal(second.Body(), first.Body()) {
		t.Errorf("hit body %s, want %s", short(second.Body()), short(first.Body()))
	}
	if second.CacheKey() == "" || second.CacheKey() != first.CacheKey() {
		t.Errorf("cache keys %q and %q, want equal and not empty", first.CacheKey(), second.CacheKey())
	}
	if ct := second.Header().Get("Content-Type"); ct != "text/plain" {
		t.Errorf("hit Content-Type %q, want the stored text/plain", ct)
	}
	if n := o.count(); n != 1 {
		t.Errorf("origin hit %d times, want 1", n)
	}
}

func testMiss(t *testing.T, open Opener) {
	o := newOrigin(t, nil)
	c := newClient(t, open, "miss")
	paths := []string{"/one", "/two", "/two?x=1", "/three"}
	for _, p := range paths {
		r := get(t, c, o.URL+p)
		if r.FromCache() || r.CacheStatus() != restycache.CacheMiss {
			t.Errorf("GET %s: status %v, FromCache %v; want a miss", p, r.CacheStatus(), r.FromCache())
		}
		if r.String() != wantBody(p) {
			t.Errorf("GET %s: body %q, want %q (another URL's answer?)", p, r.String(), wantBody(p))
		}
	}
	if n := o.count(); n != int64(len(paths)) {
		t.Errorf("origin hit %d times, want %d (one per distinct URL)", n, len(paths))
	}
	for _, p := range paths {
		waitStored(t, c, o.URL+p)
	}
	mustLen(t, c, len(paths))
	// A bypassing request is neither read from nor written to the cache.
	r, err := c.R().SetCacheBypass(true).Get(o.URL + "/one")
	if err != nil {
		t.Fatal(err)
	}
	if r.FromCache() || r.CacheStatus() != restycache.CacheBypass || o.countOf("/one") != 2 {
		t.Errorf("bypassing GET: status %v, origin asked %d times for /one; want bypass, 2", r.CacheStatus(), o.countOf("/one"))
	}
}

func testExpiry(t *testing.T, open Opener) {
	o := newOrigin(t, nil)
	clk := newClock()
	c := newClient(t, open, "expiry", restycache.WithClock(clk.Now), restycache.WithExpireAfter(time.Minute))
	url := o.URL + "/expiring"

	first := get(t, c, url)
	if first.FromCache() {
		t.Fatalf("first GET served from cache")
	}
	if want := clk.Now().Add(time.Minute); !first.ExpiresAt().Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v (the clock's now plus the TTL)", first.ExpiresAt(), want)
	}
	waitStored(t, c, url)
	clk.Advance(59 * time.Second)
	if r := get(t, c, url); !r.FromCache() || r.IsExpired() {
		t.Errorf("before the TTL: status %v, IsExpired %v; want a fresh hit", r.CacheStatus(), r.IsExpired())
	}
	if n := o.count(); n != 1 {
		t.Fatalf("origin hit %d times before the TTL passed, want 1", n)
	}
	clk.Advance(2 * time.Second)
	r := get(t, c, url)
	if r.FromCache() {
		t.Errorf("after the TTL: status %v, want the origin asked again", r.CacheStatus())
	}
	if n := o.count(); n != 2 {
		t.Errorf("origin hit %d times after the TTL passed, want 2", n)
	}
	if r.String() != wantBody("/expiring") {
		t.Errorf("body after expiry %q", r.String())
	}
	// The new answer is stored with a new lifetime.
	waitStored(t, c, url)
	clk.Advance(30 * time.Second)
	if r := get(t, c, url); !r.FromCache() {
		t.Errorf("the refetched answer was not stored: status %v", r.CacheStatus())
	}
	if n := o.count(); n != 2 {
		t.Errorf("origin hit %d times, want 2", n)
	}
}

func testRevalidation304(t *testing.T, open Opener) {
	const etag = `"v1"`
	var inm atomic.Value
	inm.Store("")
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		inm.Store(r.Header.Get("If-None-Match"))
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "max-age=0")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, bodyFor(r))
	})
	clk := newClock()
	c := newClient(t, open, "revalidation", restycache.WithCacheControl(true), restycache.WithClock(clk.Now))
	url := o.URL + "/validated"

	first := get(t, c, url)
	if first.FromCache() || inm.Load() != "" {
		t.Fatalf("first GET: status %v, If-None-Match %q; want a plain miss", first.CacheStatus(), inm.Load())
	}
	waitStored(t, c, url)
	clk.Advance(time.Second)
	second := get(t, c, url)
	if got := inm.Load(); got != etag {
		t.Errorf("revalidation sent If-None-Match %q, want %q", got, etag)
	}
	if n := o.count(); n != 2 {
		t.Errorf("origin hit %d times, want 2 (the second a conditional request)", n)
	}
	if !second.Revalidated() || !second.FromCache() || second.CacheStatus() != restycache.CacheRevalidated {
		t.Errorf("second GET: status %v, Revalidated %v; want revalidated", second.CacheStatus(), second.Revalidated())
	}
	if second.StatusCode() != http.StatusOK {
		t.Errorf("revalidated status %d, want the stored 200", second.StatusCode())
	}
	if !bytes.Equal(second.Body(), first.Body()) {
		t.Errorf("revalidated body %s, want the stored %s", short(second.Body()), short(first.Body()))
	}
	if ct := second.Header().Get("Content-Type"); ct != "text/plain" {
		t.Errorf("revalidated Content-Type %q, want the stored text/plain", ct)
	}
}

func testCoalescing(t *testing.T, open Opener) {
	body := randomBytes(7, 64<<10)
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(body)
	})
	c := newClient(t, open, "coalescing")
	arrived := make(chan struct{}, Callers)
	c.OnBeforeRequest(func(*resty.Client, *resty.Request) error {
		arrived <- struct{}{}
		return nil
	})
	url := o.URL + "/cold"

	type result struct {
		status restycache.CacheStatus
		body   []byte
		code   int
		err    error
	}
	results := make(chan result, Callers)
	var wg sync.WaitGroup
	for range Callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.R().Get(url)
			if err != nil {
				results <- result{err: err}
				return
			}
			results <- result{status: r.CacheStatus(), body: r.Body(), code: r.StatusCode()}
		}()
	}
	// Hold the origin until every caller is on its way and the one
	// request it gets is in.
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	timeout := time.After(StoreWait)
	for range Callers {
		select {
		case <-arrived:
		case <-timeout:
			t.Fatalf("not all %d callers started within %v", Callers, StoreWait)
		}
	}
	deadline := time.Now().Add(StoreWait)
	for o.count() < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the origin got no request within %v", StoreWait)
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(release)
	released = true
	wg.Wait()
	close(results)

	statuses := map[restycache.CacheStatus]int{}
	for r := range results {
		if r.err != nil {
			t.Errorf("a caller failed: %v", r.err)
			continue
		}
		statuses[r.status]++
		if r.code != http.StatusOK || !bytes.Equal(r.body, body) {
			t.Errorf("a caller (status %v) got %d and %d bytes, want 200 and the full %d", r.status, r.code, len(r.body), len(body))
		}
	}
	if n := o.count(); n != 1 {
		t.Errorf("origin hit %d times by %d concurrent callers, want 1", n, Callers)
	}
	if statuses[restycache.CacheMiss] != 1 || statuses[restycache.CacheMiss]+statuses[restycache.CacheCoalesced]+statuses[restycache.CacheHit] != Callers {
		t.Errorf("statuses %v, want one miss and the rest coalesced or hits", statuses)
	}
}

func testManagement(t *testing.T, open Opener) {
	o := newOrigin(t, nil)
	clk := newClock()
	c := newClient(t, open, "management",
		restycache.WithClock(clk.Now),
		restycache.WithURLExpireAfter("127.0.0.1*/short*", time.Minute))
	ctx := t.Context()
	cc := c.Cache()

	paths := []string{"/a?x=1", "/b", "/c", "/short"}
	urls := make([]string, len(paths))
	keys := map[string]string{} // path -> cache key
	for i, p := range paths {
		urls[i] = o.URL + p
		keys[p] = get(t, c, urls[i]).CacheKey()
	}
	for _, u := range urls {
		waitStored(t, c, u)
	}
	mustLen(t, c, len(paths))

	wantKeys := make([]string, 0, len(keys))
	for _, k := range keys {
		wantKeys = append(wantKeys, k)
	}
	slices.Sort(wantKeys)
	if got := collect(t, "Keys", cc.Keys(ctx, restycache.AllEntries)); !slices.Equal(got, wantKeys) {
		t.Errorf("Keys(AllEntries) = %q, want %q", got, wantKeys)
	}
	gotURLs := collect(t, "URLs", cc.URLs(ctx, restycache.AllEntries))
	if len(gotURLs) != len(paths) {
		t.Errorf("URLs(AllEntries) = %q, want %d URLs", gotURLs, len(paths))
	}
	for _, p := range paths {
		if !slices.ContainsFunc(gotURLs, func(u string) bool { return strings.HasSuffix(u, p) }) {
			t.Errorf("URLs(AllEntries) = %q lacks %s", gotURLs, p)
		}
	}
	e, err := cc.Get(ctx, keys["/b"])
	if err != nil || e.Method != http.MethodGet || string(e.Body) != wantBody("/b") {
		t.Errorf("Get(key of /b) = %+v, %v", e, err)
	}
	if _, err := cc.Get(ctx, "no such key"); !errors.Is(err, restycache.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}

	// Contains and ContainsURL.
	if !contains(t, c, o.URL+"/b") {
		t.Errorf("ContainsURL(/b) = false")
	}
	if ok, err := cc.ContainsURL(ctx, "get", o.URL+"/b"); err != nil || !ok {
		t.Errorf("ContainsURL with a lower-case method = %v, %v; want true", ok, err)
	}
	if contains(t, c, o.URL+"/never-asked") {
		t.Errorf("ContainsURL(/never-asked) = true")
	}
	if ok, err := cc.ContainsURL(ctx, http.MethodPost, o.URL+"/b"); err != nil || ok {
		t.Errorf("ContainsURL(POST /b) = %v, %v; want false", ok, err)
	}
	if ok, err := cc.Contains(ctx, keys["/c"]); err != nil || !ok {
		t.Errorf("Contains(key of /c) = %v, %v", ok, err)
	}

	// Expired entries are told apart, and DeleteExpired removes them.
	clk.Advance(2 * time.Minute)
	if got := collect(t, "URLs", cc.URLs(ctx, restycache.ExpiredEntries)); len(got) != 1 || !strings.HasSuffix(got[0], "/short") {
		t.Errorf("URLs(ExpiredEntries) = %q, want only /short", got)
	}
	fresh := collect(t, "Keys", cc.Keys(ctx, restycache.FreshEntries))
	if len(fresh) != 3 || slices.Contains(fresh, keys["/short"]) {
		t.Errorf("Keys(FreshEntries) = %q, want the three without an expiry", fresh)
	}
	if n, err := cc.DeleteExpired(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1", n, err)
	}
	mustLen(t, c, 3)

	// DeleteURL removes the entry; the next request asks the origin.
	if n, err := cc.DeleteURL(ctx, http.MethodGet, o.URL+"/b"); err != nil || n != 1 {
		t.Errorf("DeleteURL(/b) = %d, %v; want 1", n, err)
	}
	if n, err := cc.DeleteURL(ctx, http.MethodGet, o.URL+"/b"); err != nil || n != 0 {
		t.Errorf("second DeleteURL(/b) = %d, %v; want 0", n, err)
	}
	if contains(t, c, o.URL+"/b") {
		t.Errorf("ContainsURL(/b) after DeleteURL = true")
	}
	mustLen(t, c, 2)

	// Delete by key.
	if err := cc.Delete(ctx, keys["/a?x=1"], "absent key"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if ok, err := cc.Contains(ctx, keys["/a?x=1"]); err != nil || ok {
		t.Errorf("Contains(key of /a) after Delete = %v, %v; want false", ok, err)
	}
	if !contains(t, c, o.URL+"/c") {
		t.Errorf("Delete of /a removed /c too")
	}
	mustLen(t, c, 1)
	before := o.count()
	if r := get(t, c, o.URL+"/a?x=1"); r.FromCache() || o.count() != before+1 {
		t.Errorf("GET /a after Delete: status %v, origin %d -> %d; want a miss", r.CacheStatus(), before, o.count())
	}
	waitStored(t, c, o.URL+"/a?x=1")
	mustLen(t, c, 2)

	// Clear removes everything.
	if err := cc.Clear(ctx); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	mustLen(t, c, 0)
	if got := collect(t, "Keys", cc.Keys(ctx, restycache.AllEntries)); len(got) != 0 {
		t.Errorf("Keys after Clear = %q", got)
	}
	before = o.count()
	if r := get(t, c, o.URL+"/c"); r.FromCache() || o.count() != before+1 {
		t.Errorf("GET /c after Clear: status %v; want a miss", r.CacheStatus())
	}
}

func testNamespaces(t *testing.T, open Opener) {
	o := newOrigin(t, nil)
	a := newClient(t, open, "namespaces", restycache.WithNamespace("a"))
	b := newClient(t, open, "namespaces", restycache.WithNamespace("b"))
	ctx := t.Context()
	shared, onlyA := o.URL+"/shared", o.URL+"/only-a"

	get(t, a, shared)
	get(t, a, onlyA)
	waitStored(t, a, shared)
	waitStored(t, a, onlyA)
	// b does not see a's entries.
	if r := get(t, b, shared); r.FromCache() {
		t.Errorf("namespace b was served namespace a's entry")
	}
	waitStored(t, b, shared)
	if n := o.countOf("/shared"); n != 2 {
		t.Errorf("origin asked %d times for /shared, want 2 (once per namespace)", n)
	}
	if contains(t, b, onlyA) {
		t.Errorf("namespace b contains namespace a's /only-a")
	}
	mustLen(t, a, 2)
	mustLen(t, b, 1)
	if got := collect(t, "URLs", b.Cache().URLs(ctx, restycache.AllEntries)); len(got) != 1 || !strings.HasSuffix(got[0], "/shared") {
		t.Errorf("URLs of namespace b = %q, want only /shared", got)
	}
	if r := get(t, a, shared); !r.FromCache() {
		t.Errorf("namespace a missed its own entry")
	}
	if r := get(t, b, shared); !r.FromCache() {
		t.Errorf("namespace b missed its own entry")
	}

	// Clear of one namespace leaves the other.
	if err := a.Cache().Clear(ctx); err != nil {
		t.Fatalf("Clear of namespace a: %v", err)
	}
	mustLen(t, a, 0)
	mustLen(t, b, 1)
	if r := get(t, b, shared); !r.FromCache() {
		t.Errorf("namespace b lost its entry when namespace a was cleared")
	}
	if r := get(t, a, shared); r.FromCache() {
		t.Errorf("namespace a still served an entry after its Clear")
	}
}

func testTwoClientsShareEntries(t *testing.T, open Opener) {
	o := newOrigin(t, nil)
	first := newClient(t, open, "twoclients")
	second := newClient(t, open, "twoclients")
	one, two := o.URL+"/stored-by-first", o.URL+"/stored-by-second"

	r1 := get(t, first, one)
	waitStored(t, second, one)
	r2 := get(t, second, one)
	if !r2.FromCache() || !bytes.Equal(r2.Body(), r1.Body()) {
		t.Errorf("second client: status %v body %s; want a hit with %s", r2.CacheStatus(), short(r2.Body()), short(r1.Body()))
	}
	if r2.CacheKey() != r1.CacheKey() {
		t.Errorf("the clients' keys differ: %q and %q", r1.CacheKey(), r2.CacheKey())
	}

	r3 := get(t, second, two)
	waitStored(t, first, two)
	if r4 := get(t, first, two); !r4.FromCache() || !bytes.Equal(r4.Body(), r3.Body()) {
		t.Errorf("first client: status %v body %s; want a hit with %s", r4.CacheStatus(), short(r4.Body()), short(r3.Body()))
	}
	if n := o.count(); n != 2 {
		t.Errorf("origin hit %d times, want 2 (once per URL)", n)
	}
	mustLen(t, first, 2)

	// A deletion through one client is seen by the other.
	if n, err := second.Cache().DeleteURL(t.Context(), http.MethodGet, one); err != nil || n != 1 {
		t.Fatalf("DeleteURL through the second client = %d, %v; want 1", n, err)
	}
	if r := get(t, first, one); r.FromCache() {
		t.Errorf("first client served an entry the second deleted")
	}
}

func testLargeBody(t *testing.T, open Opener) {
	body := randomBytes(11, LargeBodySize)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(body)
	})
	c := newClient(t, open, "largebody")
	url := o.URL + "/large"

	first := get(t, c, url)
	if !bytes.Equal(first.Body(), body) {
		t.Fatalf("first GET: %d bytes, want the origin's %d", len(first.Body()), len(body))
	}
	waitStored(t, c, url)
	second := get(t, c, url)
	if !second.FromCache() {
		t.Errorf("second GET: status %v, want a hit", second.CacheStatus())
	}
	if !bytes.Equal(second.Body(), body) {
		t.Errorf("hit body: %d bytes, not byte for byte the origin's %d", len(second.Body()), len(body))
	}
	if n := o.count(); n != 1 {
		t.Errorf("origin hit %d times, want 1", n)
	}
	e, err := c.Cache().Get(t.Context(), second.CacheKey())
	if err != nil {
		t.Fatalf("Cache().Get: %v", err)
	}
	if !bytes.Equal(e.Body, body) {
		t.Errorf("stored body: %d bytes, not byte for byte the origin's %d", len(e.Body), len(body))
	}
}
