package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/billgate/billgate/service"
)

// request is what the args of one REST call are built from, with the body
// already read (readBody).
type request struct {
	RawQuery    string
	ContentType string
	Body        []byte
	// PathNames and PathValues are the route's parameters, values unescaped.
	PathNames  []string
	PathValues []string
}

// buildArgs merges the body, the query string and the path parameters of a
// REST call into the method's Args, in that order of precedence: the query
// overrides the body, the path overrides both (API.md §1). String values (path,
// query, form fields) are converted by the Go types of m's params
// (service.StringArgs). The body is JSON when the content type says so or its
// first non-space byte is '{' (or it is a JSON array, to say that it must be an
// object), form fields otherwise.
//
// Errors: parse_error (malformed JSON or form body, a JSON body that is not
// valid UTF-8), invalid_request (malformed query string, multipart body),
// invalid_params (a body that is not a JSON object, a member repeated in the
// JSON body, a value that is not valid UTF-8 or of the wrong type, naming the
// field).
func buildArgs(m *service.Method, r request) (service.Args, *service.Error) {
	var vals url.Values
	if r.RawQuery != "" {
		q, err := url.ParseQuery(r.RawQuery)
		if err != nil {
			return nil, service.Errorf(service.CodeInvalidRequest, "malformed query string: %s", unquote(err))
		}
		vals = q
	}
	var args service.Args
	body := bytes.TrimLeft(r.Body, " \t\r\n")
	switch {
	case len(body) == 0:
	case isJSON(r.ContentType) || body[0] == '{' || (body[0] == '[' && json.Valid(body)):
		if body[0] != '{' {
			if json.Valid(body) {
				return nil, service.Errorf(service.CodeInvalidParams, "body must be a JSON object")
			}
			return nil, service.Errorf(service.CodeParseError, "malformed JSON body")
		}
		if !utf8.Valid(body) {
			return nil, service.Errorf(service.CodeParseError, "malformed JSON body: not valid UTF-8")
		}
		if err := json.Unmarshal(body, &args); err != nil {
			return nil, service.Errorf(service.CodeParseError, "malformed JSON body: %s", unquote(err))
		}
		if countMembers(body) != len(args) {
			return nil, service.InvalidField(duplicateMember(body), "duplicate parameter")
		}
	case isMultipart(r.ContentType):
		return nil, service.Errorf(service.CodeInvalidRequest, "multipart bodies are not supported: send a JSON object or form fields")
	default:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, service.Errorf(service.CodeParseError, "malformed form body: %s", unquote(err))
		}
		for k, v := range vals { // the query overrides form fields
			form[k] = v
		}
		vals = form
	}
	if len(r.PathNames) > 0 {
		if vals == nil {
			vals = make(url.Values, len(r.PathNames))
		}
		for i, name := range r.PathNames {
			if i < len(r.PathValues) {
				vals[name] = []string{r.PathValues[i]}
			}
		}
	}
	if len(vals) == 0 {
		return args, nil
	}
	for k, vs := range vals {
		if !utf8.ValidString(k) {
			return nil, service.Errorf(service.CodeInvalidRequest, "malformed query string: a parameter name is not valid UTF-8")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return nil, service.InvalidField(k, "must be valid UTF-8")
			}
		}
	}
	strs, err := service.StringArgs(m, vals)
	if err != nil {
		return nil, service.AsError(err)
	}
	if args == nil {
		return strs, nil
	}
	for k, v := range strs {
		args[k] = v
	}
	return args, nil
}

// countMembers counts the members of the JSON object obj, which must be
// valid JSON: a name repeated counts each time, unlike in the decoded map.
func countMembers(obj []byte) int {
	n, depth, key := 0, 0, false
	for i := 0; i < len(obj); i++ {
		switch c := obj[i]; c {
		case '"':
			if depth == 1 && key {
				n, key = n+1, false
			}
			for i++; i < len(obj) && obj[i] != '"'; i++ {
				if obj[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
			key = depth == 1
		case '}', ']':
			depth--
		case ',':
			key = depth == 1
		}
	}
	return n
}

// duplicateMember returns the first member name of the JSON object obj that
// repeats an earlier one (names compared decoded, as the map has them).
func duplicateMember(obj []byte) string {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		name, _ := tok.(string)
		if seen[name] {
			return name
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// unquote makes a parse error readable without echoing large input back.
func unquote(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "json: ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// isJSON reports whether a Content-Type is application/json or a +json type.
func isJSON(ct string) bool {
	mt := mediaType(ct)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func isMultipart(ct string) bool {
	return strings.HasPrefix(mediaType(ct), "multipart/")
}

// mediaType returns the lower-cased media type of a Content-Type, without parameters.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// bufPool recycles body buffers; args never keep references into them
// (json.RawMessage and url.Values copy).
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return // let big buffers go
	}
	b.Reset()
	bufPool.Put(b)
}

// readBody reads r's body into buf, at most max bytes. Errors: too_large when
// the body is longer, invalid_request when it cannot be read.
func readBody(r *http.Request, max int64, buf *bytes.Buffer) *service.Error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if r.ContentLength > max {
		return tooLarge(max)
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, max+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		return service.Errorf(service.CodeInvalidRequest, "cannot read the request body")
	}
	if n > max {
		return tooLarge(max)
	}
	return nil
}

func tooLarge(max int64) *service.Error {
	return service.Errorf(service.CodeTooLarge, "request body too large (limit %s bytes)", strconv.FormatInt(max, 10))
}
