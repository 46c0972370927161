package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"gorm.io/gorm"

	"github.com/billgate/billgate/service"
)

// table declares a resource table once: its name, the noun of its error
// messages, how the Principal scopes it, and the API fields it may be filtered,
// sorted and searched by. Every query on the table goes through scoped (its rows)
// and applyQuery (its list params), both driven by this declaration.
//
// A new resource copies this pattern (clients: owned by a reseller, per mode):
//
//	var clientsTable = &table{
//		name: "clients", noun: "client",
//		scope: scopeSpec{resellerColumn: "resellers_id", liveMode: true},
//		fields: map[string]string{"id": "id", "name": "name", "status": "status",
//			"resellers_id": "resellers_id", "created_at": "created_at", "updated_at": "updated_at"},
//	}
//
// and a child table scoped through its parent (accounts of a client):
//
//	scope: scopeSpec{through: &parentRef{column: "clients_id", parent: clientsTable}, liveMode: true},
//
// Its methods are then one line each: findRow, searchRows, countRows, updateRow
// (with columnsOf and a writable map) and deleteRow over s.conn(ctx) for reads
// and s.wconn(ctx) for writes. A create runs in s.InTx, calls checkOwner for its
// resellers_id (or finds its parent row through the scoped find of the parent)
// and sets live_mode from principal(ctx).Live.
type table struct {
	name   string
	noun   string
	scope  scopeSpec
	fields map[string]string // API field name → column of this table
	// key is the primary-key column that findRow, updateRow and deleteRow
	// address rows by; "" means "id" (currencies use "code").
	key string
}

// keyColumn returns the qualified primary-key column of t.
func (t *table) keyColumn() string {
	if t.key == "" {
		return t.name + ".id"
	}
	return t.name + "." + t.key
}

// scopeSpec says how the Principal restricts a table's rows. Exactly one of
// pathColumn, resellerColumn, through or noReseller must be set (a spec that says
// nothing fails closed); liveMode and testOnlyColumn add a mode rule.
type scopeSpec struct {
	// pathColumn holds a materialised reseller path (the resellers table itself):
	// a restricted principal sees rows whose path starts with its own.
	pathColumn string
	// resellerColumn holds the owning reseller id: a restricted principal sees
	// rows owned by its subtree, never rows with NULL (owned by the root).
	resellerColumn string
	// through scopes the table by a parent table: the rows whose column points at a
	// row of the parent that the principal may see.
	through *parentRef
	// noReseller says, explicitly, that the table is not owned by resellers.
	noReseller bool

	// liveMode: the table has a live_mode boolean column; a principal sees only
	// the rows of its own mode.
	liveMode bool
	// testOnlyColumn holds "live" or "test" (api_keys.mode): a test-mode principal
	// sees only test rows, a live one sees both.
	testOnlyColumn string
}

// parentRef points a table at the parent it is scoped through.
type parentRef struct {
	column string // this table's column holding the parent's id
	parent *table
}

// resellerPathRe is the shape of a materialised path: "/1/", "/1/5/".
var resellerPathRe = regexp.MustCompile(`^(/[0-9]+)+/$`)

// scoped returns db on table t restricted to the rows the Principal of ctx may
// see. It fails closed: no Principal, a restricted Principal without a valid
// ResellerPath, or a table whose scopeSpec is incomplete is CodeInternal
// (wrapping service.ErrNoPrincipal for the first).
func scoped(ctx context.Context, db *gorm.DB, t *table) (*gorm.DB, error) {
	cond, args, err := scopeCond(service.PrincipalFrom(ctx), t)
	if err != nil {
		return nil, err
	}
	db = db.Table(t.name)
	if cond != "" {
		db = db.Where(cond, args...)
	}
	return db, nil
}

// scopeCond builds the WHERE condition of scoped ("" when p sees every row).
// Columns are qualified with the table name, so the condition nests in the
// subqueries of child tables.
func scopeCond(p *service.Principal, t *table) (string, []any, error) {
	if err := checkPrincipal(p); err != nil {
		return "", nil, err
	}
	sp := t.scope
	if err := sp.check(); err != nil {
		return "", nil, service.Internal(fmt.Errorf("table %s: %w", t.name, err))
	}
	col := func(c string) string { return t.name + "." + c }
	var (
		conds []string
		args  []any
	)
	switch {
	case sp.pathColumn != "" && p.Restricted():
		conds = append(conds, col(sp.pathColumn)+" LIKE ?")
		args = append(args, p.ResellerPath+"%")
	case sp.resellerColumn != "" && p.Restricted():
		conds = append(conds, col(sp.resellerColumn)+" IN (SELECT resellers.id FROM resellers WHERE resellers.path LIKE ?)")
		args = append(args, p.ResellerPath+"%")
	case sp.through != nil:
		parent := sp.through.parent
		pc, pa, err := scopeCond(p, parent)
		if err != nil {
			return "", nil, err
		}
		if pc != "" {
			// A correlated EXISTS, not "column IN (SELECT id …)": SQLite
			// materialises an IN subquery over every visible parent row
			// (100,000 clients) for each statement, where EXISTS is one
			// primary-key probe; PostgreSQL plans both as a semi-join.
			conds = append(conds, fmt.Sprintf("EXISTS (SELECT 1 FROM %s WHERE %s.id = %s AND %s)", parent.name, parent.name, col(sp.through.column), pc))
			args = append(args, pa...)
		}
	}
	if sp.liveMode {
		conds = append(conds, col("live_mode")+" = ?")
		args = append(args, p.Live)
	}
	if sp.testOnlyColumn != "" && !p.Live {
		conds = append(conds, col(sp.testOnlyColumn)+" = ?")
		args = append(args, service.ModeTest)
	}
	return strings.Join(conds, " AND "), args, nil
}

// check reports a spec that does not say exactly how resellers scope the table.
func (sp scopeSpec) check() error {
	n := 0
	for _, set := range []bool{sp.pathColumn != "", sp.resellerColumn != "", sp.through != nil, sp.noReseller} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("scopeSpec must set exactly one of pathColumn, resellerColumn, through, noReseller")
	}
	if sp.through != nil && (sp.through.parent == nil || sp.through.column == "") {
		return errors.New("scopeSpec.through needs a column and a parent table")
	}
	return nil
}

// principal returns the Principal of ctx, failing closed like scoped.
func principal(ctx context.Context) (*service.Principal, error) {
	p := service.PrincipalFrom(ctx)
	if err := checkPrincipal(p); err != nil {
		return nil, err
	}
	return p, nil
}

// checkPrincipal refuses (CodeInternal) a missing Principal, wrapping
// service.ErrNoPrincipal, and a restricted one without a valid ResellerPath
// (which would otherwise match every path).
func checkPrincipal(p *service.Principal) error {
	if p == nil {
		return service.Internal(service.ErrNoPrincipal)
	}
	if p.Restricted() && !resellerPathRe.MatchString(p.ResellerPath) {
		return service.Internal(fmt.Errorf("principal of user %d is limited to reseller %d but has no valid reseller path %q",
			p.UserID, *p.ResellerID, p.ResellerPath))
	}
	return nil
}

// checkOwner refuses an owner reseller the principal cannot see: a reseller out
// of scope (or missing), or the root (nil) for a restricted principal. Every
// create or update that sets a resellers_id calls it, in the same transaction as
// the write. Errors: CodeNotFound, or CodeInternal without a Principal.
func (s *Store) checkOwner(ctx context.Context, resellerID *int64) error {
	if resellerID != nil {
		_, err := s.FindReseller(ctx, *resellerID)
		return err
	}
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if p.Restricted() {
		return service.NotFound("reseller", 0)
	}
	return nil
}
