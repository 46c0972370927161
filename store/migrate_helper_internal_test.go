package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/billgate/billgate/pkg/pgtest"
)

// forEachStoreAt runs fn on a fresh SQLite and a fresh PostgreSQL store whose
// schema is migrated up to version (not further), for migration tests.
func forEachStoreAt(t *testing.T, version int64, fn func(t *testing.T, ctx context.Context, st *Store, p *goose.Provider)) {
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
			if _, err := p.UpTo(ctx, version); err != nil {
				t.Fatal(err)
			}
			fn(t, ctx, st, p)
		})
	}
}
