package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"time"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite": the pure-Go SQLite billgate links
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultPostgresURL is the server the harness creates its database on when
// BENCH_DATABASE_URL is not set.
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// clientColumns are the columns clients.get reads, in the raw lookup loop.
const clientColumns = "id, name, status, resellers_id, currency, credit, balance, email, company, phone, tax_number, metadata, live_mode, created_at, updated_at"

// idRange is the inclusive range of the ids of the bulk-seeded clients.
type idRange struct{ lo, hi int64 }

// pick returns a random id of the range.
func (r idRange) pick(rnd *rand.Rand) int64 { return r.lo + rnd.Int64N(r.hi-r.lo+1) }

// createPostgresDB creates a fresh database on the server of adminURL and
// returns its URL, its server's version and a function dropping it.
func createPostgresDB(ctx context.Context, adminURL string) (dbURL, version string, drop func(), err error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", "", nil, fmt.Errorf("postgres URL: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, adminURL)
	if err != nil {
		return "", "", nil, err
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(cctx, "SHOW server_version").Scan(&version); err != nil {
		return "", "", nil, err
	}
	name := fmt.Sprintf("billgate_bench_%d_%d", time.Now().Unix(), os.Getpid())
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(cctx, "CREATE DATABASE "+ident); err != nil {
		return "", "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	drop = func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(dctx, adminURL)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: drop database %s: %v\n", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(dctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "bench: drop database %s: %v\n", name, err)
		}
	}
	return u.String(), version, drop, nil
}

// seedPostgres inserts n clients into the database of dbURL, in chunks of
// 100,000 (progress on logf), then VACUUM ANALYZEs the table. Every client is
// live-mode and owned by the root; one in 1,000 is named "Acme <n>" and active.
// It returns the ids of the new clients and the number of rows in clients.
func seedPostgres(ctx context.Context, dbURL string, n int64, logf func(string, ...any)) (idRange, int64, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return idRange{}, 0, err
	}
	defer conn.Close(context.Background())
	var before int64
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM clients").Scan(&before); err != nil {
		return idRange{}, 0, err
	}
	if _, err := conn.Exec(ctx, "SET synchronous_commit = off"); err != nil {
		return idRange{}, 0, err
	}
	const chunk = 100_000
	start := time.Now()
	for lo := int64(1); lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		_, err := conn.Exec(ctx, `
			INSERT INTO clients (name, status, resellers_id, currency, credit, balance, email, company, phone,
				tax_number, metadata, live_mode, created_at, updated_at)
			SELECT CASE WHEN g % 1000 = 0 THEN 'Acme ' || g ELSE 'Client ' || md5(g::text) END,
				(ARRAY['active', 'active', 'suspended', 'archived'])[1 + g % 4],
				NULL, 'USD', 0, 0,
				'user' || g || '@example' || (g % 1000) || '.test',
				'Company ' || substr(md5((g * 3)::text), 1, 12),
				'+1555' || lpad(g::text, 8, '0'),
				'TX' || g,
				jsonb_build_object('source', 'bench', 'n', g % 100),
				true, now() - g * interval '1 second', now()
			FROM generate_series($1::bigint, $2::bigint) AS g`, lo, hi)
		if err != nil {
			return idRange{}, 0, fmt.Errorf("seed clients %d-%d: %w", lo, hi, err)
		}
		logf("  postgres: %d/%d clients (%s)", hi, n, time.Since(start).Round(time.Second))
	}
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE clients"); err != nil {
		return idRange{}, 0, err
	}
	// Write the seed's dirty pages out now, not during the measured runs
	// (a checkpoint spread over them would compete for the disk and a core).
	// It needs a superuser or pg_checkpoint: without, say so and go on.
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		logf("  postgres: no checkpoint after seeding (%v); the seed's writes may overlap the first runs", err)
	}
	var r idRange
	var total int64
	err = conn.QueryRow(ctx, "SELECT min(id), max(id), (SELECT count(*) FROM clients) FROM clients WHERE id > $1", before).
		Scan(&r.lo, &r.hi, &total)
	return r, total, err
}

// sqliteDSN is the database/sql DSN of the SQLite file at path, with the
// pragmas billgate uses (and query_only for readers).
func sqliteDSN(path string, readOnly bool) string {
	dsn := path + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
	if readOnly {
		dsn += "&_pragma=query_only(1)"
	}
	return dsn
}

// seedSQLite inserts n clients into the SQLite file at path (shaped as on
// PostgreSQL), in chunks of 100,000 rows per transaction, then ANALYZEs.
// It returns the ids of the new clients and the number of rows in clients.
func seedSQLite(ctx context.Context, path string, n int64, logf func(string, ...any)) (idRange, int64, error) {
	db, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return idRange{}, 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var before int64
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM clients").Scan(&before); err != nil {
		return idRange{}, 0, err
	}
	const chunk = 100_000
	start := time.Now()
	for lo := int64(1); lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		_, err := db.ExecContext(ctx, `
			WITH RECURSIVE s(g) AS (SELECT ? UNION ALL SELECT g + 1 FROM s WHERE g < ?)
			INSERT INTO clients (name, status, resellers_id, currency, credit, balance, email, company, phone,
				tax_number, metadata, live_mode, created_at, updated_at)
			SELECT CASE WHEN g % 1000 = 0 THEN 'Acme ' || g ELSE 'Client ' || lower(hex(randomblob(16))) END,
				CASE g % 4 WHEN 2 THEN 'suspended' WHEN 3 THEN 'archived' ELSE 'active' END,
				NULL, 'USD', 0, 0,
				'user' || g || '@example' || (g % 1000) || '.test',
				'Company ' || lower(hex(randomblob(6))),
				'+1555' || printf('%08d', g),
				'TX' || g,
				json_object('source', 'bench', 'n', g % 100),
				1,
				strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || g || ' seconds') || '+00:00',
				strftime('%Y-%m-%d %H:%M:%f', 'now') || '+00:00'
			FROM s`, lo, hi)
		if err != nil {
			return idRange{}, 0, fmt.Errorf("seed clients %d-%d: %w", lo, hi, err)
		}
		logf("  sqlite: %d/%d clients (%s)", hi, n, time.Since(start).Round(time.Second))
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return idRange{}, 0, err
	}
	var r idRange
	var total int64
	err = db.QueryRowContext(ctx, "SELECT min(id), max(id), (SELECT count(*) FROM clients) FROM clients WHERE id > ?", before).
		Scan(&r.lo, &r.hi, &total)
	return r, total, err
}

// clientScan holds one scanned clients row (the raw loop reads every column,
// as clients.get does).
type clientScan struct {
	id, credit, balance                                      int64
	name, status, currency, email, company, phone, taxNumber string
	resellersID                                              *int64
	metadata                                                 []byte
	liveMode                                                 bool
	createdAt, updatedAt                                     time.Time
}

func (c *clientScan) dest() []any {
	return []any{&c.id, &c.name, &c.status, &c.resellersID, &c.currency, &c.credit, &c.balance, &c.email,
		&c.company, &c.phone, &c.taxNumber, &c.metadata, &c.liveMode, &c.createdAt, &c.updatedAt}
}

// rawPostgresOp returns the raw lookup loop's op on PostgreSQL: one primary-key
// SELECT with a random id on pool (pgx, prepared statements cached per
// connection, as billgate's pgx driver does).
func rawPostgresOp(pool *pgxpool.Pool, ids idRange) op {
	var c clientScan
	q := "SELECT " + clientColumns + " FROM clients WHERE id = $1"
	return func(ctx context.Context, rnd *rand.Rand) (int, int, string) {
		if err := pool.QueryRow(ctx, q, ids.pick(rnd)).Scan(c.dest()...); err != nil {
			return 0, 1, err.Error()
		}
		return 1, 0, ""
	}
}

// rawSQLiteOp returns the raw lookup loop's op on SQLite (database/sql, the
// driver billgate links, a prepared statement).
func rawSQLiteOp(stmt *sql.Stmt, ids idRange) op {
	var c clientScan
	return func(ctx context.Context, rnd *rand.Rand) (int, int, string) {
		if err := stmt.QueryRowContext(ctx, ids.pick(rnd)).Scan(c.dest()...); err != nil {
			return 0, 1, err.Error()
		}
		return 1, 0, ""
	}
}

// openRawSQLite opens the read-only pool and the prepared statement of the
// SQLite raw lookup loop.
func openRawSQLite(path string, conns int) (*sql.DB, *sql.Stmt, error) {
	db, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	stmt, err := db.Prepare("SELECT " + clientColumns + " FROM clients WHERE id = ?")
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, stmt, nil
}

// redactURL hides a password in a database URL for the log.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxx")
	}
	return strings.Replace(u.String(), "xxx@", "…@", 1)
}
