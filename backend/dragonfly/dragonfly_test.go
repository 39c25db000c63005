package dragonfly_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/backendtest"
	"github.com/restycache/restycache/backend/dragonfly"
	rcredis "github.com/restycache/restycache/backend/redis"
	"github.com/restycache/restycache/internal/clienttest"
	"github.com/restycache/restycache/internal/testenv"
)

func runID(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "rctest-dragonfly-" + hex.EncodeToString(b[:]) + "-" + t.Name()
}

// opener returns an Opener for the suites: a store per name under a prefix
// unique to t, cleared when the subtest that opened it ends.
func opener(t *testing.T) func(t *testing.T, name string) backend.Storage {
	url := testenv.Require(t, "RESTYCACHE_DRAGONFLY_URL")
	base := runID(t)
	return func(t *testing.T, name string) backend.Storage {
		p := base + "-" + name
		t.Cleanup(func() {
			b := dragonfly.New(url, rcredis.Options{Prefix: p})
			defer b.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := b.Clear(ctx, ""); err != nil {
				t.Errorf("cleanup Clear(%s): %v", p, err)
			}
		})
		return dragonfly.New(url, rcredis.Options{Prefix: p})
	}
}

func TestConformance(t *testing.T) { backendtest.Run(t, opener(t)) }

// TestClient runs the client's end-to-end suite (on Valkey in CI).
func TestClient(t *testing.T) { clienttest.Run(t, opener(t)) }

func TestDefaults(t *testing.T) {
	url := testenv.Require(t, "RESTYCACHE_DRAGONFLY_URL")
	ctx := t.Context()
	var sawOptions bool
	b, err := dragonfly.Open(ctx, url, rcredis.Options{
		Prefix: runID(t),
		ClientOptions: func(o *goredis.Options) {
			sawOptions = true
			if o.MaintNotificationsConfig == nil || o.MaintNotificationsConfig.Mode != "disabled" {
				t.Errorf("maintenance notifications not disabled: %+v", o.MaintNotificationsConfig)
			}
			if !o.ContextTimeoutEnabled {
				t.Error("ContextTimeoutEnabled is false")
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !sawOptions {
		t.Error("the caller's ClientOptions was not called")
	}
	if err := b.Set(ctx, "k", []byte("v"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := b.Clear(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := dragonfly.Open(ctx, "dragonfly://nowhere"); !errors.Is(err, rcredis.ErrInvalidURL) {
		t.Errorf("Open of a bad URL = %v, want ErrInvalidURL", err)
	}
}
