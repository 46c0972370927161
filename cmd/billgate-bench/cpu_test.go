package main

import (
	"math"
	"testing"
)

func TestParseBusy(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	stat := "cpu  100 5 50 1000 20 3 2 1 40 7\ncpu0 50 2 25 500 10 1 1 0 20 3\nintr 1 2 3\n"
	got, err := parseBusy(stat)
	if want := int64(100 + 5 + 50 + 3 + 2 + 1); err != nil || got != want {
		t.Errorf("parseBusy = %d, %v; want %d (idle, iowait and guest left out)", got, err, want)
	}
	if _, err := parseBusy("intr 1\n"); err == nil {
		t.Error("no cpu line: no error")
	}
}

func TestParseProcStat(t *testing.T) {
	// A command name with a space and a parenthesis; ppid 1, utime 1234, stime 56.
	line := "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 7 3 20 0 8 0 12345 1000000 500 18446744073709551615"
	comm, ppid, ticks, err := parseProcStat(line)
	if err != nil || comm != "my (odd) proc" || ppid != 1 || ticks != 1290 {
		t.Errorf("parseProcStat = %q, %d, %d, %v; want \"my (odd) proc\", 1, 1290", comm, ppid, ticks, err)
	}
	if _, _, _, err := parseProcStat("4242 (x) S 1 2"); err == nil {
		t.Error("short line: no error")
	}
	if _, _, _, err := parseProcStat("garbage"); err == nil {
		t.Error("no parentheses: no error")
	}
}

func TestPGRole(t *testing.T) {
	const db = "billgate_bench_1_2"
	cases := map[string]string{
		"postgres: 15/main: postgres billgate_bench_1_2 127.0.0.1(45250) idle   ": pgBackend,
		"postgres: postgres billgate_bench_1_2 127.0.0.1(45250) SELECT":           pgBackend, // no cluster name
		"postgres: 15/main: postgres other_db 127.0.0.1(45250) idle":              pgOther,
		"postgres: 15/main: postgres postgres [local] DROP DATABASE":              pgOther,
		"postgres: 15/main: postgres billgate_bench_1_2 [local] idle":             pgBackend,
		"postgres: 15/main: autovacuum worker billgate_bench_1_2":                 pgBackend,
		"postgres: 15/main: autovacuum worker other_db":                           pgOther,
		"postgres: 15/main: walwriter":                                            pgShared,
		"postgres: checkpointer":                                                  pgShared,
		"postgres: 15/main: background writer":                                    pgShared,
		"postgres: 15/main: logical replication launcher":                         pgOther,
		"/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main":      pgOther,
	}
	for cmdline, want := range cases {
		if got := pgRole(cmdline, db); got != want {
			t.Errorf("pgRole(%q) = %q, want %q", cmdline, got, want)
		}
	}
}

func TestSplit(t *testing.T) {
	// Backend 11 ran throughout (+60 ticks), 12 exited (lost), 13 started
	// during the run (40 ticks, all counted).
	a := cpuSample{busy: 1000, server: 100, harness: 10, db: map[int]int64{11: 30, 12: 500}}
	// 2 s: the machine did 400 ticks (2 cores busy); server 200, db 100, harness 60.
	b := cpuSample{busy: 1400, server: 300, harness: 70, db: map[int]int64{11: 90, 13: 40}}
	c := split(a, b, 2)
	near := func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }
	if !near(c.Server, 1) || !near(c.DB, 0.5) || !near(c.Harness, 0.3) || !near(c.Other, 0.2) {
		t.Errorf("split = %+v", c)
	}
	if got := c.String(); got != "1.00/0.50/0.30/0.20" {
		t.Errorf("String() = %q", got)
	}
	// Other never goes negative (process times and /proc/stat tick apart).
	b.busy = 1100
	if c := split(a, b, 2); c.Other != 0 {
		t.Errorf("negative other: %+v", c)
	}
	if c := split(a, b, 0); c != (CPUSplit{}) {
		t.Errorf("zero duration: %+v", c)
	}
}
