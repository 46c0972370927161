// Package pdfdoc renders simple business documents — a title, label/value
// fields, a table and totals — as PDF, with go-pdf/fpdf and its built-in
// Helvetica (text is translated from UTF-8 to Windows-1252, so € and accented
// Latin letters print). It knows nothing of billing. The output is
// deterministic: the same Document always gives the same bytes.
package pdfdoc

import (
	"bytes"
	"fmt"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// Column is one column of the table: its title, width in millimetres and
// alignment ("L" or "R").
type Column struct {
	Title string
	Width float64
	Align string
}

// Document is what Render draws on A4 pages, in this order.
type Document struct {
	Title   string
	Author  string
	Created time.Time // the document's creation date (metadata)
	// Fields are label/value pairs under the title (number, dates, client…).
	Fields [][2]string
	// Columns and Rows are the table; cells wrap within their column.
	Columns []Column
	Rows    [][]string
	// Totals are label/value pairs under the table, right-aligned.
	Totals [][2]string
	// Notes are paragraphs at the end.
	Notes []string
}

const (
	lineH  = 5.0  // mm per text line
	margin = 15.0 // mm
)

// Render draws d as PDF. It fails when a row has more cells than columns or
// when fpdf reports an error.
func Render(d *Document) ([]byte, error) {
	for i, r := range d.Rows {
		if len(r) > len(d.Columns) {
			return nil, fmt.Errorf("pdfdoc: row %d has %d cells for %d columns", i, len(r), len(d.Columns))
		}
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(false, margin)
	pdf.SetCreationDate(d.Created)
	pdf.SetModificationDate(d.Created)
	pdf.SetCatalogSort(true)
	pdf.SetProducer("billgate", true)
	pdf.SetTitle(d.Title, true)
	pdf.SetAuthor(d.Author, true)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	_, pageH := pdf.GetPageSize()
	bottom := pageH - margin

	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 18)
	pdf.CellFormat(0, 10, tr(d.Title), "", 1, "L", false, 0, "")
	pdf.Ln(2)
	pdf.SetFont("Helvetica", "", 10)
	for _, f := range d.Fields {
		pdf.SetFont("Helvetica", "B", 10)
		pdf.CellFormat(45, lineH+1, tr(f[0]), "", 0, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 10)
		pdf.MultiCell(0, lineH+1, tr(f[1]), "", "L", false)
	}
	pdf.Ln(4)

	header := func() {
		pdf.SetFont("Helvetica", "B", 9)
		pdf.SetFillColor(230, 230, 230)
		for _, c := range d.Columns {
			pdf.CellFormat(c.Width, lineH+2, tr(c.Title), "B", 0, c.Align, true, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont("Helvetica", "", 9)
	}
	header()
	for _, row := range d.Rows {
		cells := make([][]string, len(d.Columns))
		lines := 1
		for i, c := range d.Columns {
			text := ""
			if i < len(row) {
				text = row[i]
			}
			// Split the UTF-8 text, then translate each line: SplitText reads UTF-8.
			cells[i] = pdf.SplitText(text, c.Width-2)
			for j := range cells[i] {
				cells[i][j] = tr(cells[i][j])
			}
			lines = max(lines, len(cells[i]))
		}
		h := float64(lines)*lineH + 1
		if _, y := pdf.GetXY(); y+h > bottom {
			pdf.AddPage()
			header()
		}
		x, y := pdf.GetXY()
		for i, c := range d.Columns {
			for j, l := range cells[i] {
				pdf.SetXY(x, y+float64(j)*lineH+0.5)
				pdf.CellFormat(c.Width, lineH, l, "", 0, c.Align, false, 0, "")
			}
			x += c.Width
		}
		pdf.SetXY(margin, y+h)
		pdf.Line(margin, y+h, x, y+h)
	}
	pdf.Ln(3)
	for _, t := range d.Totals {
		if _, y := pdf.GetXY(); y+lineH+1 > bottom {
			pdf.AddPage()
		}
		pdf.SetFont("Helvetica", "B", 10)
		pdf.CellFormat(140, lineH+1, tr(t[0]), "", 0, "R", false, 0, "")
		pdf.SetFont("Helvetica", "", 10)
		pdf.CellFormat(0, lineH+1, tr(t[1]), "", 1, "R", false, 0, "")
	}
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "", 9)
	for _, n := range d.Notes {
		pdf.MultiCell(0, lineH, tr(n), "", "L", false)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("pdfdoc: %w", err)
	}
	return buf.Bytes(), nil
}
