package store_test

import (
	"testing"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

func TestResellerCRUD(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		if want := "/" + itoa(f.A.ID) + "/"; f.A.Path != want {
			t.Errorf("root reseller path %q, want %q", f.A.Path, want)
		}
		if want := f.A.Path + itoa(f.A1.ID) + "/"; f.A1.Path != want {
			t.Errorf("child path %q, want %q", f.A1.Path, want)
		}
		wantUTCMicro(t, "CreatedAt", f.A1.CreatedAt)
		got, err := st.FindReseller(f.onlyA, f.A1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "A1" || got.ParentID == nil || *got.ParentID != f.A.ID || got.Path != f.A1.Path ||
			!got.CreatedAt.Equal(f.A1.CreatedAt) {
			t.Fatalf("found %+v, created %+v", got, f.A1)
		}
		got.Name = "A one"
		got.ParentID = &f.B.ID // not listed: must not move
		if err := st.UpdateReseller(f.onlyA, got, []string{"name"}); err != nil {
			t.Fatal(err)
		}
		after, err := st.FindReseller(f.onlyA, f.A1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Name != "A one" || *after.ParentID != f.A.ID || after.Path != f.A1.Path || after.UpdatedAt.Before(f.A1.UpdatedAt) {
			t.Errorf("after rename: %+v", after)
		}
		empty := mustReseller(t, st, f.onlyB, "empty", &f.B.ID)
		if err := st.DeleteReseller(f.onlyB, empty.ID); err != nil {
			t.Fatal(err)
		}
		_, err = st.FindReseller(f.admin, empty.ID)
		wantCode(t, err, service.CodeNotFound)
		wantCode(t, st.DeleteReseller(f.admin, empty.ID), service.CodeNotFound)
	})
}

func TestResellerMoveRewritesDescendantPaths(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		a11 := mustReseller(t, st, f.admin, "A11", &f.A1.ID)
		u11 := mustUser(t, st, f.admin, "user-a11", &a11.ID)
		pathOf := func(id int64) string {
			t.Helper()
			p, err := st.ResellerPath(f.admin, id)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}

		// Move A1 (with A11 and their users) from A to B.
		moved := *f.A1
		moved.ParentID = &f.B.ID
		if err := st.UpdateReseller(f.admin, &moved, []string{"parent_id"}); err != nil {
			t.Fatal(err)
		}
		wantA1 := f.B.Path + itoa(f.A1.ID) + "/"
		if moved.Path != wantA1 || pathOf(f.A1.ID) != wantA1 {
			t.Errorf("A1 path %q (returned %q), want %q", pathOf(f.A1.ID), moved.Path, wantA1)
		}
		if got, want := pathOf(a11.ID), wantA1+itoa(a11.ID)+"/"; got != want {
			t.Errorf("A11 path %q, want %q", got, want)
		}
		if got := pathOf(f.A.ID); got != f.A.Path {
			t.Errorf("A path changed to %q", got)
		}
		if got := pathOf(f.B.ID); got != f.B.Path {
			t.Errorf("B path changed to %q", got)
		}
		// The subtree changed hands.
		for _, id := range []int64{f.A1.ID, a11.ID} {
			_, err := st.FindReseller(f.onlyA, id)
			wantCode(t, err, service.CodeNotFound)
			if _, err := st.FindReseller(f.onlyB, id); err != nil {
				t.Errorf("B cannot see moved reseller %d: %v", id, err)
			}
		}
		_, err := st.FindUser(f.onlyA, u11.ID)
		wantCode(t, err, service.CodeNotFound)
		if _, err := st.FindUser(f.onlyB, u11.ID); err != nil {
			t.Errorf("B cannot see the user of a moved reseller: %v", err)
		}

		// A restricted principal cannot move its subtree out of its scope.
		out := moved
		out.ParentID = &f.A.ID
		wantCode(t, st.UpdateReseller(f.onlyB, &out, []string{"parent_id"}), service.CodeNotFound)

		// A cycle is refused and changes nothing.
		b := *f.B
		b.ParentID = &a11.ID
		wantCode(t, st.UpdateReseller(f.admin, &b, []string{"parent_id"}), service.CodeUnprocessable)
		self := moved
		self.ParentID = &self.ID
		wantCode(t, st.UpdateReseller(f.admin, &self, []string{"parent_id"}), service.CodeUnprocessable)
		if pathOf(f.B.ID) != f.B.Path || pathOf(f.A1.ID) != wantA1 {
			t.Errorf("paths changed by a refused move")
		}

		// To the root.
		moved.ParentID = nil
		if err := st.UpdateReseller(f.admin, &moved, []string{"parent_id"}); err != nil {
			t.Fatal(err)
		}
		root := "/" + itoa(f.A1.ID) + "/"
		if pathOf(f.A1.ID) != root || pathOf(a11.ID) != root+itoa(a11.ID)+"/" {
			t.Errorf("after move to root: %q, %q", pathOf(f.A1.ID), pathOf(a11.ID))
		}
		got, err := st.FindReseller(f.admin, f.A1.ID)
		if err != nil || got.ParentID != nil {
			t.Errorf("parent after move to root: %+v, %v", got, err)
		}
		if _, err := st.FindReseller(f.onlyB, a11.ID); service.CodeOf(err) != service.CodeNotFound {
			t.Errorf("B still sees A11 after it moved to the root: %v", err)
		}
	})
}

func TestDeleteResellerThatStillOwnsIsAConflict(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		check := func(r *service.Reseller) {
			t.Helper()
			err := st.DeleteReseller(f.admin, r.ID)
			wantCode(t, err, service.CodeConflict)
			want := "reseller " + itoa(r.ID) + " still owns users, clients or resellers"
			if msg := service.AsError(err).Message; msg != want {
				t.Errorf("message %q, want %q", msg, want)
			}
			if _, err := st.FindReseller(f.admin, r.ID); err != nil {
				t.Errorf("reseller %s gone after a refused delete: %v", r.Name, err)
			}
		}
		check(f.A)  // a child (A1) and a user
		check(f.A1) // a user only
		if err := st.DeleteUser(f.admin, f.uA1.ID); err != nil {
			t.Fatal(err)
		}
		check(f.A) // still has A1
		if err := st.DeleteReseller(f.admin, f.A1.ID); err != nil {
			t.Fatalf("delete A1 once empty: %v", err)
		}
		check(f.A) // still has user-a
		if err := st.DeleteUser(f.admin, f.uA.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteReseller(f.admin, f.A.ID); err != nil {
			t.Fatalf("delete A once empty: %v", err)
		}
		if n, err := st.CountResellers(f.admin, service.Query{}); err != nil || n != 1 {
			t.Errorf("resellers left: %d, %v; want 1 (B)", n, err)
		}
	})
}
