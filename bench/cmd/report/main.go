// Command report writes bench/RESULTS.md and its chart from the raw output
// of the benchmark suite's interleaved rounds. bench/run.sh runs it:
//
//	go run ./cmd/report -raw raw.txt -out RESULTS.md -chart hit-chart.svg \
//		-rounds 10 -benchtime 300ms [-profiles profiles.md]
//
// Paths in RESULTS.md (raw output, benchstat summary, chart) are given
// relative to RESULTS.md's directory.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/restycache/restycache/bench/internal/report"
)

func main() {
	raw := flag.String("raw", "raw.txt", "the raw go test -bench output of every round")
	out := flag.String("out", "RESULTS.md", "the Markdown report to write")
	chart := flag.String("chart", "hit-chart.svg", "the SVG chart to write")
	stat := flag.String("benchstat", "benchstat.txt", "benchstat's summary, linked from the report")
	profiles := flag.String("profiles", "", "a Markdown file appended as the report's last section")
	rounds := flag.Int("rounds", 0, "how many rounds ran")
	benchtime := flag.String("benchtime", "", "the -test.benchtime of the rounds")
	flag.Parse()
	if err := run(*raw, *out, *chart, *stat, *profiles, *rounds, *benchtime); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(raw, out, chart, stat, profiles string, rounds int, benchtime string) error {
	f, err := os.Open(raw)
	if err != nil {
		return err
	}
	defer f.Close()
	s, err := report.Parse(f)
	if err != nil {
		return err
	}
	dir := filepath.Dir(out)
	for _, d := range []string{dir, filepath.Dir(chart)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	rel := func(p string) string {
		if r, err := filepath.Rel(dir, p); err == nil {
			return filepath.ToSlash(r)
		}
		return p
	}
	var svg bytes.Buffer
	if err := report.Chart(&svg, s); err != nil {
		return err
	}
	if err := os.WriteFile(chart, svg.Bytes(), 0o644); err != nil {
		return err
	}
	info := report.Info{
		Date:      time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Rounds:    rounds,
		Benchtime: benchtime,
		GoVersion: runtime.Version(),
		Raw:       rel(raw),
		Benchstat: rel(stat),
		Chart:     rel(chart),
	}
	if profiles != "" {
		b, err := os.ReadFile(profiles)
		if err != nil {
			return err
		}
		info.Profiles = string(b)
	}
	var md bytes.Buffer
	if err := report.Markdown(&md, s, info); err != nil {
		return err
	}
	return os.WriteFile(out, md.Bytes(), 0o644)
}
