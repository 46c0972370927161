package main

import (
	"image/color"
	"math"
	"os"
	"path/filepath"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The chart is drawn with gonum.org/v1/plot (the Gonum project's plotting
// library: pure Go, maintained, PNG output without cgo): two Cleveland dot
// plots on log axes, throughput and p99 latency per scenario, one colour per
// database. Dots rather than bars because the values span four orders of
// magnitude (a search at a few hundred per second, a batch at tens of
// thousands of items).

// seriesStyle is the look of one database's dots.
var seriesStyle = map[string]struct {
	color color.Color
	shape draw.GlyphDrawer
}{
	dbSQLite:   {color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, draw.CircleGlyph{}},
	dbPostgres: {color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, draw.BoxGlyph{}},
}

// scenarioOrder returns the distinct scenario labels of results in order.
func scenarioOrder(results []Result) []string {
	var labels []string
	seen := map[string]bool{}
	for _, r := range results {
		if !seen[r.Label] {
			seen[r.Label] = true
			labels = append(labels, r.Label)
		}
	}
	return labels
}

// dotPlot plots value(r) for each result on a log x axis, one row per
// scenario (the first on top), one series per database.
func dotPlot(results []Result, title, xlabel string, value func(Result) float64) (*plot.Plot, error) {
	labels := scenarioOrder(results)
	row := map[string]float64{}
	for i, l := range labels {
		row[l] = float64(len(labels) - 1 - i)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, db := range databases(results) {
		var pts plotter.XYs
		for _, r := range results {
			if v := value(r); r.DB == db && v > 0 {
				pts = append(pts, plotter.XY{X: v, Y: row[r.Label]})
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if len(pts) == 0 {
			continue
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		st := seriesStyle[db]
		s.GlyphStyle.Color, s.GlyphStyle.Shape, s.GlyphStyle.Radius = st.color, st.shape, vg.Points(4)
		p.Add(s)
		p.Legend.Add(db, s)
	}
	if hi >= lo {
		// A margin on both sides, so that no dot sits on the frame.
		p.X.Min, p.X.Max = lo/1.6, hi*1.6
	}
	p.Legend.Top = true
	// NominalY names y = 0, 1, … in order: the bottom row first.
	names := make([]string, len(labels))
	for i, l := range labels {
		names[len(labels)-1-i] = l
	}
	p.NominalY(names...)
	// One empty row on top for the legend.
	p.Y.Min, p.Y.Max = -0.5, float64(len(labels))+0.5
	return p, nil
}

// writeChart draws throughput (items/s) and p99 latency per scenario into a
// PNG at path.
func writeChart(path string, results []Result) error {
	through, err := dotPlot(results, "Throughput (successful items per second, log scale)", "items/s",
		func(r Result) float64 { return r.ItemsPS })
	if err != nil {
		return err
	}
	p99, err := dotPlot(results, "p99 latency per request (log scale)", "ms",
		func(r Result) float64 { return float64(r.P99) / float64(time.Millisecond) })
	if err != nil {
		return err
	}
	const w, h = 10 * vg.Inch, 9 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12), PadY: vg.Points(12)}
	plots := [][]*plot.Plot{{through}, {p99}}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
