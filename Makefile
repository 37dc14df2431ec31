# Set-up and the two everyday jobs. `make demo` and `make test` each create .venv on first use.
# TORCH picks the PyTorch build: the default pin installs the CPU wheel on machines that carry it
# locally (and PyPI's default build elsewhere); use e.g. TORCH="torch>=2.2" to let pip choose.
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-quick lint wheel clean

$(BIN)/prefix-workbench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

demo: $(BIN)/prefix-workbench
	$(BIN)/prefix-workbench train --out runs/demo --overwrite
	$(BIN)/prefix-workbench generate --run runs/demo --prompt "name[Aromi] food[Italian] area[riverside]"

test: $(BIN)/prefix-workbench
	$(BIN)/ruff check workbench tests bench
	$(BIN)/python -m pytest

# While working: the suite without the end-to-end files (browser, install, notebooks, real models, DDP).
test-quick: $(BIN)/prefix-workbench
	$(BIN)/python -m pytest -m "not slow"

# A wheel with the demo weights inside, for Colab (upload it beside a notebook) or any pip.
wheel: $(BIN)/prefix-workbench
	$(BIN)/pip wheel --no-deps --quiet -w dist .
	@ls dist/prefix_workbench-*.whl

lint: $(BIN)/prefix-workbench
	$(BIN)/ruff check workbench tests bench
	$(BIN)/ruff format --check workbench tests bench

clean:
	rm -rf $(VENV) runs .pytest_cache dist
