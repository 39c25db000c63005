package backendtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
)

// ServerRestart checks a server backend across a restart of its server:
// with the server down (after stop), Get and Set fail within about their
// context's deadline instead of hanging or answering; once start has
// brought it back, the same s serves what it stored before, within 30s,
// and accepts writes. stop and start must stop and start the server s
// talks to, keeping its data.
func ServerRestart(t *testing.T, s backend.Storage, stop, start func()) {
	t.Helper()
	ctx := t.Context()
	if err := s.Set(ctx, "k", []byte("before"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	stop()

	const budget = 500 * time.Millisecond
	for _, op := range []string{"get", "set"} {
		octx, cancel := context.WithTimeout(ctx, budget)
		began := time.Now()
		var err error
		if op == "get" {
			_, err = s.Get(octx, "k")
		} else {
			err = s.Set(octx, "k", []byte("during"), time.Time{})
		}
		cancel()
		if err == nil || errors.Is(err, backend.ErrNotFound) {
			t.Errorf("%s with the server down = %v, want an error", op, err)
		}
		if took := time.Since(began); took > budget+time.Second {
			t.Errorf("%s with the server down took %v, want about its %v deadline", op, took, budget)
		}
	}

	start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		octx, cancel := context.WithTimeout(ctx, time.Second)
		v, err := s.Get(octx, "k")
		cancel()
		if err == nil {
			if string(v) != "before" {
				t.Errorf("Get after the restart = %q, want %q", v, "before")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Get still fails 30s after the restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // polling a server coming back up: nothing to wait on
	}
	if err := s.Set(ctx, "k", []byte("after"), time.Time{}); err != nil {
		t.Fatalf("Set after the restart: %v", err)
	}
}
