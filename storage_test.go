package restycache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/backend/sqlite"
)

// rawValues returns every value stored in s, as bytes.
func rawValues(t *testing.T, s backend.Storage) [][]byte {
	t.Helper()
	ctx := context.Background()
	var out [][]byte
	for k, err := range s.Keys(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestSecretsNeverReachStorage(t *testing.T) {
	o := jsonOrigin(t)
	mem := memory.New()
	c := restycache.New(
		restycache.WithBackend(mem),
		restycache.WithMatchAllHeaders(),
		restycache.WithIgnoredParams("session"),
		restycache.WithSensitiveNames("X-Secret"),
	)
	defer c.Close()

	secrets := []string{"tok-AAA", "key-BBB", "sess-CCC", "apikey-DDD", "cookie-EEE", "pw-FFF", "hdr-GGG"}
	u := strings.Replace(o.URL, "http://", "http://user:pw-FFF@", 1)
	_, err := c.R().
		SetAuthToken("tok-AAA").
		SetHeader("X-API-Key", "key-BBB").
		SetHeader("Cookie", "id=cookie-EEE").
		SetHeader("X-Secret", "hdr-GGG").
		SetQueryParam("session", "sess-CCC").
		SetQueryParam("api_key", "apikey-DDD").
		Get(u + "/secret")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Cache().Flush(t.Context()); err != nil { // the entry's write
		t.Fatal(err)
	}
	values := rawValues(t, mem)
	if len(values) != 2 {
		t.Fatalf("stored %d values, want 2 (the entry and its URL's index)", len(values))
	}
	for _, s := range secrets {
		for _, v := range values {
			if bytes.Contains(v, []byte(s)) {
				t.Errorf("secret %q reached storage", s)
			}
		}
	}
	if !bytes.Contains(values[0], []byte("REDACTED")) && !bytes.Contains(values[1], []byte("REDACTED")) {
		t.Errorf("stored entry has no REDACTED marker")
	}
	// Different credentials never share an entry, even unmatched.
	plain := restycache.New()
	defer plain.Close()
	if _, err := plain.R().SetAuthToken("alice").Get(o.URL + "/me"); err != nil {
		t.Fatal(err)
	}
	if r, _ := plain.R().SetAuthToken("bob").Get(o.URL + "/me"); r.FromCache() {
		t.Errorf("bob was served alice's response")
	}
	if r, _ := plain.R().SetAuthToken("alice").Get(o.URL + "/me"); !r.FromCache() {
		t.Errorf("alice's second request missed")
	}
}

func TestRedirectsAreServedThroughAliases(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old":
			http.Redirect(w, r, "/middle", http.StatusMovedPermanently)
		case "/middle":
			http.Redirect(w, r, "/new", http.StatusFound)
		default:
			_, _ = w.Write([]byte("final " + r.URL.Path))
		}
	})
	c := restycache.New()
	defer c.Close()
	ctx := context.Background()

	first := get(t, c, o.URL+"/old")
	if first.String() != "final /new" || o.count() != 3 {
		t.Fatalf("first: %q after %d origin hits", first.String(), o.count())
	}
	second := get(t, c, o.URL+"/old")
	if !second.FromCache() || second.String() != "final /new" || o.count() != 3 {
		t.Fatalf("second: FromCache=%v %q, origin hits %d", second.FromCache(), second.String(), o.count())
	}
	if r := get(t, c, o.URL+"/middle"); !r.FromCache() {
		t.Errorf("the middle hop was not aliased")
	}
	// Deleting the entry removes its aliases.
	if err := c.Cache().Delete(ctx, second.CacheKey()); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Cache().Len(ctx); n != 0 {
		t.Errorf("after Delete: %d records left, want 0", n)
	}
	if r := get(t, c, o.URL+"/old"); r.FromCache() {
		t.Errorf("alias served after its entry was deleted")
	}
}

func TestCookiesOfCachedResponses(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "flavour", Value: "oatmeal", Path: "/"})
		_, _ = w.Write([]byte("ok"))
	})
	for _, strip := range []bool{false, true} {
		t.Run(fmt.Sprintf("strip=%v", strip), func(t *testing.T) {
			mem := memory.New()
			opts := []restycache.Option{restycache.WithBackend(mem)}
			if strip {
				opts = append(opts, restycache.WithStripSetCookie())
			}
			c := restycache.New(opts...)
			defer c.Close()
			get(t, c, o.URL+"/cookie")
			got := false
			for _, v := range rawValues(t, mem) { // the entry and its URL's index
				got = got || bytes.Contains(v, []byte("oatmeal"))
			}
			if got == strip {
				t.Errorf("Set-Cookie stored = %v, want %v", got, !strip)
			}
			// A fresh jar sees the cookie on a hit only when it was stored.
			jar, _ := cookiejar.New(nil)
			c.SetCookieJar(jar)
			if r := get(t, c, o.URL+"/cookie"); !r.FromCache() {
				t.Fatal("not a hit")
			}
			u := c.GetClient().Jar.Cookies(mustURL(t, o.URL+"/"))
			if got := len(u) == 1 && u[0].Value == "oatmeal"; got == strip {
				t.Errorf("cookie reached the jar on a hit = %v, want %v", got, !strip)
			}
		})
	}
}

func TestCacheManagement(t *testing.T) {
	o := jsonOrigin(t)
	clk := newClock()
	c := restycache.New(restycache.WithClock(clk.Now), restycache.WithURLExpireAfter("127.0.0.1*/short*", time.Minute))
	defer c.Close()
	ctx := context.Background()

	a := get(t, c, o.URL+"/a?x=1")
	get(t, c, o.URL+"/b")
	get(t, c, o.URL+"/short")

	if n, err := c.Cache().Len(ctx); err != nil || n != 3 {
		t.Fatalf("Len = %d, %v; want 3", n, err)
	}
	e, err := c.Cache().Get(ctx, a.CacheKey())
	if err != nil || e.Method != "GET" || !strings.HasSuffix(e.URL, "/a?x=1") || !strings.Contains(string(e.Body), `"/a"`) {
		t.Fatalf("Get = %+v, %v", e, err)
	}
	if _, err := c.Cache().Get(ctx, "nope"); !errors.Is(err, restycache.ErrNotFound) {
		t.Errorf("Get(missing) error = %v, want ErrNotFound", err)
	}
	if ok, _ := c.Cache().Contains(ctx, a.CacheKey()); !ok {
		t.Errorf("Contains(key) = false")
	}
	if ok, _ := c.Cache().ContainsURL(ctx, "get", o.URL+"/b"); !ok {
		t.Errorf("ContainsURL(/b) = false")
	}
	if ok, _ := c.Cache().ContainsURL(ctx, "GET", o.URL+"/c"); ok {
		t.Errorf("ContainsURL(/c) = true")
	}
	req, _ := http.NewRequest("GET", o.URL+"/a?x=1", nil)
	req.Header.Set("User-Agent", "another-agent/1") // unmatched: does not change the key
	if ok, _ := c.Cache().ContainsRequest(ctx, req); !ok {
		t.Errorf("ContainsRequest = false")
	}

	clk.Advance(2 * time.Minute)
	urls := collect(t, c.Cache().URLs(ctx, restycache.ExpiredEntries))
	if len(urls) != 1 || !strings.HasSuffix(urls[0], "/short") {
		t.Errorf("expired URLs = %v", urls)
	}
	fresh := collect(t, c.Cache().Keys(ctx, restycache.FreshEntries))
	all := collect(t, c.Cache().Keys(ctx, restycache.AllEntries))
	if len(fresh) != 2 || len(all) != 3 || !slices.Contains(fresh, a.CacheKey()) {
		t.Errorf("fresh keys %v, all keys %v", fresh, all)
	}
	if n, err := c.Cache().DeleteExpired(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1", n, err)
	}
	if n, err := c.Cache().DeleteURL(ctx, "GET", o.URL+"/b"); err != nil || n != 1 {
		t.Errorf("DeleteURL = %d, %v; want 1", n, err)
	}
	if n, _ := c.Cache().Len(ctx); n != 1 {
		t.Errorf("Len = %d, want 1", n)
	}
	if err := c.Cache().Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Cache().Len(ctx); n != 0 {
		t.Errorf("Len after Clear = %d", n)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func collect(t *testing.T, seq iter.Seq2[string, error]) []string {
	t.Helper()
	var out []string
	for s, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestSQLiteIsSharedBetweenClients(t *testing.T) {
	o := jsonOrigin(t)
	path := filepath.Join(t.TempDir(), "nested", "cache")
	one := restycache.New(restycache.WithBackend(sqlite.New(path)))
	defer one.Close()
	get(t, one, o.URL+"/shared")

	two := restycache.New(restycache.WithBackend(sqlite.New(path)))
	defer two.Close()
	r := get(t, two, o.URL+"/shared")
	if !r.FromCache() || o.count() != 1 {
		t.Errorf("second client: FromCache=%v origin hits=%d", r.FromCache(), o.count())
	}
	if _, err := os.Stat(path + ".sqlite"); err != nil {
		t.Errorf("cache file: %v", err)
	}
}

// failingStorage is a backend whose every operation fails.
type failingStorage struct{ backend.Storage }

var errBroken = errors.New("backend is down")

func (failingStorage) Get(context.Context, string) ([]byte, error) { return nil, errBroken }
func (failingStorage) Set(context.Context, string, []byte, time.Time) error {
	return errBroken
}

func TestBrokenBackendDegradesToPassThrough(t *testing.T) {
	o := jsonOrigin(t)
	var logs syncBuffer
	c := restycache.New(
		restycache.WithBackend(failingStorage{memory.New()}),
		restycache.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
	)
	defer c.Close()
	for range 2 {
		r := get(t, c, o.URL+"/x")
		if r.StatusCode() != 200 || r.FromCache() {
			t.Errorf("status %d FromCache %v", r.StatusCode(), r.FromCache())
		}
	}
	if o.count() != 2 {
		t.Errorf("origin hits = %d, want 2", o.count())
	}
	if !strings.Contains(logs.String(), "backend is down") {
		t.Errorf("the failure was not logged: %q", logs.String())
	}
	if st := c.Cache().Stats(); st.Errors < 2 {
		t.Errorf("Stats.Errors = %d, want >= 2", st.Errors)
	}
}

func TestCorruptEntryIsAMissAndDeleted(t *testing.T) {
	o := jsonOrigin(t)
	mem := memory.New()
	var logs syncBuffer
	c := restycache.New(restycache.WithBackend(mem), restycache.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	defer c.Close()
	r := get(t, c, o.URL+"/x")
	ctx := context.Background()
	if err := mem.Set(ctx, r.CacheKey(), []byte("garbage"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	r2 := get(t, c, o.URL+"/x")
	if r2.FromCache() || r2.StatusCode() != 200 || o.count() != 2 {
		t.Errorf("corrupt entry: FromCache=%v status=%d hits=%d", r2.FromCache(), r2.StatusCode(), o.count())
	}
	if !strings.Contains(logs.String(), "undecodable") {
		t.Errorf("corruption not logged: %q", logs.String())
	}
	// The miss stored a good entry again.
	if r3 := get(t, c, o.URL+"/x"); !r3.FromCache() {
		t.Errorf("entry not restored after corruption")
	}
}

func TestFilterOnWriteAndRead(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Kind", r.URL.Query().Get("kind"))
		_, _ = w.Write([]byte("ok"))
	})
	var allowAll bool
	var mu sync.Mutex
	c := restycache.New(restycache.WithFilter(func(r *http.Response) bool {
		mu.Lock()
		defer mu.Unlock()
		return allowAll || r.Header.Get("X-Kind") == "keep"
	}))
	defer c.Close()
	get(t, c, o.URL+"/?kind=drop")
	if r := get(t, c, o.URL+"/?kind=drop"); r.FromCache() {
		t.Errorf("filtered response was stored")
	}
	mu.Lock()
	allowAll = true
	mu.Unlock()
	get(t, c, o.URL+"/?kind=other") // stored now
	mu.Lock()
	allowAll = false
	mu.Unlock()
	if r := get(t, c, o.URL+"/?kind=other"); r.FromCache() {
		t.Errorf("entry the filter now rejects was served")
	}
	if n, _ := c.Cache().Len(context.Background()); n != 0 {
		t.Errorf("rejected entry not deleted on read: Len = %d", n)
	}
}

func TestOversizedResponsesPassThrough(t *testing.T) {
	big := strings.Repeat("x", 2048)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(big)) })
	c := restycache.New(restycache.WithMaxBodySize(1024))
	defer c.Close()
	for range 2 {
		if r := get(t, c, o.URL+"/big"); r.String() != big || r.FromCache() {
			t.Fatalf("oversized: %d bytes, FromCache %v", len(r.String()), r.FromCache())
		}
	}
	if o.count() != 2 {
		t.Errorf("origin hits = %d, want 2", o.count())
	}
}

func TestExpireImmediatelyRevalidates(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("X-Served", fmt.Sprint(r.Header.Get("If-None-Match") != ""))
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte("payload"))
	})
	c := restycache.New(restycache.WithExpireAfter(restycache.ExpireImmediately))
	defer c.Close()
	get(t, c, o.URL+"/v")
	r := get(t, c, o.URL+"/v")
	if !r.Revalidated() || !r.FromCache() || r.String() != "payload" || r.StatusCode() != 200 {
		t.Errorf("revalidated=%v FromCache=%v %d %q", r.Revalidated(), r.FromCache(), r.StatusCode(), r.String())
	}
	if r.Header().Get("X-Served") != "true" {
		t.Errorf("304's headers were not merged: X-Served=%q", r.Header().Get("X-Served"))
	}
	if o.count() != 2 {
		t.Errorf("origin hits = %d, want 2", o.count())
	}
	// A request the caller made conditional passes through, 304 and all.
	r, err := c.R().SetHeader("If-None-Match", `"v1"`).Get(o.URL + "/v")
	if err != nil || r.StatusCode() != http.StatusNotModified || r.FromCache() {
		t.Errorf("caller's conditional request: %d FromCache %v err %v", r.StatusCode(), r.FromCache(), err)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPingReportsABrokenBackend(t *testing.T) {
	ctx := context.Background()
	ok := restycache.New(restycache.WithBackend(sqlite.New(filepath.Join(t.TempDir(), "ok"))))
	defer ok.Close()
	if err := ok.Cache().Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	// A database under a regular file cannot be created.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := restycache.New(restycache.WithBackend(sqlite.New(filepath.Join(file, "cache"))))
	defer bad.Close()
	if err := bad.Cache().Ping(ctx); err == nil {
		t.Errorf("Ping of an unopenable database: no error")
	}
	// Requests still work: the cache degrades to a pass-through.
	o := jsonOrigin(t)
	if r := get(t, bad, o.URL+"/x"); r.StatusCode() != 200 || r.FromCache() {
		t.Errorf("with a broken backend: %d FromCache %v", r.StatusCode(), r.FromCache())
	}
	mem := restycache.New()
	defer mem.Close()
	if err := mem.Cache().Ping(ctx); err != nil {
		t.Errorf("memory Ping: %v", err)
	}
}
