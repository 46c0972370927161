package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// usageEvent is one billing.usage.events.create call of a batch.
type usageEvent struct {
	EventID string
	Value   int64
}

// batchReply is one element of a JSON-RPC batch's answer.
type batchReply struct {
	ID     int64 `json:"id"`
	Result *struct {
		Duplicate bool `json:"duplicate"`
	} `json:"result"`
	Error *rpcError `json:"error"`
}

// sendEvents posts events for sub as one JSON-RPC batch and returns the
// replies by request id (the index in events).
func sendEvents(t *testing.T, s *server, a auth, sub int64, code string, events []usageEvent) []batchReply {
	t.Helper()
	reqs := make([]map[string]any, len(events))
	for i, e := range events {
		reqs[i] = map[string]any{"jsonrpc": "2.0", "id": i, "method": "billing.usage.events.create",
			"params": map[string]any{"event_id": e.EventID, "subscription": sub, "code": code, "value": e.Value}}
	}
	body, _ := json.Marshal(reqs)
	status, _, b := s.raw(t, a, "POST", "/", "application/json", body)
	var out []batchReply
	if status != 200 || json.Unmarshal(b, &out) != nil || len(out) != len(events) {
		t.Fatalf("batch: %d %.300s", status, b)
	}
	return out
}

// usageSetup is a test-mode client subscribed to a plan with a flat monthly
// price of 10.00 USD and a metered price of unit per event unit.
type usageSetup struct {
	a                   auth
	client, sub, metric int64
	code                string
	start               time.Time
}

func newUsageSetup(t *testing.T, s *server, start time.Time, unit int64) usageSetup {
	t.Helper()
	u := usageSetup{a: keyAuth(testKeyFor(t, s)), code: uniq("calls"), start: start}
	advance(t, s, u.a, start)
	var m, prod, flat, metered, plan, client, sub idOnly
	s.ok(t, u.a, "billing.metrics.create", map[string]any{"code": u.code, "name": "API calls", "aggregation": "sum"}, &m)
	s.ok(t, u.a, "billing.products.create", map[string]any{"name": "API"}, &prod)
	s.ok(t, u.a, "billing.prices.create", map[string]any{"products_id": prod.ID, "amount": 1000, "currency": "USD", "recurring": true, "schedule": "month"}, &flat)
	s.ok(t, u.a, "billing.prices.create", map[string]any{"products_id": prod.ID, "amount": unit, "currency": "USD", "recurring": true,
		"schedule": "month", "usage_metric": u.code}, &metered)
	s.ok(t, u.a, "billing.plans.create", map[string]any{"products_id": prod.ID, "code_name": uniq("api"), "name": "API",
		"prices": []int64{flat.ID, metered.ID}}, &plan)
	s.ok(t, u.a, "clients.create", map[string]any{"name": uniq("user "), "currency": "USD", "timezone": "UTC"}, &client)
	s.ok(t, u.a, "billing.subscriptions.create", map[string]any{"clients_id": client.ID, "plan": plan.ID}, &sub)
	u.client, u.sub, u.metric = client.ID, sub.ID, m.ID
	return u
}

// TestUsageIngestion: 10,000 events, 1,000 of them repeats of others, sent
// concurrently in JSON-RPC batches of 100 by 4 senders (two server processes
// on PostgreSQL), are counted once each: exactly 1,000 replies say
// duplicate, 9,000 events are stored, the estimate and the next cycle
// invoice bill exactly their sum.
func TestUsageIngestion(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		start := time.Date(2094, 5, 1, 0, 0, 0, 0, time.UTC)
		u := newUsageSetup(t, s, start, 3)
		servers := []*server{s}
		if strings.HasPrefix(s.DBURL, "postgres") {
			servers = append(servers, startServer(t, s.DBURL, nil))
		}
		rng := rand.New(rand.NewPCG(7, 7))
		var events []usageEvent
		var sum int64
		for i := range 9000 {
			e := usageEvent{EventID: fmt.Sprintf("%s-%05d", u.code, i), Value: int64(i%7 + 1)}
			sum += e.Value
			events = append(events, e)
		}
		for _, i := range rng.Perm(9000)[:1000] {
			events = append(events, events[i])
		}
		rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })

		batches := make(chan []usageEvent, 100)
		for i := 0; i < len(events); i += 100 {
			batches <- events[i : i+100]
		}
		close(batches)
		var mu sync.Mutex
		var dups, errs int
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range batches {
					for _, r := range sendEvents(t, servers[g%len(servers)], u.a, u.sub, u.code, b) {
						mu.Lock()
						switch {
						case r.Error != nil:
							errs++
							t.Errorf("event refused: %+v", r.Error)
						case r.Result.Duplicate:
							dups++
						}
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		if dups != 1000 || errs != 0 {
			t.Fatalf("%d duplicates reported (want 1000), %d errors", dups, errs)
		}
		var n struct {
			Count int64 `json:"count"`
		}
		s.ok(t, u.a, "billing.usage.events.count", map[string]any{"subscriptions_id": u.sub}, &n)
		var est struct {
			Costs []struct {
				Quantity json.Number `json:"quantity"`
				Amount   int64       `json:"amount"`
			} `json:"costs"`
			Cost struct {
				Amount int64 `json:"amount"`
			} `json:"cost"`
		}
		s.ok(t, u.a, "billing.usage.estimate", map[string]any{"clients_id": u.client}, &est)
		if n.Count != 9000 || len(est.Costs) != 1 || est.Costs[0].Quantity.String() != fmt.Sprint(sum) || est.Cost.Amount != 3*sum {
			t.Fatalf("stored %d events; estimate %+v, want quantity %d costing %d", n.Count, est, sum, 3*sum)
		}

		jun1 := time.Date(2094, 6, 1, 0, 0, 0, 0, time.UTC)
		advance(t, s, u.a, jun1)
		invs := clientInvoices(t, s, u.a, u.client)
		if len(invs) != 2 {
			t.Fatalf("%d invoices, want 2", len(invs))
		}
		wantLine(t, invs[1], 0, "subscription", 1, 1000, 1000, "0", jun1, time.Date(2094, 7, 1, 0, 0, 0, 0, time.UTC))
		wantLine(t, invs[1], 1, "usage", sum, 3, 3*sum, "0", start, jun1)
		if invs[1].Total != 1000+3*sum {
			t.Errorf("invoice total %d, want %d", invs[1].Total, 1000+3*sum)
		}
	})
}

// TestUsageLimits: a WARNING limit at 10.00 and a DISABLE limit at 20.00 on
// usage costing 1.00 an event. 30 events race in 3 batches of 10: each limit
// fires exactly once, at exactly its amount (the 10th and the 20th event),
// DISABLE suspends the client, and the 10 events after it are refused.
func TestUsageLimits(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		u := newUsageSetup(t, s, time.Date(2094, 9, 1, 0, 0, 0, 0, time.UTC), 100)
		limits := map[string]int64{}
		for action, amount := range map[string]int64{"WARNING": 1000, "DISABLE": 2000} {
			var l idOnly
			s.ok(t, u.a, "billing.usage.limits.create", map[string]any{"clients_id": u.client, "amount": amount, "action": action}, &l)
			limits[action] = l.ID
		}
		var wg sync.WaitGroup
		replies := make([][]batchReply, 3)
		for g := range replies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				batch := make([]usageEvent, 10)
				for i := range batch {
					batch[i] = usageEvent{EventID: fmt.Sprintf("lim-%d-%d", g, i), Value: 1}
				}
				replies[g] = sendEvents(t, s, u.a, u.sub, u.code, batch)
			}()
		}
		wg.Wait()
		var accepted, refused int
		for _, rs := range replies {
			for _, r := range rs {
				switch {
				case r.Error == nil:
					accepted++
				case strings.Contains(string(r.Error.Data), "client_not_active"):
					refused++
				default:
					t.Errorf("event: %+v", r.Error)
				}
			}
		}
		var ls []struct {
			ID        int64      `json:"id"`
			Action    string     `json:"action"`
			FiredAt   *time.Time `json:"fired_at"`
			FiredCost *int64     `json:"fired_cost"`
		}
		s.ok(t, u.a, "billing.usage.limits.search", map[string]any{"clients_id": u.client, "order": "amount"}, &ls)
		if accepted != 20 || refused != 10 || len(ls) != 2 || ls[0].FiredCost == nil || *ls[0].FiredCost != 1000 ||
			ls[1].FiredCost == nil || *ls[1].FiredCost != 2000 {
			t.Fatalf("accepted %d, refused %d; limits %+v", accepted, refused, ls)
		}
		var c clientView
		s.ok(t, u.a, "clients.get", map[string]any{"id": u.client}, &c)
		if c.Status != "suspended" {
			t.Errorf("client status %s after DISABLE", c.Status)
		}
		for action, id := range limits {
			var entries []struct {
				Changes map[string]any `json:"changes"`
			}
			s.ok(t, u.a, "audit.search", map[string]any{"entity": "usage_limit", "entity_id": fmt.Sprint(id), "action": "update"}, &entries)
			if len(entries) != 1 || entries[0].Changes["action"] != action {
				t.Errorf("%s fired %d times: %+v", action, len(entries), entries)
			}
		}
		var suspensions []idOnly
		s.ok(t, u.a, "audit.search", map[string]any{"entity": "client", "entity_id": fmt.Sprint(u.client), "action": "update"}, &suspensions)
		if len(suspensions) != 1 {
			t.Errorf("the client was suspended %d times", len(suspensions))
		}
	})
}
