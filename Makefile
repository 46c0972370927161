# billgate — make run (server on SQLite) and make test are all a newcomer needs.
GO      ?= go
PKGS    := ./...
FUZZTIME ?= 30s
BENCHFLAGS ?=

.PHONY: run build test test-short vet fuzz fuzz-ci bench pdf-check docs-check clean

## run: the server on the embedded SQLite database (data/billgate.db), port 3080
run:
	$(GO) run ./cmd/billgate serve

## build: the binary in bin/billgate
build:
	$(GO) build -o bin/billgate ./cmd/billgate

## vet: static checks
vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet $(PKGS)

## test: every test, on SQLite and (when reachable, always in CI) PostgreSQL
test: vet
	$(GO) test -count=1 $(PKGS)

## pdf-check: render the billing scenario's invoice PDF with poppler (pdftoppm
## draws it to bin/invoice.png, pdftotext must find its lines); needs
## poppler-utils (apt-get install -y poppler-utils), which make test does not
pdf-check:
	@command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null || \
	  { echo "pdf-check needs poppler-utils: apt-get install -y poppler-utils"; exit 1; }
	@mkdir -p bin
	BILLGATE_PDF_CHECK=1 BILLGATE_PDF_KEEP=$(CURDIR)/bin/invoice.png $(GO) test -count=1 -v -run 'TestKillBillScenario/sqlite' ./cmd/billgate

## docs-check: the API documents from the outside (cmd/docscheck): boots the
## binary, opens GET /docs in headless chromium (lists the methods, Authorize with
## the admin key, "Try it out" on clients.get returns the client; screenshot in
## docs/docs-ui.png), then generates a TypeScript client from GET /openapi.json
## (openapi-typescript + openapi-fetch via npm) and calls clients.get through it.
## Needs chromium (apt-get install -y chromium; CHROMIUM=path to use another) and
## npm with its registry, which make test does not
docs-check:
	@test -x "$${CHROMIUM:-/usr/bin/chromium}" || { echo "docs-check needs chromium: apt-get install -y chromium (or CHROMIUM=/path/to/it)"; exit 1; }
	@command -v npm >/dev/null || { echo "docs-check needs npm"; exit 1; }
	$(GO) vet -tags docscheck ./cmd/docscheck
	$(GO) test -count=1 -v -tags docscheck -timeout 10m ./cmd/docscheck

## fuzz: each fuzz target (func Fuzz… in any package) for FUZZTIME; fails when none is found
fuzz:
	@set -e; n=0; for pd in $$($(GO) list -f '{{.ImportPath}}={{.Dir}}' $(PKGS)); do \
	  pkg=$${pd%%=*}; dir=$${pd#*=}; \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	    n=$$((n+1)); \
	  done; \
	done; echo "fuzz: $$n targets, $(FUZZTIME) each"; test $$n -gt 0

## fuzz-ci: each fuzz target briefly (CI runs it after make test). A count, not a
## duration: Go 1.26's fuzz coordinator can fail a duration run with "context
## deadline exceeded" at its end (golang/go#75804, fixed in Go 1.27)
fuzz-ci:
	$(MAKE) fuzz FUZZTIME=20000x

## bench: the benchmark harness (cmd/billgate-bench) on SQLite and PostgreSQL;
## writes docs/BENCHMARKS.md and its chart (BENCHFLAGS passes flags to it)
bench:
	$(GO) run ./cmd/billgate-bench $(BENCHFLAGS)

clean:
	rm -rf bin data
