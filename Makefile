# Two commands for a fresh machine with Python 3.11+ and make:
#   make demo   sets up .venv and scans the shipped example thread
#   make test   sets up .venv with the test extras and runs the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# setup.py and the C source too: a checkout whose extension changed rebuilds it.
$(VENV)/.installed: pyproject.toml setup.py classifiers/_shingles.c | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml setup.py classifiers/_shingles.c | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/modassist scan examples/regional-security-news.txt

# The suite uses Python's bytecode cache even where PYTHONDONTWRITEBYTECODE is set in the shell (an empty value
# is unset for Python): without it every xdist worker and every process a test starts compiles the project's
# modules from source, and pytest rewrites every test module's asserts again (collecting the suite took 10.1 s
# of CPU instead of 5.4 s, in each worker). The files go to the __pycache__ folders that .gitignore lists.
test: $(VENV)/.installed-test
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python tools/check_lengths.py
	$(BIN)/mypy classifiers config bot lab/cli.py lab/__main__.py lab/commands lab/datasets lab/evaluation.py lab/peer.py

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_classify.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
