package store_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// wantUTCMicro fails unless tm is non-zero, in UTC, with at most microseconds.
func wantUTCMicro(t *testing.T, name string, tm time.Time) {
	t.Helper()
	if tm.IsZero() || tm.Location() != time.UTC || !tm.Equal(tm.Truncate(time.Microsecond)) {
		t.Errorf("%s = %v: want a non-zero UTC time with microsecond precision", name, tm)
	}
}

func TestUserCRUD(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		u := &service.User{Login: "carol", PasswordHash: "h1", Role: service.RoleAdmin, ResellersID: &f.A1.ID,
			Timezone: "Europe/Berlin", AllowedIPs: []string{"10.0.0.0/8", "192.0.2.1/32"}, Status: service.UserActive}
		if err := st.CreateUser(f.onlyA, u); err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || !u.CreatedAt.Equal(u.UpdatedAt) {
			t.Fatalf("created %+v", u)
		}
		wantUTCMicro(t, "CreatedAt", u.CreatedAt)
		got, err := st.FindUser(f.onlyA, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Login != "carol" || got.PasswordHash != "h1" || got.Role != service.RoleAdmin || *got.ResellersID != f.A1.ID ||
			got.Timezone != "Europe/Berlin" || !slices.Equal(got.AllowedIPs, u.AllowedIPs) || got.Status != service.UserActive ||
			!got.CreatedAt.Equal(u.CreatedAt) || !got.UpdatedAt.Equal(u.UpdatedAt) {
			t.Fatalf("found %+v, created %+v", got, u)
		}
		wantUTCMicro(t, "found CreatedAt", got.CreatedAt)

		// Only the listed fields are written.
		before := *got
		got.Login, got.AllowedIPs, got.PasswordHash = "caroline", nil, "h2"
		got.Role, got.Status = service.RoleUser, service.UserDisabled // changed in the struct, not listed
		if err := st.UpdateUser(f.onlyA, got, []string{"login", "allowed_ips", "password"}); err != nil {
			t.Fatal(err)
		}
		wantUTCMicro(t, "UpdatedAt", got.UpdatedAt)
		after, err := st.FindUser(f.onlyA, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Login != "caroline" || len(after.AllowedIPs) != 0 || after.PasswordHash != "h2" {
			t.Errorf("listed fields not written: %+v", after)
		}
		if after.Role != before.Role || after.Status != before.Status || after.Timezone != before.Timezone {
			t.Errorf("unlisted fields written: %+v", after)
		}
		if !after.UpdatedAt.Equal(got.UpdatedAt) || after.UpdatedAt.Before(before.UpdatedAt) || !after.CreatedAt.Equal(before.CreatedAt) {
			t.Errorf("timestamps: before %+v after %+v (returned updated_at %v)", before, after, got.UpdatedAt)
		}
		if _, err := st.UserByLogin(f.admin, "carol"); service.CodeOf(err) != service.CodeNotFound {
			t.Errorf("old login still found: %v", err)
		}

		key := mustKey(t, st, f.admin, u.ID, service.ModeLive)
		if err := st.DeleteUser(f.onlyA, u.ID); err != nil {
			t.Fatal(err)
		}
		_, err = st.FindUser(f.admin, u.ID)
		wantCode(t, err, service.CodeNotFound)
		_, err = st.APIKeyByHash(f.admin, key.Hash)
		wantCode(t, err, service.CodeNotFound) // keys go with their user
		wantCode(t, st.DeleteUser(f.admin, u.ID), service.CodeNotFound)
		wantCode(t, st.UpdateUser(f.admin, after, []string{"login"}), service.CodeNotFound)
	})
}

func TestCreateUserKeepsGivenTimesInUTC(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		ny, err := time.LoadLocation("America/New_York")
		if err != nil {
			t.Skip("no zone data:", err)
		}
		at := time.Date(2024, 2, 29, 23, 30, 0, 123456789, ny)
		u := newUser("dated", nil)
		u.CreatedAt = at
		if err := st.CreateUser(f.admin, u); err != nil {
			t.Fatal(err)
		}
		got, err := st.FindUser(f.admin, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := at.UTC().Truncate(time.Microsecond)
		for name, tm := range map[string]time.Time{"returned": u.CreatedAt, "found": got.CreatedAt, "updated": got.UpdatedAt} {
			if !tm.Equal(want) || tm.Location() != time.UTC {
				t.Errorf("%s %v, want %v", name, tm, want)
			}
		}
	})
}

func TestDuplicateLoginIsAConflictNamingLogin(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		check := func(err error) {
			t.Helper()
			wantCode(t, err, service.CodeConflict)
			e := service.AsError(err)
			if _, ok := e.Fields["login"]; !ok {
				t.Errorf("fields %v do not name login", e.Fields)
			}
			if !strings.Contains(e.Message, "login") {
				t.Errorf("message %q does not name login", e.Message)
			}
			for _, leak := range []string{"UNIQUE", "constraint", "23505", "users_login_key", "SQLSTATE"} {
				if strings.Contains(e.Message, leak) {
					t.Errorf("message %q leaks %q", e.Message, leak)
				}
			}
		}
		check(st.CreateUser(f.admin, newUser(f.uB.Login, nil)))
		other := *f.uA
		other.Login = f.uB.Login
		check(st.UpdateUser(f.admin, &other, []string{"login"}))
		if n, err := st.CountUsersAll(f.admin); err != nil || n != 4 {
			t.Errorf("users after refused create: %d, %v", n, err)
		}
	})
}

func TestCreateUserUnderMissingResellerIsNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		missing := f.B.ID + 1000
		wantCode(t, st.CreateUser(f.admin, newUser("orphan", &missing)), service.CodeNotFound)
	})
}

func TestAuthLookupsAreUnscoped(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		ctx := testCtx(t, nil) // before authentication there is no principal
		u, err := st.UserForAuth(ctx, f.uA1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Login != f.uA1.Login || u.ResellerPath != f.A1.Path || u.PasswordHash == "" {
			t.Errorf("UserForAuth: %+v, want reseller path %q", u, f.A1.Path)
		}
		u, err = st.UserForAuth(ctx, f.root.ID)
		if err != nil || u.ResellerPath != "" || u.ResellersID != nil {
			t.Errorf("root user: %+v, %v", u, err)
		}
		u, err = st.UserByLogin(ctx, f.uB.Login)
		if err != nil || u.ID != f.uB.ID || u.ResellerPath != f.B.Path {
			t.Errorf("UserByLogin: %+v, %v", u, err)
		}
		_, err = st.UserForAuth(ctx, f.uB.ID+1000)
		wantCode(t, err, service.CodeNotFound)
		_, err = st.UserByLogin(ctx, "nobody")
		wantCode(t, err, service.CodeNotFound)
		if p, err := st.ResellerPath(ctx, f.A1.ID); err != nil || p != f.A1.Path {
			t.Errorf("ResellerPath: %q, %v", p, err)
		}
		_, err = st.ResellerPath(ctx, f.B.ID+1000)
		wantCode(t, err, service.CodeNotFound)
		if n, err := st.CountUsersAll(ctx); err != nil || n != 4 {
			t.Errorf("CountUsersAll: %d, %v", n, err)
		}
	})
}
