package hooks_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/cache"
	"github.com/restycache/restycache/hooks"
)

// A Transport caches the GET responses of a plain http.Client: only the
// first request reaches the origin.
func ExampleNewTransport() {
	var calls atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fmt.Fprint(w, "hello from the origin")
	}))
	defer origin.Close()

	store := hooks.NewStore(memory.New(), hooks.StoreOptions{})
	defer store.Storage().Close()
	client := &http.Client{Transport: hooks.NewTransport(hooks.Config{
		Store:    store,
		Keyer:    cache.NewKeyer(cache.KeyOptions{}),
		Policy:   &cache.Policy{ExpireAfter: cache.Never()},
		Upstream: origin.Client().Transport,
	})}

	for range 3 {
		resp, err := client.Get(origin.URL + "/greeting")
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body) // the response is stored once read to its end
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	fmt.Println("origin calls:", calls.Load())
	fmt.Println("stored responses:", store.Stats().Writes)
	// Output:
	// 200 hello from the origin
	// 200 hello from the origin
	// 200 hello from the origin
	// origin calls: 1
	// stored responses: 1
}

// A State in the request's context carries per-request options to the
// Transport and reports what it did.
func ExampleWithState() {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	defer origin.Close()

	store := hooks.NewStore(memory.New(), hooks.StoreOptions{})
	defer store.Storage().Close()
	client := &http.Client{Transport: hooks.NewTransport(hooks.Config{
		Store:    store,
		Keyer:    cache.NewKeyer(cache.KeyOptions{}),
		Policy:   &cache.Policy{},
		Upstream: origin.Client().Transport,
	})}

	for _, opts := range []hooks.Options{
		{},
		{},
		{Bypass: true},
		{OnlyIfCached: true, Key: "never-stored"},
	} {
		st := &hooks.State{Options: opts}
		ctx := hooks.WithState(context.Background(), st)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, origin.URL+"/status", nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, st.Result().Status)
	}
	// Output:
	// 200 miss
	// 200 hit
	// 200 bypass
	// 504 only-if-cached miss
}
