// Package mongodb is restycache's MongoDB backend, through
// go.mongodb.org/mongo-driver/v2. It is imported as rcmongo in docs and
// examples, since the driver's package is also called mongo.
//
// Each entry is one document in one collection:
//
//	{_id: <key>, value: <binary>, expiresAt: <date>}
//
// with expiresAt absent for an entry that never expires. Expiry is kept to
// the millisecond (a BSON date), so an entry may end up to 1 ms early.
// Reads filter on expiresAt, so a document past it is a miss whether or not
// the server has removed it yet. A TTL index on expiresAt lets the server
// remove expired documents by itself (MongoDB's TTL monitor runs about once
// a minute); it is created best effort on first use (the first successful
// Set, Ping or Open), and a server that refuses it (FerretDB answers
// NotImplemented) is no error: see Backend.TTLIndex.
//
// Keys, Len, Clear and Scan select keys with an _id range query
// [prefix, end), which uses the _id index, and touch no document outside it:
// the backend never drops a collection or a database, so a collection can be
// shared with other data under other keys. Locks for cross-process
// coalescing (backend.Locker) live in a second collection, LockCollection.
//
// A MongoDB document holds at most 16 MiB; Set refuses a larger entry with
// an error wrapping backend.ErrTooLarge.
package mongodb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/restycache/restycache/backend"
)

// DefaultDatabase is the database used when Options.Database is empty.
const DefaultDatabase = "restycache"

// DefaultCollection is the collection used when Options.Collection is
// empty.
const DefaultCollection = "responses"

// LockCollectionSuffix is appended to the entries' collection name to name
// the locks' collection when Options.LockCollection is empty
// ("responses_locks" by default).
const LockCollectionSuffix = "_locks"

// DefaultServerSelectionTimeout is how long an operation waits for a
// reachable server, when New builds the client and the URI does not set
// serverSelectionTimeoutMS. The driver's own default is 30s; a shorter one
// makes Open and Ping report a wrong address sooner. Every operation is
// also bounded by its context.
const DefaultServerSelectionTimeout = 5 * time.Second

// MaxDocumentSize is the largest BSON document MongoDB stores, in bytes
// (16 MiB). Set refuses an entry whose document would be larger.
const MaxDocumentSize = 16 << 20

// Field names of an entry's document.
const (
	fieldKey     = "_id"
	fieldValue   = "value"
	fieldExpires = "expiresAt"
	fieldToken   = "token"
)

// upsertRetries bounds the retries of an upsert that lost a race to
// insert a new key.
const upsertRetries = 3

// deleteChunk is the most keys one delete command names.
const deleteChunk = 1000

// scanBatch is how many documents the server returns per batch of Keys and
// Scan (the driver also keeps a batch under 16 MiB).
const scanBatch = 256

// Options configures a Backend. The zero value uses DefaultDatabase,
// DefaultCollection and DefaultCollection+LockCollectionSuffix.
type Options struct {
	// Database is the database that holds the collections. Empty means
	// DefaultDatabase ("restycache").
	Database string
	// Collection is the collection that holds the entries. It may be
	// shared with other data: the backend touches only the documents
	// whose _id is a key it is asked about. Empty means
	// DefaultCollection ("responses").
	Collection string
	// LockCollection is the collection that holds the locks of
	// backend.Locker. Empty means Collection + LockCollectionSuffix
	// ("responses_locks").
	LockCollection string
}

// Backend is a backend.Storage, backend.Scanner, backend.Locker and
// backend.Pinger in a MongoDB collection. It is safe for concurrent use.
// Create it with New, NewFromClient or Open.
type Backend struct {
	uri      string        // for New; empty with NewFromClient
	ownsConn bool          // whether Close disconnects the client
	dbName   string        // resolved names
	collName string        //
	lockName string        //
	mu       sync.Mutex    // serialises connecting, index creation and closing
	client   *mongo.Client // set under mu, then read through st
	st       atomic.Pointer[state]
	closed   atomic.Bool // written under mu
	connErr  error       // a client that cannot be made (a bad URI); under mu

	ttlDone bool  // the server answered the index creation; under mu
	ttlErr  error // its refusal; under mu
}

// state is a connected client's collections; immutable once built.
type state struct {
	coll, locks *mongo.Collection
}

// New returns a Backend on the MongoDB deployment at uri (such as
// "mongodb://127.0.0.1:27017/") without connecting: the first call
// connects, so New never fails, and a bad URI or an unreachable server is
// reported by that call (or at once by Ping or Open). Close disconnects the
// client New made. When several Options are given the last one wins.
func New(uri string, opts ...Options) *Backend {
	b := newBackend(opts)
	b.uri = uri
	b.ownsConn = true
	return b
}

// NewFromClient returns a Backend that uses the caller's client, which
// keeps its own options (timeouts, pool, credentials). Close leaves the
// client connected: it is the caller's to disconnect. When several Options
// are given the last one wins.
func NewFromClient(c *mongo.Client, opts ...Options) *Backend {
	b := newBackend(opts)
	b.client = c
	return b
}

// Open is New followed by Ping: it connects at once and returns the error
// if the URI is bad or no server answers within ctx (or
// DefaultServerSelectionTimeout, unless the URI sets its own). It also
// tries to create the TTL index.
func Open(ctx context.Context, uri string, opts ...Options) (*Backend, error) {
	b := New(uri, opts...)
	if err := b.Ping(ctx); err != nil {
		_ = b.Close()
		return nil, err
	}
	return b, nil
}

func newBackend(opts []Options) *Backend {
	var o Options
	if len(opts) > 0 {
		o = opts[len(opts)-1]
	}
	b := &Backend{dbName: o.Database, collName: o.Collection, lockName: o.LockCollection}
	if b.dbName == "" {
		b.dbName = DefaultDatabase
	}
	if b.collName == "" {
		b.collName = DefaultCollection
	}
	if b.lockName == "" {
		b.lockName = b.collName + LockCollectionSuffix
	}
	return b
}

var (
	_ backend.Storage = (*Backend)(nil)
	_ backend.Scanner = (*Backend)(nil)
	_ backend.Locker  = (*Backend)(nil)
	_ backend.Pinger  = (*Backend)(nil)
)

// conn returns the collections, making the client if needed.
func (b *Backend) conn(ctx context.Context) (*state, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("restycache/mongodb: %w", err)
	}
	if st := b.st.Load(); st != nil {
		return st, nil
	}
	return b.connect()
}

// tryIndexes creates the TTL indexes if the server has not answered that
// yet. It is called after a successful write or ping, when the server is
// known to be there, so that an unreachable server does not cost every
// call twice.
func (b *Backend) tryIndexes(ctx context.Context, st *state) {
	b.mu.Lock()
	done := b.ttlDone
	b.mu.Unlock()
	if !done {
		_ = b.ensureIndexes(ctx, st) // TTLIndex reports why it failed
	}
}

func (b *Backend) connect() (*state, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil, backend.ErrClosed
	}
	if st := b.st.Load(); st != nil {
		return st, nil
	}
	if b.connErr != nil {
		return nil, b.connErr
	}
	if b.client == nil {
		co := options.Client().ApplyURI(b.uri)
		if co.ServerSelectionTimeout == nil {
			co.SetServerSelectionTimeout(DefaultServerSelectionTimeout)
		}
		c, err := mongo.Connect(co)
		if err != nil {
			// A bad URI does not get better by retrying.
			b.connErr = fmt.Errorf("restycache/mongodb: connect: %w", err)
			return nil, b.connErr
		}
		b.client = c
	}
	db := b.client.Database(b.dbName)
	st := &state{coll: db.Collection(b.collName), locks: db.Collection(b.lockName)}
	b.st.Store(st)
	return st, nil
}

// ttlModel is the TTL index on expiresAt: a document goes once its date
// has passed.
func ttlModel() mongo.IndexModel {
	return mongo.IndexModel{
		Keys:    bson.D{{Key: fieldExpires, Value: 1}},
		Options: options.Index().SetExpireAfterSeconds(0),
	}
}

// ensureIndexes creates the TTL indexes on both collections. A server
// answer (success or refusal) settles it for the Backend's lifetime; any
// other error (network, context) is returned and leaves it for the next
// call.
func (b *Backend) ensureIndexes(ctx context.Context, st *state) error {
	_, err := st.coll.Indexes().CreateOne(ctx, ttlModel())
	var se mongo.ServerError
	if err != nil && !errors.As(err, &se) {
		return b.fail("ttl index", err)
	}
	if err == nil {
		// Best effort: locks are judged by their expiresAt anyway.
		_, _ = st.locks.Indexes().CreateOne(ctx, ttlModel())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.ttlDone {
		b.ttlDone, b.ttlErr = true, err
	}
	return nil
}

// TTLIndex reports whether the server removes expired entries by itself.
// It connects, tries to create the TTL index on expiresAt if this Backend
// has not had the server's answer yet, and returns nil when the index is
// in place, or the server's refusal, wrapped: FerretDB answers
// NotImplemented (code 238), so its collections keep expired documents
// until DeleteExpired removes them, while reads still treat them as
// misses. It returns the connection error if the server could not be
// asked. A refusal is no fault: the Backend works the same without the
// index.
func (b *Backend) TTLIndex(ctx context.Context) error {
	st, err := b.conn(ctx)
	if err != nil {
		return err
	}
	b.mu.Lock()
	done := b.ttlDone
	b.mu.Unlock()
	if !done {
		if err := b.ensureIndexes(ctx, st); err != nil {
			return err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ttlErr != nil {
		return fmt.Errorf("restycache/mongodb: ttl index refused: %w", b.ttlErr)
	}
	return nil
}

// fail wraps err from operation op, reporting backend.ErrClosed if the
// backend was closed while the operation ran.
func (b *Backend) fail(op string, err error) error {
	if b.closed.Load() {
		return fmt.Errorf("restycache/mongodb: %s: %w", op, backend.ErrClosed)
	}
	return fmt.Errorf("restycache/mongodb: %s: %w", op, err)
}

// now is the current time as a BSON date, the precision of expiresAt.
func now() bson.DateTime { return bson.NewDateTimeFromTime(time.Now()) }

// liveFilter matches the documents that have not expired at t.
func liveFilter(t bson.DateTime) bson.E {
	return bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: fieldExpires, Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: fieldExpires, Value: bson.D{{Key: "$gt", Value: t}}}},
	}}
}

// rangeFilter matches the keys that start with prefix.
func rangeFilter(prefix string) bson.E {
	r := bson.D{{Key: "$gte", Value: prefix}}
	if end, ok := prefixEnd(prefix); ok {
		r = append(r, bson.E{Key: "$lt", Value: end})
	}
	return bson.E{Key: fieldKey, Value: r}
}

// prefixEnd is the smallest string above every key that starts with
// prefix. BSON strings are UTF-8 and compare bytewise, which for valid
// UTF-8 is code-point order, so for a valid prefix the bound increments its
// last code point (skipping surrogates and dropping U+10FFFF) and stays
// valid UTF-8, which a server may insist on. Other prefixes fall back to
// backend.PrefixEnd.
func prefixEnd(prefix string) (string, bool) {
	if !utf8.ValidString(prefix) {
		return backend.PrefixEnd(prefix)
	}
	r := []rune(prefix)
	for i := len(r) - 1; i >= 0; i-- {
		switch {
		case r[i] == utf8.MaxRune:
			continue
		case r[i] == 0xD7FF:
			r[i] = 0xE000
		default:
			r[i]++
		}
		return string(r[:i+1]), true
	}
	return "", false
}

// expired reports whether a document's expiresAt (absent: never) has
// passed at t.
func expired(doc bson.Raw, t bson.DateTime) bool {
	v, err := doc.LookupErr(fieldExpires)
	if err != nil {
		return false
	}
	d, ok := v.DateTimeOK()
	return ok && d <= int64(t)
}

// value returns a document's value, or false if it has none.
func value(doc bson.Raw) ([]byte, bool) {
	v, err := doc.LookupErr(fieldValue)
	if err != nil {
		return nil, false
	}
	_, data, ok := v.BinaryOK()
	return data, ok
}

// Get returns the value stored under key, or an error wrapping
// backend.ErrNotFound if it is absent or its expiresAt has passed.
func (b *Backend) Get(ctx context.Context, key string) ([]byte, error) {
	st, err := b.conn(ctx)
	if err != nil {
		return nil, err
	}
	doc, err := st.coll.FindOne(ctx, bson.D{{Key: fieldKey, Value: key}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, backend.ErrNotFound
	}
	if err != nil {
		return nil, b.fail("get", err)
	}
	v, ok := value(doc)
	if !ok || expired(doc, now()) {
		return nil, backend.ErrNotFound
	}
	return v, nil
}

// docSize is the size of an entry's BSON document.
func docSize(key string, value []byte) int {
	const (
		header  = 4 + 1                         // length, terminator
		idElem  = 1 + len(fieldKey) + 1 + 4 + 1 // type, name, length, NUL
		valElem = 1 + len(fieldValue) + 1 + 4 + 1
		expElem = 1 + len(fieldExpires) + 1 + 8
	)
	return header + idElem + len(key) + valElem + len(value) + expElem
}

// tooLarge reports whether err is the server refusing a document over its
// size limit.
func tooLarge(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && (se.HasErrorCode(10334) || se.HasErrorCode(17419) || se.HasErrorCode(17420))
}

// Set stores value under key with one upsert. An expiresAt that is not
// after now deletes the key instead; the zero time stores the entry
// without expiresAt. An entry whose document would exceed MaxDocumentSize
// is not stored: Set removes the older value and returns an error
// wrapping backend.ErrTooLarge.
func (b *Backend) Set(ctx context.Context, key string, value []byte, expiresAt time.Time) error {
	st, err := b.conn(ctx)
	if err != nil {
		return err
	}
	byID := bson.D{{Key: fieldKey, Value: key}}
	if !expiresAt.IsZero() && !time.Now().Before(expiresAt) {
		if _, err := st.coll.DeleteOne(ctx, byID); err != nil {
			return b.fail("set", err)
		}
		return nil
	}
	if n := docSize(key, value); n > MaxDocumentSize {
		return b.refuse(ctx, st, key, fmt.Sprintf("%d-byte document", n))
	}
	doc := bson.D{
		{Key: fieldKey, Value: key},
		{Key: fieldValue, Value: bson.Binary{Data: value}},
	}
	if !expiresAt.IsZero() {
		doc = append(doc, bson.E{Key: fieldExpires, Value: bson.NewDateTimeFromTime(expiresAt)})
	}
	// Two upserts of one new key can race to insert it, and the loser
	// fails with a duplicate key error (FerretDB, and MongoDB before 4.2,
	// do not retry that themselves): the document now exists, so a retry
	// replaces it.
	for try := 0; ; try++ {
		_, err = st.coll.ReplaceOne(ctx, byID, doc, options.Replace().SetUpsert(true))
		if err == nil || try == upsertRetries || !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	if tooLarge(err) {
		return b.refuse(ctx, st, key, "document")
	}
	if err != nil {
		return b.fail("set", err)
	}
	b.tryIndexes(ctx, st)
	return nil
}

// refuse removes key's older value and reports a too large entry.
func (b *Backend) refuse(ctx context.Context, st *state, key, what string) error {
	if _, err := st.coll.DeleteOne(ctx, bson.D{{Key: fieldKey, Value: key}}); err != nil {
		return b.fail("set", errors.Join(backend.ErrTooLarge, err))
	}
	return fmt.Errorf("restycache/mongodb: set: %s over the %d-byte limit: %w", what, MaxDocumentSize, backend.ErrTooLarge)
}

// Delete removes the given keys, up to 1000 per command; absent keys are
// ignored.
func (b *Backend) Delete(ctx context.Context, keys ...string) error {
	st, err := b.conn(ctx)
	if err != nil {
		return err
	}
	if len(keys) == 1 {
		if _, err := st.coll.DeleteOne(ctx, bson.D{{Key: fieldKey, Value: keys[0]}}); err != nil {
			return b.fail("delete", err)
		}
		return nil
	}
	for chunk := range slices.Chunk(keys, deleteChunk) {
		f := bson.D{{Key: fieldKey, Value: bson.D{{Key: "$in", Value: chunk}}}}
		if _, err := st.coll.DeleteMany(ctx, f); err != nil {
			return b.fail("delete", err)
		}
	}
	return nil
}

// Clear deletes every document whose key starts with prefix, expired or
// not, with one range delete. It never drops the collection.
func (b *Backend) Clear(ctx context.Context, prefix string) error {
	st, err := b.conn(ctx)
	if err != nil {
		return err
	}
	if _, err := st.coll.DeleteMany(ctx, bson.D{rangeFilter(prefix)}); err != nil {
		return b.fail("clear", err)
	}
	return nil
}

// scan iterates over the live documents whose keys start with prefix, in
// key order, with a cursor; withValue selects whether values are read.
// The document is valid only until the next one.
func (b *Backend) scan(ctx context.Context, op, prefix string, withValue bool) iter.Seq2[bson.Raw, error] {
	return func(yield func(bson.Raw, error) bool) {
		st, err := b.conn(ctx)
		if err != nil {
			yield(nil, err)
			return
		}
		fo := options.Find().SetSort(bson.D{{Key: fieldKey, Value: 1}}).SetBatchSize(scanBatch)
		if !withValue {
			fo.SetProjection(bson.D{{Key: fieldKey, Value: 1}})
		}
		cur, err := st.coll.Find(ctx, bson.D{rangeFilter(prefix), liveFilter(now())}, fo)
		if err != nil {
			yield(nil, b.fail(op, err))
			return
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer cancel()
			_ = cur.Close(cctx)
		}()
		for cur.Next(ctx) {
			if !yield(cur.Current, nil) {
				return
			}
		}
		if err := cur.Err(); err != nil {
			yield(nil, b.fail(op, err))
		}
	}
}

// Keys yields the keys that start with prefix and have not expired, each
// once, in key order, from a server cursor; writes and deletes during the
// iteration are fine.
func (b *Backend) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for doc, err := range b.scan(ctx, "keys", prefix, false) {
			if err != nil {
				yield("", err)
				return
			}
			k, ok := doc.Lookup(fieldKey).StringValueOK()
			if !ok {
				continue // not an entry of ours
			}
			if !yield(k, nil) {
				return
			}
		}
	}
}

// Scan yields the entries whose keys start with prefix and that have not
// expired, with their values and expiry, as Keys does.
func (b *Backend) Scan(ctx context.Context, prefix string) iter.Seq2[backend.Record, error] {
	return func(yield func(backend.Record, error) bool) {
		for doc, err := range b.scan(ctx, "scan", prefix, true) {
			if err != nil {
				yield(backend.Record{}, err)
				return
			}
			k, ok := doc.Lookup(fieldKey).StringValueOK()
			v, vok := value(doc)
			if !ok || !vok {
				continue
			}
			r := backend.Record{Key: k, Value: slices.Clone(v)}
			if r.Value == nil {
				r.Value = []byte{}
			}
			if e, ok := doc.Lookup(fieldExpires).DateTimeOK(); ok {
				r.ExpiresAt = time.UnixMilli(e)
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// Len counts the documents whose keys start with prefix and that have not
// expired.
func (b *Backend) Len(ctx context.Context, prefix string) (int, error) {
	st, err := b.conn(ctx)
	if err != nil {
		return 0, err
	}
	n, err := st.coll.CountDocuments(ctx, bson.D{rangeFilter(prefix), liveFilter(now())})
	if err != nil {
		return 0, b.fail("len", err)
	}
	return int(n), nil
}

// DeleteExpired removes every document of the collection whose expiresAt
// has passed, with one delete, and reports how many it removed. With a TTL
// index the server also does this by itself, about once a minute.
func (b *Backend) DeleteExpired(ctx context.Context) (int, error) {
	st, err := b.conn(ctx)
	if err != nil {
		return 0, err
	}
	f := bson.D{{Key: fieldExpires, Value: bson.D{{Key: "$lte", Value: now()}}}}
	res, err := st.coll.DeleteMany(ctx, f)
	if err != nil {
		return 0, b.fail("delete expired", err)
	}
	// Expired locks too; they do not count as entries.
	_, _ = st.locks.DeleteMany(ctx, f)
	return int(res.DeletedCount), nil
}

// TryLock takes the lock named key for ttl by inserting a document
// {_id: key, token, expiresAt} into LockCollection. If one exists but has
// expired, it is taken over with one conditional update, so of several
// takers exactly one wins. unlock deletes the document only while it
// still carries this taker's token. Expiry is judged by each process's
// clock, so processes sharing locks need roughly synchronised clocks.
func (b *Backend) TryLock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, bool, error) {
	st, err := b.conn(ctx)
	if err != nil {
		return nil, false, err
	}
	var tok [16]byte
	_, _ = rand.Read(tok[:]) // never fails
	token := hex.EncodeToString(tok[:])
	exp := bson.NewDateTimeFromTime(time.Now().Add(ttl))
	_, err = st.locks.InsertOne(ctx, bson.D{
		{Key: fieldKey, Value: key}, {Key: fieldToken, Value: token}, {Key: fieldExpires, Value: exp},
	})
	if mongo.IsDuplicateKeyError(err) {
		res, uerr := st.locks.UpdateOne(ctx,
			bson.D{{Key: fieldKey, Value: key}, {Key: fieldExpires, Value: bson.D{{Key: "$lte", Value: now()}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: fieldToken, Value: token}, {Key: fieldExpires, Value: exp}}}})
		if uerr != nil {
			return nil, false, b.fail("lock", uerr)
		}
		if res.MatchedCount == 0 {
			return nil, false, nil
		}
		err = nil
	}
	if err != nil {
		return nil, false, b.fail("lock", err)
	}
	unlock := func(ctx context.Context) error {
		st, err := b.conn(ctx)
		if err != nil {
			return err
		}
		if _, err := st.locks.DeleteOne(ctx, bson.D{{Key: fieldKey, Value: key}, {Key: fieldToken, Value: token}}); err != nil {
			return b.fail("unlock", err)
		}
		return nil
	}
	return unlock, true, nil
}

// Ping connects if needed and checks that the primary answers; it returns
// the reason when it does not (a bad URI, no server within the deadline).
// Like the first successful Set, it then tries to create the TTL index.
func (b *Backend) Ping(ctx context.Context) error {
	if _, err := b.conn(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	c := b.client
	b.mu.Unlock()
	if c == nil {
		return backend.ErrClosed
	}
	if err := c.Ping(ctx, readpref.Primary()); err != nil {
		return b.fail("ping", err)
	}
	if st := b.st.Load(); st != nil {
		b.tryIndexes(ctx, st)
	}
	return nil
}

// Close disconnects the client that New made, waiting at most
// DefaultServerSelectionTimeout for operations in flight; a client passed
// to NewFromClient is left connected. Later calls of the other methods
// return backend.ErrClosed. Close is idempotent: only the first call can
// return an error.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil
	}
	b.closed.Store(true)
	b.st.Store(nil)
	c := b.client
	b.client = nil
	if c == nil || !b.ownsConn {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultServerSelectionTimeout)
	defer cancel()
	if err := c.Disconnect(ctx); err != nil {
		return fmt.Errorf("restycache/mongodb: close: %w", err)
	}
	return nil
}
