package dynamodb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/backendtest"
	"github.com/restycache/restycache/internal/testenv"
)

var testCreds = credentials.NewStaticCredentialsProvider("test", "test", "")

// testOptions points a Backend made by New at endpoint e with test
// credentials, creating its table.
func testOptions(e string) Options {
	return Options{Endpoint: e, Region: "us-east-1", Credentials: testCreds, CreateTable: true}
}

// testClient is an SDK client for endpoint e.
func testClient(e string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  testCreds,
		BaseEndpoint: aws.String(e),
	})
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// testTable is a new table name for this test, deleted at cleanup if it
// was created (go test runs packages, and so several Runs, in parallel on
// one server).
func testTable(t testing.TB, c *dynamodb.Client, what string) string {
	t.Helper()
	name := "rctest-dynamodb-" + what + "-" + randomSuffix()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &name})
		var nf *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			t.Errorf("delete test table %s: %v", name, err)
		}
	})
	return name
}

// skipOverLimit skips the conformance suite's RoundTrip subtest: its
// 1 MiB of random bytes cannot fit in a DynamoDB item (400 KB) even
// compressed, which the backend answers with backend.ErrTooLarge, as
// documented. TestRoundTrip covers the same ground up to the limit, and
// TestIncompressibleMebibyteIsTooLarge the 1 MiB value itself.
func skipOverLimit(t *testing.T, name string) {
	if name == "roundtrip" {
		t.Skip("a 1 MiB incompressible value exceeds DynamoDB's item limit: see TestRoundTrip and TestIncompressibleMebibyteIsTooLarge")
	}
}

func TestConformance(t *testing.T) {
	e := testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT")
	c := testClient(e)
	prefix := randomSuffix()
	backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
		skipOverLimit(t, name)
		// One table per name; a second open is a second Backend (and
		// client) on it, as a second process would be. The first creates
		// the table; it is deleted when the test ends.
		table := "rctest-dynamodb-" + prefix + "-" + name
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _ = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table})
		})
		return New(table, testOptions(e))
	})
}

func TestConformanceFromClient(t *testing.T) {
	e := testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT")
	c := testClient(e)
	var mu sync.Mutex
	tables := map[string]string{}
	backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
		skipOverLimit(t, name)
		mu.Lock()
		defer mu.Unlock()
		table, ok := tables[name]
		if !ok {
			table = testTable(t, c, name)
			tables[name] = table
		}
		return NewFromClient(c, table, testOptions(""))
	})
}

// TestRoundTrip is the conformance suite's RoundTrip within the item
// limit: byte-exact values, the largest incompressible one Set accepts, and
// a 1 MiB compressible one.
func TestRoundTrip(t *testing.T) {
	e := testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT")
	c := testClient(e)
	b := NewFromClient(c, testTable(t, c, "roundtrip"), testOptions(""))
	defer b.Close()
	ctx := t.Context()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	fits := make([]byte, MaxItemSize-b.itemSize("fits", nil, false))
	_, _ = rand.Read(fits)
	cases := map[string][]byte{
		"nil":        nil,
		"empty":      {},
		"text":       []byte("hello, cache"),
		"nul-and-ff": {0, 0xff, 0, 'a', 0xff, 0xfe, '\n', '\r', 0},
		"all-bytes":  all,
		"fits":       fits,
		"mebibyte":   bytes.Repeat([]byte("0123456789abcdef"), 1<<16),
	}
	for k, v := range cases {
		in := bytes.Clone(v)
		if err := b.Set(ctx, k, in, time.Time{}); err != nil {
			t.Fatalf("Set(%s): %v", k, err)
		}
		for i := range in {
			in[i] ^= 0x5a
		}
		got, err := b.Get(ctx, k)
		if err != nil || !bytes.Equal(got, v) || len(got) != len(v) {
			t.Errorf("Get(%s) = %d bytes, %v; want the %d stored", k, len(got), err, len(v))
		}
	}
	if n, err := b.Len(ctx, ""); err != nil || n != len(cases) {
		t.Errorf("Len = %d, %v; want %d", n, err, len(cases))
	}
	// One byte more than fits is refused.
	over := append(fits, 0)
	if err := b.Set(ctx, "fits", over, time.Time{}); !errors.Is(err, backend.ErrTooLarge) {
		t.Errorf("Set of one byte over the limit = %v, want ErrTooLarge", err)
	}
}

func TestDefaults(t *testing.T) {
	b := New("t", Options{CompressAbove: 0}, Options{})
	want := Options{KeyAttribute: "key", ValueAttribute: "value", EncAttribute: "enc",
		ExpiresAttribute: "expires_ms", TTLAttribute: "ttl", CompressAbove: 32 << 10}
	if b.o != want {
		t.Errorf("defaults = %+v, want %+v", b.o, want)
	}
}

func TestIncompressibleMebibyteIsTooLarge(t *testing.T) {
	e := testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT")
	c := testClient(e)
	b := NewFromClient(c, testTable(t, c, "large"), testOptions(""))
	defer b.Close()
	ctx := t.Context()
	if err := b.Set(ctx, "k", []byte("older"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	v := make([]byte, 1<<20)
	_, _ = rand.Read(v)
	err := b.Set(ctx, "k", v, time.Now().Add(time.Hour))
	if !errors.Is(err, backend.ErrTooLarge) {
		t.Fatalf("Set of 1 MiB of random bytes = %v, want backend.ErrTooLarge", err)
	}
	if !strings.HasPrefix(err.Error(), "restycache/dynamodb: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get after a refused Set = %v, want the older value gone", err)
	}
}

func TestCompression(t *testing.T) {
	e := testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT")
	c := testClient(e)
	table := testTable(t, c, "compress")
	b := NewFromClient(c, table, testOptions(""))
	defer b.Close()
	ctx := t.Context()
	// 2 MiB that compresses well: over the item limit raw, far under it
	// compressed.
	big := bytes.Repeat([]byte("GET https://example.com/ 200 OK\n"), 64<<10)
	small := []byte(strings.Repeat("x", 100))
	random := make([]byte, 100<<10)
	_, _ = rand.Read(random)
	for k, v := range map[string][]byte{"big": big, "small": small, "random": random} {
		if err := b.Set(ctx, k, v, time.Now().Add(time.Hour)); err != nil {
			t.Fatalf("Set(%s): %v", k, err)
		}
		got, err := b.Get(ctx, k)
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("Get(%s) = %d bytes, %v; want the %d stored", k, len(got), err, len(v))
		}
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: b.itemKey(k), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		_, compressed := out.Item[DefaultEncAttribute]
		if want := k == "big"; compressed != want {
			t.Errorf("%s: compressed = %v, want %v (only large values that shrink)", k, compressed, want)
		}
	}
	// Scan decompresses too.
	for r, err := range b.Scan(ctx, "big") {
		if err != nil || !bytes.Equal(r.Value, big) {
			t.Errorf("Scan(big) = %d bytes, %v", len(r.Value), err)
		}
	}
	// Compression off: the same value is too large.
	off := NewFromClient(c, table, Options{CompressAbove: -1})
	if err := off.Set(ctx, "big", big, time.Time{}); !errors.Is(err, backend.ErrTooLarge) {
		t.Errorf("Set without compression = %v, want ErrTooLarge", err)
	}
	// What the other backend wrote compressed still reads.
	if err := b.Set(ctx, "big2", big, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, err := off.Get(ctx, "big2"); err != nil || !bytes.Equal(got, big) {
		t.Errorf("Get by a Backend without compression = %d bytes, %v", len(got), err)
	}
}

// TestItemLayout checks the documented attributes, and that expiry is
// judged on read from the exact expiry, with DynamoDB's TTL rounded up.
func TestItemLayout(t *testing.T) {
	e := testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT")
	c := testClient(e)
	table := testTable(t, c, "layout")
	b := NewFromClient(c, table, testOptions(""))
	defer b.Close()
	ctx := t.Context()
	exp := time.Now().Add(time.Hour).Truncate(time.Second).Add(1500 * time.Microsecond)
	if err := b.Set(ctx, "k", []byte("v"), exp); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: b.itemKey("k"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	n := func(a string) string {
		v, _ := out.Item[a].(*types.AttributeValueMemberN)
		if v == nil {
			return ""
		}
		return v.Value
	}
	if got, want := n("expires_ms"), fmt.Sprint(exp.UnixMilli()); got != want {
		t.Errorf("expires_ms = %q, want %q", got, want)
	}
	if got, want := n("ttl"), fmt.Sprint(exp.Unix()+1); got != want {
		t.Errorf("ttl = %q, want %q (seconds, rounded up)", got, want)
	}

	// An item whose expiry passed is a miss even while it is in the table
	// (DynamoDB's TTL deletes it much later, dynoxide never).
	past := time.Now().Add(-time.Hour)
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
		"key": str("old"), "value": &types.AttributeValueMemberB{Value: []byte("stale")},
		"expires_ms": num(past.UnixMilli()), "ttl": num(past.Unix()),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "old"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get of an expired item = %v, want ErrNotFound", err)
	}
	if n, err := b.Len(ctx, ""); err != nil || n != 1 {
		t.Errorf("Len = %d, %v; want 1", n, err)
	}
	if n, err := b.DeleteExpired(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1", n, err)
	}
	long := strings.Repeat("k", MaxKeySize+1)
	if err := b.Set(ctx, long, []byte("v"), time.Time{}); !errors.Is(err, backend.ErrTooLarge) {
		t.Errorf("Set of a %d-byte key = %v, want ErrTooLarge", len(long), err)
	}
	if _, err := b.Get(ctx, long); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get of a %d-byte key = %v, want ErrNotFound", len(long), err)
	}
	if err := b.Delete(ctx, long, "absent"); err != nil {
		t.Errorf("Delete of a %d-byte key: %v", len(long), err)
	}
	if err := b.Set(ctx, long[:MaxKeySize], []byte("v"), time.Time{}); err != nil {
		t.Errorf("Set of a %d-byte key: %v", MaxKeySize, err)
	}
	if err := b.Set(ctx, LockPrefix+"x", []byte("v"), time.Time{}); !errors.Is(err, ErrReservedKey) {
		t.Errorf("Set of a reserved key = %v, want ErrReservedKey", err)
	}
}

func TestTimeToLive(t *testing.T) {
	e := testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT")
	c := testClient(e)
	b := NewFromClient(c, testTable(t, c, "ttl"), testOptions(""))
	defer b.Close()
	if err := b.TimeToLive(t.Context()); err != nil {
		t.Errorf("TimeToLive of a table CreateTable made = %v, want it enabled", err)
	}
	// A table made without TTL reports so.
	table := testTable(t, c, "nottl")
	_, err := c.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName: &table, BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("key"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("key"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	plain := NewFromClient(c, table)
	defer plain.Close()
	if err := plain.TimeToLive(t.Context()); err == nil {
		t.Error("TimeToLive of a table without TTL = nil")
	}
}

func TestMissingTable(t *testing.T) {
	e := testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT")
	c := testClient(e)
	table := testTable(t, c, "missing")
	ctx := t.Context()
	b := NewFromClient(c, table) // CreateTable false
	defer b.Close()
	err := b.Ping(ctx)
	if !errors.Is(err, ErrTableNotFound) || !strings.Contains(err.Error(), table) {
		t.Errorf("Ping of a missing table = %v, want ErrTableNotFound naming it", err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, ErrTableNotFound) {
		t.Errorf("Get on a missing table = %v, want ErrTableNotFound", err)
	}
	if s, err := Open(ctx, table, Options{Endpoint: e, Region: "us-east-1", Credentials: testCreds}); !errors.Is(err, ErrTableNotFound) || s != nil {
		t.Errorf("Open of a missing table = %v, %v; want nil and ErrTableNotFound", s, err)
	}
	// With CreateTable, Open makes it.
	s, err := Open(ctx, table, testOptions(e))
	if err != nil {
		t.Fatalf("Open with CreateTable: %v", err)
	}
	defer s.Close()
	if err := b.Ping(ctx); err != nil {
		t.Errorf("Ping once the table exists: %v", err)
	}
}

// TestDefaultChain: New with no Options reads region and credentials from
// the environment, as the SDK's default chain does.
func TestDefaultChain(t *testing.T) {
	e := testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", e)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c := testClient(e)
	b, err := Open(t.Context(), testTable(t, c, "chain"), Options{CreateTable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Set(t.Context(), "k", []byte("v"), time.Time{}); err != nil {
		t.Fatal(err)
	}
}

func TestBadAddress(t *testing.T) {
	testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT") // only with the servers, like the other tests
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	o := testOptions(fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)))
	b, err := Open(ctx, "t", o)
	if err == nil || b != nil {
		t.Fatalf("Open on a closed port = %v, %v; want nil and an error", b, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Open took %v, want it bounded by its 1s context", took)
	}
	if !strings.HasPrefix(err.Error(), "restycache/dynamodb: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}

func TestNewFromClientLeavesClientAlone(t *testing.T) {
	e := testenv.Require(t, "RESTYCACHE_DYNAMODB_ENDPOINT")
	c := testClient(e)
	table := testTable(t, c, "client")
	b := NewFromClient(c, table, testOptions(""))
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
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{"key": str("k")}})
	if err != nil || out.Item == nil {
		t.Fatalf("the caller's client after Close: %v, %v", out, err)
	}
}

// dynoxide is a private dynoxide server for one test, persisting to a file
// so that a restart keeps the table.
type dynoxide struct {
	t      *testing.T
	bin    string
	db     string
	port   int
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// startDynoxide starts a dynoxide of the test's own from
// RESTYCACHE_DYNOXIDE_BIN, on a free port, and stops it at cleanup.
func startDynoxide(t *testing.T) *dynoxide {
	t.Helper()
	bin := testenv.Require(t, "RESTYCACHE_DYNOXIDE_BIN")
	d := &dynoxide{t: t, bin: bin, db: filepath.Join(t.TempDir(), "dynoxide.db"), port: testenv.FreePort(t)}
	d.start()
	t.Cleanup(d.stop)
	return d
}

func (d *dynoxide) endpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", d.port) }

func (d *dynoxide) start() {
	d.t.Helper()
	port := fmt.Sprint(d.port)
	d.cmd = exec.Command(d.bin, "serve", "--host", "127.0.0.1", "--port", port, "--db-path", d.db)
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	exited := make(chan struct{})
	d.exited = exited
	go func(cmd *exec.Cmd) { _ = cmd.Wait(); close(exited) }(d.cmd)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if exec.Command(d.bin, "healthcheck", "--port", port).Run() == nil {
			return
		}
		select {
		case <-exited:
			d.t.Fatalf("dynoxide exited at start (port %d taken?)", d.port)
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("dynoxide not healthy on %d after 20s", d.port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *dynoxide) stop() {
	if d.cmd != nil && d.cmd.Process != nil {
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
	d.cmd = nil
}

// TestServerRestart: calls fail promptly while the server is down and work
// again, with the same Backend, once it is back.
func TestServerRestart(t *testing.T) {
	d := startDynoxide(t)
	b := New("restart", testOptions(d.endpoint()))
	defer b.Close()
	backendtest.ServerRestart(t, b, d.stop, d.start)
}

func BenchmarkDynamoDB(b *testing.B) {
	e := testenv.Require(b, "RESTYCACHE_DYNAMODB_ENDPOINT")
	c := testClient(e)
	backendtest.Bench(b, func(b *testing.B) backend.Storage {
		return NewFromClient(c, testTable(b, c, "bench"), testOptions(""))
	})
}
