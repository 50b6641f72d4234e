# Arbejdsmiljøviden — the two commands a new user needs are `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SIZE   ?=
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install serve test bench lint vocabularies static clean soak

# Install into .venv when pyproject.toml changed since the last install.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

## serve: install if needed, initialise the store (ontology, vocabularies, sample data) and serve on http://$(HOST):$(PORT)
serve: install
	$(BIN)/amv init --sample
	$(BIN)/amv serve --host $(HOST) --port $(PORT)

## test: the whole test suite (unit, store, CLI, HTTP, remote-store server)
test: install
	$(BIN)/python -m pytest -q

## bench: benchmarks that print the figures the issues state (not part of `make test`);
##        SIZE=10k|100k|1m runs only the scale suite (bench/scale.py) at that size
bench: install
	$(BIN)/python -m bench $(if $(SIZE),--size $(SIZE))

## soak: the real server under wrk load for 60 s with writes and a slow query (figures, p99 < 250 ms), then the
## full bad-input sweep and a longer schemathesis run; needs the Debian package wrk (not part of `make test`)
soak: install
	@command -v wrk >/dev/null || { echo "make soak needs wrk, the HTTP load generator: apt-get install wrk"; exit 2; }
	$(BIN)/python -m bench.soak --seconds 60
	AMV_FULL_SWEEP=1 AMV_SCHEMATHESIS_EXAMPLES=50 $(BIN)/python -m pytest -q -rP tests/test_bad_input.py tests/test_schemathesis.py

## lint: ruff
lint: install
	$(BIN)/ruff check graph api tests bench scripts
	$(BIN)/ruff format --check graph api tests bench scripts

## vocabularies: regenerate the industry schemes from ../shared/data (reviewed output is committed)
vocabularies: install
	$(BIN)/python scripts/build_industries.py

## static: refresh the vendored YASGUI files in api/static/vendor from npm (committed; only for upgrades)
static: install
	npm ci --no-audit --no-fund
	$(BIN)/python scripts/vendor_static.py

clean:
	rm -rf var .pytest_cache
