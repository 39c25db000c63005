package memory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/memory"
)

func Example() {
	ctx := context.Background()
	store := memory.New() // unbounded; nothing to configure
	defer store.Close()

	_ = store.Set(ctx, "greeting", []byte("hello"), time.Now().Add(time.Hour))
	v, err := store.Get(ctx, "greeting")
	fmt.Println(string(v), err)

	_, err = store.Get(ctx, "absent")
	fmt.Println(errors.Is(err, backend.ErrNotFound))
	// Output:
	// hello <nil>
	// true
}

func ExampleOptions() {
	ctx := context.Background()
	store := memory.New(memory.Options{MaxEntries: 2})
	defer store.Close()

	_ = store.Set(ctx, "a", []byte("1"), time.Time{})
	_ = store.Set(ctx, "b", []byte("2"), time.Time{})
	_, _ = store.Get(ctx, "a")                        // "a" is now the most recently used
	_ = store.Set(ctx, "c", []byte("3"), time.Time{}) // evicts "b"

	for _, k := range []string{"a", "b", "c"} {
		_, err := store.Get(ctx, k)
		fmt.Println(k, err == nil)
	}
	// Output:
	// a true
	// b false
	// c true
}
