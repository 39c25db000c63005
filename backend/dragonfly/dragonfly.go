// Package dragonfly is restycache's DragonflyDB backend: the Redis backend
// (package backend/redis, imported as rcredis) with Dragonfly-safe
// defaults. Entries, expiry, prefixes, scans and locks work exactly as
// documented there.
//
//	c := restycache.New(restycache.WithBackend(dragonfly.New("redis://127.0.0.1:6379/0")))
//
// What makes it Dragonfly-safe:
//
//   - Every command the backend sends is one Dragonfly supports: GET, SET
//     with PX or NX PX, UNLINK, SCAN with MATCH and COUNT, PTTL, PING,
//     EVALSHA and EVAL. There is no KEYS, FLUSHDB, MULTI or WATCH.
//   - The one Lua script (the lock's compare-and-delete) declares the only
//     key it touches in KEYS, as Dragonfly requires of every script by
//     default (it refuses "undeclared keys" unless started with
//     --default_lua_flags=allow-undeclared-keys, which is not needed).
//   - The client built from the URL does not send go-redis's
//     CLIENT MAINT_NOTIFICATIONS handshake (a Redis Enterprise feature), so
//     no connection starts with a command the server does not know.
//
// Dragonfly cannot be installed here: its tests run against Valkey 8, a
// second Redis-protocol server (at RESTYCACHE_DRAGONFLY_URL; the project's
// CI machines have no Dragonfly binary in Debian, npm or the Go module
// proxy).
//
// To use a client of your own (TLS, pool sizes, Dragonfly's emulated
// cluster mode), pass it to rcredis.NewFromClient; the backend's commands
// and script are the same.
package dragonfly

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	rcredis "github.com/restycache/restycache/backend/redis"
)

// New returns a Redis backend on the Dragonfly server at rawURL, with the
// defaults in the package documentation; rcredis.New describes the URL and
// Options (Options.ClientOptions, when set, runs after those defaults). It
// connects lazily and never fails; a URL that does not parse makes every
// call return an error wrapping rcredis.ErrInvalidURL.
func New(rawURL string, opts ...rcredis.Options) *rcredis.Backend {
	var o rcredis.Options
	if len(opts) > 0 {
		o = opts[len(opts)-1]
	}
	user := o.ClientOptions
	o.ClientOptions = func(co *goredis.Options) {
		co.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
		if user != nil {
			user(co)
		}
	}
	return rcredis.New(rawURL, o)
}

// Open is New followed by a Ping: it returns an error at once when the URL
// does not parse or the server does not answer within ctx.
func Open(ctx context.Context, rawURL string, opts ...rcredis.Options) (*rcredis.Backend, error) {
	b := New(rawURL, opts...)
	if err := b.Ping(ctx); err != nil {
		_ = b.Close()
		return nil, err
	}
	return b, nil
}
