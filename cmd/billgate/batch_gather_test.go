package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestBatchGatheredReads: the clients.get calls of a JSON-RPC batch are
// gathered into one query (service.RunBatch); for every caller — live and
// test keys, reseller-limited or not — each element's reply is exactly the
// reply the same call gets on its own, so a batch can never see more than
// single calls: another reseller's client, a test client under a live key
// and the reverse stay not_found, element by element, with invalid params,
// repeats, per-element zones, notifications and other methods mixed in.
func TestBatchGatheredReads(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		w := newWorld(t, s)
		missing := int64(1) << 40
		elements := []string{
			fmt.Sprintf(`{"id":%d}`, w.cA),
			fmt.Sprintf(`{"id":%d}`, w.cB),
			fmt.Sprintf(`{"id":%d}`, w.cATest),
			fmt.Sprintf(`{"id":%d}`, w.cRoot),
			fmt.Sprintf(`{"id":%d}`, missing),
			fmt.Sprintf(`{"id":%d,"__tz":"Asia/Tokyo"}`, w.cA),
			fmt.Sprintf(`{"id":%d,"__tz":"America/Sao_Paulo"}`, w.cB),
			fmt.Sprintf(`{"id":%d}`, w.cA),
			`{"id":"x"}`,
			`{"id":1,"__tz":"Mars/Olympus"}`,
			`{}`,
		}
		// Which clients each key may see, as a single call says it.
		sees := map[string][]int64{
			"admin":     {w.cA, w.cB, w.cRoot},
			"adminTest": {w.cATest},
			"keyA":      {w.cA},
			"keyATest":  {w.cATest},
			"keyB":      {w.cB},
		}
		keys := map[string]string{"admin": w.admin, "adminTest": w.adminTest, "keyA": w.keyA, "keyATest": w.keyATest, "keyB": w.keyB}
		for name, key := range keys {
			t.Run(name, func(t *testing.T) {
				var b strings.Builder
				b.WriteString("[")
				for i, params := range elements {
					fmt.Fprintf(&b, `{"jsonrpc":"2.0","method":"clients.get","params":%s,"id":%d},`, params, i)
				}
				// a notification, another method, and a gathered call after them
				b.WriteString(`{"jsonrpc":"2.0","method":"clients.get","params":{"id":1}},`)
				b.WriteString(`{"jsonrpc":"2.0","method":"system.version","id":"v"},`)
				fmt.Fprintf(&b, `{"jsonrpc":"2.0","method":"clients.get","params":{"id":%d},"id":"last"}]`, w.cB)
				status, _, body := s.raw(t, keyAuth(key), "POST", "/", "application/json", []byte(b.String()))
				var replies []rpcReply
				if status != 200 || json.Unmarshal(body, &replies) != nil {
					t.Fatalf("batch: %d %.300s", status, body)
				}
				if len(replies) != len(elements)+2 {
					t.Fatalf("%d replies for %d answered calls: %.500s", len(replies), len(elements)+2, body)
				}
				singles := append([]string(nil), elements...)
				singles = append(singles, "", fmt.Sprintf(`{"id":%d}`, w.cB))
				for i, params := range singles {
					r := replies[i]
					if params == "" { // system.version
						if string(r.ID) != `"v"` || r.Error != nil {
							t.Errorf("system.version in the batch: %s %+v", r.ID, r.Error)
						}
						continue
					}
					var p map[string]any
					if err := json.Unmarshal([]byte(params), &p); err != nil {
						t.Fatal(err)
					}
					one := s.rpc(t, keyAuth(key), "clients.get", p)
					if (one.Err == nil) != (r.Error == nil) || string(one.Result) != string(r.Result) ||
						(one.Err != nil && (one.Err.Code != r.Error.Code || one.Err.Message != r.Error.Message)) {
						t.Errorf("element %d %s: batch %s %+v, single call %s %+v", i, params, r.Result, r.Error, one.Result, one.Err)
					}
				}
				// And what the single calls say is the scope rule itself.
				visible := map[int64]bool{}
				for _, id := range sees[name] {
					visible[id] = true
				}
				for i, id := range []int64{w.cA, w.cB, w.cATest, w.cRoot, missing} {
					r := replies[i]
					if visible[id] != (r.Error == nil) {
						t.Errorf("%s: client %d: visible %v, got %s %+v", name, id, visible[id], r.Result, r.Error)
					}
					if r.Error != nil && r.Error.dataCode() != "not_found" {
						t.Errorf("%s: client %d: %+v, want not_found", name, id, r.Error)
					}
				}
			})
		}
	})
}
