package service

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/billgate/billgate/pkg/money"
)

func TestVersionOrder(t *testing.T) {
	ordered := []string{LegacyVersion, "2024-12-01", "2025-06-03", "2026-11-21"}
	for i := range ordered {
		for j := range ordered {
			got := compareVersions(ordered[i], ordered[j])
			if (i < j && got >= 0) || (i > j && got <= 0) || (i == j && got != 0) {
				t.Errorf("compare(%s, %s) = %d", ordered[i], ordered[j], got)
			}
		}
	}
	vs, err := newVersionSet("2026-11-21", []VersionChange{
		{Version: "2025-06-03", Description: "a", Down: func(context.Context, *Call, any) (any, error) { return nil, nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(vs.all, ",") != "legacy,2025-06-03,2026-11-21" {
		t.Fatalf("versions %v", vs.all)
	}
	for pinned, want := range map[string]string{
		"legacy": "legacy", "2025-06-03": "2025-06-03",
		"2024-01-01": "2025-06-03", // retired: upgraded to the next version
		"2025-09-09": "2026-11-21", "garbage": "2026-11-21", "2030-01-01": "2026-11-21",
	} {
		if got := vs.serving(pinned); got != want {
			t.Errorf("a key pinned to %s is served in %s, want %s", pinned, got, want)
		}
	}
}

func TestVersionSetRefusesInconsistentChanges(t *testing.T) {
	noop := func(context.Context, *Call, any) (any, error) { return nil, nil }
	for name, tc := range map[string]struct {
		latest  string
		changes []VersionChange
	}{
		"change newer than latest": {"2026-11-21", []VersionChange{{Version: "2027-01-01", Description: "x", Down: noop}}},
		"change at legacy":         {"2026-11-21", []VersionChange{{Version: LegacyVersion, Description: "x", Down: noop}}},
		"not a date":               {"2026-11-21", []VersionChange{{Version: "2026-13-01", Description: "x", Down: noop}}},
		"no description":           {"2026-11-21", []VersionChange{{Version: "2026-01-01", Down: noop}}},
		"does nothing":             {"2026-11-21", []VersionChange{{Version: "2026-01-01", Description: "x"}}},
		"latest not a date":        {"latest", nil},
	} {
		if _, err := newVersionSet(tc.latest, tc.changes); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// No configured latest: the newest change's version.
	vs, err := newVersionSet("", versionChanges)
	if err != nil || vs.latest != "2026-11-21" {
		t.Fatalf("%+v, %v", vs, err)
	}
}

type inner struct {
	At    time.Time  `json:"at"`
	Maybe *time.Time `json:"maybe,omitempty"`
}

type Embedded struct {
	EmbeddedAt time.Time `json:"embedded_at"`
	Shadowed   string    `json:"shadowed"`
}

type sample struct {
	ID        int64                `json:"id"`
	Name      string               `json:"name,omitempty"`
	CreatedAt time.Time            `json:"created_at"`
	ExpiresAt *time.Time           `json:"expires_at"`
	Never     *time.Time           `json:"never"`
	Skipped   time.Time            `json:"-"`
	Inners    []inner              `json:"inners"`
	NilList   []inner              `json:"nil_list"`
	ByName    map[string]time.Time `json:"by_name"`
	ByID      map[int64]*inner     `json:"by_id"`
	Any       any                  `json:"any"`
	Anys      []any                `json:"anys"`
	Rate      Rate                 `json:"rate"`
	Param     *Time                `json:"param"`
	Raw       json.RawMessage      `json:"raw"`
	Shadowed  int                  `json:"shadowed"`
	NoTag     time.Time
	Embedded
	*inner
}

func newSample() *sample {
	msk := time.FixedZone("MSK", 3*3600)
	at := time.Date(2017, 10, 17, 16, 48, 50, 123456000, msk)
	later := at.Add(36 * time.Hour)
	return &sample{
		ID: 7, CreatedAt: at, ExpiresAt: &later, Skipped: at,
		Inners: []inner{{At: at}, {At: later, Maybe: &at}},
		ByName: map[string]time.Time{"b": later, "a": at},
		ByID:   map[int64]*inner{2: {At: at}, 10: nil},
		Any:    map[string]any{"nested": []any{at, "x", 1.5}},
		Anys:   []any{at, &later, nil, inner{At: at}},
		Rate:   Rate{money.MustRate("1.1")},
		Param:  &Time{Time: later},
		Raw:    json.RawMessage(`{"kept":"2017-10-17T16:48:50+03:00"}`),
		NoTag:  at, Shadowed: 3,
		Embedded: Embedded{EmbeddedAt: later, Shadowed: "hidden"},
		inner:    &inner{At: at},
	}
}

// TestMarshalTimesIsEncodingJSON: rendering datetimes as themselves gives
// exactly what encoding/json writes, for every shape a result can take.
func TestMarshalTimesIsEncodingJSON(t *testing.T) {
	values := []any{
		newSample(), *newSample(), []*sample{newSample(), nil}, &Page[*sample]{Items: []*sample{newSample()}},
		&Page[*sample]{}, map[string]any{"s": newSample()}, time.Now(), nil, 1, "x",
		&APIKey{ID: 1, CreatedAt: time.Now()}, &Deleted{ID: "EUR", Deleted: true},
	}
	for i, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalTimes(reflect.ValueOf(v), func(t time.Time) any { return t })
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if string(got) != string(want) {
			t.Errorf("%d (%T):\n got %s\nwant %s", i, v, got, want)
		}
	}
}

func TestMarshalTimesLegacy(t *testing.T) {
	legacy := func(t time.Time) any { return t.Format(LegacyTimeLayout) }
	raw, err := marshalTimes(reflect.ValueOf(newSample()), legacy)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"created_at": "2017-10-17 16:48:50+0300", "expires_at": "2017-10-19 04:48:50+0300", "never": nil,
		"embedded_at": "2017-10-19 04:48:50+0300", "at": "2017-10-17 16:48:50+0300", "NoTag": "2017-10-17 16:48:50+0300",
		"shadowed": 3.0, "rate": "1.1", "param": "2017-10-19 04:48:50+0300", "nil_list": nil,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	s := string(raw)
	for _, frag := range []string{
		`"inners":[{"at":"2017-10-17 16:48:50+0300"},{"at":"2017-10-19 04:48:50+0300","maybe":"2017-10-17 16:48:50+0300"}]`,
		`"by_name":{"a":"2017-10-17 16:48:50+0300","b":"2017-10-19 04:48:50+0300"}`,
		`"by_id":{"10":null,"2":{"at":"2017-10-17 16:48:50+0300"}}`,
		`"any":{"nested":["2017-10-17 16:48:50+0300","x",1.5]}`,
		`"anys":["2017-10-17 16:48:50+0300","2017-10-19 04:48:50+0300",null,{"at":"2017-10-17 16:48:50+0300"}]`,
		`"raw":{"kept":"2017-10-17T16:48:50+03:00"}`, // strings are never looked at
	} {
		if !strings.Contains(s, frag) {
			t.Errorf("missing %s in\n%s", frag, s)
		}
	}
	// A page is its items.
	raw, _ = marshalTimes(reflect.ValueOf(&Page[inner]{Items: []inner{{At: newSample().CreatedAt}}}), legacy)
	if string(raw) != `[{"at":"2017-10-17 16:48:50+0300"}]` {
		t.Errorf("page: %s", raw)
	}
}

// TestResultTypesRenderTheirDatetimes: no registered result type hides a
// datetime behind its own MarshalJSON, where version changes could not find it.
func TestResultTypesRenderTheirDatetimes(t *testing.T) {
	for _, m := range New(Config{}, nil, nil, nil).Registry().Methods() {
		if bad := opaqueTimes(m.ResultType); len(bad) > 0 {
			t.Errorf("%s: result type %s holds datetimes in types that encode themselves: %v (implement wireValue, or let encoding/json encode them)",
				m.Name, m.ResultType, bad)
		}
	}
	if bad := opaqueTimes(reflect.TypeFor[[]*hiddenTimes]()); len(bad) != 1 {
		t.Errorf("opaqueTimes misses a marshaler holding a time: %v", bad)
	}
}

type hiddenTimes struct {
	At time.Time
}

func (hiddenTimes) MarshalJSON() ([]byte, error) { return []byte(`{}`), nil }

type renameParams struct {
	NewName string `json:"new_name"`
}

type renamed struct {
	NewName string    `json:"new_name"`
	At      time.Time `json:"at"`
}

// TestVersionChangesRewriteRequestsAndResults: a change's Up rewrites the
// args of an older call before binding, its Down the result, newest first,
// and the datetimes are rendered last, in the call's zone.
func TestVersionChangesRewriteRequestsAndResults(t *testing.T) {
	s := New(Config{APIVersion: "2027-01-01"}, nil, nil, nil)
	var order []string
	rename := VersionChange{
		Version: "2027-01-01", Description: "old_name is now new_name",
		Applies: func(m *Method) bool { return m.Name == "test.rename" },
		Up: func(c *Call) error {
			order = append(order, "up")
			if v, ok := c.Args["old_name"]; ok {
				c.Args["new_name"] = v
				delete(c.Args, "old_name")
			}
			return nil
		},
		Down: func(_ context.Context, _ *Call, res any) (any, error) {
			order = append(order, "down 2027")
			r := res.(*renamed)
			return map[string]any{"old_name": r.NewName, "at": r.At}, nil
		},
	}
	older := VersionChange{
		Version: "2026-11-21", Description: "marks results",
		Down: func(_ context.Context, _ *Call, res any) (any, error) {
			order = append(order, "down 2026")
			if m, ok := res.(map[string]any); ok {
				m["marked"] = true
			}
			return res, nil
		},
	}
	vs, err := newVersionSet("2027-01-01", append([]VersionChange{rename, older}, versionChanges...))
	if err != nil {
		t.Fatal(err)
	}
	s.versions = vs
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	Register(s.registry, Decl[renameParams, *renamed]{Name: "test.rename", Auth: Public,
		Do: func(_ context.Context, p *renameParams) (*renamed, error) {
			return &renamed{NewName: p.NewName, At: at}, nil
		}})

	call := func(version, tz string) (string, *Session) {
		t.Helper()
		order = nil
		sess := NewSession(ProtoREST, "r", Credentials{APIVersion: version})
		args := Args{"old_name": json.RawMessage(`"x"`)}
		if version == "" || version == "2027-01-01" {
			args = Args{"new_name": json.RawMessage(`"x"`)}
		}
		if tz != "" {
			args["__tz"] = json.RawMessage(`"` + tz + `"`)
		}
		res, err := s.Invoke(context.Background(), sess, "test.rename", args)
		if err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), sess
	}
	if got, sess := call("", ""); got != `{"new_name":"x","at":"2026-01-02T03:04:05Z"}` || sess.headers.Get(HeaderAPIVersion) != "2027-01-01" {
		t.Errorf("latest: %s %v", got, sess.headers)
	}
	if got, _ := call("2026-11-21", ""); got != `{"at":"2026-01-02T03:04:05Z","old_name":"x"}` || strings.Join(order, ",") != "up,down 2027" {
		t.Errorf("2026-11-21: %s (%v)", got, order)
	}
	got, sess := call(LegacyVersion, "Asia/Tokyo")
	if got != `{"at":"2026-01-02 12:04:05+0900","marked":true,"old_name":"x"}` || strings.Join(order, ",") != "up,down 2027,down 2026" {
		t.Errorf("legacy: %s (%v)", got, order)
	}
	if sess.headers.Get(HeaderAPIVersion) != LegacyVersion {
		t.Errorf("legacy call answered as %q", sess.headers.Get(HeaderAPIVersion))
	}
	_, err = s.Invoke(context.Background(), NewSession(ProtoREST, "r", Credentials{APIVersion: "2020-01-01"}), "test.rename", Args{})
	if e := AsError(err); e == nil || e.Code != CodeInvalidParams || e.Fields[HeaderAPIVersion] == "" ||
		!strings.Contains(e.Message, "legacy, 2026-11-21, 2027-01-01") {
		t.Errorf("unknown version: %v", err)
	}
	// system.versions is generated from the changes.
	d := s.describeVersions(LegacyVersion)
	if d.Latest != "2027-01-01" || d.Current != LegacyVersion || len(d.Versions) != 3 {
		t.Fatalf("%+v", d)
	}
	lg, v26, v27 := d.Versions[0], d.Versions[1], d.Versions[2]
	if lg.Released != nil || *lg.Sunset != "2027-05-21" || lg.Description == "" || len(lg.Changes) != 0 {
		t.Errorf("legacy: %+v", lg)
	}
	if *v26.Released != "2026-11-21" || *v26.Sunset != "2027-07-01" || len(v26.Changes) != 3 || v26.Changes[0].Description != "marks results" {
		t.Errorf("2026-11-21: %+v", v26)
	}
	if !v27.Latest || v27.Sunset != nil || len(v27.Changes) != 1 || strings.Join(v27.Changes[0].Methods, ",") != "test.rename" {
		t.Errorf("2027-01-01: %+v", v27)
	}
	for _, c := range v26.Changes {
		if strings.Contains(c.Description, "update") && !contains(c.Methods, "iam.users.update") {
			t.Errorf("the update change does not list iam.users.update: %v", c.Methods)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
