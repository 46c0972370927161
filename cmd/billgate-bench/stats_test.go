package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	// 1..100 ms: the p-th percentile of 100 values is the p-th value.
	var lat []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose: Summarize sorts
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	s := Summarize(lat, 100, 0, 2*time.Second)
	if s.P50 != 50*time.Millisecond || s.P99 != 99*time.Millisecond || s.P999 != 100*time.Millisecond {
		t.Errorf("p50/p99/p99.9 = %v/%v/%v, want 50ms/99ms/100ms", s.P50, s.P99, s.P999)
	}
	cases := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{7}, 50, 7},
		{[]time.Duration{7}, 99.9, 7},
		{[]time.Duration{1, 2}, 50, 1},   // rank ceil(1.0) = 1
		{[]time.Duration{1, 2}, 50.1, 2}, // rank ceil(1.002) = 2
		{[]time.Duration{1, 2, 3, 4}, 75, 3},
		{[]time.Duration{1, 2, 3, 4}, 76, 4},
		{[]time.Duration{1, 2, 3, 4}, 0, 1},   // the minimum
		{[]time.Duration{1, 2, 3, 4}, 100, 4}, // the maximum
		{[]time.Duration{1, 2, 3, 4}, 150, 4},
	}
	for _, c := range cases {
		if got := Percentile(c.sorted, c.p); got != c.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.sorted, c.p, got, c.want)
		}
	}
	// p99.9 of 1,000 values is the 999th; of 10,000 the 9,990th.
	thousand := make([]time.Duration, 1000)
	for i := range thousand {
		thousand[i] = time.Duration(i + 1)
	}
	if got := Percentile(thousand, 99.9); got != 999 {
		t.Errorf("p99.9 of 1..1000 = %v, want 999", got)
	}
}

func TestSummarizeRates(t *testing.T) {
	lat := []time.Duration{3, 1, 2, 4}
	s := Summarize(lat, 400, 2, 2*time.Second) // 4 batches of 100, 2 elements failed
	if s.Requests != 4 || s.Items != 400 || s.Errors != 2 {
		t.Errorf("counts = %d/%d/%d", s.Requests, s.Items, s.Errors)
	}
	if s.RPS != 2 || s.ItemsPS != 200 {
		t.Errorf("RPS %v ItemsPS %v, want 2 and 200", s.RPS, s.ItemsPS)
	}
	if z := Summarize(nil, 0, 0, 0); z.RPS != 0 || z.ItemsPS != 0 || z.P99 != 0 {
		t.Errorf("empty run: %+v", z)
	}
}

func TestRatioAndGap(t *testing.T) {
	if r, ok := Ratio(85, 100); !ok || r != 0.85 {
		t.Errorf("Ratio(85, 100) = %v, %v", r, ok)
	}
	for _, base := range []float64{0, -1, math.NaN()} {
		if _, ok := Ratio(1, base); ok {
			t.Errorf("Ratio(1, %v) is usable", base)
		}
	}
	if _, ok := Ratio(math.NaN(), 1); ok {
		t.Error("Ratio(NaN, 1) is usable")
	}
	cases := []struct{ a, b, want float64 }{
		{100, 100, 0}, {90, 100, 0.1}, {100, 90, 0.1}, {0, 50, 1}, {0, 0, 0}, {100, 80, 0.2},
	}
	for _, c := range cases {
		if got := RelativeGap(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("RelativeGap(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	status := "Name:\tbillgate\nVmPeak:\t  900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40000 kB\n"
	got, err := parseVmHWM(strings.NewReader(status))
	if err != nil || got != 51200*1024 {
		t.Errorf("parseVmHWM = %d, %v; want %d", got, err, 51200*1024)
	}
	if _, err := parseVmHWM(strings.NewReader("Name:\tx\n")); err == nil {
		t.Error("no VmHWM line: no error")
	}
	if _, err := parseVmHWM(strings.NewReader("VmHWM:\t12 MB\n")); err == nil {
		t.Error("unexpected unit: no error")
	}
}

func TestMedianResult(t *testing.T) {
	round := func(n int, ips float64) Result {
		return Result{ID: "get.rest", Summary: Summary{Requests: int64(n), ItemsPS: ips, P99: time.Duration(n)}}
	}
	if got := MedianResult([]Result{round(1, 300), round(2, 100), round(3, 200)}); got.Requests != 3 || got.P99 != 3 {
		t.Errorf("median of 3 = round %d, want the 200/s round (3), kept whole", got.Requests)
	}
	if got := MedianResult([]Result{round(1, 300), round(2, 100), round(3, 200), round(4, 400)}); got.Requests != 3 {
		t.Errorf("median of 4 = round %d, want the lower middle (200/s, 3)", got.Requests)
	}
	if got := MedianResult([]Result{round(7, 50)}); got.Requests != 7 {
		t.Errorf("median of 1 = round %d", got.Requests)
	}
	if got := MedianResult(nil); got.Requests != 0 {
		t.Errorf("median of none = %+v", got)
	}
	in := []Result{round(1, 300), round(2, 100)}
	MedianResult(in)
	if in[0].Requests != 1 {
		t.Error("MedianResult reordered its argument")
	}
}
