package restycache_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/restycache/restycache"
)

func TestCacheStatusHeader(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Etag", `"v1"`)
		if r.URL.Path == "/burst" {
			<-release
		}
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte("v1"))
	})
	clk := newClock()
	c := restycache.New(restycache.WithCacheStatusHeader("restycache"), restycache.WithClock(clk.Now),
		restycache.WithExpireAfter(time.Minute), restycache.WithStaleWhileRevalidate(time.Minute), quiet)
	defer c.Close()
	status := func(r *restycache.Response) string { return r.Header().Get("Cache-Status") }
	url := o.URL + "/cs"

	if got := status(mustGet(t, c, url)); got != "restycache; fwd=miss; stored" {
		t.Errorf("miss: Cache-Status %q", got)
	}
	clk.Advance(10 * time.Second)
	if got := status(mustGet(t, c, url)); got != "restycache; hit; ttl=50" {
		t.Errorf("hit: Cache-Status %q, want ttl=50", got)
	}
	clk.Advance(80 * time.Second) // 30s past expiry, inside stale-while-revalidate
	if got := status(mustGet(t, c, url)); got != "restycache; hit; ttl=-30" {
		t.Errorf("stale: Cache-Status %q, want a negative ttl", got)
	}
	if r, err := c.R().SetCacheBypass(true).Get(url); err != nil || status(r) != "restycache; fwd=bypass" {
		t.Errorf("bypass: Cache-Status %q (%v)", status(r), err)
	}
	if r, err := c.R().SetCacheRefresh(true).Get(o.URL + "/refresh"); err != nil || status(r) != "restycache; fwd=request; stored" {
		t.Errorf("refresh: Cache-Status %q (%v)", status(r), err)
	}
	if r, err := c.R().SetCacheOnlyIfCached(true).Get(o.URL + "/nothing"); err != nil || status(r) != `restycache; detail="only-if-cached"` {
		t.Errorf("only-if-cached: Cache-Status %q (%v)", status(r), err)
	}

	// Revalidated with a 304.
	d := restycache.New(restycache.WithCacheStatusHeader("rc"), restycache.WithClock(clk.Now),
		restycache.WithExpireAfter(time.Minute), quiet)
	defer d.Close()
	mustGet(t, d, url)
	clk.Advance(2 * time.Minute)
	if got := status(mustGet(t, d, url)); !regexp.MustCompile(`^rc; fwd=stale; fwd-status=304; ttl=(59|60)$`).MatchString(got) {
		t.Errorf("revalidated: Cache-Status %q", got)
	}

	// Coalesced waiters are collapsed.
	const callers = 5
	statuses := make(chan string, callers)
	for range callers {
		go func() {
			r, err := d.R().Get(o.URL + "/burst")
			if err != nil {
				statuses <- err.Error()
				return
			}
			statuses <- status(r)
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for d.CacheTransport().Waiting() < callers {
		if time.Now().After(deadline) {
			t.Fatal("callers not waiting")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	counts := map[string]int{}
	for range callers {
		counts[<-statuses]++
	}
	if counts["rc; fwd=miss; stored"] != 1 || counts["rc; fwd=uri-miss; collapsed"] != callers-1 {
		t.Errorf("coalesced burst: Cache-Status values %v", counts)
	}
}

func TestCacheStatusHeaderOffByDefault(t *testing.T) {
	o := jsonOrigin(t)
	c := restycache.New(quiet)
	defer c.Close()
	for range 2 {
		if r := mustGet(t, c, o.URL+"/x"); r.Header().Get("Cache-Status") != "" {
			t.Errorf("Cache-Status %q without WithCacheStatusHeader", r.Header().Get("Cache-Status"))
		}
	}
}

// A Cache-Status from caches nearer the origin is kept, ours last; a plain
// http.Client through the cache's transport gets the header too.
func TestCacheStatusHeaderAppendsAndWorksWithoutResty(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Status", "cdn; fwd=miss")
		_, _ = w.Write([]byte("x"))
	})
	c := restycache.New(restycache.WithCacheStatusHeader("app"), quiet)
	defer c.Close()
	hc := &http.Client{Transport: c.CacheTransport()}
	for i, want := range []string{"cdn; fwd=miss, app; fwd=miss; stored", "cdn; fwd=miss, app; hit"} {
		resp, err := hc.Get(o.URL + "/plain")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Cache-Status"); got != want {
			t.Errorf("request %d: Cache-Status %q, want %q", i, got, want)
		}
	}
}

func TestCacheStatusHeaderNameMustBeAToken(t *testing.T) {
	for _, name := range []string{"", "1cache", "my cache", `"quoted"`, "a;b", "x,y"} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "WithCacheStatusHeader") {
					t.Errorf("WithCacheStatusHeader(%q): panic %v, want one naming the option", name, r)
				}
			}()
			restycache.New(restycache.WithCacheStatusHeader(name)).Close()
		}()
	}
	for _, name := range []string{"restycache", "*", "edge/cache:1", "A-b_c.d"} {
		restycache.New(restycache.WithCacheStatusHeader(name)).Close()
	}
}
