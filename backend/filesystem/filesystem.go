// Package filesystem is restycache's directory backend: one file per entry
// under a directory, with no server and no cgo.
//
// # Layout
//
// An entry with key k lives in the file dir/ab/abcd…, named by the
// lower-case hex SHA-256 of k and sharded by its first two hex digits into
// at most 256 subdirectories. The file holds a small header (a magic
// number, a format version, the expiry, the key's and the value's lengths),
// the key, the value and a CRC-32C of all of it. Directories are created
// 0700 and files 0600.
//
// # Atomicity, crashes and sharing
//
// A Set writes a temporary file in the entry's subdirectory and renames it
// over the entry's name. Rename is atomic, so a reader sees the old file or
// the new one, never half of one, and several Backends, in one process or
// in several, can share one directory. Get checks the magic, version,
// lengths, checksum, the key against the name's hash, and the expiry; a
// file that fails a check is a miss. Without Options.Sync a crash (of the
// machine, not the process) may lose recent writes or leave a file whose
// checksum fails, which then reads as a miss and is replaced by the next
// Set of its key; it is never served.
//
// # Files that are not entries
//
// Only files named like entries (64 hex digits) in subdirectories named
// like shards (2 hex digits) are looked at; everything else in the
// directory is left alone. A file named like an entry that fails its
// checks (torn by a crash, damaged) is a miss for Get, skipped by Keys, Len
// and Scan, removed by Clear("") and DeleteExpired, and replaced by the
// next Set of its key. A file of a format version this package does not
// know (written by a newer one sharing the directory) is treated the same
// way except that DeleteExpired leaves it alone. Temporary files left by a writer that crashed are
// removed by DeleteExpired once they are StaleTempAge old.
//
// # Costs
//
// Get, Set and Delete touch one file each. Keys, Len, Scan, Clear with a
// prefix and DeleteExpired walk the whole tree: keys are hashed, so a
// prefix can only be matched by reading each file's header (Scan reads
// whole files). They cost O(entries) file opens, whatever the prefix.
// Clear("") removes files without opening them.
//
// # Size limits
//
// Options.MaxBytes and Options.MaxEntries bound the directory. The use time
// of an entry is its file's modification time: Set sets it, and a Get
// refreshes it (at most once per TouchInterval). A Backend learns the
// directory's total with one walk (stat only, no reads) at its first Set,
// then keeps a running total of its own writes and deletes; when a Set
// takes the total over a limit, it walks the tree again, counting exactly,
// and removes the least recently used files until the total is at most
// EvictPercent of each limit. Several processes sharing a directory each
// see the others' writes only at their own walks, so the directory may
// exceed a limit by what the others wrote since; give every Backend on one
// directory the same limits, since only a limited Backend refreshes use
// times on reads.
package filesystem

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/restycache/restycache/backend"
)

// DirPerm is the permission of the directories the backend creates.
const DirPerm os.FileMode = 0o700

// FilePerm is the permission of the entry files the backend writes.
const FilePerm os.FileMode = 0o600

// EvictPercent is the percentage of Options.MaxBytes and Options.MaxEntries
// that eviction brings the directory down to, so that a directory at its
// limit is not walked again at every Set.
const EvictPercent = 90

// TouchInterval is how old an entry's use time must be before a Get
// refreshes it; a busy entry is touched at most once per interval. Only a
// Backend with a limit touches entries.
const TouchInterval = time.Second

// StaleTempAge is how old a temporary file must be before DeleteExpired
// removes it as left behind by a writer that crashed.
const StaleTempAge = time.Hour

// tempPrefix starts the names of temporary files; entry names never do.
const tempPrefix = ".tmp-"

// ErrTooLarge is returned (wrapped) by Set when a single entry's file would
// be larger than Options.MaxBytes, so it could never fit. It is
// backend.ErrTooLarge; test for it with errors.Is.
var ErrTooLarge = backend.ErrTooLarge

// ErrNotDir is returned (wrapped) by Open, Ping and the first use of a
// Backend whose path exists and is not a directory. Test for it with
// errors.Is.
var ErrNotDir = errors.New("restycache/filesystem: not a directory")

// Options configures a Backend. The zero value is an unbounded cache that
// does not sync writes and uses the wall clock.
type Options struct {
	// MaxBytes bounds the total size of the entry files (header, key,
	// value and checksum of each); when a Set takes the total over it,
	// least recently used entries are removed (see the package
	// documentation for how exact this is). An entry whose file alone
	// would be larger is refused with ErrTooLarge. Zero or negative means
	// no limit (the default).
	MaxBytes int64
	// MaxEntries bounds the number of entry files, as MaxBytes bounds
	// their size. Zero or negative means no limit (the default).
	MaxEntries int
	// Sync, when true, makes Set flush each file and its directory to
	// stable storage before it returns, so a machine crash loses no entry
	// that Set reported stored. It costs a disk flush per write. The
	// default is false: a crash may lose recent entries, never serve a
	// torn one.
	Sync bool
	// Clock returns the current time, against which expiry is judged and
	// which use times record. Nil means time.Now; set it in tests.
	Clock func() time.Time
}

// Backend is a backend.Storage in a directory, one file per entry. It
// creates and checks the directory on first use (or in Open); a failed
// check is retried by the next call. It is safe for concurrent use, and
// several Backends, in one process or several, may share a directory.
// Create it with New or Open.
type Backend struct {
	dir        string
	maxBytes   int64
	maxEntries int
	sync       bool
	now        func() time.Time

	mu     sync.Mutex // serialises opening
	root   atomic.Pointer[string]
	closed atomic.Bool

	evictMu sync.Mutex // one counting or evicting walk at a time
	usageMu sync.Mutex
	usage   usage        // guarded by usageMu
	walks   atomic.Int64 // counting and evicting walks, for tests
}

// usage is a Backend's running estimate of the directory's size.
type usage struct {
	known   bool
	bytes   int64
	entries int
}

var (
	_ backend.Storage = (*Backend)(nil)
	_ backend.Scanner = (*Backend)(nil)
	_ backend.Pinger  = (*Backend)(nil)
)

// New returns a Backend over the directory dir without touching the file
// system; the first method call creates the directory (and its parents,
// DirPerm) if missing and checks that it can be written, so New never
// fails. A leading "~" or "~/" stands for the home directory. When several
// Options are given the last one wins.
func New(dir string, opts ...Options) *Backend {
	var o Options
	if len(opts) > 0 {
		o = opts[len(opts)-1]
	}
	b := &Backend{dir: dir, maxBytes: o.MaxBytes, maxEntries: o.MaxEntries, sync: o.Sync, now: o.Clock}
	if b.now == nil {
		b.now = time.Now
	}
	return b
}

// Open is New followed by creating and checking the directory at once, so a
// path that is a file, or a directory that cannot be created or written, is
// reported here rather than on first use.
func Open(ctx context.Context, dir string, opts ...Options) (*Backend, error) {
	b := New(dir, opts...)
	if _, err := b.ready(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Dir returns the directory the Backend was made with, as given.
func (b *Backend) Dir() string { return b.dir }

func (b *Backend) limited() bool { return b.maxBytes > 0 || b.maxEntries > 0 }

// alive reports a closed backend or a done context.
func (b *Backend) alive(ctx context.Context) error {
	if b.closed.Load() {
		return backend.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("restycache/filesystem: %w", err)
	}
	return nil
}

// ready returns the resolved directory, creating and checking it first if
// that has not succeeded yet.
func (b *Backend) ready(ctx context.Context) (string, error) {
	if err := b.alive(ctx); err != nil {
		return "", err
	}
	if r := b.root.Load(); r != nil {
		return *r, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return "", backend.ErrClosed
	}
	if r := b.root.Load(); r != nil {
		return *r, nil
	}
	root, err := b.resolve()
	if err == nil {
		err = checkDir(root)
	}
	if err != nil {
		return "", fmt.Errorf("restycache/filesystem: open %q: %w", b.dir, err)
	}
	b.root.Store(&root)
	return root, nil
}

// resolve expands "~" and makes the directory absolute.
func (b *Backend) resolve() (string, error) {
	p := b.dir
	if p == "" {
		return "", errors.New("empty directory path")
	}
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, "~"+string(filepath.Separator)) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		p = filepath.Join(home, p[1:])
	}
	return filepath.Abs(p)
}

// checkDir creates root if missing and checks that it is a directory that
// a file can be created in.
func checkDir(root string) error {
	if fi, err := os.Stat(root); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s: %w", root, ErrNotDir)
	}
	if err := os.MkdirAll(root, DirPerm); err != nil {
		return err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %w", root, ErrNotDir)
	}
	f, err := os.CreateTemp(root, tempPrefix+"probe-*")
	if err != nil {
		return fmt.Errorf("directory not writable: %w", err)
	}
	name := f.Name()
	cerr := f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("directory not writable: %w", err)
	}
	return cerr
}

// fail wraps err from operation op, reporting ErrClosed if the backend was
// closed while the operation ran.
func (b *Backend) fail(op string, err error) error {
	if b.closed.Load() && !errors.Is(err, backend.ErrClosed) {
		return fmt.Errorf("restycache/filesystem: %s: %w", op, backend.ErrClosed)
	}
	if errors.Is(err, backend.ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // from alive: already says what it is
	}
	return fmt.Errorf("restycache/filesystem: %s: %w", op, err)
}

// entryPath returns the path of the file called name.
func entryPath(root, name string) string {
	return filepath.Join(root, name[:shardLen], name)
}

func expired(at, now time.Time) bool { return !at.IsZero() && !now.Before(at) }

// Get returns the value stored under key, read from its file, or an error
// wrapping backend.ErrNotFound when the file is absent, expired (it is
// then removed) or fails its checks. On a Backend with a limit, a hit
// refreshes the entry's use time.
func (b *Backend) Get(ctx context.Context, key string) ([]byte, error) {
	root, err := b.ready(ctx)
	if err != nil {
		return nil, err
	}
	name := fileName(key)
	p := entryPath(root, name)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, backend.ErrNotFound
	}
	if err != nil {
		return nil, b.fail("get", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, b.fail("get", err)
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, b.fail("get", err)
	}
	h, k, v, err := decodeFile(name, data)
	if err == nil && k != key {
		err = fmt.Errorf("%w: holds another key", errCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("restycache/filesystem: get: %s: %w: %w", p, err, backend.ErrNotFound)
	}
	now := b.now()
	if expired(h.expiresAt, now) {
		b.removeIfSame(p, fi)
		return nil, backend.ErrNotFound
	}
	if b.limited() && now.Sub(fi.ModTime()) >= TouchInterval && ctx.Err() == nil {
		_ = os.Chtimes(p, now, now) // a use time only: failing to record it is harmless
	}
	return v, nil
}

// Set writes value under key to a temporary file and renames it over the
// key's file, so readers never see a partial entry. An expiresAt that is
// not after the clock's now removes the key instead. An entry whose file
// would be larger than MaxBytes removes the key and returns an error
// wrapping ErrTooLarge. A directory that cannot be written (read-only,
// full) makes Set return the error.
func (b *Backend) Set(ctx context.Context, key string, value []byte, expiresAt time.Time) error {
	root, err := b.ready(ctx)
	if err != nil {
		return err
	}
	name := fileName(key)
	p := entryPath(root, name)
	now := b.now()
	if expired(expiresAt, now) {
		return b.remove(p)
	}
	size := int64(headerSize + len(key) + len(value) + trailerSize)
	if b.maxBytes > 0 && size > b.maxBytes {
		if err := b.remove(p); err != nil {
			return err
		}
		return fmt.Errorf("restycache/filesystem: set: %w (%d bytes, limit %d)", ErrTooLarge, size, b.maxBytes)
	}
	tmp, err := b.writeTemp(ctx, filepath.Dir(p), key, value, expiresAt, now)
	if err != nil {
		return b.fail("set", err)
	}
	oldSize := int64(-1)
	if b.limited() {
		if fi, err := os.Lstat(p); err == nil {
			oldSize = fi.Size()
		}
	}
	if err := b.alive(ctx); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return b.fail("set", err)
	}
	if b.sync {
		if err := syncDir(filepath.Dir(p)); err != nil {
			return b.fail("set", err)
		}
	}
	if b.limited() {
		b.account(ctx, root, p, size, oldSize)
	}
	return nil
}

// writeTemp writes the entry file to a new temporary file in dir (created
// if missing) and returns its path.
func (b *Backend) writeTemp(ctx context.Context, dir, key string, value []byte, expiresAt, now time.Time) (path string, err error) {
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, DirPerm); err == nil {
			f, err = os.CreateTemp(dir, tempPrefix+"*")
		}
	}
	if err != nil {
		return "", err
	}
	path = f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(path)
		}
	}()
	buf := encodeHeader(key, len(value), expiresAt)
	crc := crc32.Update(crc32.Checksum(buf, castagnoli), castagnoli, value)
	// Small entries go out in one write; large ones without a copy.
	if len(value) <= 64<<10 {
		buf = append(buf, value...)
		value = nil
	}
	if _, err = f.Write(buf); err != nil {
		return "", err
	}
	if len(value) > 0 {
		if err = b.alive(ctx); err != nil {
			return "", err
		}
		if _, err = f.Write(value); err != nil {
			return "", err
		}
	}
	if _, err = f.Write([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)}); err != nil {
		return "", err
	}
	if b.sync {
		if err = f.Sync(); err != nil {
			return "", err
		}
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	if b.limited() {
		if err = os.Chtimes(path, now, now); err != nil {
			return "", err
		}
	}
	return path, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// remove removes the entry file at p, if any, and accounts for it.
func (b *Backend) remove(p string) error {
	var size int64 = -1
	if b.limited() {
		if fi, err := os.Lstat(p); err == nil {
			size = fi.Size()
		}
	}
	err := os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return b.fail("delete", err)
	}
	if size >= 0 {
		b.usageMu.Lock()
		if b.usage.known {
			b.usage.bytes -= size
			b.usage.entries--
		}
		b.usageMu.Unlock()
	}
	return nil
}

// removeIfSame removes p if it is still the file fi describes, so an entry
// that another writer just replaced is left alone. It reports whether it
// removed it.
func (b *Backend) removeIfSame(p string, fi fs.FileInfo) bool {
	cur, err := os.Lstat(p)
	if err != nil || !os.SameFile(cur, fi) {
		return false
	}
	if err := b.remove(p); err != nil {
		return false
	}
	return true
}

// Delete removes the files of the given keys; absent keys are ignored.
func (b *Backend) Delete(ctx context.Context, keys ...string) error {
	root, err := b.ready(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.alive(ctx); err != nil {
			return err
		}
		if err := b.remove(entryPath(root, fileName(k))); err != nil {
			return err
		}
	}
	return nil
}

// Clear removes every entry whose key starts with prefix. The empty prefix
// removes every file named like an entry without opening it; another
// prefix reads each file's header. Files that are not entries stay.
func (b *Backend) Clear(ctx context.Context, prefix string) error {
	root, err := b.ready(ctx)
	if err != nil {
		return err
	}
	defer b.forgetUsage()
	err = b.walk(ctx, root, func(p, name string, _ fs.DirEntry) error {
		if prefix != "" {
			_, key, _, err := openHeader(p, name)
			if err != nil || !strings.HasPrefix(key, prefix) {
				return nil
			}
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}, nil)
	if err != nil {
		return b.fail("clear", err)
	}
	return nil
}

// forgetUsage makes the next Set of a limited Backend count the directory
// again.
func (b *Backend) forgetUsage() {
	b.usageMu.Lock()
	b.usage.known = false
	b.usageMu.Unlock()
}

// Keys yields the keys that start with prefix and are present and not
// expired, reading each file's header (see the package documentation for
// the cost). Files written or removed during the iteration may or may not
// be seen; a key present throughout is yielded once.
func (b *Backend) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		root, err := b.ready(ctx)
		if err != nil {
			yield("", err)
			return
		}
		stopped := false
		err = b.walk(ctx, root, func(p, name string, _ fs.DirEntry) error {
			h, key, _, err := openHeader(p, name)
			if err != nil || !strings.HasPrefix(key, prefix) || expired(h.expiresAt, b.now()) {
				return nil
			}
			if !yield(key, nil) {
				stopped = true
				return errStop
			}
			return nil
		}, nil)
		if err != nil && !stopped {
			yield("", b.fail("keys", err))
		}
	}
}

// Scan yields the entries whose keys start with prefix and are present and
// not expired, reading and checking each file whole, like Get; files that
// fail their checks are skipped. The iteration guarantees are those of
// Keys.
func (b *Backend) Scan(ctx context.Context, prefix string) iter.Seq2[backend.Record, error] {
	return func(yield func(backend.Record, error) bool) {
		root, err := b.ready(ctx)
		if err != nil {
			yield(backend.Record{}, err)
			return
		}
		stopped := false
		err = b.walk(ctx, root, func(p, name string, _ fs.DirEntry) error {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			h, key, v, err := decodeFile(name, data)
			if err != nil || !strings.HasPrefix(key, prefix) || expired(h.expiresAt, b.now()) {
				return nil
			}
			if !yield(backend.Record{Key: key, Value: v, ExpiresAt: h.expiresAt}, nil) {
				stopped = true
				return errStop
			}
			return nil
		}, nil)
		if err != nil && !stopped {
			yield(backend.Record{}, b.fail("scan", err))
		}
	}
}

// Len reports how many entries whose keys start with prefix are present and
// not expired, reading each file's header (see the package documentation
// for the cost).
func (b *Backend) Len(ctx context.Context, prefix string) (int, error) {
	root, err := b.ready(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	err = b.walk(ctx, root, func(p, name string, _ fs.DirEntry) error {
		h, key, _, err := openHeader(p, name)
		if err == nil && strings.HasPrefix(key, prefix) && !expired(h.expiresAt, b.now()) {
			n++
		}
		return nil
	}, nil)
	if err != nil {
		return 0, b.fail("len", err)
	}
	return n, nil
}

// DeleteExpired removes the files of entries whose expiry is not after the
// clock's now and reports how many it removed. It also removes files named
// like entries that fail their checks, and temporary files StaleTempAge
// old, without counting them.
func (b *Backend) DeleteExpired(ctx context.Context) (int, error) {
	root, err := b.ready(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	err = b.walk(ctx, root, func(p, name string, _ fs.DirEntry) error {
		h, _, fi, err := openHeader(p, name)
		switch {
		case errors.Is(err, errCorrupt):
			if fi != nil {
				b.removeIfSame(p, fi)
			}
		case err == nil && expired(h.expiresAt, b.now()):
			if b.removeIfSame(p, fi) {
				n++
			}
		}
		return nil
	}, func(p string, d fs.DirEntry) error {
		if fi, err := d.Info(); err == nil && b.now().Sub(fi.ModTime()) >= StaleTempAge {
			_ = os.Remove(p)
		}
		return nil
	})
	if err != nil {
		return n, b.fail("delete expired", err)
	}
	return n, nil
}

// Ping creates the directory if needed and checks, each time it is called,
// that it is a directory a file can be written in.
func (b *Backend) Ping(ctx context.Context) error {
	root, err := b.ready(ctx)
	if err != nil {
		return err
	}
	if err := checkDir(root); err != nil {
		return fmt.Errorf("restycache/filesystem: ping %q: %w", b.dir, err)
	}
	return nil
}

// Close marks the backend closed; later calls of the other methods return
// backend.ErrClosed, and walks under way stop at their next file. The files
// stay. Close is idempotent and always returns nil.
func (b *Backend) Close() error {
	b.closed.Store(true)
	return nil
}

// errStop ends a walk early without an error.
var errStop = errors.New("stop")

// walk calls entry for each file named like an entry in a shard directory
// of root, and temp (when not nil) for each temporary file, checking the
// context and the backend's state before each. Directories are read
// unsorted. errStop from a callback ends the walk with nil.
func (b *Backend) walk(ctx context.Context, root string, entry func(p, name string, d fs.DirEntry) error, temp func(p string, d fs.DirEntry) error) error {
	shards, err := readDir(root)
	if err != nil {
		return err
	}
	for _, s := range shards {
		if !s.IsDir() || !isShardName(s.Name()) {
			continue
		}
		if err := b.alive(ctx); err != nil {
			return err
		}
		dir := filepath.Join(root, s.Name())
		files, err := readDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := b.alive(ctx); err != nil {
				return err
			}
			name := f.Name()
			switch {
			case isEntryName(name) && name[:shardLen] == s.Name() && f.Type().IsRegular():
				err = entry(filepath.Join(dir, name), name, f)
			case temp != nil && strings.HasPrefix(name, tempPrefix):
				err = temp(filepath.Join(dir, name), f)
			}
			if errors.Is(err, errStop) {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// readDir lists dir without sorting it.
func readDir(dir string) ([]fs.DirEntry, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.ReadDir(-1)
}

// openHeader reads the header and key of the entry file at p, called
// name. A file that vanished or cannot be read is an error; one that is
// not a valid entry is an error wrapping errCorrupt, with its FileInfo.
func openHeader(p, name string) (header, string, fs.FileInfo, error) {
	f, err := os.Open(p)
	if err != nil {
		return header{}, "", nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return header{}, "", nil, err
	}
	h, key, err := readHeader(f, name, fi.Size())
	return h, key, fi, err
}

// account adds a file of size bytes just written at p (replacing one of
// oldSize bytes, or none when oldSize is negative) to the running total,
// and evicts when the total is unknown or over a limit.
func (b *Backend) account(ctx context.Context, root, p string, size, oldSize int64) {
	b.usageMu.Lock()
	if b.usage.known {
		b.usage.bytes += size
		if oldSize >= 0 {
			b.usage.bytes -= oldSize
		} else {
			b.usage.entries++
		}
	}
	walk := !b.usage.known || b.over(b.usage.bytes, b.usage.entries, 100)
	b.usageMu.Unlock()
	if walk {
		b.evict(ctx, root, p)
	}
}

// over reports whether bytes or entries exceed pct percent of a limit.
func (b *Backend) over(bytes int64, entries int, pct int64) bool {
	return (b.maxBytes > 0 && bytes > b.maxBytes*pct/100) ||
		(b.maxEntries > 0 && int64(entries) > int64(b.maxEntries)*pct/100)
}

// fileUse is an entry file as an eviction walk sees it.
type fileUse struct {
	path string
	info fs.FileInfo
}

// evict counts the directory (stat only) and, if it is over a limit,
// removes least recently used files other than keep until it is at most
// EvictPercent of each limit. One walk runs at a time; a Set that finds one
// running leaves the work to it. A walk cut short by ctx leaves the total
// unknown, to be counted by the next Set.
func (b *Backend) evict(ctx context.Context, root, keep string) {
	if !b.evictMu.TryLock() {
		return
	}
	defer b.evictMu.Unlock()
	b.walks.Add(1)
	var (
		files   []fileUse
		bytes   int64
		entries int
	)
	err := b.walk(ctx, root, func(p, _ string, d fs.DirEntry) error {
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		files = append(files, fileUse{p, fi})
		bytes += fi.Size()
		entries++
		return nil
	}, nil)
	if err != nil {
		return
	}
	if b.over(bytes, entries, 100) {
		slices.SortFunc(files, func(x, y fileUse) int {
			if c := x.info.ModTime().Compare(y.info.ModTime()); c != 0 {
				return c
			}
			return strings.Compare(x.path, y.path)
		})
		for _, f := range files {
			if !b.over(bytes, entries, EvictPercent) || b.alive(ctx) != nil {
				break
			}
			if f.path == keep {
				continue
			}
			if cur, err := os.Lstat(f.path); err != nil || !os.SameFile(cur, f.info) {
				continue // replaced since the walk: in use
			}
			if err := os.Remove(f.path); err == nil {
				bytes -= f.info.Size()
				entries--
			}
		}
	}
	b.usageMu.Lock()
	b.usage = usage{known: true, bytes: bytes, entries: entries}
	b.usageMu.Unlock()
}
