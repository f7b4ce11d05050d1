# Think Twice: every target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench bundle clean format translations

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

# The English catalogue of every interface string, and its compiled form the app loads.
TRANSLATIONS := app/ui/translations
translations: $(STAMP)
	mkdir -p $(TRANSLATIONS)
	$(BIN)/pyside6-lupdate $$(find app/ui -name '*.py' | sort) -ts $(TRANSLATIONS)/thinktwice_en.ts
	$(BIN)/pyside6-lrelease $(TRANSLATIONS)/thinktwice_en.ts -qm $(TRANSLATIONS)/thinktwice_en.qm

format: $(STAMP)
	$(BIN)/ruff check --fix app tests bench tools
	$(BIN)/ruff format app tests bench tools

# Every benchmark of docs/performance.md; BENCH_ARGS passes options (e.g. --only a,b,c).
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/run.py $(BENCH_ARGS)

# The one-folder bundle (dist/thinktwice), built in build/bundle-venv, then its checks.
bundle: $(STAMP)
	sh tools/bundle.sh build
	sh tools/bundle.sh check

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
