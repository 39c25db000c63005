// Package backendtest is the conformance suite that every restycache storage
// backend passes. A backend's test file builds an Opener and calls Run:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
//			return mybackend.New(storeFor(t, name))
//		})
//	}
//
// Run checks the whole backend.Storage contract: byte-exact round trips,
// overwrites, misses, deletes, Clear, key iteration, Len, expiry, odd keys,
// two instances over one store, key prefixes, cancelled contexts, use after
// Close and concurrent use, and the optional abilities a backend has
// (backend.Scanner is checked wherever keys are, backend.Locker by its own
// subtest). Bench measures the hot paths.
package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
)

// Opener returns a backend over the store called name. Called with a name
// not used before in this test, it returns an empty store. Called again with
// the same name, it returns a second instance over the same store (as a
// second process sharing a SQLite file or a Redis database would), or, for a
// backend whose store lives in its own memory, the same instance. The suite
// closes what it opens (Close must be idempotent, so closing a shared
// instance twice is fine).
//
// Run calls the Opener from parallel subtests, so it must be safe for
// concurrent use; it may call t.Fatal when it cannot open the store. The
// names Run uses are plain lowercase words, distinct within one Run call, and
// usable as file names or key prefixes.
type Opener func(t *testing.T, name string) backend.Storage

// BenchOpener returns a new, empty backend for one benchmark. Bench closes
// what it opens.
type BenchOpener func(b *testing.B) backend.Storage

// ExpiryWait bounds how long the Expiry subtest waits for an entry that
// expires one second after it was set to disappear.
const ExpiryWait = 10 * time.Second

// ExpiryTolerance is how much earlier than its expiry time the Expiry
// subtest accepts an entry to disappear.
const ExpiryTolerance = 100 * time.Millisecond

// BenchValueSize is the size in bytes of the value that Bench reads and
// writes.
const BenchValueSize = 2 << 10

// Run runs the conformance suite against the backend that open returns. Each
// subtest uses a store of its own and runs in parallel with the others.
func Run(t *testing.T, open Opener) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"MissingKey", testMissingKey},
		{"Delete", testDelete},
		{"Clear", testClear},
		{"Keys", testKeys},
		{"Len", testLen},
		{"Expiry", testExpiry},
		{"OddKeys", testOddKeys},
		{"TwoInstances", testTwoInstances},
		{"Prefixes", testPrefixes},
		{"Locker", testLocker},
		{"Adopter", testAdopter},
		{"Memoizer", testMemoizer},
		{"CancelledContext", testCancelledContext},
		{"UseAfterClose", testUseAfterClose},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// openStore opens the store called name and closes it when the test ends.
func openStore(t *testing.T, open Opener, name string) backend.Storage {
	t.Helper()
	s := open(t, name)
	if s == nil {
		t.Fatalf("Opener(%q) returned nil", name)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close(%q): %v", name, err)
		}
	})
	return s
}

func mustSet(t *testing.T, s backend.Storage, key string, value []byte, exp time.Time) {
	t.Helper()
	if err := s.Set(t.Context(), key, value, exp); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, s backend.Storage, key string) []byte {
	t.Helper()
	v, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

func wantValue(t *testing.T, s backend.Storage, key string, want []byte) {
	t.Helper()
	got := mustGet(t, s, key)
	if !bytes.Equal(got, want) {
		t.Errorf("Get(%q) = %s, want %s", key, short(got), short(want))
	}
}

func wantMissing(t *testing.T, s backend.Storage, key string) {
	t.Helper()
	v, err := s.Get(t.Context(), key)
	if !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get(%q) = %s, %v; want an error wrapping backend.ErrNotFound", key, short(v), err)
	}
}

func wantLen(t *testing.T, s backend.Storage, want int) {
	t.Helper()
	wantLenOf(t, s, "", want)
}

func wantLenOf(t *testing.T, s backend.Storage, prefix string, want int) {
	t.Helper()
	n, err := s.Len(t.Context(), prefix)
	if err != nil {
		t.Fatalf("Len(%q): %v", prefix, err)
	}
	if n != want {
		t.Errorf("Len(%q) = %d, want %d", prefix, n, want)
	}
}

// keysOf collects the distinct keys that Keys(prefix) yields, failing the
// test on an error. The contract allows a key to be yielded twice.
func keysOf(t *testing.T, s backend.Storage, prefix string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for k, err := range s.Keys(t.Context(), prefix) {
		if err != nil {
			t.Fatalf("Keys(%q): %v", prefix, err)
		}
		seen[k] = true
	}
	return seen
}

// wantKeys checks that Keys("") yields exactly want.
func wantKeys(t *testing.T, s backend.Storage, want ...string) {
	t.Helper()
	wantKeysOf(t, s, "", want...)
}

// wantKeysOf checks that Keys(prefix) yields exactly want, and, when s is a
// backend.Scanner, that Scan(prefix) yields the same keys with the values
// Get returns.
func wantKeysOf(t *testing.T, s backend.Storage, prefix string, want ...string) {
	t.Helper()
	check := func(what string, got map[string]bool) {
		t.Helper()
		for _, k := range want {
			if !got[k] {
				t.Errorf("%s(%q) did not yield %s", what, prefix, short([]byte(k)))
			}
		}
		for k := range got {
			if !slices.Contains(want, k) {
				t.Errorf("%s(%q) yielded unexpected %s", what, prefix, short([]byte(k)))
			}
		}
	}
	check("Keys", keysOf(t, s, prefix))
	sc, ok := s.(backend.Scanner)
	if !ok {
		return
	}
	got := map[string]bool{}
	for r, err := range sc.Scan(t.Context(), prefix) {
		if err != nil {
			t.Fatalf("Scan(%q): %v", prefix, err)
		}
		got[r.Key] = true
		v, err := s.Get(t.Context(), r.Key)
		if err != nil {
			t.Errorf("Get(%s) of a scanned key: %v", short([]byte(r.Key)), err)
		} else if !bytes.Equal(v, r.Value) {
			t.Errorf("Scan yielded %s for %s, Get %s", short(r.Value), short([]byte(r.Key)), short(v))
		}
	}
	check("Scan", got)
}

// short formats b for a failure message without flooding it.
func short(b []byte) string {
	if len(b) <= 64 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q... (%d bytes)", b[:64], len(b))
}

func randomBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0] = byte(seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

func testRoundTrip(t *testing.T, open Opener) {
	s := openStore(t, open, "roundtrip")
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	cases := []struct {
		name  string
		value []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"text", []byte("hello, cache")},
		{"nul-and-ff", []byte{0, 0xff, 0, 'a', 0xff, 0xfe, '\n', '\r', 0}},
		{"all-bytes", all},
		{"one-mebibyte", randomBytes(1, 1<<20)},
	}
	for _, c := range cases {
		// Set must not keep the caller's slice: scribble over the original
		// after Set and expect the stored bytes unchanged.
		in := bytes.Clone(c.value)
		mustSet(t, s, c.name, in, time.Time{})
		for i := range in {
			in[i] ^= 0x5a
		}
		got := mustGet(t, s, c.name)
		if !bytes.Equal(got, c.value) {
			t.Errorf("%s: Get = %s, want %s", c.name, short(got), short(c.value))
		}
		if len(got) != len(c.value) {
			t.Errorf("%s: Get returned %d bytes, want %d", c.name, len(got), len(c.value))
		}
	}
	wantLen(t, s, len(cases))
}

func testOverwrite(t *testing.T, open Opener) {
	s := openStore(t, open, "overwrite")
	ctx := t.Context()
	mustSet(t, s, "k", []byte("first value, the longer one"), time.Time{})
	mustSet(t, s, "k", []byte("second"), time.Time{})
	wantValue(t, s, "k", []byte("second"))
	mustSet(t, s, "k", randomBytes(2, 4096), time.Time{})
	wantValue(t, s, "k", randomBytes(2, 4096))
	mustSet(t, s, "k", []byte{}, time.Time{})
	wantValue(t, s, "k", []byte{})
	wantLen(t, s, 1)

	// An overwrite replaces the expiry too: an entry that would expire soon
	// becomes permanent, and a permanent one gets an expiry.
	mustSet(t, s, "exp", []byte("soon"), time.Now().Add(time.Hour))
	mustSet(t, s, "exp", []byte("never"), time.Time{})
	wantValue(t, s, "exp", []byte("never"))
	if err := s.Set(ctx, "exp", []byte("gone"), time.Now().Add(-time.Minute)); err != nil {
		t.Fatalf("Set with a past expiry: %v", err)
	}
	wantMissing(t, s, "exp")
	wantLen(t, s, 1)
}

func testMissingKey(t *testing.T, open Opener) {
	s := openStore(t, open, "missingkey")
	wantMissing(t, s, "never-set")
	mustSet(t, s, "present", []byte("v"), time.Time{})
	wantMissing(t, s, "never-set")
	wantMissing(t, s, "presen")
	wantMissing(t, s, "present ")
	wantMissing(t, s, "PRESENT")
	if err := s.Delete(t.Context(), "present"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMissing(t, s, "present")
}

func testDelete(t *testing.T, open Opener) {
	s := openStore(t, open, "delete")
	ctx := t.Context()
	for i := range 6 {
		mustSet(t, s, fmt.Sprintf("k%d", i), []byte{byte(i)}, time.Time{})
	}
	if err := s.Delete(ctx, "k0", "k1", "k2"); err != nil {
		t.Fatalf("Delete(k0, k1, k2): %v", err)
	}
	for _, k := range []string{"k0", "k1", "k2"} {
		wantMissing(t, s, k)
	}
	if err := s.Delete(ctx, "absent", "k3", "also-absent"); err != nil {
		t.Fatalf("Delete with absent keys: %v", err)
	}
	wantMissing(t, s, "k3")
	if err := s.Delete(ctx); err != nil {
		t.Fatalf("Delete(): %v", err)
	}
	if err := s.Delete(ctx, "k4", "k4"); err != nil {
		t.Fatalf("Delete(k4, k4): %v", err)
	}
	wantMissing(t, s, "k4")
	wantValue(t, s, "k5", []byte{5})
	wantLen(t, s, 1)
	wantKeys(t, s, "k5")
}

func testClear(t *testing.T, open Opener) {
	s := openStore(t, open, "clear")
	ctx := t.Context()
	if err := s.Clear(ctx, ""); err != nil {
		t.Fatalf("Clear of an empty store: %v", err)
	}
	for i := range 20 {
		mustSet(t, s, fmt.Sprintf("k%d", i), []byte("v"), time.Time{})
	}
	mustSet(t, s, "expiring", []byte("v"), time.Now().Add(time.Hour))
	if err := s.Clear(ctx, ""); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	wantLen(t, s, 0)
	wantKeys(t, s)
	wantMissing(t, s, "k0")
	wantMissing(t, s, "expiring")
	mustSet(t, s, "after", []byte("v"), time.Time{})
	wantValue(t, s, "after", []byte("v"))
	wantLen(t, s, 1)
}

func testKeys(t *testing.T, open Opener) {
	s := openStore(t, open, "keys")
	ctx := t.Context()
	wantKeys(t, s)

	// Enough keys to cross the page size of any paginating backend.
	const n = 600
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("key-%04d", i)
		exp := time.Time{}
		if i%3 == 0 {
			exp = time.Now().Add(time.Hour)
		}
		mustSet(t, s, want[i], []byte("v"), exp)
	}
	mustSet(t, s, "expired", []byte("v"), time.Now().Add(-time.Second))
	wantKeys(t, s, want...)

	// Early break: the iterator must stop calling yield (range-over-func
	// panics if it does not; report that as a failure, not a crash).
	got := 0
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("Keys went on after the loop broke: %v", r)
			}
		}()
		for _, err := range s.Keys(ctx, "") {
			if err != nil {
				t.Fatalf("Keys: %v", err)
			}
			got++
			if got == 3 {
				break
			}
		}
	}()
	if got != 3 {
		t.Errorf("iteration broken after 3 keys counted %d", got)
	}

	// Deleting each key as it is yielded: every key still comes at least
	// once.
	seen := map[string]bool{}
	for k, err := range s.Keys(ctx, "") {
		if err != nil {
			t.Fatalf("Keys while deleting: %v", err)
		}
		seen[k] = true
		if err := s.Delete(ctx, k); err != nil {
			t.Fatalf("Delete(%q) during Keys: %v", k, err)
		}
	}
	if len(seen) != n {
		t.Errorf("Keys while deleting yielded %d keys, want %d", len(seen), n)
	}
	wantLen(t, s, 0)
	wantKeys(t, s)
}

func testLen(t *testing.T, open Opener) {
	s := openStore(t, open, "len")
	ctx := t.Context()
	wantLen(t, s, 0)
	mustSet(t, s, "a", []byte("1"), time.Time{})
	mustSet(t, s, "b", []byte("2"), time.Now().Add(time.Hour))
	mustSet(t, s, "c", []byte("3"), time.Time{})
	wantLen(t, s, 3)
	mustSet(t, s, "a", []byte("overwritten"), time.Time{})
	wantLen(t, s, 3)
	if err := s.Delete(ctx, "c"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantLen(t, s, 2)
	mustSet(t, s, "d", []byte("already expired"), time.Now().Add(-time.Hour))
	wantLen(t, s, 2)
}

func testExpiry(t *testing.T, open Opener) {
	s := openStore(t, open, "expiry")
	ctx := t.Context()

	// A past expiry stores nothing and removes an older value.
	mustSet(t, s, "past", []byte("v"), time.Now().Add(-time.Hour))
	wantMissing(t, s, "past")
	mustSet(t, s, "replaced", []byte("v"), time.Time{})
	mustSet(t, s, "replaced", []byte("v2"), time.Now().Add(-time.Nanosecond))
	wantMissing(t, s, "replaced")

	// The zero time never expires; a far expiry is far.
	mustSet(t, s, "forever", []byte("v"), time.Time{})
	mustSet(t, s, "later", []byte("v"), time.Now().Add(24*time.Hour))
	mustSet(t, s, "far-future", []byte("v"), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))

	// A real short expiry: present at once, gone once it has passed. This is
	// the one place where wall-clock time is the thing under test.
	exp := time.Now().Add(time.Second)
	mustSet(t, s, "short", []byte("brief"), exp)
	wantValue(t, s, "short", []byte("brief"))
	wantLen(t, s, 4)
	deadline := time.Now().Add(ExpiryWait)
	for {
		_, err := s.Get(ctx, "short")
		if errors.Is(err, backend.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatalf("Get(short) while waiting for expiry: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Get(short) still hits %v after its expiry", time.Since(exp))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Servers that keep expiry at millisecond precision may drop an entry a
	// little early; anything more than ExpiryTolerance early is a bug.
	if time.Now().Before(exp.Add(-ExpiryTolerance)) {
		t.Errorf("entry disappeared %v before its expiry", time.Until(exp))
	}
	// Expired but possibly not yet removed: Len and Keys must not count it.
	wantLen(t, s, 3)
	wantKeys(t, s, "forever", "later", "far-future")
	n, err := s.DeleteExpired(ctx)
	if err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	if n < 0 || n > 1 {
		t.Errorf("DeleteExpired = %d, want 0 or 1 (only one entry expired)", n)
	}
	wantLen(t, s, 3)
	wantKeys(t, s, "forever", "later", "far-future")
	wantValue(t, s, "forever", []byte("v"))
	wantValue(t, s, "later", []byte("v"))
	wantValue(t, s, "far-future", []byte("v"))
	if n, err := s.DeleteExpired(ctx); err != nil || n != 0 {
		t.Errorf("second DeleteExpired = %d, %v; want 0, nil", n, err)
	}
}

// oddKeys are keys that trip up escaping, globbing, quoting and path handling.
func oddKeys() []string {
	return []string{
		"ünïcödé-キー-🔑",
		"with space",
		" leading and trailing ",
		"a/b/c",
		"/leading/slash",
		"../../etc/passwd",
		`back\slash`,
		"100%",
		"%41%00%zz",
		`"double quoted"`,
		"'single quoted'",
		"' OR 1=1 --",
		"'; DROP TABLE responses; --",
		"line\nbreak",
		"tab\tand\rreturn",
		"glob*?[a-z]{x}",
		"colon:separated:key",
		"GET https://example.com/path?q=1&r=2#frag",
		strings.Repeat("k", 1000),
		strings.Repeat("k", 999) + "K",
	}
}

func testOddKeys(t *testing.T, open Opener) {
	s := openStore(t, open, "oddkeys")
	keys := oddKeys()
	for i, k := range keys {
		mustSet(t, s, k, []byte(fmt.Sprintf("value-%d", i)), time.Time{})
	}
	for i, k := range keys {
		wantValue(t, s, k, []byte(fmt.Sprintf("value-%d", i)))
	}
	wantLen(t, s, len(keys))
	wantKeys(t, s, keys...)
	for i, k := range keys {
		if err := s.Delete(t.Context(), k); err != nil {
			t.Fatalf("Delete(%q): %v", k, err)
		}
		wantMissing(t, s, k)
		// The others are untouched.
		if i+1 < len(keys) {
			wantValue(t, s, keys[i+1], []byte(fmt.Sprintf("value-%d", i+1)))
		}
	}
	wantLen(t, s, 0)
}

func testTwoInstances(t *testing.T, open Opener) {
	a := openStore(t, open, "twoinstances")
	b := openStore(t, open, "twoinstances")
	ctx := t.Context()
	mustSet(t, a, "k", []byte("from a"), time.Time{})
	wantValue(t, b, "k", []byte("from a"))
	mustSet(t, b, "k", []byte("from b"), time.Time{})
	wantValue(t, a, "k", []byte("from b"))
	mustSet(t, b, "only-b", []byte("v"), time.Now().Add(time.Hour))
	wantLen(t, a, 2)
	wantKeys(t, a, "k", "only-b")
	if err := b.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete through b: %v", err)
	}
	wantMissing(t, a, "k")
	if err := a.Clear(ctx, ""); err != nil {
		t.Fatalf("Clear through a: %v", err)
	}
	wantMissing(t, b, "only-b")
	wantLen(t, b, 0)
}

// prefixes are key prefixes that trip up pattern matching (Redis MATCH
// globs, SQL LIKE wildcards, regular expressions), byte ordering (a prefix
// ending in the largest code point) and escaping.
func prefixes() []string {
	return []string{"x:", "glob*?[a]\\:", "100%_:", "re.+(^$|):", "\U0010FFFF", "ü:", "x"}
}

func testPrefixes(t *testing.T, open Opener) {
	s := openStore(t, open, "prefixes")
	ctx := t.Context()
	all := []string{"plain", "xylophone", "x", "y:k"}
	for _, p := range prefixes() {
		all = append(all, p+"k", p+"k2")
	}
	for _, k := range all {
		mustSet(t, s, k, []byte("v:"+k), time.Time{})
	}
	mustSet(t, s, "x:expired", []byte("v"), time.Now().Add(-time.Hour))
	within := func(p string) []string {
		var out []string
		for _, k := range all {
			if strings.HasPrefix(k, p) {
				out = append(out, k)
			}
		}
		return out
	}
	for _, p := range prefixes() {
		wantKeysOf(t, s, p, within(p)...)
		wantLenOf(t, s, p, len(within(p)))
	}
	wantKeysOf(t, s, "nothing-here")
	wantLenOf(t, s, "nothing-here", 0)
	wantLen(t, s, len(all))

	// Clear of one prefix leaves every other key alone.
	for _, p := range prefixes() {
		if err := s.Clear(ctx, p); err != nil {
			t.Fatalf("Clear(%q): %v", p, err)
		}
		all = slices.DeleteFunc(all, func(k string) bool { return strings.HasPrefix(k, p) })
		wantKeysOf(t, s, p)
		wantKeys(t, s, all...)
	}
	if want := []string{"plain", "y:k"}; !slices.Equal(all, want) {
		t.Fatalf("test bug: %q left, want %q", all, want)
	}
	wantValue(t, s, "y:k", []byte("v:y:k"))
}

func testLocker(t *testing.T, open Opener) {
	a := openStore(t, open, "locker")
	la, ok := a.(backend.Locker)
	if !ok {
		t.Skip("the backend is no backend.Locker")
	}
	lb := openStore(t, open, "locker").(backend.Locker)
	ctx := t.Context()
	mustSet(t, a, "k", []byte("entry"), time.Time{})

	unlock, ok, err := la.TryLock(ctx, "k", time.Minute)
	if err != nil || !ok || unlock == nil {
		t.Fatalf("TryLock of a free lock = %v, %v; want it taken", ok, err)
	}
	if _, ok, err := lb.TryLock(ctx, "k", time.Minute); err != nil || ok {
		t.Errorf("TryLock of a held lock by a second instance = %v, %v; want not taken", ok, err)
	}
	// Locks live apart from entries.
	wantValue(t, a, "k", []byte("entry"))
	wantKeys(t, a, "k")
	wantLen(t, a, 1)
	if err := unlock(ctx); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	unlockB, ok, err := lb.TryLock(ctx, "k", time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLock after unlock = %v, %v; want it taken", ok, err)
	}
	// A stale unlock must not release another holder's lock.
	if err := unlock(ctx); err != nil {
		t.Errorf("second unlock of a released lock: %v", err)
	}
	if _, ok, _ := la.TryLock(ctx, "k", time.Minute); ok {
		t.Errorf("a stale unlock released the lock another instance holds")
	}
	if err := unlockB(ctx); err != nil {
		t.Fatalf("unlock b: %v", err)
	}

	// A lock expires by itself after its ttl, and its taker's unlock then
	// leaves the next taker's lock alone.
	unlockShort, ok, err := la.TryLock(ctx, "short", 300*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("TryLock(short) = %v, %v", ok, err)
	}
	deadline := time.Now().Add(ExpiryWait)
	var unlockNext func(context.Context) error
	for {
		u, ok, err := lb.TryLock(ctx, "short", time.Minute)
		if err != nil {
			t.Fatalf("TryLock(short) while waiting for expiry: %v", err)
		}
		if ok {
			unlockNext = u
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a lock with a 300ms ttl is still held after %v", ExpiryWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := unlockShort(ctx); err != nil {
		t.Errorf("unlock of an expired lock: %v", err)
	}
	if _, ok, _ := la.TryLock(ctx, "short", time.Minute); ok {
		t.Errorf("the unlock of an expired lock released its next taker's lock")
	}
	if err := unlockNext(ctx); err != nil {
		t.Errorf("unlock: %v", err)
	}
}

func testCancelledContext(t *testing.T, open Opener) {
	s := openStore(t, open, "cancelledcontext")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v, want an error wrapping context.Canceled", op, err)
		}
	}
	keysErr := func() error {
		for _, err := range s.Keys(ctx, "") {
			if err != nil {
				return err
			}
		}
		return nil
	}
	// First on a store that has not been used yet (lazy backends open here).
	_, err := s.Get(ctx, "k")
	check("Get", err)
	_, err = s.Len(ctx, "")
	check("Len", err)
	check("Keys", keysErr())
	_, err = s.DeleteExpired(ctx)
	check("DeleteExpired", err)
	if p, ok := s.(backend.Pinger); ok {
		check("Ping", p.Ping(ctx))
	}

	// Then with data in it; the failed calls must have had no effect.
	mustSet(t, s, "k", []byte("v"), time.Time{})
	check("Set", s.Set(ctx, "new", []byte("v"), time.Time{}))
	check("Set with a past expiry", s.Set(ctx, "k", []byte("v"), time.Now().Add(-time.Hour)))
	check("Delete", s.Delete(ctx, "k"))
	check("Delete()", s.Delete(ctx))
	check("Clear", s.Clear(ctx, ""))
	_, err = s.Get(ctx, "k")
	check("Get of a present key", err)
	check("Keys of a non-empty store", keysErr())
	_, err = s.Len(ctx, "")
	check("Len of a non-empty store", err)
	wantMissing(t, s, "new")
	wantValue(t, s, "k", []byte("v"))
	wantLen(t, s, 1)
}

func testUseAfterClose(t *testing.T, open Opener) {
	for _, used := range []bool{true, false} {
		name := "useafterclose"
		if !used {
			name = "useafterclosefresh"
		}
		s := openStore(t, open, name)
		ctx := t.Context()
		if used {
			mustSet(t, s, "k", []byte("v"), time.Time{})
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		check := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, backend.ErrClosed) {
				t.Errorf("%s after Close (used before: %v) = %v, want an error wrapping backend.ErrClosed", op, used, err)
			}
		}
		_, err := s.Get(ctx, "k")
		check("Get", err)
		check("Set", s.Set(ctx, "k", []byte("v"), time.Time{}))
		check("Delete", s.Delete(ctx, "k"))
		check("Clear", s.Clear(ctx, ""))
		var keysErr error
		for _, err := range s.Keys(ctx, "") {
			if err != nil {
				keysErr = err
				break
			}
			t.Errorf("Keys after Close yielded a key")
		}
		check("Keys", keysErr)
		_, err = s.Len(ctx, "")
		check("Len", err)
		_, err = s.DeleteExpired(ctx)
		check("DeleteExpired", err)
		if p, ok := s.(backend.Pinger); ok {
			check("Ping", p.Ping(ctx))
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
	}
}

func testConcurrent(t *testing.T, open Opener) {
	s := openStore(t, open, "concurrent")
	const (
		workers = 16
		ops     = 150
		shared  = 8
	)
	sharedKey := func(i int) string { return fmt.Sprintf("shared-%d", i%shared) }
	value := func(key string, g, i int) []byte {
		return []byte(fmt.Sprintf("%s|%d|%d|%s", key, g, i, strings.Repeat("x", (g*7+i)%200)))
	}
	ctx := t.Context()
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- func() error {
				for i := range ops {
					key := sharedKey(g + i)
					switch i % 5 {
					case 0, 1:
						if err := s.Set(ctx, key, value(key, g, i), time.Time{}); err != nil {
							return fmt.Errorf("worker %d: Set(%q): %w", g, key, err)
						}
					case 2:
						v, err := s.Get(ctx, key)
						if err != nil && !errors.Is(err, backend.ErrNotFound) {
							return fmt.Errorf("worker %d: Get(%q): %w", g, key, err)
						}
						if err == nil && !bytes.HasPrefix(v, []byte(key+"|")) {
							return fmt.Errorf("worker %d: Get(%q) = %s, a value of another key", g, key, short(v))
						}
					case 3:
						if err := s.Delete(ctx, key, sharedKey(g+i+1)); err != nil {
							return fmt.Errorf("worker %d: Delete(%q): %w", g, key, err)
						}
					case 4:
						n, err := s.Len(ctx, "")
						if err != nil {
							return fmt.Errorf("worker %d: Len: %w", g, err)
						}
						if n < 0 || n > shared+workers {
							return fmt.Errorf("worker %d: Len = %d, outside [0, %d]", g, n, shared+workers)
						}
					}
				}
				own := fmt.Sprintf("own-%d", g)
				if err := s.Set(ctx, own, value(own, g, ops), time.Time{}); err != nil {
					return fmt.Errorf("worker %d: Set(%q): %w", g, own, err)
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}

	// Final state: every worker's own key, plus whichever shared keys
	// survived, and Len and Keys agree with Get.
	want := []string{}
	for g := range workers {
		own := fmt.Sprintf("own-%d", g)
		wantValue(t, s, own, value(own, g, ops))
		want = append(want, own)
	}
	for i := range shared {
		key := sharedKey(i)
		v, err := s.Get(ctx, key)
		switch {
		case errors.Is(err, backend.ErrNotFound):
		case err != nil:
			t.Fatalf("Get(%q): %v", key, err)
		case !bytes.HasPrefix(v, []byte(key+"|")):
			t.Errorf("Get(%q) = %s, a value of another key", key, short(v))
		default:
			want = append(want, key)
		}
	}
	wantLen(t, s, len(want))
	wantKeys(t, s, want...)
}

// Bench runs benchmarks of the hot paths against the backend that open
// returns: Get (a hit), Set (an overwrite) and GetParallel (hits from
// GOMAXPROCS goroutines), each with a value of BenchValueSize bytes.
func Bench(b *testing.B, open BenchOpener) {
	value := randomBytes(3, BenchValueSize)
	const nkeys = 256
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("GET https://example.com/items/%d", i)
	}
	setup := func(b *testing.B) backend.Storage {
		b.Helper()
		s := open(b)
		b.Cleanup(func() { _ = s.Close() })
		for _, k := range keys {
			if err := s.Set(b.Context(), k, value, time.Time{}); err != nil {
				b.Fatalf("Set: %v", err)
			}
		}
		return s
	}
	b.Run("Get", func(b *testing.B) {
		s := setup(b)
		ctx := b.Context()
		b.ReportAllocs()
		b.SetBytes(BenchValueSize)
		i := 0
		for b.Loop() {
			v, err := s.Get(ctx, keys[i%nkeys])
			if err != nil || len(v) != BenchValueSize {
				b.Fatalf("Get = %d bytes, %v", len(v), err)
			}
			i++
		}
	})
	b.Run("Set", func(b *testing.B) {
		s := setup(b)
		ctx := b.Context()
		b.ReportAllocs()
		b.SetBytes(BenchValueSize)
		i := 0
		for b.Loop() {
			if err := s.Set(ctx, keys[i%nkeys], value, time.Time{}); err != nil {
				b.Fatalf("Set: %v", err)
			}
			i++
		}
	})
	b.Run("GetParallel", func(b *testing.B) {
		s := setup(b)
		ctx := b.Context()
		b.ReportAllocs()
		b.SetBytes(BenchValueSize)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				v, err := s.Get(ctx, keys[i%nkeys])
				if err != nil || len(v) != BenchValueSize {
					// Not b.Fatal: this is not the benchmark's goroutine.
					b.Errorf("Get = %d bytes, %v", len(v), err)
					return
				}
				i++
			}
		})
	})
}

// testAdopter checks a backend.Adopter: SetOwned stores the value as Set
// does (replacing, expiring, counted by Len and listed by Keys), and a
// value adopted is returned intact.
func testAdopter(t *testing.T, open Opener) {
	s := openStore(t, open, "adopter")
	a, ok := s.(backend.Adopter)
	if !ok {
		t.Skip("the backend is no backend.Adopter")
	}
	ctx := t.Context()
	mustSet(t, s, "k", []byte("old"), time.Time{})
	v := []byte("adopted value")
	if err := a.SetOwned(ctx, "k", v, time.Time{}); err != nil {
		t.Fatalf("SetOwned: %v", err)
	}
	wantValue(t, s, "k", []byte("adopted value"))
	wantKeys(t, s, "k")
	wantLen(t, s, 1)
	if err := a.SetOwned(ctx, "gone", []byte("x"), time.Now().Add(-time.Second)); err != nil {
		t.Fatalf("SetOwned in the past: %v", err)
	}
	if _, err := s.Get(ctx, "gone"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get after SetOwned with a past expiry = %v, want ErrNotFound", err)
	}
	mustSet(t, s, "k", []byte("set again"), time.Time{})
	wantValue(t, s, "k", []byte("set again"))
}

// testMemoizer checks a backend.Memoizer: a memo attached to a value is
// returned with it, and is dropped when the value is replaced or deleted;
// a memo for a value that is no longer stored is not attached.
func testMemoizer(t *testing.T, open Opener) {
	s := openStore(t, open, "memoizer")
	m, ok := s.(backend.Memoizer)
	if !ok {
		t.Skip("the backend is no backend.Memoizer")
	}
	ctx := t.Context()
	mustSet(t, s, "k", []byte("value"), time.Time{})
	v, memo, err := m.GetMemo(ctx, "k")
	if err != nil || string(v) != "value" || memo != nil {
		t.Fatalf("GetMemo before SetMemo = %q, %v, %v; want the value and no memo", v, memo, err)
	}
	m.SetMemo("k", v, "decoded")
	if v2, memo, err := m.GetMemo(ctx, "k"); err != nil || string(v2) != "value" || memo != "decoded" {
		t.Fatalf("GetMemo after SetMemo = %q, %v, %v; want the value and its memo", v2, memo, err)
	}
	if got := mustGet(t, s, "k"); string(got) != "value" {
		t.Fatalf("Get = %q", got)
	}
	mustSet(t, s, "k", []byte("value"), time.Time{}) // equal bytes, a new value
	if _, memo, _ := m.GetMemo(ctx, "k"); memo != nil {
		t.Errorf("a memo outlived the value it was attached to: %v", memo)
	}
	m.SetMemo("k", v, "stale") // v is no longer what is stored
	if _, memo, _ := m.GetMemo(ctx, "k"); memo != nil {
		t.Errorf("SetMemo attached %v to a value other than the one it was made from", memo)
	}
	m.SetMemo("missing", []byte("x"), "nothing")
	if _, _, err := m.GetMemo(ctx, "missing"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("GetMemo of a missing key = %v, want ErrNotFound", err)
	}
	v, _, _ = m.GetMemo(ctx, "k")
	m.SetMemo("k", v, "again")
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	mustSet(t, s, "k", v, time.Time{})
	if _, memo, _ := m.GetMemo(ctx, "k"); memo != nil {
		t.Errorf("a memo survived Delete: %v", memo)
	}
}
