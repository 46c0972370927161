package service

// API versions (seed 000). The API has dated versions ("2026-11-21"): a
// backwards-incompatible change bumps the version to the date of its release.
// Every API key is pinned to a version (the latest when the key is created;
// iam.api_keys.update changes it), the X-Api-Version request header overrides
// it for one request, and JWT sessions and calls without credentials get the
// latest. Every response names the version that served it (X-Api-Version).
//
// The methods always produce the latest shapes. A call served in an older
// version is rewritten by the version changes registered in versionChanges —
// the one place breaking changes live — in one method middleware (versioned),
// so REST, JSON-RPC and WebSocket alike get them, and a new method gets them
// without code of its own. Changes apply newest first, down to the version of
// the call: a change introduced in version V rewrites the calls served in any
// version older than V.
//
// Order: "legacy" (the JeraSoft wire format) is older than every dated
// version; dated versions (YYYY-MM-DD) are ordered by date.

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	// LegacyVersion is the API version of integrations written against the
	// JeraSoft wire format. It is older than every dated version.
	LegacyVersion = "legacy"
	// HeaderAPIVersion names the API version: on a request it overrides the
	// key's pinned version, on a response it says which version served it.
	HeaderAPIVersion = "X-Api-Version"
	// SunsetMonths is how long a version stays available, at least, after the
	// next version is released (seed 000).
	SunsetMonths = 6

	// LegacyTimeLayout is how legacy renders datetimes: 2017-10-17 16:48:50+0300.
	LegacyTimeLayout = "2006-01-02 15:04:05-0700"
	// dateLayout is the layout of dated versions.
	dateLayout = "2006-01-02"
)

// VersionChange is one backwards-incompatible change of the API, described for
// system.versions and applied to the calls served in older versions.
type VersionChange struct {
	// Version is the dated version that introduced the change: calls served
	// in an older version (a key pinned to it, or X-Api-Version) are rewritten.
	Version string
	// Description says what changed, for clients reading system.versions.
	Description string
	// Applies reports whether the change concerns method m (nil: every method).
	Applies func(m *Method) bool
	// Up, if set, rewrites the args of a call made in the old shape to the
	// current shape, before the params are bound (and before authentication:
	// c.Principal is not set yet).
	Up func(c *Call) error
	// Down, if set, rewrites a successful result of the current shape to the
	// old one. It receives the Go value the method returned (or what the
	// newer changes made of it): it should keep time.Time values as they are
	// (a map holding them is fine), since datetimes are rendered last.
	Down func(ctx context.Context, c *Call, res any) (any, error)
	// Times, if set, renders the datetimes of results served in older
	// versions. It is applied once, after every Down, to each time.Time (and
	// Time) the result holds — found through the result's Go types, never by
	// looking at strings — already in the call's zone (__tz, the user's zone,
	// the server's). When several changes set it, the oldest wins.
	Times func(t time.Time) any
}

// versionChanges is the registry of breaking changes, in any order.
var versionChanges = []VersionChange{
	{
		// The first dated version: what it changed from the JeraSoft format.
		Version: "2026-11-21",
		Description: "Datetimes are RFC 3339 (2017-10-17T16:48:50+03:00). Before (legacy): " +
			"\"2017-10-17 16:48:50+0300\", in the call's zone (__tz, else the user's zone, else the server's).",
		Times: func(t time.Time) any { return t.Format(LegacyTimeLayout) },
	},
	{
		Version: "2026-11-21",
		Description: "*.update methods return the updated object. Before (legacy): the number of " +
			"rows the call changed, as the bare result (1; a missing object is still a not_found error).",
		Applies: func(m *Method) bool { return strings.HasSuffix(m.Name, ".update") },
		Down:    func(context.Context, *Call, any) (any, error) { return 1, nil },
	},
}

// versionNotes describe versions that introduced no change of their own.
var versionNotes = map[string]string{
	LegacyVersion: "The JeraSoft wire format, for integrations written against it: " +
		"the changes of the next version are undone.",
}

// versionSet is the service's view of the versions: the known ones and the changes.
type versionSet struct {
	latest  string
	all     []string        // oldest first
	changes []VersionChange // newest first
}

// initVersions checks the version changes against the configured latest
// version (an empty Config.APIVersion means the newest change's version) and
// registers system.versions. It panics on an inconsistent set: that is a
// programming error.
func (s *Service) initVersions() {
	vs, err := newVersionSet(s.cfg.APIVersion, versionChanges)
	if err != nil {
		panic("service: API versions: " + err.Error())
	}
	s.versions = vs
	s.cfg.APIVersion = vs.latest
	s.registerVersions()
}

func newVersionSet(latest string, changes []VersionChange) (*versionSet, error) {
	vs := &versionSet{changes: slices.Clone(changes)}
	newest := ""
	for _, c := range changes {
		if !isDate(c.Version) {
			return nil, fmt.Errorf("change %q: version %q is not a date (YYYY-MM-DD)", c.Description, c.Version)
		}
		if c.Description == "" || (c.Up == nil && c.Down == nil && c.Times == nil) {
			return nil, fmt.Errorf("change of %s: needs a description and something to do", c.Version)
		}
		if newest == "" || compareVersions(c.Version, newest) > 0 {
			newest = c.Version
		}
	}
	if latest == "" {
		latest = newest
	}
	if latest == "" {
		return nil, fmt.Errorf("no latest version")
	}
	if !isDate(latest) {
		return nil, fmt.Errorf("latest version %q is not a date (YYYY-MM-DD)", latest)
	}
	known := map[string]bool{LegacyVersion: true, latest: true}
	for _, c := range changes {
		if compareVersions(c.Version, latest) > 0 {
			return nil, fmt.Errorf("change %q of %s is newer than the latest version %s", c.Description, c.Version, latest)
		}
		known[c.Version] = true
	}
	for v := range known {
		vs.all = append(vs.all, v)
	}
	sort.Slice(vs.all, func(i, j int) bool { return compareVersions(vs.all[i], vs.all[j]) < 0 })
	sort.SliceStable(vs.changes, func(i, j int) bool { return compareVersions(vs.changes[i].Version, vs.changes[j].Version) > 0 })
	vs.latest = latest
	return vs, nil
}

// isDate reports whether v is a dated version.
func isDate(v string) bool {
	t, err := time.Parse(dateLayout, v)
	return err == nil && t.Format(dateLayout) == v
}

// compareVersions orders versions: legacy first, then dates in calendar order
// (YYYY-MM-DD compares as text).
func compareVersions(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == LegacyVersion:
		return -1
	case b == LegacyVersion:
		return 1
	}
	return strings.Compare(a, b)
}

func (vs *versionSet) known(v string) bool { return slices.Contains(vs.all, v) }

// serving returns the version that serves a key pinned to v: v itself, or,
// when this server no longer knows v (retired after its sunset), the oldest
// known version newer than it — the key is upgraded, as the sunset policy
// allows. A value that is no version at all gets the latest.
func (vs *versionSet) serving(v string) string {
	if vs.known(v) {
		return v
	}
	if isDate(v) {
		for _, k := range vs.all {
			if compareVersions(k, v) > 0 {
				return k
			}
		}
	}
	return vs.latest
}

// since returns the changes concerning m that calls served in version v
// need, newest first.
func (vs *versionSet) since(v string, m *Method) []*VersionChange {
	var out []*VersionChange
	for i := range vs.changes {
		c := &vs.changes[i]
		if compareVersions(c.Version, v) > 0 && (c.Applies == nil || c.Applies(m)) {
			out = append(out, c)
		}
	}
	return out
}

func (vs *versionSet) unknown(field, v string) error {
	return InvalidField(field, fmt.Sprintf("unknown API version %s (known: %s)",
		strconv.Quote(truncate(v, 40)), strings.Join(vs.all, ", ")))
}

// CheckAPIVersion returns an invalid_params error naming field when v is not
// a version this server serves.
func (s *Service) CheckAPIVersion(field, v string) error {
	if !s.versions.known(v) {
		return s.versions.unknown(field, v)
	}
	return nil
}

// APIVersionOf returns the API version that serves the calls of sess: the
// X-Api-Version header, else the version the session's API key is pinned
// to, else (a JWT session, no credentials, or credentials that do not
// authenticate: the call fails anyway) the latest. An unknown X-Api-Version
// is an invalid_params error naming X-Api-Version.
func (s *Service) APIVersionOf(ctx context.Context, sess *Session) (string, error) {
	if h := sess.Creds.APIVersion; h != "" {
		if !s.versions.known(h) {
			return "", s.versions.unknown(HeaderAPIVersion, h)
		}
		return h, nil
	}
	if sess.HasCredentials() {
		if p, err := s.Principal(ctx, sess); err == nil && p != nil && p.APIVersion != "" {
			return s.versions.serving(p.APIVersion), nil
		}
	}
	return s.versions.latest, nil
}

type apiVersionKey struct{}

// APIVersionFrom returns the API version serving the call of ctx ("" outside a call).
func APIVersionFrom(ctx context.Context) string {
	v, _ := ctx.Value(apiVersionKey{}).(string)
	return v
}

// versioned is the method middleware of API versions: it fixes the call's
// version, says it in the X-Api-Version response header, and rewrites the
// call's args up from, and its result down to, that version.
func (s *Service) versioned(next Handler) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		v, err := s.APIVersionOf(ctx, c.Session)
		if err != nil {
			return nil, err
		}
		c.Session.SetHeader(HeaderAPIVersion, v)
		ctx = context.WithValue(ctx, apiVersionKey{}, v)
		changes := s.versions.since(v, c.Method)
		if len(changes) == 0 {
			return next(ctx, c)
		}
		for i := len(changes) - 1; i >= 0; i-- { // oldest first: up to the current shape
			if up := changes[i].Up; up != nil {
				if err := up(c); err != nil {
					return nil, err
				}
			}
		}
		res, err := next(ctx, c)
		if err != nil {
			return nil, err
		}
		return s.down(ctx, c, changes, res)
	}
}

// Rewritten is a result rewritten for an older API version. It encodes as
// JSON, the old wire shape; Original is the method's own result, for what a
// transport derives from results besides the body (REST's Location and Link
// headers, raw bodies).
type Rewritten struct {
	JSON     json.RawMessage
	Original any
}

// MarshalJSON returns the rewritten JSON.
func (r *Rewritten) MarshalJSON() ([]byte, error) { return r.JSON, nil }

// Unversioned returns the method's own result behind res: res itself unless
// an older API version rewrote it.
func Unversioned(res any) any {
	if r, ok := res.(*Rewritten); ok {
		return r.Original
	}
	return res
}

// down applies changes (newest first) to res, then renders it as JSON with
// the datetimes of the oldest change that renders them.
func (s *Service) down(ctx context.Context, c *Call, changes []*VersionChange, res any) (any, error) {
	res = s.typed(c, res)
	orig := res
	var times func(time.Time) any
	for _, ch := range changes {
		if ch.Down != nil {
			var err error
			if res, err = ch.Down(ctx, c, res); err != nil {
				return nil, err
			}
		}
		if ch.Times != nil {
			times = ch.Times
		}
	}
	raw, err := marshalTimes(reflect.ValueOf(res), times)
	if err != nil {
		return nil, Internal(fmt.Errorf("%s: render for API version %s: %w", c.Method.Name, APIVersionFrom(ctx), err))
	}
	return &Rewritten{JSON: raw, Original: orig}, nil
}

// typed turns a replayed result (the JSON an idempotency key remembered) back
// into the method's result type, in the call's zone, so that its datetimes
// are found by type like those of a fresh result.
func (s *Service) typed(c *Call, res any) any {
	raw, ok := res.(json.RawMessage)
	rt := c.Method.ResultType
	if !ok || rt == nil || rt.Kind() == reflect.Interface || rt == reflect.TypeOf(raw) || !holdsTime(rt) {
		return res
	}
	ptr := reflect.New(rt)
	if err := json.Unmarshal(raw, ptr.Interface()); err != nil {
		s.log.Warn("versions: cannot decode a replayed result: its datetimes stay as they are",
			"method", c.Method.Name, "err", err)
		return res
	}
	loc := s.cfg.Location
	if c.Principal != nil && c.Principal.Location != nil {
		loc = c.Principal.Location
	}
	Localize(ptr.Interface(), loc)
	return ptr.Elem().Interface()
}

// APIVersions is the result of system.versions.
type APIVersions struct {
	Latest   string            `json:"latest" doc:"the newest version (new keys are pinned to it)"`
	Current  string            `json:"current" doc:"the version that served this call"`
	Versions []*APIVersionInfo `json:"versions" doc:"oldest first"`
}

// APIVersionInfo describes one API version.
type APIVersionInfo struct {
	Version     string  `json:"version"`
	Description string  `json:"description,omitempty"`
	Released    *string `json:"released" doc:"release date (YYYY-MM-DD); null for legacy"`
	Latest      bool    `json:"latest"`
	// Sunset is the earliest date the version may be retired: SunsetMonths
	// after the next version's release. After it the server may upgrade the
	// keys pinned to it.
	Sunset  *string             `json:"sunset" doc:"available at least until this date (6 months after the next version); null for the latest"`
	Changes []*APIVersionChange `json:"changes" doc:"the breaking changes this version introduced"`
}

// APIVersionChange is one breaking change, as system.versions lists it.
type APIVersionChange struct {
	Description string   `json:"description"`
	Methods     []string `json:"methods,omitempty" doc:"the methods it concerns; absent: every method"`
}

func (s *Service) registerVersions() {
	Register(s.registry, Decl[NoParams, *APIVersions]{
		Name: "system.versions", Summary: "The API versions, their breaking changes and sunset dates.",
		HTTP: Route{Verb: "GET", Path: "/versions"}, Auth: Public,
		Do: func(ctx context.Context, _ *NoParams) (*APIVersions, error) {
			return s.describeVersions(APIVersionFrom(ctx)), nil
		},
	})
}

// describeVersions builds system.versions' result from the version changes.
func (s *Service) describeVersions(current string) *APIVersions {
	vs := s.versions
	out := &APIVersions{Latest: vs.latest, Current: current}
	methods := s.registry.Methods()
	for i, v := range vs.all {
		info := &APIVersionInfo{Version: v, Description: versionNotes[v], Latest: v == vs.latest, Changes: []*APIVersionChange{}}
		if isDate(v) {
			info.Released = &v
		}
		if i+1 < len(vs.all) {
			next, _ := time.Parse(dateLayout, vs.all[i+1])
			sunset := next.AddDate(0, SunsetMonths, 0).Format(dateLayout)
			info.Sunset = &sunset
		}
		for j := range vs.changes { // within a version, in the order of versionChanges
			c := &vs.changes[j]
			if c.Version != v {
				continue
			}
			ch := &APIVersionChange{Description: c.Description}
			if c.Applies != nil {
				for _, m := range methods {
					if c.Applies(m) {
						ch.Methods = append(ch.Methods, m.Name)
					}
				}
			}
			info.Changes = append(info.Changes, ch)
		}
		out.Versions = append(out.Versions, info)
	}
	return out
}
