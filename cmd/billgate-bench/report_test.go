package main

import (
	"strings"
	"testing"
	"time"
)

// res builds a Result with a throughput (items/s) and a p99.
func res(db, id, baseline string, itemsPS float64, p99 time.Duration) Result {
	return Result{DB: db, ID: id, Label: id + " label", BaselineID: baseline, Concurrency: 16, Clients: 1_000_001,
		Summary: Summary{Requests: 10, Items: 10, RPS: itemsPS, ItemsPS: itemsPS, P50: p99 / 2, P99: p99, P999: p99 * 2},
		RSSOf:   rssServer, PeakRSS: 40_000_000}
}

// sample is a full set of PostgreSQL results: bare GET 10,000/s, version REST
// 9,000 (90%, pass); bare POST 9,000/s, version JSON-RPC 8,000 (89% of its own
// baseline, pass; 80% of the GET one); raw 5,000, bare + lookup 4,000; get
// REST 3,600 (72%, pass; 90% of bare + lookup) and JSON-RPC 3,000 (60%, fail;
// 75%); batch 16,000 items/s (5.33× of 3,000, pass); search p99 25 ms on one
// connection (fail), 90 ms on 16; RSS 160 MB during the batch (fail).
func sample() []Result {
	rs := []Result{
		res(dbPostgres, scBare, "", 10000, time.Millisecond),
		res(dbPostgres, scVersionRES, scBare, 9000, time.Millisecond),
		res(dbPostgres, scBareRPC, "", 9000, time.Millisecond),
		res(dbPostgres, scVersionRPC, scBareRPC, 8000, time.Millisecond),
		res(dbPostgres, scRaw, "", 5000, time.Millisecond),
		res(dbPostgres, scBareGet, scRaw, 4000, time.Millisecond),
		res(dbPostgres, scGetREST, scRaw, 3600, 2*time.Millisecond),
		res(dbPostgres, scGetRPC, scRaw, 3000, 2*time.Millisecond),
		res(dbPostgres, scBatch, scGetRPC, 16000, 90*time.Millisecond),
		res(dbPostgres, scSearch, "", 200, 90*time.Millisecond),
		res(dbPostgres, scSearch1, "", 60, 25*time.Millisecond),
	}
	rs[10].Concurrency = 1
	rs[0].RSSOf, rs[0].PeakRSS = rssBare, 300_000_000 // the bare handler's RSS does not count
	rs[2].RSSOf, rs[2].PeakRSS = rssBare, 300_000_000
	rs[5].RSSOf, rs[5].PeakRSS = rssBare, 300_000_000
	rs[4].RSSOf, rs[4].PeakRSS = "", 0
	rs[8].PeakRSS = 160_000_000
	rs[1].CPU = CPUSplit{Server: 1.2, Harness: 0.654, Other: 0.03}
	rs[1].NewConns = 12
	rs[4].NewConns = -1
	return rs
}

func statusOf(t *testing.T, checks []Check, db, prefix string) Check {
	t.Helper()
	for _, c := range checks {
		if c.DB == db && strings.HasPrefix(c.Target, prefix) {
			return c
		}
	}
	t.Fatalf("no check %s %q in %+v", db, prefix, checks)
	return Check{}
}

func TestChecks(t *testing.T) {
	checks := Checks(sample(), []string{dbPostgres})
	want := map[string]string{
		"system.version REST ≥":             "PASS",
		"system.version JSON-RPC ≥":         "PASS", // against its own baseline, not the GET one
		"clients.get REST ≥":                "PASS",
		"clients.get REST, share":           statusInfo,
		"clients.get JSON-RPC ≥":            "FAIL",
		"clients.get JSON-RPC, share":       statusInfo,
		"system.version: REST and JSON-RPC": "FAIL", // 9,000 vs 8,000: 11.1% apart
		"clients.get: REST and JSON-RPC":    "FAIL", // 3,600 vs 3,000: 16.7% apart
		"100-element batch":                 "PASS",
		"clients.search p99":                "FAIL",
		"server peak RSS":                   "FAIL",
	}
	for prefix, st := range want {
		if c := statusOf(t, checks, dbPostgres, prefix); c.Status != st {
			t.Errorf("%s: %s (%s), want %s", prefix, c.Status, c.Measured, st)
		}
	}
	if c := statusOf(t, checks, dbPostgres, "system.version: REST"); !strings.Contains(c.Measured, "11.1% apart") {
		t.Errorf("gap measured as %q", c.Measured)
	}
	if c := statusOf(t, checks, dbPostgres, "clients.search"); c.Measured != "p99 25.0 ms, p50 12.5 ms on 1,000,001 clients (at 16 connections: p99 90.0 ms, 200 req/s)" {
		t.Errorf("search measured as %q", c.Measured)
	}
	if c := statusOf(t, checks, dbPostgres, "100-element"); !strings.Contains(c.Measured, "5.33×") {
		t.Errorf("batch measured as %q", c.Measured)
	}
	if c := statusOf(t, checks, dbPostgres, "server peak RSS"); !strings.Contains(c.Measured, "160.0 MB") || !strings.Contains(c.Measured, "batch") {
		t.Errorf("RSS measured as %q", c.Measured)
	}
	if c := statusOf(t, checks, dbPostgres, "system.version REST ≥"); c.Measured != "90% (9,000 vs 10,000 /s)" {
		t.Errorf("ratio measured as %q", c.Measured)
	}
	if c := statusOf(t, checks, dbPostgres, "system.version JSON-RPC ≥"); c.Measured != "89% (8,000 vs 9,000 /s)" {
		t.Errorf("JSON-RPC ratio measured as %q", c.Measured)
	}
	if c := statusOf(t, checks, dbPostgres, "clients.get JSON-RPC, share"); c.Measured != "75% (3,000 vs 4,000 /s)" {
		t.Errorf("JSON-RPC share of the HTTP + database limit measured as %q", c.Measured)
	}
	// Each informational row comes right after the target it explains.
	for i, c := range checks {
		if c.Status == statusInfo && (i == 0 || !strings.HasPrefix(checks[i-1].Target, strings.SplitN(c.Target, ",", 2)[0]+" ≥ 70%")) {
			t.Errorf("%q follows %q", c.Target, checks[i-1].Target)
		}
	}
}

func TestRenderChecksInfoRows(t *testing.T) {
	out := RenderChecks(Checks(sample(), []string{dbPostgres}))
	if !strings.Contains(out, "| 90% (3,600 vs 4,000 /s) | — |\n") {
		t.Errorf("informational row is not plain:\n%s", out)
	}
	if !strings.Contains(out, "| 72% (3,600 vs 5,000 /s) | **PASS** |\n") {
		t.Errorf("the issue's clients.get row is gone:\n%s", out)
	}
}

func TestLimitNote(t *testing.T) {
	rs := append(sample(), res(dbSQLite, scRaw, "", 10000, time.Millisecond), res(dbSQLite, scBareGet, scRaw, 2700, time.Millisecond))
	if got := limitNote(rs); !strings.Contains(got, "reached 80% of the loop on PostgreSQL and 27% on SQLite (see") {
		t.Errorf("limitNote = %q", got)
	}
	if got := limitNote(sample()[:4]); got != "" {
		t.Errorf("limitNote without the lookups = %q", got)
	}
}

func TestChecksEdgeCases(t *testing.T) {
	// Nothing measured on SQLite: every target n/a (the informational rows
	// are never judged); no search target on SQLite.
	checks := Checks(sample(), []string{dbSQLite})
	for _, c := range checks {
		want := "n/a"
		if strings.Contains(c.Target, "information") {
			want = statusInfo
		}
		if c.Status != want || c.Measured != "not measured" {
			t.Errorf("%s: %s %q, want %s", c.Target, c.Status, c.Measured, want)
		}
		if strings.Contains(c.Target, "clients.search") {
			t.Errorf("a search target on SQLite: %+v", c)
		}
	}
	rs := sample()
	// errors fail a ratio target that the throughput alone would pass
	rs[1].Errors = 3
	// a search on fewer than 1,000,000 rows is not the target's
	rs[10].Clients = 100_000
	rs[10].P99 = time.Millisecond
	checks = Checks(rs, []string{dbPostgres})
	if c := statusOf(t, checks, dbPostgres, "system.version REST ≥"); c.Status != "FAIL" || !strings.Contains(c.Measured, "3 errors") {
		t.Errorf("with errors: %s %q", c.Status, c.Measured)
	}
	if c := statusOf(t, checks, dbPostgres, "clients.search"); c.Status != "n/a" {
		t.Errorf("search on 100,000 rows: %s", c.Status)
	}
	// within 10%: 9,500 vs 9,000 is 5.3% apart; exactly at the limits passes
	rs[3].ItemsPS = 9500
	rs[1].Errors = 0
	rs[6].ItemsPS = 3500  // 70% of 5,000
	rs[8].ItemsPS = 15000 // 5× of 3,000
	rs[10].Clients, rs[10].P99 = 1_000_000, 20*time.Millisecond
	rs[8].PeakRSS = 150_000_000
	checks = Checks(rs, []string{dbPostgres})
	for _, prefix := range []string{"system.version: REST", "clients.get REST ≥", "100-element", "clients.search", "server peak RSS"} {
		if c := statusOf(t, checks, dbPostgres, prefix); c.Status != "PASS" {
			t.Errorf("%s at the limit: %s (%s)", prefix, c.Status, c.Measured)
		}
	}
	rs[3].ItemsPS = 7650 // 85% of its own baseline, 9,000 (76.5% of the GET one)
	if c := statusOf(t, Checks(rs, []string{dbPostgres}), dbPostgres, "system.version JSON-RPC ≥"); c.Status != "PASS" {
		t.Errorf("JSON-RPC at the limit: %s (%s)", c.Status, c.Measured)
	}
}

func TestRenderTable(t *testing.T) {
	table := RenderTable(sample())
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 2+11 {
		t.Fatalf("%d lines, want header, rule and 11 rows:\n%s", len(lines), table)
	}
	if !strings.HasPrefix(lines[0], "| database | scenario | conns | req/s | items/s | p50 ms | p99 ms | p99.9 ms | errors | peak RSS MB | CPU cores server/db/gen/other | CPU µs per item server/db/gen | PG sessions opened | vs baseline |") {
		t.Errorf("header %q", lines[0])
	}
	for _, l := range lines {
		if strings.Count(l, "|") != 15 {
			t.Errorf("%d cells in %q", strings.Count(l, "|")-1, l)
		}
	}
	wantRows := []string{
		"| PostgreSQL | bare label | 16 | 10,000 | 10,000 | 0.50 | 1.00 | 2.00 | 0 | 300.0 (bare handler) | 0.00/0.00/0.00/0.00 | 0/0/0 | 0 | baseline |",
		"| PostgreSQL | version.rest label | 16 | 9,000 | 9,000 | 0.50 | 1.00 | 2.00 | 0 | 40.0 | 1.20/0.00/0.65/0.03 | 133/0/73 | 12 | 0.90× bare label |",
		"| PostgreSQL | bare.rpc label | 16 | 9,000 | 9,000 | 0.50 | 1.00 | 2.00 | 0 | 300.0 (bare handler) | 0.00/0.00/0.00/0.00 | 0/0/0 | 0 | baseline |",
		"| PostgreSQL | version.rpc label | 16 | 8,000 | 8,000 | 0.50 | 1.00 | 2.00 | 0 | 40.0 | 0.00/0.00/0.00/0.00 | 0/0/0 | 0 | 0.89× bare.rpc label |",
		"| PostgreSQL | raw label | 16 | 5,000 | 5,000 | 0.50 | 1.00 | 2.00 | 0 | — | 0.00/0.00/0.00/0.00 | 0/0/0 | — | baseline |",
		"| PostgreSQL | batch label | 16 | 16,000 | 16,000 | 45.0 | 90.0 | 180 | 0 | 160.0 | 0.00/0.00/0.00/0.00 | 0/0/0 | 0 | 5.33× get.rpc label |",
	}
	for _, w := range wantRows {
		if !strings.Contains(table, w+"\n") {
			t.Errorf("missing row %q in\n%s", w, table)
		}
	}
	// a baseline that was not measured
	orphan := []Result{res(dbSQLite, scGetREST, scRaw, 100, time.Millisecond)}
	if !strings.Contains(RenderTable(orphan), "| — |\n") {
		t.Errorf("orphan row: %s", RenderTable(orphan))
	}
}

func TestCostPerItem(t *testing.T) {
	r := Result{Summary: Summary{ItemsPS: 4000}, CPU: CPUSplit{Server: 0.8, DB: 0.4, Harness: 0.2, Other: 0.6}}
	if s, d, g := r.CostPerItem(); s != 200 || d != 100 || g != 50 {
		t.Errorf("CostPerItem = %v/%v/%v µs, want 200/100/50", s, d, g)
	}
	if s, d, g := (Result{CPU: CPUSplit{Server: 1}}).CostPerItem(); s != 0 || d != 0 || g != 0 {
		t.Error("no items: want zeros")
	}
}

func TestRenderTableHidesUnattributableDBCPU(t *testing.T) {
	r := res(dbPostgres, scGetREST, "", 4000, time.Millisecond)
	r.CPU = CPUSplit{Server: 0.8, DB: 0.01, Harness: 0.2, Other: 0.9}
	r.NewConns = 33 // > 2 × 16 connections: backends came and went
	if got := RenderTable([]Result{r}); !strings.Contains(got, "| 0.80/?/0.20/0.90 | 200/?/50 | 33 |") {
		t.Errorf("churning scenario rendered as\n%s", got)
	}
	r.NewConns = 32
	if got := RenderTable([]Result{r}); !strings.Contains(got, "| 0.80/0.01/0.20/0.90 | 200/2/50 | 32 |") {
		t.Errorf("scenario rendered as\n%s", got)
	}
}

func TestFormatting(t *testing.T) {
	for v, want := range map[float64]string{0: "0.0", 61.73: "61.7", 100: "100", 999.6: "1,000", 1234567.4: "1,234,567", 12675: "12,675"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
	for d, want := range map[time.Duration]string{370 * time.Microsecond: "0.37", 13600 * time.Microsecond: "13.6", 231 * time.Millisecond: "231"} {
		if got := ms(d); got != want {
			t.Errorf("ms(%v) = %q, want %q", d, got, want)
		}
	}
	if got := reproduce(nil); got != "make bench" {
		t.Errorf("reproduce() = %q", got)
	}
	if got := reproduce([]string{"-duration", "10s", "-run", "get|raw"}); got != `make bench BENCHFLAGS="-duration 10s -run 'get|raw'"` {
		t.Errorf("reproduce = %q", got)
	}
}

func TestRenderDocKeepsTheHandWrittenPart(t *testing.T) {
	rep := Report{Date: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), Machine: Machine{CPUs: 2, Model: "Test CPU", GoVersion: "go1.26"},
		Command: "make bench", Settings: "closed loop", Results: sample(), Chart: "benchmarks.png",
		Notes: []string{"PostgreSQL was skipped."}}
	first := RenderDoc(rep, KeptPart("# old file without a marker"))
	for _, want := range []string{"2 CPUs (`nproc`), Test CPU", "`make bench`", "2026-11-21 10:00 UTC", "![", "(benchmarks.png)",
		"> PostgreSQL was skipped.", "## Targets", "## Results", "**FAIL**", "fortio", keepMarker,
		"reached 80% of the loop on PostgreSQL (see", "POST /"} {
		if !strings.Contains(first, want) {
			t.Errorf("document lacks %q", want)
		}
	}
	if !strings.HasSuffix(first, keepMarker+"\n") {
		t.Errorf("a fresh document should end with the bare marker:\n%s", first[len(first)-200:])
	}
	// A hand-written analysis after the marker survives the next run.
	edited := first + "\n## Analysis\n\nclients.get is slow because…\n"
	rep.Results = rep.Results[:2]
	second := RenderDoc(rep, KeptPart(edited))
	if !strings.HasSuffix(second, keepMarker+"\n\n## Analysis\n\nclients.get is slow because…\n") {
		t.Errorf("hand-written part lost:\n%s", second)
	}
	if strings.Count(second, keepMarker) != 1 || strings.Contains(second, "raw label") {
		t.Errorf("the generated part was not replaced:\n%s", second)
	}
	if KeptPart("no marker") != "" {
		t.Error("KeptPart without a marker")
	}
}
