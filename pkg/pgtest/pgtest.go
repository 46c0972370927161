// Package pgtest gives each test its own fresh, empty PostgreSQL database.
//
// The admin connection comes from TEST_DATABASE_URL (default DefaultAdminURL).
// When the server cannot be reached the test is skipped, unless
// BILLGATE_REQUIRE_POSTGRES=1, which makes it fail (for CI).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultAdminURL is used when TEST_DATABASE_URL is not set.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Environment variables read by URL.
const (
	EnvURL     = "TEST_DATABASE_URL"
	EnvRequire = "BILLGATE_REQUIRE_POSTGRES"
)

// NamePrefix starts the name of every database URL creates.
const NamePrefix = "bg_test_"

// AdminURL returns the URL of the admin connection: TEST_DATABASE_URL, or DefaultAdminURL.
func AdminURL() string {
	if u := strings.TrimSpace(os.Getenv(EnvURL)); u != "" {
		return u
	}
	return DefaultAdminURL
}

// Required reports whether an unreachable server fails tests instead of
// skipping them (BILLGATE_REQUIRE_POSTGRES=1).
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// URL creates a fresh, empty database named bg_test_<random> for t and returns
// its URL; the database is dropped (WITH (FORCE), PostgreSQL 13+) when t and its
// subtests finish. An unreachable server skips t, or fails it when Required.
// Failing to create the database fails t.
func URL(t testing.TB) string {
	t.Helper()
	admin := AdminURL()
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest: %s must be a postgres:// URL", EnvURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, admin)
	if err != nil {
		msg := "pgtest: PostgreSQL is unreachable at " + u.Redacted() + " (set " + EnvURL + " to point elsewhere): " + err.Error()
		if Required() {
			t.Fatal(msg + "; failing because " + EnvRequire + "=1")
		}
		t.Skip(msg + "; skipping (set " + EnvRequire + "=1 to fail instead)")
	}
	defer conn.Close(ctx)

	name := NamePrefix + randomSuffix()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() { drop(t, admin, name) })

	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

func connect(ctx context.Context, admin string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	return pgx.ConnectConfig(ctx, cfg)
}

func drop(t testing.TB, admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, admin)
	if err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
	}
}

func randomSuffix() string {
	b := make([]byte, 8)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return hex.EncodeToString(b)
}
