package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/billgate/billgate/service"
)

// thingParams exercise the binding of every kind of value.
type thingParams struct {
	ID     int64          `json:"id" required:"true"`
	Name   string         `json:"name"`
	Credit *int64         `json:"credit"`
	Tags   []string       `json:"tags"`
	IDs    service.IDs    `json:"ids"`
	Active *bool          `json:"active"`
	Meta   map[string]any `json:"meta"`
}

type thing struct {
	ID     int64    `json:"id"`
	Name   string   `json:"name,omitempty"`
	Credit *int64   `json:"credit,omitempty"`
	Tags   []string `json:"tags,omitempty"`
	IDs    []int64  `json:"ids,omitempty"`
	Active *bool    `json:"active,omitempty"`
}

type createParams struct {
	Name   string `json:"name"`
	Credit *int64 `json:"credit"`
}

type currency struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type listParams struct {
	service.ListParams
	ID   service.IDs     `json:"id"`
	Tags service.Strings `json:"tags"`
}

type codeParams struct {
	Code string `json:"code"`
}

type pdf struct {
	Name string `json:"name"`
	PDF  []byte `json:"pdf"`
}

// totalThings is how many rows test.list pages through.
const totalThings = 50

func decl[P, R any](reg *service.Registry, name, verb, path string, do func(context.Context, *P) (R, error), opt ...func(*service.Decl[P, R])) {
	d := service.Decl[P, R]{Name: name, HTTP: service.Route{Verb: verb, Path: path}, Auth: service.Public, Do: do}
	for _, o := range opt {
		o(&d)
	}
	service.Register(reg, d)
}

// registerTestMethods adds the methods the tests call to svc's registry.
func registerTestMethods(reg *service.Registry) {
	created := func(d *service.Decl[createParams, *thing]) { d.HTTP.Created = true }
	echoThing := func(_ context.Context, p *thingParams) (*thing, error) {
		return &thing{ID: p.ID, Name: p.Name, Credit: p.Credit, Tags: p.Tags, IDs: p.IDs, Active: p.Active}, nil
	}
	decl(reg, "test.echo", "PATCH", "/things/:id", echoThing)
	decl(reg, "test.get", "GET", "/things/:id", func(_ context.Context, p *service.IDParams) (*thing, error) {
		return &thing{ID: p.ID}, nil
	})
	decl(reg, "test.create", "POST", "/things", func(_ context.Context, p *createParams) (*thing, error) {
		return &thing{ID: 42, Name: p.Name, Credit: p.Credit}, nil
	}, created)
	decl(reg, "test.create_special", "POST", "/things/special", func(_ context.Context, p *createParams) (*thing, error) {
		return &thing{ID: 43, Name: p.Name}, nil
	}, created)
	decl(reg, "test.orphan", "POST", "/orphans", func(context.Context, *createParams) (*thing, error) {
		return &thing{ID: 7}, nil
	}, created)
	decl(reg, "test.currency_create", "POST", "/codes", func(_ context.Context, p *currency) (*currency, error) {
		return p, nil
	}, func(d *service.Decl[currency, *currency]) { d.HTTP.Created = true })
	decl(reg, "test.currency_get", "GET", "/codes/:code", func(_ context.Context, p *codeParams) (*currency, error) {
		return &currency{Code: p.Code}, nil
	})
	decl(reg, "test.list", "GET", "/things", func(_ context.Context, p *listParams) (*service.Page[thing], error) {
		q, err := service.BuildQuery(service.ListSpec{Sort: []string{"id"}}, p.FilterParams, &p.ListParams, nil)
		if err != nil {
			return nil, err
		}
		var rows []thing
		for i := q.Offset; i < totalThings && i <= q.Offset+q.Limit; i++ {
			rows = append(rows, thing{ID: int64(i + 1)})
		}
		return service.NewPage(rows, q), nil
	})
	decl(reg, "test.fail", "GET", "/fail/:code", func(_ context.Context, p *codeParams) (*thing, error) {
		if p.Code == string(service.CodeInternal) {
			return nil, service.Internal(errors.New("secret cause"))
		}
		return nil, &service.Error{Code: service.Code(p.Code), Message: "failed with " + p.Code}
	})
	decl(reg, "test.panic", "GET", "/panic", func(context.Context, *service.NoParams) (*thing, error) {
		panic("secret panic text")
	})
	decl(reg, "test.private", "GET", "/private", func(context.Context, *service.NoParams) (*thing, error) {
		return &thing{ID: 1}, nil
	}, func(d *service.Decl[service.NoParams, *thing]) { d.Auth = service.Authenticated })
	decl(reg, "test.deprecated", "GET", "/deprecated", func(ctx context.Context, _ *service.NoParams) (*thing, error) {
		service.SessionFrom(ctx).SetHeader("Deprecation", "true")
		return &thing{ID: 1}, nil
	})
	decl(reg, "test.whoami", "GET", "/whoami", func(ctx context.Context, _ *service.NoParams) (map[string]string, error) {
		s := service.SessionFrom(ctx)
		return map[string]string{"request_id": s.RequestID, "protocol": s.Protocol}, nil
	})
	decl(reg, "test.raw", "GET", "/raw", func(context.Context, *service.NoParams) (*pdf, error) {
		return &pdf{Name: "x", PDF: []byte("%PDF-1.7\n%fake\n")}, nil
	}, func(d *service.Decl[service.NoParams, *pdf]) { d.HTTP.Raw = "PDF" })
	decl(reg, "test.norest", "", "", func(context.Context, *service.NoParams) (*thing, error) {
		return &thing{}, nil
	})
}

// newService returns a real service (nil store) with the test methods.
func newService() *service.Service {
	svc := service.New(service.Config{Name: "billgate", Version: "test", APIVersion: "2026-11-21"}, nil, nil, nil)
	registerTestMethods(svc.Registry())
	return svc
}

// newServer serves rest.New over real HTTP; extra lets a test add routes (as cmd does).
func newServer(t *testing.T, opts Options, extra ...func(*echo.Echo)) *httptest.Server {
	t.Helper()
	e := New(newService(), opts)
	for _, f := range extra {
		f(e)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends one request; hdr alternates header names and values.
func do(t *testing.T, srv *httptest.Server, verb, path string, body io.Reader, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(verb, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// thing decodes a successful reply.
func (r reply) thing(t *testing.T) thing {
	t.Helper()
	if r.Status != http.StatusOK && r.Status != http.StatusCreated {
		t.Fatalf("status %d, body %s", r.Status, r.Body)
	}
	var v thing
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return v
}

type errReply struct {
	Code    int64  `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
	} `json:"data"`
}

// apiError checks the status and the error shape of a reply and decodes it.
func (r reply) apiError(t *testing.T, status int, code service.Code) errReply {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q", ct)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &top); err != nil || len(top) != 1 || top["error"] == nil {
		t.Fatalf("not an error body: %s (%v)", r.Body, err)
	}
	var e errReply
	if err := json.Unmarshal(top["error"], &e); err != nil {
		t.Fatal(err)
	}
	if e.Code != code.Number() || e.Data.Code != string(code) || e.Message == "" {
		t.Errorf("error %+v, want code %d (%s); body %s", e, code.Number(), code, r.Body)
	}
	return e
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, nil)), buf
}

func body(s string) io.Reader { return strings.NewReader(s) }
