package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billgate/billgate/pkg/pgtest"
	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

// forEachDB runs fn once on a fresh, migrated SQLite file and once on a fresh,
// migrated PostgreSQL database (skipped when PostgreSQL is unreachable, unless
// BILLGATE_REQUIRE_POSTGRES=1).
func forEachDB(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "nested", "dir", "billgate.db")))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, openStore(t, pgtest.URL(t)))
	})
}

func openStore(t *testing.T, url string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, url, testLogger(t))
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

func testLogger(t *testing.T) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// testCtx is a context with a generous deadline (a hung query fails the test
// instead of the whole run), carrying p.
func testCtx(t *testing.T, p *service.Principal) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	if p != nil {
		ctx = service.WithPrincipal(ctx, p)
	}
	return ctx
}

// fixture is two reseller subtrees (A with child A1, and B), a root user, a user
// in each reseller, a live and a test key per user, and principals.
type fixture struct {
	st *store.Store

	A, A1, B             *service.Reseller
	root, uA, uA1, uB    *service.User
	keys                 map[string]*service.APIKey // "<login>/<mode>"
	admin, adminTest     context.Context            // unrestricted, live and test mode
	onlyA, onlyB, onlyA1 context.Context            // restricted to a subtree, live
}

func adminPrincipal(live bool) *service.Principal {
	return &service.Principal{UserID: 1, Login: "admin", Live: live, Location: time.UTC}
}

func restricted(r *service.Reseller, live bool) *service.Principal {
	id := r.ID
	return &service.Principal{UserID: 2, Login: "restricted", Live: live, ResellerID: &id, UserResellerID: &id,
		ResellerPath: r.Path, Location: time.UTC}
}

func seed(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	f := &fixture{st: st, keys: map[string]*service.APIKey{}}
	f.admin = testCtx(t, adminPrincipal(true))
	f.adminTest = testCtx(t, adminPrincipal(false))
	f.A = mustReseller(t, st, f.admin, "A", nil)
	f.A1 = mustReseller(t, st, f.admin, "A1", &f.A.ID)
	f.B = mustReseller(t, st, f.admin, "B", nil)
	f.root = mustUser(t, st, f.admin, "root", nil)
	f.uA = mustUser(t, st, f.admin, "user-a", &f.A.ID)
	f.uA1 = mustUser(t, st, f.admin, "user-a1", &f.A1.ID)
	f.uB = mustUser(t, st, f.admin, "user-b", &f.B.ID)
	for _, u := range []*service.User{f.root, f.uA, f.uA1, f.uB} {
		for _, mode := range []string{service.ModeLive, service.ModeTest} {
			f.keys[u.Login+"/"+mode] = mustKey(t, st, f.admin, u.ID, mode)
		}
	}
	f.onlyA = testCtx(t, restricted(f.A, true))
	f.onlyA1 = testCtx(t, restricted(f.A1, true))
	f.onlyB = testCtx(t, restricted(f.B, true))
	return f
}

func mustReseller(t *testing.T, st *store.Store, ctx context.Context, name string, parent *int64) *service.Reseller {
	t.Helper()
	r := &service.Reseller{Name: name, ParentID: parent}
	if err := st.CreateReseller(ctx, r); err != nil {
		t.Fatalf("create reseller %s: %v", name, err)
	}
	return r
}

func newUser(login string, reseller *int64) *service.User {
	return &service.User{Login: login, PasswordHash: "$2a$10$hash-of-" + login, Role: service.RoleUser,
		ResellersID: reseller, Status: service.UserActive, AllowedIPs: []string{}}
}

func mustUser(t *testing.T, st *store.Store, ctx context.Context, login string, reseller *int64) *service.User {
	t.Helper()
	u := newUser(login, reseller)
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatalf("create user %s: %v", login, err)
	}
	return u
}

var keySeq int

func mustKey(t *testing.T, st *store.Store, ctx context.Context, usersID int64, mode string) *service.APIKey {
	t.Helper()
	keySeq++
	secret := fmt.Sprintf("%s_secret%06d", mode, keySeq)
	k := &service.APIKey{UsersID: usersID, Mode: mode, Prefix: secret[:12], Hash: "hash-" + secret, Key: secret}
	if err := st.CreateAPIKey(ctx, k); err != nil {
		t.Fatalf("create %s key for user %d: %v", mode, usersID, err)
	}
	return k
}

// wantCode fails unless err has the service code want.
func wantCode(t *testing.T, err error, want service.Code) {
	t.Helper()
	if got := service.CodeOf(err); got != want {
		t.Fatalf("error %v: code %q, want %q", err, got, want)
	}
}

// ids returns the ids of objects, sorted.
func ids[T any](rows []T, id func(T) int64) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = id(r)
	}
	slices.Sort(out)
	return out
}

func userID(u *service.User) int64         { return u.ID }
func resellerID(r *service.Reseller) int64 { return r.ID }
func keyID(k *service.APIKey) int64        { return k.ID }

func sorted(v ...int64) []int64 { slices.Sort(v); return v }

func TestOpenCreatesTheDirectoryAndMigratesOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := testCtx(t, nil)
		if err := st.Migrate(ctx); err != nil { // second run: nothing to do
			t.Fatalf("second migrate: %v", err)
		}
		cur, latest, err := st.MigrationVersion(ctx)
		if err != nil || cur != latest || cur < 1 {
			t.Fatalf("version %d of %d, err %v", cur, latest, err)
		}
		if err := st.Ping(ctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
	})
	dir := filepath.Join(t.TempDir(), "a", "b")
	st, err := store.Open(testCtx(t, nil), "sqlite://"+filepath.Join(dir, "x.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Dialect() != store.DialectSQLite {
		t.Errorf("dialect %q", st.Dialect())
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err != nil {
		t.Errorf("database file not created: %v", err)
	}
}

func TestOpenRejectsUnsupportedURLs(t *testing.T) {
	for _, u := range []string{"mysql://x/y", "sqlite://", "sqlite://:memory:", "sqlite://x.db?mode=ro", "nothing"} {
		if st, err := store.Open(context.Background(), u, nil); err == nil {
			st.Close()
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

func TestUnreachablePostgresIsUnavailable(t *testing.T) {
	ctx := testCtx(t, adminPrincipal(true))
	st, err := store.Open(ctx, "postgres://postgres@127.0.0.1:1/billgate?sslmode=disable", nil)
	if err != nil {
		t.Fatalf("open is lazy, got %v", err)
	}
	defer st.Close()
	if st.Dialect() != store.DialectPostgres {
		t.Errorf("dialect %q", st.Dialect())
	}
	checks := map[string]error{
		"Ping":       st.Ping(ctx),
		"Migrate":    st.Migrate(ctx),
		"InTx":       st.InTx(ctx, func(context.Context) error { return nil }),
		"CreateUser": st.CreateUser(ctx, newUser("x", nil)),
	}
	_, checks["FindUser"] = st.FindUser(ctx, 1)
	_, checks["SearchUsers"] = st.SearchUsers(ctx, service.Query{Limit: 10})
	_, checks["UserByLogin"] = st.UserByLogin(ctx, "x")
	_, checks["Setting"] = st.Setting(ctx, "k", "v")
	for name, err := range checks {
		if service.CodeOf(err) != service.CodeUnavailable {
			t.Errorf("%s: %v, want unavailable", name, err)
			continue
		}
		if msg := service.AsError(err).Message; strings.Contains(msg, "dial") || strings.Contains(msg, "127.0.0.1") {
			t.Errorf("%s: message leaks the driver error: %q", name, msg)
		}
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		wantCode(t, st.Ping(f.admin), service.CodeUnavailable)
		_, err := st.FindUser(f.admin, f.uA.ID)
		wantCode(t, err, service.CodeUnavailable)
		wantCode(t, st.CreateUser(f.admin, newUser("late", nil)), service.CodeUnavailable)
		wantCode(t, st.InTx(f.admin, func(context.Context) error { return nil }), service.CodeUnavailable)
	})
}

func TestExpiredContextPassesThrough(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		ctx, cancel := context.WithDeadline(f.admin, time.Now().Add(-time.Second))
		defer cancel()
		_, err := st.FindUser(ctx, f.uA.ID)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("FindUser with an expired context: %v", err)
		}
		wantCode(t, err, service.CodeTimeout)
		err = st.CreateUser(ctx, newUser("late", nil))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("CreateUser with an expired context: %v", err)
		}
	})
}
