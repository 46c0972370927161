package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// TestClientsHotUpdatesMigration: 00011 drops the balance index, and on
// PostgreSQL leaves room for HOT updates and short GIN pending lists, so a
// ledger posting's balance update touches no index; it goes down and up again.
func TestClientsHotUpdatesMigration(t *testing.T) {
	forEachStoreAt(t, 10, func(t *testing.T, ctx context.Context, st *Store, p *goose.Provider) {
		db := st.wdb.WithContext(ctx)
		hasBalanceIndex := func() bool {
			q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'clients_live_mode_balance_idx'`
			if st.Dialect() == "postgres" {
				q = `SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'clients_live_mode_balance_idx'`
			}
			var n int64
			if err := db.Raw(q).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n == 1
		}
		if !hasBalanceIndex() {
			t.Fatal("no balance index at version 10")
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if hasBalanceIndex() {
			t.Error("the balance index is still there")
		}
		if st.Dialect() == "postgres" {
			var opts []string
			if err := db.Raw(`SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname IN ('clients', 'clients_name_trgm_idx', 'clients_email_trgm_idx', 'clients_company_trgm_idx', 'clients_phone_trgm_idx', 'clients_tax_number_trgm_idx') ORDER BY relname`).Scan(&opts).Error; err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(opts, " "); got != "fillfactor=85 gin_pending_list_limit=256 gin_pending_list_limit=256 gin_pending_list_limit=256 gin_pending_list_limit=256 gin_pending_list_limit=256" {
				t.Errorf("storage options: %s", got)
			}
			// A balance update in a page with room is HOT: it adds no index entry.
			tx := db.Begin()
			now := time.Now().UTC()
			var hot int64
			if err := tx.Exec(`INSERT INTO clients (name, status, currency, credit, balance, live_mode, created_at, updated_at) VALUES ('hot', 'active', 'USD', 0, 0, TRUE, ?, ?)`, now, now).Error; err != nil {
				t.Fatal(err)
			}
			if err := tx.Exec(`UPDATE clients SET balance = balance - 500, updated_at = ? WHERE name = 'hot'`, now).Error; err != nil {
				t.Fatal(err)
			}
			if err := tx.Raw(`SELECT n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'clients'`).Scan(&hot).Error; err != nil {
				t.Fatal(err)
			}
			tx.Rollback()
			if hot != 1 {
				t.Errorf("the balance update was not HOT (%d HOT updates)", hot)
			}
		}
		if _, err := p.DownTo(ctx, 10); err != nil {
			t.Fatal(err)
		}
		if !hasBalanceIndex() {
			t.Error("Down did not restore the balance index")
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
