# pplkit set-up. Two commands do everything on a fresh Debian machine:
#   make lab    create .venv, install pplkit for learners, start JupyterLab on tutorials/
#   make test   create .venv, install pplkit with its dev tools, run the whole test suite
# Other targets: make demo (Voila dashboard of the explorer), make bench, make lint.
# Torch is installed pinned first (overridable: make test TORCH=torch==2.5.1), so that
# pip never pulls a CUDA build with gigabytes of packages.

PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
PORT   ?= 8888
# Tests and CI read the tutorial data from ../shared/data when it is there; without
# it, pplkit.datasets downloads the file once and caches it.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/rugged_data.csv),)
export PPLKIT_DATA_DIR ?= $(SHARED_DATA)
endif

BIN := $(VENV)/bin
ROOT_FLAG := $(shell [ "$$(id -u)" -eq 0 ] && echo --allow-root)

.PHONY: lab test demo bench lint venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamps record what is installed; they are remade when pyproject.toml changes.
$(VENV)/.learner: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev: $(VENV)/.learner
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

lab: $(VENV)/.learner
	scripts/system-deps.sh graphviz
	$(BIN)/jupyter lab --ip 127.0.0.1 --port $(PORT) --notebook-dir tutorials $(ROOT_FLAG)

test: $(VENV)/.dev
	scripts/system-deps.sh graphviz chromium
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

demo: $(VENV)/.learner
	scripts/system-deps.sh graphviz
	$(BIN)/pip install -q -e ".[demo]"
	$(BIN)/voila tutorials/03_explore.ipynb --Voila.ip=127.0.0.1 --port=$(PORT) --no-browser

bench: $(VENV)/.dev
	$(BIN)/python -m bench

lint: $(VENV)/.dev
	$(BIN)/ruff check pplkit widgets tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV)
