package mongodb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/backendtest"
	"github.com/restycache/restycache/internal/testenv"
)

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// testClient connects to the test server and disconnects at cleanup.
func testClient(t testing.TB) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(testenv.Require(t, "RESTYCACHE_MONGODB_URI")).SetServerSelectionTimeout(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// testDatabase is a new database name for this test, dropped at cleanup
// (go test runs packages, and so several Runs, in parallel on one server).
func testDatabase(t testing.TB, c *mongo.Client) string {
	t.Helper()
	return testDatabases(t, c)("")
}

// testDatabases returns a function that names a database of this test's
// own for each store name (the same one for the same name), dropping them
// all at the test's cleanup. A database per store keeps the suites'
// parallel subtests apart on FerretDB, whose SQLite storage takes one
// write lock per database.
func testDatabases(t testing.TB, c *mongo.Client) func(name string) string {
	t.Helper()
	base := "rctest_mongodb_" + randomSuffix()
	var mu sync.Mutex
	dbs := map[string]string{}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		mu.Lock()
		defer mu.Unlock()
		for _, db := range dbs {
			if err := c.Database(db).Drop(ctx); err != nil {
				t.Errorf("drop test database %s: %v", db, err)
			}
		}
	})
	return func(name string) string {
		mu.Lock()
		defer mu.Unlock()
		db, ok := dbs[name]
		if !ok {
			db = base
			if name != "" {
				db += "_" + name
			}
			dbs[name] = db
		}
		return db
	}
}

func TestConformance(t *testing.T) {
	uri := testenv.Require(t, "RESTYCACHE_MONGODB_URI")
	dbFor := testDatabases(t, testClient(t))
	backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
		// Each instance is a client of its own, as a second process would be.
		return New(uri, Options{Database: dbFor(name), Collection: name})
	})
}

func TestConformanceFromClient(t *testing.T) {
	c := testClient(t)
	dbFor := testDatabases(t, c)
	backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
		return NewFromClient(c, Options{Database: dbFor(name), Collection: name})
	})
}

func TestDefaults(t *testing.T) {
	b := New("mongodb://127.0.0.1:1/")
	if b.dbName != "restycache" || b.collName != "responses" || b.lockName != "responses_locks" {
		t.Errorf("defaults = %q, %q, %q; want restycache, responses, responses_locks", b.dbName, b.collName, b.lockName)
	}
	if DefaultDatabase != "restycache" || DefaultCollection != "responses" {
		t.Errorf("DefaultDatabase, DefaultCollection = %q, %q", DefaultDatabase, DefaultCollection)
	}
	b = New("", Options{Collection: "c"}, Options{Collection: "last"})
	if b.collName != "last" || b.lockName != "last_locks" {
		t.Errorf("last Options should win: %q, %q", b.collName, b.lockName)
	}
}

func TestIncompressibleMebibyte(t *testing.T) {
	c := testClient(t)
	b := NewFromClient(c, Options{Database: testDatabase(t, c)})
	defer b.Close()
	ctx := t.Context()
	v := make([]byte, 1<<20)
	_, _ = rand.Read(v)
	if err := b.Set(ctx, "big", v, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, v) {
		t.Fatalf("Get returned %d bytes, not the %d stored", len(got), len(v))
	}
}

func TestTooLarge(t *testing.T) {
	c := testClient(t)
	b := NewFromClient(c, Options{Database: testDatabase(t, c)})
	defer b.Close()
	ctx := t.Context()
	const key = "k"
	if err := b.Set(ctx, key, []byte("older"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	over := make([]byte, MaxDocumentSize-docSize(key, nil)+1)
	err := b.Set(ctx, key, over, time.Now().Add(time.Hour))
	if !errors.Is(err, backend.ErrTooLarge) {
		t.Fatalf("Set of a %d-byte value = %v, want backend.ErrTooLarge", len(over), err)
	}
	if !strings.HasPrefix(err.Error(), "restycache/mongodb: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
	if _, err := b.Get(ctx, key); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get after a refused Set = %v, want the older value gone", err)
	}
	// The largest document that fits is stored (the size arithmetic is
	// exact, not merely conservative).
	most := over[:len(over)-1]
	if err := b.Set(ctx, key, most, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("Set of the largest value that fits (%d bytes): %v", len(most), err)
	}
	if got, err := b.Get(ctx, key); err != nil || len(got) != len(most) {
		t.Errorf("Get of the largest value = %d bytes, %v", len(got), err)
	}
}

// TestExpiredOnRead: a document past its expiresAt is a miss even while it
// is still in the collection (no TTL monitor has run).
func TestExpiredOnRead(t *testing.T) {
	c := testClient(t)
	db := testDatabase(t, c)
	b := NewFromClient(c, Options{Database: db})
	defer b.Close()
	ctx := t.Context()
	coll := c.Database(db).Collection(DefaultCollection)
	_, err := coll.InsertOne(ctx, bson.D{
		{Key: "_id", Value: "old"},
		{Key: "value", Value: bson.Binary{Data: []byte("stale")}},
		{Key: "expiresAt", Value: bson.NewDateTimeFromTime(time.Now().Add(-time.Minute))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, "live", []byte("v"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "old"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get of an expired document = %v, want ErrNotFound", err)
	}
	if n, err := b.Len(ctx, ""); err != nil || n != 1 {
		t.Errorf("Len = %d, %v; want 1", n, err)
	}
	for k, err := range b.Keys(ctx, "") {
		if err != nil || k != "live" {
			t.Errorf("Keys yielded %q, %v; want only live", k, err)
		}
	}
	if n, err := b.DeleteExpired(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1", n, err)
	}
	if n, err := coll.CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Errorf("%d documents left, %v; want 1", n, err)
	}
	// The stored layout is the documented one.
	raw, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "live"}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if _, data, ok := raw.Lookup("value").BinaryOK(); !ok || string(data) != "v" {
		t.Errorf("stored document %s lacks value as binary", raw)
	}
	if _, err := raw.LookupErr("expiresAt"); err == nil {
		t.Errorf("a never-expiring document has expiresAt: %s", raw)
	}
}

// isFerretDB reports whether the test server is FerretDB.
func isFerretDB(t *testing.T, c *mongo.Client) bool {
	raw, err := c.Database("admin").RunCommand(t.Context(), bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	_, err = raw.LookupErr("ferretdbVersion")
	return err == nil
}

func TestTTLIndex(t *testing.T) {
	c := testClient(t)
	db := testDatabase(t, c)
	b := NewFromClient(c, Options{Database: db})
	defer b.Close()
	ctx := t.Context()
	err := b.TTLIndex(ctx)
	if isFerretDB(t, c) {
		var se mongo.ServerError
		if !errors.As(err, &se) || !se.HasErrorCode(238) {
			t.Fatalf("TTLIndex on FerretDB = %v, want its NotImplemented refusal", err)
		}
		// Still no fault: the backend works and expires on read.
		if err := b.Set(ctx, "k", []byte("v"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err != nil {
		t.Fatalf("TTLIndex: %v", err)
	}
	specs, err := c.Database(db).Collection(DefaultCollection).Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if s.ExpireAfterSeconds != nil && *s.ExpireAfterSeconds == 0 {
			return
		}
	}
	t.Errorf("no TTL index among %v", specs)
}

// TestSharedCollection: a collection shared with other data keeps it.
func TestSharedCollection(t *testing.T) {
	c := testClient(t)
	db := testDatabase(t, c)
	coll := c.Database(db).Collection("shared")
	b := NewFromClient(c, Options{Database: db, Collection: "shared"})
	defer b.Close()
	ctx := t.Context()
	foreign := bson.NewObjectID()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: foreign}, {Key: "user", Value: "data"}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ns:a", "ns:b", "other:c"} {
		if err := b.Set(ctx, k, []byte(k), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := b.Len(ctx, ""); err != nil || n != 3 {
		t.Errorf("Len(\"\") = %d, %v; want 3 (the foreign document is no entry)", n, err)
	}
	if err := b.Clear(ctx, "ns:"); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Get(ctx, "other:c"); err != nil || string(v) != "other:c" {
		t.Errorf("Get(other:c) after Clear(ns:) = %q, %v", v, err)
	}
	if err := b.Clear(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: foreign}}); err != nil || n != 1 {
		t.Errorf("the foreign document: %d, %v; want it kept", n, err)
	}
}

// closedPortURI is a MongoDB URI on a 127.0.0.1 port that nothing listens on.
func closedPortURI(t *testing.T) string {
	return fmt.Sprintf("mongodb://127.0.0.1:%d/?serverSelectionTimeoutMS=60000", testenv.FreePort(t))
}

func TestBadAddress(t *testing.T) {
	uri := closedPortURI(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	b, err := Open(ctx, uri)
	if err == nil || b != nil {
		t.Fatalf("Open on a closed port = %v, %v; want nil and an error", b, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Open took %v, want it bounded by its 1s context", took)
	}
	if !strings.HasPrefix(err.Error(), "restycache/mongodb: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}

	// Without a deadline, DefaultServerSelectionTimeout bounds it.
	b = New(strings.TrimSuffix(uri, "?serverSelectionTimeoutMS=60000"))
	defer b.Close()
	start = time.Now()
	if err := b.Ping(context.Background()); err == nil {
		t.Fatal("Ping on a closed port = nil")
	}
	if took := time.Since(start); took > DefaultServerSelectionTimeout+2*time.Second {
		t.Errorf("Ping without a deadline took %v", took)
	}

	// A malformed URI fails every call, and New still does not.
	bad := New("notmongo://x")
	defer bad.Close()
	if _, err := bad.Get(t.Context(), "k"); err == nil || errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get with a bad URI = %v, want a connect error", err)
	}
	if _, err := Open(t.Context(), "notmongo://x"); err == nil {
		t.Error("Open with a bad URI = nil")
	}
}

func TestNewFromClientLeavesClientOpen(t *testing.T) {
	c := testClient(t)
	db := testDatabase(t, c)
	b := NewFromClient(c, Options{Database: db})
	ctx := t.Context()
	if err := b.Set(ctx, "k", []byte("v"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, backend.ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if err := c.Ping(ctx, nil); err != nil {
		t.Fatalf("the caller's client after Close: %v", err)
	}
	n, err := c.Database(db).Collection(DefaultCollection).CountDocuments(ctx, bson.D{})
	if err != nil || n != 1 {
		t.Errorf("CountDocuments through the caller's client = %d, %v", n, err)
	}
}

// ferretDB is a private FerretDB server for one test.
type ferretDB struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	// exited is closed when cmd has exited.
	exited chan struct{}
}

// startFerretDB starts a FerretDB of the test's own from
// RESTYCACHE_FERRETDB_BIN, on a free port, and stops it at cleanup.
func startFerretDB(t *testing.T) *ferretDB {
	t.Helper()
	bin := testenv.Require(t, "RESTYCACHE_FERRETDB_BIN")
	f := &ferretDB{t: t, bin: bin, dir: t.TempDir(), port: testenv.FreePort(t)}
	for _, d := range []string{"data", "state"} {
		if err := os.Mkdir(filepath.Join(f.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f.start()
	t.Cleanup(f.stop)
	return f
}

func (f *ferretDB) uri() string { return fmt.Sprintf("mongodb://127.0.0.1:%d/", f.port) }

func (f *ferretDB) start() {
	f.t.Helper()
	f.cmd = exec.Command(f.bin, "--handler=sqlite", "--sqlite-url=file:"+filepath.Join(f.dir, "data")+"/",
		fmt.Sprintf("--listen-addr=127.0.0.1:%d", f.port), "--state-dir="+filepath.Join(f.dir, "state"),
		"--debug-addr=-", "--telemetry=disable", "--log-level=error")
	if err := f.cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	exited := make(chan struct{})
	f.exited = exited
	go func(cmd *exec.Cmd) { _ = cmd.Wait(); close(exited) }(f.cmd)
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", f.port), time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case <-exited:
			f.t.Fatalf("FerretDB exited at start (port %d taken?)", f.port)
		default:
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("FerretDB not listening on %d after 20s", f.port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (f *ferretDB) stop() {
	if f.cmd != nil && f.cmd.Process != nil {
		_ = f.cmd.Process.Kill()
		<-f.exited
	}
	f.cmd = nil
}

// TestServerRestart: calls fail promptly while the server is down and work
// again, with the same Backend, once it is back.
func TestServerRestart(t *testing.T) {
	f := startFerretDB(t)
	b := New(f.uri())
	defer b.Close()
	backendtest.ServerRestart(t, b, f.stop, f.start)
}

func BenchmarkMongoDB(b *testing.B) {
	c := testClient(b)
	db := testDatabase(b, c)
	n := 0
	backendtest.Bench(b, func(b *testing.B) backend.Storage {
		n++
		return NewFromClient(c, Options{Database: db, Collection: fmt.Sprint("bench", n)})
	})
}
