package main

import (
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestScenarioOrder(t *testing.T) {
	rs := []Result{{DB: dbSQLite, Label: "a"}, {DB: dbSQLite, Label: "b"}, {DB: dbPostgres, Label: "a"}, {DB: dbPostgres, Label: "c"}}
	if got := scenarioOrder(rs); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("scenarioOrder = %q", got)
	}
	if got := databases(rs); !slices.Equal(got, []string{dbSQLite, dbPostgres}) {
		t.Errorf("databases = %q", got)
	}
}

func TestWriteChart(t *testing.T) {
	rs := sample()
	rs = append(rs, res(dbSQLite, scBare, "", 30000, time.Millisecond))
	rs[4].ItemsPS = 0 // a scenario without a value is left out, not drawn at 0 on a log axis
	path := filepath.Join(t.TempDir(), "sub", "chart.png")
	if err := writeChart(path, rs); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if cfg.Width < 900 || cfg.Height < 800 {
		t.Errorf("chart is %d×%d px, want at least 900×800", cfg.Width, cfg.Height)
	}
}
