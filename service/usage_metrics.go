package service

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Aggregations of a metric: how a period's events become one quantity.
const (
	AggSum         = "sum"          // the sum of the values (of the property, when set)
	AggCount       = "count"        // the number of events
	AggMax         = "max"          // the largest value
	AggLatest      = "latest"       // the value of the last event
	AggUniqueCount = "unique_count" // the number of distinct values of the property
)

var aggregations = []string{AggSum, AggCount, AggMax, AggLatest, AggUniqueCount}

// Metric is what usage events measure (seed 002's metrics): a code that
// events and metered prices (usage_metric) name, and how a period's events
// aggregate. A metric belongs to a reseller and a mode; events and prices
// find it among the metrics of their plan's reseller.
type Metric struct {
	ID          int64     `json:"id"`
	ResellersID *int64    `json:"resellers_id"`
	Code        string    `json:"code" doc:"unique in the reseller and mode"`
	Name        string    `json:"name"`
	Aggregation string    `json:"aggregation" enum:"sum,count,max,latest,unique_count"`
	Property    string    `json:"property" doc:"unique_count: the event property counted; sum: the property summed instead of value"`
	LiveMode    bool      `json:"live_mode"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// MetricFilter are the typed filters of billing.metrics.search.
type MetricFilter struct {
	ID          IDs     `json:"id" filter:"id"`
	Code        Strings `json:"code" filter:"code"`
	Aggregation Strings `json:"aggregation" filter:"aggregation"`
	ResellersID IDs     `json:"resellers_id" filter:"resellers_id"`
}

// MetricSearch are the params of billing.metrics.search.
type MetricSearch struct {
	ListParams
	MetricFilter
}

var metricList = ListSpec{Sort: []string{"id", "code", "name", "created_at"}, Search: []string{"code", "name"}}

// MetricCreate are the params of billing.metrics.create.
type MetricCreate struct {
	Code        string `json:"code" required:"true" doc:"a letter, then letters, digits, _ . -"`
	Name        string `json:"name" required:"true"`
	Aggregation string `json:"aggregation" enum:"sum,count,max,latest,unique_count" doc:"default sum"`
	Property    string `json:"property" doc:"required for unique_count"`
	ResellersID *int64 `json:"resellers_id" doc:"default: the caller's reseller"`
}

// Validate checks code, name, aggregation and property.
func (p *MetricCreate) Validate() error {
	v := Validation{}
	if p.Aggregation == "" {
		p.Aggregation = AggSum
	}
	v.Check(codeNameRe.MatchString(p.Code), "code", "must start with a letter and have at most 64 letters, digits, _ . or -")
	v.Check(strings.TrimSpace(p.Name) != "" && len(p.Name) <= 200, "name", "must be 1 to 200 characters")
	v.Check(slices.Contains(aggregations, p.Aggregation), "aggregation", "must be sum, count, max, latest or unique_count")
	v.Check(len(p.Property) <= 100, "property", "must be at most 100 characters")
	v.Check(p.Aggregation != AggUniqueCount || p.Property != "", "property", "is required for unique_count")
	v.Check(p.Property == "" || p.Aggregation == AggSum || p.Aggregation == AggUniqueCount, "property", "is for sum and unique_count")
	return v.Err()
}

// MetricUpdate are the params of billing.metrics.update: how a metric
// aggregates never changes (its events were measured for it).
type MetricUpdate struct {
	ID   int64   `json:"id" required:"true"`
	Name *string `json:"name"`
}

// Validate checks the name.
func (p *MetricUpdate) Validate() error {
	if p.Name != nil && (strings.TrimSpace(*p.Name) == "" || len(*p.Name) > 200) {
		return InvalidField("name", "must be 1 to 200 characters")
	}
	return nil
}

func (s *Service) registerMetrics() {
	r := s.registry
	Register(r, Decl[MetricSearch, *Page[*Metric]]{
		Name: "billing.metrics.search", Summary: "List usage metrics.", HTTP: Route{Verb: "GET", Path: "/billing/metrics"},
		Do: func(ctx context.Context, p *MetricSearch) (*Page[*Metric], error) {
			q, err := BuildQuery(metricList, p.FilterParams, &p.ListParams, &p.MetricFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchMetrics(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[IDParams, *Metric]{
		Name: "billing.metrics.get", Summary: "Get a usage metric.", HTTP: Route{Verb: "GET", Path: "/billing/metrics/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Metric, error) { return s.store.FindMetric(ctx, p.ID) },
	})
	Register(r, Decl[MetricCreate, *Metric]{
		Name: "billing.metrics.create", Summary: "Create a usage metric (a code events and metered prices name, and its aggregation).",
		HTTP: Route{Verb: "POST", Path: "/billing/metrics", Created: true}, Idempotent: true,
		Do: func(ctx context.Context, p *MetricCreate) (*Metric, error) {
			rid, err := s.ownerReseller(ctx, p.ResellersID)
			if err != nil {
				return nil, err
			}
			m := &Metric{ResellersID: rid, Code: p.Code, Name: strings.TrimSpace(p.Name), Aggregation: p.Aggregation,
				Property: p.Property, LiveMode: PrincipalFrom(ctx).Live}
			err = s.store.InTx(ctx, func(ctx context.Context) error {
				if err := s.store.CreateMetric(ctx, m); err != nil {
					return err
				}
				return s.audit(ctx, "metric", m.ID, "create", m.ResellersID, map[string]any{"object": m})
			})
			return m, err
		},
	})
	Register(r, Decl[MetricUpdate, *Metric]{
		Name: "billing.metrics.update", Summary: "Rename a usage metric.", HTTP: Route{Verb: "PATCH", Path: "/billing/metrics/:id"},
		Do: func(ctx context.Context, p *MetricUpdate) (*Metric, error) {
			var out *Metric
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				m, err := s.store.FindMetric(ctx, p.ID)
				if err != nil {
					return err
				}
				ch := newChanges()
				if p.Name != nil {
					ch.set("name", m.Name, strings.TrimSpace(*p.Name), func() { m.Name = strings.TrimSpace(*p.Name) })
				}
				out = m
				if len(ch.fields) == 0 {
					return nil
				}
				if err := s.store.UpdateMetric(ctx, m, ch.fields); err != nil {
					return err
				}
				return s.audit(ctx, "metric", m.ID, "update", m.ResellersID, ch.changes)
			})
			return out, err
		},
	})
	Register(r, Decl[IDParams, *Deleted]{
		Name: "billing.metrics.delete", Summary: "Delete a usage metric no event measured.",
		HTTP: Route{Verb: "DELETE", Path: "/billing/metrics/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Deleted, error) {
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				m, err := s.store.FindMetric(ctx, p.ID)
				if err != nil {
					return err
				}
				if err := s.store.DeleteMetric(ctx, m.ID); err != nil {
					return err
				}
				return s.audit(ctx, "metric", m.ID, "delete", m.ResellersID, map[string]any{"object": m})
			})
			if err != nil {
				return nil, err
			}
			return &Deleted{ID: p.ID, Deleted: true}, nil
		},
	})
}
