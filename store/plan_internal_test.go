package store

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/billgate/billgate/pkg/pgtest"
	"github.com/billgate/billgate/service"
)

// unconstrainedRows is the table size from which the planner of
// TestClientSearchPlansUseIndexesOnPostgres may choose freely.
const unconstrainedRows = 500000

// TestClientSearchPlansUseIndexesOnPostgres fills clients with synthetic rows
// (BILLGATE_PLAN_ROWS, default 20000; set 1000000 to reproduce production
// scale: about 90 s) and checks, with EXPLAIN, that the SQL the query builder
// generates for clients.search is served by the indexes of migration 00002: the
// sorts under the mode scope by their btree indexes, and q — LOWER(col) LIKE …
// ESCAPE '\' over every searched field — by the pg_trgm indexes, never by a
// sequential scan of clients. With -v it logs each plan (EXPLAIN ANALYZE).
func TestClientSearchPlansUseIndexesOnPostgres(t *testing.T) {
	rows := 20000
	if v := os.Getenv("BILLGATE_PLAN_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			t.Fatalf("BILLGATE_PLAN_ROWS=%q: want a number ≥ 1000", v)
		}
		rows = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	st, err := Open(ctx, pgtest.URL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	admin := service.WithPrincipal(ctx, &service.Principal{UserID: 1, Live: true})
	adminTest := service.WithPrincipal(ctx, &service.Principal{UserID: 1, Live: false})
	var rs []*service.Reseller
	for i, parent := range []int{-1, 0, -1} { // R0, R1 under R0, R2
		r := &service.Reseller{Name: "R" + strconv.Itoa(i)}
		if parent >= 0 {
			r.ParentID = &rs[parent].ID
		}
		if err := st.CreateReseller(admin, r); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	onlyR2 := service.WithPrincipal(ctx, &service.Principal{UserID: 2, Live: true, ResellerID: &rs[2].ID, ResellerPath: rs[2].Path})

	// 90% live; a tenth at the root, the rest spread over the three resellers.
	// A small table is padded (1.3 kB of metadata a row) to have the pages of
	// a large one, so that reading it all costs what it would at scale.
	err = st.wdb.WithContext(ctx).Exec(`
		INSERT INTO clients (name, status, resellers_id, currency, credit, balance, email, company, phone, tax_number,
			metadata, live_mode, created_at, updated_at)
		SELECT 'Client ' || md5(g::text), (ARRAY['active', 'active', 'suspended', 'archived'])[1 + g % 4],
			CASE WHEN g % 10 = 0 THEN NULL ELSE (ARRAY[?, ?, ?]::bigint[])[1 + g % 3] END,
			'USD', 0, (g::bigint * 7919) % 100000 - 50000, 'user' || g || '@example' || (g % 1000) || '.test',
			'Company ' || substr(md5((g * 3)::text), 1, 12), '+1555' || lpad(g::text, 8, '0'), 'TX' || g,
			CASE WHEN ? THEN jsonb_build_object('pad', repeat(md5(g::text), 40)) END,
			g % 10 <> 0, now() - g * interval '1 second', now()
		FROM generate_series(1, ?) AS g`, rs[0].ID, rs[1].ID, rs[2].ID, rows < unconstrainedRows, rows).Error
	if err != nil {
		t.Fatal(err)
	}
	if err := st.wdb.WithContext(ctx).Exec("ANALYZE clients").Error; err != nil {
		t.Fatal(err)
	}

	allFields := []string{"name", "email", "company", "phone", "tax_number"}
	then := func(o ...service.Order) []service.Order { return append(o, service.Order{Field: "id"}) }
	cases := []struct {
		name  string
		ctx   context.Context
		q     service.Query
		count bool
		index string // an index the plan must use ("" when any index will do)
	}{
		{"default order, test mode", adminTest, service.Query{Limit: 20, Order: then()}, false, ""},
		{"default order, live", admin, service.Query{Limit: 20, Order: then()}, false, ""},
		{"by name", admin, service.Query{Limit: 20, Order: then(service.Order{Field: "name"})}, false, "clients_live_mode_name_idx"},
		{"by name descending, page 50", admin, service.Query{Limit: 20, Offset: 1000, Order: then(service.Order{Field: "name", Desc: true})}, false, "clients_live_mode_name_idx"},
		{"newest first", admin, service.Query{Limit: 20, Order: then(service.Order{Field: "created_at", Desc: true})}, false, "clients_live_mode_created_at_idx"},
		// Sorting by balance, credit or updated_at sorts without an index, by
		// choice: indexing balance made every ledger posting update every
		// index of clients (migration 00011).
		{"status filter", adminTest, service.Query{Limit: 20, Order: then(),
			Filters: []service.Filter{{Field: "status", Values: []any{"archived"}}}}, false, ""},
		{"email filter", admin, service.Query{Limit: 20, Order: then(),
			Filters: []service.Filter{{Field: "email", Values: []any{"user77@example77.test"}}}}, false, "clients_email_idx"},
		{"resellers_id filter", admin, service.Query{Limit: 20, Order: then(),
			Filters: []service.Filter{{Field: "resellers_id", Values: []any{rs[1].ID}}}}, false, ""},
		{"reseller-limited principal", onlyR2, service.Query{Limit: 20, Order: then(service.Order{Field: "name"})}, false, ""},
		{"q in every field", admin, service.Query{Limit: 20, Order: then(), Q: "%c4ca42%", QFields: allFields}, false, "clients_name_trgm_idx"},
		{"q in the company", admin, service.Query{Limit: 20, Order: then(service.Order{Field: "name"}), Q: "%c4ca42%", QFields: []string{"company"}}, false, "clients_company_trgm_idx"},
		{"q prefix on the email", admin, service.Query{Limit: 20, Order: then(), Q: "user4242@%", QFields: []string{"email"}}, false, "clients_email_trgm_idx"},
		{"q for a restricted principal", onlyR2, service.Query{Limit: 20, Order: then(), Q: "%c4ca42%", QFields: allFields}, false, ""},
		{"count with q", admin, service.Query{Q: "%4242%", QFields: allFields}, true, "clients_phone_trgm_idx"},
		{"count in test mode", adminTest, service.Query{}, true, ""},
	}
	sqlDB, err := st.rdb.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if rows < unconstrainedRows {
		// On a small table a sequential scan is rightly cheaper: forbid it, so
		// that the planner takes an index whenever one matches the SQL (what
		// this test checks); at production scale it runs unconstrained.
		if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range cases {
		sql, vars := clientSearchSQL(t, st, tc.ctx, tc.q, tc.count)
		explain := "EXPLAIN "
		if testing.Verbose() {
			explain = "EXPLAIN (ANALYZE, BUFFERS) "
		}
		res, err := conn.QueryContext(ctx, explain+sql, vars...)
		if err != nil {
			t.Fatalf("%s: explain %s: %v", tc.name, sql, err)
		}
		var plan strings.Builder
		for res.Next() {
			var line string
			if err := res.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		res.Close()
		t.Logf("%s (%d rows)\n%s\n%s", tc.name, rows, sql, plan.String())
		if strings.Contains(plan.String(), "Seq Scan on clients") {
			t.Errorf("%s: a sequential scan of clients:\n%s\n%s", tc.name, sql, plan.String())
		}
		if tc.index != "" && !strings.Contains(plan.String(), tc.index) {
			t.Errorf("%s: the plan does not use %s:\n%s\n%s", tc.name, tc.index, sql, plan.String())
		}
	}
}

// clientSearchSQL returns the SQL and arguments SearchClients (or CountClients)
// would run for q in the scope of ctx, without running it.
func clientSearchSQL(t *testing.T, st *Store, ctx context.Context, q service.Query, count bool) (string, []any) {
	t.Helper()
	db := st.rdb.Session(&gorm.Session{DryRun: true}).WithContext(ctx)
	tx, err := scoped(ctx, db, clientsTable)
	if err != nil {
		t.Fatal(err)
	}
	if count {
		q.Order, q.Limit, q.Offset = nil, 0, 0
	}
	if tx, err = applyQuery(tx, clientsTable, q); err != nil {
		t.Fatal(err)
	}
	var stmt *gorm.Statement
	if count {
		var n int64
		stmt = tx.Count(&n).Statement
	} else {
		var rows []clientRow
		stmt = tx.Find(&rows).Statement
	}
	return stmt.SQL.String(), stmt.Vars
}
