// Package sqlite is restycache's embedded persistent backend: one table in a
// SQLite database file, through github.com/mattn/go-sqlite3 (cgo).
//
// The database runs in WAL mode with a busy timeout and takes its write lock
// at the start of every write transaction, so many goroutines and several
// processes (or several Backends in one process) can share one file. Each
// entry is a row (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at
// INTEGER) with expires_at in Unix nanoseconds, NULL meaning never, and an
// index on expires_at so DeleteExpired is one indexed DELETE.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	// The "sqlite3" database/sql driver.
	_ "github.com/mattn/go-sqlite3"

	"github.com/restycache/restycache/backend"
)

// DefaultTable is the table used when Options.Table is empty.
const DefaultTable = "responses"

// DefaultBusyTimeout is how long a statement waits for a lock held by
// another connection when Options.BusyTimeout is zero.
const DefaultBusyTimeout = 5 * time.Second

// MemoryPath is the path that opens a private in-memory database instead of
// a file. It lives on a single connection and vanishes on Close.
const MemoryPath = ":memory:"

// Extension is appended to a path whose last element has no extension, so
// New("demo_cache") uses the file demo_cache.sqlite.
const Extension = ".sqlite"

// keysPage is how many keys Keys reads per query.
const keysPage = 256

// deleteChunk is the most keys one DELETE ... IN (...) statement names.
const deleteChunk = 500

// ErrInvalidTable is returned (wrapped) on first use when Options.Table is
// not a plain SQL identifier. Test for it with errors.Is.
var ErrInvalidTable = errors.New("restycache/sqlite: invalid table name")

// Options configures a Backend. The zero value uses DefaultTable,
// DefaultBusyTimeout and the wall clock.
type Options struct {
	// Table is the name of the table holding the entries; it is created
	// if missing. It must be a plain identifier (ASCII letters, digits and
	// underscores, not starting with a digit or "sqlite_", at most 64
	// characters), else the first use fails with ErrInvalidTable. Empty
	// means DefaultTable ("responses"). Several Backends may use different
	// tables of one file.
	Table string
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection or process before failing. Zero or negative means
	// DefaultBusyTimeout (5s).
	BusyTimeout time.Duration
	// Clock returns the current time, against which expiry is judged.
	// Nil means time.Now; set it in tests.
	Clock func() time.Time
}

// Backend is a backend.Storage in a SQLite database. It opens the database
// on first use (or in Open); a failed open is retried by the next call. It
// is safe for concurrent use. Create it with New or Open.
type Backend struct {
	path        string
	table       string
	busyTimeout time.Duration
	now         func() time.Time

	mu     sync.Mutex // serialises opening and closing
	st     atomic.Pointer[state]
	closed atomic.Bool // written under mu
}

// state is an open database and its statements; immutable once built.
type state struct {
	db       *sql.DB
	path     string // resolved file path, for messages
	get, set *sql.Stmt
	delOne   string
	delMany  func(n int) string
	clear    string
	keys     [2]string // first page, next pages
	count    string
	expire   string
}

// New returns a Backend for the database at path without opening it; the
// first method call opens it, so New never fails. A leading "~" or "~/"
// stands for the home directory, missing parent directories are created,
// and Extension (".sqlite") is appended when the last path element has no
// extension. MemoryPath (":memory:") gives a private in-memory database.
// When several Options are given the last one wins.
func New(path string, opts ...Options) *Backend {
	var o Options
	if len(opts) > 0 {
		o = opts[len(opts)-1]
	}
	b := &Backend{path: path, table: o.Table, busyTimeout: o.BusyTimeout, now: o.Clock}
	if b.table == "" {
		b.table = DefaultTable
	}
	if b.busyTimeout <= 0 {
		b.busyTimeout = DefaultBusyTimeout
	}
	if b.now == nil {
		b.now = time.Now
	}
	return b
}

// Open is New followed by opening the database at once, so a bad path or
// table name is reported here rather than on first use.
func Open(ctx context.Context, path string, opts ...Options) (*Backend, error) {
	b := New(path, opts...)
	if _, err := b.conn(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

var (
	_ backend.Storage = (*Backend)(nil)
	_ backend.Pinger  = (*Backend)(nil)
)

// conn returns the open database, opening it if needed.
func (b *Backend) conn(ctx context.Context) (*state, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("restycache/sqlite: %w", err)
	}
	if st := b.st.Load(); st != nil {
		return st, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil, backend.ErrClosed
	}
	if st := b.st.Load(); st != nil {
		return st, nil
	}
	if !validTable(b.table) {
		return nil, fmt.Errorf("%w %q", ErrInvalidTable, b.table)
	}
	st, err := b.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("restycache/sqlite: open %q: %w", b.path, err)
	}
	b.st.Store(st)
	return st, nil
}

func validTable(name string) bool {
	if name == "" || len(name) > 64 || strings.HasPrefix(strings.ToLower(name), "sqlite_") {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// resolvePath applies the documented path rules and creates the parent
// directory. It returns the file path and the DSN for the driver.
func (b *Backend) resolvePath() (file, dsn string, err error) {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(b.busyTimeout.Milliseconds(), 10))
	q.Set("_txlock", "immediate")
	if b.path == MemoryPath {
		return MemoryPath, MemoryPath + "?" + q.Encode(), nil
	}
	p := b.path
	if p == "" {
		return "", "", errors.New("empty path")
	}
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, "~"+string(filepath.Separator)) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "", err
		}
		p = filepath.Join(home, p[1:])
	}
	if filepath.Ext(p) == "" {
		p += Extension
	}
	p, err = filepath.Abs(p)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", "", err
	}
	// A file: URI, so that '?', '#' and '%' in the path are escaped rather
	// than read as parameters. SQLite ignores the driver's own parameters.
	slashed := filepath.ToSlash(p)
	if !strings.HasPrefix(slashed, "/") {
		slashed = "/" + slashed
	}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	u := url.URL{Scheme: "file", Path: slashed}
	return p, u.String() + "?" + q.Encode(), nil
}

// open opens the database, creates the schema and prepares statements.
func (b *Backend) open(ctx context.Context) (*state, error) {
	file, dsn, err := b.resolvePath()
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	if file == MemoryPath {
		// Every connection would be a database of its own: keep exactly one.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
	} else {
		n := max(4, runtime.GOMAXPROCS(0))
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
	}
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	t := `"` + b.table + `"`
	schema := []string{
		`CREATE TABLE IF NOT EXISTS ` + t + ` (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at INTEGER)`,
		`CREATE INDEX IF NOT EXISTS "` + b.table + `_expires_at" ON ` + t + ` (expires_at)`,
	}
	for _, q := range schema {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, err
		}
	}
	const live = `(expires_at IS NULL OR expires_at > ?)`
	st := &state{
		db:     db,
		path:   file,
		delOne: `DELETE FROM ` + t + ` WHERE key = ?`,
		delMany: func(n int) string {
			return `DELETE FROM ` + t + ` WHERE key IN (?` + strings.Repeat(`, ?`, n-1) + `)`
		},
		clear: `DELETE FROM ` + t + ` WHERE key >= ? AND key < ?`,
		keys: [2]string{
			`SELECT key FROM ` + t + ` WHERE key >= ? AND key < ? AND ` + live + ` ORDER BY key LIMIT ?`,
			`SELECT key FROM ` + t + ` WHERE key > ? AND key < ? AND ` + live + ` ORDER BY key LIMIT ?`,
		},
		count:  `SELECT COUNT(*) FROM ` + t + ` WHERE key >= ? AND key < ? AND ` + live,
		expire: `DELETE FROM ` + t + ` WHERE expires_at <= ?`,
	}
	if st.get, err = db.PrepareContext(ctx, `SELECT value FROM `+t+` WHERE key = ? AND `+live); err != nil {
		db.Close()
		return nil, err
	}
	st.set, err = db.PrepareContext(ctx, `INSERT INTO `+t+` (key, value, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`)
	if err != nil {
		st.get.Close()
		db.Close()
		return nil, err
	}
	return st, nil
}

// fail wraps err from operation op, reporting ErrClosed if the backend was
// closed while the operation ran.
func (b *Backend) fail(op string, err error) error {
	if b.closed.Load() {
		return fmt.Errorf("restycache/sqlite: %s: %w", op, backend.ErrClosed)
	}
	return fmt.Errorf("restycache/sqlite: %s: %w", op, err)
}

// unixNanos converts t for the expires_at column, clamping times outside
// the int64 nanosecond range.
func unixNanos(t time.Time) int64 {
	switch {
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	}
	return t.UnixNano()
}

// Get returns a copy of the value stored under key, or an error wrapping
// backend.ErrNotFound if it is absent or expired.
func (b *Backend) Get(ctx context.Context, key string) ([]byte, error) {
	st, err := b.conn(ctx)
	if err != nil {
		return nil, err
	}
	var v []byte
	err = st.get.QueryRowContext(ctx, key, unixNanos(b.now())).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.ErrNotFound
	}
	if err != nil {
		return nil, b.fail("get", err)
	}
	return v, nil
}

// Set stores value under key with one upsert. An expiresAt that is not
// after the clock's now deletes the key instead; the zero time stores the
// entry without expiry.
func (b *Backend) Set(ctx context.Context, key string, value []byte, expiresAt time.Time) error {
	st, err := b.conn(ctx)
	if err != nil {
		return err
	}
	var exp sql.NullInt64
	if !expiresAt.IsZero() {
		now := b.now()
		if !now.Before(expiresAt) {
			if _, err := st.db.ExecContext(ctx, st.delOne, key); err != nil {
				return b.fail("set", err)
			}
			return nil
		}
		exp = sql.NullInt64{Int64: unixNanos(expiresAt), Valid: true}
	}
	if value == nil {
		value = []byte{} // the driver binds a nil slice as NULL
	}
	if _, err := st.set.ExecContext(ctx, key, value, exp); err != nil {
		return b.fail("set", err)
	}
	return nil
}

// Delete removes the given keys in one transaction; absent keys are
// ignored.
func (b *Backend) Delete(ctx context.Context, keys ...string) error {
	st, err := b.conn(ctx)
	if err != nil {
		return err
	}
	switch len(keys) {
	case 0:
		return nil
	case 1:
		if _, err := st.db.ExecContext(ctx, st.delOne, keys[0]); err != nil {
			return b.fail("delete", err)
		}
		return nil
	}
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return b.fail("delete", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	args := make([]any, 0, min(len(keys), deleteChunk))
	for chunk := range slices.Chunk(keys, deleteChunk) {
		args = args[:0]
		for _, k := range chunk {
			args = append(args, k)
		}
		if _, err := tx.ExecContext(ctx, st.delMany(len(chunk)), args...); err != nil {
			return b.fail("delete", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return b.fail("delete", err)
	}
	return nil
}

// prefixBound is the exclusive upper bound of the keys that start with
// prefix, as a query parameter. Without a textual bound it is an empty BLOB:
// SQLite orders every TEXT value before every BLOB.
func prefixBound(prefix string) any {
	if end, ok := backend.PrefixEnd(prefix); ok {
		return end
	}
	return []byte{}
}

// Clear deletes every row whose key starts with prefix.
func (b *Backend) Clear(ctx context.Context, prefix string) error {
	st, err := b.conn(ctx)
	if err != nil {
		return err
	}
	if _, err := st.db.ExecContext(ctx, st.clear, prefix, prefixBound(prefix)); err != nil {
		return b.fail("clear", err)
	}
	return nil
}

// Keys yields the keys that start with prefix and are present and not
// expired, each once, in key order. It reads them in pages and holds no
// cursor open while yielding, so entries may be written or deleted during
// the iteration; a key added behind the current position is not yielded.
func (b *Backend) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		st, err := b.conn(ctx)
		if err != nil {
			yield("", err)
			return
		}
		after, q, end := prefix, st.keys[0], prefixBound(prefix)
		page := make([]string, 0, keysPage)
		for {
			page, err = b.keysPage(ctx, st, q, after, end, page[:0])
			if err != nil {
				yield("", err)
				return
			}
			for _, k := range page {
				if err := ctx.Err(); err != nil {
					yield("", fmt.Errorf("restycache/sqlite: keys: %w", err))
					return
				}
				if !yield(k, nil) {
					return
				}
			}
			if len(page) < keysPage {
				return
			}
			after, q = page[len(page)-1], st.keys[1]
		}
	}
}

// keysPage reads one page of keys following after, and closes its cursor.
func (b *Backend) keysPage(ctx context.Context, st *state, q, after string, end any, page []string) ([]string, error) {
	rows, err := st.db.QueryContext(ctx, q, after, end, unixNanos(b.now()), keysPage)
	if err != nil {
		return nil, b.fail("keys", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, b.fail("keys", err)
		}
		page = append(page, k)
	}
	if err := rows.Err(); err != nil {
		return nil, b.fail("keys", err)
	}
	return page, nil
}

// Len counts the rows whose keys start with prefix and that are not
// expired.
func (b *Backend) Len(ctx context.Context, prefix string) (int, error) {
	st, err := b.conn(ctx)
	if err != nil {
		return 0, err
	}
	var n int
	if err := st.db.QueryRowContext(ctx, st.count, prefix, prefixBound(prefix), unixNanos(b.now())).Scan(&n); err != nil {
		return 0, b.fail("len", err)
	}
	return n, nil
}

// DeleteExpired removes, in one DELETE statement, every row whose expiry
// is not after the clock's now, and reports how many it removed.
func (b *Backend) DeleteExpired(ctx context.Context) (int, error) {
	st, err := b.conn(ctx)
	if err != nil {
		return 0, err
	}
	res, err := st.db.ExecContext(ctx, st.expire, unixNanos(b.now()))
	if err != nil {
		return 0, b.fail("delete expired", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, b.fail("delete expired", err)
	}
	return int(n), nil
}

// Ping opens the database if it is not open yet and checks that it
// answers; it returns the reason when it does not.
func (b *Backend) Ping(ctx context.Context) error {
	st, err := b.conn(ctx)
	if err != nil {
		return err
	}
	if err := st.db.PingContext(ctx); err != nil {
		return b.fail("ping", err)
	}
	return nil
}

// Close closes the database; later calls of the other methods return
// backend.ErrClosed. Close is idempotent: only the first call can return an
// error. The file stays on disk (an in-memory database is gone).
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil
	}
	b.closed.Store(true)
	st := b.st.Swap(nil)
	if st == nil {
		return nil
	}
	err := errors.Join(st.get.Close(), st.set.Close(), st.db.Close())
	if err != nil {
		return fmt.Errorf("restycache/sqlite: close %q: %w", st.path, err)
	}
	return nil
}
