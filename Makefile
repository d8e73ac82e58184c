# Customer segmentation inside the database: the two commands are `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
RAW ?= data/raw
DEMO_CUSTOMERS ?= 60000
SEED ?= 42
SIZES ?= 60000 1000000

export DBT_PROFILES_DIR := $(CURDIR)/profiles
export SEGMENTATION_RAW := $(abspath $(RAW))
# One warehouse per data set: the demo's, or one per raw folder (RAW=...) unless set.
ifeq ($(RAW),data/raw)
export SEGMENTATION_DB ?= $(CURDIR)/data/warehouse.duckdb
else
# A DuckDB file is a catalog named after the file: one named like a schema of the warehouse
# (RAW=.../raw) would make `raw.<table>` ambiguous, so such a folder takes its parent's name too.
RAW_NAME := $(notdir $(abspath $(RAW)))
WAREHOUSE_NAME := $(if $(filter raw staging intermediate marts reference main,$(RAW_NAME)),$(notdir $(abspath $(RAW)/..))_$(RAW_NAME),$(RAW_NAME))
export SEGMENTATION_DB ?= $(CURDIR)/data/warehouses/$(WAREHOUSE_NAME).duckdb
endif
export SEGMENTATION_BI ?= $(CURDIR)/data/bi

# The engine: duckdb (default) or spark (`make setup-spark`, Java 17; docs/scale-out.md).
ENGINE ?= duckdb
ifeq ($(RAW),data/raw)
export SEGMENTATION_SPARK_WAREHOUSE ?= $(CURDIR)/data/spark
else
export SEGMENTATION_SPARK_WAREHOUSE ?= $(CURDIR)/data/spark-warehouses/$(WAREHOUSE_NAME)
endif
# dbt writes its manifest here (DBT_TARGET_PATH moves it); the fit step and publish read it
MANIFEST = $(or $(DBT_TARGET_PATH),target)/manifest.json
# More dbt vars for the build, as YAML pairs: make run VARS='segmentation_k_max: 6'
VARS ?=
comma := ,
DBT_ARGS = --project-dir . --vars '{raw_path: "$(SEGMENTATION_RAW)"$(if $(VARS),$(comma) $(VARS))}' $(if $(FULL_REFRESH),--full-refresh)
# dbt's unit tests check the models' SQL on fixed inputs, so `make test` and plain `dbt build`
# run them and the build of `make run` leaves them out, as dbt recommends for production
# builds; UNIT_TESTS=1 runs them too
UNIT_TESTS ?=

.PHONY: setup setup-spark run check build data test lint pytest bench clean reset-warehouse

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or pass PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3" >/dev/null 2>&1 || true
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

# The Spark engine's extra (docs/scale-out.md): dbt-spark and pyspark; Spark needs Java 17.
setup-spark: $(VENV)/.installed-spark

$(VENV)/.installed-spark: $(VENV)/.installed
	@command -v java >/dev/null || { echo "error: Spark needs Java 17 (Debian: apt-get install openjdk-17-jre-headless)"; exit 1; }
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,spark]"
	touch $@

# Demo data is generated only when the default raw folder is empty.
data: setup
	@if [ "$(RAW)" = "data/raw" ] && [ -z "$$(ls -A data/raw 2>/dev/null)" ]; then \
		$(BIN)/segmentation generate --customers $(DEMO_CUSTOMERS) --seed $(SEED) --out data/raw --truth data/truth; \
	fi

# Preflight: files, columns and value formats, before any model is built.
check: data
	$(BIN)/segmentation check "$(SEGMENTATION_RAW)" $(if $(VARS),--vars '{$(VARS)}')

ifeq ($(ENGINE),spark)
# dbt-spark cannot run dbt Python models: `segmentation spark-build` builds what the fit reads,
# runs the fit (python_models/), builds and tests the rest, then copies the public marts into
# a DuckDB file that publish reads; one process and one Spark session for all of it
# (src/segmentation/spark_build.py). dbt's unit tests run on DuckDB (`make test`): their SQL
# fixtures are DuckDB SQL.
PUBLISH_DB := $(SEGMENTATION_SPARK_WAREHOUSE)/spark_marts.duckdb
build: check setup-spark
	$(BIN)/segmentation spark-build --manifest "$(MANIFEST)" --marts-db "$(PUBLISH_DB)" -- $(DBT_ARGS)
else ifeq ($(ENGINE),duckdb)
build: check
	mkdir -p $(dir $(SEGMENTATION_DB))
	$(BIN)/dbt build $(DBT_ARGS) $(if $(UNIT_TESTS),,--exclude-resource-type unit_test)
PUBLISH_DB := $(SEGMENTATION_DB)
else
$(error ENGINE=$(ENGINE): use duckdb (default) or spark)
endif

# Publish only after a green build: a failed build leaves the last good publish untouched.
run: build
	$(BIN)/segmentation publish --db "$(PUBLISH_DB)" --bi "$(SEGMENTATION_BI)" --manifest "$(MANIFEST)" $(if $(FORCE),--force)
	@if $(BIN)/segmentation report --help >/dev/null 2>&1; then \
		$(BIN)/segmentation report --db "$(PUBLISH_DB)" --out "$(SEGMENTATION_BI)/report.html"; fi
	@echo "Warehouse: $(if $(filter spark,$(ENGINE)),$(SEGMENTATION_SPARK_WAREHOUSE) (Spark),$(SEGMENTATION_DB))"
	@echo "BI files:  $(SEGMENTATION_BI)"
	@echo "Power BI:  $(SEGMENTATION_BI)/powerbi/Segmentation.pbip (open it in Power BI Desktop; docs/power-bi.md)"

# sqlfluff compiles the models against an empty warehouse of its own, as on a fresh clone:
# the result must not depend on what `make run` left in data/. The models' incremental
# branches render only against a built warehouse: tests/python/test_lint_incremental.py
# lints them.
lint: setup
	$(BIN)/ruff check src tests bench python_models
	$(BIN)/ruff format --check src tests bench python_models
	lint_db=$$(mktemp -d) && SEGMENTATION_DB=$$lint_db/lint.duckdb \
		$(BIN)/sqlfluff lint models tests analyses --processes 2; \
		status=$$?; rm -rf "$$lint_db"; exit $$status

# Three workers on two cores, one test file per worker (a file's module fixtures build once),
# the longest files first (tests/python/conftest.py). Two workers left the cores idle about
# 10% of the time (a worker waiting for a subprocess, a browser, a file lock); a third fills
# those gaps. Numerical libraries (KMeans, BLAS) in a worker and in the dbt builds it runs
# use one thread each: OpenMP threads that wait for a core busy with another worker made
# the clustering tests several times slower than alone.
PYTEST_WORKERS ?= 3
pytest: setup-spark
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
		$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: lint pytest

# Benchmarks (docs/benchmarks.md): generated data and databases go to /tmp, results to
# bench/results/.
bench: setup
	$(BIN)/python bench/run_bench.py --sizes "$(SIZES)"

clean:
	rm -rf target logs data/warehouse.duckdb data/warehouses data/bi

# Start the warehouse of this data set over (RAW=... selects it): its tables and model history.
reset-warehouse:
	rm -f "$(SEGMENTATION_DB)" "$(SEGMENTATION_DB).wal"
