package backend_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/backendtest"
	"github.com/restycache/restycache/backend/memory"
)

func TestNamespaceConformance(t *testing.T) {
	var mu sync.Mutex
	stores := map[string]backend.Storage{}
	backendtest.Run(t, func(t *testing.T, name string) backend.Storage {
		mu.Lock()
		defer mu.Unlock()
		if s, ok := stores[name]; ok {
			return s
		}
		under := memory.New()
		// A neighbour namespace in the same store, which the view must
		// neither show nor touch.
		if err := backend.Namespace(under, "other").Set(t.Context(), "k", []byte("x"), time.Time{}); err != nil {
			t.Fatal(err)
		}
		s := backend.Namespace(under, "suite")
		stores[name] = s
		return s
	})
}

func TestNamespaceEmptyIsIdentity(t *testing.T) {
	s := memory.New()
	if got := backend.Namespace(s, ""); got != backend.Storage(s) {
		t.Errorf("Namespace(s, \"\") = %T, want s itself", got)
	}
}

func TestNamespacePrefixing(t *testing.T) {
	ctx := t.Context()
	s := memory.New()
	a := backend.Namespace(s, "a")
	ab := backend.Namespace(s, "ab")
	nested := backend.Namespace(a, "n")
	for _, w := range []struct {
		s   backend.Storage
		key string
	}{{a, "k"}, {ab, "k"}, {nested, "k"}, {s, "plain"}} {
		if err := w.s.Set(ctx, w.key, []byte(w.key), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	raw := keys(t, s)
	want := []string{"a:k", "a:n:k", "ab:k", "plain"}
	if fmt.Sprint(raw) != fmt.Sprint(want) {
		t.Errorf("underlying keys = %v, want %v", raw, want)
	}
	if got := keys(t, a); fmt.Sprint(got) != "[k n:k]" {
		t.Errorf("keys of a = %v, want [k n:k]", got)
	}
	if got := keys(t, ab); fmt.Sprint(got) != "[k]" {
		t.Errorf("keys of ab = %v, want [k]", got)
	}
	if got := keys(t, nested); fmt.Sprint(got) != "[k]" {
		t.Errorf("keys of a:n = %v, want [k]", got)
	}
	if n, err := nested.Len(ctx); err != nil || n != 1 {
		t.Errorf("nested Len = %d, %v; want 1", n, err)
	}
	if err := a.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, s); fmt.Sprint(got) != "[ab:k plain]" {
		t.Errorf("underlying keys after Clear of a = %v, want [ab:k plain]", got)
	}
}

func TestNamespaceClearManyKeys(t *testing.T) {
	ctx := t.Context()
	s := memory.New()
	v := backend.Namespace(s, "v")
	for i := range 1000 {
		if err := v.Set(ctx, fmt.Sprint(i), nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := s.Set(ctx, fmt.Sprint("keep-", i%7), nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Len(ctx); err != nil || n != 7 {
		t.Errorf("underlying Len after Clear of the view = %d, %v; want 7", n, err)
	}
}

func keys(t *testing.T, s backend.Storage) []string {
	t.Helper()
	var out []string
	for k, err := range s.Keys(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	slices.Sort(out) // backends yield in no particular order
	return out
}

// pinging is a memory backend that also implements backend.Pinger.
type pinging struct {
	*memory.Backend
	err   error
	calls int
}

func (p *pinging) Ping(ctx context.Context) error {
	p.calls++
	return p.err
}

func TestNamespacePinger(t *testing.T) {
	if _, ok := backend.Namespace(memory.New(), "x").(backend.Pinger); ok {
		t.Errorf("view of a storage without Ping implements Pinger")
	}
	down := errors.New("down")
	p := &pinging{Backend: memory.New(), err: down}
	view, ok := backend.Namespace(p, "x").(backend.Pinger)
	if !ok {
		t.Fatalf("view of a storage with Ping does not implement Pinger")
	}
	if err := view.Ping(t.Context()); !errors.Is(err, down) || p.calls != 1 {
		t.Errorf("view Ping = %v after %d calls; want the underlying error after 1", err, p.calls)
	}
}

func TestNamespaceCloseClosesUnderlying(t *testing.T) {
	s := memory.New()
	if err := backend.Namespace(s, "x").Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Len(t.Context()); !errors.Is(err, backend.ErrClosed) {
		t.Errorf("underlying Len after closing the view = %v, want ErrClosed", err)
	}
}

func ExampleNamespace() {
	ctx := context.Background()
	store := memory.New()
	users := backend.Namespace(store, "users")
	orders := backend.Namespace(store, "orders")

	_ = users.Set(ctx, "42", []byte("alice"), time.Time{})
	_ = orders.Set(ctx, "42", []byte("book"), time.Time{})
	_ = orders.Clear(ctx) // leaves users alone

	u, _ := users.Get(ctx, "42")
	_, err := orders.Get(ctx, "42")
	n, _ := store.Len(ctx)
	fmt.Println(string(u), errors.Is(err, backend.ErrNotFound), n)
	// Output: alice true 1
}
