package redis_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
	rcredis "github.com/restycache/restycache/backend/redis"
)

// Example needs a Redis server on 127.0.0.1:6379, so it is compiled but not
// run by go test.
func Example() {
	// Lazy: nothing connects until the first call.
	c := restycache.New(
		restycache.WithBackend(rcredis.New("redis://127.0.0.1:6379/0", rcredis.Options{Prefix: "myapp"})),
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

// ExampleNewFromClient uses a Cluster client of the caller's; the Backend
// never closes it.
func ExampleNewFromClient() {
	cluster := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:                 []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"},
		ContextTimeoutEnabled: true, // let context deadlines bound socket reads
		PoolSize:              32,
	})
	defer cluster.Close()
	store := rcredis.NewFromClient(cluster, rcredis.Options{Prefix: "myapp"})
	defer store.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := store.Set(ctx, "k", []byte("v"), time.Now().Add(time.Hour)); err != nil {
		fmt.Println(err)
		return
	}
	v, err := store.Get(ctx, "k")
	fmt.Println(string(v), err)
}

func ExampleOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Open reports an unparsable URL (or an unreachable server) at once.
	_, err := rcredis.Open(ctx, "redis://127.0.0.1:6379/0?no_such_option=1")
	fmt.Println(errors.Is(err, rcredis.ErrInvalidURL), err)

	// New never fails; its calls report the same error.
	store := rcredis.New("http://127.0.0.1:6379")
	defer store.Close()
	_, err = store.Get(ctx, "k")
	fmt.Println(errors.Is(err, rcredis.ErrInvalidURL), errors.Is(err, backend.ErrNotFound))
	// Output:
	// true restycache/redis: invalid URL: redis: unexpected option: no_such_option
	// true false
}
