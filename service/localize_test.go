package service_test

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
)

// TestLocalizeConcurrentFirstUse: the first calls of a result type, racing,
// all localise it. (The per-type cache once published a provisional "no
// datetimes here" while it computed the answer, and a concurrent first call
// skipped its datetimes: they stayed in UTC whatever __tz said.) Each round
// makes a type never seen before, with many fields ahead of its datetime to
// widen the window, and races its first uses.
func TestLocalizeConcurrentFirstUse(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for round := range 100 {
		var fields []reflect.StructField
		for f := range 200 {
			fields = append(fields, reflect.StructField{Name: fmt.Sprintf("R%dF%d", round, f), Type: reflect.TypeFor[[]map[string]int]()})
		}
		fields = append(fields, reflect.StructField{Name: "At", Type: reflect.TypeFor[time.Time]()})
		typ := reflect.PointerTo(reflect.StructOf(fields))
		vals := make([]reflect.Value, 8)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range vals {
			vals[i] = reflect.New(typ.Elem())
			vals[i].Elem().FieldByName("At").Set(reflect.ValueOf(at))
			wg.Go(func() {
				<-start
				service.Localize(vals[i].Interface(), tokyo)
			})
		}
		close(start)
		wg.Wait()
		for i, v := range vals {
			if got := v.Elem().FieldByName("At").Interface().(time.Time); got.Location() != tokyo {
				t.Fatalf("round %d, call %d: not localised: %v", round, i, got)
			}
		}
	}
}
