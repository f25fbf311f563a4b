# Tresen: `make run` starts the service with demo data on http://localhost:8080;
# `make test` runs every test on SQLite and on a throw-away PostgreSQL.

export PATH := $(PATH):/usr/local/go/bin
GO   ?= go
DATA ?= ./data
ADDR ?= 127.0.0.1:8080
# The browser tests save their screenshots here (test artefacts).
SHOTS ?= $(CURDIR)/artifacts/screenshots

.PHONY: run test build vet fuzz bench clean

build:
	$(GO) build -o bin/tresen ./cmd/tresen

run:
	./scripts/deps.sh run
	$(GO) build -o bin/tresen ./cmd/tresen
	./bin/tresen serve --demo --addr $(ADDR) --data $(DATA)

test:
	./scripts/deps.sh test
	@test -z "$$(gofmt -l cmd internal)" || { echo "gofmt needed:"; gofmt -l cmd internal; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@mkdir -p $(SHOTS)
	@url=$$(./scripts/pg.sh start) || exit 1; \
	TRESEN_TEST_POSTGRES="$$url" TRESEN_SCREENSHOTS=$(SHOTS) $(GO) test -count=1 -timeout 15m ./...; \
	status=$$?; ./scripts/pg.sh stop; exit $$status

# fuzz runs each fuzz target for FUZZTIME (default 20s).
FUZZTIME ?= 20s
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

bench:
	./scripts/deps.sh test
	@url=$$(./scripts/pg.sh start) || exit 1; \
	TRESEN_TEST_POSTGRES="$$url" $(GO) test -run '^$$' -bench . -benchmem ./internal/...; \
	status=$$?; ./scripts/pg.sh stop; exit $$status

clean:
	rm -rf bin
