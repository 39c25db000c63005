package restycache_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/restycache/restycache"
)

// exampleOrigin starts a local origin that answers every request with a
// small JSON document naming its path, and counts the requests.
func exampleOrigin() (*httptest.Server, *atomic.Int64) {
	calls := new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	}))
	return srv, calls
}

// New is used in place of resty.New: the second identical request is
// answered from the cache.
func ExampleNew() {
	origin, calls := exampleOrigin()
	defer origin.Close()

	c := restycache.New()
	defer c.Close()

	for range 2 {
		resp, err := c.R().Get(origin.URL + "/items")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(resp.StatusCode(), resp.String(), "FromCache:", resp.FromCache(), resp.CacheStatus())
	}
	fmt.Println("origin calls:", calls.Load())
	// Output:
	// 200 {"path":"/items"} FromCache: false miss
	// 200 {"path":"/items"} FromCache: true hit
	// origin calls: 1
}

// URL patterns give responses to matching URLs their own lifetime; here
// everything under /live/ is never cached.
func ExampleWithURLExpireAfter() {
	origin, calls := exampleOrigin()
	defer origin.Close()

	c := restycache.New(
		restycache.WithURLExpireAfter("*/live/*", restycache.DoNotCache),
		restycache.WithURLExpireAfter("*/static/*", restycache.NeverExpire),
	)
	defer c.Close()

	for _, path := range []string{"/live/score", "/live/score", "/static/logo", "/static/logo"} {
		resp, err := c.R().Get(origin.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(path, resp.CacheStatus())
	}
	fmt.Println("origin calls:", calls.Load())
	// Output:
	// /live/score bypass
	// /live/score bypass
	// /static/logo miss
	// /static/logo hit
	// origin calls: 3
}

// A per-request TTL overrides every other expiration setting.
func ExampleRequest_SetCacheTTL() {
	origin, _ := exampleOrigin()
	defer origin.Close()

	c := restycache.New(restycache.WithExpireAfter(time.Hour))
	defer c.Close()

	resp, err := c.R().SetCacheTTL(time.Minute).Get(origin.URL + "/quote")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("fresh for:", resp.ExpiresAt().Sub(resp.CachedAt()))

	resp, err = c.R().Get(origin.URL + "/other")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("fresh for:", resp.ExpiresAt().Sub(resp.CachedAt()))
	// Output:
	// fresh for: 1m0s
	// fresh for: 1h0m0s
}

// Cache inspects what a client has stored.
func ExampleCache_Keys() {
	origin, _ := exampleOrigin()
	defer origin.Close()

	c := restycache.New()
	defer c.Close()

	var keys []string
	for _, path := range []string{"/a", "/b", "/a"} {
		resp, err := c.R().Get(origin.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		keys = append(keys, resp.CacheKey())
	}

	ctx := context.Background()
	n, err := c.Cache().Len(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("stored:", n)

	var stored []string
	for key, err := range c.Cache().Keys(ctx, restycache.FreshEntries) {
		if err != nil {
			fmt.Println(err)
			return
		}
		stored = append(stored, key)
	}
	slices.Sort(stored)
	want := slices.Compact(slices.Sorted(slices.Values(keys)))
	fmt.Println("keys are the responses' CacheKey:", slices.Equal(stored, want))

	var urls []string
	for u, err := range c.Cache().URLs(ctx, restycache.AllEntries) {
		if err != nil {
			fmt.Println(err)
			return
		}
		urls = append(urls, strings.TrimPrefix(u, origin.URL))
	}
	slices.Sort(urls)
	fmt.Println("urls:", urls)
	// Output:
	// stored: 2
	// keys are the responses' CacheKey: true
	// urls: [/a /b]
}

// A context made by WithoutCache keeps every request made with it away from
// the cache, and no other request.
func ExampleWithoutCache() {
	origin, calls := exampleOrigin()
	defer origin.Close()

	c := restycache.New()
	defer c.Close()

	ctx := restycache.WithoutCache(context.Background())
	for range 2 {
		resp, err := c.R().SetContext(ctx).Get(origin.URL + "/live")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(resp.CacheStatus(), resp.FromCache())
	}
	resp, err := c.R().Get(origin.URL + "/live")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.CacheStatus(), resp.FromCache())
	fmt.Println("origin calls:", calls.Load())
	// Output:
	// bypass false
	// bypass false
	// miss false
	// origin calls: 3
}
