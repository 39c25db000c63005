package bench_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restycache/restycache/bench"
)

// A benchmark's name is Benchmark<What>/via=<client>/cache=<impl>/body=<size>/run=<serial|parallel>:
// bench/cmd/report reads the ratios of issue 11 from these names.

// check judges one answer of a case.
type check func(body []byte, code int) error

func wantBody(s bench.Size, code int) check {
	return func(body []byte, got int) error {
		if got != code || len(body) != s.N && code == 200 {
			return fmt.Errorf("got %d with %d bytes, want %d with %d", got, len(body), code, s.N)
		}
		return nil
	}
}

// measure runs a case serially (b.Loop) and with b.RunParallel. next
// returns each request's URL; verify, called after each run with its
// request count, fails the benchmark when the case did not do what it
// claims (a hit that reached the origin, a miss that stored nothing).
func measure(b *testing.B, e *env, im impl, g getter, next func() string, ok check, verify func(b *testing.B, n int64)) {
	redisCmds := func(b *testing.B, run func() int64) {
		var before int64
		if im.redis {
			before = redisCommands(b, e.redis(b))
		}
		n := run()
		if im.redis {
			b.StopTimer()
			// Less the INFO that read the first count.
			b.ReportMetric(float64(redisCommands(b, e.redis(b))-before-1)/float64(n), "redis-cmds/op")
		}
		verify(b, n)
	}
	b.Run("run=serial", func(b *testing.B) {
		redisCmds(b, func() int64 {
			b.ReportAllocs()
			var n int64
			for b.Loop() {
				body, code, err := g.get(next())
				if err != nil {
					b.Fatal(err)
				}
				if err := ok(body, code); err != nil {
					b.Fatal(err)
				}
				n++
			}
			return n
		})
	})
	b.Run("run=parallel", func(b *testing.B) {
		redisCmds(b, func() int64 {
			b.ReportAllocs()
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					body, code, err := g.get(next())
					if err == nil {
						err = ok(body, code)
					}
					if err != nil {
						b.Error(err) // not Fatal: this is not the benchmark's goroutine
						return
					}
					n.Add(1)
				}
			})
			return n.Load()
		})
	})
}

// hitCases are the hit benchmarks' cases, by client. Each floor comes
// right before the caches measured against it (see BenchmarkHit).
func hitCases() map[string][]impl {
	return map[string][]impl{
		"resty": {
			floorMap, oursMemory, oursSigned, oursSealed, gregjonesMemory, sandrolainMemory, bartventerMemory,
			floorRedisGet, oursRedis, gregjonesRedis, sandrolainRedis,
			floorSQLiteSelect, oursSQLite, oursFilesystem,
		},
		"http": {httpFloorMap, httpOursMemory, httpGregjonesMemory, httpSandrolainMemory, httpBartventerMemory},
	}
}

// BenchmarkHit measures a fresh hit (the origin said max-age=3600) through
// resty and through a plain http.Client, for each cache and floor and body
// size. Every cache is primed with one request; a hit that reaches the
// origin fails the benchmark. The cases run body size by body size, each
// floor just before the caches compared with it, so that the two medians
// of a ratio come from moments seconds apart on a machine whose speed
// drifts.
func BenchmarkHit(b *testing.B) {
	e := newEnv(b, 0)
	cases := hitCases()
	for _, via := range []string{"resty", "http"} {
		for _, s := range bench.Sizes() {
			for _, im := range cases[via] {
				b.Run(fmt.Sprintf("via=%s/cache=%s/body=%s", via, im.name, s.Name), func(b *testing.B) {
					g := im.client(b, e, bench.KindHit, s)
					url := e.origin.URL + path(bench.KindHit, s, via+"-"+im.name)
					ok := wantBody(s, 200)
					if body, code, err := g.get(url); err != nil || ok(body, code) != nil {
						b.Fatalf("priming: %v %v", err, ok(body, code))
					}
					primed := e.origin.Count(path(bench.KindHit, s, via+"-"+im.name))
					measure(b, e, im, g, func() string { return url }, ok, func(b *testing.B, _ int64) {
						if got := e.origin.Count(path(bench.KindHit, s, via+"-"+im.name)); got != primed {
							b.Fatalf("hits reached the origin: %+v after priming, %+v after the loop", primed, got)
						}
					})
					if im.redis {
						deletePeerKeys(b, e)
					}
				})
			}
		}
	}
}

// BenchmarkMiss measures a miss that stores the response: each request
// asks a URL never asked before, through resty. The floors are resty
// straight to the origin (bare) and resty through a TeeTransport that
// copies the body into one buffer (tee). Every request must reach the
// origin exactly once, and a cache must then answer the last URL itself.
func BenchmarkMiss(b *testing.B) {
	e := newEnv(b, 0)
	for _, s := range bench.Sizes() { // body size by body size, as BenchmarkHit
		for _, im := range []impl{floorBare, floorTee, oursMemory, gregjonesMemory, sandrolainMemory, bartventerMemory, oursSQLite, oursFilesystem, oursRedis} {
			b.Run(fmt.Sprintf("via=resty/cache=%s/body=%s", im.name, s.Name), func(b *testing.B) {
				g := im.client(b, e, bench.KindMiss, s)
				var seq atomic.Int64
				var last atomic.Value
				base := e.origin.URL + path(bench.KindMiss, s, im.name) + "/"
				next := func() string {
					u := base + fmt.Sprint(seq.Add(1))
					last.Store(u)
					return u
				}
				before := e.origin.Total()
				measure(b, e, im, g, next, wantBody(s, 200), func(b *testing.B, n int64) {
					if got := e.origin.Total() - before; got != n {
						b.Fatalf("%d misses made %d origin requests", n, got)
					}
					before = e.origin.Total()
					if strings.HasPrefix(im.name, "floor.") {
						return
					}
					u := last.Load().(string)
					if _, _, err := g.get(u); err != nil {
						b.Fatal(err)
					}
					if c := e.origin.Count(strings.TrimPrefix(u, e.origin.URL)); c.OK != 1 {
						b.Fatalf("the last miss was not stored: the origin answered %s %d times", u, c.OK)
					}
					before = e.origin.Total()
				})
				if im.redis {
					deletePeerKeys(b, e)
				}
			})
		}
	}
}

// BenchmarkRevalidate measures serving a stored response that must be
// revalidated on every use (no-cache and an ETag): a conditional request
// answered 304 Not Modified, then the stored body. The floor is resty
// sending the same conditional request and getting the bare 304. Every
// request must be answered 304 by the origin.
func BenchmarkRevalidate(b *testing.B) {
	e := newEnv(b, 0)
	for _, s := range bench.Sizes() { // body size by body size, as BenchmarkHit
		for _, im := range []impl{floorConditional, oursMemory, gregjonesMemory, sandrolainMemory, bartventerMemory} {
			b.Run(fmt.Sprintf("via=resty/cache=%s/body=%s", im.name, s.Name), func(b *testing.B) {
				g := im.client(b, e, bench.KindRevalidate, s)
				p := path(bench.KindRevalidate, s, im.name)
				url := e.origin.URL + p
				ok := wantBody(s, 200)
				if im.name == floorConditional.name {
					ok = wantBody(s, 304)
				}
				if body, code, err := g.get(url); err != nil || ok(body, code) != nil {
					b.Fatalf("priming: %v %v", err, ok(body, code))
				}
				before := e.origin.Count(p)
				measure(b, e, im, g, func() string { return url }, ok, func(b *testing.B, n int64) {
					got := e.origin.Count(p)
					nm := got.NotModified - before.NotModified
					// Serially, each request is one 304. In parallel, a
					// cache that coalesces may share one between
					// concurrent requests, so at least one.
					exact := strings.HasSuffix(b.Name(), "run=serial")
					if got.OK != before.OK || nm > n || nm < 1 || exact && nm != n {
						b.Fatalf("%d revalidations: the origin answered 200 %d and 304 %d times", n, got.OK-before.OK, nm)
					}
					b.ReportMetric(float64(nm)/float64(n), "origin-304s/op")
					before = got
				})
			})
		}
	}
}

// BenchmarkColdBurst sends bursts of 200 concurrent requests for one cold
// URL to an origin that answers after 50ms, and reports the origin
// requests per burst (1 when the burst is coalesced) and the burst's time
// as a multiple of the origin's latency (latency-ratio). A burst is
// concurrent by construction: it has no serial or RunParallel variant.
func BenchmarkColdBurst(b *testing.B) {
	const (
		callers = 200
		latency = 50 * time.Millisecond
	)
	e := newEnv(b, latency)
	s := bench.Sizes()[0]
	for _, im := range []impl{oursMemory, oursSQLite, oursRedis, gregjonesMemory} {
		b.Run(fmt.Sprintf("via=resty/cache=%s/body=%s/run=burst", im.name, s.Name), func(b *testing.B) {
			g := im.client(b, e, bench.KindSlow, s)
			ok := wantBody(s, 200)
			var elapsed time.Duration
			before := e.origin.Total()
			var cmdsBefore int64
			if im.redis {
				cmdsBefore = redisCommands(b, e.redis(b))
			}
			bursts := 0
			base := e.origin.URL + path(bench.KindSlow, s, im.name) + "/" + unique(b, "burst")
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				url := fmt.Sprintf("%s/%d", base, i)
				var wg sync.WaitGroup
				start := time.Now()
				for range callers {
					wg.Go(func() {
						body, code, err := g.get(url)
						if err == nil {
							err = ok(body, code)
						}
						if err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
				elapsed += time.Since(start)
				bursts++
			}
			b.ReportMetric(float64(e.origin.Total()-before)/float64(bursts), "origin-requests/burst")
			b.ReportMetric(float64(elapsed)/float64(bursts)/float64(latency), "latency-ratio")
			if im.redis {
				// Less the INFO that read the first count.
				b.ReportMetric(float64(redisCommands(b, e.redis(b))-cmdsBefore-1)/float64(bursts), "redis-cmds/burst")
				deletePeerKeys(b, e)
			}
		})
	}
}
