# pplkit set-up. Two commands do everything on a fresh Debian machine:
#   make lab    create .venv, install pplkit for learners, start JupyterLab on workspace/
#   make test   create .venv, install pplkit with its dev tools, run the whole test suite
# Other targets: make demo (the explorer dashboard in Voila), make bench, make lint,
# make tutorials (run the tutorials and save their outputs, pictures included, for readers).
# Each target first checks the system programs it needs and names all missing ones at once.
# Torch is installed first, as the CPU build from PyTorch's CPU index when it can be reached
# (scripts/install_torch.py; overridable: make test TORCH=torch==2.5.1), so that pip never
# pulls a CUDA build with gigabytes of packages.

PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
PORT   ?= 8888
DEMO_PORT ?= 8866
# Learners work on copies of the tutorials here (gitignored), so `git status` stays clean.
WORKSPACE ?= workspace
# Tests and CI read the tutorial data from ../shared/data when it is there; without
# it, pplkit.datasets downloads the file once and caches it.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/rugged_data.csv),)
export PPLKIT_DATA_DIR ?= $(SHARED_DATA)
endif

BIN := $(VENV)/bin
ROOT_FLAG := $(shell [ "$$(id -u)" -eq 0 ] && echo --allow-root)
SYSTEM_DEPS := PYTHON=$(PYTHON) scripts/system-deps.sh

.PHONY: lab test demo bench lint workspace tutorials clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamps record what is installed; they are remade when pyproject.toml changes.
$(VENV)/.learner: $(BIN)/python pyproject.toml scripts/install_torch.py scripts/lab-settings.sh
	$(PYTHON) scripts/install_torch.py $(BIN)/python "$(TORCH)" -q
	$(BIN)/pip install -q -e ".[arviz]"
	scripts/lab-settings.sh $(VENV)
	touch $@

$(VENV)/.dev: $(VENV)/.learner $(VENV)/voila-frontend
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

$(VENV)/.demo: $(VENV)/.learner $(VENV)/voila-frontend
	$(BIN)/pip install -q -e ".[demo]"
	touch $@

# Voila's own copy of the widgets' browser code, built for the JupyterLab that Voila bundles
# (demo/frontend-requirements.txt says why). It stays out of the learners' JupyterLab: only
# the Voila process gets it, through VOILA_JUPYTER_PATH (the browser tests do the same).
$(VENV)/voila-frontend: $(BIN)/python demo/frontend-requirements.txt
	$(BIN)/pip install -q --no-deps --upgrade --target $@ -r demo/frontend-requirements.txt
	touch $@

workspace:
	$(PYTHON) scripts/workspace.py tutorials $(WORKSPACE)

lab:
	@$(SYSTEM_DEPS) venv graphviz compiler
	@$(MAKE) --no-print-directory $(VENV)/.learner workspace
	$(BIN)/jupyter lab --ip 127.0.0.1 --port $(PORT) --notebook-dir $(WORKSPACE) $(ROOT_FLAG)

test:
	@$(SYSTEM_DEPS) venv graphviz compiler chromium
	@$(MAKE) --no-print-directory $(VENV)/.dev
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

# demo/voila.json (Voila reads it from the folder it starts in) preheats a kernel, so the
# first visitor sees the explorer at once, culls the kernels of closed tabs, and picks the
# pplkit template (demo/jupyter/voila/templates/pplkit: Voila's, minus its CDN links).
VOILA_JUPYTER_PATH := $(abspath demo/jupyter):$(abspath $(VENV))/voila-frontend/share/jupyter
demo:
	@$(SYSTEM_DEPS) venv graphviz compiler
	@$(MAKE) --no-print-directory $(VENV)/.demo
	cd demo && JUPYTER_PATH=$(VOILA_JUPYTER_PATH) $(abspath $(BIN))/voila dashboard.ipynb \
		--Voila.ip=127.0.0.1 --port=$(DEMO_PORT) --no-browser

# Readers of the repository see the tutorials' pictures without running them; learners get
# copies without these outputs (make workspace). tests/scripts/test_render_tutorials.py says
# when the saved outputs are stale.
tutorials:
	@$(SYSTEM_DEPS) venv graphviz compiler
	@$(MAKE) --no-print-directory $(VENV)/.dev
	$(BIN)/python scripts/render_tutorials.py

bench: $(VENV)/.dev
	$(BIN)/python -m bench

lint: $(VENV)/.dev
	$(BIN)/ruff check pplkit widgets tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV)
