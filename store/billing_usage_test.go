package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

func mustMetric(t *testing.T, st *store.Store, ctx context.Context, owner *int64, code, agg, prop string) *service.Metric {
	t.Helper()
	m := &service.Metric{ResellersID: owner, Code: code, Name: code, Aggregation: agg, Property: prop}
	if err := st.CreateMetric(ctx, m); err != nil {
		t.Fatalf("metric %s: %v", code, err)
	}
	return m
}

// TestUsageEvents: an event_id is stored once per subscription, also when 8
// calls race; each aggregation over a period; the one-query target of an
// event; limits fire once; all scoped.
func TestUsageEvents(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		b := seedBilling(t, st)
		cat := mustCatalog(t, st, b.onlyA, &b.A.ID, "use")
		t0 := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
		cA := b.clients["A/live"]
		sub := mustSub(t, st, b.onlyA, cA.ID, cat, t0)
		metrics := map[string]*service.Metric{}
		for _, agg := range []string{"sum", "count", "max", "latest", "unique_count"} {
			prop := ""
			if agg == "unique_count" {
				prop = "user"
			}
			metrics[agg] = mustMetric(t, st, b.onlyA, &b.A.ID, "m_"+agg, agg, prop)
		}
		wantCode(t, st.CreateMetric(b.onlyA, &service.Metric{ResellersID: &b.A.ID, Code: "m_sum", Name: "x", Aggregation: "sum"}), service.CodeConflict)
		mustMetric(t, st, b.onlyB, &b.B.ID, "m_sum", "sum", "") // another reseller's may
		if m, err := st.FindMetricByCode(b.onlyA, "m_sum", &b.A.ID); err != nil || m.ID != metrics["sum"].ID {
			t.Errorf("by code: %+v %v", m, err)
		}
		_, err := st.FindMetricByCode(b.onlyA, "m_sum", nil)
		wantCode(t, err, service.CodeNotFound)

		record := func(ctx context.Context, agg, id string, micros int64, user string, at time.Time) (*service.UsageEvent, bool, error) {
			m := metrics[agg]
			e := &service.UsageEvent{EventID: id, SubscriptionsID: sub.ID, ClientsID: cA.ID, MetricsID: m.ID, Code: m.Code,
				Value: service.Decimal{Micros: micros}, OccurredAt: at, CreatedAt: at}
			if user != "" {
				key := `"` + user + `"`
				e.UniqueKey, e.Properties = &key, map[string]any{"user": user}
			}
			created, err := st.CreateUsageEvent(ctx, e)
			return e, created, err
		}
		for agg := range metrics {
			for i, v := range []int64{3_500_000, 1_000_000, 2_250_000} {
				user := ""
				if agg == "unique_count" {
					user = []string{"ann", "bob", "ann"}[i]
				}
				if _, created, err := record(b.onlyA, agg, fmt.Sprintf("%s-%d", agg, i), v, user, t0.Add(time.Duration(i+1)*time.Hour)); err != nil || !created {
					t.Fatalf("event: %v %v", created, err)
				}
			}
			// Before the period: not counted.
			if _, _, err := record(b.onlyA, agg, agg+"-early", 9_000_000, "cat", t0.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string]int64{"sum": 6_750_000, "count": 3_000_000, "max": 3_500_000, "latest": 2_250_000, "unique_count": 2_000_000}
		for agg, w := range want {
			got, err := st.AggregateUsage(b.onlyA, sub.ID, metrics[agg], t0, t0.AddDate(0, 1, 0))
			if err != nil || got.Micros != w {
				t.Errorf("%s: %v %v, want %d", agg, got, err, w)
			}
		}
		if got, err := st.AggregateUsage(b.onlyB, sub.ID, metrics["sum"], t0, t0.AddDate(0, 1, 0)); err != nil || got.Micros != 0 {
			t.Errorf("B aggregates A's events: %v %v", got, err)
		}

		// A repeated event_id: the first is kept; 8 racing calls store one.
		e, created, err := record(b.onlyA, "sum", "sum-0", 1, "", t0)
		if err != nil || created || e.Value.Micros != 3_500_000 || e.ID == 0 {
			t.Errorf("duplicate: %+v %v %v", e, created, err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, created, err := record(b.onlyA, "count", "raced", 1_000_000, "", t0.Add(time.Minute))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("racing insert: %v", err)
				}
				if created {
					stored++
				}
			}()
		}
		wg.Wait()
		if n, err := st.CountUsageEvents(b.onlyA, service.Query{Filters: []service.Filter{{Field: "event_id", Values: []any{"raced"}}}}); stored != 1 || n != 1 || err != nil {
			t.Errorf("raced: %d created, %d stored, %v", stored, n, err)
		}
		_, _, err = record(b.onlyB, "sum", "from-b", 1, "", t0)
		wantCode(t, err, service.CodeNotFound)
		_, _, err = record(b.adminTest, "sum", "from-test", 1, "", t0)
		wantCode(t, err, service.CodeNotFound)

		target, err := st.UsageTarget(b.onlyA, sub.ID, "m_max")
		if err != nil || target.Metric == nil || target.Metric.ID != metrics["max"].ID || target.ClientsID != cA.ID || target.PendingLimits ||
			target.SubStatus != service.SubActive || target.ClientStatus != service.ClientActive {
			t.Fatalf("target: %+v %v", target, err)
		}
		if target, err := st.UsageTarget(b.onlyA, sub.ID, "nope"); err != nil || target.Metric != nil {
			t.Errorf("unknown code: %+v %v", target, err)
		}
		_, err = st.UsageTarget(b.onlyB, sub.ID, "m_max")
		wantCode(t, err, service.CodeNotFound)

		l := &service.UsageLimit{ClientsID: cA.ID, Amount: 100, Action: service.LimitWarning}
		if err := st.CreateUsageLimit(b.onlyA, l); err != nil {
			t.Fatal(err)
		}
		if target, _ := st.UsageTarget(b.onlyA, sub.ID, "m_max"); !target.PendingLimits {
			t.Error("a pending limit is not seen")
		}
		fired := 0
		for range 2 {
			ok, err := st.FireUsageLimit(b.onlyA, l.ID, t0, 150)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				fired++
			}
		}
		pending, err := st.PendingUsageLimits(b.onlyA, cA.ID)
		if fired != 1 || err != nil || len(pending) != 0 {
			t.Errorf("fired %d times; pending %v %v", fired, pending, err)
		}
		if ok, err := st.FireUsageLimit(b.onlyB, l.ID, t0, 1); ok || err != nil {
			t.Errorf("B fires A's limit: %v %v", ok, err)
		}
		wantCode(t, st.DeleteUsageLimit(b.onlyB, l.ID), service.CodeNotFound)
		wantCode(t, st.DeleteMetric(b.onlyA, metrics["sum"].ID), service.CodeConflict) // events measured it
	})
}
