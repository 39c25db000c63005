package report_test

import (
	"fmt"
	"strings"

	"github.com/restycache/restycache/bench/internal/report"
)

func Example() {
	raw := `BenchmarkHit/via=resty/cache=floor.map/body=2KiB/run=serial-2          100  10000 ns/op
BenchmarkHit/via=resty/cache=restycache.memory/body=2KiB/run=serial-2  100  11000 ns/op
BenchmarkHit/via=resty/cache=floor.map/body=2KiB/run=serial-2          100  10400 ns/op
BenchmarkHit/via=resty/cache=restycache.memory/body=2KiB/run=serial-2  100  12000 ns/op
BenchmarkHit/via=resty/cache=floor.map/body=2KiB/run=serial-2          100  30000 ns/op
BenchmarkHit/via=resty/cache=restycache.memory/body=2KiB/run=serial-2  100  12500 ns/op
`
	s, err := report.Parse(strings.NewReader(raw))
	if err != nil {
		fmt.Println(err)
		return
	}
	ours := report.Name("Hit", "resty", "restycache.memory", "2KiB", "serial")
	floor := report.Name("Hit", "resty", "floor.map", "2KiB", "serial")
	r, _ := s.Ratio(ours, floor, "ns/op") // medians: one noisy round does not move them
	fmt.Printf("%.3f\n", r)
	// Output: 1.154
}
