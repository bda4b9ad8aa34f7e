# attrgraph — set-up, tests and benchmarks. `make install` then `make test` on a fresh machine.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the tests need: Chromium (browser tests), poppler (PDF read-back), Pango + fonts (WeasyPrint),
# Node (the viewer's JS unit tests, tests/js/, with Node's built-in test runner)
DEB_PACKAGES := chromium poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core nodejs
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install system-packages venv test test-js test-fast fuzz lint bench demo-model wheel-check clean viewer

install: system-packages venv  ## venv at .venv with the package (editable) and all extras, plus Debian packages

system-packages:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

venv:
	@[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[trace,pdf,ray,dev]'
	@if [ -f benchmarks/node/package.json ]; then (cd benchmarks/node && npm ci --silent --no-audit --no-fund); fi

# Tests run two pytest workers on two cores: one torch/BLAS thread each (two threads per worker oversubscribe
# the cores; a demo-model test file took 27 s with two threads and 15 s with one, measured side by side)
TEST_THREADS := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

test:  ## the whole suite (what CI runs): the viewer's JS unit tests, then pytest
	node --test tests/js/
	$(TEST_THREADS) $(PY) -m pytest -q -n 2 --dist loadgroup --durations=15

test-js:  ## only the viewer's JS unit tests (Node)
	node --test tests/js/

viewer:  ## minify the viewer into static_js/min/ (esbuild from npm, pinned in static_js/tools; after editing static_js/)
	cd static_js/tools && npm ci --silent --no-audit --no-fund
	$(PY) -m attrgraph_cli.report.bundle

fuzz:  ## the property-based fuzz suite, long: many random examples per seed file (make test runs a few)
	ATTRGRAPH_FUZZ_EXAMPLES=$${ATTRGRAPH_FUZZ_EXAMPLES:-300} ATTRGRAPH_FUZZ_RANDOM=1 $(PY) -m pytest -q -n 2 tests/cli/test_fuzz.py tests/cli/test_fuzz_inputs.py

test-fast:  ## the suite without the tests marked slow or browser
	$(TEST_THREADS) $(PY) -m pytest -q -n 2 -m "not slow and not browser"

lint:
	$(VENV)/bin/ruff check attrgraph_cli attrgraph_testing tests benchmarks
	$(VENV)/bin/ruff format --check attrgraph_cli attrgraph_testing tests benchmarks

bench:  ## benchmarks side by side with the peers; prints a table of ratios
	$(PY) -m benchmarks

demo-model:  ## retrain the embedded demo model from the seeded corpus generator
	$(PY) -m attrgraph_cli.demo_model.train

clean:
	rm -rf build dist *.egg-info .pytest_cache
