package backendtest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
)

// SharedStore checks two handles on one store (two Backends on one
// directory, database file or server, as two processes would hold them)
// written concurrently: several goroutines per handle write keys of their
// own, overwrite and delete a few keys they share and read those through
// the other handle. Every read of a shared key is a whole value one writer
// wrote, never a torn one; every key of its own survives, readable through
// the other handle. a and b must start empty.
func SharedStore(t *testing.T, a, b backend.Storage) {
	t.Helper()
	ctx := t.Context()
	const (
		perHandle = 4
		writes    = 50
	)
	handles := []backend.Storage{a, b}
	errc := make(chan error, len(handles)*perHandle)
	var wg sync.WaitGroup
	for hi, h := range handles {
		other := handles[1-hi]
		for g := range perHandle {
			wg.Go(func() {
				errc <- func() error {
					for i := range writes {
						own := fmt.Sprintf("h%d-g%d-%d", hi, g, i)
						if err := h.Set(ctx, own, []byte(own), time.Time{}); err != nil {
							return err
						}
						shared := fmt.Sprint("shared-", i%5)
						if err := h.Set(ctx, shared, bytes.Repeat([]byte(own), i+1), time.Time{}); err != nil {
							return err
						}
						v, err := other.Get(ctx, shared)
						if err != nil && !errors.Is(err, backend.ErrNotFound) {
							return err
						}
						if err == nil && !repeatedUnit(v) {
							return fmt.Errorf("Get(%s) = a torn value of %d bytes", shared, len(v))
						}
						if i%10 == 9 {
							if err := h.Delete(ctx, shared, "absent"); err != nil {
								return err
							}
						}
					}
					return nil
				}()
			})
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}
	own := 0
	for k, err := range b.Keys(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(k, "shared-") {
			continue
		}
		own++
		if v, err := a.Get(ctx, k); err != nil || string(v) != k {
			t.Errorf("Get(%q) = %q, %v", k, v, err)
		}
	}
	if want := len(handles) * perHandle * writes; own != want {
		t.Errorf("%d own keys survived, want %d", own, want)
	}
}

// repeatedUnit reports whether v is one "h…" string repeated, as the
// writers of SharedStore's shared keys write them.
func repeatedUnit(v []byte) bool {
	if len(v) == 0 || v[0] != 'h' {
		return false
	}
	i := bytes.IndexByte(v[1:], 'h')
	if i < 0 {
		return true
	}
	unit := v[:i+1]
	return len(v)%len(unit) == 0 && bytes.Equal(v, bytes.Repeat(unit, len(v)/len(unit)))
}
