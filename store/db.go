// Package store implements service.Store with gorm on SQLite (pure Go) or
// PostgreSQL.
//
// Layout: one file per resource (resellers.go, users.go, apikeys.go, clients.go,
// accounts.go, currencies.go, ledger.go, idempotency.go, audit.go) holding its
// private gorm row type, its table declaration (scope + field whitelist) and the
// service methods; scope.go builds the one scope function, query.go applies a
// service.Query, errors.go translates every driver error, migrate.go runs the
// embedded goose migrations.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/billgate/billgate/service"
)

// Dialects returned by (*Store).Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Store is the gorm implementation of service.Store. It is safe for concurrent use.
type Store struct {
	dialect string
	// rdb serves reads outside transactions. On SQLite it is a pool of
	// query_only connections (WAL readers never wait for the writer).
	rdb *gorm.DB
	// wdb serves writes and transactions. On SQLite it is a one-connection pool:
	// writers queue in database/sql (honouring ctx) instead of failing with
	// "database is locked". On PostgreSQL rdb and wdb are the same pool.
	wdb *gorm.DB
	log *slog.Logger
}

var _ service.Store = (*Store)(nil)

// Open opens the database named by rawURL without migrating it:
//
//	sqlite://relative/path.db, sqlite:///absolute/path.db
//	postgres://user:pass@host:5432/db?sslmode=disable (or postgresql://)
//
// The SQLite file and its parent directory are created when missing. PostgreSQL
// connects lazily: an unreachable server is reported by Ping, Migrate and every
// query (CodeUnavailable), not by Open. Open returns a plain error for an
// unsupported URL and CodeUnavailable when the SQLite file cannot be opened.
func Open(ctx context.Context, rawURL string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	scheme, _, _ := strings.Cut(rawURL, "://")
	switch scheme {
	case "sqlite", "sqlite3":
		return openSQLite(ctx, rawURL, log)
	case "postgres", "postgresql":
		return openPostgres(rawURL, log)
	default:
		return nil, fmt.Errorf("store: unsupported database URL scheme %q (want sqlite:// or postgres://)", scheme)
	}
}

func gormConfig() *gorm.Config {
	return &gorm.Config{
		// Prepared statements are reused per SQL text (SQLite otherwise parses
		// every query anew: 15% of a clients.get; pgx caches on its own).
		PrepareStmt: true,
		// Errors are returned and translated (errors.go), never printed raw.
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		DisableAutomaticPing:   true,
		NowFunc:                now,
	}
}

func openSQLite(ctx context.Context, rawURL string, log *slog.Logger) (*Store, error) {
	path := strings.SplitN(rawURL, "://", 2)[1]
	path, query, _ := strings.Cut(path, "?")
	if query != "" {
		return nil, fmt.Errorf("store: sqlite URL takes no parameters (got %q)", query)
	}
	if path == "" || strings.Contains(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store: sqlite URL must name a file, as in sqlite://data/billgate.db")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, service.Unavailable(fmt.Errorf("create the directory of %s: %w", path, err))
	}
	// Every connection: WAL, foreign keys, a 5 s busy timeout (other processes).
	// Writers take the write lock when their transaction begins (_txlock=immediate),
	// so a read-then-write transaction never fails to upgrade its lock.
	const pragmas = "_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)"
	wdb, err := gorm.Open(sqlite.Open(path+"?"+pragmas+"&_txlock=immediate"), gormConfig())
	if err != nil {
		return nil, service.Unavailable(err)
	}
	rdb, err := gorm.Open(sqlite.Open(path+"?"+pragmas+"&_pragma=query_only(1)"), gormConfig())
	if err != nil {
		closeDB(wdb)
		return nil, service.Unavailable(err)
	}
	w, _ := wdb.DB()
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, _ := rdb.DB()
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s := &Store{dialect: DialectSQLite, rdb: rdb, wdb: wdb, log: log}
	// The first connection creates the file and switches it to WAL.
	var mode string
	if err := wdb.WithContext(ctx).Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		s.Close()
		return nil, translate(ctx, err, subject{})
	}
	if !strings.EqualFold(mode, "wal") {
		s.Close()
		return nil, fmt.Errorf("store: sqlite %s: journal_mode is %q, want wal", path, mode)
	}
	log.Debug("store: opened sqlite", "path", path)
	return s, nil
}

func openPostgres(rawURL string, log *slog.Logger) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("store: invalid postgres URL")
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "5")
		u.RawQuery = q.Encode()
	}
	// pgx caches prepared statements per connection (its default exec mode).
	db, err := gorm.Open(postgres.New(postgres.Config{DSN: u.String()}), gormConfig())
	if err != nil {
		return nil, service.Unavailable(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, service.Internal(err)
	}
	// As many idle connections as open ones: a burst above the idle limit would
	// otherwise close and re-open PostgreSQL sessions (a fork each) on every call.
	sqlDB.SetMaxOpenConns(20)
	sqlDB.SetMaxIdleConns(20)
	sqlDB.SetConnMaxLifetime(30 * time.Minute)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	log.Debug("store: opened postgres", "host", u.Host, "database", strings.TrimPrefix(u.Path, "/"))
	return &Store{dialect: DialectPostgres, rdb: db, wdb: db, log: log}, nil
}

// Dialect returns DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// Close closes every connection. Calls made afterwards fail with CodeUnavailable.
func (s *Store) Close() error {
	err := closeDB(s.wdb)
	if s.rdb != s.wdb {
		err = errors.Join(err, closeDB(s.rdb))
	}
	return err
}

func closeDB(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers: nil, CodeUnavailable, or the ctx error.
func (s *Store) Ping(ctx context.Context) error {
	for _, db := range []*gorm.DB{s.wdb, s.rdb} {
		sqlDB, err := db.DB()
		if err != nil {
			return service.Internal(err)
		}
		if err := sqlDB.PingContext(ctx); err != nil {
			return translate(ctx, err, subject{})
		}
	}
	return nil
}

// Stats returns the connection pool statistics (for metrics). On SQLite it is
// the sum of the reader and the writer pools.
func (s *Store) Stats() sql.DBStats {
	var out sql.DBStats
	for _, db := range []*gorm.DB{s.wdb, s.rdb} {
		sqlDB, err := db.DB()
		if err != nil {
			continue
		}
		st := sqlDB.Stats()
		out.MaxOpenConnections += st.MaxOpenConnections
		out.OpenConnections += st.OpenConnections
		out.InUse += st.InUse
		out.Idle += st.Idle
		out.WaitCount += st.WaitCount
		out.WaitDuration += st.WaitDuration
		out.MaxIdleClosed += st.MaxIdleClosed
		out.MaxIdleTimeClosed += st.MaxIdleTimeClosed
		out.MaxLifetimeClosed += st.MaxLifetimeClosed
		if s.rdb == s.wdb {
			break
		}
	}
	return out
}

// txKey carries the transaction of InTx in a context.
type txKey struct{}

type txValue struct {
	owner *Store
	tx    *gorm.DB
}

// InTx runs fn in one transaction: store calls made with the ctx given to fn
// join it; a nested InTx joins the outer transaction (no savepoint). fn's error
// rolls everything back and is returned unchanged; a failure to begin or commit
// is CodeUnavailable or CodeInternal. On SQLite the transaction holds the write
// lock from its start: do not call the store with another ctx inside fn.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.txFrom(ctx) != nil {
		return fn(ctx)
	}
	tx := s.wdb.WithContext(ctx).Begin()
	if tx.Error != nil {
		return translate(ctx, tx.Error, subject{})
	}
	done := false
	defer func() {
		if !done { // fn failed or panicked
			tx.Rollback()
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, txValue{owner: s, tx: tx})); err != nil {
		return err
	}
	done = true
	if err := tx.Commit().Error; err != nil {
		return translate(ctx, err, subject{})
	}
	return nil
}

func (s *Store) txFrom(ctx context.Context) *gorm.DB {
	if v, ok := ctx.Value(txKey{}).(txValue); ok && v.owner == s {
		return v.tx
	}
	return nil
}

// conn returns the handle for reads: the transaction of ctx when there is one.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if tx := s.txFrom(ctx); tx != nil {
		return tx.WithContext(ctx)
	}
	return s.rdb.WithContext(ctx)
}

// wconn returns the handle for writes: the transaction of ctx when there is one.
// Every INSERT, UPDATE and DELETE goes through it (SQLite readers are query_only).
func (s *Store) wconn(ctx context.Context) *gorm.DB {
	if tx := s.txFrom(ctx); tx != nil {
		return tx.WithContext(ctx)
	}
	return s.wdb.WithContext(ctx)
}

// now is the store's clock for timestamps it sets itself: UTC, microseconds
// (the precision both databases keep).
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// dbTime normalises a time for storage: UTC, microseconds, zero → now.
func dbTime(t time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// dbTimePtr normalises an optional time for storage.
func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC().Truncate(time.Microsecond)
	return &v
}

// utcPtr returns t in UTC (nil stays nil).
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

// settingRow is one row of settings.
type settingRow struct {
	Key   string `gorm:"column:key;primaryKey"`
	Value string `gorm:"column:value"`
}

// TableName tells gorm the table of settingRow.
func (settingRow) TableName() string { return "settings" }

// Setting returns the stored value of key, storing def first when the key is
// absent (INSERT … ON CONFLICT DO NOTHING), so concurrent first calls, from any
// process, all get the one value that won. Unscoped. Errors: CodeUnavailable,
// CodeInternal.
func (s *Store) Setting(ctx context.Context, key, def string) (string, error) {
	err := s.wconn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&settingRow{Key: key, Value: def}).Error
	if err != nil {
		return "", translate(ctx, err, subject{what: "setting", id: key})
	}
	var row settingRow
	err = s.wconn(ctx).Where(clause.Eq{Column: clause.Column{Name: "key"}, Value: key}).Take(&row).Error
	if err != nil {
		return "", translate(ctx, err, subject{what: "setting", id: key})
	}
	return row.Value, nil
}
