package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Chart writes an SVG chart of the cost of a serial hit through resty, by
// body size: one panel per size, one bar per cache and floor, each the
// ratio of its median time to the median of resty over a map RoundTripper
// at that size (so the resty floor is 1). restycache is blue, the peers
// orange, the floors grey.
func Chart(w io.Writer, s *Set) error {
	var g *group
	for _, gr := range groups(s) {
		if gr.what == "Hit" && gr.via == "resty" && gr.run == "serial" {
			g = &gr
			break
		}
	}
	if g == nil {
		return fmt.Errorf("report: no serial hit benchmarks through resty to chart")
	}
	type bar struct {
		label string
		v     float64
	}
	panels := make([][]bar, len(g.bodies))
	maxV := 1.0
	for i, body := range g.bodies {
		for _, cache := range g.caches {
			r, ok := s.Ratio(g.name(cache, body), g.name("floor.map", body), "ns/op")
			if !ok {
				continue
			}
			panels[i] = append(panels[i], bar{cache, r})
			maxV = math.Max(maxV, r)
		}
	}
	const (
		width, labelW, rowH, barH = 820, 190, 18, 13
		panelGap, top, right      = 34, 56, 70
	)
	plotW := float64(width - labelW - right)
	scale := plotW / (math.Ceil(maxV*2) / 2) // px per 1×, axis to the next 0.5
	axisMax := math.Ceil(maxV*2) / 2
	height := top
	for _, p := range panels {
		height += panelGap + len(p)*rowH
	}
	height += 30
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p(`<text x="10" y="22" font-size="15" font-weight="bold">Cost of a cache hit through resty, by body size</text>` + "\n")
	p(`<text x="10" y="40" fill="#555">Median time per hit ÷ median of resty over a map RoundTripper (the floor, 1×); shorter is better. Serial, one run.</text>` + "\n")
	y := top
	for i, panel := range panels {
		y += panelGap
		p(`<text x="10" y="%d" font-weight="bold">%s body</text>`+"\n", y-10, html.EscapeString(g.bodies[i]))
		// Grid lines every 0.5×, labelled at whole numbers.
		for t := 0.0; t <= axisMax+1e-9; t += 0.5 {
			x := float64(labelW) + t*scale
			stroke := "#eeeeee"
			if t == 1 {
				stroke = "#888888"
			}
			p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`+"\n", x, y-4, x, y+len(panel)*rowH, stroke)
			if math.Mod(t, 1) == 0 {
				p(`<text x="%.1f" y="%d" fill="#777" text-anchor="middle" font-size="10">%.0f×</text>`+"\n", x, y+len(panel)*rowH+12, t)
			}
		}
		for j, bb := range panel {
			ry := y + j*rowH
			p(`<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-8, ry+barH-2, html.EscapeString(bb.label))
			p(`<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", labelW, ry, bb.v*scale, barH, colour(bb.label))
			p(`<text x="%.1f" y="%d" fill="#333">%.2f×</text>`+"\n", float64(labelW)+bb.v*scale+4, ry+barH-2, bb.v)
		}
		y += len(panel) * rowH
	}
	p("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func colour(cache string) string {
	switch {
	case strings.HasPrefix(cache, "floor."):
		return "#9e9e9e"
	case strings.HasPrefix(cache, "restycache."):
		return "#1f6fb4"
	}
	return "#e8862a"
}
