package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billgate/billgate/pkg/pgtest"
)

// buildBinary builds the billgate binary into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go"); !fileExists(goBin) {
			t.Skip("the go command is not available to build the binary")
		}
	}
	bin := filepath.Join(t.TempDir(), "billgate")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// lockClient locks the client row in a transaction of its own, as another
// writer would: calls moving that client's balance wait for the lock. The
// returned function releases it (commit) and closes the connection.
func lockClient(t *testing.T, dbURL string, client int64) func() {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := tx.QueryRow(ctx, "SELECT id FROM clients WHERE id = $1 FOR UPDATE", client).Scan(&id); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := tx.Commit(ctx); err != nil {
				t.Errorf("release the lock: %v", err)
			}
			conn.Close(ctx)
		})
	}
	t.Cleanup(release)
	return release
}

// lockWaiters counts the backends of dbURL's database waiting on a lock.
func lockWaiters(t *testing.T, dbURL string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// dbLedger reads a client's balance and the sum and ids of its ledger with SQL.
func dbLedger(t *testing.T, dbURL string, client int64) (balance, sum int64, ids map[int64]int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT balance FROM clients WHERE id = $1", client).Scan(&balance); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "SELECT id, amount FROM transactions WHERE clients_id = $1", client)
	if err != nil {
		t.Fatal(err)
	}
	ids = map[int64]int64{}
	for rows.Next() {
		var id, amount int64
		if err := rows.Scan(&id, &amount); err != nil {
			t.Fatal(err)
		}
		ids[id], sum = amount, sum+amount
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return balance, sum, ids
}

// TestSIGTERMUnderLoad runs the real binary on PostgreSQL and sends it
// SIGTERM while calls are in flight (money movements held on a row lock from
// another connection, so they are certainly still running) and a load of
// movements on another client goes on. The listener must close (new
// connections refused) while the held calls still run; once the lock is
// released they complete with success replies; the process exits 0; every
// acknowledged movement is in the ledger and both balances equal their
// ledger sums.
func TestSIGTERMUnderLoad(t *testing.T) {
	dbURL := pgtest.URL(t)
	bin := buildBinary(t)
	addr := freePort(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"BILLGATE_LISTEN="+addr, "BILLGATE_DATABASE_URL="+dbURL,
		"BILLGATE_ADMIN_API_KEY="+adminKey, "BILLGATE_ADMIN_PASSWORD="+adminPassword, "BILLGATE_JWT_SECRET="+jwtSecret,
		"BILLGATE_SHUTDOWN_TIMEOUT=60s", "BILLGATE_CALL_TIMEOUT=60s", "BILLGATE_LOG_LEVEL=info")
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	exited := make(chan struct{}) // closed once the process is reaped; exitErr is then set
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	s := &server{URL: "http://" + addr, DBURL: dbURL, stderr: &stderr}
	waitFor(t, "the binary to serve", time.Minute, func() bool {
		select {
		case <-exited:
			t.Fatalf("billgate exited at start: %v\n%s", exitErr, stderr.String())
		default:
		}
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	var held, busy idOnly
	s.ok(t, keyAuth(adminKey), "clients.create", map[string]any{"name": uniq("held"), "currency": "USD"}, &held)
	s.ok(t, keyAuth(adminKey), "clients.create", map[string]any{"name": uniq("busy"), "currency": "USD"}, &busy)

	// Calls in flight: movements of the held client, waiting on its row lock.
	release := lockClient(t, dbURL, held.ID)
	const inFlight = 6
	inflight := newLoad(s, held.ID, 0)
	inflight.http = &http.Client{Timeout: 2 * time.Minute}
	results := make(chan outcome, inFlight)
	for i := range inFlight {
		go func() { results <- inflight.call([]string{"rest-create", "rpc-create"}[i%2]) }()
	}
	waitFor(t, fmt.Sprintf("%d calls waiting on the row lock", inFlight), time.Minute, func() bool { return lockWaiters(t, dbURL) >= inFlight })

	// Load on another client, new connection per call.
	bg := newLoad(s, busy.ID, 4)
	bg.http.Transport = &http.Transport{DisableKeepAlives: true}
	waitFor(t, "background movements", time.Minute, func() bool {
		return bg.count(func(o outcome) bool { return o.create() && o.code == "ok" }) >= 20
	})

	sigterm := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "new connections to be refused", time.Minute, func() bool {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err == nil {
			c.Close()
			return false
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	refused := time.Now()
	select {
	case o := <-results:
		t.Fatalf("a held call returned before the lock was released: %+v", o)
	case <-exited:
		t.Fatalf("billgate exited with calls in flight: %v", exitErr)
	default:
	}
	bgOut := bg.halt()
	release()

	var held200 []outcome
	for range inFlight {
		select {
		case o := <-results:
			held200 = append(held200, o)
			if o.err != nil || o.code != "ok" {
				t.Errorf("in-flight %s after SIGTERM: %v %d %s", o.op, o.err, o.status, o.body)
			}
		case <-time.After(time.Minute):
			t.Fatal("in-flight calls did not complete after the lock was released")
		}
	}
	select {
	case <-exited:
		if exitErr != nil {
			t.Errorf("billgate exited with %v\n%s", exitErr, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("billgate did not exit after draining\n%s", stderr.String())
	}
	logs := stderr.String()
	if !strings.Contains(logs, "shutting down") || !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("no shutdown in the log:\n%s", logs)
	}

	// Every acknowledged movement is in the ledger; balances add up.
	bgAcked, bgRefused := 0, 0
	for _, o := range bgOut {
		switch {
		case o.err != nil:
			// No HTTP reply at all: refused after SIGTERM, or still in the
			// kernel's accept backlog when the listener closed (EOF, reset,
			// refused) — never accepted by the server, never acknowledged.
			// The calls the server had accepted are the held ones above,
			// and each of them must complete.
			bgRefused++
		case o.code != "ok":
			t.Errorf("background %s: %d %s", o.op, o.status, o.body)
		case o.create():
			bgAcked++
		}
	}
	for _, c := range []struct {
		id   int64
		outs []outcome
	}{{held.ID, held200}, {busy.ID, bgOut}} {
		balance, sum, ids := dbLedger(t, dbURL, c.id)
		if balance != sum {
			t.Errorf("client %d: balance %d, ledger sum %d", c.id, balance, sum)
		}
		for _, o := range c.outs {
			if o.create() && o.code == "ok" {
				if got, ok := ids[o.txID]; !ok || got != o.amount {
					t.Errorf("client %d: acknowledged movement %d (%d) missing from the ledger", c.id, o.txID, o.amount)
				}
			}
		}
	}
	t.Logf("listener closed %v after SIGTERM; %d held calls completed after it; background: %d movements acknowledged, %d calls refused after SIGTERM",
		refused.Sub(sigterm).Round(time.Millisecond), len(held200), bgAcked, bgRefused)
}
