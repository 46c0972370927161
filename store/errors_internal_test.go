package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/billgate/billgate/service"
)

// liteErr mimics the SQLite driver's error (a message and an extended code).
type liteErr struct {
	msg  string
	code int
}

func (e *liteErr) Error() string { return e.msg }
func (e *liteErr) Code() int     { return e.code }

func TestTranslate(t *testing.T) {
	ctx := context.Background()
	user := about("user", 5)
	cases := []struct {
		name      string
		err       error
		subj      subject
		code      service.Code
		msg       string // exact message, when set
		field     string // expected key of Fields, when set
		sameError bool   // the error comes back unchanged
	}{
		{name: "not found", err: fmt.Errorf("find: %w", gorm.ErrRecordNotFound), subj: user,
			code: service.CodeNotFound, msg: "user 5 not found"},
		{name: "pg unique", err: &pgconn.PgError{Code: "23505", TableName: "users", ConstraintName: "users_login_key",
			Message: `duplicate key value violates unique constraint "users_login_key"`, Detail: "Key (login)=(bob) already exists."},
			subj: about("user", nil), code: service.CodeConflict, msg: "login already taken by another user", field: "login"},
		{name: "sqlite unique", err: &liteErr{"constraint failed: UNIQUE constraint failed: users.login (2067)", sqliteUnique},
			subj: about("user", nil), code: service.CodeConflict, field: "login"},
		{name: "sqlite unique as text", err: errors.New("UNIQUE constraint failed: api_keys.hash"),
			subj: about("api key", nil), code: service.CodeConflict, field: "hash"},
		{name: "pg fk on delete", err: &pgconn.PgError{Code: "23503", TableName: "users", ConstraintName: "users_resellers_id_fkey"},
			subj: subject{what: "reseller", id: 7, owns: "users or resellers"}, code: service.CodeConflict,
			msg: "reseller 7 still owns users or resellers"},
		{name: "sqlite fk on delete", err: &liteErr{"constraint failed: FOREIGN KEY constraint failed (787)", sqliteForeignKey},
			subj: subject{what: "reseller", id: 7, owns: "users or resellers"}, code: service.CodeConflict,
			msg: "reseller 7 still owns users or resellers"},
		{name: "pg fk on insert", err: &pgconn.PgError{Code: "23503", TableName: "users", ConstraintName: "users_resellers_id_fkey"},
			subj: about("user", nil), code: service.CodeConflict, field: "resellers_id"},
		{name: "sqlite busy", err: &liteErr{"database is locked (5) (SQLITE_BUSY)", sqliteBusy}, code: service.CodeUnavailable},
		{name: "pg admin shutdown", err: &pgconn.PgError{Code: "57P01"}, code: service.CodeUnavailable},
		{name: "pg connection failure", err: &pgconn.PgError{Code: "08006"}, code: service.CodeUnavailable},
		{name: "net error", err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, code: service.CodeUnavailable},
		{name: "refused", err: fmt.Errorf("x: %w", syscall.ECONNREFUSED), code: service.CodeUnavailable},
		{name: "bad conn", err: driver.ErrBadConn, code: service.CodeUnavailable},
		{name: "closed pool", err: errors.New("sql: database is closed"), code: service.CodeUnavailable},
		{name: "other pg error", err: &pgconn.PgError{Code: "42601", Message: "syntax error at or near"}, code: service.CodeInternal,
			msg: "internal error"},
		{name: "unknown", err: errors.New("something odd"), code: service.CodeInternal, msg: "internal error"},
		{name: "deadline", err: context.DeadlineExceeded, code: service.CodeTimeout, sameError: true},
		{name: "service error", err: service.NotFound("client", 1), code: service.CodeNotFound, sameError: true},
	}
	for _, tc := range cases {
		if tc.subj.what == "" {
			tc.subj = user
		}
		got := translate(ctx, tc.err, tc.subj)
		if service.CodeOf(got) != tc.code {
			t.Errorf("%s: %v → code %q, want %q", tc.name, got, service.CodeOf(got), tc.code)
			continue
		}
		if tc.sameError && got != tc.err {
			t.Errorf("%s: %v was not passed through", tc.name, got)
		}
		e := service.AsError(got)
		if tc.msg != "" && e.Message != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.name, e.Message, tc.msg)
		}
		if tc.field != "" {
			if _, ok := e.Fields[tc.field]; !ok {
				t.Errorf("%s: fields %v, want %q", tc.name, e.Fields, tc.field)
			}
		}
		if !tc.sameError && !errors.Is(got, tc.err) {
			t.Errorf("%s: the cause is not kept", tc.name)
		}
		for _, leak := range []string{"constraint", "SQLITE", "syntax", "Key (", "refused", "odd", "sql:"} {
			if !tc.sameError && strings.Contains(e.Message, leak) {
				t.Errorf("%s: message %q leaks driver text %q", tc.name, e.Message, leak)
			}
		}
	}
	if translate(ctx, nil, user) != nil {
		t.Error("nil error translated to non-nil")
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if got := translate(done, errors.New("read: i/o error"), user); !errors.Is(got, context.Canceled) {
		t.Errorf("error after ctx cancel: %v, want it to wrap context.Canceled", got)
	}
}

// tables lists every table declaration; each must have a complete scope spec.
var tables = []*table{resellersTable, usersTable, apiKeysTable, clientsTable, accountsTable, currenciesTable,
	ratesTable, transactionsTable, auditTable}

func TestEveryTableDeclaresItsScope(t *testing.T) {
	for _, tb := range tables {
		if err := tb.scope.check(); err != nil {
			t.Errorf("%s: %v", tb.name, err)
		}
		if _, ok := tb.fields["id"]; !ok {
			t.Errorf("%s: no id field", tb.name)
		}
	}
	// A table that does not say how it is scoped fails closed.
	loose := &table{name: "loose", noun: "loose", scope: scopeSpec{liveMode: true}}
	_, _, err := scopeCond(&service.Principal{Live: true}, loose)
	if service.CodeOf(err) != service.CodeInternal {
		t.Errorf("incomplete spec: %v, want internal", err)
	}
}

func TestScopeCondition(t *testing.T) {
	id := int64(5)
	a := &service.Principal{ResellerID: &id, ResellerPath: "/1/5/", Live: false}
	clients := &table{name: "clients", scope: scopeSpec{resellerColumn: "resellers_id", liveMode: true}}
	accounts := &table{name: "accounts", scope: scopeSpec{through: &parentRef{column: "clients_id", parent: clients}, liveMode: true}}
	cases := []struct {
		p    *service.Principal
		t    *table
		cond string
		args []any
	}{
		{&service.Principal{Live: true}, usersTable, "", nil},
		{a, usersTable, "users.resellers_id IN (SELECT resellers.id FROM resellers WHERE resellers.path LIKE ?)", []any{"/1/5/%"}},
		{a, resellersTable, "resellers.path LIKE ?", []any{"/1/5/%"}},
		{&service.Principal{Live: true}, apiKeysTable, "", nil},
		{&service.Principal{Live: false}, apiKeysTable, "api_keys.mode = ?", []any{"test"}},
		{a, apiKeysTable, "EXISTS (SELECT 1 FROM users WHERE users.id = api_keys.users_id AND users.resellers_id IN " +
			"(SELECT resellers.id FROM resellers WHERE resellers.path LIKE ?)) AND api_keys.mode = ?", []any{"/1/5/%", "test"}},
		{&service.Principal{Live: true}, clients, "clients.live_mode = ?", []any{true}},
		{a, accounts, "EXISTS (SELECT 1 FROM clients WHERE clients.id = accounts.clients_id AND clients.resellers_id IN " +
			"(SELECT resellers.id FROM resellers WHERE resellers.path LIKE ?) AND clients.live_mode = ?) AND accounts.live_mode = ?",
			[]any{"/1/5/%", false, false}},
	}
	for _, tc := range cases {
		cond, args, err := scopeCond(tc.p, tc.t)
		if err != nil || cond != tc.cond || fmt.Sprint(args) != fmt.Sprint(tc.args) {
			t.Errorf("%s: %q %v %v\nwant %q %v", tc.t.name, cond, args, err, tc.cond, tc.args)
		}
	}
	for _, bad := range []string{"", "%", "/1/%", "/1/5", "1/5/", "/1/_/"} {
		p := &service.Principal{ResellerID: &id, ResellerPath: bad}
		if _, _, err := scopeCond(p, usersTable); service.CodeOf(err) != service.CodeInternal {
			t.Errorf("path %q accepted: %v", bad, err)
		}
	}
}
