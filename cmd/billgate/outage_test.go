package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// outcome is one call of a load generator.
type outcome struct {
	op         string // rest-create, rpc-create, rest-get, rpc-get
	start, end time.Time
	err        error // transport error (the client timeout included): no answer
	status     int
	code       string // "ok" or the error's data code
	rpcCode    int64
	body       string
	txID       int64 // the movement acknowledged (creates that succeeded)
	amount     int64
	notes      string
}

func (o outcome) create() bool { return strings.HasSuffix(o.op, "-create") }

// load runs workers that post money movements and read the client over both
// protocols, recording every outcome, until stopped.
type load struct {
	s      *server
	client int64
	http   *http.Client
	mu     sync.Mutex
	out    []outcome
	stop   chan struct{}
	wg     sync.WaitGroup
	seq    atomic.Int64
}

func newLoad(s *server, client int64, workers int) *load {
	l := &load{s: s, client: client, stop: make(chan struct{}),
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}}
	for w := range workers {
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				l.record(l.call([]string{"rest-create", "rpc-create", "rest-get", "rpc-get"}[(w+i)%4]))
			}
		})
	}
	return l
}

// halt stops the workers and returns every outcome.
func (l *load) halt() []outcome {
	close(l.stop)
	l.wg.Wait()
	l.http.CloseIdleConnections()
	return l.snapshot()
}

func (l *load) record(o outcome) {
	l.mu.Lock()
	l.out = append(l.out, o)
	l.mu.Unlock()
}

func (l *load) snapshot() []outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]outcome(nil), l.out...)
}

// count counts the outcomes so far matching pred.
func (l *load) count(pred func(outcome) bool) int {
	n := 0
	for _, o := range l.snapshot() {
		if pred(o) {
			n++
		}
	}
	return n
}

// call makes one call of kind op.
func (l *load) call(op string) outcome {
	o := outcome{op: op, amount: 1 + rand.Int64N(1000), notes: fmt.Sprintf("load-%d", l.seq.Add(1))}
	var req *http.Request
	switch op {
	case "rest-create":
		b, _ := json.Marshal(map[string]any{"clients_id": l.client, "amount": o.amount, "type": "payment", "notes": o.notes})
		req, _ = http.NewRequest("POST", l.s.URL+"/accounting/transactions", bytes.NewReader(b))
	case "rpc-create":
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "accounting.transactions.create",
			"params": map[string]any{"clients_id": l.client, "amount": o.amount, "type": "payment", "notes": o.notes}})
		req, _ = http.NewRequest("POST", l.s.URL+"/", bytes.NewReader(b))
	case "rest-get":
		req, _ = http.NewRequest("GET", fmt.Sprintf("%s/clients/%d", l.s.URL, l.client), nil)
	case "rpc-get":
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "clients.get", "params": map[string]any{"id": l.client}})
		req, _ = http.NewRequest("POST", l.s.URL+"/", bytes.NewReader(b))
	}
	req.Header.Set("X-Api-Key", adminKey)
	req.Header.Set("Content-Type", "application/json")
	o.start = time.Now()
	resp, err := l.http.Do(req)
	if err != nil {
		o.end, o.err = time.Now(), err
		return o
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	o.end, o.status, o.body = time.Now(), resp.StatusCode, string(body)
	if err != nil {
		o.err = err
		return o
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
		ID     int64           `json:"id"`
	}
	var res json.RawMessage
	if strings.HasPrefix(op, "rpc") {
		if json.Unmarshal(body, &env) != nil {
			o.code = "unparsable reply"
			return o
		}
		res = env.Result
	} else if resp.StatusCode < 300 {
		res = body
	} else if json.Unmarshal(body, &env) != nil {
		o.code = "unparsable reply"
		return o
	}
	if env.Error != nil {
		o.code, o.rpcCode = env.Error.dataCode(), env.Error.Code
		return o
	}
	var tx struct {
		ID     int64 `json:"id"`
		Amount int64 `json:"amount"`
	}
	if json.Unmarshal(res, &tx) != nil || tx.ID == 0 {
		o.code = "unparsable result"
		return o
	}
	o.code = "ok"
	if o.create() {
		o.txID = tx.ID
		if tx.Amount != o.amount {
			o.code = fmt.Sprintf("amount %d acknowledged as %d", o.amount, tx.Amount)
		}
	}
	return o
}

// waitFor polls cond every 50 ms until it holds, failing t after limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting (%s) for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyz returns the status of GET /readyz.
func readyz(t *testing.T, s *server) int {
	t.Helper()
	resp, err := timeoutClient.Get(s.URL + "/readyz")
	if err != nil {
		t.Fatalf("readyz: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// ledger returns every movement of client (id → amount) and its balance.
func ledger(t *testing.T, s *server, client int64) (map[int64]int64, map[string]bool, int64) {
	t.Helper()
	a := keyAuth(adminKey)
	amounts, notes := map[int64]int64{}, map[string]bool{}
	for offset := 0; ; offset += 1000 {
		var page []struct {
			ID     int64  `json:"id"`
			Amount int64  `json:"amount"`
			Notes  string `json:"notes"`
		}
		s.ok(t, a, "accounting.transactions.search", map[string]any{"clients_id": client, "limit": 1000, "offset": offset, "order": "id"}, &page)
		for _, tx := range page {
			amounts[tx.ID], notes[tx.Notes] = tx.Amount, true
		}
		if len(page) < 1000 {
			break
		}
	}
	var c clientView
	s.ok(t, a, "clients.get", map[string]any{"id": client}, &c)
	return amounts, notes, c.Balance
}

// driverText are fragments of driver and network errors that must never
// reach a caller.
var driverText = regexp.MustCompile(`(?i)pgx|pgconn|sqlstate|dial tcp|connection refused|connection reset|broken pipe|EOF|FATAL|terminating|postgres://|127\.0\.0\.1:\d`)

// TestPostgresOutageUnderLoad stops a real PostgreSQL (immediate mode, as a
// crash) under a load of money movements and reads on both protocols, then
// starts it again. While it is down every call must be answered with
// unavailable (-32007 / HTTP 503, no driver text) — never a hang (every
// request is bounded by a 10 s client timeout, which must not fire), never
// a 500 — and /readyz says 503. Once it is back the same server process
// serves again. Afterwards every movement that was acknowledged, before,
// during or after the outage, is in the ledger, and the balance is the sum
// of the ledger exactly.
func TestPostgresOutageUnderLoad(t *testing.T) {
	pg := newPGCluster(t)
	s := startServer(t, pg.URL(), map[string]string{"BILLGATE_LOG_LEVEL": "info"})
	var c idOnly
	s.ok(t, keyAuth(adminKey), "clients.create", map[string]any{"name": uniq("outage"), "currency": "USD"}, &c)
	if st := readyz(t, s); st != 200 {
		t.Fatalf("readyz before the outage: %d", st)
	}

	l := newLoad(s, c.ID, 6)
	acked := func(after time.Time) func(outcome) bool {
		return func(o outcome) bool { return o.create() && o.code == "ok" && o.start.After(after) }
	}
	waitFor(t, "40 acknowledged movements before the outage", time.Minute, func() bool { return l.count(acked(time.Time{})) >= 40 })

	stopBegin := time.Now()
	pg.stop("immediate")
	stopDone := time.Now()
	waitFor(t, "40 calls answered during the outage", time.Minute, func() bool {
		return l.count(func(o outcome) bool { return o.start.After(stopDone) }) >= 40
	})
	readyDuring := readyz(t, s)

	startBegin := time.Now()
	pg.start()
	startDone := time.Now()
	var recovered time.Time
	waitFor(t, "a call to succeed after PostgreSQL is back", 2*time.Minute, func() bool {
		for _, o := range l.snapshot() {
			if o.code == "ok" && o.start.After(startBegin) && (recovered.IsZero() || o.end.Before(recovered)) {
				recovered = o.end
			}
		}
		return !recovered.IsZero()
	})
	waitFor(t, "40 acknowledged movements after the outage", time.Minute, func() bool { return l.count(acked(recovered)) >= 40 })
	readyAfter := readyz(t, s)
	out := l.halt()

	if readyDuring != 503 || readyAfter != 200 {
		t.Errorf("readyz: %d during the outage, %d after (want 503, 200)", readyDuring, readyAfter)
	}
	type tally struct{ ok, unavailable, other int }
	phases := map[string]*tally{"before": {}, "transition": {}, "outage": {}, "after": {}}
	var firstUnavailable time.Time
	var slowest time.Duration
	for _, o := range out {
		phase := "transition"
		switch {
		case o.end.Before(stopBegin):
			phase = "before"
		case o.start.After(stopDone) && o.end.Before(startBegin):
			phase = "outage"
		case o.start.After(recovered):
			phase = "after"
		}
		switch o.code {
		case "ok":
			phases[phase].ok++
		case "unavailable":
			phases[phase].unavailable++
			if firstUnavailable.IsZero() || o.end.Before(firstUnavailable) {
				firstUnavailable = o.end
			}
		default:
			phases[phase].other++
		}
		if phase == "outage" || phase == "transition" {
			slowest = max(slowest, o.end.Sub(o.start))
		}
		switch {
		case o.err != nil:
			t.Errorf("%s %s: no answer: %v", phase, o.op, o.err)
		case o.code != "ok" && o.code != "unavailable":
			t.Errorf("%s %s: %d %s (want ok or unavailable)", phase, o.op, o.status, o.body)
		case o.code == "unavailable" && strings.HasPrefix(o.op, "rest") && o.status != 503:
			t.Errorf("%s %s: unavailable with HTTP %d", phase, o.op, o.status)
		case o.code == "unavailable" && strings.HasPrefix(o.op, "rpc") && (o.status != 200 || o.rpcCode != -32007):
			t.Errorf("%s %s: unavailable as HTTP %d code %d", phase, o.op, o.status, o.rpcCode)
		case driverText.MatchString(o.body) || strings.Contains(o.body, pg.password):
			t.Errorf("%s %s: driver text in the reply: %s", phase, o.op, o.body)
		case (phase == "before" || phase == "after") && o.code != "ok":
			t.Errorf("%s %s: %s while PostgreSQL was up", phase, o.op, o.code)
		case phase == "outage" && o.code != "unavailable":
			t.Errorf("outage %s: %s while PostgreSQL was down", o.op, o.code)
		}
	}
	for _, name := range []string{"before", "transition", "outage", "after"} {
		p := phases[name]
		t.Logf("%-10s ok %4d  unavailable %4d  other %d", name, p.ok, p.unavailable, p.other)
	}
	t.Logf("first unavailable reply %v after the stop began (pg_ctl stop took %v); slowest call around the outage %v; "+
		"pg_ctl start took %v; first success %v after the start began",
		firstUnavailable.Sub(stopBegin).Round(time.Millisecond), stopDone.Sub(stopBegin).Round(time.Millisecond),
		slowest.Round(time.Millisecond), startDone.Sub(startBegin).Round(time.Millisecond), recovered.Sub(startBegin).Round(time.Millisecond))
	if phases["outage"].unavailable == 0 {
		t.Error("no call was refused during the outage")
	}

	// No acknowledged movement is lost, and the balance is the ledger's sum.
	amounts, notes, balance := ledger(t, s, c.ID)
	var sum int64
	for _, a := range amounts {
		sum += a
	}
	ackedN, unackedCommitted := 0, 0
	for _, o := range out {
		if !o.create() {
			continue
		}
		if o.code == "ok" {
			ackedN++
			if got, ok := amounts[o.txID]; !ok || got != o.amount {
				t.Errorf("acknowledged movement %d (%d) missing from the ledger (found %d, %v)", o.txID, o.amount, got, ok)
			}
		} else if notes[o.notes] {
			unackedCommitted++
		}
	}
	if balance != sum {
		t.Errorf("balance %d, ledger sum %d", balance, sum)
	}
	t.Logf("%d movements acknowledged, %d in the ledger (%d committed without an acknowledgement), balance %d = ledger sum",
		ackedN, len(amounts), unackedCommitted, balance)

	// The failure is visible in the metrics and the log, without secrets.
	m := scrape(t, s)
	var unavailable float64
	for k, v := range m {
		if strings.HasPrefix(k, "billgate_calls_total{") && strings.Contains(k, `code="unavailable"`) {
			unavailable += v
		}
		if strings.HasPrefix(k, "billgate_calls_total{") && strings.Contains(k, `code="internal"`) {
			t.Errorf("internal errors counted: %s %v", k, v)
		}
	}
	if unavailable == 0 {
		t.Error("billgate_calls_total counts no unavailable call")
	}
	logs := s.logSoFar(t)
	if strings.Contains(logs, pg.password) {
		t.Error("the database password is in the log")
	}
	causes := map[string]int{}
	digits := regexp.MustCompile(`[0-9]+`)
	for _, line := range logLines(t, logs) {
		if code := line.str("code"); code == "unavailable" || code == "internal" {
			causes[code+": "+digits.ReplaceAllString(line.str("cause"), "N")]++
		}
	}
	keys := make([]string, 0, len(causes))
	for k := range causes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("cause logged %4d× %s", causes[k], k)
	}
}
