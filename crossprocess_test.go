package restycache_test

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	goredis "github.com/redis/go-redis/v9"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/dragonfly"
	rcdynamo "github.com/restycache/restycache/backend/dynamodb"
	rcmongo "github.com/restycache/restycache/backend/mongodb"
	rcredis "github.com/restycache/restycache/backend/redis"
	"github.com/restycache/restycache/internal/testenv"
)

// sharedBackends are the backends that processes share through a server,
// by the variable holding the server's address. Each is opened with the
// key prefix it is given, so that runs do not see each other's entries.
var sharedBackends = []struct {
	name, env string
	open      func(addr, prefix string) backend.Storage
}{
	{"redis", "RESTYCACHE_REDIS_URL", func(addr, prefix string) backend.Storage {
		return rcredis.New(addr, rcredis.Options{Prefix: prefix})
	}},
	{"dragonfly", "RESTYCACHE_DRAGONFLY_URL", func(addr, prefix string) backend.Storage {
		return dragonfly.New(addr, rcredis.Options{Prefix: prefix})
	}},
	{"redis-cluster", "RESTYCACHE_REDIS_CLUSTER_ADDRS", func(addrs, prefix string) backend.Storage {
		c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: strings.Split(addrs, ","), ContextTimeoutEnabled: true})
		return rcredis.NewFromClient(c, rcredis.Options{Prefix: prefix})
	}},
	{"mongodb", "RESTYCACHE_MONGODB_URI", func(uri, prefix string) backend.Storage {
		return rcmongo.New(uri, rcmongo.Options{Database: prefix})
	}},
	{"dynamodb", "RESTYCACHE_DYNAMODB_ENDPOINT", func(endpoint, prefix string) backend.Storage {
		return rcdynamo.New(prefix, rcdynamo.Options{Endpoint: endpoint, Region: "us-east-1", CreateTable: true,
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	}},
}

// Environment of the child processes of TestCrossProcessCoalescing.
const (
	childBackendEnv = "RESTYCACHE_TEST_CHILD_BACKEND"
	childPrefixEnv  = "RESTYCACHE_TEST_CHILD_PREFIX"
	childURLEnv     = "RESTYCACHE_TEST_CHILD_URL"
	childRequests   = 20
)

// Several OS processes on one shared store, one slow cold URL, 40
// concurrent requests split between two processes: exactly one origin hit,
// every answer complete. The processes are this test binary, run again.
func TestCrossProcessCoalescing(t *testing.T) {
	if name := os.Getenv(childBackendEnv); name != "" {
		crossProcessChild(t, name)
		return
	}
	for _, sb := range sharedBackends {
		t.Run(sb.name, func(t *testing.T) {
			testenv.Require(t, sb.env)
			release := make(chan struct{})
			body := strings.Repeat("shared answer ", 100)
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				<-release
				_, _ = w.Write([]byte(body))
			})
			prefix := "xproc-" + randomHex(t)
			var children []*exec.Cmd
			var ready sync.WaitGroup
			results := make(chan string, 2*childRequests)
			for range 2 {
				cmd := exec.Command(os.Args[0], "-test.run=^TestCrossProcessCoalescing$", "-test.v")
				cmd.Env = append(os.Environ(), childBackendEnv+"="+sb.name, childPrefixEnv+"="+prefix, childURLEnv+"="+o.URL+"/cold")
				cmd.Stderr = os.Stderr
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				children = append(children, cmd)
				ready.Add(1)
				go func() {
					sc := bufio.NewScanner(out)
					sc.Buffer(make([]byte, 64<<10), 1<<20)
					signalled := false
					for sc.Scan() {
						line := sc.Text()
						switch {
						case line == "child: waiting":
							signalled = true
							ready.Done()
						case strings.HasPrefix(line, "child: result "):
							results <- strings.TrimPrefix(line, "child: result ")
						}
					}
					if !signalled {
						ready.Done()
					}
				}()
			}
			// Every request of both processes is on its way: one holds
			// the lock and waits for the origin, the others wait for
			// its entry.
			ready.Wait()
			close(release)
			for _, cmd := range children {
				if err := cmd.Wait(); err != nil {
					t.Errorf("child process: %v", err)
				}
			}
			close(results)
			n := 0
			for r := range results {
				n++
				if r != fmt.Sprintf("ok %d", len(body)) {
					t.Errorf("a request got %q", r)
				}
			}
			if n != 2*childRequests {
				t.Errorf("%d results, want %d", n, 2*childRequests)
			}
			if got := o.count(); got != 1 {
				t.Errorf("origin hits = %d for two processes, want 1", got)
			}
		})
	}
}

// crossProcessChild is one process of TestCrossProcessCoalescing: it sends
// childRequests concurrent GETs, says when all of them wait in the cache,
// and prints each result.
func crossProcessChild(t *testing.T, name string) {
	var open func(addr, prefix string) backend.Storage
	var addr string
	for _, sb := range sharedBackends {
		if sb.name == name {
			open, addr = sb.open, os.Getenv(sb.env)
		}
	}
	if open == nil {
		t.Fatalf("unknown backend %q", name)
	}
	c := restycache.New(
		restycache.WithBackend(open(addr, os.Getenv(childPrefixEnv))),
		restycache.WithCrossProcessCoalescing(20*time.Second),
		restycache.WithLogger(slog.New(slog.DiscardHandler)),
	)
	defer c.Close()
	url := os.Getenv(childURLEnv)
	var wg sync.WaitGroup
	var mu sync.Mutex
	print := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Println(s)
	}
	for range childRequests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.R().Get(url)
			switch {
			case err != nil:
				print("child: result error " + err.Error())
			default:
				print(fmt.Sprintf("child: result ok %d", len(r.Body())))
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for c.CacheTransport().Waiting() < childRequests && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	print("child: waiting")
	wg.Wait()
}

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
