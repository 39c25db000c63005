// Command quickstart shows restycache in one minute, offline: it starts a
// slow local origin on 127.0.0.1, fetches the same URL twice through a
// client cached in an embedded SQLite file (demo_cache.sqlite), and prints
// how long each request took and whether it came from the cache.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend/sqlite"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	// A slow origin: every answer takes a second.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Second)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"items":["gopher","resty","cache"],"served_at":%q}`, time.Now().Format(time.RFC3339))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/items"

	c := restycache.New(
		restycache.WithBackend(sqlite.New("demo_cache")),
		restycache.WithExpireAfter(time.Hour),
	)
	defer c.Close()
	// Start from an empty cache, so every run shows a miss then a hit.
	if err := c.Cache().Clear(context.Background()); err != nil {
		return err
	}

	for i := 1; i <= 2; i++ {
		start := time.Now()
		resp, err := c.R().SetCacheTTL(time.Minute).Get(url)
		if err != nil {
			return err
		}
		fmt.Printf("request %d: %-4s in %8v  FromCache=%-5v  %s\n",
			i, resp.Status(), time.Since(start).Round(time.Microsecond), resp.FromCache(), resp.String())
	}
	return nil
}
