package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"
)

// invoicePDF fetches invoice id's PDF over REST and JSON-RPC, checks that both
// give the same document, and returns its bytes.
func invoicePDF(t *testing.T, s *server, a auth, id int64) []byte {
	t.Helper()
	status, h, body := s.raw(t, a, "GET", fmt.Sprintf("/billing/invoices/%d/pdf", id), "", nil)
	if status != 200 || h.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF-")) {
		t.Fatalf("GET pdf: %d %s %.40q", status, h.Get("Content-Type"), body)
	}
	var viaRPC struct {
		Filename string `json:"filename"`
		PDF      []byte `json:"pdf"`
	}
	s.ok(t, a, "billing.invoices.pdf", map[string]any{"id": id}, &viaRPC)
	if !bytes.Equal(viaRPC.PDF, body) || !strings.HasSuffix(viaRPC.Filename, ".pdf") {
		t.Fatalf("JSON-RPC gave another document (%d bytes, %q) than REST (%d bytes)", len(viaRPC.PDF), viaRPC.Filename, len(body))
	}
	return body
}

// pdfText extracts the text of a PDF with ledongthuc/pdf: the glyphs of
// each page grouped into rows by their baseline and read left to right, a
// space where a gap separates two glyphs (table cells, label and value).
func pdfText(t *testing.T, doc []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatalf("the PDF does not open: %v", err)
	}
	var out strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		rows := map[int][]pdf.Text{}
		for _, g := range r.Page(i).Content().Text {
			y := int(math.Round(g.Y))
			rows[y] = append(rows[y], g)
		}
		ys := slices.Sorted(maps.Keys(rows))
		slices.Reverse(ys) // top of the page first
		for _, y := range ys {
			row := rows[y]
			slices.SortStableFunc(row, func(a, b pdf.Text) int { return cmp.Compare(a.X, b.X) })
			var line strings.Builder
			for j, g := range row {
				if j > 0 && g.X-(row[j-1].X+row[j-1].W) > 1.5 {
					line.WriteByte(' ')
				}
				line.WriteString(g.S)
			}
			out.WriteString(strings.Join(strings.Fields(line.String()), " ") + "\n")
		}
	}
	if out.Len() == 0 {
		t.Fatal("the PDF has no text")
	}
	return out.String()
}

// wantRows fails unless each regular expression matches a row of text.
func wantRows(t *testing.T, text string, rows ...string) {
	t.Helper()
	for _, re := range rows {
		if !regexp.MustCompile(`(?m)` + re).MatchString(text) {
			t.Errorf("no row matches %q in:\n%s", re, text)
		}
	}
}

// checkUpgradePDF checks the PDF of the scenario's upgrade invoice: it opens,
// and shows its number, client, both lines with their amounts, and the totals.
func checkUpgradePDF(t *testing.T, s *server, a auth, inv invoiceView) {
	t.Helper()
	doc := invoicePDF(t, s, a, inv.ID)
	text := pdfText(t, doc)
	wantRows(t, text,
		`^Invoice 5$`,
		`Client Kill Bill GmbH`,
		`Basic \(Cloud \d+, per month\): unused.*-1 .*19.99 EUR .*19% .*-10\.16 EUR`,
		`Pro \(Cloud \d+, per month\): remaining.*1 .*49.99 EUR .*19% .*25\.40 EUR`,
		`Subtotal 15\.24 EUR`, `^Tax 2\.90 EUR`, `Total 18\.14 EUR`,
		`2096-05-15 – 2096-05-31`)
	if os.Getenv("BILLGATE_PDF_CHECK") != "" {
		popplerCheck(t, doc)
	}
}

// popplerCheck renders the document with poppler (make pdf-check): pdftoppm
// must draw a PNG of its page, and pdftotext must find the lines.
func popplerCheck(t *testing.T, doc []byte) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "invoice.pdf")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-png", "-r", "60", file, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm (apt-get install -y poppler-utils): %v %s", err, out)
	}
	png, err := os.ReadFile(filepath.Join(dir, "page-1.png"))
	if keep := os.Getenv("BILLGATE_PDF_KEEP"); keep != "" {
		_ = os.WriteFile(keep, png, 0o600)
	}
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("pdftoppm drew no PNG: %v", err)
	}
	cmd := exec.Command("pdftotext", "-layout", file, "-")
	var text bytes.Buffer
	cmd.Stdout = &text
	if err := cmd.Run(); err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	var rows []string
	for _, l := range strings.Split(text.String(), "\n") {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	wantRows(t, strings.Join(rows, "\n"), `^Invoice 5$`, `unused time.*-10\.16 EUR`, `remaining time.*25\.40 EUR`, `Total 18\.14 EUR`)
	if testing.Verbose() {
		t.Logf("pdftotext:\n%s", text.String())
	}
}

// TestInvoicePDFOfADraft: a draft renders too, titled as a draft, with its
// memo; an unknown invoice is not found over both protocols.
func TestInvoicePDFOfADraft(t *testing.T) {
	s := startServer(t, "sqlite://"+filepath.Join(t.TempDir(), "pdf.db"), nil)
	a := keyAuth(adminKey)
	var c clientView
	s.ok(t, a, "clients.create", map[string]any{"name": "Zoë Müller", "currency": "EUR", "standard_tax_rate": "7"}, &c)
	var inv invoiceView
	s.ok(t, a, "billing.invoices.create", map[string]any{"clients_id": c.ID, "memo": "Thank you — danke schön.",
		"lines": []map[string]any{{"description": "Workshop (2 days)", "unit_amount": 120000, "quantity": 2}}}, &inv)
	text := pdfText(t, invoicePDF(t, s, a, inv.ID))
	wantRows(t, text, fmt.Sprintf(`^Draft invoice %d$`, inv.ID), `Zoë Müller`, `Workshop \(2 days\) .*2 .*1200\.00 EUR .*7% .*2400\.00 EUR`,
		`Tax 168\.00 EUR`, `Total 2568\.00 EUR`, `Thank you — danke schön\.`)
	if status, _, body := s.raw(t, a, "GET", "/billing/invoices/999999/pdf", "", nil); status != 404 || !json.Valid(body) {
		t.Errorf("unknown invoice's PDF: %d %s", status, body)
	}
}
