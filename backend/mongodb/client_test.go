package mongodb

import (
	"testing"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/internal/clienttest"
	"github.com/restycache/restycache/internal/testenv"
)

// TestClient runs the client's end-to-end suite over MongoDB: a database
// of this test's own per store name, and a second Backend (with a client of
// its own) for the same name.
func TestClient(t *testing.T) {
	uri := testenv.Require(t, "RESTYCACHE_MONGODB_URI")
	dbFor := testDatabases(t, testClient(t))
	clienttest.Run(t, func(t *testing.T, name string) backend.Storage {
		return New(uri, Options{Database: dbFor(name)})
	})
}
