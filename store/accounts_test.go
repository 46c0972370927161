package store_test

import (
	"slices"
	"testing"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

func TestAccountCRUD(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		c := mustClient(t, st, f.onlyA, "owner", &f.A1.ID)
		a := &service.Account{ClientsID: c.ID, Name: "trunk-1", Status: service.ClientActive,
			IPs: []string{"10.0.0.0/8", "2001:db8::/32"}, Metadata: map[string]any{"port": 5060}}
		if err := st.CreateAccount(f.onlyA, a); err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || !a.LiveMode || !a.CreatedAt.Equal(a.UpdatedAt) {
			t.Fatalf("created %+v", a)
		}
		wantUTCMicro(t, "CreatedAt", a.CreatedAt)
		got, err := st.FindAccount(f.onlyA1, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ClientsID != c.ID || got.Name != "trunk-1" || got.Status != service.ClientActive ||
			!slices.Equal(got.IPs, a.IPs) || jsonText(t, got.Metadata) != `{"port":5060}` || !got.CreatedAt.Equal(a.CreatedAt) {
			t.Fatalf("found %+v, created %+v", got, a)
		}

		// No IPs and no metadata: [] and nil, never null lists.
		bare := mustAccount(t, st, f.onlyA, c.ID, "bare")
		got, err = st.FindAccount(f.onlyA, bare.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.IPs == nil || len(got.IPs) != 0 || got.Metadata != nil || bare.IPs == nil {
			t.Errorf("bare account: ips %#v (returned %#v), metadata %#v", got.IPs, bare.IPs, got.Metadata)
		}
		if jsonText(t, got.IPs) != "[]" {
			t.Errorf("ips render as %s", jsonText(t, got.IPs))
		}

		// Only the listed fields are written; the client never changes.
		got.Name, got.IPs, got.Status = "renamed", []string{"192.0.2.0/24"}, service.ClientArchived
		got.ClientsID = mustClient(t, st, f.onlyA, "other owner", &f.A.ID).ID
		if err := st.UpdateAccount(f.onlyA, got, []string{"name", "ips"}); err != nil {
			t.Fatal(err)
		}
		after, err := st.FindAccount(f.onlyA, bare.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Name != "renamed" || !slices.Equal(after.IPs, []string{"192.0.2.0/24"}) || after.Status != service.ClientActive ||
			after.ClientsID != c.ID || after.UpdatedAt.Before(bare.UpdatedAt) {
			t.Errorf("after update: %+v", after)
		}
		wantCode(t, st.UpdateAccount(f.onlyA, after, []string{"clients_id"}), service.CodeInternal)

		// Search: by client, status and quick search on the name.
		q := service.Query{Limit: 10, Order: []service.Order{{Field: "name"}, {Field: "id"}},
			Filters: []service.Filter{{Field: "clients_id", Values: []any{c.ID}}}}
		list, err := st.SearchAccounts(f.onlyA, q)
		if err != nil || len(list) != 2 || list[0].Name != "renamed" || list[1].Name != "trunk-1" {
			t.Errorf("accounts of the client: %+v, %v", list, err)
		}
		q.Q, q.QFields = "%trunk%", []string{"name"}
		if n, err := st.CountAccounts(f.onlyA, q); err != nil || n != 1 {
			t.Errorf("count q=trunk: %d, %v", n, err)
		}
		q = service.Query{Filters: []service.Filter{{Field: "status", Values: []any{service.ClientArchived}}}}
		if n, err := st.CountAccounts(f.onlyA, q); err != nil || n != 0 {
			t.Errorf("archived accounts: %d, %v", n, err)
		}

		// Out of the subtree: another reseller's principal sees nothing.
		_, err = st.FindAccount(f.onlyB, a.ID)
		wantCode(t, err, service.CodeNotFound)
		wantCode(t, st.CreateAccount(f.onlyB, &service.Account{ClientsID: c.ID, Name: "x", Status: "active"}), service.CodeNotFound)
		wantCode(t, st.CreateAccount(f.onlyA, &service.Account{ClientsID: c.ID + 1000, Name: "x", Status: "active"}), service.CodeNotFound)

		if err := st.DeleteAccount(f.onlyA1, a.ID); err != nil {
			t.Fatal(err)
		}
		_, err = st.FindAccount(f.admin, a.ID)
		wantCode(t, err, service.CodeNotFound)
		wantCode(t, st.DeleteAccount(f.onlyA, a.ID), service.CodeNotFound)
	})
}
