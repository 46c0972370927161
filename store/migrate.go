package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/billgate/billgate/service"
)

// migrationsFS holds the versioned migrations, one directory per dialect:
// migrations/<dialect>/NNNNN_<topic>.sql (goose annotations -- +goose Up / Down).
// A change to the schema adds the next number in BOTH directories.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationsFS embed.FS

// Migrate applies every pending migration of the store's dialect; it is a no-op
// on an up-to-date database. On PostgreSQL a session advisory lock serialises
// concurrent Migrate calls from several processes. Errors: CodeUnavailable when
// the database cannot be reached, a plain error when a migration fails.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.migrations()
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		if r.Error == nil {
			s.log.InfoContext(ctx, "store: applied migration", "dialect", s.dialect,
				"version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
		}
	}
	if err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) && partial.Failed != nil {
			err = fmt.Errorf("migration %s: %w", partial.Failed.Source.Path, partial.Err)
		}
		return migrateError(ctx, err)
	}
	return nil
}

// MigrationVersion returns the schema version of the database and the latest
// version this binary knows. Errors: CodeUnavailable, or a plain error.
func (s *Store) MigrationVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := s.migrations()
	if err != nil {
		return 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, migrateError(ctx, err)
	}
	return current, latest, nil
}

func (s *Store) migrations() (*goose.Provider, error) {
	sub, err := fs.Sub(migrationsFS, "migrations/"+s.dialect)
	if err != nil {
		return nil, fmt.Errorf("store: migrations of %s: %w", s.dialect, err)
	}
	sqlDB, err := s.wdb.DB()
	if err != nil {
		return nil, service.Internal(err)
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.dialect == DialectPostgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	// Only our embedded files: never Go migrations registered globally by a dependency.
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	p, err := goose.NewProvider(dialect, sqlDB, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations of %s: %w", s.dialect, err)
	}
	return p, nil
}

// migrateError reports an unreachable database as CodeUnavailable and anything
// else as a plain error naming the failure.
func migrateError(ctx context.Context, err error) error {
	if kind, _ := classify(err); kind == errUnavailable {
		return service.Unavailable(err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("store: migrate: %w (%v)", ctx.Err(), err)
	}
	return fmt.Errorf("store: migrate: %w", err)
}
