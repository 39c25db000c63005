package restycache_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/restycache/restycache"
)

func get(t *testing.T, c *restycache.Client, url string) *restycache.Response {
	t.Helper()
	resp, err := c.R().Get(url)
	if ferr := c.Cache().Flush(t.Context()); ferr != nil {
		t.Fatalf("Flush: %v", ferr)
	}
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp
}

func TestSecondGetIsAHit(t *testing.T) {
	o := jsonOrigin(t)
	c := restycache.New()
	defer c.Close()

	first := get(t, c, o.URL+"/items")
	second := get(t, c, o.URL+"/items")

	if got := o.count(); got != 1 {
		t.Fatalf("origin hits = %d, want 1", got)
	}
	if first.FromCache() || first.CacheStatus() != restycache.CacheMiss {
		t.Errorf("first: FromCache=%v status=%v, want a miss", first.FromCache(), first.CacheStatus())
	}
	if !second.FromCache() || second.CacheStatus() != restycache.CacheHit {
		t.Errorf("second: FromCache=%v status=%v, want a hit", second.FromCache(), second.CacheStatus())
	}
	if second.String() != first.String() || second.StatusCode() != 200 {
		t.Errorf("hit = %d %q, want 200 %q", second.StatusCode(), second.String(), first.String())
	}
	if second.Header().Get("Content-Type") != "application/json" {
		t.Errorf("hit Content-Type = %q", second.Header().Get("Content-Type"))
	}
	if first.CacheKey() == "" || first.CacheKey() != second.CacheKey() {
		t.Errorf("keys %q and %q: want equal and non-empty", first.CacheKey(), second.CacheKey())
	}
	if second.CachedAt().IsZero() || !second.ExpiresAt().IsZero() || second.IsExpired() {
		t.Errorf("CachedAt=%v ExpiresAt=%v IsExpired=%v: want stored, never expiring", second.CachedAt(), second.ExpiresAt(), second.IsExpired())
	}
}

func TestWhatIsStoredByDefault(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/404":
			w.WriteHeader(http.StatusNotFound)
		case "/502":
			w.WriteHeader(http.StatusBadGateway)
		case "/418":
			w.WriteHeader(http.StatusTeapot)
		}
		_, _ = w.Write([]byte("body"))
	})
	c := restycache.New()
	defer c.Close()

	for _, tc := range []struct {
		method, path string
		wantHits     int64
	}{
		{"GET", "/ok", 1},
		{"HEAD", "/ok", 0}, // answered from the stored GET
		{"HEAD", "/head", 1},
		{"POST", "/ok", 2},
		{"PUT", "/ok", 2},
		{"GET", "/404", 2},
		{"GET", "/502", 2},
		{"GET", "/418", 2},
	} {
		before := o.count()
		for range 2 {
			if _, err := c.R().Execute(tc.method, o.URL+tc.path); err != nil {
				t.Fatal(err)
			}
		}
		if got := o.count() - before; got != tc.wantHits {
			t.Errorf("%s %s twice: origin hits = %d, want %d", tc.method, tc.path, got, tc.wantHits)
		}
	}
}

func TestAllowedCodesAndMethods(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/418" {
			w.WriteHeader(http.StatusTeapot)
		}
		_, _ = w.Write([]byte("x"))
	})
	c := restycache.New(restycache.WithAllowedCodes(200, 418), restycache.WithAllowedMethods("get", "POST"))
	defer c.Close()

	for _, tc := range []struct {
		method, path string
		wantHits     int64
	}{
		{"GET", "/418", 1},
		{"POST", "/ok", 1},
		{"HEAD", "/ok", 2}, // no longer allowed
	} {
		before := o.count()
		for range 2 {
			if _, err := c.R().SetBody("same body").Execute(tc.method, o.URL+tc.path); err != nil {
				t.Fatal(err)
			}
		}
		if got := o.count() - before; got != tc.wantHits {
			t.Errorf("%s %s twice: origin hits = %d, want %d", tc.method, tc.path, got, tc.wantHits)
		}
	}
}

func TestRequestsThatShareAnEntry(t *testing.T) {
	o := jsonOrigin(t)
	c := restycache.New()
	defer c.Close()
	port := o.URL[strings.LastIndex(o.URL, ":"):]
	upper := "HTTP://127.0.0.1" + port

	get(t, c, o.URL+"/q?a=1&b=2")
	for _, u := range []string{
		o.URL + "/q?b=2&a=1",      // query order
		upper + "/q?a=1&b=2",      // scheme case
		o.URL + "/x/../q?a=1&b=2", // dot segments
		o.URL + "/q?a=1&b=2#frag", // fragment
	} {
		if r := get(t, c, u); !r.FromCache() {
			t.Errorf("%s: not served from cache", u)
		}
	}
	if got := o.count(); got != 1 {
		t.Errorf("origin hits = %d, want 1", got)
	}
	if r := get(t, c, o.URL+"/q?a=1&b=2&a=1"); r.FromCache() {
		t.Errorf("a duplicated param must split entries")
	}
}

func TestDefaultPortDoesNotSplitEntries(t *testing.T) {
	// The default port cannot be listened on in a test, so a transport
	// under the cache sends both URLs to the local origin.
	o := jsonOrigin(t)
	c := restycache.New()
	defer c.Close()
	c.SetTransport(rewriteHost{to: strings.TrimPrefix(o.URL, "http://")})

	get(t, c, "http://api.example.test/items")
	if r := get(t, c, "http://API.example.test:80/items"); !r.FromCache() {
		t.Errorf("explicit default port and host case: not served from cache")
	}
	if got := o.count(); got != 1 {
		t.Errorf("origin hits = %d, want 1", got)
	}
}

// rewriteHost sends every request to a local address.
type rewriteHost struct{ to string }

func (rw rewriteHost) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Host, r.Host = rw.to, ""
	return http.DefaultTransport.RoundTrip(r)
}

func TestJSONBodyKeyOrderDoesNotSplitEntries(t *testing.T) {
	o := jsonOrigin(t)
	c := restycache.New(restycache.WithAllowedMethods("POST"))
	defer c.Close()
	post := func(body string) *restycache.Response {
		r, err := c.R().SetHeader("Content-Type", "application/json").SetBody(body).Post(o.URL + "/search")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	post(`{"q":"go","page":{"n":1,"size":10}}`)
	if r := post(`{ "page": {"size":10, "n":1}, "q": "go" }`); !r.FromCache() {
		t.Errorf("same JSON with other key order: not served from cache")
	}
	if r := post(`{"q":"rust","page":{"n":1,"size":10}}`); r.FromCache() {
		t.Errorf("different JSON served from cache")
	}
	if got := o.count(); got != 2 {
		t.Errorf("origin hits = %d, want 2", got)
	}
	// The body read for the key still reached the origin intact.
	if got := o.last().Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("origin saw Content-Type %q", got)
	}
}

func TestMatchedAndIgnoredInAllFourPlaces(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})
	c := restycache.New(
		restycache.WithAllowedMethods("GET", "POST"),
		restycache.WithMatchHeaders("Accept", "X-Request-Id"),
		restycache.WithIgnoredParams("auth_token", "X-Request-Id"),
	)
	defer c.Close()

	cases := []struct {
		name  string
		a, b  func() *restycache.Request
		share bool
	}{
		{"ignored query param", func() *restycache.Request { return c.R().SetQueryParam("auth_token", "1") },
			func() *restycache.Request { return c.R().SetQueryParam("auth_token", "2") }, true},
		{"other query param", func() *restycache.Request { return c.R().SetQueryParam("p", "1") },
			func() *restycache.Request { return c.R().SetQueryParam("p", "2") }, false},
		{"matched header", func() *restycache.Request { return c.R().SetHeader("Accept", "text/plain") },
			func() *restycache.Request { return c.R().SetHeader("Accept", "text/html") }, false},
		{"unmatched header", func() *restycache.Request { return c.R().SetHeader("X-Other", "1") },
			func() *restycache.Request { return c.R().SetHeader("X-Other", "2") }, true},
		{"ignored header", func() *restycache.Request { return c.R().SetHeader("X-Request-Id", "1") },
			func() *restycache.Request { return c.R().SetHeader("X-Request-Id", "2") }, true},
		{"ignored JSON field", func() *restycache.Request {
			return c.R().SetHeader("Content-Type", "application/json").SetBody(`{"q":1,"auth_token":"a"}`)
		}, func() *restycache.Request {
			return c.R().SetHeader("Content-Type", "application/json").SetBody(`{"q":1,"auth_token":"b"}`)
		}, true},
		{"other JSON field", func() *restycache.Request {
			return c.R().SetHeader("Content-Type", "application/json").SetBody(`{"q":1}`)
		}, func() *restycache.Request {
			return c.R().SetHeader("Content-Type", "application/json").SetBody(`{"q":2}`)
		}, false},
		{"ignored form field", func() *restycache.Request {
			return c.R().SetFormData(map[string]string{"q": "1", "auth_token": "a"})
		}, func() *restycache.Request {
			return c.R().SetFormData(map[string]string{"q": "1", "auth_token": "b"})
		}, true},
		{"other form field", func() *restycache.Request { return c.R().SetFormData(map[string]string{"q": "1"}) },
			func() *restycache.Request { return c.R().SetFormData(map[string]string{"q": "2"}) }, false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := o.URL + "/case" + string(rune('a'+i))
			if _, err := tc.a().Post(url); err != nil {
				t.Fatal(err)
			}
			r, err := tc.b().Post(url)
			if err != nil {
				t.Fatal(err)
			}
			if r.FromCache() != tc.share {
				t.Errorf("second request FromCache = %v, want %v", r.FromCache(), tc.share)
			}
		})
	}
}

func TestExpirationPrecedence(t *testing.T) {
	o := jsonOrigin(t)
	clk := newClock()
	c := restycache.New(
		restycache.WithClock(clk.Now),
		restycache.WithExpireAfter(time.Hour),
		restycache.WithURLExpireAfter("127.0.0.1*/pattern*", 10*time.Minute),
	)
	defer c.Close()

	get(t, c, o.URL+"/default")
	get(t, c, o.URL+"/pattern")
	r, err := c.R().SetCacheTTL(time.Minute).Get(o.URL + "/pattern-and-request")
	if err != nil {
		t.Fatal(err)
	}
	if want := r.CachedAt().Add(time.Minute); !r.ExpiresAt().Equal(want) {
		t.Errorf("per-request ExpiresAt = %v, want %v", r.ExpiresAt(), want)
	}

	check := func(after time.Duration, path string, wantHit bool) {
		t.Helper()
		if r := get(t, c, o.URL+path); r.FromCache() != wantHit {
			t.Errorf("after %v: %s FromCache = %v, want %v", after, path, r.FromCache(), wantHit)
		}
	}
	clk.Advance(2 * time.Minute)
	check(2*time.Minute, "/pattern-and-request", false) // 1m per-request TTL beat the 10m pattern
	check(2*time.Minute, "/pattern", true)
	clk.Advance(10 * time.Minute)
	check(12*time.Minute, "/pattern", false) // 10m pattern beat the 1h default
	check(12*time.Minute, "/default", true)
	clk.Advance(time.Hour)
	check(72*time.Minute, "/default", false) // read after expiry: refetched
	if got := o.count(); got != 6 {
		t.Errorf("origin hits = %d, want 6", got)
	}
}

func TestAbsoluteAndSpecialLifetimes(t *testing.T) {
	o := jsonOrigin(t)
	clk := newClock()
	at := clk.Now().Add(5 * time.Minute)
	c := restycache.New(restycache.WithClock(clk.Now), restycache.WithExpireAfter(at))
	defer c.Close()

	if r := get(t, c, o.URL+"/abs"); !r.ExpiresAt().Equal(at) {
		t.Errorf("ExpiresAt = %v, want %v", r.ExpiresAt(), at)
	}
	r, err := c.R().SetCacheExpiration(restycache.NeverExpire).Get(o.URL + "/never")
	if err != nil || !r.ExpiresAt().IsZero() {
		t.Fatalf("NeverExpire: ExpiresAt = %v, err %v", r.ExpiresAt(), err)
	}
	clk.Advance(time.Hour)
	if r := get(t, c, o.URL+"/never"); !r.FromCache() {
		t.Errorf("NeverExpire entry not served after an hour")
	}
	if r := get(t, c, o.URL+"/abs"); r.FromCache() {
		t.Errorf("entry served after its absolute expiry")
	}
}

func TestDoNotCacheSkipsReadAndWrite(t *testing.T) {
	o := jsonOrigin(t)
	c := restycache.New(restycache.WithURLExpireAfter("127.0.0.1*/private*", restycache.DoNotCache))
	defer c.Close()

	get(t, c, o.URL+"/private/a")
	if r := get(t, c, o.URL+"/private/a"); r.FromCache() || r.CacheStatus() != restycache.CacheBypass {
		t.Errorf("URL-pattern DoNotCache: status %v", r.CacheStatus())
	}
	// A stored response is not read by a DoNotCache request, and a
	// DoNotCache request does not overwrite it.
	get(t, c, o.URL+"/public")
	r, _ := c.R().SetCacheExpiration(restycache.DoNotCache).Get(o.URL + "/public")
	if r.FromCache() {
		t.Errorf("per-request DoNotCache read the cache")
	}
	// DoNotCache wins over a per-request TTL on a DoNotCache URL.
	r, _ = c.R().SetCacheTTL(time.Hour).Get(o.URL + "/private/a")
	if r.CacheStatus() != restycache.CacheBypass {
		t.Errorf("per-request TTL on a DoNotCache URL: status %v, want bypass", r.CacheStatus())
	}
	if n, _ := c.Cache().Len(context.Background()); n != 1 {
		t.Errorf("stored entries = %d, want 1", n)
	}
	if got := o.count(); got != 5 {
		t.Errorf("origin hits = %d, want 5", got)
	}
	// The client default can be DoNotCache too.
	off := restycache.New(restycache.WithExpireAfter(restycache.DoNotCache))
	defer off.Close()
	get(t, off, o.URL+"/x")
	if r := get(t, off, o.URL+"/x"); r.FromCache() {
		t.Errorf("default DoNotCache: served from cache")
	}
}

func TestPerRequestControls(t *testing.T) {
	o := jsonOrigin(t)
	c := restycache.New()
	defer c.Close()
	url := o.URL + "/controls"

	if r, _ := c.R().SetCacheOnlyIfCached(true).Get(url); r.StatusCode() != http.StatusGatewayTimeout ||
		!strings.Contains(r.Status(), "only-if-cached") || r.CacheStatus() != restycache.CacheOnlyIfCachedMiss {
		t.Errorf("only-if-cached miss: %q status %v", r.Status(), r.CacheStatus())
	}
	if o.count() != 0 {
		t.Fatalf("only-if-cached contacted the origin")
	}
	get(t, c, url)
	if r, _ := c.R().SetCacheOnlyIfCached(true).Get(url); !r.FromCache() || r.StatusCode() != 200 {
		t.Errorf("only-if-cached hit: %d from cache %v", r.StatusCode(), r.FromCache())
	}
	if r, _ := c.R().SetCacheBypass(true).Get(url); r.FromCache() || r.CacheStatus() != restycache.CacheBypass {
		t.Errorf("bypass: status %v", r.CacheStatus())
	}
	if r, _ := c.R().SetCacheRefresh(true).Get(url); r.FromCache() || r.CacheStatus() != restycache.CacheRefresh {
		t.Errorf("refresh: status %v", r.CacheStatus())
	}
	if got := o.count(); got != 3 {
		t.Errorf("origin hits = %d, want 3", got)
	}

	// A custom key: two URLs share one entry.
	get(t, c, url) // hit, no origin
	if _, err := c.R().SetCacheKey("my-key").Get(o.URL + "/one"); err != nil {
		t.Fatal(err)
	}
	r, _ := c.R().SetCacheKey("my-key").Get(o.URL + "/two")
	if !r.FromCache() || r.CacheKey() != "my-key" || !strings.Contains(r.String(), "/one") {
		t.Errorf("custom key: from cache %v key %q body %q", r.FromCache(), r.CacheKey(), r.String())
	}
}

func TestWithoutCacheIsScopedToItsContext(t *testing.T) {
	o := jsonOrigin(t)
	c := restycache.New()
	defer c.Close()
	url := o.URL + "/ctx"
	get(t, c, url)

	off := restycache.WithoutCache(context.Background())
	r, _ := c.R().SetContext(off).Get(url)
	if r.FromCache() {
		t.Errorf("WithoutCache context read the cache")
	}
	child, cancel := context.WithCancel(off)
	defer cancel()
	if r, _ := c.R().SetContext(child).Get(url); r.FromCache() {
		t.Errorf("a context derived from WithoutCache read the cache")
	}
	if r, _ := c.R().SetContext(context.Background()).Get(url); !r.FromCache() {
		t.Errorf("another context was affected")
	}
	other := restycache.New()
	defer other.Close()
	get(t, other, url)
	if r := get(t, other, url); !r.FromCache() {
		t.Errorf("another client was affected")
	}
}

func TestCancelledContextFailsEvenOnAHit(t *testing.T) {
	o := jsonOrigin(t)
	c := restycache.New()
	defer c.Close()
	get(t, c, o.URL+"/c")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.R().SetContext(ctx).Get(o.URL + "/c"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	c := restycache.New()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestRestyFeaturesOnHitsAndMisses(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"name":"gopher","age":16}`))
	})
	var after, success, middleware int
	c := restycache.New().
		SetBaseURL(o.URL).
		SetHeader("X-Client", "1").
		OnBeforeRequest(func(*resty.Client, *resty.Request) error { middleware++; return nil }).
		OnAfterResponse(func(*resty.Client, *resty.Response) error { after++; return nil }).
		OnSuccess(func(*resty.Client, *resty.Response) { success++ })
	defer c.Close()

	type person struct {
		Name string `json:"name"`
		Age  int    `json:"age"`
	}
	for i, wantCache := range []bool{false, true} {
		var p person
		r, err := c.R().SetResult(&p).Get("/person")
		if err != nil {
			t.Fatal(err)
		}
		if r.FromCache() != wantCache || p.Name != "gopher" || p.Age != 16 {
			t.Errorf("call %d: FromCache=%v result=%+v", i, r.FromCache(), p)
		}
		if res, ok := r.Result().(*person); !ok || res.Name != "gopher" {
			t.Errorf("call %d: Result() = %#v", i, r.Result())
		}
		if after != i+1 || success != i+1 || middleware != i+1 {
			t.Errorf("call %d: after=%d success=%d middleware=%d, want each %d", i, after, success, middleware, i+1)
		}
	}
	if got := o.last().Header.Get("X-Client"); got != "1" {
		t.Errorf("client header = %q", got)
	}
}

func TestRetriesSkipTheCacheRead(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})
	c := restycache.New().SetRetryCount(1).SetRetryWaitTime(time.Millisecond).
		AddRetryCondition(func(r *resty.Response, err error) bool { return r != nil && r.Request.Attempt == 1 })
	defer c.Close()
	r, err := c.R().Get(o.URL + "/retry")
	if err != nil {
		t.Fatal(err)
	}
	// Attempt 1 misses and stores; attempt 2 must not be answered by it.
	if got := o.count(); got != 2 {
		t.Errorf("origin hits = %d, want 2 (the retry went to the origin)", got)
	}
	if r.Request.Attempt != 2 || r.FromCache() {
		t.Errorf("attempt %d FromCache %v", r.Request.Attempt, r.FromCache())
	}
}
