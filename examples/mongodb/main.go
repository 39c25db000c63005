// Command mongodb caches a resty client's responses in MongoDB: it starts a
// slow local origin on 127.0.0.1, fetches the same URL twice, and prints how
// long each request took and whether it came from the cache. The entries
// live in the collection "responses" of the database "restycache_example".
//
// It connects to RESTYCACHE_MONGODB_URI, by default
// mongodb://127.0.0.1:27017/. Any MongoDB 4.4 or later will do, or FerretDB
// (the MongoDB wire protocol over SQLite, no other server needed), built
// and started as the project's .ci/servers-mongo-dynamo.sh does:
//
//	ferretdb --handler=sqlite --sqlite-url=file:/tmp/ferret-data/ \
//	  --listen-addr=127.0.0.1:27017 --state-dir=/tmp/ferret-state \
//	  --debug-addr=- --telemetry=disable
//	go run ./examples/mongodb
//
// It exits with a message when no server answers.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/restycache/restycache"
	rcmongo "github.com/restycache/restycache/backend/mongodb"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	uri := os.Getenv("RESTYCACHE_MONGODB_URI")
	if uri == "" {
		uri = "mongodb://127.0.0.1:27017/"
	}
	// Open connects at once, so a missing server is reported here rather
	// than by the first request (where the cache would quietly fall back
	// to the origin).
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	store, err := rcmongo.Open(ctx, uri, rcmongo.Options{Database: "restycache_example"})
	if err != nil {
		return fmt.Errorf("no MongoDB server answers at %s (set RESTYCACHE_MONGODB_URI): %w", uri, err)
	}
	if err := store.TTLIndex(ctx); err != nil {
		fmt.Println("note: expired entries stay until DeleteExpired:", err)
	}

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

	c := restycache.New(restycache.WithBackend(store), restycache.WithExpireAfter(time.Hour))
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
