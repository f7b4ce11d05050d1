# Think Twice: every target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench bundle clean format

$(STAMP): pyproject.toml tools/bootstrap.sh
	@sh tools/bootstrap.sh "$(PYTHON)" "$(VENV)"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/thinktwice

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check app tests bench tools
	$(BIN)/ruff format --check app tests bench tools
	$(BIN)/mypy app
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix app tests bench tools
	$(BIN)/ruff format app tests bench tools

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
