# Two commands on a fresh machine: `make localnet` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test test-python lint unit localnet bench crash twins faults fuzz diff-exec web clean

venv: $(STAMP)

# The native core (core/, Rust) is built into the package as libra._core by maturin, with the
# versions in core/Cargo.lock (--locked); changing any of its sources rebuilds it.
CORE_SOURCES := core/Cargo.toml core/Cargo.lock $(wildcard core/*/Cargo.toml core/*/src/*.rs core/*/src/*/*.rs)

$(STAMP): pyproject.toml constraints.txt $(CORE_SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

lint: venv
	cd core && cargo fmt --check
	cd core && cargo clippy --locked --release --all-targets -- -D warnings
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/libra
	$(BIN)/lint-imports

# The browser test drives Debian's Chromium (Playwright never downloads a browser here).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

# Every test on the native path, then the unit tests again on the Python reference path
# (LIBRA_CORE=python); `make test-python` runs the whole suite on the reference path.
test: lint $(CHROMIUM)
	cd core && cargo test --locked --release -p libra-engine
	$(BIN)/pytest -q tests
	LIBRA_CORE=python $(BIN)/pytest -q tests/unit

test-python: venv $(CHROMIUM)
	LIBRA_CORE=python $(BIN)/pytest -q tests

unit: venv
	cd core && cargo test --locked --release -p libra-engine
	$(BIN)/pytest -q tests/unit

localnet: venv
	$(BIN)/libra localnet

bench: venv
	$(BIN)/python -m bench.run

# Rebuild the web wallet bundle from web/ and check the committed one is current.
web:
	cd web && npm ci && npm run build
	git diff --exit-code src/libra/api/wallet/

# Long runs, outside make test.
crash: venv
	LIBRA_CRASH_ITERATIONS=$${N:-2000} $(BIN)/pytest -q tests/integration/storage/test_crash.py

# Many generated Twins scenarios (make test runs a few hundred): make twins N=100000
# (JOBS processes, default one per CPU; JSON=FILE writes the totals and every failure;
# REPUTATION=1 runs leader reputation after the scripted rounds)
twins: venv
	$(BIN)/python -m libra.consensus.twins --scenarios $${N:-10000} --seed $${SEED:-1} --jobs $${JOBS:-0} \
		$${JSON:+--json $$JSON} $${REPUTATION:+--reputation}

# Every decoder of peer and client bytes, and the JSON-RPC handlers, with N fuzzed inputs each
# (make test runs 1,500 each): make fuzz N=1000000 (JOBS processes; JSON=FILE for the figures)
fuzz: venv
	$(BIN)/python -m tests.fuzz --inputs $${N:-100000} --seed $${SEED:-1} --jobs $${JOBS:-0} $${JSON:+--json $$JSON}

# A long differential run of execution (native core vs framework) over one evolving chain:
# make diff-exec N=100000 SEED=1 (make test runs 150 blocks of it)
diff-exec: venv
	LIBRA_DIFF_EXEC_BLOCKS=$${N:-100000} LIBRA_DIFF_EXEC_SEED=$${SEED:-1} $(BIN)/pytest -q -s -p no:cacheprovider --timeout=0 \
		tests/unit/native/test_execution_diff.py -k long_chain

# More validator kills than make test's 20: make faults N=100
# (SENDERS accounts paying in parallel; PATIENCE multiplies the waits on a busy machine;
# RECORD=FILE appends one JSON line per kill: stall, time back at the tip)
faults: venv
	LIBRA_FAULT_KILLS=$${N:-100} LIBRA_FAULT_SENDERS=$${SENDERS:-1} LIBRA_FAULT_PATIENCE=$${PATIENCE:-1} \
	LIBRA_FAULT_RECORD=$${RECORD:-} $(BIN)/pytest -q tests/integration/consensus/test_faults.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache core/target src/libra/_core*.so
