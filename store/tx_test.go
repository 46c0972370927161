package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

func TestInTxCommitsOrRollsBack(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		boom := errors.New("boom")
		exists := func(login string) bool {
			t.Helper()
			_, err := st.UserByLogin(f.admin, login)
			if err != nil && service.CodeOf(err) != service.CodeNotFound {
				t.Fatal(err)
			}
			return err == nil
		}

		err := st.InTx(f.admin, func(ctx context.Context) error {
			mustUser(t, st, ctx, "rolled-back", &f.A.ID)
			r := mustReseller(t, st, ctx, "rolled-back", nil)
			if _, err := st.FindReseller(ctx, r.ID); err != nil { // the tx sees its own writes
				t.Errorf("reseller not visible inside its transaction: %v", err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want fn's error", err)
		}
		if exists("rolled-back") {
			t.Error("user of a failed transaction was kept")
		}
		if n, _ := st.CountResellers(f.admin, service.Query{}); n != 3 {
			t.Errorf("%d resellers after rollback, want 3", n)
		}

		// Nested InTx joins the outer transaction: the outer failure undoes the inner work.
		err = st.InTx(f.admin, func(ctx context.Context) error {
			if err := st.InTx(ctx, func(ctx context.Context) error {
				mustUser(t, st, ctx, "inner", nil)
				return nil
			}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || exists("inner") {
			t.Errorf("nested: err %v, inner kept %v", err, exists("inner"))
		}

		// A panic rolls back too.
		func() {
			defer func() { _ = recover() }()
			_ = st.InTx(f.admin, func(ctx context.Context) error {
				mustUser(t, st, ctx, "panicked", nil)
				panic("boom")
			})
		}()
		if exists("panicked") {
			t.Error("user of a panicked transaction was kept")
		}

		// A store error inside fn comes back unchanged.
		err = st.InTx(f.admin, func(ctx context.Context) error {
			_, err := st.FindUser(ctx, f.uB.ID+1000)
			return err
		})
		wantCode(t, err, service.CodeNotFound)

		if err := st.InTx(f.admin, func(ctx context.Context) error {
			mustUser(t, st, ctx, "committed", nil)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !exists("committed") {
			t.Error("committed user missing")
		}
	})
}

// TestConcurrentWriters runs 50 writers at once, each reading then writing in one
// transaction (the pattern that fails with "database is locked" on SQLite when a
// reader tries to upgrade its lock), plus plain writes.
func TestConcurrentWriters(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		const writers = 50
		var wg sync.WaitGroup
		errs := make(chan error, 3*writers)
		for i := range writers {
			wg.Go(func() {
				errs <- st.InTx(f.onlyA, func(ctx context.Context) error {
					if _, err := st.CountUsers(ctx, service.Query{}); err != nil {
						return err
					}
					return st.CreateUser(ctx, newUser(fmt.Sprintf("writer-%02d", i), &f.A1.ID))
				})
			})
			wg.Go(func() {
				errs <- st.CreateReseller(f.onlyB, &service.Reseller{Name: fmt.Sprintf("r-%02d", i), ParentID: &f.B.ID})
			})
			wg.Go(func() {
				_, err := st.SearchUsers(f.admin, all)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent write: %v", err)
			}
		}
		if n, err := st.CountUsers(f.onlyA1, service.Query{}); err != nil || n != writers+1 {
			t.Errorf("users in A1: %d, %v; want %d", n, err, writers+1)
		}
		if n, err := st.CountResellers(f.onlyB, service.Query{}); err != nil || n != writers+1 {
			t.Errorf("resellers in B: %d, %v; want %d", n, err, writers+1)
		}
	})
}

func TestSettingIsStableUnderConcurrentFirstCalls(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := testCtx(t, nil)
		const callers = 20
		got := make([]string, callers)
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() { got[i], errs[i] = st.Setting(ctx, "jwt_secret", fmt.Sprintf("secret-%02d", i)) })
		}
		wg.Wait()
		for i := range callers {
			if errs[i] != nil {
				t.Fatalf("caller %d: %v", i, errs[i])
			}
			if got[i] != got[0] {
				t.Fatalf("callers disagree: %q vs %q", got[i], got[0])
			}
		}
		var defs []string
		for i := range callers {
			defs = append(defs, fmt.Sprintf("secret-%02d", i))
		}
		if !slices.Contains(defs, got[0]) {
			t.Fatalf("stored %q is none of the defaults", got[0])
		}
		if v, err := st.Setting(ctx, "jwt_secret", "later"); err != nil || v != got[0] {
			t.Fatalf("later call: %q, %v; want %q", v, err, got[0])
		}
		if v, err := st.Setting(ctx, "other", "x"); err != nil || v != "x" {
			t.Fatalf("another key: %q, %v", v, err)
		}
	})
}
