package rest

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/billgate/billgate/service"
)

// statuses is the HTTP status of every service.Code (API.md §4). A test fails
// when a code of service.AllCodes is missing.
var statuses = map[service.Code]int{
	service.CodeParseError:      http.StatusBadRequest,
	service.CodeInvalidRequest:  http.StatusBadRequest,
	service.CodeMethodNotFound:  http.StatusNotFound,
	service.CodeInvalidParams:   http.StatusBadRequest,
	service.CodeInternal:        http.StatusInternalServerError,
	service.CodeNotFound:        http.StatusNotFound,
	service.CodeConflict:        http.StatusConflict,
	service.CodeUnprocessable:   http.StatusUnprocessableEntity,
	service.CodeForbidden:       http.StatusForbidden,
	service.CodeUnauthenticated: http.StatusUnauthorized,
	service.CodeUnavailable:     http.StatusServiceUnavailable,
	service.CodeTooLarge:        http.StatusRequestEntityTooLarge,
	service.CodeTimeout:         http.StatusGatewayTimeout,
}

// HTTPStatus returns the HTTP status of an error code (500 for an unknown one).
func HTTPStatus(c service.Code) int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// codeForStatus maps the status of an *echo.HTTPError to the closest Code.
func codeForStatus(status int) service.Code {
	switch status {
	case http.StatusBadRequest:
		return service.CodeInvalidRequest
	case http.StatusUnauthorized:
		return service.CodeUnauthenticated
	case http.StatusForbidden:
		return service.CodeForbidden
	case http.StatusNotFound:
		return service.CodeNotFound
	case http.StatusMethodNotAllowed:
		return service.CodeMethodNotFound
	case http.StatusConflict:
		return service.CodeConflict
	case http.StatusRequestEntityTooLarge:
		return service.CodeTooLarge
	case http.StatusUnprocessableEntity:
		return service.CodeUnprocessable
	case http.StatusServiceUnavailable:
		return service.CodeUnavailable
	case http.StatusGatewayTimeout:
		return service.CodeTimeout
	}
	if status >= 500 {
		return service.CodeInternal
	}
	return service.CodeInvalidRequest
}

// ErrorHandler returns the echo.HTTPErrorHandler that writes every error in the
// API's shape, {"error":{"code":…,"message":…,"data":{"code":…}}}:
// *service.Error with its status from the table; echo's "route not found" as
// 404 method_not_found naming verb and path; echo's 405 as 405
// method_not_found listing the allowed verbs; other *echo.HTTPErrors with their
// status; a body over a http.MaxBytesReader limit as 413 too_large; anything
// else as 500 internal (the cause is logged with the request id, never sent).
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		r := c.Request()
		var (
			se  *service.Error
			he  *echo.HTTPError
			mbe *http.MaxBytesError
		)
		switch {
		case errors.As(err, &se):
			writeError(c, se)
			return
		case errors.As(err, &mbe):
			writeError(c, tooLarge(mbe.Limit))
			return
		case errors.As(err, &he):
			switch {
			case he == echo.ErrNotFound:
				writeError(c, service.Errorf(service.CodeMethodNotFound, "no route for %s %s", r.Method, clip(r.URL.Path)))
				return
			case he.Code == http.StatusMethodNotAllowed:
				msg := "method " + r.Method + " is not allowed on " + clip(r.URL.Path)
				if allow := c.Response().Header().Get(echo.HeaderAllow); allow != "" {
					msg += " (allowed: " + allow + ")"
				}
				writeErrorStatus(c, http.StatusMethodNotAllowed, service.Errorf(service.CodeMethodNotFound, "%s", msg))
				return
			case he.Code < 500:
				msg, ok := he.Message.(string)
				if !ok || msg == "" {
					msg = http.StatusText(he.Code)
				}
				writeErrorStatus(c, he.Code, &service.Error{Code: codeForStatus(he.Code), Message: msg})
				return
			}
			se = &service.Error{Code: codeForStatus(he.Code), Message: http.StatusText(he.Code), Err: err}
		default:
			se = service.AsError(err)
		}
		log.ErrorContext(r.Context(), "request failed", "request_id", r.Header.Get(HeaderRequestID),
			"verb", r.Method, "path", clip(r.URL.Path), "code", string(se.Code), "err", err.Error())
		if he != nil {
			writeErrorStatus(c, he.Code, se)
			return
		}
		writeError(c, se)
	}
}

// clip shortens a request path for messages and logs.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// errorBody is the REST error shape.
type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Code    int64          `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data"`
}

// writeError writes e with the status of its code.
func writeError(c echo.Context, e *service.Error) error {
	return writeErrorStatus(c, HTTPStatus(e.Code), e)
}

// writeErrorStatus writes e with status. The message of an internal error is
// always generic; e.Err is never sent.
func writeErrorStatus(c echo.Context, status int, e *service.Error) error {
	w := c.Response()
	if w.Committed {
		return nil
	}
	msg := e.Message
	if e.Code == service.CodeInternal || msg == "" {
		msg = "internal error"
		if e.Code != service.CodeInternal {
			msg = http.StatusText(status)
		}
	}
	h := w.Header()
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Del(echo.HeaderLocation)
	if c.Request().Method == http.MethodHead {
		w.WriteHeader(status)
		return nil
	}
	w.Status = status
	// An encoding failure here can only be a write failure: the client is gone.
	_ = json.NewEncoder(w).Encode(errorBody{Error: errorObject{Code: e.Code.Number(), Message: msg, Data: e.Data()}})
	return nil
}
