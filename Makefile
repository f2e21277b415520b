# Quick start:  make reproduce   (install + run the main job)
#               make test        (install + run the test suite; make test-all: the slow tests too, as CI)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: install install-test reproduce reproduce-full test test-all bench bench-train clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# the main job runs every claim, claim 6 (training) included: it needs the train extra
install: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[train]'

# the test suite covers every extra: training (torch CPU wheel), sweeps on Dask
install-test: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,train,dask]'

# real_gnn reads the raw Planetoid files from $OVERSMOOTH_PLANETOID_RAW (or the package cache);
# the folder beside this repository is used when it exists (as .ci/run does), else the claim says NOT RUN
PLANETOID_RAW := $(or $(OVERSMOOTH_PLANETOID_RAW),$(wildcard $(CURDIR)/../shared/data/planetoid))
export OVERSMOOTH_PLANETOID_RAW := $(PLANETOID_RAW)

reproduce: install
	$(BIN)/oversmooth reproduce --quick --out $(OUT)

reproduce-full: install
	$(BIN)/oversmooth reproduce --out $(OUT)-full

# every commit: the fast suite (the `slow` marker is opt-in: statistical and large-graph tests)
test: install-test
	$(BIN)/python -m pytest -q

# CI: everything, the slow tests included
test-all: install-test
	$(BIN)/python -m pytest -q -m ""

bench: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/bench_sampler.py
	$(BIN)/python benchmarks/bench_propagate.py
	$(BIN)/python benchmarks/bench_analyze.py
	$(BIN)/python -m pip install -q -e '.[sweep]'
	$(BIN)/python benchmarks/bench_sweep.py

# training timings: the --quick grid, the full default grid on 1 of its 10 seeds, PyG on 1 seed
bench-train: install
	$(BIN)/python benchmarks/bench_train.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis $(OUT) $(OUT)-full ci-artifacts
