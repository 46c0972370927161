package pdfdoc

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func sample(rows int) *Document {
	d := &Document{
		Title: "Invoice 7", Author: "test", Created: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		Fields:  [][2]string{{"Client", "Zoë Müller"}, {"Period", "2030-01-01 – 2030-02-01"}},
		Columns: []Column{{Title: "Description", Width: 120, Align: "L"}, {Title: "Amount", Width: 60, Align: "R"}},
		Totals:  [][2]string{{"Total", "12.00 €"}},
		Notes:   []string{"Thank you."},
	}
	for i := range rows {
		d.Rows = append(d.Rows, []string{fmt.Sprintf("line %d, with a description long enough to wrap onto a second line of its cell", i), "1.00 €"})
	}
	return d
}

// pages counts the page objects of a PDF (their dictionaries are not compressed).
func pages(b []byte) int {
	return bytes.Count(b, []byte("/Type /Page\n")) + bytes.Count(b, []byte("/Type /Page "))
}

func TestRenderIsDeterministic(t *testing.T) {
	a, err := Render(sample(3))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(sample(3))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(a, []byte("%PDF-")) || !bytes.Equal(a, b) {
		t.Fatalf("two renderings differ (%d and %d bytes) or are not PDF", len(a), len(b))
	}
	if !bytes.Contains(a, []byte("/CreationDate (D:20300102030405")) {
		t.Errorf("creation date is not the document's")
	}
}

func TestLongTablesBreakPages(t *testing.T) {
	one, err := Render(sample(2))
	if err != nil {
		t.Fatal(err)
	}
	many, err := Render(sample(60))
	if err != nil {
		t.Fatal(err)
	}
	if p1, pn := pages(one), pages(many); p1 != 1 || pn < 2 {
		t.Errorf("pages: %d for 2 rows, %d for 60 rows", p1, pn)
	}
}

func TestRowWiderThanTheTableIsAnError(t *testing.T) {
	d := sample(1)
	d.Rows = append(d.Rows, []string{"a", "b", "c"})
	if _, err := Render(d); err == nil {
		t.Error("a row with 3 cells for 2 columns was rendered")
	}
}
