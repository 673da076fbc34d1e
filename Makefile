# Two commands do everything: `make run` (the product, sandbox mode) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The CDK toolkit's asset publisher (npm, pinned by its lockfile), installed with the pinned Node.
TOOLKIT := deployer/toolkit
TOOLKIT_STAMP := $(TOOLKIT)/node_modules/.meridian-lockfile

.PHONY: run test lint venv migrate clean

$(STAMP): pyproject.toml
	@python=$$(bin/find-python) || exit 1; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$python ($$($$python -V))"; $$python -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

$(TOOLKIT_STAMP): $(TOOLKIT)/package-lock.json $(STAMP)
	$(PY) -m deployer.toolkit

venv: $(STAMP) $(TOOLKIT_STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

run: $(STAMP) $(TOOLKIT_STAMP)
	$(PY) -m controlplane.run

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP) $(TOOLKIT_STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache $(TOOLKIT)/node_modules
