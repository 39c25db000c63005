package dynamodb_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/restycache/restycache"
	rcdynamo "github.com/restycache/restycache/backend/dynamodb"
)

// The cache in DynamoDB, in one expression: New uses the AWS SDK's default
// configuration chain and contacts nothing until the first request. (No
// output: it needs a server.)
func Example() {
	c := restycache.New(
		restycache.WithBackend(rcdynamo.New("http-cache")),
		restycache.WithExpireAfter(time.Hour),
	)
	defer c.Close()
	resp, err := c.R().Get("http://127.0.0.1:8080/items")
	fmt.Println(resp.FromCache(), err)
}

// Open against a local emulator, creating the table if it is missing; a
// missing table without CreateTable, or no answer, is reported at once.
func ExampleOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := rcdynamo.Open(ctx, "http-cache", rcdynamo.Options{
		Endpoint:    "http://127.0.0.1:8000",
		Region:      "us-east-1",
		CreateTable: true,
	})
	if errors.Is(err, rcdynamo.ErrTableNotFound) {
		fmt.Println("create the table first:", err)
		return
	}
	if err != nil {
		fmt.Println("no cache:", err)
		return
	}
	defer store.Close()
	if err := store.TimeToLive(ctx); err != nil {
		fmt.Println("note: expired items stay until DeleteExpired:", err)
	}
}

// A Backend on the application's own client and table.
func ExampleNewFromClient() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	store := rcdynamo.NewFromClient(dynamodb.NewFromConfig(cfg), "http-cache", rcdynamo.Options{
		TTLAttribute: "expires_at", // the table's existing TTL attribute
	})
	defer store.Close()
	fmt.Println(store.Ping(context.Background()))
}
