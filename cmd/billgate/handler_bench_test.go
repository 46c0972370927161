package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkHandler measures the whole HTTP handler in process (no sockets, no
// load generator): what one call costs the server above net/http, next to a
// bare handler writing the same bytes. `make bench` measures the real thing
// over TCP; this is the quick loop for finding where the CPU goes:
//
//	go test ./cmd/billgate -run '^$' -bench Handler -benchmem
func BenchmarkHandler(b *testing.B) {
	a := benchApp(b)
	h := handler(a)
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("X-Api-Key", adminKey)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	created := do("POST", "/clients", `{"name":"Bench client","currency":"USD"}`)
	if created.Code != http.StatusCreated {
		b.Fatalf("create client: %d %s", created.Code, created.Body)
	}
	var id int64
	if _, err := fmt.Sscanf(created.Body.String(), `{"id":%d`, &id); err != nil {
		b.Fatalf("client id in %s: %v", created.Body, err)
	}
	batch := new(bytes.Buffer)
	batch.WriteString("[")
	for i := range 100 {
		if i > 0 {
			batch.WriteString(",")
		}
		fmt.Fprintf(batch, `{"jsonrpc":"2.0","method":"clients.get","params":{"id":%d},"id":%d}`, id, i)
	}
	batch.WriteString("]")
	version := do("GET", "/", "").Body.Bytes()
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(version)
	})
	cases := []struct {
		name, method, path, body string
		h                        http.Handler
		key                      bool // send the admin key (as the harness does for clients.get only)
	}{
		{"bare", "GET", "/", "", bare, false},
		{"version.rest", "GET", "/", "", h, false},
		{"version.rpc", "POST", "/", `{"jsonrpc":"2.0","method":"system.version","id":1}`, h, false},
		{"get.rest", "GET", fmt.Sprintf("/clients/%d", id), "", h, true},
		{"get.rpc", "POST", "/", fmt.Sprintf(`{"jsonrpc":"2.0","method":"clients.get","params":{"id":%d},"id":1}`, id), h, true},
		{"get.batch100", "POST", "/", batch.String(), h, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			body := []byte(c.body)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(c.method, c.path, bytes.NewReader(body))
				if c.key {
					req.Header.Set("X-Api-Key", adminKey)
				}
				clear(w.h)
				w.status = 0
				c.h.ServeHTTP(w, req)
				if w.status != 0 && w.status != http.StatusOK {
					b.Fatalf("%s: status %d", c.name, w.status)
				}
			}
		})
	}
}

// BenchmarkHandlerTCP is BenchmarkHandler over loopback TCP with 16 client
// goroutines on keep-alive connections (client and server share the process,
// as the harness's share the machine): per-request cost including net/http.
func BenchmarkHandlerTCP(b *testing.B) {
	a := benchApp(b)
	srv := httptest.NewServer(handler(a))
	defer srv.Close()
	get, err := http.Get(srv.URL + "/")
	if err != nil {
		b.Fatal(err)
	}
	version, _ := io.ReadAll(get.Body)
	get.Body.Close()
	rpcBody := `{"jsonrpc":"2.0","method":"system.version","id":1}`
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("X-Api-Version", apiVersion)
		h.Set("X-Request-Id", "BAREHANDLERXREQUESTXID0000")
		_, _ = w.Write(version)
	}))
	defer bare.Close()
	for _, c := range []struct{ name, url, method, body string }{
		{"bare.get", bare.URL, "GET", ""},
		{"version.rest", srv.URL, "GET", ""},
		{"bare.post", bare.URL, "POST", rpcBody},
		{"version.rpc", srv.URL, "POST", rpcBody},
	} {
		b.Run(c.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}}
			defer client.CloseIdleConnections()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					var body io.Reader
					if c.body != "" {
						body = strings.NewReader(c.body)
					}
					req, _ := http.NewRequest(c.method, c.url+"/", body)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("%s: %d", c.name, resp.StatusCode)
						return
					}
				}
			})
		})
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

// benchApp opens the program on a fresh SQLite file as `serve` would (the
// buffered log, at level info, written nowhere) with the admin and its key.
func benchApp(b *testing.B) *app {
	b.Helper()
	ctx := context.Background()
	env := map[string]string{
		"BILLGATE_DATABASE_URL":   "sqlite://" + b.TempDir() + "/bench.db",
		"BILLGATE_ADMIN_API_KEY":  adminKey,
		"BILLGATE_ADMIN_PASSWORD": "bench-password",
		"BILLGATE_LOG_LEVEL":      "info",
	}
	cfg, err := loadConfig("", func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	lw := newLogWriter(io.Discard)
	b.Cleanup(func() { _ = lw.Close() })
	log, err := newLogger(lw, cfg.LogLevel)
	if err != nil {
		b.Fatal(err)
	}
	a, err := open(ctx, cfg, log, true)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.store.Close() })
	if err := bootstrap(ctx, a, io.Discard); err != nil {
		b.Fatal(err)
	}
	return a
}
