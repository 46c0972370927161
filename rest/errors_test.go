package rest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/billgate/billgate/service"
)

// wantStatus is API.md §4, written out independently of the table under test.
var wantStatus = map[service.Code]int{
	service.CodeParseError:      400,
	service.CodeInvalidRequest:  400,
	service.CodeMethodNotFound:  404,
	service.CodeInvalidParams:   400,
	service.CodeInternal:        500,
	service.CodeNotFound:        404,
	service.CodeConflict:        409,
	service.CodeUnprocessable:   422,
	service.CodeForbidden:       403,
	service.CodeUnauthenticated: 401,
	service.CodeUnavailable:     503,
	service.CodeTooLarge:        413,
	service.CodeTimeout:         504,
}

func TestEveryCodeHasAStatus(t *testing.T) {
	for _, c := range service.AllCodes {
		s, ok := statuses[c]
		if !ok {
			t.Errorf("code %s has no HTTP status", c)
			continue
		}
		if want, ok := wantStatus[c]; !ok || s != want {
			t.Errorf("code %s → %d, want %d (API.md §4)", c, s, want)
		}
	}
	if len(statuses) != len(service.AllCodes) {
		t.Errorf("the table has %d codes, service.AllCodes %d", len(statuses), len(service.AllCodes))
	}
	if HTTPStatus("bogus") != 500 {
		t.Error("an unknown code must be a 500")
	}
}

func TestErrorStatusOverHTTP(t *testing.T) {
	srv := newServer(t, Options{})
	for _, c := range service.AllCodes {
		t.Run(string(c), func(t *testing.T) {
			r := do(t, srv, "GET", "/fail/"+string(c), nil)
			e := r.apiError(t, wantStatus[c], c)
			if c == service.CodeInternal {
				if e.Message != "internal error" || strings.Contains(string(r.Body), "secret") {
					t.Errorf("internal error leaks: %s", r.Body)
				}
			} else if e.Message != "failed with "+string(c) {
				t.Errorf("message %q", e.Message)
			}
		})
	}
}

func TestUnknownRouteAndWrongVerb(t *testing.T) {
	srv := newServer(t, Options{})
	e := do(t, srv, "GET", "/nope/x", nil).apiError(t, http.StatusNotFound, service.CodeMethodNotFound)
	if !strings.Contains(e.Message, "GET /nope/x") {
		t.Errorf("404 message %q does not name verb and path", e.Message)
	}
	r := do(t, srv, "PUT", "/things/1", nil)
	e = r.apiError(t, http.StatusMethodNotAllowed, service.CodeMethodNotFound)
	if !strings.Contains(e.Message, "PUT") || !strings.Contains(e.Message, "/things/1") {
		t.Errorf("405 message %q", e.Message)
	}
	if allow := r.Header.Get("Allow"); !strings.Contains(allow, "PATCH") || !strings.Contains(allow, "GET") {
		t.Errorf("Allow %q", allow)
	}
	if r.Header.Get(HeaderRequestID) == "" {
		t.Error("no request id on a 405")
	}
	// A method without an HTTP path is not mounted anywhere.
	do(t, srv, "GET", "/test.norest", nil).apiError(t, http.StatusNotFound, service.CodeMethodNotFound)
}

func TestPanics(t *testing.T) {
	log, logs := newLogger()
	srv := newServer(t, Options{Logger: log}, func(e *echo.Echo) {
		e.GET("/boom", func(echo.Context) error { panic("kaboom in a handler") })
	})
	// A panic inside a method is recovered by the service.
	r := do(t, srv, "GET", "/panic", nil)
	e := r.apiError(t, http.StatusInternalServerError, service.CodeInternal)
	if e.Message != "internal error" || strings.Contains(string(r.Body), "secret") {
		t.Errorf("method panic leaks: %s", r.Body)
	}
	// A panic in any other handler is recovered by the HTTP layer and logged
	// with the request id.
	r = do(t, srv, "GET", "/boom", nil, HeaderRequestID, "req-boom-1")
	e = r.apiError(t, http.StatusInternalServerError, service.CodeInternal)
	if e.Message != "internal error" || strings.Contains(string(r.Body), "kaboom") {
		t.Errorf("handler panic leaks: %s", r.Body)
	}
	if l := logs.String(); !strings.Contains(l, "kaboom in a handler") || !strings.Contains(l, "req-boom-1") {
		t.Errorf("panic not logged with its request id: %s", l)
	}
	// The server is still serving.
	if got := do(t, srv, "PATCH", "/things/5", nil).thing(t); got.ID != 5 {
		t.Errorf("after a panic: %+v", got)
	}
}

func TestErrorsOfOtherHandlers(t *testing.T) {
	log, logs := newLogger()
	srv := newServer(t, Options{Logger: log}, func(e *echo.Echo) {
		e.GET("/x/echo401", func(echo.Context) error { return echo.ErrUnauthorized })
		e.GET("/x/echo400", func(echo.Context) error { return echo.NewHTTPError(http.StatusBadRequest, "bad thing") })
		e.GET("/x/echo502", func(echo.Context) error { return echo.NewHTTPError(http.StatusBadGateway, "upstream secret") })
		e.GET("/x/service", func(echo.Context) error { return fmt.Errorf("wrapped: %w", service.NotFound("widget", 9)) })
		e.GET("/x/plain", func(echo.Context) error { return errors.New("plain secret") })
		e.GET("/x/big", func(c echo.Context) error {
			return &http.MaxBytesError{Limit: 10}
		})
	})
	tests := []struct {
		path, msg string
		status    int
		code      service.Code
	}{
		{"/x/echo401", "Unauthorized", 401, service.CodeUnauthenticated},
		{"/x/echo400", "bad thing", 400, service.CodeInvalidRequest},
		{"/x/echo502", "internal error", 502, service.CodeInternal},
		{"/x/service", "widget 9 not found", 404, service.CodeNotFound},
		{"/x/plain", "internal error", 500, service.CodeInternal},
		{"/x/big", "too large", 413, service.CodeTooLarge},
	}
	for _, tc := range tests {
		r := do(t, srv, "GET", tc.path, nil)
		e := r.apiError(t, tc.status, tc.code)
		if !strings.Contains(e.Message, tc.msg) || strings.Contains(string(r.Body), "secret") {
			t.Errorf("%s: body %s, want message with %q and no secret", tc.path, r.Body, tc.msg)
		}
	}
	if l := logs.String(); !strings.Contains(l, "plain secret") || !strings.Contains(l, "upstream secret") {
		t.Errorf("internal causes not logged: %s", l)
	}
}

func TestAuthentication(t *testing.T) {
	srv := newServer(t, Options{})
	// A public method works whatever the credentials.
	r := do(t, srv, "GET", "/", nil, "X-Api-Key", "bogus")
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"name":"billgate"`) {
		t.Errorf("system.version with a bogus key: %d %s", r.Status, r.Body)
	}
	// An authenticated one refuses no key and a malformed key (no live_/test_
	// prefix, so the nil store is never asked) with 401.
	do(t, srv, "GET", "/private", nil).apiError(t, http.StatusUnauthorized, service.CodeUnauthenticated)
	e := do(t, srv, "GET", "/private", nil, "X-Api-Key", "bogus").apiError(t, http.StatusUnauthorized, service.CodeUnauthenticated)
	if !strings.Contains(e.Message, "invalid API key") {
		t.Errorf("message %q", e.Message)
	}
}

func TestHeadError(t *testing.T) {
	srv := newServer(t, Options{})
	r := do(t, srv, "HEAD", "/nope", nil)
	if r.Status != http.StatusNotFound || len(r.Body) != 0 {
		t.Errorf("HEAD of an unknown route: %d %q", r.Status, r.Body)
	}
}
