package filesystem

import (
	"path/filepath"
	"testing"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/internal/clienttest"
)

// TestClient runs the client's end-to-end suite over directories: one per
// store name, and a second Backend on the same directory for the same name.
func TestClient(t *testing.T) {
	base := t.TempDir()
	clienttest.Run(t, func(t *testing.T, name string) backend.Storage {
		return New(filepath.Join(base, name))
	})
}

// TestClientBounded runs it with a size limit far above what it stores.
func TestClientBounded(t *testing.T) {
	base := t.TempDir()
	clienttest.Run(t, func(t *testing.T, name string) backend.Storage {
		return New(filepath.Join(base, name), Options{MaxBytes: 256 << 20, MaxEntries: 10_000})
	})
}
