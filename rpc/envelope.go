package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/billgate/billgate/service"
)

// This file parses JSON-RPC 2.0 envelopes. It never runs on untrusted bytes
// directly: the handler first checks the whole body with json.Valid (and
// utf8.Valid), so the scanners below only have to find value boundaries in
// well-formed JSON. They still never index past the end of their input.

// request is one request object of the body: the whole body or one batch element.
type request struct {
	// id is the raw JSON id to echo back byte for byte; nil when the id is
	// absent or invalid (the reply then carries "id":null).
	id []byte
	// notify marks a valid request without an id: it runs but is never answered.
	notify bool
	method string
	// params is the raw params value (an object or an array); nil when absent.
	params []byte
	// err is set when the element is not a valid request object. Such an
	// element is always answered, with its id when that id was valid.
	err *service.Error
}

// Errors of the envelope. They are shared and never modified.
var (
	errNotObject     = invalidRequest("a request must be a JSON object")
	errNoVersion     = invalidRequest(`the "jsonrpc" member is required and must be "2.0"`)
	errBadVersion    = invalidRequest(`"jsonrpc" must be exactly "2.0"`)
	errNoMethod      = invalidRequest(`the "method" member is required`)
	errMethodType    = invalidRequest(`"method" must be a string`)
	errIDType        = invalidRequest(`"id" must be a string, a number or null`)
	errParamsType    = invalidRequest(`"params" must be an object (by name)`)
	errEmptyBatch    = invalidRequest("empty batch")
	errTopLevel      = invalidRequest("the body must be a request object or a batch array")
	errByPosition    = &service.Error{Code: service.CodeInvalidParams, Message: "params must be an object (by name)", Fields: map[string]string{"params": "must be an object (by name), not an array"}}
	errParseJSON     = &service.Error{Code: service.CodeParseError, Message: "parse error: the body is not valid JSON"}
	errParseUTF8     = &service.Error{Code: service.CodeParseError, Message: "parse error: the body is not valid UTF-8"}
	errInternalReply = service.Internal(nil)
)

func invalidRequest(msg string) *service.Error {
	return &service.Error{Code: service.CodeInvalidRequest, Message: "invalid request: " + msg}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first non-space byte of b at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] (a quote).
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return len(b)
}

// scanner walks the members of an object or the elements of an array.
type scanner struct {
	b []byte
	i int
}

// newScanner starts after the opening brace or bracket at v[0].
func newScanner(v []byte) scanner { return scanner{b: v, i: 1} }

// next returns the next element of an array, or false at its end.
func (s *scanner) next() ([]byte, bool) {
	i := skipSpace(s.b, s.i)
	if i < len(s.b) && s.b[i] == ',' {
		i = skipSpace(s.b, i+1)
	}
	if i >= len(s.b) || s.b[i] == ']' || s.b[i] == '}' {
		s.i = len(s.b)
		return nil, false
	}
	end := skipValue(s.b, i)
	s.i = end
	return s.b[i:end], true
}

// member returns the next member of an object: its raw quoted key and its
// raw value, or false at the object's end.
func (s *scanner) member() (key, val []byte, ok bool) {
	i := skipSpace(s.b, s.i)
	if i < len(s.b) && s.b[i] == ',' {
		i = skipSpace(s.b, i+1)
	}
	if i >= len(s.b) || s.b[i] != '"' {
		s.i = len(s.b)
		return nil, nil, false
	}
	end := skipString(s.b, i)
	key = s.b[i:end]
	i = skipSpace(s.b, end)
	if i < len(s.b) && s.b[i] == ':' {
		i = skipSpace(s.b, i+1)
	}
	vend := skipValue(s.b, i)
	s.i = vend
	return key, s.b[i:vend], i < vend
}

// unquote returns the content of the raw JSON string s, decoding escapes.
func unquote(s []byte) string {
	if len(s) >= 2 && bytes.IndexByte(s, '\\') < 0 {
		return string(s[1 : len(s)-1])
	}
	var out string
	if err := json.Unmarshal(s, &out); err != nil {
		return ""
	}
	return out
}

// keyBytes returns a member name: the raw bytes when it has no escapes.
func keyBytes(key []byte) []byte {
	if bytes.IndexByte(key, '\\') < 0 {
		return key[1 : len(key)-1]
	}
	return []byte(unquote(key))
}

// parseRequest reads the request object v. names interns known method names.
func parseRequest(v []byte, names map[string]string) request {
	if len(v) == 0 || v[0] != '{' {
		return request{err: errNotObject}
	}
	var version, method, params, id []byte
	var dup string
	var dupID bool
	s := newScanner(v)
	for {
		key, val, ok := s.member()
		if !ok {
			break
		}
		var slot *[]byte
		switch k := keyBytes(key); string(k) {
		case "jsonrpc":
			slot = &version
		case "method":
			slot = &method
		case "params":
			slot = &params
		case "id":
			slot = &id
		default:
			continue // members the specification does not define are ignored
		}
		if *slot != nil {
			if dup == "" {
				dup = unquote(key)
			}
			dupID = dupID || slot == &id
		}
		*slot = val
	}
	var r request
	idOK := id == nil
	if id != nil && !dupID { // a repeated id is no id: the reply says null
		if c := id[0]; c == '"' || c == 'n' || c == '-' || (c >= '0' && c <= '9') {
			r.id, idOK = id, true
		}
	}
	switch {
	case dup != "":
		r.err = invalidRequest(fmt.Sprintf("duplicate member %q", dup))
	case version == nil:
		r.err = errNoVersion
	case !isVersion(version):
		r.err = errBadVersion
	case method == nil:
		r.err = errNoMethod
	case method[0] != '"':
		r.err = errMethodType
	case !idOK:
		r.err = errIDType
	case params != nil && params[0] != '{' && params[0] != '[':
		r.err = errParamsType
	}
	if r.err != nil {
		return r
	}
	r.method = methodName(method, names)
	r.params = params
	r.notify = id == nil
	return r
}

// isVersion reports whether the raw jsonrpc value is the string "2.0".
func isVersion(v []byte) bool {
	return string(v) == `"2.0"` || v[0] == '"' && unquote(v) == "2.0"
}

// methodName decodes the raw method string, reusing the registered name's
// string when there is one (no allocation on the hot path).
func methodName(raw []byte, names map[string]string) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		if n, ok := names[string(raw[1:len(raw)-1])]; ok {
			return n
		}
	}
	return unquote(raw)
}

// parseArgs reads a by-name params object into service.Args. The values alias
// obj, hence the pooled body buffer: they are valid until ServeHTTP returns,
// which it does only after every call has. A repeated name is an
// invalid_params error naming it.
func parseArgs(obj []byte) (service.Args, *service.Error) {
	args := make(service.Args, 8)
	s := newScanner(obj)
	for {
		key, val, ok := s.member()
		if !ok {
			return args, nil
		}
		name := string(keyBytes(key))
		if _, dup := args[name]; dup {
			return nil, service.InvalidField(name, "duplicate parameter")
		}
		args[name] = val
	}
}
