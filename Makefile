# kgviz — two commands: `make run` (start the explorer) and `make test` (lint, types, the whole suite).
# Both create .venv and install kgviz into it (editable) from pyproject.toml, with the versions
# pinned in requirements.txt / requirements-test.txt.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8501
# 127.0.0.1: this machine only; HOST=0.0.0.0 serves the network (then Streamlit looks up its IPs).
HOST ?= 127.0.0.1

.PHONY: run test lint install test-install bench clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt -e '.[app]'
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed requirements-test.txt
	$(PIP) install --quiet -r requirements.txt -r requirements-test.txt -e '.[app,test]'
	touch $@

install: $(VENV)/.installed

test-install: $(VENV)/.test-installed

run: $(VENV)/.installed
	KGVIZ_DATA="$${KGVIZ_DATA:-../shared/ingram-data}" $(VENV)/bin/streamlit run app.py \
		--server.address $(HOST) --server.port $(PORT) --server.headless true --browser.gatherUsageStats false \
		--client.toolbarMode minimal

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check kgviz tests scripts bench app.py
	$(VENV)/bin/ruff format --check kgviz tests scripts bench app.py
	$(VENV)/bin/mypy kgviz

test: lint
	KGVIZ_DATA="$${KGVIZ_DATA:-../shared/ingram-data}" $(PY) -m pytest -q

bench: $(VENV)/.installed
	KGVIZ_DATA="$${KGVIZ_DATA:-../shared/ingram-data}" $(PY) bench/bench_core.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
