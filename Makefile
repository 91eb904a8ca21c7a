# Two entry points: `make test` and `make demo`. Each sets up what it needs and skips what exists.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint setup bench clean

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)
	bash scripts/setup-test-env.sh

test: setup
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

demo: $(STAMP)
	bash scripts/setup-test-env.sh 10-docker 20-sandbox-image
	$(BIN)/m1agent demo

bench: $(STAMP)
	bash benchmarks/run.sh

clean:
	rm -rf $(VENV) build *.egg-info
