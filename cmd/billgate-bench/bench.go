package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// bench is one harness run: its settings and what it measured so far.
type bench struct {
	cfg       config
	tmp       string
	bin, self string
	// build describes the source of bin ("" when given with -server).
	build string
	// key is the admin's live API key (BILLGATE_ADMIN_API_KEY at first start).
	key           string
	results       []Result
	notes         []string
	pgVersion     string
	pgUnreachable bool
}

// target is one database's server under test and its seeded data.
type target struct {
	db string
	// dbName is the PostgreSQL database's name ("" on SQLite).
	dbName  string
	srv     *proc
	bare    *proc
	ids     idRange // the bulk-seeded clients
	hot     int64   // the client of the one-client ledger scenario
	sub     int64   // the subscription the usage scenario reports events on
	clients int64   // rows in clients
	// rawOp makes a raw lookup loop op per worker.
	rawOp func(worker int) op
	// sessions returns the number of sessions ever opened on the database
	// (PostgreSQL's pg_stat_database.sessions; nil on SQLite).
	sessions func(ctx context.Context) (int64, error)
	// http are the clients of the HTTP scenarios (idle connections are
	// closed after each scenario).
	http []*http.Client
}

// scenario is one measured load.
type scenario struct {
	id, label, baseline string
	// concurrency overrides -c when positive.
	concurrency int
	// proc is the process whose peak RSS is reported (nil: none); rssOf names it.
	proc  *proc
	rssOf string
	newOp func(worker int) op
}

// runDB runs every scenario on db: a fresh database, the server, the seed, the
// loads.
func (b *bench) runDB(ctx context.Context, db string) error {
	t := &target{db: db}
	var dbURL, sqlitePath string
	switch db {
	case dbSQLite:
		sqlitePath = filepath.Join(b.tmp, "bench.db")
		dbURL = "sqlite://" + sqlitePath
	case dbPostgres:
		u, version, drop, err := createPostgresDB(ctx, b.cfg.postgresURL)
		if err != nil {
			b.pgUnreachable = true
			return fmt.Errorf("%s: %w", redactURL(b.cfg.postgresURL), err)
		}
		defer drop()
		dbURL, b.pgVersion = u, version
		if pu, err := url.Parse(u); err == nil {
			t.dbName = strings.TrimPrefix(pu.Path, "/")
		}
		logf("postgres: created the database %s", redactURL(u))
	}

	addr, err := freeAddr()
	if err != nil {
		return err
	}
	env := []string{
		"BILLGATE_LISTEN=" + addr,
		"BILLGATE_DATABASE_URL=" + dbURL,
		"BILLGATE_ADMIN_API_KEY=" + b.key,
		"BILLGATE_ADMIN_PASSWORD=" + randomHex(12),
		"BILLGATE_LOG_LEVEL=" + b.cfg.logLevel,
	}
	logf("%s: starting billgate on %s", db, addr)
	srv, err := startProc(ctx, "billgate-"+strings.ToLower(db), b.bin, []string{"serve"}, env, b.tmp, addr, "/readyz", 2*time.Minute)
	if err != nil {
		return err
	}
	defer srv.stop()
	t.srv = srv
	client := newHTTPClient(1)
	defer client.CloseIdleConnections()

	// Small data through the API: the client of the one-client ledger scenario.
	body, err := probe(ctx, client, request{method: http.MethodPost, url: srv.base + "/clients", header: b.jsonHeader(true),
		body: []byte(`{"name": "Hot Ledger Ltd", "email": "hot@ledger.example", "credit": 0}`)})
	if err != nil {
		return fmt.Errorf("seed through the API: %w", err)
	}
	var created struct{ ID int64 }
	if err := json.Unmarshal(body, &created); err != nil || created.ID == 0 {
		return fmt.Errorf("clients.create answered %s", body)
	}
	t.hot = created.ID
	if t.sub, err = b.seedUsage(ctx, client, srv.base, t.hot); err != nil {
		return fmt.Errorf("seed the usage scenario: %w", err)
	}

	// The bulk, in SQL, now that the server migrated the schema.
	start := time.Now()
	switch db {
	case dbSQLite:
		logf("sqlite: seeding %s clients", num(float64(b.cfg.sqliteClients)))
		t.ids, t.clients, err = seedSQLite(ctx, sqlitePath, b.cfg.sqliteClients, logf)
	case dbPostgres:
		logf("postgres: seeding %s clients", num(float64(b.cfg.pgClients)))
		t.ids, t.clients, err = seedPostgres(ctx, dbURL, b.cfg.pgClients, logf)
	}
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	logf("%s: %s clients in the table, ids %d-%d seeded in %s", db, num(float64(t.clients)), t.ids.lo, t.ids.hi, time.Since(start).Round(time.Second))

	// The raw lookup loop's connections.
	switch db {
	case dbSQLite:
		rdb, stmt, err := openRawSQLite(sqlitePath, b.cfg.concurrency)
		if err != nil {
			return err
		}
		defer rdb.Close()
		defer stmt.Close()
		t.rawOp = func(int) op { return rawSQLiteOp(stmt, t.ids) }
	case dbPostgres:
		pc, err := pgxpool.ParseConfig(dbURL)
		if err != nil {
			return err
		}
		pc.MaxConns = int32(b.cfg.concurrency)
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			return err
		}
		defer pool.Close()
		t.rawOp = func(int) op { return rawPostgresOp(pool, t.ids) }
		t.sessions = func(ctx context.Context) (int64, error) {
			var n int64
			_, _ = pool.Exec(ctx, "SELECT pg_stat_clear_snapshot()")
			err := pool.QueryRow(ctx, "SELECT sessions FROM pg_stat_database WHERE datname = current_database()").Scan(&n)
			return n, err
		}
	}

	// The bare handler: the exact bytes of GET / and of the JSON-RPC
	// system.version call on this server.
	bodyFile, rpcBodyFile, err := b.captureVersion(ctx, client, srv.base)
	if err != nil {
		return err
	}
	bareAddr, err := freeAddr()
	if err != nil {
		return err
	}
	bare, err := startProc(ctx, "bare", b.self,
		[]string{"-bare-listen", bareAddr, "-bare-body", bodyFile, "-bare-rpc-body", rpcBodyFile, "-bare-db", dbURL},
		nil, b.tmp, bareAddr, "/", 30*time.Second)
	if err != nil {
		return err
	}
	defer bare.stop()
	t.bare = bare

	// Rounds interleave the scenarios, so that a burst of foreign load on a
	// shared machine does not hit a scenario and spare its baseline; each
	// scenario keeps its median round.
	var scs []scenario
	for _, sc := range b.scenarios(t) {
		if b.cfg.run == nil || b.cfg.run.MatchString(sc.id) {
			scs = append(scs, sc)
		}
	}
	rounds := make([][]Result, len(scs))
	for round := 1; round <= b.cfg.rounds; round++ {
		if b.cfg.rounds > 1 {
			logf("%s: round %d of %d", db, round, b.cfg.rounds)
		}
		for i, sc := range scs {
			r, err := b.measure(ctx, t, sc)
			if err != nil {
				return err
			}
			rounds[i] = append(rounds[i], r)
		}
	}
	for _, rs := range rounds {
		b.results = append(b.results, MedianResult(rs))
	}
	return nil
}

// captureVersion asks the server at base for system.version over REST and
// over JSON-RPC, with the requests of the scenarios, and writes the two
// answers' bytes to files for the bare handler. The JSON-RPC request has a
// fixed id, so billgate's answer is the same bytes on every call.
func (b *bench) captureVersion(ctx context.Context, client *http.Client, base string) (restFile, rpcFile string, err error) {
	rest, err := probe(ctx, client, versionREST(base)(nil))
	if err != nil {
		return "", "", err
	}
	rpc, err := probe(ctx, client, b.versionRPC(base)(nil))
	if err != nil {
		return "", "", err
	}
	// The bare handler must give the load generator an answer it accepts.
	if ok, _ := checkRPC(http.StatusOK, rpc); ok != 1 {
		return "", "", fmt.Errorf("system.version over JSON-RPC answered %s", rpc)
	}
	restFile, rpcFile = filepath.Join(b.tmp, "version.json"), filepath.Join(b.tmp, "version-rpc.json")
	if err := os.WriteFile(restFile, rest, 0o644); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(rpcFile, rpc, 0o644); err != nil {
		return "", "", err
	}
	return restFile, rpcFile, nil
}

// versionREST builds the system.version REST request (GET /) to base: the
// same for billgate and for its bare baseline.
func versionREST(base string) func(*rand.Rand) request {
	return func(*rand.Rand) request { return request{method: http.MethodGet, url: base + "/"} }
}

// versionRPC builds the system.version JSON-RPC request (POST /, id 1) to
// base: the same for billgate, for its bare baseline and for capturing
// billgate's answer, so that the bare handler's bytes are the answer to the
// very request the load generator sends.
func (b *bench) versionRPC(base string) func(*rand.Rand) request {
	h, body := b.jsonHeader(false), []byte(`{"jsonrpc":"2.0","id":1,"method":"system.version"}`)
	return func(*rand.Rand) request {
		return request{method: http.MethodPost, url: base + "/", header: h, body: body}
	}
}

// jsonHeader returns the headers of a JSON request, with the admin key when auth.
func (b *bench) jsonHeader(auth bool) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	if auth {
		h.Set("X-Api-Key", b.key)
	}
	return h
}

// scenarios lists t's scenarios in the order they run.
func (b *bench) scenarios(t *target) []scenario {
	base, bareBase := t.srv.base, t.bare.base
	auth := b.jsonHeader(true)
	// Each HTTP scenario gets its own client: the same settings, fresh connections.
	httpScenario := func(build func(rnd *rand.Rand) request, check checkFunc) func(int) op {
		client := newHTTPClient(b.cfg.concurrency)
		t.http = append(t.http, client)
		return func(int) op { return httpOp(client, build, check) }
	}
	rpcOne := func(rnd *rand.Rand) []byte {
		return strconv.AppendInt([]byte(`{"jsonrpc":"2.0","id":1,"method":"clients.get","params":{"id":`), t.ids.pick(rnd), 10)
	}
	const batchSize = 100
	tx := func(id int64) []byte {
		return strconv.AppendInt([]byte(`{"amount":100,"type":"payment","notes":"bench","clients_id":`), id, 10)
	}
	search := "/clients?status=active&order=-created_at&q=acme*&limit=20"
	return []scenario{
		// Each protocol against its own HTTP limit: a JSON-RPC call is a POST
		// with a body and its answer an envelope, which costs the load
		// generator and the kernel more per request whatever the server.
		{id: scBare, label: "bare net/http handler, REST bytes (GET /)", proc: t.bare, rssOf: rssBare,
			newOp: httpScenario(versionREST(bareBase), checkREST)},
		{id: scVersionRES, label: "system.version REST (GET /)", baseline: scBare, proc: t.srv, rssOf: rssServer,
			newOp: httpScenario(versionREST(base), checkREST)},
		{id: scBareRPC, label: "bare net/http handler, JSON-RPC bytes (POST /)", proc: t.bare, rssOf: rssBare,
			newOp: httpScenario(b.versionRPC(bareBase), checkRPC)},
		{id: scVersionRPC, label: "system.version JSON-RPC", baseline: scBareRPC, proc: t.srv, rssOf: rssServer,
			newOp: httpScenario(b.versionRPC(base), checkRPC)},
		{id: scRaw, label: "raw primary-key lookup loop (driver)", newOp: t.rawOp},
		{id: scBareGet, label: "bare net/http + driver lookup (GET /clients/:id)", baseline: scRaw, proc: t.bare, rssOf: rssBare,
			newOp: httpScenario(func(rnd *rand.Rand) request {
				return request{method: http.MethodGet, url: bareBase + "/clients/" + strconv.FormatInt(t.ids.pick(rnd), 10)}
			}, checkREST)},
		{id: scGetREST, label: "clients.get REST (GET /clients/:id)", baseline: scRaw, proc: t.srv, rssOf: rssServer,
			newOp: httpScenario(func(rnd *rand.Rand) request {
				return request{method: http.MethodGet, url: base + "/clients/" + strconv.FormatInt(t.ids.pick(rnd), 10), header: auth}
			}, checkREST)},
		{id: scGetRPC, label: "clients.get JSON-RPC", baseline: scRaw, proc: t.srv, rssOf: rssServer,
			newOp: httpScenario(func(rnd *rand.Rand) request {
				return request{method: http.MethodPost, url: base + "/", header: auth, body: append(rpcOne(rnd), "}}"...)}
			}, checkRPC)},
		{id: scBatch, label: "clients.get JSON-RPC batch of 100", baseline: scGetRPC, proc: t.srv, rssOf: rssServer,
			newOp: httpScenario(func(rnd *rand.Rand) request {
				var buf bytes.Buffer
				buf.Grow(batchSize * 80)
				buf.WriteByte('[')
				for i := range batchSize {
					if i > 0 {
						buf.WriteByte(',')
					}
					fmt.Fprintf(&buf, `{"jsonrpc":"2.0","id":%d,"method":"clients.get","params":{"id":%d}}`, i+1, t.ids.pick(rnd))
				}
				buf.WriteByte(']')
				return request{method: http.MethodPost, url: base + "/", header: auth, body: buf.Bytes(), n: batchSize}
			}, checkBatch(batchSize))},
		{id: scTxSpread, label: "transactions.create, random clients", proc: t.srv, rssOf: rssServer,
			newOp: httpScenario(func(rnd *rand.Rand) request {
				return request{method: http.MethodPost, url: base + "/accounting/transactions", header: auth, body: append(tx(t.ids.pick(rnd)), '}')}
			}, checkREST)},
		{id: scTxOne, label: "transactions.create, one client", baseline: scTxSpread, proc: t.srv, rssOf: rssServer,
			newOp: httpScenario(func(*rand.Rand) request {
				return request{method: http.MethodPost, url: base + "/accounting/transactions", header: auth, body: append(tx(t.hot), '}')}
			}, checkREST)},
		{id: scSearch, label: "clients.search " + search[len("/clients?"):], proc: t.srv, rssOf: rssServer,
			newOp: httpScenario(func(*rand.Rand) request {
				return request{method: http.MethodGet, url: base + search, header: auth}
			}, checkREST)},
		{id: scSearch1, label: "clients.search, the same on 1 connection", concurrency: 1, proc: t.srv, rssOf: rssServer,
			newOp: httpScenario(func(*rand.Rand) request {
				return request{method: http.MethodGet, url: base + search, header: auth}
			}, checkREST)},
		{id: scUsage, label: "usage events, JSON-RPC batch of 100 (10% repeats)", baseline: scTxSpread, proc: t.srv, rssOf: rssServer,
			newOp: httpScenario(func(*rand.Rand) request {
				return request{method: http.MethodPost, url: base + "/", header: auth, body: usageBatch(t.sub, batchSize), n: batchSize}
			}, checkBatch(batchSize))},
	}
}

// measure runs one scenario and returns its Result.
func (b *bench) measure(ctx context.Context, t *target, sc scenario) (Result, error) {
	logf("%s: %s", t.db, sc.label)
	pid := 0
	if sc.proc != nil {
		pid = sc.proc.pid()
	}
	var perf *exec.Cmd
	if b.cfg.perfDir != "" && sc.proc != nil {
		out := filepath.Join(b.cfg.perfDir, strings.ToLower(t.db)+"-"+sc.id+".perf.data")
		secs := strconv.FormatFloat((b.cfg.warmup + b.cfg.duration).Seconds(), 'f', 1, 64)
		perf = exec.CommandContext(ctx, "perf", "record", "-q", "-F", "499", "-g", "-p", strconv.Itoa(sc.proc.pid()), "-o", out, "--", "sleep", secs)
		if err := perf.Start(); err != nil {
			logf("  perf: %v", err)
			perf = nil
		}
	}
	var sess0 int64
	if t.sessions != nil {
		sess0, _ = t.sessions(ctx)
	}
	var cpu0, cpu1 cpuSample
	var cpuErr error
	var t0, t1 time.Time
	conc := b.cfg.concurrency
	if sc.concurrency > 0 {
		conc = sc.concurrency
	}
	sum, firstErr, err := runLoad(ctx, conc, b.cfg.warmup, b.cfg.duration, sc.newOp, func(start bool) {
		if !start {
			t1 = time.Now()
			cpu1, cpuErr = sampleCPU(pid, t.dbName)
			return
		}
		if pid != 0 {
			if err := resetPeakRSS(pid); err != nil {
				logf("  cannot reset the peak RSS: %v (the figure is the peak since start)", err)
			}
		}
		cpu0, cpuErr = sampleCPU(pid, t.dbName)
		t0 = time.Now()
	})
	if perf != nil {
		_ = perf.Wait()
	}
	for _, c := range t.http {
		c.CloseIdleConnections()
	}
	if err != nil {
		return Result{}, err
	}
	r := Result{DB: t.db, ID: sc.id, Label: sc.label, BaselineID: sc.baseline, Concurrency: conc,
		Clients: t.clients, Summary: sum, RSSOf: sc.rssOf}
	if cpuErr == nil {
		r.CPU = split(cpu0, cpu1, t1.Sub(t0).Seconds())
	}
	r.NewConns = -1
	if sc.proc != nil {
		if !sc.proc.alive() {
			return Result{}, fmt.Errorf("%s died during %s; its log:\n%s", sc.proc.name, sc.label, tail(sc.proc.logPath, 20))
		}
		rss, err := peakRSS(sc.proc.pid())
		if err != nil {
			return Result{}, err
		}
		r.PeakRSS = rss
	}
	logf("  %s req/s, %s items/s, p50 %s ms, p99 %s ms, p99.9 %s ms, %d errors, peak RSS %s MB, CPU cores server/db/harness/other %s",
		num(sum.RPS), num(sum.ItemsPS), ms(sum.P50), ms(sum.P99), ms(sum.P999), sum.Errors, mb(r.PeakRSS), r.CPU)
	if firstErr != "" {
		logf("  first error: %s", firstErr)
	}
	if t.sessions != nil {
		// PostgreSQL publishes session counts within a second.
		time.Sleep(1100 * time.Millisecond)
		if sess1, err := t.sessions(ctx); err == nil {
			r.NewConns = sess1 - sess0
			logf("  PostgreSQL sessions opened during the scenario: %d", r.NewConns)
		}
	}
	if sum.Requests == 0 {
		return Result{}, errors.New("no request completed")
	}
	return r, nil
}
