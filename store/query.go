package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/billgate/billgate/service"
)

// applyQuery applies a validated service.Query to db, a query on table t:
//
//   - each filter: column IN (values);
//   - q: (LOWER(col) LIKE q ESCAPE '\' OR …) over q.QFields;
//   - CreatedFrom / CreatedTo: created_at >= from, created_at < to;
//   - q.Order, with NULLs last ascending and first descending on both databases
//     (with q, each key as COALESCE(col, col): see below);
//   - LIMIT q.Limit+1 (the extra row tells the service more rows follow; Limit 0:
//     no limit, as for counts) and OFFSET q.Offset.
//
// Field names are mapped through t.fields; a field missing there is CodeInternal
// (the service validated it already: this is defence in depth). No name from the
// caller ever reaches the SQL text.
func applyQuery(db *gorm.DB, t *table, q service.Query) (*gorm.DB, error) {
	column := func(field string) (string, error) {
		c, ok := t.fields[field]
		if !ok {
			return "", service.Internal(fmt.Errorf("table %s: field %q is not in the store's whitelist", t.name, field))
		}
		return t.name + "." + c, nil
	}
	for _, f := range q.Filters {
		c, err := column(f.Field)
		if err != nil {
			return nil, err
		}
		if len(f.Values) == 0 {
			db = db.Where("1 = 0") // IN () matches nothing
			continue
		}
		db = db.Where(c+" IN ?", f.Values)
	}
	if q.Q != "" {
		if len(q.QFields) == 0 {
			return nil, service.Internal(fmt.Errorf("table %s: quick search without fields", t.name))
		}
		parts := make([]string, 0, len(q.QFields))
		args := make([]any, 0, len(q.QFields))
		for _, f := range q.QFields {
			c, err := column(f)
			if err != nil {
				return nil, err
			}
			parts = append(parts, "LOWER("+c+") LIKE ? ESCAPE '\\'")
			args = append(args, q.Q)
		}
		db = db.Where("("+strings.Join(parts, " OR ")+")", args...)
	}
	if q.CreatedFrom != nil || q.CreatedTo != nil {
		c, err := column("created_at")
		if err != nil {
			return nil, err
		}
		if q.CreatedFrom != nil {
			db = db.Where(c+" >= ?", q.CreatedFrom.UTC())
		}
		if q.CreatedTo != nil {
			db = db.Where(c+" < ?", q.CreatedTo.UTC())
		}
	}
	for _, o := range q.Order {
		c, err := column(o.Field)
		if err != nil {
			return nil, err
		}
		if q.Q != "" {
			// The same order, in a form no index provides. Otherwise PostgreSQL,
			// whose LIKE '%term%' estimates are far too high for rare terms,
			// walks a sort index (the primary key, …) under the LIMIT and
			// filters out almost every row: 1.3 s for one match in 1,000,000
			// clients, against 16 ms when it reads the matches through the
			// pg_trgm indexes and sorts them (a term matching every row costs
			// a full scan, 0.4 s). TestClientSearchPlansUseIndexesOnPostgres.
			c = "COALESCE(" + c + ", " + c + ")"
		}
		if o.Desc {
			db = db.Order(c + " DESC NULLS FIRST")
		} else {
			db = db.Order(c + " ASC NULLS LAST")
		}
	}
	if q.Limit > 0 {
		db = db.Limit(q.Limit + 1)
	}
	if q.Offset > 0 {
		db = db.Offset(q.Offset)
	}
	return db, nil
}

// findRow loads the row of t whose key (t.keyColumn) is id from the principal's
// scope. Errors: CodeNotFound (missing or out of scope), CodeUnavailable,
// CodeInternal.
func findRow[R any](ctx context.Context, db *gorm.DB, t *table, id any) (*R, error) {
	tx, err := scoped(ctx, db, t)
	if err != nil {
		return nil, err
	}
	var row R
	if err := tx.Where(t.keyColumn()+" = ?", id).Take(&row).Error; err != nil {
		return nil, translate(ctx, err, about(t.noun, id))
	}
	return &row, nil
}

// findRows loads the rows of t whose keys are among ids from the principal's
// scope, in one query (ids may repeat; a batch's worth, bounded by the
// transport's batch limit). keyOf gives a row's key. The map holds the rows
// found; a key missing from it is missing or out of scope, exactly as findRow
// would say. Errors: CodeUnavailable, CodeInternal.
func findRows[R any, K comparable](ctx context.Context, db *gorm.DB, t *table, ids []K, keyOf func(*R) K) (map[K]*R, error) {
	tx, err := scoped(ctx, db, t)
	if err != nil {
		return nil, err
	}
	seen := make(map[K]bool, len(ids))
	keys := make([]K, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, id)
		}
	}
	var rows []R
	if err := tx.Where(t.keyColumn()+" IN ?", keys).Find(&rows).Error; err != nil {
		return nil, translate(ctx, err, about(t.noun, nil))
	}
	found := make(map[K]*R, len(rows))
	for i := range rows {
		found[keyOf(&rows[i])] = &rows[i]
	}
	return found, nil
}

// searchRows lists the rows of t in the principal's scope that match q (up to
// q.Limit+1). Errors: CodeUnavailable, CodeInternal.
func searchRows[R any](ctx context.Context, db *gorm.DB, t *table, q service.Query) ([]R, error) {
	tx, err := scoped(ctx, db, t)
	if err != nil {
		return nil, err
	}
	if tx, err = applyQuery(tx, t, q); err != nil {
		return nil, err
	}
	var rows []R
	if err := tx.Find(&rows).Error; err != nil {
		return nil, translate(ctx, err, about(t.noun, nil))
	}
	return rows, nil
}

// countRows counts the rows of t in the principal's scope that match q's filters
// (its order, limit and offset are ignored). Errors: CodeUnavailable, CodeInternal.
func countRows(ctx context.Context, db *gorm.DB, t *table, q service.Query) (int64, error) {
	tx, err := scoped(ctx, db, t)
	if err != nil {
		return 0, err
	}
	q.Order, q.Limit, q.Offset = nil, 0, 0
	if tx, err = applyQuery(tx, t, q); err != nil {
		return 0, err
	}
	var n int64
	if err := tx.Count(&n).Error; err != nil {
		return 0, translate(ctx, err, about(t.noun, nil))
	}
	return n, nil
}

// updateRow writes the columns cols of row (a *R) to the row of t with id, in
// the principal's scope. Errors: CodeNotFound, CodeConflict, CodeUnavailable,
// CodeInternal.
func updateRow(ctx context.Context, db *gorm.DB, t *table, id any, row any, cols []string) error {
	tx, err := scoped(ctx, db, t)
	if err != nil {
		return err
	}
	res := tx.Where(t.keyColumn()+" = ?", id).Select(cols).Updates(row)
	if res.Error != nil {
		return translate(ctx, res.Error, about(t.noun, id))
	}
	if res.RowsAffected == 0 {
		return service.NotFound(t.noun, id)
	}
	return nil
}

// deleteRow deletes the row of t with id from the principal's scope; subj names
// it in a refusal by a foreign key. Errors: CodeNotFound, CodeConflict,
// CodeUnavailable, CodeInternal.
func deleteRow[R any](ctx context.Context, db *gorm.DB, t *table, id any, subj subject) error {
	tx, err := scoped(ctx, db, t)
	if err != nil {
		return err
	}
	res := tx.Where(t.keyColumn()+" = ?", id).Delete(new(R))
	if res.Error != nil {
		return translate(ctx, res.Error, subj)
	}
	if res.RowsAffected == 0 {
		return service.NotFound(t.noun, id)
	}
	return nil
}

// columnsOf maps the json field names of an update to the columns of t, using
// writable (field → column); an unknown field is CodeInternal. updated_at is
// appended when t has it.
func columnsOf(t *table, writable map[string]string, fields []string) ([]string, error) {
	cols := make([]string, 0, len(fields)+1)
	for _, f := range fields {
		c, ok := writable[f]
		if !ok {
			return nil, service.Internal(fmt.Errorf("table %s: field %q cannot be updated", t.name, f))
		}
		cols = append(cols, c)
	}
	if _, ok := t.fields["updated_at"]; ok {
		cols = append(cols, "updated_at")
	}
	return cols, nil
}
