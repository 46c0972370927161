package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"slices"
	"time"

	"gorm.io/gorm/clause"

	"github.com/billgate/billgate/service"
)

// planRow is a row of billing_plans.
type planRow struct {
	ID            int64       `gorm:"column:id;primaryKey"`
	ResellersID   *int64      `gorm:"column:resellers_id"`
	ProductsID    int64       `gorm:"column:products_id"`
	CodeName      string      `gorm:"column:code_name"`
	Name          string      `gorm:"column:name"`
	PerSeat       bool        `gorm:"column:per_seat"`
	FreeTrialDays int         `gorm:"column:free_trial_days"`
	UserCount     int         `gorm:"column:user_count"`
	Features      jsonStrings `gorm:"column:features"`
	Limits        jsonLimits  `gorm:"column:limits"`
	Public        bool        `gorm:"column:public"`
	LiveMode      bool        `gorm:"column:live_mode"`
	CreatedAt     time.Time   `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt     time.Time   `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of planRow.
func (planRow) TableName() string { return "billing_plans" }

// planPriceRow is a row of billing_plan_prices (the prices a plan is sold at).
type planPriceRow struct {
	PlansID  int64 `gorm:"column:plans_id;primaryKey"`
	PricesID int64 `gorm:"column:prices_id;primaryKey"`
}

// TableName tells gorm the table of planPriceRow.
func (planPriceRow) TableName() string { return "billing_plan_prices" }

// plansTable: plans belong to their product's reseller and to a mode.
var plansTable = &table{
	name: "billing_plans", noun: "plan",
	scope: scopeSpec{resellerColumn: "resellers_id", liveMode: true},
	fields: map[string]string{
		"id": "id", "code_name": "code_name", "name": "name", "products_id": "products_id", "resellers_id": "resellers_id",
		"public": "public", "created_at": "created_at", "updated_at": "updated_at",
	},
}

var planWritable = map[string]string{"code_name": "code_name", "name": "name", "per_seat": "per_seat",
	"free_trial_days": "free_trial_days", "user_count": "user_count", "features": "features", "limits": "limits",
	"public": "public"}

// jsonLimits is a plan's limits, a JSON object of integers (NULL for none).
type jsonLimits map[string]int64

// GormDataType names the column type for gorm's schema parser.
func (jsonLimits) GormDataType() string { return "json" }

// Value encodes the limits as JSON (NULL for nil).
func (j jsonLimits) Value() (driver.Value, error) {
	if j == nil {
		return nil, nil
	}
	b, err := json.Marshal(map[string]int64(j))
	return string(b), err
}

// Scan decodes JSON text or bytes; NULL gives nil.
func (j *jsonLimits) Scan(src any) error {
	b, err := jsonBytes(src, "json limits")
	if err != nil || b == nil {
		*j = nil
		return err
	}
	return json.Unmarshal(b, (*map[string]int64)(j))
}

func planRowOf(p *service.Plan) planRow {
	return planRow{ID: p.ID, ResellersID: p.ResellersID, ProductsID: p.ProductsID, CodeName: p.CodeName, Name: p.Name,
		PerSeat: p.PerSeat, FreeTrialDays: p.FreeTrialDays, UserCount: p.UserCount, Features: jsonStrings(p.Features),
		Limits: jsonLimits(p.Limits), Public: p.Public, LiveMode: p.LiveMode, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func (r *planRow) toService(prices []int64) *service.Plan {
	limits := map[string]int64(r.Limits)
	if limits == nil {
		limits = map[string]int64{}
	}
	if prices == nil {
		prices = []int64{}
	}
	return &service.Plan{ID: r.ID, ResellersID: r.ResellersID, ProductsID: r.ProductsID, CodeName: r.CodeName, Name: r.Name,
		PerSeat: r.PerSeat, FreeTrialDays: r.FreeTrialDays, UserCount: r.UserCount, Features: stringsOrEmpty(r.Features),
		Limits: limits, Prices: prices, Public: r.Public, LiveMode: r.LiveMode,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// planPrices loads the price ids of the plans ids, sorted, in one query.
func (s *Store) planPrices(ctx context.Context, ids []int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []planPriceRow
	if err := s.conn(ctx).Where("plans_id IN ?", ids).Order("plans_id, prices_id").Find(&rows).Error; err != nil {
		return nil, translate(ctx, err, about("plan", nil))
	}
	for _, r := range rows {
		out[r.PlansID] = append(out[r.PlansID], r.PricesID)
	}
	return out, nil
}

// FindPlan returns plan id, with its prices, from the principal's scope.
// Errors: CodeNotFound (missing or out of scope), CodeUnavailable, CodeInternal.
func (s *Store) FindPlan(ctx context.Context, id int64) (*service.Plan, error) {
	row, err := findRow[planRow](ctx, s.conn(ctx), plansTable, id)
	if err != nil {
		return nil, err
	}
	prices, err := s.planPrices(ctx, []int64{row.ID})
	if err != nil {
		return nil, err
	}
	return row.toService(prices[row.ID]), nil
}

// SearchPlans lists the plans in scope matching q (up to q.Limit+1), with
// their prices. Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchPlans(ctx context.Context, q service.Query) ([]*service.Plan, error) {
	rows, err := searchRows[planRow](ctx, s.conn(ctx), plansTable, q)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	prices, err := s.planPrices(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*service.Plan, len(rows))
	for i := range rows {
		out[i] = rows[i].toService(prices[rows[i].ID])
	}
	return out, nil
}

// CountPlans counts the plans in scope matching q. Errors: CodeUnavailable,
// CodeInternal.
func (s *Store) CountPlans(ctx context.Context, q service.Query) (int64, error) {
	return countRows(ctx, s.conn(ctx), plansTable, q)
}

// CreatePlan stores p and its prices in the principal's mode and sets its ID,
// LiveMode and timestamps; its product must be in scope. Errors: CodeNotFound
// (product or reseller out of scope), CodeConflict (code_name taken in the
// reseller and mode; a price that does not exist), CodeUnavailable,
// CodeInternal.
func (s *Store) CreatePlan(ctx context.Context, p *service.Plan) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		pr, err := principal(ctx)
		if err != nil {
			return err
		}
		if _, err := s.FindProduct(ctx, p.ProductsID); err != nil {
			return err
		}
		if err := s.checkOwner(ctx, p.ResellersID); err != nil {
			return err
		}
		row := planRowOf(p)
		row.ID, row.LiveMode = 0, pr.Live
		row.CreatedAt = dbTime(p.CreatedAt)
		row.UpdatedAt = row.CreatedAt
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("plan", nil))
		}
		if err := s.writePlanPrices(ctx, row.ID, p.Prices); err != nil {
			return err
		}
		*p = *row.toService(sortedIDs(p.Prices))
		return nil
	})
}

// writePlanPrices replaces the price list of plan id.
func (s *Store) writePlanPrices(ctx context.Context, id int64, prices []int64) error {
	db := s.wconn(ctx)
	if err := db.Where("plans_id = ?", id).Delete(&planPriceRow{}).Error; err != nil {
		return translate(ctx, err, about("plan", id))
	}
	if len(prices) == 0 {
		return nil
	}
	rows := make([]planPriceRow, 0, len(prices))
	for _, pid := range sortedIDs(prices) {
		rows = append(rows, planPriceRow{PlansID: id, PricesID: pid})
	}
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return translate(ctx, err, about("plan", id))
	}
	return nil
}

func sortedIDs(ids []int64) []int64 { return slices.Compact(slices.Sorted(slices.Values(ids))) }

// UpdatePlan writes the named json fields of p and updated_at; "prices"
// replaces its price list. Errors: CodeNotFound, CodeConflict (code_name
// taken), CodeUnavailable, CodeInternal (a field that cannot be written).
func (s *Store) UpdatePlan(ctx context.Context, p *service.Plan, fields []string) error {
	writePrices := slices.Contains(fields, "prices")
	fields = slices.DeleteFunc(slices.Clone(fields), func(f string) bool { return f == "prices" })
	cols, err := columnsOf(plansTable, planWritable, fields)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		row := planRowOf(p)
		row.UpdatedAt = now()
		if err := updateRow(ctx, s.wconn(ctx), plansTable, p.ID, &row, cols); err != nil {
			return err
		}
		if writePrices {
			if err := s.writePlanPrices(ctx, p.ID, p.Prices); err != nil {
				return err
			}
			p.Prices = sortedIDs(p.Prices)
		}
		p.UpdatedAt = row.UpdatedAt
		return nil
	})
}

// DeletePlan deletes plan id (and its price list) from the principal's
// scope. Errors: CodeNotFound, CodeConflict (subscriptions use it),
// CodeUnavailable, CodeInternal.
func (s *Store) DeletePlan(ctx context.Context, id int64) error {
	return deleteRow[planRow](ctx, s.wconn(ctx), plansTable, id, subject{what: "plan", id: id, owns: "subscriptions"})
}
