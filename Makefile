# The template's own tasks; `make` alone lists them.
.DEFAULT_GOAL := help
.PHONY: help bake test test-fast lint generate lock mutate clean

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-9s %s\n", $$1, $$2}'

# The tools, from the hashed lock; rebuilt whenever the lock changes.
$(VENV)/installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	touch $@

# Backstage's scaffolder, which tests/test_backstage.py runs template.yaml with;
# from the lock, like the Python tools.
BACKSTAGE := tests/backstage
$(BACKSTAGE)/node_modules/installed: $(BACKSTAGE)/package-lock.json
	npm ci --prefix $(BACKSTAGE) --no-audit --no-fund --loglevel=error
	touch $@

# Where `make bake` writes; a service already there is kept, never overwritten.
OUT ?= out

bake: $(VENV)/installed ## Bake a service with the defaults into out/
	$(BIN)/cookiecutter . --no-input --output-dir $(OUT)

test: $(VENV)/installed $(BACKSTAGE)/node_modules/installed ## Run the whole test suite
	$(BIN)/pytest

# The edit-test loop: no Docker test, none marked slow (whole programs run end to
# end for many seconds: fresh venvs, callgrind, re-locks, scanners, Backstage's
# scaffolder), and a fifth of the property tests' examples. `make test` runs all.
test-fast: $(VENV)/installed $(BACKSTAGE)/node_modules/installed ## The edit-test loop: no Docker, no slow end-to-end runs
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-fast} $(BIN)/pytest -m "not docker and not slow"

lint: $(VENV)/installed ## Lint the template's own Python
	$(BIN)/ruff check --config pyproject.toml . "{{cookiecutter.project_slug}}/_template"
	$(BIN)/ruff format --check --config pyproject.toml . "{{cookiecutter.project_slug}}/_template"

generate: $(VENV)/installed ## Rewrite what restates cookiecutter.json: template.yaml, the README's prompts, and the action pins from docs/actions.md
	$(BIN)/python scripts/generate.py

lock: $(VENV)/installed ## Re-lock the template's tools and the requirements it bakes
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
		--output-file requirements-dev.txt requirements-dev.in
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
		--output-file requirements-checkov.txt requirements-checkov.in
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
		--output-file benchmarks/requirements-drivers.txt benchmarks/requirements-drivers.in
	for version in tests/cookiecutter/*.in; do \
		$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes --no-header \
			--output-file "$${version%.in}.txt" "$$version"; \
	done
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/lock.py
	npm install --prefix $(BACKSTAGE) --package-lock-only --no-audit --no-fund --loglevel=error

mutate: $(VENV)/installed $(BACKSTAGE)/node_modules/installed ## Break each promise in a copy; name the test that notices
	$(BIN)/python scripts/mutate.py $(MUTATE)

clean: ## Remove the venv, caches and baked output
	rm -rf $(VENV) .cache out .pytest_cache .ruff_cache $(BACKSTAGE)/node_modules
