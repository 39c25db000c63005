package report_test

import (
	"strings"
	"testing"

	"github.com/restycache/restycache/bench/internal/report"
)

// sample is two rounds of a few benchmarks, as go test prints them.
const sample = `goos: linux
goarch: amd64
pkg: github.com/restycache/restycache/bench
cpu: Test CPU
BenchmarkHit/via=resty/cache=floor.map/body=2KiB/run=serial-2         	  100	     10000 ns/op	    8000 B/op	      34 allocs/op
BenchmarkHit/via=resty/cache=restycache.memory/body=2KiB/run=serial-2 	  100	     11000 ns/op	    9000 B/op	      40 allocs/op
BenchmarkHit/via=resty/cache=restycache.redis/body=2KiB/run=serial-2  	  100	     30000 ns/op	         1.000 redis-cmds/op	   12000 B/op	      50 allocs/op
--- FAIL: BenchmarkHit/via=resty/cache=gregjones.memory/body=2KiB/run=serial
PASS
goos: linux
BenchmarkHit/via=resty/cache=floor.map/body=2KiB/run=serial-2         	  100	     12000 ns/op	    8000 B/op	      34 allocs/op
BenchmarkHit/via=resty/cache=restycache.memory/body=2KiB/run=serial-2 	  100	     15000 ns/op	    9000 B/op	      40 allocs/op
BenchmarkHit/via=resty/cache=restycache.redis/body=2KiB/run=serial-2  	  100	     34000 ns/op	         1.000 redis-cmds/op	   12000 B/op	      50 allocs/op
BenchmarkHit/via=resty/cache=floor.map/body=2KiB/run=serial-2         	  100	     20000 ns/op	    8000 B/op	      34 allocs/op
`

func TestParseAndMedians(t *testing.T) {
	s, err := report.Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	floor := report.Name("Hit", "resty", "floor.map", "2KiB", "serial")
	if got := s.Samples(floor, "ns/op"); len(got) != 3 || got[0] != 10000 || got[2] != 20000 {
		t.Errorf("samples %v", got)
	}
	if m, _ := s.Median(floor, "ns/op"); m != 12000 {
		t.Errorf("odd median %v, want 12000", m)
	}
	ours := report.Name("Hit", "resty", "restycache.memory", "2KiB", "serial")
	if m, _ := s.Median(ours, "ns/op"); m != 13000 {
		t.Errorf("even median %v, want 13000", m)
	}
	if r, ok := s.Ratio(ours, floor, "ns/op"); !ok || r != 13000.0/12000 {
		t.Errorf("ratio %v %v", r, ok)
	}
	if m, ok := s.Median(report.Name("Hit", "resty", "restycache.redis", "2KiB", "serial"), "redis-cmds/op"); !ok || m != 1 {
		t.Errorf("custom metric %v %v", m, ok)
	}
	if _, ok := s.Median(report.Name("Hit", "resty", "gregjones.memory", "2KiB", "serial"), "ns/op"); ok {
		t.Error("a failed benchmark has samples")
	}
	if s.Meta["cpu"] != "Test CPU" || len(s.Names()) != 3 {
		t.Errorf("meta %v, names %v", s.Meta, s.Names())
	}
}

func TestParseRejectsABadNumber(t *testing.T) {
	_, err := report.Parse(strings.NewReader("BenchmarkX-2 10 1x2 ns/op\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "report: ") {
		t.Errorf("err %v", err)
	}
}

func TestMarkdownJudgesTargets(t *testing.T) {
	s, err := report.Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := report.Markdown(&b, s, report.Info{Rounds: 3, Chart: "hit-chart.svg", Profiles: "## Profiles\n\nhere"}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		// 13000/12000 = 1.08 ≤ 1.2: met.
		// floor.map has a sample more than ours: no per-round ratios.
		"| memory hit via resty, 2KiB / resty floor | ≤ 1.2× | 1.08× | — | — | — | — | met |",
		// 40 - 34 = 6 ≤ 12: met; 9000 - 8000 = 1000 B ≤ 2 KiB: met.
		"| objects a memory hit allocates beyond the resty floor, 2KiB | ≤ +12 | +6 |",
		"| bytes a memory hit allocates beyond the resty floor, 2KiB (no body-sized copy) | ≤ +2 KiB | +1000 B |",
		"| Redis commands per hit (one round trip), 2KiB | = 1 | 1.00 |",
		"| restycache.memory | 13.0 µs (1.08×) | 8.8 KiB | 40 |",
		"![", "## Profiles\n\nhere",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("RESULTS.md lacks %q:\n%s", want, md)
		}
	}
	if !strings.Contains(md, "| Redis hit, 2KiB / resty + raw go-redis GET | ≤ 1.15× | — |") {
		t.Error("a ratio without its floor is not shown as missing")
	}
}

func TestPerRoundRatios(t *testing.T) {
	const raw = `BenchmarkHit/via=resty/cache=floor.map/body=2KiB/run=serial-2 100 10000 ns/op
BenchmarkHit/via=resty/cache=restycache.memory/body=2KiB/run=serial-2 100 11000 ns/op
BenchmarkHit/via=resty/cache=floor.map/body=2KiB/run=serial-2 100 12000 ns/op
BenchmarkHit/via=resty/cache=restycache.memory/body=2KiB/run=serial-2 100 15000 ns/op
BenchmarkHit/via=resty/cache=floor.map/body=2KiB/run=serial-2 100 10000 ns/op
BenchmarkHit/via=resty/cache=restycache.memory/body=2KiB/run=serial-2 100 13000 ns/op
`
	s, err := report.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	floor := report.Name("Hit", "resty", "floor.map", "2KiB", "serial")
	ours := report.Name("Hit", "resty", "restycache.memory", "2KiB", "serial")
	r := s.RoundRatios(ours, floor, "ns/op")
	if len(r) != 3 || r[0] != 1.1 || r[1] != 1.25 || r[2] != 1.3 {
		t.Errorf("RoundRatios = %v, want [1.1 1.25 1.3]", r)
	}
	if q1, m, q3 := report.Quartiles(r); q1 != 1.1 || m != 1.25 || q3 != 1.3 {
		t.Errorf("Quartiles = %v %v %v", q1, m, q3)
	}
	if q1, m, q3 := report.Quartiles([]float64{4, 1, 3, 2}); q1 != 1.5 || m != 2.5 || q3 != 3.5 {
		t.Errorf("Quartiles of four = %v %v %v, want 1.5 2.5 3.5", q1, m, q3)
	}
	var b strings.Builder
	if err := report.Markdown(&b, s, report.Info{Rounds: 3}); err != nil {
		t.Fatal(err)
	}
	// The ratio of medians is 13000/10000 = 1.30 (not met); one round of
	// three kept the goal.
	want := "| memory hit via resty, 2KiB / resty floor | ≤ 1.2× | 1.30× | 1.10× · 1.25× · 1.30×; 1 of 3 |"
	if !strings.Contains(b.String(), want) {
		t.Errorf("RESULTS.md lacks %q:\n%s", want, b.String())
	}
}

func TestChart(t *testing.T) {
	s, err := report.Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := report.Chart(&b, s); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	for _, want := range []string{"<svg", "2KiB body", ">restycache.memory<", ">1.08×<", ">1.00×<", "</svg>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	empty, _ := report.Parse(strings.NewReader(""))
	if err := report.Chart(&b, empty); err == nil {
		t.Error("a chart of nothing did not fail")
	}
}
