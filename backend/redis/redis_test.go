package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/backendtest"
	rcredis "github.com/restycache/restycache/backend/redis"
	"github.com/restycache/restycache/internal/testenv"
)

// runID keeps this run's keys apart from other runs and packages sharing
// the servers.
var runID = func() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// prefix returns a key prefix unique to this run, test and name.
func prefix(t testing.TB, name string) string {
	return "rctest-redis-" + runID + "-" + strings.ReplaceAll(t.Name(), "/", ".") + "-" + name
}

// rawClient is a plain go-redis client on url, closed when the test ends.
func rawClient(t testing.TB, url string) *goredis.Client {
	t.Helper()
	o, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// clusterClient is a go-redis Cluster client on the test cluster, closed
// when the test ends.
func clusterClient(t testing.TB) *goredis.ClusterClient {
	t.Helper()
	addrs := strings.Split(testenv.Require(t, "RESTYCACHE_REDIS_CLUSTER_ADDRS"), ",")
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// opener returns an Opener for the suites: a store per name under a prefix
// unique to t, cleared when the subtest that opened it ends.
func opener(t *testing.T, open func(prefix string) *rcredis.Backend) func(t *testing.T, name string) backend.Storage {
	base := t
	return func(t *testing.T, name string) backend.Storage {
		p := prefix(base, name)
		t.Cleanup(func() {
			b := open(p)
			defer b.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := b.Clear(ctx, ""); err != nil {
				t.Errorf("cleanup Clear(%s): %v", p, err)
			}
		})
		return open(p)
	}
}

// conformance runs backendtest's suite through opener.
func conformance(t *testing.T, open func(prefix string) *rcredis.Backend) {
	backendtest.Run(t, opener(t, open))
}

func TestConformance(t *testing.T) {
	url := testenv.Require(t, "RESTYCACHE_REDIS_URL")
	conformance(t, func(p string) *rcredis.Backend {
		return rcredis.New(url, rcredis.Options{Prefix: p})
	})
}

// Two Backends on one server and prefix, as two processes would hold them.
func TestTwoBackendsWritingConcurrently(t *testing.T) {
	url := testenv.Require(t, "RESTYCACHE_REDIS_URL")
	p := prefix(t, "shared")
	a, b := rcredis.New(url, rcredis.Options{Prefix: p}), rcredis.New(url, rcredis.Options{Prefix: p})
	defer b.Close()
	defer func() {
		_ = a.Clear(context.Background(), "")
		_ = a.Close()
	}()
	backendtest.SharedStore(t, a, b)
}

func TestConformanceCluster(t *testing.T) {
	c := clusterClient(t)
	conformance(t, func(p string) *rcredis.Backend {
		return rcredis.NewFromClient(c, rcredis.Options{Prefix: p})
	})
}

// TestConformanceRing runs the suite on a go-redis Ring sharding keys over
// two servers (the standalone Redis and the Valkey one).
func TestConformanceRing(t *testing.T) {
	addrs := map[string]string{}
	for _, env := range []string{"RESTYCACHE_REDIS_URL", "RESTYCACHE_DRAGONFLY_URL"} {
		o, err := goredis.ParseURL(testenv.Require(t, env))
		if err != nil {
			t.Fatal(err)
		}
		addrs[env] = o.Addr
	}
	c := goredis.NewRing(&goredis.RingOptions{Addrs: addrs, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	conformance(t, func(p string) *rcredis.Backend {
		return rcredis.NewFromClient(c, rcredis.Options{Prefix: p})
	})
}

// TestConformanceSmallBatches crosses many SCAN, UNLINK and pipeline batch
// boundaries on the cluster.
func TestConformanceSmallBatches(t *testing.T) {
	c := clusterClient(t)
	conformance(t, func(p string) *rcredis.Backend {
		return rcredis.NewFromClient(c, rcredis.Options{Prefix: p, ScanCount: 7})
	})
}

func TestClusterSpreadsKeysOverMasters(t *testing.T) {
	c := clusterClient(t)
	ctx := t.Context()
	p := prefix(t, "spread")
	b := rcredis.NewFromClient(c, rcredis.Options{Prefix: p})
	defer b.Close()
	defer b.Clear(context.Background(), "")
	const n = 200
	for i := range n {
		if err := b.Set(ctx, fmt.Sprint("k", i), []byte("v"), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	perMaster := map[string]int{}
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
		keys, err := scanAll(ctx, m, p+rcredis.KeySeparator+"*")
		mu.Lock()
		defer mu.Unlock()
		perMaster[m.Options().Addr] = len(keys)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for addr, k := range perMaster {
		if k == 0 {
			t.Errorf("master %s holds none of %d keys: %v", addr, n, perMaster)
		}
		total += k
	}
	if len(perMaster) < 3 || total != n {
		t.Errorf("keys per master %v, want %d over 3 masters", perMaster, n)
	}
	if got, err := b.Len(ctx, ""); err != nil || got != n {
		t.Errorf("Len = %d, %v; want %d", got, err, n)
	}
	if err := b.Clear(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Len(ctx, ""); err != nil || got != 0 {
		t.Errorf("Len after Clear = %d, %v; want 0", got, err)
	}
}

func scanAll(ctx context.Context, c *goredis.Client, match string) ([]string, error) {
	var out []string
	var cursor uint64
	for range 100000 {
		keys, next, err := c.Scan(ctx, cursor, match, 1000).Result()
		if err != nil {
			return out, err
		}
		out = append(out, keys...)
		if next == 0 {
			return out, nil
		}
		cursor = next
	}
	return out, errors.New("SCAN did not finish")
}

func TestNativeTTL(t *testing.T) {
	url := testenv.Require(t, "RESTYCACHE_REDIS_URL")
	ctx := t.Context()
	p := prefix(t, "ttl")
	b := rcredis.New(url, rcredis.Options{Prefix: p})
	defer b.Close()
	defer b.Clear(context.Background(), "")
	raw := rawClient(t, url)
	pttl := func(key string) time.Duration {
		t.Helper()
		d, err := raw.PTTL(ctx, p+rcredis.KeySeparator+key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	if err := b.Set(ctx, "forever", []byte("v"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d := pttl("forever"); d != -1 {
		t.Errorf("PTTL of a never-expiring entry = %v, want -1 (no TTL)", d)
	}

	for _, want := range []time.Duration{1500 * time.Microsecond, 10 * time.Second, 36*time.Hour + 999*time.Microsecond} {
		key := "exp-" + want.String()
		start := time.Now()
		exp := start.Add(want)
		if err := b.Set(ctx, key, []byte("v"), exp); err != nil {
			t.Fatal(err)
		}
		d := pttl(key)
		if d == -2 && want < 10*time.Millisecond {
			continue // already expired: fine for 1.5ms
		}
		// Rounded up to the millisecond at most; never more than the
		// time left plus 2ms: 1 for the rounding, 1 for the server's clock,
		// which counts whole milliseconds at SET and again at PTTL.
		if limit := time.Until(exp) + 2*time.Millisecond; d > limit {
			t.Errorf("PTTL for an expiry %v away = %v, more than the %v left + 2ms", want, d, limit-2*time.Millisecond)
		}
		if low := want - time.Since(start) - backendtest.ExpiryTolerance; d < low {
			t.Errorf("PTTL for an expiry %v away = %v, less than %v", want, d, low)
		}
	}

	// A far expiry is a long TTL, not none (nor an overflow).
	if err := b.Set(ctx, "far", []byte("v"), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if d := pttl("far"); d < 100*365*24*time.Hour {
		t.Errorf("PTTL for an expiry in the year 9999 = %v, want over 100 years", d)
	}

	// An overwrite without expiry drops the TTL; one with a past expiry
	// deletes.
	if err := b.Set(ctx, "exp-10s", []byte("v2"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d := pttl("exp-10s"); d != -1 {
		t.Errorf("PTTL after an overwrite without expiry = %v, want -1", d)
	}
	if err := b.Set(ctx, "exp-10s", []byte("v3"), time.Now().Add(-time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if n, err := raw.Exists(ctx, p+rcredis.KeySeparator+"exp-10s").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS after a Set with a past expiry = %d, %v; want 0", n, err)
	}

	// Scan reports the server's expiry.
	sc := backend.Scanner(b)
	for r, err := range sc.Scan(ctx, "exp-36h") {
		if err != nil {
			t.Fatal(err)
		}
		if left := time.Until(r.ExpiresAt); left < 36*time.Hour-time.Minute || left > 36*time.Hour+time.Second {
			t.Errorf("Scan: %s expires in %v, want about 36h", r.Key, left)
		}
	}
	for r, err := range sc.Scan(ctx, "forever") {
		if err != nil || !r.ExpiresAt.IsZero() {
			t.Errorf("Scan of a never-expiring entry: ExpiresAt %v, %v; want the zero time", r.ExpiresAt, err)
		}
	}
}

func TestClearStaysInsidePrefix(t *testing.T) {
	url := testenv.Require(t, "RESTYCACHE_REDIS_URL")
	ctx := t.Context()
	p := prefix(t, "clear")
	b := rcredis.New(url, rcredis.Options{Prefix: p})
	defer b.Close()
	raw := rawClient(t, url)
	// Keys that share the prefix's first characters but are not under it,
	// and a lock.
	outside := []string{p, p + "x:k", "other-" + p + ":k", "x" + p + ":k", p + "-lock:not-a-real-lock"}
	for _, k := range outside {
		if err := raw.Set(ctx, k, "foreign", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	defer raw.Del(context.Background(), outside...)
	unlock, ok, err := b.TryLock(ctx, "held", time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	defer unlock(context.Background())
	for i := range 50 {
		if err := b.Set(ctx, fmt.Sprint("k", i), []byte("v"), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Clear(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Len(ctx, ""); err != nil || n != 0 {
		t.Errorf("Len after Clear = %d, %v", n, err)
	}
	for _, k := range outside {
		if v, err := raw.Get(ctx, k).Result(); err != nil || v != "foreign" {
			t.Errorf("key %q outside the prefix after Clear: %q, %v", k, v, err)
		}
	}
	if _, ok, _ := b.TryLock(ctx, "held", time.Minute); ok {
		t.Errorf("Clear released a held lock")
	}
}

func TestForeignValuesUnderPrefix(t *testing.T) {
	url := testenv.Require(t, "RESTYCACHE_REDIS_URL")
	ctx := t.Context()
	p := prefix(t, "foreign")
	b := rcredis.New(url, rcredis.Options{Prefix: p})
	defer b.Close()
	defer b.Clear(context.Background(), "")
	raw := rawClient(t, url)
	if err := raw.Set(ctx, p+":string", "not an entry", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.HSet(ctx, p+":hash", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Get(ctx, "string"); err != nil || string(v) != "not an entry" {
		t.Errorf("Get of a foreign string = %q, %v; want its bytes", v, err)
	}
	_, err := b.Get(ctx, "hash")
	if !errors.Is(err, rcredis.ErrWrongType) || errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get of a hash = %v, want an error wrapping ErrWrongType", err)
	}
	var scanErr error
	for _, err := range b.Scan(ctx, "") {
		if err != nil {
			scanErr = err
		}
	}
	if !errors.Is(scanErr, rcredis.ErrWrongType) {
		t.Errorf("Scan over a hash = %v, want an error wrapping ErrWrongType", scanErr)
	}
	if n, err := b.Len(ctx, ""); err != nil || n != 2 {
		t.Errorf("Len = %d, %v; want 2", n, err)
	}
	if err := b.Set(ctx, "hash", []byte("replaced"), time.Time{}); err != nil {
		t.Errorf("Set over a hash: %v", err)
	}
	if err := b.Clear(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := raw.Exists(ctx, p+":string", p+":hash").Result(); err != nil || n != 0 {
		t.Errorf("%d keys left after Clear, %v", n, err)
	}
}

func TestNewFromClientLeavesClientOpen(t *testing.T) {
	url := testenv.Require(t, "RESTYCACHE_REDIS_URL")
	ctx := t.Context()
	raw := rawClient(t, url)
	b := rcredis.NewFromClient(raw, rcredis.Options{Prefix: prefix(t, "")})
	if err := b.Set(ctx, "k", []byte("v"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, backend.ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if err := raw.Ping(ctx).Err(); err != nil {
		t.Errorf("the caller's client after the Backend's Close: %v", err)
	}

	// A Backend built from a URL owns its client and closes it.
	owned := rcredis.New(url)
	if err := owned.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := owned.Close(); err != nil {
		t.Fatal(err)
	}
	if err := owned.Client().Ping(ctx).Err(); !errors.Is(err, goredis.ErrClosed) {
		t.Errorf("own client after Close: Ping = %v, want goredis.ErrClosed", err)
	}
}

// hungServer accepts connections and never answers. It returns its
// redis:// URL.
func hungServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read or written
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "redis://" + ln.Addr().String() + "/0"
}

func TestHungServer(t *testing.T) {
	b := rcredis.New(hungServer(t))
	defer b.Close()
	const budget = 200 * time.Millisecond
	const slack = 300 * time.Millisecond // scheduling on a loaded machine
	ops := map[string]func(ctx context.Context) error{
		"Get":  func(ctx context.Context) error { _, err := b.Get(ctx, "k"); return err },
		"Set":  func(ctx context.Context) error { return b.Set(ctx, "k", []byte("v"), time.Now().Add(time.Hour)) },
		"Ping": b.Ping,
		"Len":  func(ctx context.Context) error { _, err := b.Len(ctx, ""); return err },
		"Keys": func(ctx context.Context) error {
			for _, err := range b.Keys(ctx, "") {
				return err
			}
			return nil
		},
		"Scan": func(ctx context.Context) error {
			for _, err := range b.Scan(ctx, "") {
				return err
			}
			return nil
		},
		"Clear":   func(ctx context.Context) error { return b.Clear(ctx, "") },
		"Delete":  func(ctx context.Context) error { return b.Delete(ctx, "a", "b") },
		"TryLock": func(ctx context.Context) error { _, _, err := b.TryLock(ctx, "k", time.Second); return err },
	}
	for name, op := range ops {
		t.Run(name+"/deadline", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), budget)
			defer cancel()
			start := time.Now()
			err := op(ctx)
			if took := time.Since(start); took > budget+slack {
				t.Errorf("returned after %v with a %v deadline", took, budget)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %v, want one wrapping context.DeadlineExceeded", err)
			}
		})
		t.Run(name+"/cancel", func(t *testing.T) {
			// No deadline: go-redis cannot bound the socket read, the
			// backend stops waiting.
			ctx, cancel := context.WithCancel(t.Context())
			timer := time.AfterFunc(budget, cancel)
			defer timer.Stop()
			start := time.Now()
			err := op(ctx)
			if took := time.Since(start); took > budget+slack {
				t.Errorf("returned after %v, cancelled after %v", took, budget)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want one wrapping context.Canceled", err)
			}
		})
	}
}

func TestBadAddress(t *testing.T) {
	for _, url := range []string{"", "not a url", "http://127.0.0.1:6379", "redis://127.0.0.1:6379/notadb",
		"redis://127.0.0.1:6379/0?no_such_option=1", "redis://user:secret@[::1", "unix://"} {
		t.Run(url, func(t *testing.T) {
			ctx := t.Context()
			b := rcredis.New(url) // never panics
			defer b.Close()
			start := time.Now()
			if err := b.Ping(ctx); !errors.Is(err, rcredis.ErrInvalidURL) {
				t.Errorf("Ping = %v, want ErrInvalidURL", err)
			} else if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error %q shows the password", err)
			}
			if _, err := b.Get(ctx, "k"); !errors.Is(err, rcredis.ErrInvalidURL) {
				t.Errorf("Get = %v, want ErrInvalidURL", err)
			}
			if err := b.Set(ctx, "k", nil, time.Time{}); !errors.Is(err, rcredis.ErrInvalidURL) {
				t.Errorf("Set = %v, want ErrInvalidURL", err)
			}
			if s, err := rcredis.Open(ctx, url); s != nil || !errors.Is(err, rcredis.ErrInvalidURL) {
				t.Errorf("Open = %v, %v; want nil, ErrInvalidURL", s, err)
			}
			if took := time.Since(start); took > 100*time.Millisecond {
				t.Errorf("reporting a bad URL took %v", took)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		s, err := rcredis.Open(ctx, "redis://"+addr+"/0")
		if s != nil || err == nil {
			t.Fatalf("Open of a closed port = %v, %v; want an error", s, err)
		}
		if took := time.Since(start); took > 500*time.Millisecond {
			t.Errorf("Open of a closed port took %v", took)
		}
		if !strings.HasPrefix(err.Error(), "restycache/redis: ping: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	})
	t.Run("nil client", func(t *testing.T) {
		b := rcredis.NewFromClient(nil)
		if err := b.Ping(t.Context()); err == nil {
			t.Error("Ping with a nil client = nil")
		}
	})
}

// startRedis starts redis-server on port and waits until it answers.
func startRedis(t *testing.T, bin string, port int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("redis-server on port %d exited: %v", port, err)
		default:
		}
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		pid, err := c.Info(ctx, "server").Result()
		cancel()
		if err == nil {
			if !strings.Contains(pid, fmt.Sprintf("process_id:%d\r", cmd.Process.Pid)) {
				t.Fatalf("port %d answers from another process than our redis-server", port)
			}
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d not answering: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// redisServerBinary returns the path of redis-server for tests that start
// a private server; without it they skip, or fail when CI=true.
func redisServerBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not on PATH (CI=true)")
		}
		t.Skip("redis-server is not on PATH")
	}
	return bin
}

func TestServerStoppedMidRun(t *testing.T) {
	bin := redisServerBinary(t)
	port := testenv.FreePort(t)
	srv := startRedis(t, bin, port)
	b := rcredis.New(fmt.Sprintf("redis://127.0.0.1:%d/0", port))
	defer b.Close()
	ctx := t.Context()
	if err := b.Set(ctx, "k", []byte("v"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}

	if err := srv.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = srv.Process.Wait()
	for _, op := range []string{"Get", "Set", "Len"} {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		start := time.Now()
		var err error
		switch op {
		case "Get":
			_, err = b.Get(cctx, "k")
		case "Set":
			err = b.Set(cctx, "k", []byte("v"), time.Time{})
		case "Len":
			_, err = b.Len(cctx, "")
		}
		cancel()
		if err == nil || errors.Is(err, backend.ErrNotFound) {
			t.Errorf("%s with the server down = %v, want an error", op, err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s with the server down took %v with a 300ms deadline", op, took)
		}
	}

	startRedis(t, bin, port) // the same port, a new (empty) server
	deadline := time.Now().Add(15 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err := b.Set(cctx, "k", []byte("again"), time.Time{})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the same Backend still fails 15s after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v, err := b.Get(ctx, "k"); err != nil || string(v) != "again" {
		t.Errorf("Get after the restart = %q, %v", v, err)
	}
	t.Logf("recovered %v after the restart", 15*time.Second-time.Until(deadline))
}

func BenchmarkRedis(b *testing.B) {
	url := testenv.Require(b, "RESTYCACHE_REDIS_URL")
	n := 0
	backendtest.Bench(b, func(b *testing.B) backend.Storage {
		n++
		p := prefix(b, strconv.Itoa(n))
		s := rcredis.New(url, rcredis.Options{Prefix: p})
		b.Cleanup(func() {
			c := rcredis.New(url, rcredis.Options{Prefix: p})
			defer c.Close()
			_ = c.Clear(context.Background(), "")
		})
		return s
	})
}

// TestDefaults checks the documented defaults: the key layout under
// DefaultPrefix and the options of the client New builds.
func TestDefaults(t *testing.T) {
	url := testenv.Require(t, "RESTYCACHE_REDIS_URL")
	ctx := t.Context()
	b := rcredis.New(url)
	defer b.Close()
	key := prefix(t, "default-prefix")
	if err := b.Set(ctx, key, []byte("v"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	defer b.Delete(context.Background(), key)
	raw := rawClient(t, url)
	if v, err := raw.Get(ctx, rcredis.DefaultPrefix+rcredis.KeySeparator+key).Result(); err != nil || v != "v" {
		t.Errorf("entry not at DefaultPrefix + KeySeparator + key: %q, %v", v, err)
	}
	unlock, ok, err := b.TryLock(ctx, key, time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	if n, err := raw.Exists(ctx, rcredis.DefaultPrefix+rcredis.LockSeparator+key).Result(); err != nil || n != 1 {
		t.Errorf("lock not at DefaultPrefix + LockSeparator + key: %d, %v", n, err)
	}
	if err := unlock(ctx); err != nil {
		t.Fatal(err)
	}

	o := b.Client().(*goredis.Client).Options()
	if !o.ContextTimeoutEnabled || o.MaxRetries != rcredis.DefaultMaxRetries || o.DialerRetries != rcredis.DefaultDialAttempts {
		t.Errorf("client options: ContextTimeoutEnabled %v, MaxRetries %d, DialerRetries %d; want true, %d, %d",
			o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries, rcredis.DefaultMaxRetries, rcredis.DefaultDialAttempts)
	}
	withRetries := rcredis.New(url+"?max_retries=5", rcredis.Options{ClientOptions: func(o *goredis.Options) { o.PoolSize = 3 }})
	defer withRetries.Close()
	if o := withRetries.Client().(*goredis.Client).Options(); o.MaxRetries != 5 || o.PoolSize != 3 {
		t.Errorf("max_retries=5 and ClientOptions PoolSize 3 gave MaxRetries %d, PoolSize %d", o.MaxRetries, o.PoolSize)
	}
}
