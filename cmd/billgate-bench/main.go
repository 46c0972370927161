// Command billgate-bench is billgate's benchmark harness (make bench).
//
// It builds ./cmd/billgate, runs the real server as a subprocess on a
// temporary SQLite file and on a fresh PostgreSQL database, seeds clients
// (through the API where small, in SQL where large), and measures in one run,
// side by side with their baselines:
//
//   - a bare net/http handler (a subprocess of this binary) returning the bytes
//     of system.version, against system.version over REST (GET /, REST bytes)
//     and over JSON-RPC (POST /, the request body read, JSON-RPC bytes): each
//     protocol against its own HTTP limit;
//   - a raw driver primary-key lookup loop against clients.get over REST and
//     JSON-RPC, random ids (and, for reference, the bare handler doing the
//     same lookup: the HTTP + database limit);
//   - a 100-element JSON-RPC batch of clients.get against single calls;
//   - accounting.transactions.create on one client and spread over many;
//   - clients.search with a filter, a sort and q on 1,000,000 clients, loaded
//     and on one connection.
//
// Load is a closed loop with fixed concurrency (fortio's periodic runner at max
// speed) for a fixed duration per scenario. It prints a markdown table and the
// targets, writes docs/BENCHMARKS.md (keeping its hand-written tail) and the
// chart docs/benchmarks.png.
//
// Usage:
//
//	go run ./cmd/billgate-bench [-duration 5s] [-warmup 1s] [-c 16] [-db sqlite,postgres]
//	    [-postgres URL] [-pg-clients 1000000] [-sqlite-clients 100000] [-run REGEXP]
//	    [-rounds 1] [-server BINARY] [-server-log-level info] [-keep]
//	    [-out docs/BENCHMARKS.md] [-chart docs/benchmarks.png] [-perf DIR] [-cpuprofile FILE]
//
// PostgreSQL: BENCH_DATABASE_URL or -postgres names the server (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); the harness
// creates billgate_bench_<time>_<pid> there and drops it at the end.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"fortio.org/log"
)

// config is the harness's command line.
type config struct {
	duration, warmup time.Duration
	concurrency      int
	rounds           int
	dbs              []string
	postgresURL      string
	pgClients        int64
	sqliteClients    int64
	run              *regexp.Regexp
	out, chart       string
	logLevel         string
	perfDir          string
	serverBin        string
	keep             bool
	args             []string
}

func main() {
	var (
		bareListen = flag.String("bare-listen", "", "internal: serve the bare handler on this address and nothing else")
		bareBody   = flag.String("bare-body", "", "internal: file holding the bare handler's response body (GET /)")
		bareRPC    = flag.String("bare-rpc-body", "", "internal: file holding the bare handler's response body to POST / (JSON-RPC)")
		bareDB     = flag.String("bare-db", "", "internal: database of the bare handler's GET /clients/:id (postgres://… or sqlite://path)")
		cfg        config
		dbs        = flag.String("db", "sqlite,postgres", "databases to run on: sqlite, postgres or both")
		runRe      = flag.String("run", "", "only the scenarios whose id matches this regexp (bare, version.rest, bare.rpc, version.rpc, raw, bare.get, get.rest, get.rpc, batch, tx.spread, tx.one, search, search.1, usage.batch); implies -out '' -chart '' unless given")
		cpuprofile = flag.String("cpuprofile", "", "write the harness's own CPU profile (the load generator) to this file")
	)
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured duration of each scenario")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured warm-up before each scenario, on the same connections")
	flag.IntVar(&cfg.rounds, "rounds", 1, "run every scenario this many times, interleaved, and keep each one's median round (noisy machines)")
	flag.IntVar(&cfg.concurrency, "c", 16, "concurrent connections (closed loop: one request in flight per connection)")
	flag.StringVar(&cfg.postgresURL, "postgres", envOr("BENCH_DATABASE_URL", defaultPostgresURL), "PostgreSQL server to create the bench database on (BENCH_DATABASE_URL)")
	flag.Int64Var(&cfg.pgClients, "pg-clients", 1_000_000, "clients seeded on PostgreSQL")
	flag.Int64Var(&cfg.sqliteClients, "sqlite-clients", 100_000, "clients seeded on SQLite")
	flag.StringVar(&cfg.out, "out", "docs/BENCHMARKS.md", "markdown report to write ('' for none; relative to the module root)")
	flag.StringVar(&cfg.chart, "chart", "docs/benchmarks.png", "PNG chart to write ('' for none; relative to the module root)")
	flag.StringVar(&cfg.logLevel, "server-log-level", "info", "BILLGATE_LOG_LEVEL of the server (info is its default: one line per call)")
	flag.StringVar(&cfg.perfDir, "perf", "", "record a perf profile of the server (perf record -g) during each scenario into this directory (with -rounds, the last round's)")
	flag.StringVar(&cfg.serverBin, "server", "", "benchmark this billgate binary instead of building ./cmd/billgate")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (server logs, SQLite file)")
	flag.Parse()

	if *bareListen != "" {
		if err := runBare(*bareListen, *bareBody, *bareRPC, *bareDB); err != nil {
			fmt.Fprintln(os.Stderr, "bare handler:", err)
			os.Exit(1)
		}
		return
	}
	cfg.args = os.Args[1:]
	for _, d := range strings.Split(*dbs, ",") {
		switch strings.TrimSpace(strings.ToLower(d)) {
		case "sqlite":
			cfg.dbs = append(cfg.dbs, dbSQLite)
		case "postgres", "postgresql":
			cfg.dbs = append(cfg.dbs, dbPostgres)
		case "":
		default:
			fatalf("-db: unknown database %q (want sqlite, postgres)", d)
		}
	}
	if *runRe != "" {
		re, err := regexp.Compile(*runRe)
		if err != nil {
			fatalf("-run: %v", err)
		}
		cfg.run = re
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["out"] {
			cfg.out = ""
		}
		if !set["chart"] {
			cfg.chart = ""
		}
	}
	if cfg.concurrency < 1 || cfg.duration <= 0 || cfg.rounds < 1 {
		fatalf("-c and -rounds must be ≥ 1 and -duration positive")
	}
	log.SetLogLevelQuiet(log.Error) // fortio's own logger

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fatalf("%v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatalf("%v", err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	os.Exit(2)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// logf prints a progress line on stderr.
func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

// run builds the server, runs every database's scenarios and writes the report.
func run(ctx context.Context, cfg config) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "billgate-bench-")
	if err != nil {
		return err
	}
	if cfg.keep {
		logf("temporary directory (kept): %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if cfg.perfDir != "" {
		if err := os.MkdirAll(cfg.perfDir, 0o755); err != nil {
			return err
		}
	}
	bin, build := cfg.serverBin, ""
	if bin == "" {
		logf("building ./cmd/billgate")
		if bin, err = buildServer(ctx, root, tmp); err != nil {
			return err
		}
		build = revision(ctx, root)
	} else if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, tmp: tmp, bin: bin, build: build, self: self, key: "live_" + randomHex(16)}
	for _, db := range cfg.dbs {
		if err := b.runDB(ctx, db); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if db == dbPostgres && b.pgUnreachable {
				b.notes = append(b.notes, fmt.Sprintf("PostgreSQL was skipped: %v.", err))
				logf("PostgreSQL skipped: %v", err)
				continue
			}
			return fmt.Errorf("%s: %w", db, err)
		}
	}
	return b.report(root)
}

// report prints the tables and writes the document and the chart.
func (b *bench) report(root string) error {
	rep := Report{
		Date:    time.Now(),
		Machine: machine(b.pgVersion),
		Command: reproduce(b.cfg.args),
		Settings: fmt.Sprintf("closed loop, %d connections, %v per scenario after a %v warm-up, %s; %s clients on PostgreSQL, %s on SQLite; server log level %s; server %s",
			b.cfg.concurrency, b.cfg.duration, b.cfg.warmup, roundsDesc(b.cfg.rounds), num(float64(b.cfg.pgClients)), num(float64(b.cfg.sqliteClients)), b.cfg.logLevel, b.serverDesc()),
		Results: b.results,
		Notes:   b.notes,
	}
	fmt.Println()
	fmt.Print(RenderTable(rep.Results))
	fmt.Println()
	fmt.Print(RenderChecks(Checks(rep.Results, databases(rep.Results))))
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(root, p)
	}
	if b.cfg.chart != "" {
		if err := writeChart(abs(b.cfg.chart), rep.Results); err != nil {
			return fmt.Errorf("chart: %w", err)
		}
		logf("wrote %s", b.cfg.chart)
		if b.cfg.out != "" {
			if rel, err := filepath.Rel(filepath.Dir(abs(b.cfg.out)), abs(b.cfg.chart)); err == nil {
				rep.Chart = filepath.ToSlash(rel)
			}
		}
	}
	if b.cfg.out != "" {
		old, _ := os.ReadFile(abs(b.cfg.out))
		doc := RenderDoc(rep, KeptPart(string(old)))
		if err := os.WriteFile(abs(b.cfg.out), []byte(doc), 0o644); err != nil {
			return err
		}
		logf("wrote %s", b.cfg.out)
	}
	return nil
}

// roundsDesc describes -rounds.
func roundsDesc(n int) string {
	if n == 1 {
		return "one round"
	}
	return fmt.Sprintf("median of %d interleaved rounds", n)
}

// serverDesc says which server was measured.
func (b *bench) serverDesc() string {
	if b.build != "" {
		return "built from " + b.build
	}
	if b.cfg.serverBin != "" {
		return "binary " + b.cfg.serverBin
	}
	return "built from this tree"
}

// revision describes the source tree: the commit, and "+ uncommitted changes"
// when the tree differs from it ("" when git is not available).
func revision(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := "commit " + strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += " + uncommitted changes"
	}
	return rev
}

// reproduce returns the command that repeats this run.
func reproduce(args []string) string {
	if len(args) == 0 {
		return "make bench"
	}
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"*|$&;") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return `make bench BENCHFLAGS="` + strings.Join(q, " ") + `"`
}

// machine describes this machine.
func machine(pgVersion string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Postgres: pgVersion, Model: "unknown CPU", MemTotal: "?"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
					m.MemTotal = fmt.Sprintf("%.1f GB", float64(kb)*1024/1e9)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
