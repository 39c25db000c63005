package backend

import (
	"context"
	"iter"
	"strings"
	"time"
)

// NamespaceSeparator separates a namespace from the key inside it:
// Namespace(s, "api") stores key "k" as "api:k" in s.
const NamespaceSeparator = ":"

// clearBatch is how many keys Clear of a namespaced view collects before it
// deletes them with one Delete call.
const clearBatch = 256

// Namespace returns a view of s whose keys all live under the prefix
// ns + NamespaceSeparator. An empty ns returns s itself.
//
// Get, Set and Delete add the prefix. Keys yields only the keys of this
// namespace, with the prefix removed; Len counts them; Clear deletes only
// them (it iterates over the namespace and deletes in batches, so it is not
// atomic and costs a full key scan of s). DeleteExpired is delegated to s
// and so acts on the whole store, not only on this namespace. Close closes
// s itself: close either the view or s, not both expecting s to survive.
//
// Namespaces nest (Namespace(Namespace(s, "a"), "b") stores under "a:b:").
// Because the separator may also occur inside keys, namespace "a" with key
// "b:k" and namespace "a:b" with key "k" name the same entry; choose
// namespaces that are not prefixes of one another.
//
// If s implements Pinger, the returned view implements Pinger too and its
// Ping calls s's; if s does not, neither does the view, so a type assertion
// on the view answers the same way as one on s.
func Namespace(s Storage, ns string) Storage {
	if ns == "" {
		return s
	}
	v := &namespaced{s: s, prefix: ns + NamespaceSeparator}
	if p, ok := s.(Pinger); ok {
		return &pingNamespaced{namespaced: v, p: p}
	}
	return v
}

// namespaced is the view returned by Namespace for a storage without Ping.
type namespaced struct {
	s      Storage
	prefix string
}

// pingNamespaced is the view returned by Namespace for a storage with Ping.
type pingNamespaced struct {
	*namespaced
	p Pinger
}

// Ping delegates to the underlying storage.
func (v *pingNamespaced) Ping(ctx context.Context) error { return v.p.Ping(ctx) }

func (v *namespaced) Get(ctx context.Context, key string) ([]byte, error) {
	return v.s.Get(ctx, v.prefix+key)
}

func (v *namespaced) Set(ctx context.Context, key string, value []byte, expiresAt time.Time) error {
	return v.s.Set(ctx, v.prefix+key, value, expiresAt)
}

func (v *namespaced) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return v.s.Delete(ctx)
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = v.prefix + k
	}
	return v.s.Delete(ctx, full...)
}

func (v *namespaced) Clear(ctx context.Context) error {
	batch := make([]string, 0, clearBatch)
	for k, err := range v.s.Keys(ctx) {
		if err != nil {
			return err
		}
		if !strings.HasPrefix(k, v.prefix) {
			continue
		}
		batch = append(batch, k)
		if len(batch) == clearBatch {
			if err := v.s.Delete(ctx, batch...); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return v.s.Delete(ctx, batch...)
	}
	return nil
}

func (v *namespaced) Keys(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for k, err := range v.s.Keys(ctx) {
			if err != nil {
				yield("", err)
				return
			}
			rest, ok := strings.CutPrefix(k, v.prefix)
			if !ok {
				continue
			}
			if !yield(rest, nil) {
				return
			}
		}
	}
}

func (v *namespaced) Len(ctx context.Context) (int, error) {
	n := 0
	for _, err := range v.Keys(ctx) {
		if err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

func (v *namespaced) DeleteExpired(ctx context.Context) (int, error) {
	return v.s.DeleteExpired(ctx)
}

func (v *namespaced) Close() error { return v.s.Close() }
