# billgate — make run (server on SQLite) and make test are all a newcomer needs.
GO      ?= go
PKGS    := ./...
FUZZTIME ?= 30s

.PHONY: run build test test-short vet fuzz fuzz-ci clean

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

## fuzz: each fuzz target for FUZZTIME
fuzz:
	@$(GO) list -f '{{.ImportPath}} {{.Dir}}' $(PKGS) | while read pkg dir; do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; done

## fuzz-ci: each fuzz target briefly
fuzz-ci:
	$(MAKE) fuzz FUZZTIME=5s

clean:
	rm -rf bin data
