package report

import (
	"fmt"
	"math"
)

// peerNames returns the peers a goal's row compares, in column order.
func peerNames() []string { return []string{"gregjones", "sandrolain", "bartventer"} }

// Goal is one target of issue 11: a value computed from a Set for a cache
// (ours or a peer's), and the bound it must keep.
type Goal struct {
	// Label says what is measured, as the table shows it.
	Label string
	// Target says the bound ("≤ 1.2×"); empty means none (shown for
	// information).
	Target string
	// Ours is the restycache case ("restycache.memory"); Peers maps each
	// peer's name to its matching case, if it has one.
	Ours  string
	Peers map[string]string
	// Value computes the value for a case, and whether the Set has what
	// it needs.
	Value func(s *Set, cache string) (float64, bool)
	// Rounds, when not nil, computes the value round by round (the ratio
	// of each round's two samples), to show how far this machine's noise
	// moves it; nil when the rounds cannot be paired.
	Rounds func(s *Set, cache string) []float64
	// Met reports whether a value keeps the target; nil means no target.
	Met func(v float64) bool
	// Format shows a value.
	Format func(v float64) string
}

func times(v float64) string { return fmt.Sprintf("%.2f×", v) }

func atMost(max float64) func(float64) bool {
	return func(v float64) bool { return v <= max }
}

func memoryPeers() map[string]string {
	return map[string]string{"gregjones": "gregjones.memory", "sandrolain": "sandrolain.memory", "bartventer": "bartventer.memory"}
}

// timeGoal is a ratio of medians of ns/op: the case over a floor.
func timeGoal(label, what, via, body, run, floor, ours string, peers map[string]string, max float64) Goal {
	g := Goal{
		Label: label, Ours: ours, Peers: peers, Format: times,
		Value: func(s *Set, cache string) (float64, bool) {
			return s.Ratio(Name(what, via, cache, body, run), Name(what, via, floor, body, run), "ns/op")
		},
		Rounds: func(s *Set, cache string) []float64 {
			return s.RoundRatios(Name(what, via, cache, body, run), Name(what, via, floor, body, run), "ns/op")
		},
	}
	if max > 0 {
		g.Target, g.Met = fmt.Sprintf("≤ %g×", max), atMost(max)
	}
	return g
}

// Goals returns issue 11's targets, in the order RESULTS.md lists them:
// the table first, then the further targets.
func Goals() []Goal {
	var gs []Goal
	hit := func(via, floor, body string, max float64) {
		label := fmt.Sprintf("memory hit via resty, %s / resty floor", body)
		if via == "http" {
			label = fmt.Sprintf("RoundTripper in a plain http.Client, %s / net/http floor", body)
		}
		gs = append(gs, timeGoal(label, "Hit", via, body, "serial", floor, "restycache.memory", memoryPeers(), max))
	}
	hit("resty", "floor.map", "2KiB", 1.2)
	hit("resty", "floor.map", "64KiB", 1.1)
	hit("resty", "floor.map", "1MiB", 0)
	hit("http", "floor.map", "2KiB", 1.5)
	hit("http", "floor.map", "64KiB", 1.2)
	hit("http", "floor.map", "1MiB", 0)
	for _, b := range []struct {
		body string
		max  float64
	}{{"2KiB", 1.25}, {"64KiB", 1.2}, {"1MiB", 0}} {
		gs = append(gs, timeGoal(fmt.Sprintf("parallel hits (GOMAXPROCS goroutines), %s / parallel floor", b.body),
			"Hit", "resty", b.body, "parallel", "floor.map", "restycache.memory", memoryPeers(), b.max))
	}
	for _, b := range []struct {
		body string
		max  float64
	}{{"2KiB", 1.1}, {"64KiB", 1.1}, {"1MiB", 0}} {
		gs = append(gs, timeGoal(fmt.Sprintf("miss (origin + store), %s / resty miss floor (tee into one buffer)", b.body),
			"Miss", "resty", b.body, "serial", "floor.tee", "restycache.memory", memoryPeers(), b.max))
	}
	for _, b := range []struct {
		body string
		n    float64
		goal bool
	}{{"2KiB", 2 << 10, true}, {"64KiB", 64 << 10, true}, {"1MiB", 1 << 20, false}} {
		g := Goal{
			Label: fmt.Sprintf("bytes allocated by a miss beyond a bare resty request, %s", b.body),
			Ours:  "restycache.memory", Peers: memoryPeers(),
			Value: func(s *Set, cache string) (float64, bool) {
				c, ok1 := s.Median(Name("Miss", "resty", cache, b.body, "serial"), "B/op")
				f, ok2 := s.Median(Name("Miss", "resty", "floor.bare", b.body, "serial"), "B/op")
				return (c - f) / b.n, ok1 && ok2
			},
			Format: func(v float64) string { return fmt.Sprintf("%.2f× body", v) },
		}
		if b.goal {
			g.Target, g.Met = "≤ 1.5× body", atMost(1.5)
		}
		gs = append(gs, g)
	}
	// Issue 12: signed and sealed records, on memory, beside plain ones.
	for _, b := range []struct {
		body string
		max  float64
	}{{"2KiB", 1.1}, {"64KiB", 0}, {"1MiB", 0}} {
		gs = append(gs,
			timeGoal("signed memory hit (WithSigningKeys), "+b.body+" / plain memory hit", "Hit", "resty", b.body, "serial",
				"restycache.memory", "restycache.memory-signed", nil, b.max))
		sealedMax := 0.0
		if b.max > 0 {
			sealedMax = 1.2
		}
		gs = append(gs,
			timeGoal("sealed memory hit (WithEncryptionKeys), "+b.body+" / plain memory hit", "Hit", "resty", b.body, "serial",
				"restycache.memory", "restycache.memory-sealed", nil, sealedMax))
	}
	redisPeers := map[string]string{"gregjones": "gregjones.redis", "sandrolain": "sandrolain.redis"}
	for _, body := range []string{"2KiB", "64KiB", "1MiB"} {
		gs = append(gs, timeGoal("Redis hit, "+body+" / resty + raw go-redis GET", "Hit", "resty", body, "serial",
			"floor.redis-get", "restycache.redis", redisPeers, 1.15))
	}
	gs = append(gs, Goal{
		Label: "Redis commands per hit (one round trip), 2KiB", Target: "= 1", Ours: "restycache.redis", Peers: redisPeers,
		Value: func(s *Set, cache string) (float64, bool) {
			return s.Median(Name("Hit", "resty", cache, "2KiB", "serial"), "redis-cmds/op")
		},
		Met:    func(v float64) bool { return math.Abs(v-1) < 0.005 },
		Format: func(v float64) string { return fmt.Sprintf("%.2f", v) },
	})
	for _, body := range []string{"2KiB", "64KiB", "1MiB"} {
		gs = append(gs, timeGoal("SQLite hit, "+body+" / resty + raw point SELECT", "Hit", "resty", body, "serial",
			"floor.sqlite-select", "restycache.sqlite", nil, 1.2))
	}
	for _, body := range []string{"2KiB", "64KiB", "1MiB"} {
		gs = append(gs, Goal{
			Label: "objects a memory hit allocates beyond the resty floor, " + body, Target: "≤ +12",
			Ours: "restycache.memory", Peers: memoryPeers(),
			Value: func(s *Set, cache string) (float64, bool) {
				c, ok1 := s.Median(Name("Hit", "resty", cache, body, "serial"), "allocs/op")
				f, ok2 := s.Median(Name("Hit", "resty", "floor.map", body, "serial"), "allocs/op")
				return c - f, ok1 && ok2
			},
			Met:    atMost(12),
			Format: func(v float64) string { return fmt.Sprintf("%+.0f", v) },
		})
	}
	for _, body := range []string{"2KiB", "64KiB", "1MiB"} {
		gs = append(gs, Goal{
			Label:  "bytes a memory hit allocates beyond the resty floor, " + body + " (no body-sized copy)",
			Target: "≤ +2 KiB", Ours: "restycache.memory", Peers: memoryPeers(),
			Value: func(s *Set, cache string) (float64, bool) {
				c, ok1 := s.Median(Name("Hit", "resty", cache, body, "serial"), "B/op")
				f, ok2 := s.Median(Name("Hit", "resty", "floor.map", body, "serial"), "B/op")
				return c - f, ok1 && ok2
			},
			Met:    atMost(2048),
			Format: bytesDelta,
		})
	}
	burst := func(cache string) string { return Name("ColdBurst", "resty", cache, "2KiB", "burst") }
	for _, ours := range []string{"restycache.memory", "restycache.sqlite", "restycache.redis"} {
		gs = append(gs, Goal{
			Label: "origin requests per burst of 200 cold requests (" + ours + ")", Target: "= 1",
			Ours: ours, Peers: map[string]string{"gregjones": "gregjones.memory"},
			Value: func(s *Set, cache string) (float64, bool) {
				return s.Median(burst(cache), "origin-requests/burst")
			},
			Met:    func(v float64) bool { return v == 1 },
			Format: func(v float64) string { return fmt.Sprintf("%.0f", v) },
		}, Goal{
			Label: "burst time / origin latency (" + ours + ")", Target: "≤ 1.1×",
			Ours: ours, Peers: map[string]string{"gregjones": "gregjones.memory"},
			Value: func(s *Set, cache string) (float64, bool) {
				return s.Median(burst(cache), "latency-ratio")
			},
			Rounds: func(s *Set, cache string) []float64 { return s.Samples(burst(cache), "latency-ratio") },
			Met:    atMost(1.1), Format: times,
		})
	}
	return gs
}

func bytesDelta(v float64) string {
	sign := "+"
	if v < 0 {
		sign, v = "−", -v
	}
	switch {
	case v >= 1<<20:
		return fmt.Sprintf("%s%.2f MiB", sign, v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%s%.1f KiB", sign, v/(1<<10))
	}
	return fmt.Sprintf("%s%.0f B", sign, v)
}
