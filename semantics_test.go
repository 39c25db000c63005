package restycache_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/backend/sqlite"
)

// waitFor polls cond until it holds, failing the test after five seconds.
// It is for effects of background work that no channel reports.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// inBothModes runs f with request coalescing on and off, so that the
// shared (buffered) path and the streaming path can never drift apart.
func inBothModes(t *testing.T, f func(t *testing.T, mode restycache.Option)) {
	t.Helper()
	t.Run("coalescing", func(t *testing.T) { f(t, restycache.WithCoalescing(true)) })
	t.Run("alone", func(t *testing.T) { f(t, restycache.WithCoalescing(false)) })
}

// rfcClient is a client in header-honouring mode with a settable clock.
func rfcClient(t *testing.T, opts ...restycache.Option) (*restycache.Client, *clock) {
	t.Helper()
	clk := newClock()
	c := restycache.New(append([]restycache.Option{restycache.WithCacheControl(true), restycache.WithClock(clk.Now)}, opts...)...)
	t.Cleanup(func() { c.Close() })
	return c, clk
}

// headerOrigin answers with the given response headers and a body naming
// how many requests it has answered.
func headerOrigin(t *testing.T, kv ...string) *origin {
	var n atomic.Int64
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < len(kv); i += 2 {
			w.Header().Add(kv[i], kv[i+1])
		}
		fmt.Fprintf(w, "answer %d", n.Add(1))
	})
}

func TestHeaderModeFreshness(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		for _, tc := range []struct {
			name    string
			headers []string
			advance time.Duration
			wantHit bool
		}{
			{"max-age fresh", []string{"Cache-Control", "max-age=60"}, 30 * time.Second, true},
			{"max-age expired", []string{"Cache-Control", "max-age=60"}, 61 * time.Second, false},
			{"max-age minus Age", []string{"Cache-Control", "max-age=60", "Age", "50"}, 20 * time.Second, false},
			{"invalid max-age is stale", []string{"Cache-Control", "max-age=soon"}, 0, false},
			{"duplicate max-age is stale", []string{"Cache-Control", "max-age=60", "Cache-Control", "max-age=120"}, 0, false},
			{"case-insensitive, quoted", []string{"Cache-Control", `MAX-AGE="60"`}, 30 * time.Second, true},
			{"Expires in the future", []string{"Expires", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}, 0, true},
			{"invalid Expires is stale", []string{"Expires", "tomorrow"}, 0, false},
			{"past Expires is stale", []string{"Expires", "Thu, 01 Jan 1970 00:00:00 GMT"}, 0, false},
			{"no-store", []string{"Cache-Control", "no-store, max-age=60"}, 0, false},
			{"no-cache", []string{"Cache-Control", "no-cache, max-age=60"}, 0, false},
			{"Pragma no-cache", []string{"Pragma", "no-cache"}, 0, false},
			{"private is stored", []string{"Cache-Control", "private, max-age=60"}, 0, true},
			{"public is stored", []string{"Cache-Control", "public, max-age=60"}, 0, true},
			{"s-maxage ignored", []string{"Cache-Control", "s-maxage=0, max-age=60"}, 0, true},
			{"unknown directive ignored", []string{"Cache-Control", "foo=bar, max-age=60, baz"}, 0, true},
			{"heuristic fresh", []string{"Last-Modified", time.Now().Add(-100 * time.Hour).UTC().Format(http.TimeFormat)}, time.Hour, true},
			{"heuristic expired", []string{"Last-Modified", time.Now().Add(-100 * time.Hour).UTC().Format(http.TimeFormat)}, 11 * time.Hour, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				o := headerOrigin(t, tc.headers...)
				c, clk := rfcClient(t, mode, restycache.WithExpireAfter(time.Hour))
				get(t, c, o.URL+"/r")
				clk.Advance(tc.advance)
				if r := get(t, c, o.URL+"/r"); r.FromCache() != tc.wantHit {
					t.Errorf("FromCache = %v, want %v (status %v)", r.FromCache(), tc.wantHit, r.CacheStatus())
				}
			})
		}
	})
}

func TestHeaderModeOffKeepsSettings(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := headerOrigin(t, "Cache-Control", "no-store")
		c := restycache.New(mode)
		defer c.Close()
		get(t, c, o.URL+"/r")
		if r := get(t, c, o.URL+"/r"); !r.FromCache() {
			t.Errorf("with header honouring off, no-store must not stop caching")
		}
	})
}

func TestServedAgeHeader(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := headerOrigin(t, "Cache-Control", "max-age=600", "Age", "10")
		c, clk := rfcClient(t, mode)
		if r := get(t, c, o.URL+"/age"); r.Header().Get("Age") != "10" {
			t.Errorf("miss: Age = %q, want the origin's 10", r.Header().Get("Age"))
		}
		clk.Advance(25 * time.Second)
		r := get(t, c, o.URL+"/age")
		if !r.FromCache() || r.Header().Get("Age") != "35" {
			t.Errorf("hit after 25s: FromCache %v Age %q, want 35", r.FromCache(), r.Header().Get("Age"))
		}
	})
}

func TestHeaderModeStorableStatuses(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/gone":
				w.Header().Set("Cache-Control", "max-age=60")
				w.WriteHeader(http.StatusGone)
			case "/missing":
				w.WriteHeader(http.StatusNotFound)
			case "/unknown", "/unknown-public":
				// A status RFC 9110 does not define has a heuristic
				// lifetime only when public (RFC 9111 sections 3, 4.2.2).
				if r.URL.Path == "/unknown-public" {
					w.Header().Set("Cache-Control", "public")
				}
				w.Header().Set("Last-Modified", time.Now().Add(-100*time.Hour).UTC().Format(http.TimeFormat))
				w.WriteHeader(599)
			case "/moved":
				w.Header().Set("Cache-Control", "max-age=60")
				w.Header().Set("Location", "/elsewhere")
				w.WriteHeader(http.StatusMovedPermanently)
			default:
				w.Header().Set("Cache-Control", "no-store")
				_, _ = w.Write([]byte("elsewhere"))
			}
		})
		c, _ := rfcClient(t, mode)
		for _, tc := range []struct {
			path    string
			wantHit bool
		}{{"/gone", true}, {"/missing", false}, {"/unknown", false}, {"/unknown-public", true}} {
			get(t, c, o.URL+tc.path)
			if r := get(t, c, o.URL+tc.path); r.FromCache() != tc.wantHit {
				t.Errorf("%s: FromCache = %v, want %v", tc.path, r.FromCache(), tc.wantHit)
			}
		}
		// The cached 301 is served, and the redirect followed from it.
		get(t, c, o.URL+"/moved")
		before := o.count()
		get(t, c, o.URL+"/moved")
		if got := o.count() - before; got != 1 { // only /elsewhere, not cached: no freshness
			t.Errorf("second /moved: %d origin hits, want 1 (the 301 from cache)", got)
		}
		narrowed, _ := rfcClient(t, mode, restycache.WithAllowedCodes(200))
		get(t, narrowed, o.URL+"/gone")
		if r := get(t, narrowed, o.URL+"/gone"); r.FromCache() {
			t.Errorf("allowed codes did not narrow what is stored")
		}
	})
}

func TestRequestCacheControl(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := headerOrigin(t, "Cache-Control", "max-age=100", "ETag", `"e1"`)
		c, clk := rfcClient(t, mode)
		url := o.URL + "/req"
		get(t, c, url)
		clk.Advance(50 * time.Second)
		req := func(cc string) *restycache.Response {
			t.Helper()
			r, err := c.R().SetHeader("Cache-Control", cc).Get(url)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		if r := req("max-age=60"); !r.FromCache() {
			t.Errorf("max-age=60 at age 50: not served from cache")
		}
		if r := req("max-age=30"); r.FromCache() && !r.Revalidated() {
			t.Errorf("max-age=30 at age 50: served without contacting the origin")
		}
		clk.Advance(20 * time.Second) // age 20 after the refetch above
		if r := req("min-fresh=90"); r.CacheStatus() == restycache.CacheHit {
			t.Errorf("min-fresh=90 with 80s left: a plain hit")
		}
		if r := req("no-cache"); r.CacheStatus() == restycache.CacheHit {
			t.Errorf("no-cache: a plain hit")
		}
		before := o.count()
		if r := req("no-store"); r.FromCache() || o.count() != before+1 {
			t.Errorf("no-store: FromCache %v, origin hits +%d", r.FromCache(), o.count()-before)
		}
		clk.Advance(200 * time.Second)
		if r := req("only-if-cached"); r.StatusCode() != http.StatusGatewayTimeout {
			t.Errorf("only-if-cached with a stale entry: %d, want 504", r.StatusCode())
		}
		if r := req("only-if-cached, max-stale"); r.StatusCode() != http.StatusOK || !r.IsStale() {
			t.Errorf("only-if-cached with a usable stale entry: %d %v", r.StatusCode(), r.CacheStatus())
		}
		if r := req("max-stale=500"); !r.FromCache() || !r.IsStale() {
			t.Errorf("max-stale=500 on a stale entry: status %v", r.CacheStatus())
		}
		if r := req("max-stale"); !r.IsStale() {
			t.Errorf("bare max-stale: status %v", r.CacheStatus())
		}
		if r := req("max-stale=10"); r.IsStale() {
			t.Errorf("max-stale=10 served an entry stale for longer")
		}
		if r, _ := c.R().SetHeader("Cache-Control", "only-if-cached").Get(o.URL + "/never-seen"); r.StatusCode() != http.StatusGatewayTimeout {
			t.Errorf("only-if-cached miss: %d, want 504", r.StatusCode())
		}
		// Our own per-request markers never reach the origin.
		r, _ := c.R().SetCacheRefresh(true).SetCacheTTL(time.Minute).Get(url)
		if cc := o.last().Header.Get("Cache-Control"); cc != "" || r.FromCache() {
			t.Errorf("origin saw Cache-Control %q", cc)
		}
	})
}

func TestRevalidationWith304(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		var version atomic.Int64
		version.Store(1)
		var sawINM, sawIMS atomic.Value
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			etag := fmt.Sprintf(`W/"v%d"`, version.Load())
			sawINM.Store(r.Header.Get("If-None-Match"))
			sawIMS.Store(r.Header.Get("If-Modified-Since"))
			w.Header().Set("Cache-Control", "max-age=10")
			w.Header().Set("ETag", etag)
			w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
			w.Header().Set("X-Version", fmt.Sprint(version.Load()))
			if r.Header.Get("If-None-Match") == etag {
				w.Header().Set("X-Revalidated", "yes")
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fmt.Fprintf(w, "body v%d", version.Load())
		})
		c, clk := rfcClient(t, mode)
		url := o.URL + "/doc"
		get(t, c, url)
		clk.Advance(11 * time.Second)
		r := get(t, c, url)
		if !r.Revalidated() || r.String() != "body v1" || r.Header().Get("X-Revalidated") != "yes" {
			t.Fatalf("304: revalidated %v body %q X-Revalidated %q", r.Revalidated(), r.String(), r.Header().Get("X-Revalidated"))
		}
		if sawINM.Load() != `W/"v1"` || sawIMS.Load() != "Mon, 02 Jan 2006 15:04:05 GMT" {
			t.Errorf("validators sent: INM %q IMS %q", sawINM.Load(), sawIMS.Load())
		}
		// The 304 reset the entry's age and expiry.
		if r.Header().Get("Age") != "0" {
			t.Errorf("Age after revalidation = %q, want 0", r.Header().Get("Age"))
		}
		clk.Advance(5 * time.Second)
		if r := get(t, c, url); r.CacheStatus() != restycache.CacheHit || r.Header().Get("X-Revalidated") != "yes" {
			t.Errorf("after revalidation: status %v, merged headers kept %q", r.CacheStatus(), r.Header().Get("X-Revalidated"))
		}
		// A changed resource replaces the entry.
		version.Store(2)
		clk.Advance(11 * time.Second)
		if r := get(t, c, url); r.Revalidated() || r.String() != "body v2" {
			t.Errorf("changed resource: revalidated %v body %q", r.Revalidated(), r.String())
		}
		if r := get(t, c, url); !r.FromCache() || r.String() != "body v2" {
			t.Errorf("replacement not stored: %v %q", r.CacheStatus(), r.String())
		}
		// A caller's own conditional request is answered by the fresh
		// entry (TestCallerConditionalRequests has the rest).
		r, err := c.R().SetHeader("If-None-Match", `W/"v2"`).Get(url)
		if err != nil || r.StatusCode() != http.StatusNotModified || !r.FromCache() {
			t.Errorf("caller's conditional request: %d FromCache %v err %v", r.StatusCode(), r.FromCache(), err)
		}
	})
}

func TestNoLongerStorableAnswerDeletesTheEntry(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		var noStore atomic.Bool
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			if noStore.Load() {
				w.Header().Set("Cache-Control", "no-store")
			} else {
				w.Header().Set("Cache-Control", "max-age=10")
			}
			_, _ = w.Write([]byte("x"))
		})
		c, clk := rfcClient(t, mode)
		get(t, c, o.URL+"/x")
		noStore.Store(true)
		clk.Advance(11 * time.Second)
		get(t, c, o.URL+"/x")
		if n, _ := c.Cache().Len(context.Background()); n != 0 {
			t.Errorf("entry kept after a no-store answer: Len = %d", n)
		}
	})
}

func TestVaryVariants(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/star" {
				w.Header().Set("Vary", "*")
			} else {
				w.Header().Set("Vary", "Accept-Language")
			}
			w.Header().Set("Cache-Control", "max-age=60")
			fmt.Fprintf(w, "lang=%s", r.Header.Get("Accept-Language"))
		})
		c, _ := rfcClient(t, mode)
		lang := func(l, path string) *restycache.Response {
			t.Helper()
			r, err := c.R().SetHeader("Accept-Language", l).Get(o.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		lang("en", "/v")
		lang("de", "/v")
		for _, l := range []string{"en", "de"} {
			if r := lang(l, "/v"); !r.FromCache() || r.String() != "lang="+l {
				t.Errorf("%s: FromCache %v body %q", l, r.FromCache(), r.String())
			}
		}
		if r := lang("fr", "/v"); r.FromCache() {
			t.Errorf("an unseen variant was served from cache")
		}
		if o.count() != 3 {
			t.Errorf("origin hits = %d, want 3", o.count())
		}
		lang("en", "/star")
		if r := lang("en", "/star"); r.FromCache() {
			t.Errorf("Vary: * served from cache")
		}
	})
}

func TestUnsafeMethodsInvalidate(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.URL.Query().Has("fail") {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			if r.Method == http.MethodPost {
				w.Header().Set("Location", "/items/2")
				w.Header().Set("Content-Location", "https://other.example/items/3")
				w.WriteHeader(http.StatusCreated)
				return
			}
			w.Header().Set("Cache-Control", "max-age=600")
			fmt.Fprint(w, r.URL.Path)
		})
		c, _ := rfcClient(t, mode)
		for _, p := range []string{"/items", "/items/2", "/items/9"} {
			get(t, c, o.URL+p)
		}
		if _, err := c.R().SetBody("new").Post(o.URL + "/items"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			path    string
			wantHit bool
		}{{"/items", false}, {"/items/2", false}, {"/items/9", true}} {
			if r := get(t, c, o.URL+tc.path); r.FromCache() != tc.wantHit {
				t.Errorf("%s after POST: FromCache %v, want %v", tc.path, r.FromCache(), tc.wantHit)
			}
		}
		// A failed unsafe request invalidates nothing; a successful one with
		// an unknown method does.
		if _, err := c.R().Delete(o.URL + "/items/9?fail"); err != nil {
			t.Fatal(err)
		}
		get(t, c, o.URL+"/items/9?fail")
		if _, err := c.R().Delete(o.URL + "/items/9?fail"); err != nil {
			t.Fatal(err)
		}
		if r := get(t, c, o.URL+"/items/9?fail"); !r.FromCache() {
			t.Errorf("a failed DELETE invalidated the entry")
		}
		if _, err := c.R().Execute("PURGE", o.URL+"/items/9"); err != nil {
			t.Fatal(err)
		}
		if r := get(t, c, o.URL+"/items/9"); r.FromCache() {
			t.Errorf("an unknown method did not invalidate")
		}
	})
}

func TestHeadFromGet(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("X-Method", r.Method)
			if r.Method == http.MethodGet {
				_, _ = w.Write([]byte("full body"))
			}
		})
		c, _ := rfcClient(t, mode)
		get(t, c, o.URL+"/h")
		r, err := c.R().Head(o.URL + "/h")
		if err != nil || !r.FromCache() || r.Header().Get("X-Method") != "GET" || len(r.Body()) != 0 {
			t.Fatalf("HEAD after GET: FromCache %v X-Method %q body %q err %v", r.FromCache(), r.Header().Get("X-Method"), r.Body(), err)
		}
		// A HEAD response never replaces a GET body.
		if _, err := c.R().SetCacheRefresh(true).Head(o.URL + "/h"); err != nil {
			t.Fatal(err)
		}
		if r := get(t, c, o.URL+"/h"); !r.FromCache() || r.String() != "full body" {
			t.Errorf("GET after HEAD: FromCache %v body %q", r.FromCache(), r.String())
		}
	})
}

func TestStaleWhileRevalidate(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		release := make(chan struct{})
		var n atomic.Int64
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) > 1 {
				<-release // the background revalidation waits until told
			}
			w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=60")
			fmt.Fprintf(w, "v%d", n.Load())
		})
		c, clk := rfcClient(t, mode)
		url := o.URL + "/swr"
		get(t, c, url)
		clk.Advance(20 * time.Second)
		for i := range 5 {
			r := get(t, c, url)
			if !r.IsStale() || !r.FromCache() || r.String() != "v1" {
				t.Fatalf("call %d in the window: status %v body %q", i, r.CacheStatus(), r.String())
			}
		}
		close(release)
		// Close waits for the background revalidation, which stored v2.
		waitFor(t, func() bool {
			r, _ := c.R().SetCacheOnlyIfCached(true).Get(url)
			return r.String() == "v2"
		})
		if got := o.count(); got != 2 {
			t.Errorf("origin hits = %d, want 2: one background revalidation for five stale hits", got)
		}
		clk.Advance(200 * time.Second) // past the window: revalidated before use
		if r := get(t, c, url); r.IsStale() {
			t.Errorf("outside the window: served stale")
		}
	})
}

func TestStaleWhileRevalidateOptionAndClose(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		reached := make(chan struct{})
		cancelled := make(chan struct{})
		var n atomic.Int64
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) > 1 {
				close(reached)
				<-r.Context().Done() // until the client gives up
				close(cancelled)
				return
			}
			_, _ = w.Write([]byte("ok"))
		})
		clk := newClock()
		c := restycache.New(mode, restycache.WithClock(clk.Now), restycache.WithExpireAfter(time.Minute),
			restycache.WithStaleWhileRevalidate(time.Hour))
		get(t, c, o.URL+"/o")
		clk.Advance(2 * time.Minute)
		if r := get(t, c, o.URL+"/o"); !r.IsStale() || r.String() != "ok" {
			t.Errorf("WithStaleWhileRevalidate: status %v %q", r.CacheStatus(), r.String())
		}
		<-reached // the background revalidation is at the origin
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		// Close stopped the revalidation and waited for it: the origin saw the
		// request cancelled.
		select {
		case <-cancelled:
		case <-time.After(5 * time.Second):
			t.Fatal("the background revalidation outlived Close")
		}
	})
}

func TestStaleIfError(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		var fail atomic.Bool
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			if fail.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Cache-Control", "max-age=10, stale-if-error=60")
			_, _ = w.Write([]byte("good"))
		})
		c, clk := rfcClient(t, mode)
		url := o.URL + "/sie"
		get(t, c, url)
		fail.Store(true)
		clk.Advance(30 * time.Second)
		if r := get(t, c, url); !r.IsStale() || r.String() != "good" || r.StatusCode() != 200 {
			t.Errorf("5xx inside the window: status %v %d %q", r.CacheStatus(), r.StatusCode(), r.String())
		}
		clk.Advance(60 * time.Second)
		if r := get(t, c, url); r.StatusCode() != http.StatusServiceUnavailable {
			t.Errorf("5xx outside the window: %d, want 503", r.StatusCode())
		}
		// A request directive widens the window; a network error counts too.
		o.Close()
		r, err := c.R().SetHeader("Cache-Control", "stale-if-error=3600").Get(url)
		if err != nil || !r.IsStale() || r.String() != "good" {
			t.Errorf("network error with request stale-if-error: %v %v %q", err, r.CacheStatus(), r.String())
		}
		if _, err := c.R().Get(url); err == nil {
			t.Errorf("network error outside every window: no error")
		}
	})
}

func TestStaleIfErrorOption(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		var fail atomic.Bool
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			if fail.Load() {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			_, _ = w.Write([]byte("good"))
		})
		clk := newClock()
		c := restycache.New(mode, restycache.WithClock(clk.Now), restycache.WithExpireAfter(time.Minute), restycache.WithStaleIfError(time.Hour))
		defer c.Close()
		get(t, c, o.URL+"/x")
		fail.Store(true)
		clk.Advance(10 * time.Minute)
		if r := get(t, c, o.URL+"/x"); !r.IsStale() || r.String() != "good" {
			t.Errorf("WithStaleIfError: %v %q", r.CacheStatus(), r.String())
		}
	})
}

func TestMustRevalidateForbidsStale(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		var fail atomic.Bool
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			if fail.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Cache-Control", "max-age=10, must-revalidate, stale-if-error=60, stale-while-revalidate=60")
			_, _ = w.Write([]byte("good"))
		})
		c, clk := rfcClient(t, mode)
		get(t, c, o.URL+"/m")
		fail.Store(true)
		clk.Advance(20 * time.Second)
		if r := get(t, c, o.URL+"/m"); r.IsStale() || r.StatusCode() != http.StatusServiceUnavailable {
			t.Errorf("must-revalidate: served stale (%v %d)", r.CacheStatus(), r.StatusCode())
		}
	})
}

func TestCoalescing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		backend func(t *testing.T) backend.Storage
	}{
		{"memory", func(*testing.T) backend.Storage { return memory.New() }},
		{"cold sqlite", func(t *testing.T) backend.Storage { return sqlite.New(filepath.Join(t.TempDir(), "cold")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				<-release
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"shared":true}`))
			})
			statuses := burst(t, restycache.WithBackend(tc.backend(t)), o, "/cold", release)
			if o.count() != 1 {
				t.Errorf("origin hits = %d, want 1", o.count())
			}
			if statuses[restycache.CacheMiss] != 1 {
				t.Errorf("statuses = %v, want one miss and the rest coalesced or hits", statuses)
			}
		})
	}
}

func TestCoalescedRevalidation(t *testing.T) {
	release := make(chan struct{})
	var n atomic.Int64
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 1 {
			<-release
		}
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("ETag", `"x"`)
		if r.Header.Get("If-None-Match") == `"x"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte(`{"shared":true}`))
	})
	clk := newClock()
	opts := []restycache.Option{restycache.WithCacheControl(true), restycache.WithClock(clk.Now)}
	c := restycache.New(opts...)
	defer c.Close()
	get(t, c, o.URL+"/stale") // stored, fresh for 10s
	clk.Advance(time.Minute)
	statuses := burst(t, nil, o, "/stale", release, c)
	if o.count() != 2 {
		t.Errorf("origin hits = %d, want 2 (one revalidation for the whole burst)", o.count())
	}
	if statuses[restycache.CacheRevalidated] != 1 {
		t.Errorf("statuses = %v, want one revalidated and the rest coalesced or hits", statuses)
	}
}

// burst sends 200 concurrent GETs for path through a client (c, or a new
// one made with opt, which burst closes) while the origin holds its answer until release is
// closed, which burst does once every request has been sent and the origin
// has one to answer. It checks every body and returns the statuses.
func burst(t *testing.T, opt restycache.Option, o *origin, path string, release chan struct{}, c ...*restycache.Client) map[restycache.CacheStatus]int {
	t.Helper()
	const callers = 200
	var client *restycache.Client
	if len(c) > 0 {
		client = c[0]
	} else {
		client = restycache.New(opt)
		defer client.Close()
	}
	arrived := make(chan struct{}, callers)
	client.OnBeforeRequest(func(*resty.Client, *resty.Request) error {
		arrived <- struct{}{}
		return nil
	})
	before := o.count()
	var wg sync.WaitGroup
	results := make(chan *restycache.Response, callers)
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := client.R().Get(o.URL + path)
			if err != nil {
				errs <- err
				return
			}
			results <- r
		}()
	}
	for range callers {
		<-arrived
	}
	waitFor(t, func() bool { return o.count() == before+1 })
	close(release)
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	statuses := map[restycache.CacheStatus]int{}
	for r := range results {
		statuses[r.CacheStatus()]++
		if r.String() != `{"shared":true}` {
			t.Errorf("a caller got %q", r.String())
		}
	}
	return statuses
}

func TestManagingVariants(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Vary", "Accept")
			w.Header().Set("Cache-Control", "max-age=60")
			fmt.Fprint(w, r.Header.Get("Accept"))
		})
		c, _ := rfcClient(t, mode)
		ctx := context.Background()
		r, err := c.R().SetHeader("Accept", "text/plain").Get(o.URL + "/v")
		if err != nil {
			t.Fatal(err)
		}
		if e, err := c.Cache().Get(ctx, r.CacheKey()); err != nil || string(e.Body) != "text/plain" {
			t.Errorf("Get(variant key) = %v, %v", e, err)
		}
		urls := collect(t, c.Cache().URLs(ctx, restycache.AllEntries))
		if len(urls) != 1 || !strings.HasSuffix(urls[0], "/v") {
			t.Errorf("URLs = %q, want the one variant's URL", urls)
		}
		if n, err := c.Cache().DeleteURL(ctx, "GET", o.URL+"/v"); err != nil || n != 1 {
			t.Errorf("DeleteURL = %d, %v", n, err)
		}
		if r, _ := c.R().SetHeader("Accept", "text/plain").Get(o.URL + "/v"); r.FromCache() {
			t.Errorf("deleted variant served")
		}
	})
}
