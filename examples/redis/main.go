// Command redis shows restycache on a Redis server: it starts a slow local
// origin on 127.0.0.1, fetches the same URL twice through a client cached in
// Redis, and prints how long each request took and whether it came from the
// cache.
//
// It needs a Redis server (or Valkey, or DragonflyDB) at the URL in
// RESTYCACHE_REDIS_URL, by default redis://127.0.0.1:6379/0. To start a
// throwaway one on Debian or Ubuntu:
//
//	sudo apt-get install -y --no-install-recommends redis-server
//	redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no &
//	go run ./examples/redis
//
// or, with Docker, docker run --rm -p 127.0.0.1:6379:6379 redis:7. The
// example writes only keys under the prefix "restycache-example:" and
// clears them when it starts.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/restycache/restycache"
	rcredis "github.com/restycache/restycache/backend/redis"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "redis example:", err)
		os.Exit(1)
	}
}

func run() error {
	url := os.Getenv("RESTYCACHE_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// Open, unlike New, checks the server at once.
	store, err := rcredis.Open(ctx, url, rcredis.Options{Prefix: "restycache-example"})
	if err != nil {
		return fmt.Errorf("no Redis server answers at %s (set RESTYCACHE_REDIS_URL; see go doc ./examples/redis): %w", url, err)
	}

	// A slow origin: every answer takes half a second.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(500 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"items":["gopher","resty","cache"],"served_at":%q}`, time.Now().Format(time.RFC3339))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	origin := "http://" + ln.Addr().String() + "/items"

	c := restycache.New(restycache.WithBackend(store), restycache.WithExpireAfter(time.Hour))
	defer c.Close() // closes store, and with it the client Open built
	// Start from an empty cache, so every run shows a miss then a hit.
	if err := c.Cache().Clear(ctx); err != nil {
		return err
	}
	for i := 1; i <= 2; i++ {
		start := time.Now()
		resp, err := c.R().SetCacheTTL(time.Minute).Get(origin)
		if err != nil {
			return err
		}
		fmt.Printf("request %d: %-4s in %8v  FromCache=%-5v  %s\n",
			i, resp.Status(), time.Since(start).Round(time.Microsecond), resp.FromCache(), resp.String())
	}
	return nil
}
