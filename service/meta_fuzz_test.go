package service

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/billgate/billgate/pkg/tz"
)

// tzProbe is the params of the method FuzzTZMeta calls.
type tzProbe struct {
	At   *Time  `json:"at"`
	Note string `json:"note"`
}

// tzResult is its result: a datetime the chain renders in the call's zone.
type tzResult struct {
	At time.Time `json:"at"`
}

// FuzzTZMeta runs the real __tz handling (bindParams: request meta, zone
// loading, the per-call principal, zone-less datetimes, rendering of the
// result) on random __tz values, datetimes and other meta params. It must
// never panic; an error must be invalid_params naming the parameter; on
// success the call runs in the requested zone (else the user's), the result
// is rendered in it, and the session's principal is left untouched (batch
// elements share it).
func FuzzTZMeta(f *testing.F) {
	f.Add([]byte(`"Asia/Kathmandu"`), "2025-01-31 10:00:00", []byte(`"k-1"`))
	f.Add([]byte(`"Mars/Olympus"`), "2025-01-31", []byte(`null`))
	f.Add([]byte(`42`), "2025-01-31T10:00:00Z", []byte(`""`))
	f.Add([]byte(`""`), "2025-03-30 02:30", []byte(`"`+strings.Repeat("k", 256)+`"`))
	f.Add([]byte(`"../etc/passwd"`), "x", []byte(`{}`))
	f.Add([]byte(`"America/New_York"`), "2025-11-02T01:30:00", []byte(`["a"]`))
	f.Add([]byte(`"Etc/GMT+12"`), "0001-01-03 00:00:00", []byte(`"k"`))
	f.Add([]byte(`"Pacific/Kiritimati"`), "9999-12-28T23:59:59.999999999-12:00", []byte(`"k"`))
	user, err := tz.Load("Asia/Tokyo")
	if err != nil {
		f.Fatal(err)
	}
	s := &Service{cfg: Config{Location: time.UTC}}
	m := Register(NewRegistry(), Decl[tzProbe, *tzResult]{Name: "probe.tz"})
	f.Fuzz(func(t *testing.T, tzRaw []byte, at string, keyRaw []byte) {
		args := Args{"at": mustJSON(at)}
		if len(tzRaw) > 0 {
			args["__tz"] = tzRaw
		}
		if len(keyRaw) > 0 {
			args["__idempotency_key"] = keyRaw
		}
		var want *time.Location
		if v, ok := args["__tz"]; ok {
			var name string
			if json.Unmarshal(v, &name) == nil && name != "" {
				want, _ = tz.Load(name)
			}
		}
		if want == nil {
			want = user
		}
		shared := &Principal{UserID: 7, Live: true, Location: user}
		c := &Call{Method: m, Session: NewSession(ProtoJSONRPC, "fuzz", Credentials{}), Args: args, Principal: shared}
		var inCall *Principal
		res, err := s.bindParams(func(ctx context.Context, c *Call) (any, error) {
			inCall = PrincipalFrom(ctx)
			p := c.Params.(*tzProbe)
			r := &tzResult{At: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
			if p.At != nil {
				r.At = p.At.Time
			}
			return r, nil
		})(context.Background(), c)
		if shared.Location != user {
			t.Fatalf("the shared principal's zone changed to %v", shared.Location)
		}
		if err != nil {
			e := AsError(err)
			if e.Code != CodeInvalidParams || len(e.Fields) == 0 {
				t.Fatalf("error %v is not invalid_params with fields", err)
			}
			for field := range e.Fields {
				if field != "at" && !strings.HasPrefix(field, "__") {
					t.Fatalf("error names %q: %v", field, err)
				}
			}
			return
		}
		if inCall == nil || inCall.Location.String() != want.String() || c.Principal.Location.String() != want.String() {
			t.Fatalf("call zone %v, want %v", inCall, want)
		}
		r := res.(*tzResult)
		// Rendered in the call's zone — or in UTC where that zone's offset at
		// the instant has seconds (local mean time), which RFC 3339 cannot carry.
		if _, off := r.At.In(want).Zone(); off%60 != 0 {
			if r.At.Location() != time.UTC {
				t.Fatalf("result with a seconds offset rendered in %v, want UTC", r.At.Location())
			}
		} else if r.At.Location().String() != want.String() {
			t.Fatalf("result rendered in %v, want %v", r.At.Location(), want)
		}
		b, err := json.Marshal(r.At)
		if err != nil {
			t.Fatalf("an accepted datetime cannot be rendered in %s: %v", want, err)
		}
		var back Time
		if err := back.UnmarshalJSON(b); err != nil || back.naive || !back.Time.Equal(r.At) {
			t.Fatalf("rendered %s read back as %v (%v)", b, back.Time, err)
		}
	})
}
