package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/sqlite"
	"github.com/restycache/restycache/internal/clienttest"
)

// TestClient runs the client's end-to-end suite over SQLite files: one file
// per store name, and a second Backend on the same file for the same name.
func TestClient(t *testing.T) {
	dir := t.TempDir()
	clienttest.Run(t, func(t *testing.T, name string) backend.Storage {
		return sqlite.New(filepath.Join(dir, name))
	})
}
