package restycache_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/filesystem"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/backend/sqlite"
	"github.com/restycache/restycache/internal/testenv"
)

// Load test sizes: workers × requests each, over loadURLs URLs.
const (
	loadWorkers = 64
	loadURLs    = 200
)

// A bounded load of hits, misses, HEADs, POST invalidations and refreshes in
// header mode, on every backend (64 workers × loadRequests over 200 URLs;
// a seventh of that on stores whose writes are slow): no request fails and
// every body is the one its URL names.
func TestLoad(t *testing.T) {
	type loadBackend struct {
		name string
		open func(t *testing.T) backend.Storage
		// slow marks a store whose every write costs a file or an
		// emulator's milliseconds: it gets a seventh of the requests.
		slow bool
	}
	backends := []loadBackend{
		{"memory", func(*testing.T) backend.Storage { return memory.New() }, false},
		{"sqlite", func(t *testing.T) backend.Storage { return sqlite.New(filepath.Join(t.TempDir(), "load")) }, false},
		{"filesystem", func(t *testing.T) backend.Storage { return filesystem.New(t.TempDir()) }, true},
	}
	for _, sb := range sharedBackends {
		open := func(t *testing.T) backend.Storage { return sb.open(testenv.Require(t, sb.env), "load-"+randomHex(t)) }
		backends = append(backends, loadBackend{sb.name, open, sb.name != "redis" && sb.name != "dragonfly"})
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			requests := loadRequests
			if b.slow {
				requests /= 7
			}
			var version atomic.Int64
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					version.Add(1)
					w.WriteHeader(http.StatusNoContent)
					return
				}
				w.Header().Set("Cache-Control", "max-age=60")
				w.Header().Set("ETag", `"e"`)
				if r.Header.Get("If-None-Match") == `"e"` {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				fmt.Fprintf(w, "body of %s", r.URL.Path)
			})
			c := restycache.New(restycache.WithBackend(b.open(t)), restycache.WithCacheControl(true), quiet)
			defer c.Close()
			var failures atomic.Int64
			fail := func(format string, args ...any) {
				if failures.Add(1) <= 5 {
					t.Errorf(format, args...)
				}
			}
			var wg sync.WaitGroup
			for w := range loadWorkers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(w), 7))
					for range requests {
						path := fmt.Sprintf("/item/%d", rng.IntN(loadURLs))
						req := c.R()
						var r *restycache.Response
						var err error
						switch n := rng.IntN(100); {
						case n < 3:
							r, err = req.SetBody("x").Post(o.URL + path)
						case n < 8:
							r, err = req.Head(o.URL + path)
						case n < 11:
							r, err = req.SetCacheRefresh(true).Get(o.URL + path)
						default:
							r, err = req.Get(o.URL + path)
						}
						if err != nil {
							fail("%s: %v", path, err)
							continue
						}
						method := r.Request.Method
						if method == http.MethodGet && r.String() != "body of "+path {
							fail("GET %s: body %q (%v)", path, r.String(), r.CacheStatus())
						}
						if method != http.MethodPost && r.StatusCode() != http.StatusOK {
							fail("%s %s: status %d", method, path, r.StatusCode())
						}
					}
				}()
			}
			wg.Wait()
			if n := failures.Load(); n > 0 {
				t.Errorf("%d of %d requests failed or got a wrong answer", n, loadWorkers*requests)
			}
			// Backend calls may time out on a loaded machine (64 writers
			// contend for SQLite's one write lock): those requests go to
			// the origin, which is what this test checks is harmless.
			if st := c.Cache().Stats(); st.Hits == 0 || st.Misses == 0 {
				t.Errorf("stats %+v: want hits and misses", st)
			}
			if strings.Contains(t.Name(), "memory") && version.Load() == 0 {
				t.Errorf("no POST was sent")
			}
		})
	}
}
