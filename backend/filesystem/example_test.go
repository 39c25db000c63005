package filesystem_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/restycache/restycache/backend/filesystem"
)

func Example() {
	dir, err := os.MkdirTemp("", "restycache-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	// Lazy: nothing is created until the first call. At most 64 MiB,
	// least recently used entries evicted beyond that.
	store := filesystem.New(filepath.Join(dir, "http-cache"), filesystem.Options{MaxBytes: 64 << 20})
	defer store.Close()

	if err := store.Set(ctx, "greeting", []byte("hello"), time.Now().Add(time.Hour)); err != nil {
		fmt.Println(err)
		return
	}
	v, err := store.Get(ctx, "greeting")
	fmt.Println(string(v), err)
	n, err := store.Len(ctx, "")
	fmt.Println(n, err)
	// Output:
	// hello <nil>
	// 1 <nil>
}

func ExampleOpen() {
	f, err := os.CreateTemp("", "not-a-directory")
	if err != nil {
		fmt.Println(err)
		return
	}
	f.Close()
	defer os.Remove(f.Name())

	// Open reports a path it cannot use at once.
	_, err = filesystem.Open(context.Background(), f.Name())
	fmt.Println(errors.Is(err, filesystem.ErrNotDir))
	// Output:
	// true
}
