package dragonfly_test

import (
	"context"
	"fmt"
	"time"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend/dragonfly"
	rcredis "github.com/restycache/restycache/backend/redis"
)

// Example needs a Dragonfly (or any Redis-protocol) server on 127.0.0.1:6379,
// so it is compiled but not run by go test.
func Example() {
	c := restycache.New(
		restycache.WithBackend(dragonfly.New("redis://127.0.0.1:6379/0", rcredis.Options{Prefix: "myapp"})),
		restycache.WithExpireAfter(10*time.Minute),
	)
	defer c.Close()
	resp, err := c.R().Get("https://example.com/")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.FromCache())
}

func ExampleOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Open reports an unparsable URL or an unreachable server at once.
	_, err := dragonfly.Open(ctx, "redis://127.0.0.1:6379/not-a-db")
	fmt.Println(err)
	// Output:
	// restycache/redis: invalid URL: redis: invalid database number: "not-a-db"
}
