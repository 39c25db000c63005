package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/restycache/restycache/backend/sqlite"
)

func Example() {
	dir, err := os.MkdirTemp("", "restycache-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	// Lazy: nothing is opened until the first call. The file is
	// demo_cache.sqlite, since the name has no extension.
	store := sqlite.New(filepath.Join(dir, "demo_cache"))
	defer store.Close()

	if err := store.Set(ctx, "greeting", []byte("hello"), time.Now().Add(time.Hour)); err != nil {
		fmt.Println(err)
		return
	}
	v, err := store.Get(ctx, "greeting")
	fmt.Println(string(v), err)

	_, err = os.Stat(filepath.Join(dir, "demo_cache.sqlite"))
	fmt.Println(err == nil)
	// Output:
	// hello <nil>
	// true
}

func ExampleOpen() {
	ctx := context.Background()
	// Open reports a bad path or table name at once.
	_, err := sqlite.Open(ctx, sqlite.MemoryPath, sqlite.Options{Table: "bad-name"})
	fmt.Println(err)

	store, err := sqlite.Open(ctx, sqlite.MemoryPath)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	fmt.Println(store.Ping(ctx))
	// Output:
	// restycache/sqlite: invalid table name "bad-name"
	// <nil>
}

func ExampleBackend_Scan() {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, sqlite.MemoryPath)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	expiry := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	_ = store.Set(ctx, "users:1", []byte("ada"), expiry)
	_ = store.Set(ctx, "users:2", []byte("grace"), time.Time{})
	_ = store.Set(ctx, "posts:1", []byte("hello"), time.Time{})

	// Keys, values and expiry in one pass, in key order.
	for r, err := range store.Scan(ctx, "users:") {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r.Key, string(r.Value), r.ExpiresAt.UTC().Year())
	}
	// Output:
	// users:1 ada 2100
	// users:2 grace 1
}

// A bounded cache: past 2 entries (or 1 MiB of values), Set evicts the
// least recently used.
func ExampleOptions_bounded() {
	dir, err := os.MkdirTemp("", "restycache-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	store := sqlite.New(filepath.Join(dir, "bounded"), sqlite.Options{MaxEntries: 2, MaxBytes: 1 << 20, Clock: clock})
	defer store.Close()
	for _, k := range []string{"a", "b", "c"} {
		_ = store.Set(ctx, k, []byte(k), time.Time{})
		now = now.Add(time.Second)
	}
	_, err = store.Get(ctx, "a")
	fmt.Println(err != nil)
	n, _ := store.Len(ctx, "")
	fmt.Println(n)
	// Output:
	// true
	// 2
}
