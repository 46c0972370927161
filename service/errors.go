package service

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Code is the stable, protocol-neutral name of an error class. The transports map
// each Code to a JSON-RPC error code (rpc/) and an HTTP status (rest/); a test in
// each adapter fails if a Code in AllCodes is unmapped.
type Code string

// The error codes of API.md §4.
const (
	CodeParseError      Code = "parse_error"
	CodeInvalidRequest  Code = "invalid_request"
	CodeMethodNotFound  Code = "method_not_found"
	CodeInvalidParams   Code = "invalid_params"
	CodeInternal        Code = "internal"
	CodeNotFound        Code = "not_found"
	CodeConflict        Code = "conflict"
	CodeUnprocessable   Code = "unprocessable"
	CodeForbidden       Code = "forbidden"
	CodeUnauthenticated Code = "unauthenticated"
	CodeUnavailable     Code = "unavailable"
	CodeTooLarge        Code = "too_large"
	CodeTimeout         Code = "timeout"
)

// AllCodes lists every Code; the transports' mapping tables are checked against it.
var AllCodes = []Code{
	CodeParseError, CodeInvalidRequest, CodeMethodNotFound, CodeInvalidParams, CodeInternal,
	CodeNotFound, CodeConflict, CodeUnprocessable, CodeForbidden, CodeUnauthenticated,
	CodeUnavailable, CodeTooLarge, CodeTimeout,
}

// Error is the one error type of the service layer. Message is safe to show to the
// caller; Err (the cause) is logged and never sent.
type Error struct {
	Code    Code
	Message string
	// Fields maps parameter names to what is wrong with them (validation errors).
	Fields map[string]string
	// Reason is a finer, stable business reason such as "low_balance".
	Reason string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Data is the error's `data` member on the wire: {"code":…, "fields":…, "reason":…}.
func (e *Error) Data() map[string]any {
	d := map[string]any{"code": string(e.Code)}
	if len(e.Fields) > 0 {
		d["fields"] = e.Fields
	}
	if e.Reason != "" {
		d["reason"] = e.Reason
	}
	return d
}

// Errorf builds an Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that the object `what` with the given id does not exist for the caller.
func NotFound(what string, id any) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("%s %v not found", what, id)}
}

// InvalidField reports one invalid parameter.
func InvalidField(field, msg string) *Error {
	return &Error{Code: CodeInvalidParams, Message: fmt.Sprintf("invalid params: %s: %s", field, msg), Fields: map[string]string{field: msg}}
}

// Unprocessable reports a business-rule refusal with a stable reason.
func Unprocessable(reason, format string, args ...any) *Error {
	return &Error{Code: CodeUnprocessable, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected cause; the caller sees only a generic message.
func Internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}

// Unavailable reports that a dependency (the database) cannot be reached.
func Unavailable(err error) *Error {
	return &Error{Code: CodeUnavailable, Message: "service unavailable: the database cannot be reached, try again", Err: err}
}

// Validation collects field errors; Err returns nil when there are none.
type Validation map[string]string

// Add records msg for field unless the field already has a message.
func (v Validation) Add(field, msg string) {
	if _, ok := v[field]; !ok {
		v[field] = msg
	}
}

// Check records msg for field when ok is false.
func (v Validation) Check(ok bool, field, msg string) {
	if !ok {
		v.Add(field, msg)
	}
}

// Err returns an invalid_params Error naming every field, or nil.
func (v Validation) Err() error {
	if len(v) == 0 {
		return nil
	}
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ": " + v[n]
	}
	return &Error{Code: CodeInvalidParams, Message: "invalid params: " + strings.Join(parts, "; "), Fields: map[string]string(v)}
}

// AsError converts any error to an *Error: context deadlines become timeout,
// anything unknown becomes internal (with the cause kept for the log).
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Message: "the call took too long and was cancelled", Err: err}
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Code: CodeUnavailable, Message: "the call was cancelled", Err: err}
	}
	return Internal(err)
}

// CodeOf returns the Code of err (internal for unknown errors, "" for nil).
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return AsError(err).Code
}

// numbers are the API's numeric error codes (API.md §4). They appear on both
// wires: as the JSON-RPC error code and as error.code in REST bodies.
var numbers = map[Code]int64{
	CodeParseError:      -32700,
	CodeInvalidRequest:  -32600,
	CodeMethodNotFound:  -32601,
	CodeInvalidParams:   -32602,
	CodeInternal:        -32603,
	CodeNotFound:        -32001,
	CodeConflict:        -32002,
	CodeUnprocessable:   -32003,
	CodeForbidden:       -32004,
	CodeUnauthenticated: -32005,
	CodeUnavailable:     -32007,
	CodeTooLarge:        -32008,
	CodeTimeout:         -32009,
}

// Number returns the numeric error code of c (internal's for an unknown Code).
func (c Code) Number() int64 {
	if n, ok := numbers[c]; ok {
		return n
	}
	return numbers[CodeInternal]
}
