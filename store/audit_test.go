package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

func TestAuditIsScopedByResellerAndMode(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		b := seedBilling(t, st)
		t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
		uid, kid := b.uA.ID, b.keys["user-a/live"].ID
		record := func(ctx context.Context, name string, reseller *int64, live bool, i int) *service.AuditEntry {
			t.Helper()
			e := &service.AuditEntry{CreatedAt: t0.Add(time.Duration(i) * time.Minute), UsersID: &uid, APIKeysID: &kid,
				RequestID: "req-" + name, Method: "clients.update", Entity: "client", EntityID: name, Action: "update",
				Changes:  map[string]any{"name": service.Change{From: "old", To: name}},
				LiveMode: live, ResellersID: reseller}
			if err := st.RecordAudit(ctx, e); err != nil {
				t.Fatalf("record %s: %v", name, err)
			}
			return e
		}
		// RecordAudit is unscoped: the entry says its own reseller and mode.
		noPrincipal := testCtx(t, nil)
		entries := map[string]*service.AuditEntry{
			"root/live": record(noPrincipal, "root/live", nil, true, 0),
			"A/live":    record(b.onlyB, "A/live", &b.A.ID, true, 1),
			"A1/live":   record(b.admin, "A1/live", &b.A1.ID, true, 2),
			"B/live":    record(b.admin, "B/live", &b.B.ID, true, 3),
			"A/test":    record(b.admin, "A/test", &b.A.ID, false, 4),
			"root/test": record(b.adminTest, "root/test", nil, false, 5),
		}
		for k, e := range entries {
			if e.ID == 0 || !e.CreatedAt.Equal(t0.Add(time.Duration(slices.Index([]string{"root/live", "A/live", "A1/live", "B/live", "A/test", "root/test"}, k))*time.Minute)) {
				t.Errorf("recorded %s: %+v", k, e)
			}
		}
		views := []struct {
			name string
			ctx  context.Context
			sees []string
		}{
			{"unrestricted live", b.admin, []string{"root/live", "A/live", "A1/live", "B/live"}},
			{"unrestricted test", b.adminTest, []string{"A/test", "root/test"}},
			{"A live", b.onlyA, []string{"A/live", "A1/live"}},
			{"A1 live", b.onlyA1, []string{"A1/live"}},
			{"B live", b.onlyB, []string{"B/live"}},
			{"A test", b.testA, []string{"A/test"}},
			{"B test", b.testB, nil},
		}
		for _, v := range views {
			got, err := st.SearchAudit(v.ctx, all)
			if err != nil {
				t.Fatalf("%s: %v", v.name, err)
			}
			var want []int64
			for _, k := range v.sees {
				want = append(want, entries[k].ID)
			}
			if g := ids(got, func(e *service.AuditEntry) int64 { return e.ID }); !slices.Equal(g, sorted(want...)) {
				t.Errorf("%s: %v, want %v", v.name, g, sorted(want...))
			}
		}

		// Read back in full, filtered and ordered.
		list, err := st.SearchAudit(b.onlyA, service.Query{Limit: 10, Order: []service.Order{{Field: "created_at", Desc: true}, {Field: "id"}},
			Filters: []service.Filter{{Field: "entity", Values: []any{"client"}}, {Field: "action", Values: []any{"update"}},
				{Field: "users_id", Values: []any{uid}}}})
		if err != nil || len(list) != 2 {
			t.Fatalf("filtered: %+v, %v", list, err)
		}
		e := list[0]
		if e.ID != entries["A1/live"].ID || e.EntityID != "A1/live" || e.RequestID != "req-A1/live" || e.Method != "clients.update" ||
			*e.UsersID != uid || *e.APIKeysID != kid || *e.ResellersID != b.A1.ID || !e.LiveMode ||
			!e.CreatedAt.Equal(entries["A1/live"].CreatedAt) || jsonText(t, e.Changes) != `{"name":{"from":"old","to":"A1/live"}}` {
			t.Errorf("read back %+v", e)
		}
		wantUTCMicro(t, "CreatedAt", e.CreatedAt)
		list, err = st.SearchAudit(b.admin, service.Query{Limit: 10, Order: []service.Order{{Field: "id"}},
			Filters: []service.Filter{{Field: "entity_id", Values: []any{"B/live"}}}, Q: "req-b%", QFields: []string{"request_id"}})
		if err != nil || len(list) != 1 || list[0].ID != entries["B/live"].ID {
			t.Errorf("entity_id and q: %+v, %v", list, err)
		}
	})
}

func TestAuditCommitsWithTheChange(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		boom := errors.New("boom")
		err := st.InTx(f.admin, func(ctx context.Context) error {
			c := mustClient(t, st, ctx, "rolled back", nil)
			if err := st.RecordAudit(ctx, &service.AuditEntry{Entity: "client", EntityID: itoa(c.ID), Action: "create", LiveMode: true}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got, err := st.SearchAudit(f.admin, all); err != nil || len(got) != 0 {
			t.Errorf("entries of a rolled-back change: %d, %v", len(got), err)
		}
		e := &service.AuditEntry{Entity: "currency", EntityID: "EUR", Action: "update", LiveMode: true}
		if err := st.InTx(f.admin, func(ctx context.Context) error { return st.RecordAudit(ctx, e) }); err != nil {
			t.Fatal(err)
		}
		wantUTCMicro(t, "default CreatedAt", e.CreatedAt)
		got, err := st.SearchAudit(f.admin, all)
		if err != nil || len(got) != 1 || got[0].Changes != nil || got[0].UsersID != nil || got[0].ResellersID != nil {
			t.Errorf("committed entry: %+v, %v", got, err)
		}
	})
}
