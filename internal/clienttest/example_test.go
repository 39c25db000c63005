package clienttest_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/backend/sqlite"
	"github.com/restycache/restycache/internal/clienttest"
)

// A backend's test passes Run an Opener. A store that lives on disk or on a
// server is reopened by name, so two clients of one name share it; a store
// that lives in its Backend's memory hands out the same instance instead.
func Example() {
	dir := "/path/from/t.TempDir"
	var files clienttest.Opener = func(t *testing.T, name string) backend.Storage {
		return sqlite.New(filepath.Join(dir, name))
	}

	var mu sync.Mutex
	stores := map[string]*memory.Backend{}
	var inMemory clienttest.Opener = func(t *testing.T, name string) backend.Storage {
		mu.Lock()
		defer mu.Unlock()
		if stores[name] == nil {
			stores[name] = memory.New()
		}
		return stores[name]
	}

	// In a test function: clienttest.Run(t, files); clienttest.Run(t, inMemory)
	fmt.Println(files != nil, inMemory != nil)
	// Output: true true
}
