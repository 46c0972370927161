package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// TestFirstStartPrintsCredentialsOnce: with no admin settings, serve creates
// admin with a random key and password, prints them once, and they work.
func TestFirstStartPrintsCredentialsOnce(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "first.db")
	s := startServer(t, db, map[string]string{"BILLGATE_ADMIN_API_KEY": "", "BILLGATE_ADMIN_PASSWORD": ""})
	out := s.stderr.String()
	key := field(out, "API key:")
	pw := field(out, "password:")
	if !strings.HasPrefix(key, "live_") || len(pw) < 16 {
		t.Fatalf("credentials not printed:\n%s", out)
	}
	s.ok(t, keyAuth(key), "iam.users.get", map[string]any{"id": 1}, nil)
	s.ok(t, auth{}, "iam.auth.jwt.authenticate", map[string]any{"login": "admin", "password": pw}, nil)
	if strings.Count(out, key) != 1 || strings.Count(out, pw) != 1 {
		t.Errorf("secrets printed more than once:\n%s", out)
	}
	// A second start on the same database creates nothing and prints nothing.
	s2 := startServer(t, db, map[string]string{"BILLGATE_ADMIN_API_KEY": "", "BILLGATE_ADMIN_PASSWORD": ""})
	if strings.Contains(s2.stderr.String(), "API key:") {
		t.Errorf("second start printed credentials:\n%s", s2.stderr.String())
	}
	// Two processes on one database share the generated JWT secret.
	var tok struct {
		Token string `json:"token"`
	}
	s.ok(t, auth{}, "iam.auth.jwt.authenticate", map[string]any{"login": "admin", "password": pw}, &tok)
	s2.ok(t, auth{bearer: tok.Token}, "iam.users.get", map[string]any{"id": 1}, nil)
}

func field(out, label string) string {
	i := strings.Index(out, label)
	if i < 0 {
		return ""
	}
	rest := strings.TrimSpace(out[i+len(label):])
	if j := strings.IndexAny(rest, "\n "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// TestCommands: migrate, users create, apikeys create and version as a script would use them.
func TestCommands(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "cli.db")
	env := func(k string) string {
		return map[string]string{"BILLGATE_DATABASE_URL": db, "BILLGATE_LOG_LEVEL": "error"}[k]
	}
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), args, env, &out, io.Discard)
		return out.String(), err
	}
	if out, err := cmd("version"); err != nil || !strings.HasPrefix(out, "billgate ") {
		t.Fatalf("version: %q %v", out, err)
	}
	if out, err := cmd("migrate"); err != nil || !strings.Contains(out, "migrations applied") {
		t.Fatalf("migrate: %q %v", out, err)
	}
	out, err := cmd("users", "create", "-login", "ops", "-password", "ops-password", "-role", "admin")
	if err != nil {
		t.Fatalf("users create: %v", err)
	}
	var u struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
	}
	if json.Unmarshal([]byte(out), &u) != nil || u.Login != "ops" {
		t.Fatalf("users create printed %q", out)
	}
	if _, err := cmd("users", "create", "-login", "ops", "-password", "ops-password"); err == nil || !strings.Contains(err.Error(), "conflict") {
		t.Errorf("duplicate login: %v", err)
	}
	if _, err := cmd("users", "create", "-login", "x", "-password", "short"); err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("short password: %v", err)
	}
	out, err = cmd("apikeys", "create", "-user", "ops", "-mode", "test")
	var k struct {
		Key string `json:"key"`
	}
	if err != nil || json.Unmarshal([]byte(out), &k) != nil || !strings.HasPrefix(k.Key, "test_") {
		t.Fatalf("apikeys create: %q %v", out, err)
	}
	if _, err := cmd("frobnicate"); err == nil {
		t.Error("unknown command accepted")
	}
}
