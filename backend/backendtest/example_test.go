package backendtest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/backendtest"
	"github.com/restycache/restycache/backend/memory"
)

// A backend whose store lives in its own memory returns the same instance
// for the same name; a backend over a shared store (a file, a server)
// would return a second client of that store instead.
func ExampleOpener() {
	var mu sync.Mutex
	stores := map[string]backend.Storage{}
	open := backendtest.Opener(func(t *testing.T, name string) backend.Storage {
		mu.Lock()
		defer mu.Unlock()
		if s, ok := stores[name]; ok {
			return s
		}
		s := memory.New()
		stores[name] = s
		return s
	})
	// In a test: backendtest.Run(t, open). This Opener never uses t.
	a, b := open(nil, "twoinstances"), open(nil, "twoinstances")
	_ = a.Set(context.Background(), "k", []byte("shared"), time.Time{})
	v, _ := b.Get(context.Background(), "k")
	fmt.Println(string(v))
	// Output: shared
}
