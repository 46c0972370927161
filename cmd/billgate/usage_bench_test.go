package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billgate/billgate/pkg/pgtest"
)

// BenchmarkUsageIngest measures usage event ingestion through JSON-RPC
// batches of 100 billing.usage.events.create calls, 10% of them repeats of
// events already sent (the duplicate check), from 4 concurrent senders, on
// a booted server (SQLite; BILLGATE_BENCH_DB=postgres for PostgreSQL).
// It reports events/s; one iteration is one batch.
//
//	go test ./cmd/billgate -run '^$' -bench BenchmarkUsageIngest -benchtime 100x
func BenchmarkUsageIngest(b *testing.B) {
	url := "sqlite://" + filepath.Join(b.TempDir(), "bench.db")
	if os.Getenv("BILLGATE_BENCH_DB") == "postgres" {
		url = pgtest.URL(b)
	}
	base := bootForBench(b, url)
	call := func(method string, params any) json.RawMessage {
		res, err := benchRPC(base, method, params)
		if err != nil {
			b.Fatalf("%s: %v", method, err)
		}
		return res
	}
	id := func(raw json.RawMessage) int64 {
		var v idOnly
		_ = json.Unmarshal(raw, &v)
		return v.ID
	}
	code := "bench_calls"
	call("billing.metrics.create", map[string]any{"code": code, "name": "calls"})
	prod := id(call("billing.products.create", map[string]any{"name": "bench"}))
	flat := id(call("billing.prices.create", map[string]any{"products_id": prod, "amount": 1000, "currency": "USD", "recurring": true, "schedule": "month"}))
	metered := id(call("billing.prices.create", map[string]any{"products_id": prod, "amount": 1, "currency": "USD", "recurring": true,
		"schedule": "month", "usage_metric": code}))
	plan := id(call("billing.plans.create", map[string]any{"products_id": prod, "code_name": "bench", "name": "bench", "prices": []int64{flat, metered}}))
	client := id(call("clients.create", map[string]any{"name": "bench", "currency": "USD"}))
	sub := id(call("billing.subscriptions.create", map[string]any{"clients_id": client, "plan": plan}))

	var next atomic.Int64
	batch := func() []byte {
		reqs := make([]map[string]any, 100)
		for i := range reqs {
			n := next.Add(1)
			if i%10 == 9 && n > 100 {
				n -= 50 // a repeat of an event sent before
			}
			reqs[i] = map[string]any{"jsonrpc": "2.0", "id": i, "method": "billing.usage.events.create",
				"params": map[string]any{"event_id": fmt.Sprintf("ev-%d", n), "subscription": sub, "code": code, "value": 1}}
		}
		body, _ := json.Marshal(reqs)
		return body
	}
	work := make(chan []byte, 4)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range work {
				if err := postBatch(base, body); err != nil {
					failed.Add(1)
					b.Error(err)
				}
			}
		}()
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		work <- batch()
	}
	close(work)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "events/s")
	if failed.Load() > 0 {
		b.Fatalf("%d batches failed", failed.Load())
	}
}

// postBatch sends one JSON-RPC batch and checks that every element succeeded.
func postBatch(base string, body []byte) error {
	req, _ := http.NewRequest("POST", base, bytes.NewReader(body))
	req.Header.Set("X-Api-Key", adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var replies []struct {
		Error *rpcError `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&replies); err != nil {
		return err
	}
	for _, r := range replies {
		if r.Error != nil {
			return fmt.Errorf("event refused: %s", r.Error.Message)
		}
	}
	return nil
}

// benchRPC makes one JSON-RPC call as the admin.
func benchRPC(base, method string, params any) (json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, _ := http.NewRequest("POST", base, bytes.NewReader(body))
	req.Header.Set("X-Api-Key", adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return nil, err
	}
	if env.Error != nil {
		return nil, fmt.Errorf("%d %s", env.Error.Code, env.Error.Message)
	}
	return env.Result, nil
}

// bootForBench starts `billgate serve` on dbURL (as startServer does for
// tests) and returns its URL.
func bootForBench(tb testing.TB, dbURL string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	vars := map[string]string{"BILLGATE_LISTEN": addr, "BILLGATE_DATABASE_URL": dbURL, "BILLGATE_ADMIN_API_KEY": adminKey,
		"BILLGATE_ADMIN_PASSWORD": adminPassword, "BILLGATE_JWT_SECRET": jwtSecret, "BILLGATE_LOG_LEVEL": "warn"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, io.Discard, io.Discard)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	for range 1500 {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return "http://" + addr
			}
		}
		select {
		case err := <-done:
			tb.Fatalf("server did not start: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	tb.Fatal("server did not become healthy")
	return ""
}
