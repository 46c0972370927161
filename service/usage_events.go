package service

import (
	"context"
	"encoding/json"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// UsageEvent is one measurement of a metric for a subscription (seed 002's
// "Create Event"). Its event_id is the caller's: the same id twice for one
// subscription is recorded once (a unique index), however the calls race.
type UsageEvent struct {
	ID              int64          `json:"id"`
	EventID         string         `json:"event_id"`
	SubscriptionsID int64          `json:"subscriptions_id"`
	ClientsID       int64          `json:"clients_id"`
	MetricsID       int64          `json:"metrics_id"`
	Code            string         `json:"code" doc:"the metric's code"`
	Value           Decimal        `json:"value" doc:"what the event adds to its metric (a sum metric with a property: that property)"`
	Properties      map[string]any `json:"properties"`
	OccurredAt      time.Time      `json:"occurred_at" doc:"when it was recorded (the billing clock: the test clock in test mode)"`
	Duplicate       bool           `json:"duplicate" doc:"the event_id was recorded already: this is the first event, counted once"`
	LiveMode        bool           `json:"live_mode"`
	CreatedAt       time.Time      `json:"created_at"`
	// UniqueKey is what a unique_count metric counts (the property's JSON).
	UniqueKey *string `json:"-"`
}

// UsageTarget is what recording an event needs to know, read in one query:
// the subscription, its client, the metric called by the event's code among
// the metrics of the plan's reseller (nil when there is none), and whether
// the client has usage limits that have not fired.
type UsageTarget struct {
	SubscriptionsID int64
	SubStatus       string
	ClientsID       int64
	ClientStatus    string
	Metric          *Metric
	PendingLimits   bool
}

// UsageEventFilter are the typed filters of billing.usage.events.search and .count.
type UsageEventFilter struct {
	ID              IDs     `json:"id" filter:"id"`
	SubscriptionsID IDs     `json:"subscriptions_id" filter:"subscriptions_id"`
	ClientsID       IDs     `json:"clients_id" filter:"clients_id"`
	MetricsID       IDs     `json:"metrics_id" filter:"metrics_id"`
	EventID         Strings `json:"event_id" filter:"event_id"`
}

// UsageEventSearch are the params of billing.usage.events.search.
type UsageEventSearch struct {
	ListParams
	UsageEventFilter
}

// UsageEventCount are the params of billing.usage.events.count.
type UsageEventCount struct {
	FilterParams
	UsageEventFilter
}

var usageEventList = ListSpec{Sort: []string{"id", "occurred_at", "created_at"}, Search: []string{"event_id"}}

// UsageEventCreate are the params of billing.usage.events.create.
type UsageEventCreate struct {
	EventID      string         `json:"event_id" required:"true" doc:"the caller's id of the event (a UUID…): sent twice, it counts once"`
	Subscription int64          `json:"subscription" required:"true" doc:"the subscription's id"`
	Code         string         `json:"code" required:"true" doc:"the metric's code"`
	Value        *Decimal       `json:"value" doc:"default 1"`
	Properties   map[string]any `json:"properties"`
}

// Validate checks the event's fields.
func (p *UsageEventCreate) Validate() error {
	v := Validation{}
	v.Check(p.EventID != "" && len(p.EventID) <= 200 && strings.TrimSpace(p.EventID) == p.EventID, "event_id", "must be 1 to 200 characters, without surrounding spaces")
	v.Check(codeNameRe.MatchString(p.Code), "code", "must be a metric code")
	if p.Value == nil {
		one := DecimalOf(1)
		p.Value = &one
	}
	checkMetadata(v, p.Properties)
	if _, ok := v["metadata"]; ok {
		v["properties"] = v["metadata"]
		delete(v, "metadata")
	}
	return v.Err()
}

func (s *Service) registerUsageEvents() {
	r := s.registry
	Register(r, Decl[UsageEventCreate, *UsageEvent]{
		Name: "billing.usage.events.create", Summary: "Record a usage event (seed 002's Create Event); an event_id sent again counts once. Batch them over JSON-RPC.",
		HTTP: Route{Verb: "POST", Path: "/billing/usage/events"}, Raises: []Code{CodeUnprocessable}, Do: s.createUsageEvent,
	})
	Register(r, Decl[UsageEventSearch, *Page[*UsageEvent]]{
		Name: "billing.usage.events.search", Summary: "List usage events.", HTTP: Route{Verb: "GET", Path: "/billing/usage/events"},
		Do: func(ctx context.Context, p *UsageEventSearch) (*Page[*UsageEvent], error) {
			q, err := BuildQuery(usageEventList, p.FilterParams, &p.ListParams, &p.UsageEventFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchUsageEvents(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[UsageEventCount, *Count]{
		Name: "billing.usage.events.count", Summary: "Count usage events.", HTTP: Route{Verb: "GET", Path: "/billing/usage/events/count"},
		Do: func(ctx context.Context, p *UsageEventCount) (*Count, error) {
			q, err := BuildQuery(usageEventList, p.FilterParams, nil, &p.UsageEventFilter)
			if err != nil {
				return nil, err
			}
			n, err := s.store.CountUsageEvents(ctx, q)
			return &Count{Count: n}, err
		},
	})
}

// createUsageEvent records an event: one query (on a reader) finds its
// subscription, client, metric and whether limits wait; one INSERT …
// SELECT … ON CONFLICT DO NOTHING stores it — in the caller's scope, once
// per event_id (a duplicate returns the first event), atomic without a
// transaction. When the client has limits that have not fired, a
// transaction locks the subscription's and the client's rows first, in the
// billing run's order (the insert's foreign keys would otherwise take share
// locks first, which deadlock with the next event's or the run's update
// locks); the client must still be active, and the limits are checked in
// it. Errors: not_found (subscription, metric), invalid_params (a property
// the metric needs), unprocessable (subscription_ended, client_not_active).
func (s *Service) createUsageEvent(ctx context.Context, p *UsageEventCreate) (*UsageEvent, error) {
	now, err := s.billingNow(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.store.UsageTarget(ctx, p.Subscription, p.Code)
	if err != nil {
		return nil, err
	}
	switch {
	case t.Metric == nil:
		return nil, NotFound("metric", strconv.Quote(p.Code))
	case t.SubStatus == SubCancelled:
		return nil, Unprocessable("subscription_ended", "subscription %d is cancelled: it records no usage", t.SubscriptionsID)
	case t.ClientStatus != ClientActive:
		return nil, Unprocessable("client_not_active", "client %d is %s: it records no usage", t.ClientsID, t.ClientStatus)
	}
	e := &UsageEvent{EventID: p.EventID, SubscriptionsID: t.SubscriptionsID, ClientsID: t.ClientsID, MetricsID: t.Metric.ID,
		Code: t.Metric.Code, Value: *p.Value, Properties: p.Properties, OccurredAt: now, CreatedAt: now}
	if err := measure(e, t.Metric); err != nil {
		return nil, err
	}
	if !t.PendingLimits { // one statement, atomic by itself: no transaction to open
		created, err := s.store.CreateUsageEvent(ctx, e)
		if err != nil {
			return nil, err
		}
		e.Duplicate = !created
		return e, nil
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		// The billing run's lock order: the subscription, then the client.
		if _, err := s.store.LockSubscription(ctx, t.SubscriptionsID); err != nil {
			return err
		}
		client, err := s.store.LockClient(ctx, t.ClientsID)
		if err != nil {
			return err
		}
		if client.Status != ClientActive {
			return Unprocessable("client_not_active", "client %d is %s: it records no usage", client.ID, client.Status)
		}
		created, err := s.store.CreateUsageEvent(ctx, e)
		if err != nil {
			return err
		}
		if e.Duplicate = !created; created {
			return s.checkUsageLimits(ctx, client, now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// measure sets what the event counts for its metric: the summed property
// (sum with a property) or the counted one (unique_count).
func measure(e *UsageEvent, m *Metric) error {
	if m.Property == "" {
		return nil
	}
	raw, ok := e.Properties[m.Property]
	field := "properties." + m.Property
	if !ok || raw == nil {
		return InvalidField(field, "is required by metric "+m.Code)
	}
	if m.Aggregation == AggSum {
		b, _ := json.Marshal(raw)
		d, err := ParseDecimal(strings.Trim(string(b), `"`))
		if err != nil {
			return InvalidField(field, err.Error())
		}
		e.Value = d
		return nil
	}
	b, err := json.Marshal(raw)
	if err != nil || len(b) > 500 {
		return InvalidField(field, "must be a JSON value of at most 500 bytes")
	}
	key := string(b)
	e.UniqueKey = &key
	return nil
}

// MicrosPerUnit is the fixed scale of a Decimal: 6 decimal places.
const MicrosPerUnit = 1_000_000

// maxDecimalUnits bounds a Decimal (10^12 units), so sums of many values stay
// within int64 micro-units.
const maxDecimalUnits = 1_000_000_000_000

// decimalRe is a non-negative decimal with at most 6 decimals, no exponent.
var decimalRe = regexp.MustCompile(`^[0-9]{1,13}(\.[0-9]{1,6})?$`)

// Decimal is an exact non-negative quantity with up to 6 decimals (usage
// values and aggregates), kept as an integer count of millionths: a JSON
// number (or string) on input, read digit for digit — never as a binary
// float — and a JSON number on output.
type Decimal struct{ Micros int64 }

// ParseDecimal reads "12", "0.5" or "1000000.000001" (0 to 10^12).
func ParseDecimal(s string) (Decimal, error) {
	s = strings.TrimSpace(s)
	if !decimalRe.MatchString(s) {
		return Decimal{}, errString("must be a non-negative decimal number with at most 6 decimals, such as 1 or 2.5")
	}
	whole, frac, _ := strings.Cut(s, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > maxDecimalUnits {
		return Decimal{}, errString("must be at most 10^12")
	}
	frac += strings.Repeat("0", 6-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	d := Decimal{Micros: w*MicrosPerUnit + f}
	if d.Micros > maxDecimalUnits*MicrosPerUnit {
		return Decimal{}, errString("must be at most 10^12")
	}
	return d, nil
}

// DecimalOf is n whole units.
func DecimalOf(n int64) Decimal { return Decimal{Micros: n * MicrosPerUnit} }

// UnmarshalJSON reads a JSON number or a string holding one.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	v, err := ParseDecimal(strings.Trim(string(b), `"`))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes the value as a JSON number without trailing zeros.
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d.String()), nil }

// TypeDescription names the wire type in errors and documents.
func (Decimal) TypeDescription() string {
	return "a non-negative decimal number (at most 6 decimals)"
}

// String writes the value without trailing zeros ("2.5", "3").
func (d Decimal) String() string {
	sign := ""
	m := d.Micros
	if m < 0 {
		sign, m = "-", -m
	}
	s := sign + strconv.FormatInt(m/MicrosPerUnit, 10)
	if f := m % MicrosPerUnit; f != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(f+MicrosPerUnit, 10)[1:], "0")
	}
	return s
}

// Rat returns the value as an exact fraction.
func (d Decimal) Rat() *big.Rat { return big.NewRat(d.Micros, MicrosPerUnit) }
