package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/billgate/billgate/service"
)

// serve is the handler of every REST route: it builds the args, invokes the
// method through the service (the single entry point) and writes the result or
// the error. Method errors are written here, not returned to echo, since the
// service has already logged them.
func (rt *route) serve(c echo.Context) error {
	r := c.Request()
	args, aerr := rt.args(c)
	if aerr != nil {
		return writeError(c, aerr)
	}
	sess := service.NewSession(service.ProtoREST, r.Header.Get(HeaderRequestID), service.CredentialsFromHTTP(r))
	res, err := rt.svc.Invoke(r.Context(), sess, rt.m.Name, args)
	h := c.Response().Header()
	sess.CopyHeaders(h)
	if err != nil {
		return writeError(c, service.AsError(err))
	}
	return rt.writeResult(c, res)
}

// args reads the body (within the limit) and builds the call's args.
func (rt *route) args(c echo.Context) (service.Args, *service.Error) {
	r := c.Request()
	buf := getBuffer()
	defer putBuffer(buf)
	if err := readBody(r, rt.maxBody, buf); err != nil {
		return nil, err
	}
	names := c.ParamNames()
	var values []string
	if len(names) > 0 {
		values = c.ParamValues()
		if r.URL.RawPath != "" { // echo matched the escaped path: unescape the values
			values = append([]string(nil), values...)
			for i, v := range values {
				if u, err := url.PathUnescape(v); err == nil {
					values[i] = u
				}
			}
		}
	}
	return buildArgs(rt.m, request{
		RawQuery:    r.URL.RawQuery,
		ContentType: r.Header.Get(echo.HeaderContentType),
		Body:        buf.Bytes(),
		PathNames:   names,
		PathValues:  values,
	})
}

// writeResult writes a method's result: 200 (201 with Location for creates),
// Link headers for paged lists, and the result encoded straight to the
// response — or, for a Raw route, the named field's bytes as they are.
func (rt *route) writeResult(c echo.Context, res any) error {
	w := c.Response()
	h := w.Header()
	// A result rewritten for an older API version is written as rewritten;
	// the headers and raw bodies come from the method's own result.
	own := service.Unversioned(res)
	status := http.StatusOK
	if rt.created {
		status = http.StatusCreated
		if loc := rt.locationOf(c, own); loc != "" {
			h.Set(echo.HeaderLocation, loc)
		}
	}
	if p, ok := own.(service.Paged); ok {
		addLinks(h, c.Request().URL, p)
	}
	if rt.raw != "" {
		return rt.writeRaw(c, status, own)
	}
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w.Status = status // written with the first byte, after a successful encoding
	if err := json.NewEncoder(w).Encode(res); err != nil {
		if w.Committed {
			return nil // the connection failed mid-body; nothing more to send
		}
		return fmt.Errorf("rest: encode result of %s: %w", rt.m.Name, err)
	}
	return nil
}

// locationOf builds the created object's path from the location template:
// the last parameter from the result, the others from the request's path.
func (rt *route) locationOf(c echo.Context, res any) string {
	id, ok := rt.resultID(res)
	if !ok {
		return ""
	}
	segs := strings.Split(rt.location, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, ":") {
			continue
		}
		v := id
		if i < len(segs)-1 {
			if v = c.Param(s[1:]); v == "" {
				return ""
			}
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
		}
		segs[i] = url.PathEscape(v)
	}
	return strings.Join(segs, "/")
}

// resultID returns the id field of a created result as a string.
func (rt *route) resultID(res any) (string, bool) {
	v := derefValue(reflect.ValueOf(res))
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return "", false
	}
	idx := rt.idField
	if idx == nil {
		var ok bool
		if idx, ok = fieldIndex(v.Type(), lastParam(rt.location)); !ok {
			return "", false
		}
	}
	f, err := v.FieldByIndexErr(idx)
	if err != nil {
		return "", false
	}
	f = derefValue(f)
	if !f.IsValid() || f.IsZero() {
		return "", false
	}
	switch f.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(f.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(f.Uint(), 10), true
	case reflect.String:
		return f.String(), true
	}
	return fmt.Sprint(f.Interface()), true
}

// derefValue follows pointers and interfaces; it returns the zero Value for nil.
func derefValue(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// addLinks adds rel="next" (when more rows follow) and rel="prev" (when the
// page does not start at 0) Link headers: the request's path and query with
// offset and limit replaced and page dropped.
func addLinks(h http.Header, u *url.URL, p service.Paged) {
	offset, limit, more := p.PageInfo()
	if limit <= 0 || (!more && offset <= 0) {
		return
	}
	q := u.Query()
	q.Del("page")
	q.Set("limit", strconv.Itoa(limit))
	link := func(off int, rel string) {
		q.Set("offset", strconv.Itoa(off))
		h.Add("Link", "<"+u.EscapedPath()+"?"+q.Encode()+`>; rel="`+rel+`"`)
	}
	if more {
		link(offset+limit, "next")
	}
	if offset > 0 {
		link(max(0, offset-limit), "prev")
	}
}

// contentTyper is implemented by raw results that know their media type.
type contentTyper interface {
	ContentType() string
}

// writeRaw serves the Raw field of res ([]byte or string) as the body, with
// the type from res.ContentType() when res has one, else sniffed.
func (rt *route) writeRaw(c echo.Context, status int, res any) error {
	v := derefValue(reflect.ValueOf(res))
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return fmt.Errorf("rest: %s: raw result is %T, not a struct", rt.m.Name, res)
	}
	idx := rt.rawField
	if idx == nil {
		var ok bool
		if idx, ok = fieldIndex(v.Type(), rt.raw); !ok {
			return fmt.Errorf("rest: %s: raw result %T has no field %s", rt.m.Name, res, rt.raw)
		}
	}
	f, err := v.FieldByIndexErr(idx)
	if err != nil {
		return fmt.Errorf("rest: %s: raw field %s: %w", rt.m.Name, rt.raw, err)
	}
	var body []byte
	switch {
	case f.Kind() == reflect.String:
		body = []byte(f.String())
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Uint8:
		body = f.Bytes()
	default:
		return fmt.Errorf("rest: %s: raw field %s is %s, not bytes", rt.m.Name, rt.raw, f.Type())
	}
	ct := ""
	if t, ok := res.(contentTyper); ok {
		ct = t.ContentType()
	}
	if ct == "" {
		ct = http.DetectContentType(body)
	}
	return c.Blob(status, ct, body)
}

// locationPlan finds where a created object lives: a GET route "P/:x" whose
// result type is m's, P being m's path or one of its ancestors (so POST
// /accounting/transactions/prepaid points at /accounting/transactions/:id).
// Without one, the object lives at m's path + "/:id".
func locationPlan(m *service.Method, methods []*service.Method) (string, []int) {
	for p := m.HTTP.Path; p != "" && p != "/"; p = parentPath(p) {
		for _, o := range methods {
			if !strings.EqualFold(o.HTTP.Verb, "GET") || o.ResultType != m.ResultType {
				continue
			}
			if prefix, param, ok := splitItem(o.HTTP.Path); ok && prefix == p {
				idx, _ := fieldIndex(m.ResultType, param)
				return o.HTTP.Path, idx
			}
		}
	}
	idx, _ := fieldIndex(m.ResultType, "id")
	return strings.TrimSuffix(m.HTTP.Path, "/") + "/:id", idx
}

// splitItem splits "/a/b/:x" into "/a/b" and "x".
func splitItem(path string) (prefix, param string, ok bool) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 || !strings.HasPrefix(path[i+1:], ":") {
		return "", "", false
	}
	return path[:i], path[i+2:], true
}

func parentPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return ""
	}
	return p[:i]
}

func lastParam(tmpl string) string {
	_, p, _ := splitItem(tmpl)
	return p
}

// isDynamic reports whether values of t can only be inspected at run time.
func isDynamic(t reflect.Type) bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t == nil || t.Kind() == reflect.Interface
}

// fieldIndex finds the field of struct type t (or pointer to it) named name:
// by its JSON name, else by its Go name (case-insensitively). Promoted fields
// of embedded structs count.
func fieldIndex(t reflect.Type, name string) ([]int, bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, false
	}
	var byGoName []int
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || (f.Anonymous && f.Type.Kind() == reflect.Struct) {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name {
			return f.Index, true
		}
		if tag != "-" && byGoName == nil && strings.EqualFold(f.Name, name) {
			byGoName = f.Index
		}
	}
	return byGoName, byGoName != nil
}
