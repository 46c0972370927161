package main

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Summary is what one measured run of a scenario produced: counts, rates and
// latency percentiles. Latencies are those of whole requests as the load
// generator saw them (a 100-element batch is one request).
type Summary struct {
	// Requests is the number of requests completed in the measured window
	// (successful or not).
	Requests int64
	// Items is the number of successful items: one per successful request, or
	// one per successful element of a batch.
	Items int64
	// Errors counts failed items: a transport error, an HTTP error status, a
	// JSON-RPC error object (each failed element of a batch), a failed query.
	Errors int64
	// Elapsed is the length of the measured window.
	Elapsed time.Duration
	// RPS is Requests per second of Elapsed; ItemsPS is Items per second.
	RPS, ItemsPS float64
	// P50, P99 and P999 are request latency percentiles (nearest rank).
	P50, P99, P999 time.Duration
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted, a slice of
// latencies in ascending order, by the nearest-rank method: the smallest value
// such that at least p% of the values are less than or equal to it. It returns
// 0 for an empty slice; p ≤ 0 gives the minimum and p ≥ 100 the maximum.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// p/100·n rounded up; the tolerance keeps float error (99.9/100·1000 =
	// 999.0000000000001) from moving the rank up by one.
	x := p / 100 * float64(n)
	rank := int(math.Ceil(x - 1e-9*max(1, x)))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// Summarize computes the Summary of a run from the latency of each request
// (reordered in place), the numbers of successful and failed items, and the
// length of the measured window. Rates are 0 when elapsed is not positive.
func Summarize(latencies []time.Duration, items, errors int64, elapsed time.Duration) Summary {
	slices.Sort(latencies)
	s := Summary{
		Requests: int64(len(latencies)),
		Items:    items,
		Errors:   errors,
		Elapsed:  elapsed,
		P50:      Percentile(latencies, 50),
		P99:      Percentile(latencies, 99),
		P999:     Percentile(latencies, 99.9),
	}
	if elapsed > 0 {
		s.RPS = float64(s.Requests) / elapsed.Seconds()
		s.ItemsPS = float64(items) / elapsed.Seconds()
	}
	return s
}

// Ratio returns value/baseline, and false when there is no usable baseline
// (zero, negative or not a number).
func Ratio(value, baseline float64) (float64, bool) {
	if !(baseline > 0) || math.IsNaN(value) {
		return 0, false
	}
	return value / baseline, true
}

// RelativeGap returns |a−b| / max(a, b): 0 for equal values, 0.1 when the
// smaller is 10% below the larger. It returns 1 when exactly one of them is 0
// and 0 when both are.
func RelativeGap(a, b float64) float64 {
	hi := max(a, b)
	if hi <= 0 {
		return 0
	}
	return math.Abs(a-b) / hi
}

// MedianResult returns the result of the round with the median throughput
// (items/s; the lower middle of an even number of rounds). It keeps that
// round whole, latencies and CPU included, rather than mixing rounds.
func MedianResult(rounds []Result) Result {
	if len(rounds) == 0 {
		return Result{}
	}
	sorted := slices.Clone(rounds)
	slices.SortStableFunc(sorted, func(a, b Result) int { return cmp.Compare(a.ItemsPS, b.ItemsPS) })
	return sorted[(len(sorted)-1)/2]
}
