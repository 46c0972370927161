package store

import (
	"context"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// TestAPIVersionMigration: migration 00003 pins the keys that exist when it
// runs to 2026-11-21 (the API they were made against), and its Down removes
// the column again.
func TestAPIVersionMigration(t *testing.T) {
	forEachStoreAt(t, 2, func(t *testing.T, ctx context.Context, st *Store, p *goose.Provider) {
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
