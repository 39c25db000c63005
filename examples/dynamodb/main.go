// Command dynamodb caches a resty client's responses in DynamoDB: it starts
// a slow local origin on 127.0.0.1, fetches the same URL twice, and prints
// how long each request took and whether it came from the cache. The
// entries live in the table "restycache_example", created if missing.
//
// It talks to RESTYCACHE_DYNAMODB_ENDPOINT, by default
// http://127.0.0.1:8000, a local DynamoDB-compatible server such as
// DynamoDB Local or dynoxide (a single static binary, from the npm package
// @dynoxide/linux-x64; run it by path):
//
//	npm install --prefix /tmp/dyn @dynoxide/linux-x64
//	/tmp/dyn/node_modules/@dynoxide/linux-x64/dynoxide serve --port 8000 &
//	go run ./examples/dynamodb
//
// Region and credentials come from the AWS environment (AWS_REGION,
// AWS_ACCESS_KEY_ID, ...) when it is set, else us-east-1 and placeholder
// keys, which a local server accepts. It exits with a message when no
// server answers.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/restycache/restycache"
	rcdynamo "github.com/restycache/restycache/backend/dynamodb"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	o := rcdynamo.Options{
		Endpoint:    os.Getenv("RESTYCACHE_DYNAMODB_ENDPOINT"),
		CreateTable: true,
	}
	if o.Endpoint == "" {
		o.Endpoint = "http://127.0.0.1:8000"
	}
	if os.Getenv("AWS_REGION") == "" {
		o.Region = "us-east-1"
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		o.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
	}
	// Open creates the table and checks it at once, so a missing server
	// is reported here rather than by the first request (where the cache
	// would quietly fall back to the origin).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := rcdynamo.Open(ctx, "restycache_example", o)
	if err != nil {
		return fmt.Errorf("no DynamoDB endpoint answers at %s (set RESTYCACHE_DYNAMODB_ENDPOINT): %w", o.Endpoint, err)
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
