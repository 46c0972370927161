package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

// all is a query with no filter and room for every seeded row.
var all = service.Query{Limit: 100, Order: []service.Order{{Field: "id"}}}

func TestScopeIsolation(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		type view struct {
			name      string
			ctx       context.Context
			users     []*service.User
			resellers []*service.Reseller
		}
		views := []view{
			{"unrestricted", f.admin, []*service.User{f.root, f.uA, f.uA1, f.uB}, []*service.Reseller{f.A, f.A1, f.B}},
			{"A", f.onlyA, []*service.User{f.uA, f.uA1}, []*service.Reseller{f.A, f.A1}},
			{"A1", f.onlyA1, []*service.User{f.uA1}, []*service.Reseller{f.A1}},
			{"B", f.onlyB, []*service.User{f.uB}, []*service.Reseller{f.B}},
		}
		allUsers := []*service.User{f.root, f.uA, f.uA1, f.uB}
		allResellers := []*service.Reseller{f.A, f.A1, f.B}
		for _, v := range views {
			t.Run(v.name, func(t *testing.T) {
				ctx := v.ctx
				var wantKeys []int64
				for _, u := range allUsers {
					_, err := st.FindUser(ctx, u.ID)
					visible := slices.Contains(v.users, u)
					if visible != (err == nil) {
						t.Errorf("FindUser(%s): %v, visible=%v", u.Login, err, visible)
					}
					for _, mode := range []string{service.ModeLive, service.ModeTest} {
						k := f.keys[u.Login+"/"+mode]
						_, err := st.FindAPIKey(ctx, k.ID)
						if visible != (err == nil) {
							t.Errorf("FindAPIKey(%s): %v, visible=%v", u.Login+"/"+mode, err, visible)
						}
						if visible {
							wantKeys = append(wantKeys, k.ID)
						} else {
							wantCode(t, err, service.CodeNotFound)
						}
					}
					if !visible {
						wantCode(t, err, service.CodeNotFound)
						changed := *u
						changed.Login = "hijacked"
						wantCode(t, st.UpdateUser(ctx, &changed, []string{"login"}), service.CodeNotFound)
						wantCode(t, st.DeleteUser(ctx, u.ID), service.CodeNotFound)
						wantCode(t, st.DeleteAPIKey(ctx, f.keys[u.Login+"/live"].ID), service.CodeNotFound)
						wantCode(t, st.CreateAPIKey(ctx, &service.APIKey{UsersID: u.ID, Mode: "live", Prefix: "p", Hash: "h-" + v.name + u.Login}),
							service.CodeNotFound)
					}
				}
				for _, r := range allResellers {
					_, err := st.FindReseller(ctx, r.ID)
					visible := slices.Contains(v.resellers, r)
					if visible != (err == nil) {
						t.Errorf("FindReseller(%s): %v, visible=%v", r.Name, err, visible)
					}
					if !visible {
						wantCode(t, err, service.CodeNotFound)
						changed := *r
						changed.Name = "hijacked"
						wantCode(t, st.UpdateReseller(ctx, &changed, []string{"name"}), service.CodeNotFound)
						wantCode(t, st.DeleteReseller(ctx, r.ID), service.CodeNotFound)
						wantCode(t, st.CreateUser(ctx, newUser("in-"+v.name+"-"+r.Name, &r.ID)), service.CodeNotFound)
						wantCode(t, st.CreateReseller(ctx, &service.Reseller{Name: "under", ParentID: &r.ID}), service.CodeNotFound)
					}
				}

				users, err := st.SearchUsers(ctx, all)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := ids(users, userID), ids(v.users, userID); !slices.Equal(got, want) {
					t.Errorf("SearchUsers: %v, want %v", got, want)
				}
				if n, err := st.CountUsers(ctx, service.Query{}); err != nil || n != int64(len(v.users)) {
					t.Errorf("CountUsers: %d, %v; want %d", n, err, len(v.users))
				}
				rs, err := st.SearchResellers(ctx, all)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := ids(rs, resellerID), ids(v.resellers, resellerID); !slices.Equal(got, want) {
					t.Errorf("SearchResellers: %v, want %v", got, want)
				}
				if n, err := st.CountResellers(ctx, service.Query{}); err != nil || n != int64(len(v.resellers)) {
					t.Errorf("CountResellers: %d, %v; want %d", n, err, len(v.resellers))
				}
				keys, err := st.SearchAPIKeys(ctx, all)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(keys, keyID); !slices.Equal(got, sorted(wantKeys...)) {
					t.Errorf("SearchAPIKeys: %v, want %v", got, sorted(wantKeys...))
				}
				if n, err := st.CountAPIKeys(ctx, service.Query{}); err != nil || n != int64(len(wantKeys)) {
					t.Errorf("CountAPIKeys: %d, %v; want %d", n, err, len(wantKeys))
				}
				// A filter naming another subtree cannot widen the scope.
				q := service.Query{Filters: []service.Filter{{Field: "resellers_id", Values: []any{f.B.ID}}}}
				n, err := st.CountUsers(ctx, q)
				if want := int64(0); slices.Contains(v.resellers, f.B) {
					want = 1
					if n != want || err != nil {
						t.Errorf("CountUsers(resellers_id=B): %d, %v", n, err)
					}
				} else if n != want || err != nil {
					t.Errorf("CountUsers(resellers_id=B): %d, %v; want 0", n, err)
				}
			})
		}
		// Nothing was changed or deleted by the refused calls.
		for _, u := range allUsers {
			got, err := st.FindUser(f.admin, u.ID)
			if err != nil || got.Login != u.Login {
				t.Errorf("user %d after refused calls: %+v, %v", u.ID, got, err)
			}
		}
		for _, r := range allResellers {
			got, err := st.FindReseller(f.admin, r.ID)
			if err != nil || got.Name != r.Name {
				t.Errorf("reseller %d after refused calls: %+v, %v", r.ID, got, err)
			}
		}
		if n, err := st.CountAPIKeys(f.admin, service.Query{}); err != nil || n != 8 {
			t.Errorf("keys after refused calls: %d, %v", n, err)
		}
	})
}

func TestRestrictedPrincipalCannotUseTheRoot(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		wantCode(t, st.CreateUser(f.onlyA, newUser("rootless", nil)), service.CodeNotFound)
		wantCode(t, st.CreateReseller(f.onlyA, &service.Reseller{Name: "top"}), service.CodeNotFound)
		moved := *f.A1
		moved.ParentID = nil
		wantCode(t, st.UpdateReseller(f.onlyA, &moved, []string{"parent_id"}), service.CodeNotFound)
		u := *f.uA1
		u.ResellersID = nil
		wantCode(t, st.UpdateUser(f.onlyA, &u, []string{"resellers_id"}), service.CodeNotFound)
		u.ResellersID = &f.B.ID
		wantCode(t, st.UpdateUser(f.onlyA, &u, []string{"resellers_id"}), service.CodeNotFound)
		got, err := st.FindUser(f.admin, f.uA1.ID)
		if err != nil || got.ResellersID == nil || *got.ResellersID != f.A1.ID {
			t.Fatalf("user moved by a refused update: %+v, %v", got, err)
		}
		// Inside its own subtree it may create and move.
		r := mustReseller(t, st, f.onlyA, "A2", &f.A.ID)
		if want := f.A.Path + itoa(r.ID) + "/"; r.Path != want {
			t.Errorf("path %q, want %q", r.Path, want)
		}
		u.ResellersID = &r.ID
		if err := st.UpdateUser(f.onlyA, &u, []string{"resellers_id"}); err != nil {
			t.Fatalf("move user inside the subtree: %v", err)
		}
	})
}

func TestTestModeSeesOnlyTestKeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		for name, ctx := range map[string]context.Context{"unrestricted": f.adminTest, "A": testCtx(t, restricted(f.A, false))} {
			keys, err := st.SearchAPIKeys(ctx, all)
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) == 0 {
				t.Fatalf("%s: no test keys listed", name)
			}
			for _, k := range keys {
				if k.Mode != service.ModeTest {
					t.Errorf("%s: test-mode principal listed %s key %d", name, k.Mode, k.ID)
				}
			}
			live := f.keys["user-a/live"]
			_, err = st.FindAPIKey(ctx, live.ID)
			wantCode(t, err, service.CodeNotFound)
			wantCode(t, st.DeleteAPIKey(ctx, live.ID), service.CodeNotFound)
			if _, err := st.FindAPIKey(ctx, f.keys["user-a/test"].ID); err != nil {
				t.Errorf("%s: FindAPIKey(test key): %v", name, err)
			}
			q := service.Query{Filters: []service.Filter{{Field: "mode", Values: []any{"live"}}}}
			if n, err := st.CountAPIKeys(ctx, q); err != nil || n != 0 {
				t.Errorf("%s: live keys counted in test mode: %d, %v", name, n, err)
			}
			err = st.CreateAPIKey(ctx, &service.APIKey{UsersID: f.uA.ID, Mode: service.ModeLive, Prefix: "p", Hash: "h-live-" + name})
			wantCode(t, err, service.CodeForbidden)
			// Users have no mode.
			if _, err := st.FindUser(ctx, f.uA.ID); err != nil {
				t.Errorf("%s: FindUser in test mode: %v", name, err)
			}
		}
		if _, err := st.FindAPIKey(f.admin, f.keys["user-a/live"].ID); err != nil {
			t.Errorf("live key gone after refused delete: %v", err)
		}
		if n, err := st.CountAPIKeys(f.admin, service.Query{}); err != nil || n != 8 {
			t.Errorf("live principal sees %d keys, %v; want 8", n, err)
		}
	})
}

func TestNoPrincipalFailsClosed(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		ctx := testCtx(t, nil)
		badPath := restricted(f.A, true)
		badPath.ResellerPath = ""
		for name, ctx := range map[string]context.Context{"no principal": ctx, "restricted without path": testCtx(t, badPath)} {
			errs := map[string]error{}
			_, errs["FindUser"] = st.FindUser(ctx, f.uA.ID)
			_, errs["SearchUsers"] = st.SearchUsers(ctx, all)
			_, errs["CountUsers"] = st.CountUsers(ctx, service.Query{})
			errs["CreateUser"] = st.CreateUser(ctx, newUser("closed-"+name, &f.A.ID))
			errs["UpdateUser"] = st.UpdateUser(ctx, f.uA, []string{"login"})
			errs["DeleteUser"] = st.DeleteUser(ctx, f.uA.ID)
			_, errs["FindReseller"] = st.FindReseller(ctx, f.A.ID)
			_, errs["SearchResellers"] = st.SearchResellers(ctx, all)
			_, errs["CountResellers"] = st.CountResellers(ctx, service.Query{})
			errs["CreateReseller"] = st.CreateReseller(ctx, &service.Reseller{Name: "x"})
			errs["UpdateReseller"] = st.UpdateReseller(ctx, f.A, []string{"name"})
			errs["DeleteReseller"] = st.DeleteReseller(ctx, f.B.ID)
			_, errs["FindAPIKey"] = st.FindAPIKey(ctx, f.keys["root/live"].ID)
			_, errs["SearchAPIKeys"] = st.SearchAPIKeys(ctx, all)
			_, errs["CountAPIKeys"] = st.CountAPIKeys(ctx, service.Query{})
			errs["CreateAPIKey"] = st.CreateAPIKey(ctx, &service.APIKey{UsersID: f.uA.ID, Mode: "test", Prefix: "p", Hash: "h-" + name})
			errs["DeleteAPIKey"] = st.DeleteAPIKey(ctx, f.keys["root/live"].ID)
			for method, err := range errs {
				if service.CodeOf(err) != service.CodeInternal {
					t.Errorf("%s: %s: %v, want internal", name, method, err)
				}
				if name == "no principal" && !errors.Is(err, service.ErrNoPrincipal) {
					t.Errorf("%s: %s: %v does not wrap ErrNoPrincipal", name, method, err)
				}
			}
		}
		// Nothing was written.
		if n, err := st.CountUsersAll(ctx); err != nil || n != 4 {
			t.Errorf("users: %d, %v", n, err)
		}
		if _, err := st.FindReseller(f.admin, f.B.ID); err != nil {
			t.Errorf("reseller B: %v", err)
		}
	})
}
