// Package dynamodb is restycache's Amazon DynamoDB backend, through
// github.com/aws/aws-sdk-go-v2/service/dynamodb. It is imported as rcdynamo
// in docs and examples, since the SDK's package is also called dynamodb.
//
// Each entry is one item of a table whose partition key is a string
// attribute (no sort key). With the default attribute names:
//
//	key        S  the entry's key (the partition key)
//	value      B  the value, deflate-compressed when enc is present
//	enc        S  "deflate" when the value is compressed; absent otherwise
//	expires_ms N  the exact expiry, in Unix milliseconds; absent: never
//	ttl        N  the expiry in Unix seconds, rounded up, for DynamoDB's
//	              own TTL deletion; absent: never
//
// DynamoDB deletes an item some time (up to days) after its TTL, so reads
// check expires_ms and treat an expired item as a miss; expiry is kept to
// the millisecond, so an entry may end up to 1 ms early. Get and every Scan
// read consistently (ConsistentRead), so a write is visible to the next
// read.
//
// An item holds at most 400 KB. A value of Options.CompressAbove bytes or
// more is stored compressed when that makes it smaller; an entry still too
// large is not stored, and Set returns an error wrapping
// backend.ErrTooLarge.
//
// Keys, Len, Clear, Scan and DeleteExpired paginate a Scan of the table
// with a begins_with filter on the key: they read the whole table, which
// is fine for a cache table but costs read capacity in proportion to its
// size. Locks for cross-process coalescing (backend.Locker) are items of
// the same table under the reserved key prefix LockPrefix, without a value
// attribute: the entry operations never see them, and Set refuses keys
// with that prefix.
//
// Throttling and transient errors are retried by the SDK's retryer, within
// each call's context.
package dynamodb

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/restycache/restycache/backend"
)

// Default attribute names, used for the Options fields left empty.
const (
	DefaultKeyAttribute     = "key"
	DefaultValueAttribute   = "value"
	DefaultEncAttribute     = "enc"
	DefaultExpiresAttribute = "expires_ms"
	DefaultTTLAttribute     = "ttl"
)

// DefaultCompressAbove is the value size, in bytes, from which values are
// compressed when Options.CompressAbove is zero.
const DefaultCompressAbove = 32 << 10

// MaxItemSize is the largest item DynamoDB stores, in bytes (400 KB),
// counting attribute names and values.
const MaxItemSize = 400 << 10

// MaxKeySize is the longest key DynamoDB takes as a partition key, in
// bytes. Set refuses a longer key with an error wrapping
// backend.ErrTooLarge, and Get reports it as a miss.
const MaxKeySize = 2048

// LockPrefix starts the key of every lock item of backend.Locker. Keys
// starting with it are reserved: Set refuses them with ErrReservedKey.
const LockPrefix = "\x00restycache-lock:"

// DefaultTableWait bounds how long Open, Ping and the first call wait for a
// table that CreateTable created to become active, within their context.
const DefaultTableWait = 5 * time.Minute

// encDeflate marks a deflate-compressed value.
const encDeflate = "deflate"

// lockTokenAttribute holds a lock's random token.
const lockTokenAttribute = "lock_token"

// batchSize is the most requests one BatchWriteItem takes.
const batchSize = 25

// scanLimit is how many items one Scan page evaluates at most (a page also
// ends at 1 MB).
const scanLimit = 500

// maxBatchRetries bounds the retries of a batch's unprocessed items.
const maxBatchRetries = 12

// ErrTableNotFound is wrapped by the errors of a Backend whose table does
// not exist (and Options.CreateTable is false). Test for it with errors.Is.
var ErrTableNotFound = errors.New("restycache/dynamodb: table not found")

// ErrReservedKey is wrapped by the error of Set for a key that starts with
// LockPrefix. Test for it with errors.Is.
var ErrReservedKey = errors.New("restycache/dynamodb: key starts with the reserved lock prefix")

// Options configures a Backend. The zero value uses the AWS SDK's default
// configuration chain (environment, shared config files, instance roles)
// for region, credentials and endpoint, the default attribute names and
// DefaultCompressAbove, and expects the table to exist.
type Options struct {
	// Endpoint is the base URL of the DynamoDB API, such as
	// "http://127.0.0.1:8000" for a local emulator. Empty means the SDK
	// resolves it from the region (or AWS_ENDPOINT_URL*). Used by New and
	// Open only; NewFromClient keeps the client's.
	Endpoint string
	// Region is the AWS region, such as "us-east-1". Empty means the
	// default chain's (AWS_REGION, shared config). Used by New and Open
	// only.
	Region string
	// Credentials signs the requests. Nil means the default chain's. Used
	// by New and Open only.
	Credentials aws.CredentialsProvider
	// CreateTable creates the table if it is missing: on demand
	// (PAY_PER_REQUEST), keyed by KeyAttribute, with DynamoDB's TTL
	// enabled on TTLAttribute (best effort: an emulator or a policy may
	// refuse it; see Backend.TimeToLive). The first call (or Open) waits
	// for the table to become active, at most DefaultTableWait. False
	// (the default) means a missing table is an error wrapping
	// ErrTableNotFound.
	CreateTable bool
	// KeyAttribute names the partition key, a string. Empty means
	// DefaultKeyAttribute ("key").
	KeyAttribute string
	// ValueAttribute names the value, a binary. Empty means
	// DefaultValueAttribute ("value").
	ValueAttribute string
	// EncAttribute names the marker of a compressed value. Empty means
	// DefaultEncAttribute ("enc").
	EncAttribute string
	// ExpiresAttribute names the exact expiry in Unix milliseconds, a
	// number, which reads check. Empty means DefaultExpiresAttribute
	// ("expires_ms").
	ExpiresAttribute string
	// TTLAttribute names the expiry in Unix seconds, a number, for
	// DynamoDB's TTL. Empty means DefaultTTLAttribute ("ttl").
	TTLAttribute string
	// CompressAbove is the value size, in bytes, from which a value is
	// stored deflate-compressed when that makes it smaller. Zero means
	// DefaultCompressAbove (32 KiB); negative means never compress.
	CompressAbove int
}

// Backend is a backend.Storage, backend.Scanner, backend.Locker and
// backend.Pinger in a DynamoDB table. It is safe for concurrent use.
// Create it with New, NewFromClient or Open.
type Backend struct {
	table  string
	o      Options    // with defaults applied
	mu     sync.Mutex // serialises making the client, creating the table, closing
	client *dynamodb.Client
	ready  atomic.Bool // the table is known to exist (CreateTable)
	closed atomic.Bool
	ttlErr error // UpdateTimeToLive's refusal; under mu
}

// New returns a Backend on the table named table, with a client made from
// the AWS SDK's default configuration chain and the Options' Endpoint,
// Region and Credentials. Nothing is contacted until the first call (or
// Ping), so New never fails: a missing region or table, or an unreachable
// endpoint, is reported by that call, or at once by Open. When several
// Options are given the last one wins.
func New(table string, opts ...Options) *Backend {
	return newBackend(table, opts)
}

// NewFromClient returns a Backend on table that uses the caller's client,
// keeping its configuration; Options.Endpoint, Region and Credentials are
// ignored. Close leaves the client alone. When several Options are given
// the last one wins.
func NewFromClient(c *dynamodb.Client, table string, opts ...Options) *Backend {
	b := newBackend(table, opts)
	b.client = c
	return b
}

// Open is New followed by Ping: it returns an error at once if the
// configuration cannot be loaded, the endpoint does not answer within ctx,
// or the table is missing (creating it first when Options.CreateTable is
// set).
func Open(ctx context.Context, table string, opts ...Options) (*Backend, error) {
	b := New(table, opts...)
	if err := b.Ping(ctx); err != nil {
		_ = b.Close()
		return nil, err
	}
	return b, nil
}

func newBackend(table string, opts []Options) *Backend {
	var o Options
	if len(opts) > 0 {
		o = opts[len(opts)-1]
	}
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&o.KeyAttribute, DefaultKeyAttribute)
	def(&o.ValueAttribute, DefaultValueAttribute)
	def(&o.EncAttribute, DefaultEncAttribute)
	def(&o.ExpiresAttribute, DefaultExpiresAttribute)
	def(&o.TTLAttribute, DefaultTTLAttribute)
	if o.CompressAbove == 0 {
		o.CompressAbove = DefaultCompressAbove
	}
	return &Backend{table: table, o: o}
}

var (
	_ backend.Storage = (*Backend)(nil)
	_ backend.Scanner = (*Backend)(nil)
	_ backend.Locker  = (*Backend)(nil)
	_ backend.Pinger  = (*Backend)(nil)
)

// conn returns the client, making it if needed, and makes sure of the
// table when CreateTable is set.
func (b *Backend) conn(ctx context.Context) (*dynamodb.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("restycache/dynamodb: %w", err)
	}
	if b.closed.Load() {
		return nil, backend.ErrClosed
	}
	b.mu.Lock()
	c := b.client
	b.mu.Unlock()
	if c == nil || (b.o.CreateTable && !b.ready.Load()) {
		return b.setUp(ctx)
	}
	return c, nil
}

// setUp makes the client and, with CreateTable, the table. A failure is
// retried by the next call.
func (b *Backend) setUp(ctx context.Context) (*dynamodb.Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil, backend.ErrClosed
	}
	if b.client == nil {
		var lo []func(*config.LoadOptions) error
		if b.o.Region != "" {
			lo = append(lo, config.WithRegion(b.o.Region))
		}
		if b.o.Credentials != nil {
			lo = append(lo, config.WithCredentialsProvider(b.o.Credentials))
		}
		cfg, err := config.LoadDefaultConfig(ctx, lo...)
		if err != nil {
			return nil, fmt.Errorf("restycache/dynamodb: load AWS configuration: %w", err)
		}
		b.client = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			if b.o.Endpoint != "" {
				o.BaseEndpoint = aws.String(b.o.Endpoint)
			}
		})
	}
	if b.o.CreateTable && !b.ready.Load() {
		if err := b.createTable(ctx, b.client); err != nil {
			return nil, err
		}
		b.ready.Store(true)
	}
	return b.client, nil
}

// createTable creates the table unless it exists, waits until it is
// active and enables TTL, best effort. Called under mu.
func (b *Backend) createTable(ctx context.Context, c *dynamodb.Client) error {
	desc, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &b.table})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            &b.table,
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: &b.o.KeyAttribute, AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: &b.o.KeyAttribute, KeyType: types.KeyTypeHash}},
		})
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) { // in use: another process made it
			return b.fail("create table", err)
		}
	case err != nil:
		return b.fail("create table", err)
	case desc.Table != nil && desc.Table.TableStatus == types.TableStatusActive:
		return b.enableTTL(ctx, c)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 500*time.Millisecond, 5*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &b.table}, DefaultTableWait); err != nil {
		return b.fail("wait for table", err)
	}
	return b.enableTTL(ctx, c)
}

// enableTTL turns on DynamoDB's TTL on TTLAttribute unless it is on. A
// refusal is kept for TimeToLive; only a context error fails.
func (b *Backend) enableTTL(ctx context.Context, c *dynamodb.Client) error {
	d, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &b.table})
	if err == nil && d.TimeToLiveDescription != nil {
		switch d.TimeToLiveDescription.TimeToLiveStatus {
		case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
			b.ttlErr = nil
			return nil
		}
	}
	_, err = c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: &b.table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: &b.o.TTLAttribute, Enabled: aws.Bool(true),
		},
	})
	if ctx.Err() != nil {
		return b.fail("enable ttl", ctx.Err())
	}
	b.ttlErr = err
	return nil
}

// TimeToLive reports whether DynamoDB deletes expired items of the table
// by itself: nil when its TTL is enabled (or being enabled) on
// TTLAttribute, else why not (disabled, on another attribute, or the
// refusal of the UpdateTimeToLive that CreateTable sent). Without it the
// Backend works the same, but expired items stay until DeleteExpired
// removes them.
func (b *Backend) TimeToLive(ctx context.Context) error {
	c, err := b.conn(ctx)
	if err != nil {
		return err
	}
	d, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &b.table})
	if err != nil {
		return b.fail("describe ttl", err)
	}
	if t := d.TimeToLiveDescription; t != nil && aws.ToString(t.AttributeName) == b.o.TTLAttribute &&
		(t.TimeToLiveStatus == types.TimeToLiveStatusEnabled || t.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	b.mu.Lock()
	terr := b.ttlErr
	b.mu.Unlock()
	if terr != nil {
		return fmt.Errorf("restycache/dynamodb: ttl not enabled on %q: %w", b.o.TTLAttribute, terr)
	}
	return fmt.Errorf("restycache/dynamodb: ttl not enabled on %q", b.o.TTLAttribute)
}

// fail wraps err from operation op: backend.ErrClosed if the backend was
// closed meanwhile, ErrTableNotFound for a missing table.
func (b *Backend) fail(op string, err error) error {
	if b.closed.Load() {
		return fmt.Errorf("restycache/dynamodb: %s: %w", op, backend.ErrClosed)
	}
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("restycache/dynamodb: %s: %w %q: %w", op, ErrTableNotFound, b.table, err)
	}
	return fmt.Errorf("restycache/dynamodb: %s: %w", op, err)
}

// unixMillis is t in Unix milliseconds, truncated.
func unixMillis(t time.Time) int64 { return t.UnixMilli() }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// itemKey is the primary key of the item for key.
func (b *Backend) itemKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{b.o.KeyAttribute: str(key)}
}

// expiredAt reports whether item's expiry has passed at nowMS.
func (b *Backend) expiredAt(item map[string]types.AttributeValue, nowMS int64) bool {
	n, ok := item[b.o.ExpiresAttribute].(*types.AttributeValueMemberN)
	if !ok {
		return false
	}
	ms, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(n.Value, 64)
		if ferr != nil {
			return false
		}
		ms = int64(f)
	}
	return ms <= nowMS
}

// decode returns item's value, or false when it is no entry (a lock).
func (b *Backend) decode(item map[string]types.AttributeValue) ([]byte, bool, error) {
	v, ok := item[b.o.ValueAttribute].(*types.AttributeValueMemberB)
	if !ok {
		return nil, false, nil
	}
	enc, _ := item[b.o.EncAttribute].(*types.AttributeValueMemberS)
	switch {
	case enc == nil:
		if v.Value == nil {
			return []byte{}, true, nil
		}
		return v.Value, true, nil
	case enc.Value == encDeflate:
		r := flate.NewReader(bytes.NewReader(v.Value))
		out, err := io.ReadAll(r)
		if err != nil {
			return nil, false, fmt.Errorf("restycache/dynamodb: corrupt compressed value: %w", err)
		}
		return out, true, nil
	default:
		return nil, false, fmt.Errorf("restycache/dynamodb: unknown value encoding %q", enc.Value)
	}
}

// Get reads the item for key with a consistent read. It returns an error
// wrapping backend.ErrNotFound if it is absent or its expiry has passed.
func (b *Backend) Get(ctx context.Context, key string) ([]byte, error) {
	c, err := b.conn(ctx)
	if err != nil {
		return nil, err
	}
	if len(key) > MaxKeySize {
		return nil, backend.ErrNotFound // it cannot have been stored
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &b.table, Key: b.itemKey(key), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, b.fail("get", err)
	}
	if out.Item == nil || b.expiredAt(out.Item, unixMillis(time.Now())) {
		return nil, backend.ErrNotFound
	}
	v, ok, err := b.decode(out.Item)
	if err != nil {
		return nil, fmt.Errorf("%w (key %q)", err, key)
	}
	if !ok {
		return nil, backend.ErrNotFound
	}
	return v, nil
}

// numSize is the most bytes DynamoDB counts for a number attribute.
const numSize = 21

// itemSize is the size DynamoDB counts for an entry's item.
func (b *Backend) itemSize(key string, value []byte, compressed bool) int {
	n := len(b.o.KeyAttribute) + len(key) + len(b.o.ValueAttribute) + len(value) +
		len(b.o.ExpiresAttribute) + numSize + len(b.o.TTLAttribute) + numSize
	if compressed {
		n += len(b.o.EncAttribute) + len(encDeflate)
	}
	return n
}

// tooLarge reports whether err is DynamoDB refusing an item over its size
// limit.
func tooLarge(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationException" &&
		strings.Contains(strings.ToLower(ae.ErrorMessage()), "size")
}

// Set stores value under key with one PutItem, compressed when it is at
// least CompressAbove bytes and compression makes it smaller. An expiresAt
// that is not after now deletes the key instead; the zero time stores the
// entry without expiry. An entry whose item would still exceed
// MaxItemSize is not stored: Set removes the older value and returns an
// error wrapping backend.ErrTooLarge, as is a key over MaxKeySize. A key
// starting with LockPrefix is refused with ErrReservedKey.
func (b *Backend) Set(ctx context.Context, key string, value []byte, expiresAt time.Time) error {
	c, err := b.conn(ctx)
	if err != nil {
		return err
	}
	if strings.HasPrefix(key, LockPrefix) {
		return fmt.Errorf("restycache/dynamodb: set %q: %w", key, ErrReservedKey)
	}
	if len(key) > MaxKeySize {
		return fmt.Errorf("restycache/dynamodb: set: a %d-byte key is over the %d-byte limit: %w", len(key), MaxKeySize, backend.ErrTooLarge)
	}
	if !expiresAt.IsZero() && !time.Now().Before(expiresAt) {
		return b.deleteOne(ctx, c, "set", key)
	}
	stored, compressed := value, false
	if b.o.CompressAbove > 0 && len(value) >= b.o.CompressAbove {
		if z := deflate(value); len(z)+len(b.o.EncAttribute)+len(encDeflate) < len(value) {
			stored, compressed = z, true
		}
	}
	if n := b.itemSize(key, stored, compressed); n > MaxItemSize {
		return b.refuse(ctx, c, key, n)
	}
	if stored == nil {
		stored = []byte{}
	}
	item := map[string]types.AttributeValue{
		b.o.KeyAttribute:   str(key),
		b.o.ValueAttribute: &types.AttributeValueMemberB{Value: stored},
	}
	if compressed {
		item[b.o.EncAttribute] = str(encDeflate)
	}
	if !expiresAt.IsZero() {
		item[b.o.ExpiresAttribute] = num(unixMillis(expiresAt))
		item[b.o.TTLAttribute] = num(ttlSeconds(expiresAt))
	}
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &b.table, Item: item})
	if tooLarge(err) {
		return b.refuse(ctx, c, key, b.itemSize(key, stored, compressed))
	}
	if err != nil {
		return b.fail("set", err)
	}
	return nil
}

// ttlSeconds is t in Unix seconds, rounded up.
func ttlSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 && s < math.MaxInt64 {
		s++
	}
	return s
}

// deflate compresses v.
func deflate(v []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression) // a valid level never fails
	_, _ = w.Write(v)                                       // a bytes.Buffer never fails
	_ = w.Close()
	return buf.Bytes()
}

// refuse removes key's older value and reports a too large entry.
func (b *Backend) refuse(ctx context.Context, c *dynamodb.Client, key string, size int) error {
	if err := b.deleteOne(ctx, c, "set", key); err != nil {
		return errors.Join(backend.ErrTooLarge, err)
	}
	return fmt.Errorf("restycache/dynamodb: set: a %d-byte item (after compression) is over the %d-byte limit: %w", size, MaxItemSize, backend.ErrTooLarge)
}

func (b *Backend) deleteOne(ctx context.Context, c *dynamodb.Client, op, key string) error {
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &b.table, Key: b.itemKey(key)}); err != nil {
		return b.fail(op, err)
	}
	return nil
}

// Delete removes the given keys, in BatchWriteItem batches of 25 whose
// unprocessed items are retried; absent keys are ignored.
func (b *Backend) Delete(ctx context.Context, keys ...string) error {
	c, err := b.conn(ctx)
	if err != nil {
		return err
	}
	if len(keys) == 1 && len(keys[0]) <= MaxKeySize {
		return b.deleteOne(ctx, c, "delete", keys[0])
	}
	return b.deleteBatch(ctx, c, "delete", keys)
}

// deleteBatch deletes keys in batches of batchSize (a batch may not name a
// key twice).
func (b *Backend) deleteBatch(ctx context.Context, c *dynamodb.Client, op string, keys []string) error {
	seen := make(map[string]bool, len(keys))
	reqs := make([]types.WriteRequest, 0, batchSize)
	flush := func() error {
		if len(reqs) == 0 {
			return nil
		}
		err := b.writeBatch(ctx, c, reqs)
		reqs = reqs[:0]
		clear(seen)
		if err != nil {
			return b.fail(op, err)
		}
		return nil
	}
	for _, k := range keys {
		if seen[k] || len(k) > MaxKeySize { // a key too long was never stored
			continue
		}
		seen[k] = true
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: b.itemKey(k)}})
		if len(reqs) == batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// writeBatch sends one BatchWriteItem and retries its unprocessed items
// with a growing pause, within ctx and at most maxBatchRetries times.
func (b *Backend) writeBatch(ctx context.Context, c *dynamodb.Client, reqs []types.WriteRequest) error {
	items := map[string][]types.WriteRequest{b.table: reqs}
	pause := 20 * time.Millisecond
	for try := 0; ; try++ {
		out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: items})
		if err != nil {
			return err
		}
		if len(out.UnprocessedItems[b.table]) == 0 {
			return nil
		}
		if try == maxBatchRetries {
			return fmt.Errorf("%d items still unprocessed after %d retries", len(out.UnprocessedItems[b.table]), try)
		}
		items = out.UnprocessedItems
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, time.Second)
	}
}

// scanFilter is a Scan's filter: the entries (not locks) whose keys start
// with prefix and, when live, that have not expired at nowMS.
type scanFilter struct {
	prefix string
	live   bool
	// expired selects the entries that have expired instead.
	expired bool
}

// scanInput builds a Scan of the entries selected by f, with projection
// proj (nil: whole items) and sel.
func (b *Backend) scanInput(f scanFilter, nowMS int64, proj *string, sel types.Select) *dynamodb.ScanInput {
	names := map[string]string{"#v": b.o.ValueAttribute}
	values := map[string]types.AttributeValue{}
	expr := []string{"attribute_exists(#v)"}
	if f.prefix != "" {
		names["#k"] = b.o.KeyAttribute
		values[":p"] = str(f.prefix)
		expr = append(expr, "begins_with(#k, :p)")
	}
	switch {
	case f.live:
		names["#e"] = b.o.ExpiresAttribute
		values[":now"] = num(nowMS)
		expr = append(expr, "(attribute_not_exists(#e) OR #e > :now)")
	case f.expired:
		names["#e"] = b.o.ExpiresAttribute
		values[":now"] = num(nowMS)
		expr = append(expr, "#e <= :now")
	}
	if proj != nil {
		names["#k"] = b.o.KeyAttribute
	}
	in := &dynamodb.ScanInput{
		TableName:                &b.table,
		FilterExpression:         aws.String(strings.Join(expr, " AND ")),
		ExpressionAttributeNames: names,
		ConsistentRead:           aws.Bool(true),
		Limit:                    aws.Int32(scanLimit),
		ProjectionExpression:     proj,
		Select:                   sel,
	}
	if len(values) > 0 {
		in.ExpressionAttributeValues = values
	}
	return in
}

// pages runs a paginated Scan, yielding each page's output.
func (b *Backend) pages(ctx context.Context, c *dynamodb.Client, op string, in *dynamodb.ScanInput) iter.Seq2[*dynamodb.ScanOutput, error] {
	return func(yield func(*dynamodb.ScanOutput, error) bool) {
		for {
			out, err := c.Scan(ctx, in)
			if err != nil {
				yield(nil, b.fail(op, err))
				return
			}
			if !yield(out, nil) {
				return
			}
			if len(out.LastEvaluatedKey) == 0 {
				return
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
}

// Keys yields the keys that start with prefix and have not expired, in no
// particular order, from a paginated, consistent Scan. Entries may be
// written or deleted during the iteration.
func (b *Backend) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		c, err := b.conn(ctx)
		if err != nil {
			yield("", err)
			return
		}
		in := b.scanInput(scanFilter{prefix: prefix, live: true}, unixMillis(time.Now()), aws.String("#k"), "")
		for out, err := range b.pages(ctx, c, "keys", in) {
			if err != nil {
				yield("", err)
				return
			}
			for _, it := range out.Items {
				k, ok := it[b.o.KeyAttribute].(*types.AttributeValueMemberS)
				if !ok {
					continue
				}
				if !yield(k.Value, nil) {
					return
				}
			}
		}
	}
}

// Scan yields the entries whose keys start with prefix and that have not
// expired, with their values and expiry, as Keys does.
func (b *Backend) Scan(ctx context.Context, prefix string) iter.Seq2[backend.Record, error] {
	return func(yield func(backend.Record, error) bool) {
		c, err := b.conn(ctx)
		if err != nil {
			yield(backend.Record{}, err)
			return
		}
		in := b.scanInput(scanFilter{prefix: prefix, live: true}, unixMillis(time.Now()), nil, "")
		for out, err := range b.pages(ctx, c, "scan", in) {
			if err != nil {
				yield(backend.Record{}, err)
				return
			}
			for _, it := range out.Items {
				k, ok := it[b.o.KeyAttribute].(*types.AttributeValueMemberS)
				if !ok {
					continue
				}
				v, ok, err := b.decode(it)
				if err != nil {
					yield(backend.Record{}, fmt.Errorf("%w (key %q)", err, k.Value))
					return
				}
				if !ok {
					continue
				}
				r := backend.Record{Key: k.Value, Value: v}
				if n, ok := it[b.o.ExpiresAttribute].(*types.AttributeValueMemberN); ok {
					if ms, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
						r.ExpiresAt = time.UnixMilli(ms)
					}
				}
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}

// Len counts the entries whose keys start with prefix and that have not
// expired, with a paginated Scan that selects COUNT.
func (b *Backend) Len(ctx context.Context, prefix string) (int, error) {
	c, err := b.conn(ctx)
	if err != nil {
		return 0, err
	}
	in := b.scanInput(scanFilter{prefix: prefix, live: true}, unixMillis(time.Now()), nil, types.SelectCount)
	n := 0
	for out, err := range b.pages(ctx, c, "len", in) {
		if err != nil {
			return 0, err
		}
		n += int(out.Count)
	}
	return n, nil
}

// Clear deletes every entry whose key starts with prefix, expired or not:
// a paginated Scan of their keys, each page deleted in batches. Locks are
// left alone.
func (b *Backend) Clear(ctx context.Context, prefix string) error {
	c, err := b.conn(ctx)
	if err != nil {
		return err
	}
	in := b.scanInput(scanFilter{prefix: prefix}, 0, aws.String("#k"), "")
	for out, err := range b.pages(ctx, c, "clear", in) {
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(out.Items))
		for _, it := range out.Items {
			if k, ok := it[b.o.KeyAttribute].(*types.AttributeValueMemberS); ok {
				keys = append(keys, k.Value)
			}
		}
		if err := b.deleteBatch(ctx, c, "clear", keys); err != nil {
			return err
		}
	}
	return nil
}

// DeleteExpired deletes the entries whose expiry has passed and reports how
// many it removed: a paginated Scan of their keys, then one DeleteItem per
// key conditional on the expiry, so an entry rewritten meanwhile stays.
// Expired locks go too, uncounted. DynamoDB's TTL also deletes expired
// items by itself, eventually.
func (b *Backend) DeleteExpired(ctx context.Context) (int, error) {
	c, err := b.conn(ctx)
	if err != nil {
		return 0, err
	}
	nowMS := unixMillis(time.Now())
	in := b.scanInput(scanFilter{expired: true}, nowMS, aws.String("#k"), "")
	// Locks have no value attribute: drop that condition for them.
	in.FilterExpression = aws.String("#e <= :now")
	delete(in.ExpressionAttributeNames, "#v")
	n := 0
	for out, err := range b.pages(ctx, c, "delete expired", in) {
		if err != nil {
			return n, err
		}
		for _, it := range out.Items {
			k, ok := it[b.o.KeyAttribute].(*types.AttributeValueMemberS)
			if !ok {
				continue
			}
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName:                 &b.table,
				Key:                       b.itemKey(k.Value),
				ConditionExpression:       aws.String("#e <= :now"),
				ExpressionAttributeNames:  map[string]string{"#e": b.o.ExpiresAttribute},
				ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(nowMS)},
			})
			var cf *types.ConditionalCheckFailedException
			switch {
			case errors.As(err, &cf):
			case err != nil:
				return n, b.fail("delete expired", err)
			case !strings.HasPrefix(k.Value, LockPrefix):
				n++
			}
		}
	}
	return n, nil
}

// TryLock takes the lock named key for ttl with a conditional PutItem of
// the item LockPrefix+key, carrying its expiry and a random token: it
// succeeds when no such item exists or the existing one has expired, so of
// several takers exactly one wins. unlock is a DeleteItem conditional on
// the token, so it leaves a lock that expired and was taken by another
// alone. Expiry is judged by each process's clock, so processes sharing
// locks need roughly synchronised clocks.
func (b *Backend) TryLock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, bool, error) {
	c, err := b.conn(ctx)
	if err != nil {
		return nil, false, err
	}
	var tok [16]byte
	_, _ = rand.Read(tok[:]) // never fails
	token := hex.EncodeToString(tok[:])
	now := time.Now()
	exp := now.Add(ttl)
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &b.table,
		Item: map[string]types.AttributeValue{
			b.o.KeyAttribute:     str(LockPrefix + key),
			lockTokenAttribute:   str(token),
			b.o.ExpiresAttribute: num(unixMillis(exp)),
			b.o.TTLAttribute:     num(ttlSeconds(exp)),
		},
		ConditionExpression:       aws.String("attribute_not_exists(#k) OR #e <= :now"),
		ExpressionAttributeNames:  map[string]string{"#k": b.o.KeyAttribute, "#e": b.o.ExpiresAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(unixMillis(now))},
	})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, b.fail("lock", err)
	}
	unlock := func(ctx context.Context) error {
		c, err := b.conn(ctx)
		if err != nil {
			return err
		}
		_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 &b.table,
			Key:                       b.itemKey(LockPrefix + key),
			ConditionExpression:       aws.String("#t = :t"),
			ExpressionAttributeNames:  map[string]string{"#t": lockTokenAttribute},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": str(token)},
		})
		if errors.As(err, &cf) {
			return nil // released already, or expired and taken by another
		}
		if err != nil {
			return b.fail("unlock", err)
		}
		return nil
	}
	return unlock, true, nil
}

// Ping makes the client if needed (creating the table with CreateTable)
// and describes the table: it returns an error wrapping ErrTableNotFound
// when the table is missing, or the reason the endpoint did not answer.
func (b *Backend) Ping(ctx context.Context) error {
	c, err := b.conn(ctx)
	if err != nil {
		return err
	}
	if _, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &b.table}); err != nil {
		return b.fail("ping", err)
	}
	return nil
}

// Close marks the Backend closed: later calls of the other methods return
// backend.ErrClosed. An SDK client holds nothing to release but idle HTTP
// connections, which its transport closes after a while; a client passed
// to NewFromClient is the caller's and stays usable. Close is idempotent
// and returns nil.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed.Store(true)
	b.client = nil
	return nil
}
