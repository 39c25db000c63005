package memory_test

import (
	"sync"
	"testing"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/internal/clienttest"
)

// TestClient runs the client's end-to-end suite over the memory backend. A
// memory store lives in its Backend, so the same name gives the same
// instance.
func TestClient(t *testing.T) {
	var mu sync.Mutex
	stores := map[string]*memory.Backend{}
	clienttest.Run(t, func(t *testing.T, name string) backend.Storage {
		mu.Lock()
		defer mu.Unlock()
		if b, ok := stores[name]; ok {
			return b
		}
		b := memory.New()
		stores[name] = b
		return b
	})
}
