package restycache_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/hooks"
	"github.com/restycache/restycache/internal/faulty"
)

// quiet silences the cache's reports in tests that provoke failures.
var quiet = restycache.WithLogger(slog.New(slog.DiscardHandler))

// logRecorder is a slog.Handler that keeps the messages it is given.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

// countOf counts the messages that contain s.
func (l *logRecorder) countOf(s string) int {
	n := 0
	for _, m := range l.messages() {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// mustGet sends a GET through c and fails the test on an error.
func mustGet(t *testing.T, c *restycache.Client, url string) *restycache.Response {
	t.Helper()
	r, err := c.R().Get(url)
	if ferr := c.Cache().Flush(t.Context()); ferr != nil {
		t.Fatalf("Flush: %v", ferr)
	}
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return r
}

// A client timeout on the request that leads a shared fetch must not cancel
// the fetch for the others. net/http's client timeout (resty's SetTimeout)
// sets the legacy Cancel channel on requests to a RoundTripper that is not
// an *http.Transport, and closes it when the timeout fires; the test closes
// that channel itself, so that it does not depend on which of the client's
// timer and the context's deadline fires first.
func TestLeaderTimeoutDoesNotCancelTheSharedFetch(t *testing.T) {
	arrived := make(chan struct{}, 4)
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		_, _ = w.Write([]byte("slow answer"))
	})
	c := restycache.New(quiet)
	defer c.Close()
	plain := &http.Client{Transport: c.CacheTransport()}
	type result struct {
		body string
		err  error
	}
	send := func(req *http.Request, out chan<- result) {
		resp, err := plain.Do(req)
		if err != nil {
			out <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		out <- result{string(b), err}
	}

	timeout := make(chan struct{})
	leaderReq, _ := http.NewRequest(http.MethodGet, o.URL+"/slow", nil)
	leaderReq.Cancel = timeout //nolint:staticcheck // what net/http's client timeout sets
	leader := make(chan result, 1)
	go send(leaderReq, leader)
	<-arrived
	close(timeout) // the leader's client timeout fires
	if got := <-leader; got.err == nil {
		t.Fatal("the leader did not give up when its Cancel channel closed")
	}
	// A second caller, with a deadline of its own, joins the flight that
	// the leader started and gave up on.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.URL+"/slow", nil)
	second := make(chan result, 1)
	go send(req, second)
	waitFor(t, func() bool { return len(arrived) > 0 || cacheWaiters(c) })
	close(release)
	got := <-second
	if got.err != nil || got.body != "slow answer" {
		t.Fatalf("second caller = %q, %v; want the shared answer", got.body, got.err)
	}
	if n := o.count(); n != 1 {
		t.Errorf("origin hits = %d, want 1: the leader's timeout cancelled the shared fetch", n)
	}
	if r := mustGet(t, c, o.URL+"/slow"); !r.FromCache() {
		t.Errorf("the shared answer was not stored")
	}
}

// resty's SetTimeout on the leader: its request fails, the others' do not.
func TestRestyTimeoutOfTheLeader(t *testing.T) {
	arrived := make(chan struct{}, 4)
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		_, _ = w.Write([]byte("slow answer"))
	})
	c := restycache.New(quiet).SetTimeout(100 * time.Millisecond)
	defer c.Close()
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.R().Get(o.URL + "/slow")
		leaderErr <- err
	}()
	<-arrived
	if err := <-leaderErr; err == nil {
		t.Fatal("the leader did not time out")
	}
	close(release)
	waitFor(t, func() bool { return !cacheWaiters(c) })
	r, err := c.SetTimeout(0).R().Get(o.URL + "/slow")
	if err != nil || r.String() != "slow answer" {
		t.Fatalf("after the leader's timeout: %q, %v", r.String(), err)
	}
}

// cacheWaiters reports whether a request waits in the cache; it lets the
// test above release the origin only once the second caller has joined.
func cacheWaiters(c *restycache.Client) bool { return c.CacheTransport().Waiting() > 0 }

// Every backend call that panics is a failed operation: recovered, counted,
// the request answered from the origin, no flight or lock left behind.
func TestBackendPanicsNeverFailRequests(t *testing.T) {
	for _, op := range []faulty.Op{faulty.Get, faulty.Set, faulty.Delete} {
		t.Run(string(op), func(t *testing.T) {
			fb := faulty.Wrap(memory.New())
			fb.Inject(faulty.Fault{Panic: "backend bug"}, op)
			o := headerOrigin(t, "Cache-Control", "max-age=60")
			c := restycache.New(restycache.WithBackend(fb), restycache.WithCacheControl(true), quiet)
			var wg sync.WaitGroup
			errs := make(chan error, 40)
			for i := range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := c.R().Get(fmt.Sprintf("%s/p%d", o.URL, i%4))
					if err == nil && !strings.HasPrefix(r.String(), "answer ") {
						err = fmt.Errorf("wrong body %q", r.String())
					}
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("request failed: %v", err)
				}
			}
			if _, err := c.R().Post(o.URL + "/p1"); err != nil { // invalidation deletes
				t.Errorf("POST: %v", err)
			}
			if got := c.Cache().Stats().Failed[hookOp[op]]; got == 0 {
				t.Errorf("Stats().Failed[%s] = 0, want the panics counted", op)
			}
			fb.Heal()
			// The URLs are not wedged: once the backend has healed (and
			// the pause after its failures is over), caching resumes.
			waitFor(t, func() bool {
				mustGet(t, c, o.URL+"/p0")
				return mustGet(t, c, o.URL+"/p0").FromCache()
			})
			closed := make(chan struct{})
			go func() { c.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("Close did not return: a flight was left behind")
			}
		})
	}
}

// A slow or hung backend must not make requests slow or fail: every backend
// operation on a request's path is bounded by WithBackendTimeout.
func TestSlowBackendNeverHoldsRequests(t *testing.T) {
	const bound = 100 * time.Millisecond
	for _, tc := range []struct {
		name string
		ops  []faulty.Op
	}{
		{"get hangs", []faulty.Op{faulty.Get}},
		{"set hangs", []faulty.Op{faulty.Set}},
		{"every call hangs", []faulty.Op{faulty.Get, faulty.Set, faulty.Delete, faulty.Lock}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fb := faulty.Wrap(memory.New())
			fb.Inject(faulty.Fault{Hang: true}, tc.ops...)
			o := jsonOrigin(t)
			c := restycache.New(restycache.WithBackend(fb), restycache.WithBackendTimeout(bound), quiet).SetTimeout(time.Second)
			defer c.Close()
			for i := range 10 {
				start := time.Now()
				r, err := c.R().Get(fmt.Sprintf("%s/slow%d", o.URL, i%3))
				took := time.Since(start)
				if err != nil {
					t.Fatalf("request %d failed under a 1s client timeout: %v", i, err)
				}
				if !strings.Contains(r.String(), "/slow") {
					t.Fatalf("request %d: body %q", i, r.String())
				}
				// A read and a write are each bounded; the origin
				// answers in microseconds.
				if took > 3*bound+400*time.Millisecond {
					t.Errorf("request %d took %v, more than the bound allows", i, took)
				}
			}
		})
	}
}

// Every single-bit flip of a stored entry is detected: the altered entry is
// never served, it is a miss, deleted and counted.
func TestEveryBitFlipOfAStoredEntryIsAMiss(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", `"v1"`)
		_, _ = w.Write([]byte(`{"answer":"the original body"}`))
	})
	mem := memory.New()
	c := restycache.New(restycache.WithBackend(mem), quiet)
	defer c.Close()
	first := mustGet(t, c, o.URL+"/entry")
	key := first.CacheKey()
	good, err := mem.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	good = append([]byte(nil), good...)
	for bit := range 8 * len(good) {
		// mustGet waited for the previous answer's write: corrupt now.
		bad := append([]byte(nil), good...)
		bad[bit/8] ^= 1 << (bit % 8)
		if err := mem.Set(context.Background(), key, bad, time.Time{}); err != nil {
			t.Fatal(err)
		}
		before := o.count()
		r := mustGet(t, c, o.URL+"/entry")
		if r.FromCache() || o.count() != before+1 {
			t.Fatalf("bit %d flipped: served from the cache (%v)", bit, r.CacheStatus())
		}
		if r.String() != `{"answer":"the original body"}` {
			t.Fatalf("bit %d flipped: body %q", bit, r.String())
		}
	}
	if n := c.Cache().Stats().Failed[hooks.OpDecode]; n != uint64(8*len(good)) {
		t.Errorf("corrupt entries counted %d, want %d", n, 8*len(good))
	}
}

// A corrupt entry read from a backend is reported through the logger, at a
// limited rate, and replaced by the origin's answer.
func TestCorruptEntriesAreReportedAndReplaced(t *testing.T) {
	rec := &logRecorder{}
	fb := faulty.Wrap(memory.New())
	o := jsonOrigin(t)
	c := restycache.New(restycache.WithBackend(fb), restycache.WithLogger(slog.New(rec)))
	defer c.Close()
	mustGet(t, c, o.URL+"/c")
	fb.Inject(faulty.Fault{Corrupt: true}, faulty.Get)
	for range 20 {
		if r := mustGet(t, c, o.URL+"/c"); r.FromCache() {
			t.Fatal("a corrupt entry was served")
		}
	}
	if n := rec.countOf("decode"); n < 1 || n > 2 {
		t.Errorf("corrupt entries reported %d times for 20 requests, want once (rate-limited): %q", n, rec.messages())
	}
	fb.Heal()
	if r := mustGet(t, c, o.URL+"/c"); !r.FromCache() {
		t.Errorf("the replaced entry is not served once reads are sound again")
	}
}

// A successful unsafe request invalidates every stored response for its
// URL: other users' (other credentials) and other variants (matched
// headers, Vary) included.
func TestInvalidationReachesEveryPartition(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Vary", "Accept-Language")
		fmt.Fprintf(w, "for %s in %s", r.Header.Get("Authorization"), r.Header.Get("Accept-Language"))
	})
	c, _ := rfcClient(t, restycache.WithMatchHeaders("X-Tenant"), quiet)
	type who struct{ token, lang, tenant string }
	users := []who{{"alice", "en", "a"}, {"bob", "en", "a"}, {"alice", "fr", "a"}, {"alice", "en", "b"}}
	send := func(u who) *restycache.Response {
		r, err := c.R().SetAuthToken(u.token).SetHeader("Accept-Language", u.lang).SetHeader("X-Tenant", u.tenant).Get(o.URL + "/doc")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, u := range users {
		send(u)
	}
	for _, u := range users {
		if !send(u).FromCache() {
			t.Fatalf("%v: not stored", u)
		}
	}
	if _, err := c.R().SetAuthToken("carol").SetBody("x").Post(o.URL + "/doc"); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if r := send(u); r.FromCache() {
			t.Errorf("%v: served from the cache after a POST to its URL", u)
		}
	}
}

// A broken backend is reported when it starts failing, then at most once per
// interval, and when it works again; a failed operation is counted by kind.
func TestBrokenBackendDoesNotFloodTheLog(t *testing.T) {
	rec := &logRecorder{}
	fb := faulty.Wrap(memory.New())
	fb.Inject(faulty.Fault{Err: errors.New("connection refused")}, faulty.Get, faulty.Set, faulty.Delete)
	o := jsonOrigin(t)
	c := restycache.New(restycache.WithBackend(fb), restycache.WithLogger(slog.New(rec)))
	defer c.Close()
	for i := range 200 {
		mustGet(t, c, fmt.Sprintf("%s/b%d", o.URL, i%10))
	}
	if n := len(rec.messages()); n == 0 || n > 4 {
		t.Errorf("200 requests on a broken backend logged %d lines, want 1 to 4: %q", n, rec.messages())
	}
	st := c.Cache().Stats()
	if st.Failed[hooks.OpGet] == 0 || st.Errors < st.Failed[hooks.OpGet] {
		t.Errorf("Stats = %+v: failed reads not counted", st)
	}
	if st.Skipped == 0 {
		t.Errorf("Stats.Skipped = 0: a backend failing every call is still asked on every request")
	}
	// Each request still asked the backend at most a few times, then the
	// breaker kept requests away.
	if calls := fb.Calls(faulty.Get); calls >= 200 {
		t.Errorf("the broken backend was read %d times for 200 requests", calls)
	}
	fb.Heal()
	waitFor(t, func() bool {
		mustGet(t, c, o.URL+"/healed")
		return mustGet(t, c, o.URL+"/healed").FromCache()
	})
	if rec.countOf("works again") == 0 {
		t.Errorf("the end of the failure was not reported: %q", rec.messages())
	}
}

// Vary decides which stored response matches a request in both modes: a
// gzip body stored for a request that asked for it is not served to one that
// did not.
func TestVaryInSettingsMode(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Encoding")
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write([]byte("\x1f\x8b pretend gzip"))
			return
		}
		_, _ = w.Write([]byte("plain"))
	})
	// An upstream that does not ask for gzip itself, so that the origin
	// sees the Accept-Encoding of the request as the cache does.
	c := restycache.New(quiet).SetTransport(&http.Transport{DisableCompression: true})
	defer c.Close()
	req, _ := http.NewRequest(http.MethodGet, o.URL+"/v", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.CacheTransport().RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	plain := &http.Client{Transport: c.CacheTransport()}
	resp, err = plain.Get(o.URL + "/v")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "plain" || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("a request without Accept-Encoding got %q (Content-Encoding %q)", body, resp.Header.Get("Content-Encoding"))
	}
	if o.count() != 2 {
		t.Errorf("origin hits = %d, want 2 (one per variant)", o.count())
	}
}

// A cached response carries the headers the origin sent, Content-Length
// included, on a miss, a hit and a HEAD.
func TestContentLengthIsKept(t *testing.T) {
	body := strings.Repeat("x", 5000)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000")
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, body)
		}
	})
	for _, coalescing := range []bool{true, false} {
		c := restycache.New(restycache.WithCoalescing(coalescing), quiet)
		for _, step := range []string{"miss", "hit"} {
			r := mustGet(t, c, o.URL+"/len")
			if got := r.Header().Get("Content-Length"); got != "5000" {
				t.Errorf("coalescing %v, %s: Content-Length = %q, want 5000", coalescing, step, got)
			}
		}
		for _, step := range []string{"HEAD miss", "HEAD hit"} {
			r, err := c.R().Head(o.URL + "/len2")
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Header().Get("Content-Length"); got != "5000" {
				t.Errorf("coalescing %v, %s: Content-Length = %q, want 5000", coalescing, step, got)
			}
		}
		c.Close()
	}
}

// The management API normalises URLs exactly as keys do.
func TestManagementNormalisesLikeKeys(t *testing.T) {
	o := jsonOrigin(t)
	c := restycache.New(quiet)
	defer c.Close()
	mustGet(t, c, o.URL+"/x/../b?b=2&a=1")
	ctx := context.Background()
	for _, u := range []string{o.URL + "/b?a=1&b=2", o.URL + "/./b?b=2&a=1#frag", strings.Replace(o.URL, "http://", "HTTP://", 1) + "/b?a=1&b=2"} {
		if ok, err := c.Cache().ContainsURL(ctx, http.MethodGet, u); err != nil || !ok {
			t.Errorf("ContainsURL(%s) = %v, %v; want true", u, ok, err)
		}
	}
	if n, err := c.Cache().DeleteURL(ctx, http.MethodGet, o.URL+"/b?a=1&b=2"); err != nil || n != 1 {
		t.Errorf("DeleteURL = %d, %v; want 1", n, err)
	}
}

// Static misconfiguration is a programming error: New panics, naming the
// option.
func TestMisconfigurationPanics(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opt    restycache.Option
		option string
	}{
		{"invalid pattern", restycache.WithURLExpireAfter("", time.Minute), "WithURLExpireAfter"},
		{"negative code", restycache.WithAllowedCodes(-1), "WithAllowedCodes"},
		{"huge code", restycache.WithAllowedCodes(200, 99999), "WithAllowedCodes"},
		{"no codes", restycache.WithAllowedCodes(), "WithAllowedCodes"},
		{"no methods", restycache.WithAllowedMethods(), "WithAllowedMethods"},
		{"bad method", restycache.WithAllowedMethods("GET POST"), "WithAllowedMethods"},
		{"nil backend", restycache.WithBackend(nil), "WithBackend"},
		{"zero backend timeout", restycache.WithBackendTimeout(0), "WithBackendTimeout"},
		{"negative body size", restycache.WithMaxBodySize(-1), "WithMaxBodySize"},
		{"no locker", restycache.WithCrossProcessCoalescing(time.Second), ""}, // memory is a Locker: no panic
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if tc.option == "" {
					if r != nil {
						t.Errorf("New panicked: %v", r)
					}
					return
				}
				if r == nil {
					t.Fatalf("New did not panic")
				}
				if msg := fmt.Sprint(r); !strings.Contains(msg, tc.option) {
					t.Errorf("panic %q does not name %s", msg, tc.option)
				}
			}()
			restycache.New(tc.opt).Close()
		})
	}
	t.Run("backend that cannot lock", func(t *testing.T) {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "WithCrossProcessCoalescing") {
				t.Errorf("panic = %v, want one naming WithCrossProcessCoalescing", r)
			}
		}()
		restycache.New(restycache.WithBackend(noLocker{memory.New()}), restycache.WithCrossProcessCoalescing(time.Second)).Close()
	})
}

// noLocker hides every ability of a backend but backend.Storage.
type noLocker struct{ backend.Storage }

// Without WithLogger, cache trouble goes to slog.Default(), so a broken
// backend is visible without set-up.
func TestDefaultLoggerIsSlogDefault(t *testing.T) {
	rec := &logRecorder{}
	prev := slog.Default()
	slog.SetDefault(slog.New(rec))
	defer slog.SetDefault(prev)
	fb := faulty.Wrap(memory.New())
	fb.Inject(faulty.Fault{Err: errors.New("disk on fire")}, faulty.Get)
	c := restycache.New(restycache.WithBackend(fb))
	defer c.Close()
	mustGet(t, c, jsonOrigin(t).URL+"/d")
	if rec.countOf("backend get failed") != 1 {
		t.Errorf("slog.Default() got %q, want the failing read reported", rec.messages())
	}
}

// Clients sharing one backend coalesce identical misses across themselves
// with WithCrossProcessCoalescing, as processes sharing a server do.
func TestCrossClientCoalescing(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		_, _ = w.Write([]byte(`{"shared":true}`))
	})
	mem := memory.New()
	clients := make([]*restycache.Client, 4)
	for i := range clients {
		clients[i] = restycache.New(restycache.WithBackend(mem), restycache.WithCrossProcessCoalescing(5*time.Second), quiet)
	}
	defer func() {
		for _, c := range clients {
			c.Close() // closes mem too; Close is idempotent
		}
	}()
	var wg sync.WaitGroup
	var bad atomic.Int64
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := clients[i%len(clients)].R().Get(o.URL + "/x")
			if err != nil || r.String() != `{"shared":true}` {
				bad.Add(1)
			}
		}()
	}
	waitFor(t, func() bool { return o.count() == 1 })
	// Every client has a flight waiting: one fetching, three waiting for
	// its entry in the store.
	waitFor(t, func() bool {
		for _, c := range clients {
			if c.CacheTransport().Waiting() == 0 {
				return false
			}
		}
		return true
	})
	close(release)
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d callers failed or got a wrong body", bad.Load())
	}
	if n := o.count(); n != 1 {
		t.Errorf("origin hits = %d, want 1 for four clients on one store", n)
	}
}

// hookOp maps the faulty package's operations to the Store's.
var hookOp = map[faulty.Op]hooks.Op{faulty.Get: hooks.OpGet, faulty.Set: hooks.OpSet, faulty.Delete: hooks.OpDelete}

// A miss's answer reaches its callers before the backend has stored it: a
// write slower than the client's timeout holds no request, and Flush waits
// for the write to land. (A request that arrives during the write waits
// for it and is then answered from storage, by the usual rules: the
// semantics tests send such requests back to back.)
func TestWriteNeverHoldsTheCaller(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		// With a client timeout and without one: a caller that can give
		// up, and one that cannot.
		for _, timeout := range []time.Duration{time.Second, 0} {
			t.Run(fmt.Sprintf("client timeout %v", timeout), func(t *testing.T) {
				fb := faulty.Wrap(memory.New())
				fb.Inject(faulty.Fault{Delay: 1200 * time.Millisecond}, faulty.Set)
				o := jsonOrigin(t)
				c := restycache.New(restycache.WithBackend(fb), mode, restycache.WithBackendTimeout(5*time.Second), quiet).SetTimeout(timeout)
				defer c.Close()
				url := o.URL + "/slow-write"
				start := time.Now()
				first, err := c.R().Get(url)
				if err != nil {
					t.Fatalf("a miss whose write takes 1.2s, under a client timeout of %v: %v", timeout, err)
				}
				if first.FromCache() {
					t.Errorf("first request: status %v, want a miss", first.CacheStatus())
				}
				if n := c.Cache().Stats().EntriesWritten; n != 0 {
					t.Errorf("the request returned after its 1.2s write (%v): %d entries written, want 0 yet", time.Since(start), n)
				}
				// The next request waits for the write rather than asking
				// the origin again, and is answered from storage.
				if r, err := c.SetTimeout(5 * time.Second).R().Get(url); err != nil || !r.FromCache() || r.String() != first.String() {
					t.Errorf("during the write: err %v, status %v, body %q; want a hit with the first body", err, r.CacheStatus(), r.String())
				}
				if n := o.count(); n != 1 {
					t.Errorf("origin requests = %d, want 1", n)
				}
			})
		}
	})
}

// A cold miss reads the backend twice, the entry's key and its URL's
// index, and writes both: a new leader looks in the store again only when
// another flight has landed since its own read.
func TestColdMissReadsTheBackendTwice(t *testing.T) {
	fb := faulty.Wrap(memory.New())
	o := jsonOrigin(t)
	c := restycache.New(restycache.WithBackend(fb), quiet)
	defer c.Close()
	for i := range 3 {
		before, beforeSet := fb.Calls(faulty.Get), fb.Calls(faulty.Set)
		mustGet(t, c, fmt.Sprintf("%s/cold%d", o.URL, i))
		if n := fb.Calls(faulty.Get) - before; n != 2 {
			t.Errorf("miss %d: %d backend reads, want 2 (the entry, the URL index)", i, n)
		}
		if n := fb.Calls(faulty.Set) - beforeSet; n != 2 {
			t.Errorf("miss %d: %d backend writes, want 2 (the entry, the URL index)", i, n)
		}
	}
}

// The management API sees the client's own writes: a request's entry,
// still being written when the request returns, is counted by the next
// Len, and a Clear made meanwhile is not undone when the write lands.
func TestManagementSeesTheClientsOwnWrites(t *testing.T) {
	fb := faulty.Wrap(memory.New())
	fb.Inject(faulty.Fault{Delay: 300 * time.Millisecond}, faulty.Set)
	o := jsonOrigin(t)
	c := restycache.New(restycache.WithBackend(fb), quiet)
	defer c.Close()
	ctx := t.Context()
	if _, err := c.R().Get(o.URL + "/one"); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Cache().Len(ctx); err != nil || n != 1 {
		t.Errorf("Len right after the request = %d, %v; want 1", n, err)
	}
	if _, err := c.R().Get(o.URL + "/two"); err != nil {
		t.Fatal(err)
	}
	if err := c.Cache().Clear(ctx); err != nil {
		t.Fatal(err)
	}
	fb.Heal()
	if err := c.Cache().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := fb.Inner().Len(ctx, ""); err != nil || n != 0 {
		t.Errorf("records after Clear = %d, %v; want 0", n, err)
	}
}

// A request that arrives while a shared fetch's answer is being written,
// when that write fails, gets the answer the fetch's own callers got: the
// origin is asked once. The write's 1s is the window the second request
// must fall in.
func TestFailedWriteStillAnswersLateJoiners(t *testing.T) {
	fb := faulty.Wrap(memory.New())
	fb.Inject(faulty.Fault{Delay: time.Second, Err: errors.New("disk full")}, faulty.Set)
	o := jsonOrigin(t)
	c := restycache.New(restycache.WithBackend(fb), quiet)
	defer c.Close()
	url := o.URL + "/unstorable-now"
	first, err := c.R().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	// This one arrives during the first one's 1s write, which fails.
	late, err := c.R().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if late.StatusCode() != 200 || late.String() != first.String() {
		t.Errorf("late request: %d %q, want the shared answer %q", late.StatusCode(), late.String(), first.String())
	}
	if late.CacheStatus() != restycache.CacheCoalesced {
		t.Errorf("late request: status %v, want coalesced", late.CacheStatus())
	}
	if n := o.count(); n != 1 {
		t.Errorf("origin requests = %d, want 1", n)
	}
}
