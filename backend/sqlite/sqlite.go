// Package sqlite is restycache's embedded persistent backend: one table in a
// SQLite database file, through github.com/mattn/go-sqlite3 (cgo).
//
// The database runs in WAL mode with a busy timeout and takes its write lock
// at the start of every write transaction, so many goroutines and several
// processes (or several Backends in one process) can share one file, and
// several processes may create it at the same moment. Each entry is a row
// (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at INTEGER) with
// expires_at in Unix nanoseconds, NULL meaning never, and an index on
// expires_at so DeleteExpired is one indexed DELETE.
//
// A Backend survives its file being deleted or replaced while it runs: it
// notices (a missing table at once, a different or missing file within
// about a second) and reopens the path, recreating the schema, so that what
// it stores afterwards is in the file at its path. Replace a database
// together with its -wal and -shm files, as SQLite requires.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

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

const (
	// keysPage is how many rows Keys and Scan read per query.
	keysPage = 256
	// scanPageBytes ends a Scan page early once its values add up to this.
	scanPageBytes = 4 << 20
	// deleteChunk is the most keys one DELETE ... IN (...) statement names.
	deleteChunk = 500
	// openRetryMin and openRetryMax bound the wait after a failed open
	// before the next attempt; it doubles from the one to the other.
	openRetryMin = 100 * time.Millisecond
	openRetryMax = 5 * time.Second
	// identityCheckInterval is how often, at most, an open Backend checks
	// that the file at its path is still the one it opened.
	identityCheckInterval = time.Second
	// setupRetryMin and setupRetryMax bound the pause between attempts
	// to set up a database that another connection holds locked.
	setupRetryMin = time.Millisecond
	setupRetryMax = 50 * time.Millisecond
)

// ErrInvalidTable is returned (wrapped) on first use when Options.Table is
// not a plain SQL identifier. Test for it with errors.Is.
var ErrInvalidTable = errors.New("restycache/sqlite: invalid table name")

// ErrIsDirectory is returned (wrapped) by Open and by every method when the
// path names an existing directory (or ends in a path separator) rather
// than a database file. Test for it with errors.Is.
var ErrIsDirectory = errors.New("restycache/sqlite: path is a directory")

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
	// connection or process before failing; it also bounds how long
	// opening waits for other processes setting up the same new file.
	// Zero or negative means DefaultBusyTimeout (5s).
	BusyTimeout time.Duration
	// Clock returns the current time, against which expiry is judged and
	// last uses are recorded. Nil means time.Now; set it in tests.
	Clock func() time.Time
	// MaxEntries bounds the number of rows in the table: past it, Set
	// evicts the least recently used ones (written or read; a read
	// records its use at most once per second per key). Zero or negative
	// means no bound.
	MaxEntries int
	// MaxBytes bounds the sum of the values' sizes in the table: past it,
	// Set evicts the least recently used values, and a single value
	// larger than MaxBytes is refused with ErrTooLarge. Zero or negative
	// means no bound. With either bound, the table's size is kept by
	// triggers in a "<Table>_size" table, so that a Set at capacity costs
	// an index walk of the rows it evicts, not a scan.
	MaxBytes int64
}

// ErrTooLarge is returned (wrapped) by Set when a value is larger than
// Options.MaxBytes; nothing is stored and a previous value under the key is
// removed. It is backend.ErrTooLarge; test for it with errors.Is.
var ErrTooLarge = backend.ErrTooLarge

// touchEvery is how much older than now a row's last use must be before a
// read records a new one, so that hot keys do not turn every read into a
// write.
const touchEvery = time.Second

// Backend is a backend.Storage, backend.Scanner and backend.Pinger in a
// SQLite database. It opens the database on first use (or in Open). A
// failed open is retried after a pause that starts at 100ms and doubles up
// to 5s; calls in between return the last open error at once. It is safe
// for concurrent use. Create it with New or Open; the zero Backend is not
// usable.
type Backend struct {
	path        string
	table       string
	busyTimeout time.Duration
	now         func() time.Time // expiry and last use
	maxEntries  int64            // 0: unbounded
	maxBytes    int64            // 0: unbounded

	// Set by New; tests in this package may change them before first use.
	wallNow    func() time.Time // open retry pauses and identity checks
	checkEvery time.Duration    // identity check interval

	lock   chan struct{} // one slot: serialises opening, reopening and closing
	st     atomic.Pointer[state]
	failed atomic.Pointer[openFailure]
	closed atomic.Bool // written under lock

	backoff time.Duration // under lock: the pause after the last failed open
}

// openFailure is the last failed open, answered until the next attempt.
type openFailure struct {
	err   error
	retry time.Time
}

// state is an open database and its statements; immutable once built,
// apart from its atomics.
type state struct {
	db       *sql.DB
	path     string      // resolved file path, for messages and identity checks
	file     os.FileInfo // the database file as opened; nil in memory
	wal, shm os.FileInfo // its -wal and -shm files as opened, if any
	keepWAL  atomic.Bool // set when a retired pool must not delete the -wal and -shm names
	next     atomic.Int64

	set     *sql.Stmt
	touch   string // records a read's use
	size    string // the table's row count and value bytes, kept by triggers when bounded
	evict   string // deletes the N least recently used rows
	delOne  string
	delMany func(n int) string
	clear   string
	keys    [2]string // first page, next pages
	scan    [2]string
	count   string
	expire  string
	ping    string
}

// New returns a Backend for the database at path without opening it; the
// first method call opens it, so New never fails. A leading "~" or "~/"
// stands for the home directory, missing parent directories are created,
// and Extension (".sqlite") is appended when the last path element has no
// extension (a path that names an existing directory is an error,
// ErrIsDirectory, not a file beside it). MemoryPath (":memory:") gives a
// private in-memory database. When several Options are given the last one
// wins.
func New(path string, opts ...Options) *Backend {
	var o Options
	if len(opts) > 0 {
		o = opts[len(opts)-1]
	}
	b := &Backend{
		path:        path,
		table:       o.Table,
		busyTimeout: o.BusyTimeout,
		now:         o.Clock,
		wallNow:     time.Now,
		checkEvery:  identityCheckInterval,
		lock:        make(chan struct{}, 1),
	}
	if b.table == "" {
		b.table = DefaultTable
	}
	if b.busyTimeout <= 0 {
		b.busyTimeout = DefaultBusyTimeout
	}
	if b.now == nil {
		b.now = time.Now
	}
	if o.MaxEntries > 0 {
		b.maxEntries = int64(o.MaxEntries)
	}
	if o.MaxBytes > 0 {
		b.maxBytes = o.MaxBytes
	}
	return b
}

// bounded reports whether Set evicts.
func (b *Backend) bounded() bool { return b.maxEntries > 0 || b.maxBytes > 0 }

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
	_ backend.Scanner = (*Backend)(nil)
	_ backend.Pinger  = (*Backend)(nil)
)

// acquire takes the lock, or gives up when ctx is done.
func (b *Backend) acquire(ctx context.Context) error {
	select {
	case b.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("restycache/sqlite: %w", ctx.Err())
	}
}

func (b *Backend) release() { <-b.lock }

// conn returns the open database, opening it if needed, after checking
// (at most every checkEvery) that its file is still the one at the path.
func (b *Backend) conn(ctx context.Context) (*state, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("restycache/sqlite: %w", err)
	}
	if st := b.st.Load(); st != nil {
		if st.file == nil || !b.checkDue(st) || b.sameFile(st) {
			return st, nil
		}
		return b.reopen(ctx, st)
	}
	if b.closed.Load() {
		return nil, backend.ErrClosed
	}
	if f := b.failed.Load(); f != nil {
		if now := b.wallNow(); now.Before(f.retry) {
			return nil, fmt.Errorf("%w (next attempt in %v)", f.err, f.retry.Sub(now).Round(time.Millisecond))
		}
	}
	if err := b.acquire(ctx); err != nil {
		return nil, err
	}
	defer b.release()
	return b.openLocked(ctx)
}

// openLocked opens the database unless it is open; the caller holds the
// lock.
func (b *Backend) openLocked(ctx context.Context) (*state, error) {
	if b.closed.Load() {
		return nil, backend.ErrClosed
	}
	if st := b.st.Load(); st != nil {
		return st, nil
	}
	if !validTable(b.table) {
		return nil, fmt.Errorf("%w %q", ErrInvalidTable, b.table)
	}
	if f := b.failed.Load(); f != nil {
		if now := b.wallNow(); now.Before(f.retry) {
			return nil, fmt.Errorf("%w (next attempt in %v)", f.err, f.retry.Sub(now).Round(time.Millisecond))
		}
	}
	st, err := b.open(ctx)
	if err != nil {
		err = fmt.Errorf("restycache/sqlite: open %q: %w", b.path, err)
		if ctx.Err() == nil {
			// Not the caller's deadline: pause before the next attempt.
			b.backoff = min(max(2*b.backoff, openRetryMin), openRetryMax)
			b.failed.Store(&openFailure{err: err, retry: b.wallNow().Add(b.backoff)})
		}
		return nil, err
	}
	b.backoff = 0
	b.failed.Store(nil)
	st.next.Store(b.wallNow().Add(b.checkEvery).UnixNano())
	b.st.Store(st)
	return st, nil
}

// checkDue reports whether st's file identity is due for a check, and if so
// claims the check so that concurrent callers do not repeat it.
func (b *Backend) checkDue(st *state) bool {
	next := st.next.Load()
	now := b.wallNow()
	if now.UnixNano() < next {
		return false
	}
	return st.next.CompareAndSwap(next, now.Add(b.checkEvery).UnixNano())
}

// sameFile reports whether the file at st's path is the one st opened. A
// path that cannot be checked for another reason than its absence counts
// as unchanged: reopening would not help.
func (b *Backend) sameFile(st *state) bool {
	fi, err := os.Stat(st.path)
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	return os.SameFile(fi, st.file)
}

// reopen replaces old, whose file was deleted or replaced or lost its
// table, by a database opened afresh at the path, unless another caller
// did so already. It returns the state to use.
func (b *Backend) reopen(ctx context.Context, old *state) (*state, error) {
	if err := b.acquire(ctx); err != nil {
		return nil, err
	}
	defer b.release()
	if b.st.Load() == old && !b.closed.Load() {
		b.st.Store(nil)
		b.retire(old)
	}
	return b.openLocked(ctx)
}

// retire closes a pool whose file changed. SQLite deletes a database's
// -wal and -shm files by name when its last connection closes; if those
// names now belong to a new database (another Backend or process got there
// first), the pool is told to keep them.
func (b *Backend) retire(st *state) {
	if !sameAs(st.path+"-wal", st.wal) || !sameAs(st.path+"-shm", st.shm) {
		st.keepWAL.Store(true)
	}
	_ = st.close()
}

// sameAs reports whether the file at path is want.
func sameAs(path string, want os.FileInfo) bool {
	if want == nil {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, want)
}

func (st *state) close() error {
	return errors.Join(st.set.Close(), st.db.Close())
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

// resolvePath applies the documented path rules, creates the parent
// directory and the (empty) file. It returns the file path and the DSN for
// the driver.
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
	if strings.HasSuffix(p, "/") || strings.HasSuffix(p, string(filepath.Separator)) {
		return "", "", ErrIsDirectory
	}
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, "~"+string(filepath.Separator)) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "", err
		}
		p = filepath.Join(home, p[1:])
	}
	if isDir(p) {
		return "", "", ErrIsDirectory
	}
	if filepath.Ext(p) == "" {
		p += Extension
	}
	p, err = filepath.Abs(p)
	if err != nil {
		return "", "", err
	}
	if isDir(p) {
		return "", "", ErrIsDirectory
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", "", err
	}
	// Create the file here, so that pool connections can open it without
	// SQLite's create flag: a connection opened after the file was deleted
	// then fails instead of silently making an empty database without the
	// table. An empty file is a valid, empty SQLite database.
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return "", "", err
	}
	if err := f.Close(); err != nil {
		return "", "", err
	}
	// A file: URI, so that '?', '#' and '%' in the path are escaped rather
	// than read as parameters. SQLite ignores the driver's own parameters.
	slashed := filepath.ToSlash(p)
	if !strings.HasPrefix(slashed, "/") {
		slashed = "/" + slashed
	}
	q.Set("mode", "rw")
	q.Set("_synchronous", "NORMAL")
	u := url.URL{Scheme: "file", Path: slashed}
	return p, u.String() + "?" + q.Encode(), nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// open opens the database, sets it up and prepares statements.
func (b *Backend) open(ctx context.Context) (*state, error) {
	file, dsn, err := b.resolvePath()
	if err != nil {
		return nil, err
	}
	st := &state{path: file}
	t := `"` + b.table + `"`
	const live = `(expires_at IS NULL OR expires_at > ?)`
	getSQL := `SELECT value, used_at FROM ` + t + ` WHERE key = ? AND ` + live
	st.touch = `UPDATE ` + t + ` SET used_at = ? WHERE key = ? AND used_at < ?`
	// Bounded tables keep their row count and value bytes in a one-row
	// table (see addSizeTracking), so that a Set learns in O(1) whether it
	// must evict, and then deletes the least recently used rows through
	// the used_at index.
	st.size = `SELECT entries, bytes FROM "` + b.table + `_size"`
	st.evict = `DELETE FROM ` + t + ` WHERE key IN (SELECT key FROM ` + t + ` ORDER BY used_at, key LIMIT ?)`
	st.delOne = `DELETE FROM ` + t + ` WHERE key = ?`
	st.delMany = func(n int) string {
		return `DELETE FROM ` + t + ` WHERE key IN (?` + strings.Repeat(`, ?`, n-1) + `)`
	}
	st.clear = `DELETE FROM ` + t + ` WHERE key >= ? AND key < ?`
	st.keys = [2]string{
		`SELECT key FROM ` + t + ` WHERE key >= ? AND key < ? AND ` + live + ` ORDER BY key LIMIT ?`,
		`SELECT key FROM ` + t + ` WHERE key > ? AND key < ? AND ` + live + ` ORDER BY key LIMIT ?`,
	}
	st.scan = [2]string{
		`SELECT key, value, expires_at FROM ` + t + ` WHERE key >= ? AND key < ? AND ` + live + ` ORDER BY key LIMIT ?`,
		`SELECT key, value, expires_at FROM ` + t + ` WHERE key > ? AND key < ? AND ` + live + ` ORDER BY key LIMIT ?`,
	}
	st.count = `SELECT COUNT(*) FROM ` + t + ` WHERE key >= ? AND key < ? AND ` + live
	st.expire = `DELETE FROM ` + t + ` WHERE expires_at <= ?`
	st.ping = `SELECT COUNT(*) FROM (SELECT 1 FROM ` + t + ` LIMIT 1)`

	db := sql.OpenDB(&connector{dsn: dsn, keepWAL: &st.keepWAL, getSQL: getSQL})
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
	st.db = db
	if err := b.setup(ctx, st); err != nil {
		db.Close()
		return nil, err
	}
	if file != MemoryPath {
		if st.file, err = os.Stat(file); err != nil {
			db.Close()
			return nil, err
		}
		// While a connection is open (the set-up one stays in the pool),
		// a WAL database has both.
		st.wal, _ = os.Stat(file + "-wal")
		st.shm, _ = os.Stat(file + "-shm")
	}

	st.set, err = db.PrepareContext(ctx, `INSERT INTO `+t+` (key, value, expires_at, used_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at, used_at = excluded.used_at`)
	if err != nil {
		db.Close()
		return nil, err
	}
	return st, nil
}

// setup switches a file to WAL mode and creates the table and its index.
// Other processes may be doing the same to the same new file: SQLite
// answers some of those collisions (the journal mode switch above all)
// with SQLITE_BUSY at once, without waiting for the busy timeout, so a
// busy set-up is retried after a growing pause, for up to the busy timeout
// or until ctx is done.
func (b *Backend) setup(ctx context.Context, st *state) error {
	t := `"` + b.table + `"`
	steps := []string{
		`CREATE TABLE IF NOT EXISTS ` + t + ` (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at INTEGER, used_at INTEGER NOT NULL DEFAULT 0)`,
		`CREATE INDEX IF NOT EXISTS "` + b.table + `_expires_at" ON ` + t + ` (expires_at)`,
	}
	if st.path != MemoryPath {
		// WAL mode is a property of the file: set once, every later
		// connection uses it.
		steps = slices.Insert(steps, 0, `PRAGMA journal_mode = WAL`)
	}
	giveUp := time.Now().Add(b.busyTimeout)
	pause := setupRetryMin
	for {
		err := runSteps(ctx, st.db, steps)
		if err == nil {
			err = b.addUsedAt(ctx, st)
		}
		if err == nil || !isBusy(err) || ctx.Err() != nil || time.Now().Add(pause).After(giveUp) {
			return err
		}
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		pause = min(2*pause, setupRetryMax)
	}
}

// addUsedAt adds the used_at column (the last use, in Unix nanoseconds) to
// a table made before it existed, and its index when the Backend is
// bounded.
func (b *Backend) addUsedAt(ctx context.Context, st *state) error {
	t := `"` + b.table + `"`
	var n int
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = 'used_at'`, b.table).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := st.db.ExecContext(ctx, `ALTER TABLE `+t+` ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0`); err != nil &&
			!strings.Contains(err.Error(), "duplicate column") { // another process was first
			return err
		}
	}
	if !b.bounded() {
		return nil
	}
	if _, err := st.db.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS "`+b.table+`_lru" ON `+t+` (used_at, key)`); err != nil {
		return err
	}
	return b.addSizeTracking(ctx, st)
}

// addSizeTracking creates, for a bounded Backend, the one-row table
// "<table>_size" holding the table's row count and the sum of its values'
// lengths, and the triggers that keep it exact on every insert, update and
// delete, by any process. The count is taken and the triggers made in one
// immediate transaction, so no write of another process falls between.
func (b *Backend) addSizeTracking(ctx context.Context, st *state) error {
	conn, err := st.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return err
	}
	t, size := `"`+b.table+`"`, `"`+b.table+`_size"`
	trigger := func(name, event, update string) string {
		return `CREATE TRIGGER IF NOT EXISTS "` + b.table + `_size_` + name + `" AFTER ` + event + ` ON ` + t +
			` BEGIN UPDATE ` + size + ` SET ` + update + `; END`
	}
	err = runSteps(ctx, conn, []string{
		`CREATE TABLE IF NOT EXISTS ` + size + ` (id INTEGER PRIMARY KEY CHECK (id = 0), entries INTEGER NOT NULL, bytes INTEGER NOT NULL)`,
		`INSERT INTO ` + size + ` SELECT 0, n, total FROM (SELECT COUNT(*) AS n, COALESCE(SUM(length(value)), 0) AS total FROM ` + t +
			`) WHERE NOT EXISTS (SELECT 1 FROM ` + size + `)`,
		trigger("insert", "INSERT", `entries = entries + 1, bytes = bytes + length(NEW.value)`),
		trigger("delete", "DELETE", `entries = entries - 1, bytes = bytes - length(OLD.value)`),
		trigger("update", "UPDATE OF value", `bytes = bytes - length(OLD.value) + length(NEW.value)`),
	})
	if err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return err
	}
	if _, err = conn.ExecContext(ctx, `COMMIT`); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
	}
	return err
}

// querier is a *sql.DB or a *sql.Conn.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func runSteps(ctx context.Context, db querier, steps []string) error {
	for _, q := range steps {
		// QueryContext, not ExecContext: the journal_mode pragma answers
		// with a row.
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
	}
	return nil
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED.
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// fileTrouble reports whether err may mean that the database file was
// deleted, replaced or lost its table, so that reopening the path may
// help.
func fileTrouble(err error) bool {
	if errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case sqlite3.ErrError:
		return strings.HasPrefix(se.Error(), "no such table")
	case sqlite3.ErrCantOpen, sqlite3.ErrIoErr, sqlite3.ErrReadonly, sqlite3.ErrNotADB, sqlite3.ErrCorrupt, sqlite3.ErrSchema:
		return true
	}
	return false
}

// connector opens the driver's connections for one state's pool, without
// registering a driver name.
type connector struct {
	dsn     string
	drv     sqlite3.SQLiteDriver
	keepWAL *atomic.Bool
	getSQL  string // the query of conn.get
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	dc, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &conn{SQLiteConn: dc.(*sqlite3.SQLiteConn), keepWAL: c.keepWAL, getSQL: c.getSQL}, nil
}

func (c *connector) Driver() driver.Driver { return &c.drv }

// conn is a driver connection (every method of the driver's) that, once
// its pool is retired, closes without deleting the -wal and -shm files by
// name, since those names may belong to a new database by then.
type conn struct {
	*sqlite3.SQLiteConn
	keepWAL *atomic.Bool
	getSQL  string
	get     driver.Stmt // prepared on first use, under database/sql's hold of the connection
}

func (c *conn) Close() error {
	if c.get != nil {
		_ = c.get.Close()
	}
	if c.keepWAL.Load() {
		_ = c.SetFileControlInt("main", sqlite3.SQLITE_FCNTL_PERSIST_WAL, 1)
	}
	return c.SQLiteConn.Close()
}

// getValue runs the Get query on the connection. The value it returns is
// the driver's own copy out of SQLite (mattn/go-sqlite3 allocates a new
// slice for every BLOB it reads and keeps no reference to it), so it is
// handed to the caller without another copy. ok is false when no row
// matched.
func (c *conn) getValue(ctx context.Context, key string, now int64) (v []byte, usedAt int64, ok bool, err error) {
	if c.get == nil {
		if c.get, err = c.PrepareContext(ctx, c.getSQL); err != nil {
			return nil, 0, false, err
		}
	}
	rows, err := c.get.(driver.StmtQueryContext).QueryContext(ctx, []driver.NamedValue{
		{Ordinal: 1, Value: key}, {Ordinal: 2, Value: now},
	})
	if err != nil {
		return nil, 0, false, err
	}
	var dest [2]driver.Value
	err = rows.Next(dest[:])
	cerr := rows.Close()
	switch {
	case err == io.EOF:
		return nil, 0, false, cerr
	case err != nil:
		return nil, 0, false, err
	case cerr != nil:
		return nil, 0, false, cerr
	}
	usedAt, _ = dest[1].(int64)
	switch v := dest[0].(type) {
	case []byte:
		return v, usedAt, true, nil
	case string: // a value written as TEXT by another program
		return []byte(v), usedAt, true, nil
	default:
		return nil, 0, false, fmt.Errorf("value of type %T", dest[0])
	}
}

// do runs f on the open database and wraps its error for operation op.
// When the error suggests that the file was deleted or replaced and that
// is so (or the table is gone), it reopens the path and runs f once more.
func (b *Backend) do(ctx context.Context, op string, f func(st *state) error) error {
	for attempt := 0; ; attempt++ {
		st, err := b.conn(ctx)
		if err != nil {
			return err
		}
		err = f(st)
		switch {
		case err == nil || errors.Is(err, backend.ErrNotFound):
			return err
		case b.closed.Load():
			return fmt.Errorf("restycache/sqlite: %s: %w", op, backend.ErrClosed)
		case ctx.Err() != nil:
			return fmt.Errorf("restycache/sqlite: %s: %w", op, ctx.Err())
		}
		if attempt == 0 && (b.st.Load() != st || st.file != nil && fileTrouble(err) && b.recover(ctx, st, err)) {
			continue
		}
		return fmt.Errorf("restycache/sqlite: %s: %w", op, err)
	}
}

// recover reopens the path after st failed with err, if that can help:
// st was replaced already, its table is gone or its file changed. It
// reports whether the caller should try again.
func (b *Backend) recover(ctx context.Context, st *state, err error) bool {
	if b.st.Load() != st {
		return true
	}
	var se sqlite3.Error
	missingTable := errors.As(err, &se) && se.Code == sqlite3.ErrError
	if !missingTable && b.sameFile(st) {
		return false
	}
	_, rerr := b.reopen(ctx, st)
	return rerr == nil
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

// Get returns the value stored under key, a slice of the caller's own, or
// an error wrapping backend.ErrNotFound if it is absent or expired. The
// value is copied once, out of SQLite, on a connection held for the one
// query.
//
// With MaxEntries or MaxBytes, a read also records the key's use, when its
// last recorded use is more than a second old.
func (b *Backend) Get(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	var usedAt int64
	now := unixNanos(b.now())
	err := b.do(ctx, "get", func(st *state) error {
		c, err := st.db.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		err = c.Raw(func(dc any) error {
			var ok bool
			v, usedAt, ok, err = dc.(*conn).getValue(ctx, key, now)
			if err == nil && !ok {
				err = backend.ErrNotFound
			}
			return err
		})
		if err == nil && b.bounded() && usedAt < now-int64(touchEvery) {
			// A lost touch only makes the entry look older: not an
			// error of the read.
			_, _ = c.ExecContext(ctx, st.touch, now, key, now-int64(touchEvery))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Set stores value under key with one upsert. An expiresAt that is not
// after the clock's now deletes the key instead; the zero time stores the
// entry without expiry.
func (b *Backend) Set(ctx context.Context, key string, value []byte, expiresAt time.Time) error {
	var exp sql.NullInt64
	if !expiresAt.IsZero() {
		if !b.now().Before(expiresAt) {
			return b.do(ctx, "set", func(st *state) error {
				_, err := st.db.ExecContext(ctx, st.delOne, key)
				return err
			})
		}
		exp = sql.NullInt64{Int64: unixNanos(expiresAt), Valid: true}
	}
	if b.maxBytes > 0 && int64(len(value)) > b.maxBytes {
		err := b.do(ctx, "set", func(st *state) error {
			_, err := st.db.ExecContext(ctx, st.delOne, key)
			return err
		})
		if err != nil {
			return err
		}
		return fmt.Errorf("restycache/sqlite: set: %w (%d bytes, limit %d)", ErrTooLarge, len(value), b.maxBytes)
	}
	if value == nil {
		value = []byte{} // the driver binds a nil slice as NULL
	}
	return b.do(ctx, "set", func(st *state) error {
		if _, err := st.set.ExecContext(ctx, key, value, exp, unixNanos(b.now())); err != nil {
			return err
		}
		if !b.bounded() {
			return nil
		}
		return b.evict(ctx, st)
	})
}

// evict deletes the least recently used rows while the table is past a
// bound: as many as the row count is over MaxEntries, else (past MaxBytes
// only) one, then two, four, ... at a time. Each round costs an index walk
// of the rows it deletes, not a scan of the table. Writers in other
// processes evicting at the same moment may together delete a row or two
// more than needed.
func (b *Backend) evict(ctx context.Context, st *state) error {
	maxEntries, maxBytes := b.maxEntries, b.maxBytes
	if maxEntries <= 0 {
		maxEntries = math.MaxInt64
	}
	if maxBytes <= 0 {
		maxBytes = math.MaxInt64
	}
	batch := int64(1)
	for range 64 {
		var entries, bytes int64
		if err := st.db.QueryRowContext(ctx, st.size).Scan(&entries, &bytes); err != nil {
			return err
		}
		if entries <= maxEntries && bytes <= maxBytes {
			return nil
		}
		n := batch
		if entries > maxEntries {
			n = entries - maxEntries
		} else {
			batch = min(2*batch, 1<<20)
		}
		if _, err := st.db.ExecContext(ctx, st.evict, n); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes the given keys in one transaction; absent keys are
// ignored.
func (b *Backend) Delete(ctx context.Context, keys ...string) error {
	switch len(keys) {
	case 0:
		_, err := b.conn(ctx)
		return err
	case 1:
		return b.do(ctx, "delete", func(st *state) error {
			_, err := st.db.ExecContext(ctx, st.delOne, keys[0])
			return err
		})
	}
	return b.do(ctx, "delete", func(st *state) error {
		tx, err := st.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }() // a no-op after Commit
		args := make([]any, 0, min(len(keys), deleteChunk))
		for chunk := range slices.Chunk(keys, deleteChunk) {
			args = args[:0]
			for _, k := range chunk {
				args = append(args, k)
			}
			if _, err := tx.ExecContext(ctx, st.delMany(len(chunk)), args...); err != nil {
				return err
			}
		}
		return tx.Commit()
	})
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
	return b.do(ctx, "clear", func(st *state) error {
		_, err := st.db.ExecContext(ctx, st.clear, prefix, prefixBound(prefix))
		return err
	})
}

// Keys yields the keys that start with prefix and are present and not
// expired, each once, in key order. It reads them in pages and holds no
// cursor open while yielding, so entries may be written or deleted during
// the iteration; a key added behind the current position is not yielded.
func (b *Backend) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		after, first, end := prefix, true, prefixBound(prefix)
		page := make([]string, 0, keysPage)
		for {
			page = page[:0]
			err := b.do(ctx, "keys", func(st *state) error {
				page = page[:0]
				q := st.keys[1]
				if first {
					q = st.keys[0]
				}
				rows, err := st.db.QueryContext(ctx, q, after, end, unixNanos(b.now()), keysPage)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var k string
					if err := rows.Scan(&k); err != nil {
						return err
					}
					page = append(page, k)
				}
				return errors.Join(rows.Err(), rows.Close())
			})
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
			after, first = page[len(page)-1], false
		}
	}
}

// Scan yields the entries whose keys start with prefix and that are present
// and not expired, each once, in key order, with their values and expiry
// (an expiry beyond the year 2262 reads as that year's limit). Like Keys,
// it reads them in pages (of at most 256 entries or about 4 MiB of values)
// and holds no cursor open while yielding.
func (b *Backend) Scan(ctx context.Context, prefix string) iter.Seq2[backend.Record, error] {
	return func(yield func(backend.Record, error) bool) {
		after, first, end := prefix, true, prefixBound(prefix)
		var page []backend.Record
		for {
			more := false
			err := b.do(ctx, "scan", func(st *state) error {
				page, more = page[:0], false
				q := st.scan[1]
				if first {
					q = st.scan[0]
				}
				rows, err := st.db.QueryContext(ctx, q, after, end, unixNanos(b.now()), keysPage)
				if err != nil {
					return err
				}
				defer rows.Close()
				size := 0
				for rows.Next() {
					var (
						r   backend.Record
						raw sql.RawBytes
						exp sql.NullInt64
					)
					if err := rows.Scan(&r.Key, &raw, &exp); err != nil {
						return err
					}
					r.Value = make([]byte, len(raw))
					copy(r.Value, raw)
					if exp.Valid {
						r.ExpiresAt = time.Unix(0, exp.Int64)
					}
					page = append(page, r)
					if size += len(raw); size >= scanPageBytes {
						more = true
						break
					}
				}
				more = more || len(page) == keysPage
				return errors.Join(rows.Err(), rows.Close())
			})
			if err != nil {
				yield(backend.Record{}, err)
				return
			}
			for _, r := range page {
				if err := ctx.Err(); err != nil {
					yield(backend.Record{}, fmt.Errorf("restycache/sqlite: scan: %w", err))
					return
				}
				if !yield(r, nil) {
					return
				}
			}
			if !more || len(page) == 0 {
				return
			}
			after, first = page[len(page)-1].Key, false
			clear(page) // let the yielded values go
		}
	}
}

// Len counts the rows whose keys start with prefix and that are not
// expired.
func (b *Backend) Len(ctx context.Context, prefix string) (int, error) {
	var n int
	err := b.do(ctx, "len", func(st *state) error {
		return st.db.QueryRowContext(ctx, st.count, prefix, prefixBound(prefix), unixNanos(b.now())).Scan(&n)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// DeleteExpired removes, in one DELETE statement, every row whose expiry
// is not after the clock's now, and reports how many it removed.
func (b *Backend) DeleteExpired(ctx context.Context) (int, error) {
	var n int64
	err := b.do(ctx, "delete expired", func(st *state) error {
		res, err := st.db.ExecContext(ctx, st.expire, unixNanos(b.now()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// Ping opens the database if it is not open yet and checks that it
// answers and still holds its table; it returns the reason when it does
// not.
func (b *Backend) Ping(ctx context.Context) error {
	return b.do(ctx, "ping", func(st *state) error {
		var one int
		return st.db.QueryRowContext(ctx, st.ping).Scan(&one)
	})
}

// Close closes the database; later calls of the other methods return
// backend.ErrClosed. Close is idempotent: only the first call can return an
// error. The file stays on disk (an in-memory database is gone). Close
// waits for an open in progress to finish.
func (b *Backend) Close() error {
	b.lock <- struct{}{}
	defer b.release()
	if b.closed.Load() {
		return nil
	}
	b.closed.Store(true)
	st := b.st.Swap(nil)
	if st == nil {
		return nil
	}
	if err := st.close(); err != nil {
		return fmt.Errorf("restycache/sqlite: close %q: %w", st.path, err)
	}
	return nil
}
