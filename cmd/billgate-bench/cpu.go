package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userHZ is the unit of the CPU times in /proc (USER_HZ, 100 on every Linux
// ABI Go supports).
const userHZ = 100

// CPUSplit is how many cores each party kept busy during a measured run, on
// average: the server, the database server (the PostgreSQL processes serving
// the bench database; 0 on SQLite, which runs inside the server), the harness
// (load generator, and the raw lookup loop's driver), and everything else on
// the machine.
type CPUSplit struct {
	Server, DB, Harness, Other float64
}

// String renders the split as "server/db/harness/other" in cores.
func (c CPUSplit) String() string {
	return fmt.Sprintf("%.2f/%.2f/%.2f/%.2f", c.Server, c.DB, c.Harness, c.Other)
}

// cpuSample is the CPU time used so far (in ticks) by the machine and by each
// party; the database's per process, since its backends come and go.
type cpuSample struct {
	busy, server, harness int64
	db                    map[int]int64
}

// sampleCPU reads /proc: the machine's busy time (all but idle and iowait),
// the time of serverPID, of this process, and of the PostgreSQL processes
// working for database dbName (see pgRole; none when dbName is "").
func sampleCPU(serverPID int, dbName string) (cpuSample, error) {
	s := cpuSample{db: map[int]int64{}}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s, err
	}
	if s.busy, err = parseBusy(string(stat)); err != nil {
		return s, err
	}
	self := os.Getpid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return s, err
	}
	type pgProc struct {
		pid, ppid int
		ticks     int64
		role      string
	}
	var pgs []pgProc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone
		}
		comm, ppid, ticks, err := parseProcStat(string(b))
		if err != nil {
			continue
		}
		switch {
		case pid == serverPID:
			s.server += ticks
		case pid == self:
			s.harness += ticks
		case comm == "postgres" && dbName != "":
			if cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil {
				pgs = append(pgs, pgProc{pid, ppid, ticks, pgRole(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})), dbName)})
			}
		}
	}
	// The server-wide processes count when they belong to the postmaster of
	// the database's backends (not to another cluster on the machine).
	ours := map[int]bool{}
	for _, p := range pgs {
		if p.role == pgBackend {
			ours[p.ppid] = true
		}
	}
	for _, p := range pgs {
		if p.role == pgBackend || (p.role == pgShared && ours[p.ppid]) {
			s.db[p.pid] = p.ticks
		}
	}
	return s, nil
}

// Roles of a PostgreSQL process for one database (pgRole).
const (
	pgOther   = ""
	pgBackend = "backend" // a backend connected to the database, or an autovacuum worker on it
	pgShared  = "shared"  // WAL writer, checkpointer, background writer: every write goes through them
)

// pgRole classifies a PostgreSQL process by its command line (process title,
// "postgres: [cluster: ]user database host(port) state") for database
// dbName. Backends of other databases (other users of a shared server), the
// postmaster and backends that exited during the run are not counted: a pool
// closing and reopening connections is undercounted (the harness logs the
// sessions opened per scenario).
func pgRole(cmdline, dbName string) string {
	title, ok := strings.CutPrefix(strings.TrimSpace(cmdline), "postgres: ")
	if !ok {
		return pgOther // the postmaster: "/usr/lib/postgresql/15/bin/postgres -D …"
	}
	f := strings.Fields(title)
	if len(f) > 0 && strings.HasSuffix(f[0], ":") { // cluster_name prefix, "15/main:"
		f = f[1:]
	}
	switch rest := strings.Join(f, " "); {
	case rest == "walwriter" || rest == "checkpointer" || rest == "background writer":
		return pgShared
	case len(f) >= 3 && f[0] == "autovacuum" && f[1] == "worker":
		if f[2] == dbName {
			return pgBackend
		}
	case len(f) >= 3 && (strings.Contains(f[2], "(") || f[2] == "[local]"): // user database host(port) …
		if f[1] == dbName {
			return pgBackend
		}
	}
	return pgOther
}

// split returns the cores used between a and b, over seconds of wall time.
// A database process seen only in b started during the run: all its time
// counts. One seen only in a exited: its share of the run is lost.
func split(a, b cpuSample, seconds float64) CPUSplit {
	if seconds <= 0 {
		return CPUSplit{}
	}
	var db int64
	for pid, t := range b.db {
		db += max(0, t-a.db[pid])
	}
	cores := func(ticks int64) float64 { return float64(ticks) / userHZ / seconds }
	c := CPUSplit{Server: cores(b.server - a.server), DB: cores(db), Harness: cores(b.harness - a.harness)}
	c.Other = max(0, cores(b.busy-a.busy)-c.Server-c.DB-c.Harness)
	return c
}

// parseBusy returns the busy ticks of the "cpu" line of /proc/stat: the sum
// of every field but idle (4th) and iowait (5th); guest time is already in
// user and nice.
func parseBusy(stat string) (int64, error) {
	for _, line := range strings.Split(stat, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || f[0] != "cpu" {
			continue
		}
		var busy int64
		for i, v := range f[1:] {
			if i >= 8 { // guest, guest_nice: counted in user, nice
				break
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, err
			}
			if i != 3 && i != 4 {
				busy += n
			}
		}
		return busy, nil
	}
	return 0, fmt.Errorf("no cpu line in /proc/stat")
}

// parseProcStat returns the command name, the parent pid and utime+stime (in
// ticks) of a /proc/<pid>/stat line. The name is in parentheses and may hold
// spaces and parentheses, so fields are counted from the last ')'.
func parseProcStat(line string) (comm string, ppid int, ticks int64, err error) {
	open, closing := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || closing < open {
		return "", 0, 0, fmt.Errorf("malformed stat %q", line)
	}
	comm = line[open+1 : closing]
	f := strings.Fields(line[closing+1:])
	// f[0] is field 3 (state), f[1] the ppid; utime and stime are fields 14, 15.
	if len(f) < 13 {
		return "", 0, 0, fmt.Errorf("short stat %q", line)
	}
	ppid, err1 := strconv.Atoi(f[1])
	u, err2 := strconv.ParseInt(f[11], 10, 64)
	st, err3 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return "", 0, 0, fmt.Errorf("malformed stat %q", line)
	}
	return comm, ppid, u + st, nil
}
