// Package report turns the raw output of the benchmark suite (go test
// -bench, run several times) into bench/RESULTS.md: median tables, the
// ratios of issue 11 beside their goals, and an SVG chart of hit cost by
// body size.
//
// Benchmark names follow the suite's scheme,
// Benchmark<What>/via=<client>/cache=<impl>/body=<size>/run=<mode>, so a
// ratio is named by its two benchmarks. Every number it reports is a
// median of the samples, and every comparison a ratio of two medians from
// the same run, never an absolute time from another.
package report

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Set holds the samples of one run of the suite: for each benchmark (its
// name without the -GOMAXPROCS suffix) and unit ("ns/op", "B/op",
// "allocs/op", or a custom metric such as "redis-cmds/op"), one value per
// round. The zero Set is empty; Parse fills one.
type Set struct {
	samples map[string]map[string][]float64
	order   []string // benchmark names in their first-seen order
	// Meta holds the run's configuration lines (goos, goarch, pkg,
	// cpu), by key, as go test prints them.
	Meta map[string]string
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// Parse reads go test -bench output (any number of runs, concatenated) and
// returns its samples. Lines that are not benchmark results or
// configuration lines are ignored. It fails on a result line it cannot
// read.
func Parse(r io.Reader) (*Set, error) {
	s := &Set{samples: map[string]map[string][]float64{}, Meta: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if k, v, ok := strings.Cut(text, ": "); ok && !strings.ContainsAny(k, " \t") && !strings.HasPrefix(k, "Benchmark") {
			s.Meta[k] = strings.TrimSpace(v)
			continue
		}
		if !strings.HasPrefix(text, "Benchmark") {
			continue
		}
		f := strings.Fields(text)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a benchmark's name printed before its failure, say
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(f[0], "")
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("report: line %d: %q is not a number", line, f[i])
			}
			s.add(name, f[i+1], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return s, nil
}

func (s *Set) add(name, unit string, v float64) {
	if s.samples == nil {
		s.samples = map[string]map[string][]float64{}
	}
	m := s.samples[name]
	if m == nil {
		m = map[string][]float64{}
		s.samples[name] = m
		s.order = append(s.order, name)
	}
	m[unit] = append(m[unit], v)
}

// Names returns the benchmarks' names in the order they first appeared.
func (s *Set) Names() []string { return slices.Clone(s.order) }

// Samples returns the values of unit for the benchmark name, in the order
// of the rounds.
func (s *Set) Samples(name, unit string) []float64 {
	return slices.Clone(s.samples[name][unit])
}

// Median returns the median of name's values in unit, and whether there
// is any.
func (s *Set) Median(name, unit string) (float64, bool) {
	v := s.Samples(name, unit)
	if len(v) == 0 {
		return 0, false
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// Ratio returns the ratio of the medians of num and den in unit, and
// whether both exist (and den's is not zero).
func (s *Set) Ratio(num, den, unit string) (float64, bool) {
	n, ok1 := s.Median(num, unit)
	d, ok2 := s.Median(den, unit)
	if !ok1 || !ok2 || d == 0 {
		return 0, false
	}
	return n / d, true
}

// RoundRatios returns, round by round, the ratio of num's sample to den's
// in unit: nil unless both have one sample in every round (the same
// number of samples) and none of den's is zero.
func (s *Set) RoundRatios(num, den, unit string) []float64 {
	n, d := s.samples[num][unit], s.samples[den][unit]
	if len(n) == 0 || len(n) != len(d) {
		return nil
	}
	r := make([]float64, len(n))
	for i := range n {
		if d[i] == 0 {
			return nil
		}
		r[i] = n[i] / d[i]
	}
	return r
}

// Quartiles returns the first quartile, the median and the third quartile
// of v (not empty), each the median of its half as in Tukey's hinges.
func Quartiles(v []float64) (q1, median, q3 float64) {
	v = slices.Clone(v)
	sort.Float64s(v)
	mid := func(v []float64) float64 {
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	half := len(v) / 2
	lo, hi := v[:half], v[len(v)-half:]
	if half == 0 {
		lo, hi = v, v
	}
	return mid(lo), mid(v), mid(hi)
}

// Name builds a benchmark name of the suite's scheme. An empty run leaves
// the run= element out.
func Name(what, via, cache, body, run string) string {
	n := "Benchmark" + what + "/via=" + via + "/cache=" + cache + "/body=" + body
	if run != "" {
		n += "/run=" + run
	}
	return n
}

// field returns the value of key in a name of the suite's scheme.
func field(name, key string) string {
	for _, part := range strings.Split(name, "/") {
		if v, ok := strings.CutPrefix(part, key+"="); ok {
			return v
		}
	}
	return ""
}
