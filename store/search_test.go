package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

// searchFixture: users created one hour apart from t0, in login order.
type searchFixture struct {
	t0    time.Time
	users map[string]*service.User
	ctx   context.Context
}

var searchLogins = []string{"alice", "ALICIA", "bob", "carol", "dave_x", "davex", "e%f"}

func seedSearch(t *testing.T, st *store.Store) *searchFixture {
	t.Helper()
	sf := &searchFixture{t0: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), users: map[string]*service.User{}}
	sf.ctx = testCtx(t, adminPrincipal(true))
	r := mustReseller(t, st, sf.ctx, "R", nil)
	// Restricted to R: the seeded users are the only ones visible.
	sf.ctx = testCtx(t, restricted(r, true))
	for i, login := range searchLogins {
		u := newUser(login, &r.ID)
		u.CreatedAt = sf.t0.Add(time.Duration(i) * time.Hour)
		if i%2 == 1 {
			u.Status = service.UserDisabled
		}
		if err := st.CreateUser(sf.ctx, u); err != nil {
			t.Fatal(err)
		}
		sf.users[login] = u
	}
	return sf
}

func logins(us []*service.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Login
	}
	return out
}

func TestSearchUsers(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		sf := seedSearch(t, st)
		at := func(h int) *time.Time { v := sf.t0.Add(time.Duration(h) * time.Hour); return &v }
		byID := []service.Order{{Field: "id"}}
		cases := []struct {
			name string
			q    service.Query
			want []string
		}{
			{"all by id", service.Query{Limit: 20, Order: byID}, searchLogins},
			{"status filter", service.Query{Limit: 20, Order: byID,
				Filters: []service.Filter{{Field: "status", Values: []any{service.UserDisabled}}}},
				[]string{"ALICIA", "carol", "davex"}},
			{"id filter and login filter", service.Query{Limit: 20, Order: byID, Filters: []service.Filter{
				{Field: "id", Values: []any{sf.users["bob"].ID, sf.users["carol"].ID, sf.users["alice"].ID}},
				{Field: "login", Values: []any{"bob", "alice", "nobody"}}}},
				[]string{"alice", "bob"}},
			{"created_at descending", service.Query{Limit: 3, Order: []service.Order{{Field: "created_at", Desc: true}}},
				[]string{"e%f", "davex", "dave_x", "carol"}}, // limit+1 rows
			{"limit+1 then offset", service.Query{Limit: 2, Offset: 2, Order: byID}, []string{"bob", "carol", "dave_x"}},
			{"last page has no extra row", service.Query{Limit: 5, Offset: 5, Order: byID}, []string{"davex", "e%f"}},
			{"q is case-insensitive", service.Query{Limit: 20, Order: byID, Q: "%ali%", QFields: []string{"login"}},
				[]string{"alice", "ALICIA"}},
			{"q prefix", service.Query{Limit: 20, Order: byID, Q: "da%", QFields: []string{"login"}},
				[]string{"dave_x", "davex"}},
			{"q escapes _", service.Query{Limit: 20, Order: byID, Q: `%e\_x%`, QFields: []string{"login"}},
				[]string{"dave_x"}},
			{"q escapes %", service.Query{Limit: 20, Order: byID, Q: `%e\%f%`, QFields: []string{"login"}},
				[]string{"e%f"}},
			{"created range", service.Query{Limit: 20, Order: byID, CreatedFrom: at(1), CreatedTo: at(3)},
				[]string{"ALICIA", "bob"}},
			{"created range in another zone", service.Query{Limit: 20, Order: byID,
				CreatedFrom: ptr(at(5).In(time.FixedZone("minus5", -5*3600)))}, []string{"davex", "e%f"}},
			{"everything at once", service.Query{Limit: 1, Order: []service.Order{{Field: "login", Desc: true}},
				Filters: []service.Filter{{Field: "status", Values: []any{service.UserActive}}},
				Q:       "%a%", QFields: []string{"login"}, CreatedFrom: at(0), CreatedTo: at(5)},
				[]string{"dave_x", "alice"}},
		}
		for _, tc := range cases {
			got, err := st.SearchUsers(sf.ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !slices.Equal(logins(got), tc.want) {
				t.Errorf("%s: %q, want %q", tc.name, logins(got), tc.want)
			}
			// Count ignores order, limit and offset.
			n, err := st.CountUsers(sf.ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: count: %v", tc.name, err)
			}
			tc.q.Limit, tc.q.Offset = 0, 0
			every, err := st.SearchUsers(sf.ctx, tc.q)
			if err != nil || n != int64(len(every)) {
				t.Errorf("%s: count %d, %d rows without limit (%v)", tc.name, n, len(every), err)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestSearchOrdersNullsLastAscending(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		exp := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
		k := &service.APIKey{UsersID: f.uB.ID, Mode: "live", Prefix: "p", Hash: "expiring", ExpiresAt: &exp}
		if err := st.CreateAPIKey(f.onlyB, k); err != nil {
			t.Fatal(err)
		}
		for _, desc := range []bool{false, true} {
			keys, err := st.SearchAPIKeys(f.onlyB, service.Query{Limit: 10,
				Order: []service.Order{{Field: "expires_at", Desc: desc}, {Field: "id"}}})
			if err != nil || len(keys) != 3 {
				t.Fatalf("desc=%v: %d keys, %v", desc, len(keys), err)
			}
			first := keys[0].ExpiresAt != nil
			if first == desc {
				t.Errorf("desc=%v: the key with expires_at is at %v, want nulls last ascending, first descending", desc, keys)
			}
		}
	})
}

func TestQueryFieldOutsideTheWhitelistIsInternal(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		for name, q := range map[string]service.Query{
			"filter": {Filters: []service.Filter{{Field: "password_hash", Values: []any{"x"}}}},
			"order":  {Limit: 5, Order: []service.Order{{Field: "password_hash"}}},
			"q":      {Limit: 5, Q: "%x%", QFields: []string{"id; DROP TABLE users"}},
		} {
			_, err := st.SearchUsers(f.admin, q)
			wantCode(t, err, service.CodeInternal)
			_, err = st.CountUsers(f.admin, q)
			if name != "order" {
				wantCode(t, err, service.CodeInternal)
			}
		}
		wantCode(t, st.UpdateUser(f.admin, f.uA, []string{"password_hash"}), service.CodeInternal)
		wantCode(t, st.UpdateReseller(f.admin, f.A, []string{"path"}), service.CodeInternal)
		if n, err := st.CountUsersAll(f.admin); err != nil || n != 4 {
			t.Fatalf("users: %d, %v", n, err)
		}
	})
}
