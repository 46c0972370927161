package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billgate/billgate/pkg/pgtest"
)

// closedByServer reads from conn until the server closes it, bounded by a
// deadline; it returns the first response line seen, if any, and whether the
// server closed the connection (rather than the deadline passing).
func closedByServer(conn net.Conn, limit time.Duration) (string, bool) {
	conn.SetReadDeadline(time.Now().Add(limit))
	r := bufio.NewReader(conn)
	first, _ := r.ReadString('\n')
	_, err := io.Copy(io.Discard, r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return first, false
	}
	return first, true // EOF or reset: closed by the server
}

// TestSlowClientsCannotExhaustTheServer opens 200 connections that send half
// a request head and stall (slowloris), 20 that send a head and then stall in
// the body, and one that stays idle after a request. A normal client keeps
// getting answers meanwhile, and the server closes every stalled connection
// itself (read_header_timeout, read_timeout, idle_timeout) — the test only
// waits, bounded, for it to do so.
func TestSlowClientsCannotExhaustTheServer(t *testing.T) {
	s := startServer(t, "sqlite://"+filepath.Join(t.TempDir(), "slow.db"), map[string]string{
		"BILLGATE_READ_HEADER_TIMEOUT": "2s",
		"BILLGATE_READ_TIMEOUT":        "3s",
		"BILLGATE_WRITE_TIMEOUT":       "5s",
		"BILLGATE_IDLE_TIMEOUT":        "2s",
	})
	addr := strings.TrimPrefix(s.URL, "http://")
	dial := func() net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	var heads, bodies []net.Conn
	for i := range 200 {
		c := dial()
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nX-Api-Key: %s\r\nX-Slow-%d: ", addr, adminKey, i)
		heads = append(heads, c)
	}
	for i := range 20 {
		c := dial()
		path := []string{"/", "/clients"}[i%2]
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nX-Api-Key: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"jsonrpc\":", path, addr, adminKey)
		bodies = append(bodies, c)
	}
	idle := dial()
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	line, err := bufio.NewReader(idle).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("idle connection's request: %q %v", line, err)
	}

	// A normal client is served while the stalled connections are open.
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range 20 {
		if i%2 == 0 {
			s.ok(t, keyAuth(adminKey), "iam.users.get", map[string]any{"id": 1}, nil)
			continue
		}
		resp, err := client.Get(s.URL + "/healthz")
		if err != nil {
			t.Fatalf("normal client: %v", err)
		}
		resp.Body.Close()
	}

	// The server closes them all by itself.
	for i, c := range heads {
		if line, closed := closedByServer(c, 30*time.Second); !closed || line != "" {
			t.Fatalf("slow head %d: closed %v, got %q", i, closed, line)
		}
	}
	for i, c := range bodies {
		line, closed := closedByServer(c, 30*time.Second)
		if !closed {
			t.Fatalf("slow body %d: not closed", i)
		}
		if line != "" && !strings.HasPrefix(line, "HTTP/1.1 4") {
			t.Errorf("slow body %d answered %q", i, line)
		}
	}
	if _, closed := closedByServer(idle, 30*time.Second); !closed {
		t.Error("idle connection not closed")
	}
	s.ok(t, keyAuth(adminKey), "system.version", map[string]any{}, nil)
}

// TestCallDeadline: a call that runs past call_timeout fails with a clear
// timeout error (-32009 over JSON-RPC, HTTP 504 over REST), and leaves no
// trace: the money movement, held for real on a row lock taken by another
// connection, is not in the ledger once the lock is released; the same
// idempotency key can then be used again; the server serves on.
func TestCallDeadline(t *testing.T) {
	dbURL := pgtest.URL(t)
	s := startServer(t, dbURL, map[string]string{"BILLGATE_CALL_TIMEOUT": "1s"})
	a := keyAuth(adminKey)
	var c idOnly
	s.ok(t, a, "clients.create", map[string]any{"name": uniq("deadline"), "currency": "USD"}, &c)
	s.ok(t, a, "accounting.transactions.create", map[string]any{"clients_id": c.ID, "amount": 100, "type": "payment"}, nil)

	release := lockClient(t, dbURL, c.ID)
	l := newLoad(s, c.ID, 0)
	for _, op := range []string{"rest-create", "rpc-create"} {
		o := l.call(op)
		switch {
		case o.err != nil:
			t.Errorf("%s: no answer: %v", op, o.err)
		case o.code != "timeout":
			t.Errorf("%s: %d %s, want timeout", op, o.status, o.body)
		case op == "rest-create" && o.status != 504:
			t.Errorf("%s: HTTP %d, want 504", op, o.status)
		case op == "rpc-create" && (o.status != 200 || o.rpcCode != -32009):
			t.Errorf("%s: HTTP %d code %d, want -32009", op, o.status, o.rpcCode)
		case driverText.MatchString(o.body):
			t.Errorf("%s: driver text: %s", op, o.body)
		default:
			t.Logf("%s: %s after %v", op, o.code, o.end.Sub(o.start).Round(time.Millisecond))
		}
	}
	keyed := map[string]any{"clients_id": c.ID, "amount": 7, "type": "payment", "__idempotency_key": "deadline-key"}
	if r := s.rpc(t, a, "accounting.transactions.create", keyed); r.Err.dataCode() != "timeout" {
		t.Errorf("with an idempotency key: %+v", r.Err)
	}
	release()

	var tx struct {
		ID     int64 `json:"id"`
		Amount int64 `json:"amount"`
	}
	s.ok(t, a, "accounting.transactions.create", keyed, &tx)
	if tx.Amount != 7 {
		t.Errorf("retry with the idempotency key: %+v", tx)
	}
	balance, sum, ids := dbLedger(t, dbURL, c.ID)
	if len(ids) != 2 || balance != 107 || sum != 107 {
		t.Errorf("after the timeouts: %d movements, balance %d, sum %d (want 2, 107, 107)", len(ids), balance, sum)
	}
}
