package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
)

// seedUsage prepares the usage scenario through the API: a metric, a product
// with a flat and a metered monthly price, a plan, and a subscription of the
// client; it returns the subscription's id.
func (b *bench) seedUsage(ctx context.Context, client *http.Client, base string, clientID int64) (int64, error) {
	call := func(method string, params map[string]any) (int64, error) {
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
		out, err := probe(ctx, client, request{method: http.MethodPost, url: base + "/", header: b.jsonHeader(true), body: body})
		if err != nil {
			return 0, err
		}
		var r struct {
			Result struct{ ID int64 } `json:"result"`
			Error  *json.RawMessage   `json:"error"`
		}
		if err := json.Unmarshal(out, &r); err != nil || r.Error != nil || r.Result.ID == 0 {
			return 0, fmt.Errorf("%s answered %s", method, out)
		}
		return r.Result.ID, nil
	}
	if _, err := call("billing.metrics.create", map[string]any{"code": "bench_calls", "name": "calls"}); err != nil {
		return 0, err
	}
	product, err := call("billing.products.create", map[string]any{"name": "Bench product"})
	if err != nil {
		return 0, err
	}
	price := func(extra map[string]any) (int64, error) {
		p := map[string]any{"products_id": product, "amount": 1000, "currency": "USD", "recurring": true, "schedule": "month"}
		for k, v := range extra {
			p[k] = v
		}
		return call("billing.prices.create", p)
	}
	flat, err := price(nil)
	if err != nil {
		return 0, err
	}
	metered, err := price(map[string]any{"amount": 1, "usage_metric": "bench_calls"})
	if err != nil {
		return 0, err
	}
	plan, err := call("billing.plans.create", map[string]any{"products_id": product, "code_name": "bench", "name": "Bench", "prices": []int64{flat, metered}})
	if err != nil {
		return 0, err
	}
	return call("billing.subscriptions.create", map[string]any{"clients_id": clientID, "plan": plan, "price": flat})
}

// usageSeq numbers the events of the usage scenario across workers.
var usageSeq atomic.Int64

// usageBatch is a JSON-RPC batch of n usage events on subscription sub; one in
// ten repeats an event already sent, so the duplicate check is on the path.
func usageBatch(sub int64, n int) []byte {
	var buf bytes.Buffer
	buf.Grow(n * 140)
	buf.WriteByte('[')
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		ev := usageSeq.Add(1)
		if i%10 == 9 && ev > 100 {
			ev -= 50
		}
		fmt.Fprintf(&buf, `{"jsonrpc":"2.0","id":%d,"method":"billing.usage.events.create","params":{"event_id":"ev-%d","subscription":%d,"code":"bench_calls","value":1}}`, i+1, ev, sub)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}
