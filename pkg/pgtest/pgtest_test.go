package pgtest_test

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billgate/billgate/pkg/pgtest"
)

func connect(t *testing.T, u string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect %s: %v", u, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func dbName(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(p.Path, "/")
}

func exists(t *testing.T, admin *pgx.Conn, name string) bool {
	t.Helper()
	var n int
	if err := admin.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestURLGivesFreshEmptyDatabasesDroppedAfterTheTest(t *testing.T) {
	var names []string
	for _, sub := range []string{"first", "second"} {
		t.Run(sub, func(t *testing.T) {
			u := pgtest.URL(t)
			name := dbName(t, u)
			if !strings.HasPrefix(name, pgtest.NamePrefix) {
				t.Fatalf("database %q does not start with %q", name, pgtest.NamePrefix)
			}
			c := connect(t, u)
			var cur string
			var tables int
			if err := c.QueryRow(context.Background(), "SELECT current_database()").Scan(&cur); err != nil {
				t.Fatal(err)
			}
			if cur != name {
				t.Fatalf("connected to %q, want %q", cur, name)
			}
			err := c.QueryRow(context.Background(),
				"SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')").Scan(&tables)
			if err != nil {
				t.Fatal(err)
			}
			if tables != 0 {
				t.Fatalf("fresh database has %d tables", tables)
			}
			// Leave something behind: the next database must not see it.
			if _, err := c.Exec(context.Background(), "CREATE TABLE leftover (id int)"); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		})
	}
	if len(names) != 2 {
		t.Skip("PostgreSQL unavailable")
	}
	if names[0] == names[1] {
		t.Fatalf("both subtests got database %q", names[0])
	}
	admin := connect(t, pgtest.AdminURL())
	for _, n := range names {
		if exists(t, admin, n) {
			t.Errorf("database %s still exists after its test ended", n)
		}
	}
}

func TestURLDatabaseExistsDuringTheTest(t *testing.T) {
	u := pgtest.URL(t)
	admin := connect(t, pgtest.AdminURL())
	if !exists(t, admin, dbName(t, u)) {
		t.Fatalf("database of %s does not exist", u)
	}
}

// recorder is a testing.TB that records how URL stops instead of stopping the test.
type recorder struct {
	testing.TB
	how string // "skip" or "fatal"
	msg string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Cleanup(func())            {}
func (r *recorder) Skip(args ...any)          { r.stop("skip", args...) }
func (r *recorder) Fatal(args ...any)         { r.stop("fatal", args...) }
func (r *recorder) Fatalf(f string, a ...any) { r.stop("fatal", fmt.Sprintf(f, a...)) }
func (r *recorder) stop(how string, args ...any) {
	r.how, r.msg = how, fmt.Sprint(args...)
	runtime.Goexit()
}

// runURL runs pgtest.URL on a recorder in its own goroutine (Skip and Fatal end it).
func runURL(t *testing.T) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		pgtest.URL(r)
		r.how = "returned"
	}()
	<-done
	return r
}

func TestUnreachableServerSkipsOrFails(t *testing.T) {
	t.Setenv(pgtest.EnvURL, "postgres://postgres:secret@127.0.0.1:1/postgres?sslmode=disable")
	for _, tc := range []struct{ require, want string }{{"", "skip"}, {"0", "skip"}, {"1", "fatal"}} {
		t.Setenv(pgtest.EnvRequire, tc.require)
		r := runURL(t)
		if r.how != tc.want {
			t.Errorf("%s=%q: URL ended with %s (%s), want %s", pgtest.EnvRequire, tc.require, r.how, r.msg, tc.want)
		}
		if !strings.Contains(r.msg, "unreachable") || strings.Contains(r.msg, "secret") {
			t.Errorf("message %q should say unreachable and hide the password", r.msg)
		}
	}
}
