package bench_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bvcache "github.com/bartventer/httpcache"
	_ "github.com/bartventer/httpcache/store/memcache" // bartventer's memcache:// store
	"github.com/go-resty/resty/v2"
	redigo "github.com/gomodule/redigo/redis"
	gjcache "github.com/gregjones/httpcache"
	gjredis "github.com/gregjones/httpcache/redis"
	_ "github.com/mattn/go-sqlite3"
	goredis "github.com/redis/go-redis/v9"
	slcache "github.com/sandrolain/httpcache"
	slredis "github.com/sandrolain/httpcache/redis"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/filesystem"
	"github.com/restycache/restycache/backend/memory"
	rcredis "github.com/restycache/restycache/backend/redis"
	"github.com/restycache/restycache/backend/sqlite"
	"github.com/restycache/restycache/bench"
)

// redisURL returns the Redis server's URL from RESTYCACHE_REDIS_URL. It
// skips the benchmark when the variable is unset, and fails it instead when
// CI=true.
func redisURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("RESTYCACHE_REDIS_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("RESTYCACHE_REDIS_URL is not set (CI=true)")
		}
		tb.Skip("RESTYCACHE_REDIS_URL is not set")
	}
	return u
}

// redisAddr returns host:port of the Redis server (for redigo).
func redisAddr(tb testing.TB) string {
	tb.Helper()
	u, err := url.Parse(redisURL(tb))
	if err != nil {
		tb.Fatalf("RESTYCACHE_REDIS_URL: %v", err)
	}
	return u.Host
}

// rawRedis returns a go-redis client of the Redis server, closed at the
// end of the benchmark.
func rawRedis(tb testing.TB) *goredis.Client {
	tb.Helper()
	opt, err := goredis.ParseURL(redisURL(tb))
	if err != nil {
		tb.Fatalf("RESTYCACHE_REDIS_URL: %v", err)
	}
	c := goredis.NewClient(opt)
	tb.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("redis: %v", err)
	}
	return c
}

// redisCommands returns how many commands the Redis server has processed.
// On a server that only the benchmark uses (bench/run.sh starts one), the
// difference over a loop, less the INFO that reads it, is the loop's own.
func redisCommands(tb testing.TB, c *goredis.Client) int64 {
	tb.Helper()
	info, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		tb.Fatalf("redis INFO: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "total_commands_processed:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				tb.Fatalf("redis INFO: %v", err)
			}
			return n
		}
	}
	tb.Fatal("redis INFO: no total_commands_processed")
	return 0
}

// unique returns a name no other run of the suite uses: a key prefix.
func unique(tb testing.TB, name string) string {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	return "restycache-bench-" + name + "-" + hex.EncodeToString(b[:])
}

// upstream returns the transport every client of the suite sends its
// origin requests through: net/http's, with enough idle connections kept
// for parallel misses and bursts not to redial.
func upstream(tb testing.TB) *http.Transport {
	t := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute}
	tb.Cleanup(t.CloseIdleConnections)
	return t
}

// getter makes one GET and returns the body the caller read.
type getter interface {
	get(url string) ([]byte, int, error)
}

// restyGetter reads through a plain resty client.
type restyGetter struct{ c *resty.Client }

func (g restyGetter) get(u string) ([]byte, int, error) {
	resp, err := g.c.R().Get(u)
	if err != nil {
		return nil, 0, err
	}
	return resp.Body(), resp.StatusCode(), nil
}

// conditionalGetter sends If-None-Match through a plain resty client: the
// floor of a revalidation.
type conditionalGetter struct {
	c    *resty.Client
	etag string
}

func (g conditionalGetter) get(u string) ([]byte, int, error) {
	resp, err := g.c.R().SetHeader("If-None-Match", g.etag).Get(u)
	if err != nil {
		return nil, 0, err
	}
	return resp.Body(), resp.StatusCode(), nil
}

// cacheGetter reads through a restycache client.
type cacheGetter struct{ c *restycache.Client }

func (g cacheGetter) get(u string) ([]byte, int, error) {
	resp, err := g.c.R().Get(u)
	if err != nil {
		return nil, 0, err
	}
	return resp.Body(), resp.StatusCode(), nil
}

// httpGetter reads through a plain http.Client, with io.ReadAll as a
// caller that keeps the body does.
type httpGetter struct{ c *http.Client }

func (g httpGetter) get(u string) ([]byte, int, error) {
	resp, err := g.c.Get(u)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp.StatusCode, err
}

// impl is one cache (or floor) of the suite.
type impl struct {
	name  string // cache=NAME in benchmark names
	redis bool   // it uses the Redis server: report redis-cmds/op
	// client returns a getter over up; kind and size tell a floor what
	// to answer.
	client func(tb testing.TB, env *env, kind string, s bench.Size) getter
}

// env is what the cases of one benchmark share.
type env struct {
	origin *bench.Origin
	up     *http.Transport
	top    testing.TB // the top-level benchmark, which owns raw
	mu     sync.Mutex
	raw    *goredis.Client // for redis-cmds/op, opened on first use
}

func newEnv(tb testing.TB, latency time.Duration) *env {
	o := bench.NewOrigin(latency)
	tb.Cleanup(o.Close)
	return &env{origin: o, up: upstream(tb), top: tb}
}

// redis returns a go-redis client of the Redis server that lasts as long
// as the top-level benchmark; tb is the one that needs it, skipped or
// failed when there is no server.
func (e *env) redis(tb testing.TB) *goredis.Client {
	redisURL(tb)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.raw == nil {
		e.raw = rawRedis(e.top)
	}
	return e.raw
}

// ours returns a restycache client on s that follows Cache-Control (as the
// peers do, and as the origin's max-age and no-cache ask), over e's
// upstream, closed at the end of the benchmark.
func ours(tb testing.TB, e *env, s backend.Storage) *restycache.Client {
	c := restycache.New(restycache.WithBackend(s), restycache.WithCacheControl(true))
	c.SetTransport(e.up)
	tb.Cleanup(func() { c.Close() })
	return c
}

// benchKey is the 32-byte key of the signed and sealed cases.
var benchKey = []byte("restycache-bench-32-byte-key!!!!")

// oursEnveloped is the restycache client on memory with its records signed
// (WithSigningKeys) or sealed (WithEncryptionKeys) under benchKey.
func oursEnveloped(name string, opt restycache.Option) impl {
	return impl{name: "restycache." + name, client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
		c := restycache.New(restycache.WithBackend(memory.New()), restycache.WithCacheControl(true), opt)
		c.SetTransport(e.up)
		tb.Cleanup(func() { c.Close() })
		return cacheGetter{c}
	}}
}

func oursOn(name string, storage func(tb testing.TB, e *env) backend.Storage) impl {
	return impl{name: "restycache." + name, redis: name == "redis", client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
		return cacheGetter{ours(tb, e, storage(tb, e))}
	}}
}

func memoryStore(testing.TB, *env) backend.Storage { return memory.New() }

func sqliteStore(tb testing.TB, _ *env) backend.Storage {
	return sqlite.New(filepath.Join(tb.TempDir(), "cache.sqlite"))
}

func filesystemStore(tb testing.TB, _ *env) backend.Storage {
	return filesystem.New(tb.TempDir())
}

func redisStore(tb testing.TB, e *env) backend.Storage {
	prefix := unique(tb, "ours")
	s := rcredis.New(redisURL(tb), rcredis.Options{Prefix: prefix})
	// Registered before the client's Close, so run after it: the keys go
	// through the raw client.
	tb.Cleanup(func() { deleteRedisKeys(tb, e, prefix+"*") })
	return s
}

// The caches that every benchmark compares, through resty.
var (
	oursMemory     = oursOn("memory", memoryStore)
	oursSQLite     = oursOn("sqlite", sqliteStore)
	oursFilesystem = oursOn("filesystem", filesystemStore)
	oursRedis      = oursOn("redis", redisStore)
	oursSigned     = oursEnveloped("memory-signed", restycache.WithSigningKeys(benchKey))
	oursSealed     = oursEnveloped("memory-sealed", restycache.WithEncryptionKeys(benchKey))

	gregjonesMemory = impl{name: "gregjones.memory", client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
		t := gjcache.NewMemoryCacheTransport()
		t.Transport = e.up
		return restyGetter{resty.New().SetTransport(t)}
	}}
	gregjonesRedis = impl{name: "gregjones.redis", redis: true, client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
		t := gjcache.NewTransport(gjredis.NewWithClient(redigoConn(tb)))
		t.Transport = e.up
		return restyGetter{resty.New().SetTransport(t)}
	}}
	sandrolainMemory = impl{name: "sandrolain.memory", client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
		t := slcache.NewMemoryCacheTransport()
		t.Transport = e.up
		return restyGetter{resty.New().SetTransport(t)}
	}}
	sandrolainRedis = impl{name: "sandrolain.redis", redis: true, client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
		c, err := slredis.New(slredis.Config{Address: redisAddr(tb)})
		if err != nil {
			tb.Fatal(err)
		}
		if cl, ok := c.(io.Closer); ok {
			tb.Cleanup(func() { cl.Close() })
		}
		t := slcache.NewTransport(c)
		t.Transport = e.up
		return restyGetter{resty.New().SetTransport(t)}
	}}
	bartventerMemory = impl{name: "bartventer.memory", client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
		return restyGetter{resty.New().SetTransport(bvcache.NewTransport("memcache://", bvcache.WithUpstream(e.up)))}
	}}
)

// redigoConn is one redigo connection for gregjones/httpcache's Redis store,
// which takes a single redis.Conn: it is made safe for RunParallel with a
// mutex, as a program sharing it between goroutines would have to.
func redigoConn(tb testing.TB) redigo.Conn {
	c, err := redigo.Dial("tcp", redisAddr(tb))
	if err != nil {
		tb.Fatalf("redigo: %v", err)
	}
	tb.Cleanup(func() {
		// Its keys are "rediscache:" + URL; the URLs name this run's
		// origin port, so they are this run's own.
		c.Close()
	})
	return &lockedConn{Conn: c}
}

type lockedConn struct {
	mu sync.Mutex
	redigo.Conn
}

func (c *lockedConn) Do(cmd string, args ...any) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.Do(cmd, args...)
}

// deletePeerKeys removes the Redis keys the peers wrote for e's origin
// (theirs are "rediscache:" + URL).
func deletePeerKeys(tb testing.TB, e *env) {
	deleteRedisKeys(tb, e, "rediscache:"+e.origin.URL+"/*")
}

// deleteRedisKeys removes the Redis keys that match pattern.
func deleteRedisKeys(tb testing.TB, e *env, pattern string) {
	c := e.redis(tb)
	ctx := context.Background()
	iter := c.Scan(ctx, 0, pattern, 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("redis SCAN %s: %v", pattern, err)
	}
	if len(keys) > 0 {
		if err := c.Unlink(ctx, keys...).Err(); err != nil {
			tb.Errorf("redis UNLINK: %v", err)
		}
	}
}

// floorMap is resty over a RoundTripper answering from a map.
var floorMap = impl{name: "floor.map", client: func(tb testing.TB, e *env, kind string, s bench.Size) getter {
	return restyGetter{resty.New().SetTransport(mapFloor(kind, s))}
}}

func mapFloor(kind string, s bench.Size) *bench.FloorTransport {
	body := bench.Body(s.N)
	return &bench.FloorTransport{Header: bench.Header(kind, s), Get: func(*http.Request) ([]byte, error) { return body, nil }}
}

// floorRedisGet is resty over a RoundTripper that answers with one raw
// go-redis GET of the body: the floor of a Redis hit.
var floorRedisGet = impl{name: "floor.redis-get", redis: true, client: func(tb testing.TB, e *env, kind string, s bench.Size) getter {
	c := rawRedis(tb)
	key := unique(tb, "floor")
	ctx := context.Background()
	if err := c.Set(ctx, key, bench.Body(s.N), 0).Err(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Del(context.Background(), key) })
	t := &bench.FloorTransport{Header: bench.Header(kind, s), Get: func(r *http.Request) ([]byte, error) {
		return c.Get(r.Context(), key).Bytes()
	}}
	return restyGetter{resty.New().SetTransport(t)}
}}

// floorSQLiteSelect is resty over a RoundTripper that answers with one
// prepared point SELECT of the body from a SQLite file (WAL): the floor of
// a SQLite hit.
var floorSQLiteSelect = impl{name: "floor.sqlite-select", client: func(tb testing.TB, e *env, kind string, s bench.Size) getter {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(tb.TempDir(), "floor.sqlite")+"?_journal_mode=WAL")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (key TEXT PRIMARY KEY, value BLOB NOT NULL)`); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO t VALUES (?, ?)`, "k", bench.Body(s.N)); err != nil {
		tb.Fatal(err)
	}
	stmt, err := db.Prepare(`SELECT value FROM t WHERE key = ?`)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stmt.Close() })
	t := &bench.FloorTransport{Header: bench.Header(kind, s), Get: func(r *http.Request) ([]byte, error) {
		var v []byte
		err := stmt.QueryRowContext(r.Context(), "k").Scan(&v)
		return v, err
	}}
	return restyGetter{resty.New().SetTransport(t)}
}}

// The plain http.Client cases.
var (
	httpFloorMap = impl{name: "floor.map", client: func(tb testing.TB, e *env, kind string, s bench.Size) getter {
		return httpGetter{&http.Client{Transport: mapFloor(kind, s)}}
	}}
	httpOursMemory = impl{name: "restycache.memory", client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
		return httpGetter{&http.Client{Transport: ours(tb, e, memory.New()).CacheTransport()}}
	}}
	httpGregjonesMemory = impl{name: "gregjones.memory", client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
		t := gjcache.NewMemoryCacheTransport()
		t.Transport = e.up
		return httpGetter{&http.Client{Transport: t}}
	}}
	httpSandrolainMemory = impl{name: "sandrolain.memory", client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
		t := slcache.NewMemoryCacheTransport()
		t.Transport = e.up
		return httpGetter{&http.Client{Transport: t}}
	}}
	httpBartventerMemory = impl{name: "bartventer.memory", client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
		return httpGetter{&http.Client{Transport: bvcache.NewTransport("memcache://", bvcache.WithUpstream(e.up))}}
	}}
)

// floorBare is resty straight to the origin: what a miss costs without a
// cache.
var floorBare = impl{name: "floor.bare", client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
	return restyGetter{resty.New().SetTransport(e.up)}
}}

// floorTee is resty to the origin through a TeeTransport: the floor of a
// miss that keeps the body.
var floorTee = impl{name: "floor.tee", client: func(tb testing.TB, e *env, _ string, _ bench.Size) getter {
	return restyGetter{resty.New().SetTransport(&bench.TeeTransport{Upstream: e.up})}
}}

// floorConditional is resty sending If-None-Match to the origin, which
// answers 304: the floor of a revalidation.
var floorConditional = impl{name: "floor.conditional", client: func(tb testing.TB, e *env, _ string, s bench.Size) getter {
	return conditionalGetter{resty.New().SetTransport(e.up), bench.ETag(s)}
}}

// path returns the origin path of a case: /KIND/SIZE/CASE.
func path(kind string, s bench.Size, name string) string {
	return fmt.Sprintf("/%s/%s/%s", kind, s.Name, name)
}
