// Package redis is restycache's Redis backend, through
// github.com/redis/go-redis/v9. It works with a standalone server, Sentinel
// (a failover client), Redis Cluster and any server that speaks the Redis
// protocol with the commands below (Valkey; DragonflyDB through package
// dragonfly). Import it with an alias, as its name is go-redis's:
//
//	import rcredis "github.com/restycache/restycache/backend/redis"
//
//	c := restycache.New(restycache.WithBackend(rcredis.New("redis://127.0.0.1:6379/0")))
//
// # Layout
//
// Each entry is one string key, Options.Prefix + KeySeparator + key
// ("restycache:" + key by default), holding the encoded entry. Expiry is the
// server's own: Set sends SET key value PX ms, so the server drops the entry
// when it expires (never-expiring entries carry no TTL, and DeleteExpired
// has nothing to do and reports 0). A hit is one GET: one round trip.
//
// Keys, Len, Clear and Scan walk the keys with SCAN MATCH <prefix>* COUNT
// Options.ScanCount, on every master of a Cluster (and every shard of a
// Ring), and delete with UNLINK in batches. They never use KEYS or FLUSHDB
// and never touch a key outside Options.Prefix, so several caches, and other
// data, can share one database. Len is therefore O(keys under the prefix),
// not O(1).
//
// The cross-process lock (backend.Locker) is a key Options.Prefix +
// LockSeparator + key, taken with SET NX PX and a random token, and released
// by a compare-and-delete Lua script that declares its key, so lock keys
// never show among the entries.
//
// # Connections and timeouts
//
// New and Open build a go-redis client from the URL (go-redis's ParseURL:
// redis://, rediss:// and unix://, with query parameters such as
// pool_size, dial_timeout or max_retries) and own it: Close closes it. The
// client connects lazily and pools its connections. The backend sets
// ContextTimeoutEnabled, so a context's deadline bounds every socket read
// and write, and a call against a server that has stopped answering returns
// once the context ends, with an error wrapping the context's error.
//
// NewFromClient uses a client its caller built, for Sentinel, Cluster or any
// tuning (PoolSize, MinIdleConns, TLS, ...), and never closes it. Build that
// client with ContextTimeoutEnabled: true, or go-redis ignores context
// deadlines on socket reads and a hung server holds a call up to the
// client's ReadTimeout; a context that is cancelled without a deadline is
// honoured either way.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/restycache/restycache/backend"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty: the
// cache's name.
const DefaultPrefix = "restycache"

// KeySeparator follows Options.Prefix in every entry's key: key k is stored
// at Prefix + KeySeparator + k.
const KeySeparator = ":"

// LockSeparator follows Options.Prefix in every lock's key: the lock named k
// is the key Prefix + LockSeparator + k, outside the entries' key space. Do
// not give another cache the prefix Prefix + "-lock".
const LockSeparator = "-lock:"

// DefaultScanCount is the COUNT hint of every SCAN, and the most keys one
// UNLINK or one pipeline of reads names, when Options.ScanCount is zero.
const DefaultScanCount = 500

// DefaultMaxRetries is how many times the client that New builds retries a
// command that failed on the network (go-redis's MaxRetries, whose own
// default is 3), unless the URL sets max_retries. A cache is better served
// by an early miss than by retries within its per-operation budget.
const DefaultMaxRetries = 1

// DefaultDialAttempts is how many times the client that New builds tries to
// dial for one connection (go-redis's DialerRetries, whose own default is 5
// with a 100ms pause between them), so that a server that refuses
// connections is reported at once.
const DefaultDialAttempts = 1

// ErrInvalidURL is wrapped by every call's error when the URL given to New
// does not parse; Open and Ping report it at once. Test for it with
// errors.Is.
var ErrInvalidURL = errors.New("restycache/redis: invalid URL")

// ErrWrongType is wrapped by the error of a read of a key under the prefix
// that holds something other than a string (a hash, a list, ...): data that
// is not the cache's. Test for it with errors.Is.
var ErrWrongType = errors.New("restycache/redis: key holds a value that is not a string")

// Options configures a Backend. The zero value uses DefaultPrefix and
// DefaultScanCount.
type Options struct {
	// Prefix is the start of every key the backend writes, reads or
	// deletes; entries live at Prefix + KeySeparator + key and locks at
	// Prefix + LockSeparator + key. Empty means DefaultPrefix
	// ("restycache"). Give each cache sharing a database its own prefix.
	Prefix string
	// ScanCount is the COUNT hint of SCAN and the batch size of UNLINK and
	// of pipelined reads. Zero or negative means DefaultScanCount (500).
	ScanCount int
	// ClientOptions, when not nil, adjusts the go-redis options parsed from
	// the URL before New or Open builds the client (TLS, pool sizes,
	// timeouts, a dialer). NewFromClient does not use it. Nil means the
	// options as parsed, with ContextTimeoutEnabled set, DialerRetries
	// DefaultDialAttempts and, unless the URL sets max_retries, MaxRetries
	// DefaultMaxRetries.
	ClientOptions func(*goredis.Options)
}

// Backend is a backend.Storage, backend.Scanner, backend.Locker and
// backend.Pinger on a Redis server or cluster. It is safe for concurrent
// use. Create it with New, Open or NewFromClient.
type Backend struct {
	c          goredis.UniversalClient // nil when err is set
	err        error                   // why the URL did not parse
	owned      bool                    // Close closes c
	sharded    bool                    // c is a Cluster or Ring: multi-key commands may cross slots
	prefix     string                  // Options.Prefix + KeySeparator
	lockPrefix string                  // Options.Prefix + LockSeparator
	batch      int
	unlock     *goredis.Script
	closed     atomic.Bool
}

var (
	_ backend.Storage = (*Backend)(nil)
	_ backend.Scanner = (*Backend)(nil)
	_ backend.Locker  = (*Backend)(nil)
	_ backend.Pinger  = (*Backend)(nil)
)

// unlockScript deletes the lock in KEYS[1] only if it still holds this
// taker's token, ARGV[1]. It declares the one key it touches.
const unlockScript = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

// New returns a Backend on the server at rawURL ("redis://127.0.0.1:6379/0",
// "rediss://user:pass@host:6380/1", "unix:///run/redis.sock?db=2"), in the
// syntax of go-redis's ParseURL. It does not connect: the client dials on
// first use, so New never fails. A URL that does not parse makes every call
// return an error wrapping ErrInvalidURL. The Backend owns its client and
// closes it in Close. When several Options are given the last one wins.
func New(rawURL string, opts ...Options) *Backend {
	o := lastOptions(opts)
	b := newBackend(o)
	co, err := goredis.ParseURL(rawURL)
	if err != nil {
		// A url.Error repeats the URL, which may hold a password.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		b.err = fmt.Errorf("%w: %w", ErrInvalidURL, err)
		return b
	}
	co.ContextTimeoutEnabled = true
	co.DialerRetries = DefaultDialAttempts
	if u, err := url.Parse(rawURL); err == nil && !u.Query().Has("max_retries") {
		co.MaxRetries = DefaultMaxRetries
	}
	if o.ClientOptions != nil {
		o.ClientOptions(co)
	}
	b.c = goredis.NewClient(co)
	b.owned = true
	return b
}

// Open is New followed by Ping: it returns an error at once when the URL
// does not parse or the server does not answer within ctx, closing what it
// built.
func Open(ctx context.Context, rawURL string, opts ...Options) (*Backend, error) {
	b := New(rawURL, opts...)
	if err := b.Ping(ctx); err != nil {
		_ = b.Close()
		return nil, err
	}
	return b, nil
}

// NewFromClient returns a Backend on a client its caller built: a
// *goredis.Client (standalone or from goredis.NewFailoverClient for
// Sentinel), a *goredis.ClusterClient or a *goredis.Ring. The Backend never
// closes c; its Close only stops the Backend. Build c with
// ContextTimeoutEnabled: true so that context deadlines bound socket reads
// (see the package documentation); tune PoolSize, MinIdleConns and the
// timeouts on c. When several Options are given the last one wins.
func NewFromClient(c goredis.UniversalClient, opts ...Options) *Backend {
	b := newBackend(lastOptions(opts))
	if c == nil {
		b.err = errors.New("restycache/redis: NewFromClient: nil client")
		return b
	}
	b.c = c
	switch c.(type) {
	case *goredis.ClusterClient, *goredis.Ring:
		b.sharded = true
	}
	return b
}

func lastOptions(opts []Options) Options {
	if len(opts) == 0 {
		return Options{}
	}
	return opts[len(opts)-1]
}

func newBackend(o Options) *Backend {
	p := o.Prefix
	if p == "" {
		p = DefaultPrefix
	}
	n := o.ScanCount
	if n <= 0 {
		n = DefaultScanCount
	}
	return &Backend{
		prefix:     p + KeySeparator,
		lockPrefix: p + LockSeparator,
		batch:      n,
		unlock:     goredis.NewScript(unlockScript),
	}
}

// Client returns the go-redis client the Backend uses, nil when its URL did
// not parse.
func (b *Backend) Client() goredis.UniversalClient { return b.c }

// ready reports why no call may be made now: the Backend is closed, its URL
// did not parse, or ctx is done.
func (b *Backend) ready(ctx context.Context, op string) error {
	if b.closed.Load() {
		return fmt.Errorf("restycache/redis: %s: %w", op, backend.ErrClosed)
	}
	if b.err != nil {
		return b.err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("restycache/redis: %s: %w", op, err)
	}
	return nil
}

// fail wraps err from operation op: as backend.ErrClosed if the Backend was
// closed meanwhile, with the context's error if ctx ended (a socket deadline
// set from the context can fire a moment before the context's own timer),
// and with ErrWrongType for a key of another type.
func (b *Backend) fail(ctx context.Context, op string, err error) error {
	if b.closed.Load() {
		return fmt.Errorf("restycache/redis: %s: %w", op, backend.ErrClosed)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("restycache/redis: %s: %w", op, err)
	}
	cerr := ctx.Err()
	if cerr == nil {
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				cerr = context.DeadlineExceeded
			}
		}
	}
	if cerr != nil {
		return fmt.Errorf("restycache/redis: %s: %w (%w)", op, cerr, err)
	}
	if errors.Is(err, ErrWrongType) {
		return fmt.Errorf("restycache/redis: %s: %w", op, err)
	}
	if wrongType(err) {
		return fmt.Errorf("restycache/redis: %s: %w (%w)", op, ErrWrongType, err)
	}
	return fmt.Errorf("restycache/redis: %s: %w", op, err)
}

// wrongType reports whether err is the server's WRONGTYPE reply.
func wrongType(err error) bool {
	var re goredis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "WRONGTYPE")
}

// guarded reports whether ctx can be cancelled without a deadline: go-redis
// bounds socket reads by a context's deadline only, so such calls run in a
// goroutine that the caller stops waiting for when ctx is done.
func guarded(ctx context.Context) bool {
	_, ok := ctx.Deadline()
	return !ok && ctx.Done() != nil
}

// do runs fn, returning when it does or, for a context without a deadline,
// when ctx is done. fn must not touch memory its caller owns after the
// caller returns: callers copy what fn reads.
func do(ctx context.Context, fn func(context.Context) error) error {
	if !guarded(ctx) {
		return fn(ctx)
	}
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Get returns the value stored under key, with one GET, or an error
// wrapping backend.ErrNotFound when it is absent or expired. The slice is
// the caller's.
func (b *Backend) Get(ctx context.Context, key string) ([]byte, error) {
	if err := b.ready(ctx, "get"); err != nil {
		return nil, err
	}
	var v []byte
	var err error
	if guarded(ctx) {
		v, err = b.getGuarded(ctx, b.prefix+key)
	} else {
		v, err = b.c.Get(ctx, b.prefix+key).Bytes()
	}
	if err == goredis.Nil {
		return nil, backend.ErrNotFound
	}
	if err != nil {
		return nil, b.fail(ctx, "get", err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// getGuarded is Get's GET under do, apart so that the hit path's locals
// stay on the stack.
func (b *Backend) getGuarded(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := do(ctx, func(ctx context.Context) error {
		var e error
		v, e = b.c.Get(ctx, key).Bytes()
		return e
	})
	return v, err
}

// ttl converts an expiry to a PX duration in whole milliseconds, rounded up
// so that an entry never disappears before expiresAt (and outlives it by
// less than a millisecond, plus the time the command takes to arrive). ok
// is false when expiresAt has passed.
func ttl(expiresAt time.Time) (d time.Duration, ok bool) {
	d = time.Until(expiresAt)
	if d <= 0 {
		return 0, false
	}
	// time.Until saturates at about 292 years; keep the rounding from
	// overflowing. An expiry 146 years away is far enough.
	d = min(d, maxTTL)
	return (d + time.Millisecond - 1).Truncate(time.Millisecond), true
}

// maxTTL is the longest TTL Set sends; later expiries are sent as this.
const maxTTL = time.Duration(1 << 62)

// Set stores value under key with one SET: with PX (in milliseconds,
// rounded up, at most about 146 years) when expiresAt is set, without a TTL
// when it is the zero time. An expiresAt in the past removes the key
// instead.
func (b *Backend) Set(ctx context.Context, key string, value []byte, expiresAt time.Time) error {
	if err := b.ready(ctx, "set"); err != nil {
		return err
	}
	var exp time.Duration
	if !expiresAt.IsZero() {
		d, ok := ttl(expiresAt)
		if !ok {
			return b.Delete(ctx, key)
		}
		exp = d
	}
	if value == nil {
		value = []byte{}
	}
	k := b.prefix + key
	var err error
	if guarded(ctx) {
		value = slices.Clone(value) // the goroutine may outlive this call
		err = do(ctx, func(ctx context.Context) error { return b.c.Set(ctx, k, value, exp).Err() })
	} else {
		err = b.c.Set(ctx, k, value, exp).Err()
	}
	if err != nil {
		return b.fail(ctx, "set", err)
	}
	return nil
}

// Delete removes the given keys with UNLINK, in batches of
// Options.ScanCount keys (on a Cluster or Ring, one pipelined UNLINK per
// key, as keys of different slots may not share a command). Absent keys are
// not an error.
func (b *Backend) Delete(ctx context.Context, keys ...string) error {
	if err := b.ready(ctx, "delete"); err != nil {
		return err
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = b.prefix + k
	}
	if err := b.unlinkAll(ctx, full); err != nil {
		return b.fail(ctx, "delete", err)
	}
	return nil
}

// unlinkAll removes the given full keys in batches.
func (b *Backend) unlinkAll(ctx context.Context, keys []string) error {
	for batch := range slices.Chunk(keys, b.batch) {
		if err := do(ctx, func(ctx context.Context) error { return b.unlinkBatch(ctx, b.c, batch) }); err != nil {
			return err
		}
	}
	return nil
}

// unlinkBatch removes keys through c: one UNLINK, or on a sharded client a
// pipeline of one UNLINK per key, which go-redis sends to each key's node.
func (b *Backend) unlinkBatch(ctx context.Context, c goredis.UniversalClient, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if !b.sharded {
		return c.Unlink(ctx, keys...).Err()
	}
	_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, k := range keys {
			p.Unlink(ctx, k)
		}
		return nil
	})
	return err
}

// globEscape escapes the characters that SCAN MATCH treats as a pattern.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\^-`) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + 8)
	for i := range len(s) {
		switch c := s[i]; c {
		case '*', '?', '[', ']', '\\', '^', '-':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// scanner is the part of a client that a SCAN needs.
type scanner interface {
	Scan(ctx context.Context, cursor uint64, match string, count int64) *goredis.ScanCmd
}

// nodes returns what to SCAN: every master of a Cluster, every shard of a
// Ring, or the client itself.
func (b *Backend) nodes(ctx context.Context) ([]scanner, error) {
	var (
		mu  sync.Mutex
		out []scanner
	)
	add := func(_ context.Context, c *goredis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, c)
		return nil
	}
	var err error
	switch c := b.c.(type) {
	case *goredis.ClusterClient:
		err = do(ctx, func(ctx context.Context) error { return c.ForEachMaster(ctx, add) })
	case *goredis.Ring:
		err = do(ctx, func(ctx context.Context) error { return c.ForEachShard(ctx, add) })
	default:
		return []scanner{b.c}, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scan calls fn with each batch of full keys under b.prefix + prefix that a
// SCAN of every node returns, until fn returns false or an error. It checks
// ctx before every SCAN.
func (b *Backend) scan(ctx context.Context, prefix string, fn func(keys []string) (bool, error)) error {
	nodes, err := b.nodes(ctx)
	if err != nil {
		return err
	}
	full := b.prefix + prefix
	match := globEscape(full) + "*"
	count := int64(b.batch)
	for _, n := range nodes {
		var cursor uint64
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			var keys []string
			var next uint64
			err := do(ctx, func(ctx context.Context) error {
				var e error
				keys, next, e = n.Scan(ctx, cursor, match, count).Result()
				return e
			})
			if err != nil {
				return err
			}
			// MATCH has filtered already; this guards against a server
			// whose glob escaping differs.
			keys = slices.DeleteFunc(keys, func(k string) bool { return !strings.HasPrefix(k, full) })
			if len(keys) > 0 {
				more, err := fn(keys)
				if err != nil || !more {
					return err
				}
			}
			if next == 0 {
				break
			}
			cursor = next
		}
	}
	return nil
}

// Clear removes every key under the prefix that starts with prefix: SCAN
// MATCH on every node, UNLINK in batches. Keys outside Options.Prefix are
// never touched.
func (b *Backend) Clear(ctx context.Context, prefix string) error {
	if err := b.ready(ctx, "clear"); err != nil {
		return err
	}
	err := b.scan(ctx, prefix, func(keys []string) (bool, error) {
		return true, do(ctx, func(ctx context.Context) error { return b.unlinkBatch(ctx, b.c, keys) })
	})
	if err != nil {
		return b.fail(ctx, "clear", err)
	}
	return nil
}

// Keys yields the keys that start with prefix, read with SCAN MATCH in
// batches of about Options.ScanCount (on every master of a Cluster). As
// with any SCAN, a key present throughout is yielded at least once and
// possibly more than once.
func (b *Backend) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := b.ready(ctx, "keys"); err != nil {
			yield("", err)
			return
		}
		stopped := false
		err := b.scan(ctx, prefix, func(keys []string) (bool, error) {
			for _, k := range keys {
				if !yield(strings.TrimPrefix(k, b.prefix), nil) {
					stopped = true
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil && !stopped {
			yield("", b.fail(ctx, "keys", err))
		}
	}
}

// Len counts the keys that start with prefix with a full SCAN: it takes
// time in proportion to the keys under Options.Prefix, not O(1). While keys
// are written, a SCAN may count a key twice.
func (b *Backend) Len(ctx context.Context, prefix string) (int, error) {
	if err := b.ready(ctx, "len"); err != nil {
		return 0, err
	}
	n := 0
	err := b.scan(ctx, prefix, func(keys []string) (bool, error) {
		n += len(keys)
		return true, nil
	})
	if err != nil {
		return 0, b.fail(ctx, "len", err)
	}
	return n, nil
}

// Scan yields the entries whose keys start with prefix: a SCAN batch at a
// time, each read with one pipeline of GET and PTTL per key (go-redis sends
// a Cluster's to each key's node). Keys that vanish between the SCAN and the
// read are skipped; a key of another type ends the iteration with an error
// wrapping ErrWrongType.
func (b *Backend) Scan(ctx context.Context, prefix string) iter.Seq2[backend.Record, error] {
	return func(yield func(backend.Record, error) bool) {
		if err := b.ready(ctx, "scan"); err != nil {
			yield(backend.Record{}, err)
			return
		}
		stopped := false
		err := b.scan(ctx, prefix, func(keys []string) (bool, error) {
			recs, err := b.read(ctx, keys)
			if err != nil {
				return false, err
			}
			for _, r := range recs {
				if !yield(r, nil) {
					stopped = true
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil && !stopped {
			yield(backend.Record{}, b.fail(ctx, "scan", err))
		}
	}
}

// read fetches the values and expiries of the given full keys in one
// pipeline.
func (b *Backend) read(ctx context.Context, keys []string) ([]backend.Record, error) {
	gets := make([]*goredis.StringCmd, len(keys))
	ttls := make([]*goredis.DurationCmd, len(keys))
	var now time.Time
	err := do(ctx, func(ctx context.Context) error {
		now = time.Now()
		_, err := b.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, k := range keys {
				gets[i] = p.Get(ctx, k)
				ttls[i] = p.PTTL(ctx, k)
			}
			return nil
		})
		if err != nil && err != goredis.Nil {
			// A per-command error is looked at below; anything else
			// (the connection) fails the batch.
			for i := range keys {
				if e := gets[i].Err(); e != nil && e != goredis.Nil && !wrongType(e) {
					return e
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	recs := make([]backend.Record, 0, len(keys))
	for i, k := range keys {
		v, err := gets[i].Bytes()
		if err == goredis.Nil {
			continue // deleted or expired since the SCAN
		}
		if err != nil {
			if wrongType(err) {
				return nil, fmt.Errorf("%w: %s (%w)", ErrWrongType, k, err)
			}
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if v == nil {
			v = []byte{}
		}
		r := backend.Record{Key: strings.TrimPrefix(k, b.prefix), Value: v}
		// PTTL: -1 no expiry, -2 gone since the GET.
		switch d, err := ttls[i].Result(); {
		case err != nil:
			return nil, fmt.Errorf("%s: %w", k, err)
		case d == -2*time.Nanosecond || d == -2:
			continue
		case d > 0:
			r.ExpiresAt = now.Add(d)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// DeleteExpired does nothing and reports 0: the server removes expired
// keys itself.
func (b *Backend) DeleteExpired(ctx context.Context) (int, error) {
	if err := b.ready(ctx, "delete expired"); err != nil {
		return 0, err
	}
	return 0, nil
}

// TryLock takes the lock named key for ttl (rounded up to a millisecond)
// with one SET NX PX of a random token at Options.Prefix + LockSeparator +
// key. The unlock function deletes that key only if it still holds the
// token (a compare-and-delete script), so a lock that expired and was taken
// by another is left alone.
func (b *Backend) TryLock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, bool, error) {
	if err := b.ready(ctx, "lock"); err != nil {
		return nil, false, err
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails
	token := hex.EncodeToString(raw[:])
	k := b.lockPrefix + key
	ttl = (max(ttl, time.Millisecond) + time.Millisecond - 1).Truncate(time.Millisecond)
	var ok bool
	err := do(ctx, func(ctx context.Context) error {
		var e error
		ok, e = b.c.SetNX(ctx, k, token, ttl).Result()
		return e
	})
	if err != nil {
		return nil, false, b.fail(ctx, "lock", err)
	}
	if !ok {
		return nil, false, nil
	}
	unlock := func(ctx context.Context) error {
		if err := b.ready(ctx, "unlock"); err != nil {
			return err
		}
		err := do(ctx, func(ctx context.Context) error {
			return b.unlock.Run(ctx, b.c, []string{k}, token).Err()
		})
		if err != nil && err != goredis.Nil {
			return b.fail(ctx, "unlock", err)
		}
		return nil
	}
	return unlock, true, nil
}

// Ping checks that the server answers, connecting if needed. It reports an
// unparsable URL or an unreachable server at once (within ctx).
func (b *Backend) Ping(ctx context.Context) error {
	if err := b.ready(ctx, "ping"); err != nil {
		return err
	}
	if err := do(ctx, func(ctx context.Context) error { return b.c.Ping(ctx).Err() }); err != nil {
		return b.fail(ctx, "ping", err)
	}
	return nil
}

// Close stops the Backend: later calls return backend.ErrClosed. It closes
// the client if New or Open built it, never one given to NewFromClient. It
// is idempotent; only the first call can return an error.
func (b *Backend) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	if b.owned && b.c != nil {
		if err := b.c.Close(); err != nil {
			return fmt.Errorf("restycache/redis: close: %w", err)
		}
	}
	return nil
}
