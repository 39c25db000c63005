package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
	rcmongo "github.com/restycache/restycache/backend/mongodb"
)

// The cache in MongoDB, in one expression: New connects lazily, so it
// never fails. (No output: it needs a server.)
func Example() {
	c := restycache.New(
		restycache.WithBackend(rcmongo.New("mongodb://127.0.0.1:27017/")),
		restycache.WithExpireAfter(time.Hour),
	)
	defer c.Close()
	resp, err := c.R().Get("http://127.0.0.1:8080/items")
	fmt.Println(resp.FromCache(), err)
}

// Open connects at once and reports an unreachable server or a bad URI.
func ExampleOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	store, err := rcmongo.Open(ctx, "mongodb://127.0.0.1:27017/", rcmongo.Options{
		Database:   "myapp",
		Collection: "http_cache",
	})
	if err != nil {
		fmt.Println("no cache:", err)
		return
	}
	defer store.Close()
	// A server without TTL indexes (FerretDB) still works: reads skip
	// expired entries, and DeleteExpired removes them.
	if err := store.TTLIndex(ctx); err != nil {
		fmt.Println("note:", err)
	}
}

// A Backend on the application's own client; Close leaves it connected.
func ExampleNewFromClient() {
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017/"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Disconnect(context.Background())

	store := rcmongo.NewFromClient(client)
	defer store.Close()
	ctx := context.Background()
	if err := store.Set(ctx, "k", []byte("v"), time.Now().Add(time.Minute)); err != nil {
		fmt.Println(err)
	}
	_, err = store.Get(ctx, "absent")
	fmt.Println(errors.Is(err, backend.ErrNotFound))
}
