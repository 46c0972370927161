package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"fortio.org/fortio/periodic"
)

// The load generator is fortio's periodic runner (fortio.org/fortio/periodic),
// used as a library in its max-speed mode: NumThreads workers each run the
// next operation as soon as the previous one returned, for a fixed duration —
// a closed loop with fixed concurrency. fortio is actively maintained (the
// Istio load tester), has no cgo and builds on a fresh machine with `go run`.
// Its own HTTP runner sends one fixed URL and body, while these scenarios need
// a fresh random id per request, so each operation is ours (net/http, below);
// fortio provides the loop, the duration, the threads and the abort on ^C.

// op performs one operation (one HTTP request, one query) and returns the
// number of successful and failed items in it and, on a failure, what went
// wrong.
type op func(ctx context.Context, rnd *rand.Rand) (ok, failed int, detail string)

// worker is one fortio thread: it runs its op and keeps every latency.
type worker struct {
	op          op
	rnd         *rand.Rand
	latencies   []time.Duration
	ok, failed  int64
	firstFailed string
}

// Run implements periodic.Runnable.
func (w *worker) Run(ctx context.Context, _ periodic.ThreadID) (bool, string) {
	start := time.Now()
	ok, failed, detail := w.op(ctx, w.rnd)
	w.latencies = append(w.latencies, time.Since(start))
	w.ok += int64(ok)
	w.failed += int64(failed)
	if failed > 0 && w.firstFailed == "" {
		w.firstFailed = detail
	}
	return failed == 0, ""
}

// runLoad runs newOp's operations in a closed loop with concurrency workers:
// first for warmup (not measured), then for duration, and summarises the
// measured run, with the first failure seen (warm-up included), if any.
// newOp is called once per worker (workers may keep state); measuring, when
// not nil, is called with true right before the measured run and with false
// right after it.
func runLoad(ctx context.Context, concurrency int, warmup, duration time.Duration, newOp func(worker int) op, measuring func(bool)) (Summary, string, error) {
	workers := make([]*worker, concurrency)
	for i := range workers {
		workers[i] = &worker{op: newOp(i), rnd: rand.New(rand.NewPCG(uint64(i)+1, uint64(time.Now().UnixNano())))}
	}
	run := func(d time.Duration) (time.Duration, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		for _, w := range workers {
			w.latencies = make([]time.Duration, 0, 1<<14)
			w.ok, w.failed = 0, 0
		}
		// Our own Aborter: fortio then installs no SIGINT handler of its own
		// (it would reset ours when the run ends); ctx stops the run instead.
		stop := periodic.NewAborter()
		finished := make(chan struct{})
		defer close(finished)
		go func() {
			select {
			case <-ctx.Done():
				stop.Abort(false)
			case <-finished:
			}
		}()
		r := periodic.NewPeriodicRunner(&periodic.RunnerOptions{
			RunType:    "billgate-bench",
			QPS:        -1, // max speed: closed loop
			Duration:   d,
			NumThreads: concurrency,
			Out:        io.Discard,
			Stop:       stop,
		})
		// As fortio's own runners do: the runnables go into the normalised
		// options (NewPeriodicRunner releases those it was given).
		for i, w := range workers {
			r.Options().Runners[i] = w
		}
		res := r.Run()
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return res.ActualDuration, nil
	}
	if warmup > 0 {
		if _, err := run(warmup); err != nil {
			return Summary{}, "", err
		}
	}
	if measuring != nil {
		measuring(true)
	}
	elapsed, err := run(duration)
	if measuring != nil {
		measuring(false)
	}
	if err != nil {
		return Summary{}, "", err
	}
	var all []time.Duration
	var ok, failed int64
	first := ""
	for _, w := range workers {
		all = append(all, w.latencies...)
		ok += w.ok
		failed += w.failed
		if first == "" {
			first = w.firstFailed
		}
	}
	return Summarize(all, ok, failed, elapsed), first, nil
}

// newHTTPClient returns a client with up to conns keep-alive connections to
// one host, no compression, no HTTP/2: the same for every HTTP scenario and
// baseline.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        2 * conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
	}
}

// checkFunc judges a response: its status and body give the numbers of
// successful and failed items.
type checkFunc func(status int, body []byte) (ok, failed int)

// checkREST accepts any 2xx status.
func checkREST(status int, _ []byte) (int, int) {
	if status/100 == 2 {
		return 1, 0
	}
	return 0, 1
}

// failure describes a failed response for the log (the body cut at 200 bytes).
func failure(status int, body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) > 200 {
		body = body[:200]
	}
	return fmt.Sprintf("HTTP %d: %s", status, body)
}

// rpcReply is the part of a JSON-RPC response the harness looks at.
type rpcReply struct {
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// Prefixes of billgate's JSON-RPC responses (its envelope writes jsonrpc, then
// result or error, then id). The checks below recognise them without decoding
// the body, so that the load generator spends on a JSON-RPC answer what it
// spends on a REST one (a status check): on a 2-core machine every microsecond
// the harness spends is taken from the server. Any other shape is decoded.
var (
	rpcResultPrefix = []byte(`{"jsonrpc":"2.0","result":`)
	rpcErrorPrefix  = []byte(`{"jsonrpc":"2.0","error":`)
)

// checkRPC accepts an HTTP 200 whose JSON-RPC response has a result.
func checkRPC(status int, body []byte) (int, int) {
	if status != http.StatusOK {
		return 0, 1
	}
	switch {
	case bytes.HasPrefix(body, rpcResultPrefix):
		return 1, 0
	case bytes.HasPrefix(body, rpcErrorPrefix):
		return 0, 1
	}
	var r rpcReply
	if json.Unmarshal(body, &r) != nil || r.Error != nil || r.Result == nil {
		return 0, 1
	}
	return 1, 0
}

// checkBatch counts the results and errors of a JSON-RPC batch response of n
// elements; missing elements count as failed. When the body holds exactly n
// envelopes of the known shape it counts them; otherwise it decodes.
func checkBatch(n int) checkFunc {
	return func(status int, body []byte) (int, int) {
		if status != http.StatusOK {
			return 0, n
		}
		results, errors := bytes.Count(body, rpcResultPrefix), bytes.Count(body, rpcErrorPrefix)
		if len(body) > 0 && body[0] == '[' && results+errors == n && bytes.Count(body, []byte(`{"jsonrpc":`)) == n {
			return results, errors
		}
		var rs []rpcReply
		if json.Unmarshal(body, &rs) != nil {
			return 0, n
		}
		ok := 0
		for _, r := range rs {
			if r.Error == nil && r.Result != nil {
				ok++
			}
		}
		return ok, n - ok
	}
}

// request describes one HTTP request of a scenario.
type request struct {
	method, url string
	body        []byte
	header      http.Header
	// n is the number of items (batch elements) in it; 0 means 1.
	n int
}

// items returns the number of items in the request.
func (r request) items() int { return max(r.n, 1) }

// httpOp returns an op sending the requests build makes (a fresh one per
// call, so ids can be random) and judging the answers with check.
func httpOp(client *http.Client, build func(rnd *rand.Rand) request, check checkFunc) op {
	var buf bytes.Buffer
	return func(ctx context.Context, rnd *rand.Rand) (int, int, string) {
		rq := build(rnd)
		var body io.Reader
		if rq.body != nil {
			body = bytes.NewReader(rq.body)
		}
		req, err := http.NewRequestWithContext(ctx, rq.method, rq.url, body)
		if err != nil {
			return 0, rq.items(), err.Error()
		}
		for k, v := range rq.header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, rq.items(), err.Error()
		}
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, rq.items(), err.Error()
		}
		ok, failed := check(resp.StatusCode, buf.Bytes())
		if failed > 0 {
			return ok, failed, failure(resp.StatusCode, buf.Bytes())
		}
		return ok, 0, ""
	}
}

// probe sends one request and returns the body; a non-2xx status is an error.
func probe(ctx context.Context, client *http.Client, rq request) ([]byte, error) {
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, rq.url, body)
	if err != nil {
		return nil, err
	}
	for k, v := range rq.header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return b, fmt.Errorf("%s %s: HTTP %d: %s", rq.method, rq.url, resp.StatusCode, bytes.TrimSpace(b))
	}
	return b, nil
}
