package service

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// List limits (API.md §5).
const (
	DefaultLimit = 20
	MaxLimit     = 1000
	// MaxFilterValues bounds the values of one list filter (id: [1, 2, …]),
	// so that a query never exceeds the databases' bound-parameter limits.
	MaxFilterValues = 1000
)

// FilterParams are the filters every *.search and *.count method shares.
type FilterParams struct {
	// Q is a quick search; * is a wildcard (acme* = starts with acme), without one it matches anywhere.
	Q string `json:"q" doc:"quick search; * is a wildcard"`
	// QF restricts the fields Q looks in.
	QF Strings `json:"q_f" doc:"fields q looks in"`
	// StartAt and EndsAt bound the creation time (inclusive, exclusive).
	StartAt *Time `json:"start_at" doc:"created at or after"`
	EndsAt  *Time `json:"ends_at" doc:"created before"`
}

// ListParams are the paging and ordering params of every *.search method.
type ListParams struct {
	FilterParams
	Limit  *int    `json:"limit" doc:"rows to return (default 20, max 1000)"`
	Offset *int    `json:"offset" doc:"rows to skip"`
	Page   *int    `json:"page" doc:"1-based page of limit rows (instead of offset)"`
	Order  Strings `json:"order" doc:"fields to sort by, - prefix for descending"`
	O      Strings `json:"o" doc:"alias of order"`
}

// ListSpec whitelists what a resource can be sorted and quick-searched by.
type ListSpec struct {
	Sort   []string // sortable fields; the first is the default order
	Search []string // fields q looks in by default (and the only ones q_f may name)
}

// Filter is one typed filter: Field IN Values.
type Filter struct {
	Field  string
	Values []any
}

// Order is one sort key.
type Order struct {
	Field string
	Desc  bool
}

// Query is a validated list request, ready for the store. Field names in it are
// whitelisted by the ListSpec and the params type, never taken from the caller unchecked.
type Query struct {
	Filters     []Filter
	Q           string   // a LIKE pattern (% wildcards, \ escapes), lower-cased; "" for none
	QFields     []string // fields Q applies to
	CreatedFrom *time.Time
	CreatedTo   *time.Time
	Order       []Order
	Limit       int // 0 for count
	Offset      int
}

// Where returns the values of the filter on field, if any.
func (q Query) Where(field string) ([]any, bool) {
	for _, f := range q.Filters {
		if f.Field == field {
			return f.Values, true
		}
	}
	return nil, false
}

// BuildQuery validates list params against spec and collects the typed filters
// of filters (a struct whose fields carry `filter:"field"` tags).
func BuildQuery(spec ListSpec, fp FilterParams, lp *ListParams, filters any) (Query, error) {
	var q Query
	errs := Validation{}
	if fp.Q != "" {
		if len(fp.Q) > 200 {
			errs.Add("q", "must be at most 200 characters")
		}
		q.Q = likePattern(fp.Q)
		q.QFields = spec.Search
		if len(fp.QF) > 0 {
			q.QFields = nil
			for _, f := range fp.QF {
				if !slices.Contains(spec.Search, f) {
					errs.Add("q_f", "cannot search field "+strconv.Quote(f)+" (allowed: "+strings.Join(spec.Search, ", ")+")")
					continue
				}
				if !slices.Contains(q.QFields, f) { // a repeated field adds nothing
					q.QFields = append(q.QFields, f)
				}
			}
		}
	}
	q.CreatedFrom, q.CreatedTo = fp.StartAt.In(), fp.EndsAt.In()
	if lp != nil {
		q.Limit = DefaultLimit
		if lp.Limit != nil {
			if *lp.Limit < 1 || *lp.Limit > MaxLimit {
				errs.Add("limit", "must be between 1 and 1000")
			}
			q.Limit = *lp.Limit
		}
		if lp.Offset != nil {
			if *lp.Offset < 0 {
				errs.Add("offset", "must not be negative")
			}
			q.Offset = *lp.Offset
		}
		if lp.Page != nil {
			switch {
			case *lp.Page < 1 || *lp.Page > 1_000_000:
				errs.Add("page", "must be between 1 and 1000000")
			case lp.Offset != nil:
				errs.Add("page", "cannot be combined with offset")
			default:
				q.Offset = (*lp.Page - 1) * q.Limit
			}
		}
		order := lp.Order
		if len(order) == 0 {
			order = lp.O
		}
		for _, o := range order {
			f, desc := strings.TrimPrefix(o, "-"), strings.HasPrefix(o, "-")
			f = strings.TrimPrefix(f, "+")
			if !slices.Contains(spec.Sort, f) {
				errs.Add("order", "cannot sort by "+strconv.Quote(f)+" (allowed: "+strings.Join(spec.Sort, ", ")+")")
				continue
			}
			// A later key on a field already sorted by changes nothing: dropping
			// it keeps ORDER BY as short as the whitelist, whatever the caller sends.
			if !slices.ContainsFunc(q.Order, func(o Order) bool { return o.Field == f }) {
				q.Order = append(q.Order, Order{Field: f, Desc: desc})
			}
		}
		if len(q.Order) == 0 && len(spec.Sort) > 0 {
			q.Order = []Order{{Field: spec.Sort[0]}}
		}
		if !slices.ContainsFunc(q.Order, func(o Order) bool { return o.Field == "id" }) {
			q.Order = append(q.Order, Order{Field: "id"}) // a stable order for paging
		}
	}
	if filters != nil {
		v := reflect.ValueOf(filters)
		for v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		collectFilters(v, &q, errs)
	}
	return q, errs.Err()
}

// collectFilters adds the filters of the struct v to q; a filter with more
// than MaxFilterValues values is an error of its parameter.
func collectFilters(v reflect.Value, q *Query, errs Validation) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			collectFilters(v.Field(i), q, errs)
			continue
		}
		name := f.Tag.Get("filter")
		if name == "" {
			continue
		}
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.Slice:
			if fv.Len() == 0 {
				continue
			}
			if fv.Len() > MaxFilterValues {
				param, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if param == "" {
					param = name
				}
				errs.Add(param, "at most "+strconv.Itoa(MaxFilterValues)+" values")
				continue
			}
			vals := make([]any, fv.Len())
			for j := range vals {
				vals[j] = fv.Index(j).Interface()
			}
			q.Filters = append(q.Filters, Filter{Field: name, Values: vals})
		case reflect.Pointer:
			if !fv.IsNil() {
				q.Filters = append(q.Filters, Filter{Field: name, Values: []any{fv.Elem().Interface()}})
			}
		}
	}
}

// likePattern turns a quick-search term into a lower-cased LIKE pattern:
// * becomes %, LIKE's own metacharacters are escaped with \, and a term without
// * matches anywhere.
func likePattern(s string) string {
	s = strings.ToLower(s)
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	parts := strings.Split(s, "*")
	for i := range parts {
		parts[i] = r.Replace(parts[i])
	}
	if len(parts) == 1 {
		return "%" + parts[0] + "%"
	}
	return strings.Join(parts, "%")
}

// Strings is a list parameter given as one string, a comma-separated string
// or a JSON list of strings.
type Strings []string

// UnmarshalJSON accepts "a", "a,b" or ["a","b"].
func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = nil
		for _, p := range strings.Split(one, ",") {
			if p = strings.TrimSpace(p); p != "" {
				*s = append(*s, p)
			}
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errString("must be a string or a list of strings")
	}
	*s = many
	return nil
}

// TypeDescription names the wire type in errors.
func (Strings) TypeDescription() string { return "a string or a list of strings" }

// IDs is a list parameter of integer ids, given as one id or a list.
type IDs []int64

// UnmarshalJSON accepts 1, "1", "1,2" or [1,2].
func (ids *IDs) UnmarshalJSON(b []byte) error {
	var one int64
	if err := json.Unmarshal(b, &one); err == nil {
		*ids = IDs{one}
		return nil
	}
	var many []int64
	if err := json.Unmarshal(b, &many); err == nil {
		*ids = many
		return nil
	}
	var ss Strings
	if err := ss.UnmarshalJSON(b); err == nil {
		out := make(IDs, 0, len(ss))
		for _, s := range ss {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return errString("must be an id or a list of ids")
			}
			out = append(out, n)
		}
		*ids = out
		return nil
	}
	return errString("must be an id or a list of ids")
}

// TypeDescription names the wire type in errors.
func (IDs) TypeDescription() string { return "an id or a list of ids" }

// Page is a list result: it is sent as a bare JSON array, and tells REST
// whether there are more rows (for Link headers).
type Page[T any] struct {
	Items  []T
	Offset int
	Limit  int
	More   bool
}

// MarshalJSON writes the items as a JSON array ([] when empty).
func (p *Page[T]) MarshalJSON() ([]byte, error) {
	if p.Items == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(p.Items)
}

// PageInfo reports the window of the page and whether more rows follow.
func (p *Page[T]) PageInfo() (offset, limit int, more bool) { return p.Offset, p.Limit, p.More }

// ItemType is the element type, for API documents.
func (p *Page[T]) ItemType() reflect.Type { return reflect.TypeFor[T]() }

// Paged is implemented by list results.
type Paged interface {
	PageInfo() (offset, limit int, more bool)
}

// NewPage builds a page from rows fetched with Limit+1 (the extra row only says
// that more follow).
func NewPage[T any](rows []T, q Query) *Page[T] {
	p := &Page[T]{Items: rows, Offset: q.Offset, Limit: q.Limit}
	if q.Limit > 0 && len(rows) > q.Limit {
		p.Items, p.More = rows[:q.Limit], true
	}
	return p
}

// Count is the result of *.count methods.
type Count struct {
	Count int64 `json:"count"`
}
