package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/billgate/billgate/pkg/pgtest"
)

// TestAPIVersionMigration: migration 00003 pins the keys that exist when it
// runs to 2026-11-21 (the API they were made against), and its Down removes
// the column again.
func TestAPIVersionMigration(t *testing.T) {
	for name, url := range map[string]func() string{
		"sqlite":   func() string { return "sqlite://" + filepath.Join(t.TempDir(), "m.db") },
		"postgres": func() string { return pgtest.URL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			st, err := Open(ctx, url(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			p, err := st.migrations()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 2); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Microsecond)
			db := st.wdb.WithContext(ctx)
			if err := db.Exec(`INSERT INTO users (login, password_hash, role, status, created_at, updated_at) VALUES ('old', 'x', 'user', 'active', ?, ?)`, now, now).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec(`INSERT INTO api_keys (users_id, mode, prefix, hash, created_at) SELECT id, 'live', 'live_old', 'old-hash', ? FROM users WHERE login = 'old'`, now).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 3); err != nil {
				t.Fatal(err)
			}
			var v string
			if err := db.Raw(`SELECT api_version FROM api_keys WHERE hash = 'old-hash'`).Scan(&v).Error; err != nil || v != "2026-11-21" {
				t.Fatalf("existing key pinned to %q, %v", v, err)
			}
			if _, err := p.DownTo(ctx, 2); err != nil {
				t.Fatal(err)
			}
			if err := db.Raw(`SELECT api_version FROM api_keys`).Scan(&v).Error; err == nil {
				t.Fatal("api_version still there after Down")
			}
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
