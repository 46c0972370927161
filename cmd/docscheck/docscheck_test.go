//go:build docscheck

package docscheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

const (
	adminKey   = "live_docscheckAdminKey0123456789"
	clientName = "Docs UI Check GmbH"
)

// server is the billgate binary, running.
type server struct {
	URL    string
	stderr *bytes.Buffer
}

// repoRoot is the module root (this package is cmd/docscheck).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// boot builds bin/billgate into a temporary directory and starts `billgate
// serve` on a free port with a fresh SQLite database and a known admin key.
func boot(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "billgate")
	build := exec.Command("go", "build", "-o", bin, "./cmd/billgate")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"BILLGATE_LISTEN="+addr,
		"BILLGATE_DATABASE_URL=sqlite://"+filepath.Join(dir, "billgate.db"),
		"BILLGATE_ADMIN_API_KEY="+adminKey,
		"BILLGATE_ADMIN_PASSWORD=docscheck-password",
		"BILLGATE_LOG_LEVEL=warn",
	)
	s := &server{URL: "http://" + addr, stderr: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = io.Discard, &lockedWriter{w: s.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case err := <-done:
			t.Fatalf("billgate exited: %v\n%s", err, s.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("billgate did not become healthy\n%s", s.stderr)
		}
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// call sends a REST request with the admin key and decodes the JSON answer.
func (s *server) call(t *testing.T, verb, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(verb, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Api-Key", adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s", verb, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode
}

// operationIDs lists the operations of the served OpenAPI document.
func (s *server) operationIDs(t *testing.T) []string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if s.call(t, "GET", "/openapi.json", nil, &doc) != http.StatusOK {
		t.Fatal("GET /openapi.json failed")
	}
	var ids []string
	for _, item := range doc.Paths {
		for _, op := range item {
			ids = append(ids, op.OperationID)
		}
	}
	slices.Sort(ids)
	return ids
}

func TestDocs(t *testing.T) {
	s := boot(t)
	var client struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if st := s.call(t, "POST", "/clients", map[string]any{"name": clientName, "email": "docs@example.com"}, &client); st != http.StatusCreated {
		t.Fatalf("clients.create: %d", st)
	}
	t.Run("browser", func(t *testing.T) { checkBrowser(t, s, client.ID) })
	t.Run("generated client", func(t *testing.T) { checkGeneratedClient(t, s, client.ID) })
}

// js runs a script in the page and decodes its value.
func js[T any](t *testing.T, ctx context.Context, script string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script))
	if err != nil {
		t.Fatalf("script %q: %v", firstLine(script), err)
	}
	return v
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i] + "…"
	}
	return s
}

// step runs browser steps, failing the test with what the page shows when
// one fails.
func step(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ""`))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
	}
}

func checkBrowser(t *testing.T, s *server, clientID int64) {
	exe := os.Getenv("CHROMIUM")
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("no chromium at %s (set CHROMIUM; on Debian: apt-get install chromium): %v", exe, err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1400),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()

	// Every request the page makes, and what it writes to the console.
	var (
		mu       sync.Mutex
		requests []string
	)
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requests = append(requests, e.Request.Method+" "+e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	consoleCtx, stopConsole := context.WithCancel(ctx)
	var console []chromedp.ConsoleMessage
	consoleDone := make(chan struct{})
	messages := chromedp.Console(consoleCtx)
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m)
			mu.Unlock()
		}
	}()
	step(t, ctx, "enable the network domain", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{})
		return err
	}))

	// The page loads and lists every operation of the document.
	step(t, ctx, "open /docs", chromedp.Navigate(s.URL+"/docs"), chromedp.WaitVisible(chromedp.CSS(".opblock .opblock-summary-operation-id")))
	want := s.operationIDs(t)
	shown := js[[]string](t, ctx, `[...document.querySelectorAll(".opblock .opblock-summary-operation-id")].map(e => e.textContent.trim()).sort()`)
	if !slices.Equal(shown, want) {
		t.Errorf("the page lists %d operations, the document has %d:\n page %v\n doc  %v", len(shown), len(want), shown, want)
	}
	title := js[string](t, ctx, `document.querySelector(".info .title") ? document.querySelector(".info .title").textContent : ""`)
	if !strings.Contains(title, "billgate") {
		t.Errorf("title %q", title)
	}
	t.Logf("the page lists %d operations (%s)", len(shown), title)

	// Authorize with the admin key (the X-Api-Key scheme).
	step(t, ctx, "open Authorize", chromedp.Click(chromedp.CSS(".auth-wrapper .authorize")), chromedp.WaitVisible(chromedp.CSS(".modal-ux .auth-container")))
	found := js[bool](t, ctx, `(() => {
		for (const c of document.querySelectorAll(".modal-ux .auth-container")) {
			if (c.textContent.includes("X-Api-Key")) { c.setAttribute("data-check", "apikey"); return true; }
		}
		return false;
	})()`)
	if !found {
		t.Fatal("the Authorize dialog has no X-Api-Key scheme")
	}
	step(t, ctx, "authorize",
		chromedp.SendKeys(chromedp.CSS(`[data-check=apikey] input`), adminKey),
		chromedp.Click(chromedp.CSS(`[data-check=apikey] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-check=apikey] button[aria-label="Remove authorization"]`)),
		chromedp.Click(chromedp.CSS(`[data-check=apikey] .btn-done`)),
		chromedp.WaitNotPresent(chromedp.CSS(".modal-ux")),
	)
	if stored := js[string](t, ctx, `localStorage.getItem("authorized") || ""`); !strings.Contains(stored, "ApiKey") {
		t.Errorf("persistAuthorization: localStorage has %q", stored)
	}

	// clients.get: expand, Try it out, the id, Execute.
	if !js[bool](t, ctx, `(() => {
		for (const e of document.querySelectorAll(".opblock")) {
			const id = e.querySelector(".opblock-summary-operation-id");
			if (id && id.textContent.trim() === "clients.get") { e.setAttribute("data-check", "get"); return true; }
		}
		return false;
	})()`) {
		t.Fatal("clients.get is not on the page")
	}
	get := `[data-check=get] `
	step(t, ctx, "expand clients.get",
		chromedp.ScrollIntoView(chromedp.CSS(get+".opblock-summary")),
		chromedp.Click(chromedp.CSS(get+".opblock-summary-control")),
		chromedp.WaitVisible(chromedp.CSS(get+".try-out__btn")),
	)
	step(t, ctx, "try it out",
		chromedp.Click(chromedp.CSS(get+".try-out__btn")),
		chromedp.WaitVisible(chromedp.CSS(get+`tr[data-param-name="id"] input`)),
		chromedp.SendKeys(chromedp.CSS(get+`tr[data-param-name="id"] input`), fmt.Sprint(clientID)),
		chromedp.Click(chromedp.CSS(get+".execute")),
		chromedp.WaitVisible(chromedp.CSS(get+".live-responses-table .response-col_status")),
	)
	var status, body, curl string
	for deadline := time.Now().Add(15 * time.Second); ; {
		status = strings.TrimSpace(js[string](t, ctx, `(document.querySelector("[data-check=get] .live-responses-table .response .response-col_status") || {}).textContent || ""`))
		body = js[string](t, ctx, `(document.querySelector("[data-check=get] .live-responses-table .response-col_description pre") || {}).textContent || ""`)
		curl = js[string](t, ctx, `(document.querySelector("[data-check=get] .curl-command") || {}).textContent || ""`)
		if strings.Contains(body, clientName) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("Try it out: status %s\n%s\nresponse body:\n%s", status, curl, body)
	var shownClient struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if status != "200" || json.Unmarshal([]byte(body), &shownClient) != nil || shownClient.ID != clientID || shownClient.Name != clientName {
		t.Errorf("Try it out on clients.get: status %q, body %q", status, body)
	}
	if !strings.Contains(curl, "X-Api-Key: "+adminKey) || !strings.Contains(curl, fmt.Sprintf("/clients/%d", clientID)) {
		t.Errorf("the request was not the authorized clients.get: %s", curl)
	}

	// A screenshot of the operation with its answer: the window, scrolled to
	// the operation.
	js[bool](t, ctx, `(() => { document.querySelector("[data-check=get]").scrollIntoView({block: "start"}); window.scrollBy(0, -8); return true; })()`)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	out := filepath.Join(repoRoot(t), "docs", "docs-ui.png")
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(png))

	stopConsole()
	<-consoleDone
	mu.Lock()
	defer mu.Unlock()
	for _, r := range requests {
		_, u, _ := strings.Cut(r, " ")
		if !strings.HasPrefix(u, s.URL+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s: only the server itself may be asked", r)
		}
	}
	t.Logf("the page made %d requests, all to %s", len(requests), s.URL)
	for _, m := range console {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			t.Errorf("console %s: %s", m.Type, m.Text)
		}
	}
}

// checkGeneratedClient generates a TypeScript client from the served
// document (openapi-typescript), type-checks client/client.ts against it
// (tsc) and runs it (openapi-fetch) against the server.
func checkGeneratedClient(t *testing.T, s *server, clientID int64) {
	dir := filepath.Join(repoRoot(t), "tools", "docscheck", "client")
	run := func(env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	run(nil, "npm", "ci", "--no-audit", "--no-fund")
	run(nil, "npx", "--no-install", "openapi-typescript", s.URL+"/openapi.json", "--output", "schema.d.ts")
	run(nil, "npx", "--no-install", "tsc", "-p", ".")
	out := run([]string{"BILLGATE_URL=" + s.URL, "BILLGATE_API_KEY=" + adminKey, fmt.Sprintf("CLIENT_ID=%d", clientID)}, "node", "out/client.js")
	t.Logf("generated client: %s", strings.TrimSpace(out))
	var got struct {
		Status        int     `json:"status"`
		ID            int64   `json:"id"`
		Name          string  `json:"name"`
		ClientStatus  string  `json:"client_status"`
		MissingStatus int     `json:"missing_status"`
		MissingCode   string  `json:"missing_code"`
		SearchIDs     []int64 `json:"search_ids"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("client output %q: %v", out, err)
	}
	if got.Status != 200 || got.ID != clientID || got.Name != clientName || got.ClientStatus != "active" {
		t.Errorf("clients.get through the generated client: %+v", got)
	}
	if got.MissingStatus != 404 || got.MissingCode != "not_found" {
		t.Errorf("a missing client through the generated client: %d %q", got.MissingStatus, got.MissingCode)
	}
	if !slices.Equal(got.SearchIDs, []int64{clientID}) {
		t.Errorf("clients.search through the generated client: %v", got.SearchIDs)
	}
}
