package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/billgate/billgate/service"
)

// subject names what a statement is about, for the messages of translate.
type subject struct {
	what string // the noun: "user", "reseller", "api key"
	id   any    // its id; nil when it has none yet (create)
	// owns names what may still reference the object, for a delete refused by a
	// foreign key: "users or resellers".
	owns string
}

// about is shorthand for subject{what: what, id: id}.
func about(what string, id any) subject { return subject{what: what, id: id} }

// translate is the one place where database errors become service errors. The
// returned Message never carries driver text (the cause stays in Err, for logs):
//
//   - a *service.Error passes unchanged;
//   - context.DeadlineExceeded and context.Canceled pass through (service.AsError
//     maps them to timeout and unavailable); so does any error once ctx is done;
//   - gorm.ErrRecordNotFound → service.NotFound(what, id);
//   - unique violation → CodeConflict with Fields naming the column;
//   - foreign-key violation → CodeConflict ("… still owns …" on a refused delete);
//   - connection failures, a closed pool, SQLite busy → service.Unavailable;
//   - anything else → service.Internal.
func translate(ctx context.Context, err error, subj subject) error {
	if err == nil {
		return nil
	}
	if se := (*service.Error)(nil); errors.As(err, &se) {
		return se
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if ctx != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows) {
		e := service.NotFound(subj.what, subj.id)
		e.Err = err
		return e
	}
	kind, field := classify(err)
	switch kind {
	case errUnique:
		e := &service.Error{Code: service.CodeConflict, Err: err}
		if field == "" {
			e.Message = fmt.Sprintf("this %s already exists", subj.what)
		} else {
			e.Message = fmt.Sprintf("%s already taken by another %s", field, subj.what)
			e.Fields = map[string]string{field: "already taken"}
		}
		return e
	case errForeignKey:
		e := &service.Error{Code: service.CodeConflict, Err: err}
		switch {
		case subj.owns != "":
			e.Message = fmt.Sprintf("%s %v still owns %s", subj.what, subj.id, subj.owns)
		case field != "":
			e.Message = fmt.Sprintf("%s: %s refers to an object that does not exist or is still referenced", subj.what, field)
			e.Fields = map[string]string{field: "refers to an object that does not exist"}
		default:
			e.Message = fmt.Sprintf("%s refers to an object that does not exist or is still referenced", subj.what)
		}
		return e
	case errUnavailable:
		return service.Unavailable(err)
	}
	return service.Internal(err)
}

type errKind int

const (
	errOther errKind = iota
	errUnique
	errForeignKey
	errUnavailable
)

// SQLite result codes (extended codes are enabled by the driver).
const (
	sqliteBusy       = 5
	sqliteLocked     = 6
	sqliteFull       = 13
	sqliteCantOpen   = 14
	sqliteUnique     = 19 | 8<<8 // SQLITE_CONSTRAINT_UNIQUE
	sqlitePrimaryKey = 19 | 6<<8 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteForeignKey = 19 | 3<<8 // SQLITE_CONSTRAINT_FOREIGNKEY
	sqliteBaseMask   = 0xff      // extended code → primary code
	sqliteUniqueText = "UNIQUE constraint failed: "
	sqliteFKText     = "FOREIGN KEY constraint failed"
)

// classify sorts a driver error and, for constraint violations, names the
// column involved ("" when unknown).
func classify(err error) (errKind, string) {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case pg.Code == "23505":
			return errUnique, constraintColumn(pg.TableName, pg.ConstraintName, "_key")
		case pg.Code == "23503":
			return errForeignKey, constraintColumn(pg.TableName, pg.ConstraintName, "_fkey")
		case strings.HasPrefix(pg.Code, "08"), // connection exception
			pg.Code == "57P01", pg.Code == "57P02", pg.Code == "57P03", // shutdown, cannot connect now
			pg.Code == "53300", pg.Code == "53400": // too many connections, configuration limit
			return errUnavailable, ""
		}
		return errOther, ""
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		code, msg := lite.Code(), err.Error()
		switch {
		case code == sqliteUnique || code == sqlitePrimaryKey || strings.Contains(msg, sqliteUniqueText):
			return errUnique, sqliteColumn(msg)
		// ON DELETE RESTRICT reports SQLITE_CONSTRAINT_TRIGGER: go by the message too.
		case code == sqliteForeignKey || strings.Contains(msg, sqliteFKText):
			return errForeignKey, ""
		case code&sqliteBaseMask == sqliteBusy, code&sqliteBaseMask == sqliteLocked,
			code&sqliteBaseMask == sqliteCantOpen, code&sqliteBaseMask == sqliteFull:
			return errUnavailable, ""
		}
		return errOther, ""
	}
	var connect *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connect), errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		// pgx reports a connection cut mid-message (a server killed or
		// restarted under a query) as io.ErrUnexpectedEOF.
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return errUnavailable, ""
	}
	msg := err.Error()
	for _, s := range []string{
		"sql: database is closed", "closed pool", "conn closed", "connection refused",
		"connection reset", "broken pipe", "database is locked", "server closed the connection",
	} {
		if strings.Contains(msg, s) {
			return errUnavailable, ""
		}
	}
	switch {
	case strings.Contains(msg, sqliteUniqueText):
		return errUnique, sqliteColumn(msg)
	case strings.Contains(msg, sqliteFKText):
		return errForeignKey, ""
	}
	return errOther, ""
}

// constraintColumn derives the column from a constraint named
// <table>_<column><suffix> (the naming of our migrations); "" otherwise.
func constraintColumn(table, constraint, suffix string) string {
	col, ok := strings.CutPrefix(constraint, table+"_")
	if !ok {
		return ""
	}
	col, ok = strings.CutSuffix(col, suffix)
	if !ok || col == "" {
		return ""
	}
	return col
}

// sqliteColumn reads the first column of "UNIQUE constraint failed: users.login (2067)".
func sqliteColumn(msg string) string {
	_, rest, ok := strings.Cut(msg, sqliteUniqueText)
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(rest, ",")
	first, _, _ = strings.Cut(first, " ")
	_, col, ok := strings.Cut(first, ".")
	if !ok {
		return ""
	}
	return col
}
