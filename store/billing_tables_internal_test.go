package store

import "testing"

// TestBillingTablesDeclareTheirScope: every table of the billing lifecycle
// has a complete scope spec (reseller and mode), an id field, and no field
// missing from its writable map's table.
func TestBillingTablesDeclareTheirScope(t *testing.T) {
	for _, tb := range []*table{productsTable, pricesTable, plansTable, subscriptionsTable, invoicesTable} {
		if err := tb.scope.check(); err != nil {
			t.Errorf("%s: %v", tb.name, err)
		}
		if _, ok := tb.fields["id"]; !ok {
			t.Errorf("%s: no id field", tb.name)
		}
		if !tb.scope.liveMode {
			t.Errorf("%s: not scoped by mode", tb.name)
		}
	}
}
