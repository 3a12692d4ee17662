# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint audit lock clean system-packages translations

# What the Procfile runs (requirements.txt); the test and bench kit on top of it
# (requirements-dev.txt). Both are lock files: every package pinned with its hashes.
$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

$(DEV_STAMP): requirements-dev.txt $(STAMP)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

## run: without Messenger credentials, the whole service in one process with the local
## Messenger preview on http://127.0.0.1:5000/preview (SQLite, no Redis, no Facebook needed);
## with them (.env), the real service for your Page on this machine (README). PORT=8080 make run
run: $(STAMP)
	$(BIN)/python app.py $(if $(PORT),--port $(PORT))

## system-packages: what the tests need from the system (redis-server, chromium)
system-packages:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

## test: the whole suite, with the throwaway Redis it starts itself, in two pytest-xdist
## processes (each its own Redis, its own databases); TEST_PROCESSES=0 runs it in one
TEST_PROCESSES ?= 2
test: $(DEV_STAMP) system-packages
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n $(TEST_PROCESSES)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

## audit: known vulnerabilities with a fix available in requirements.txt and what it pulls in
## (exit 1); packages no vulnerability database could be asked about are listed, loudly
audit: $(DEV_STAMP)
	$(BIN)/python .ci/audit.py requirements.in

## lock: after editing requirements.in or requirements-dev.in, pin everything they pull in,
## with hashes, into requirements.txt and requirements-dev.txt (pip-tools); commit all four
LOCK := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock: $(DEV_STAMP)
	$(LOCK) --output-file requirements.txt requirements.in
	$(LOCK) --output-file requirements-dev.txt requirements-dev.in

## translations: after changing the code's or templates' texts, extract them into
## translations/messages.pot, merge them into every catalog (es, pt_BR, ...) and compile the
## .mo files the service loads; translate what `pybabel update` marked new or fuzzy, run again,
## commit the .pot, .po and .mo (README, "Languages")
PYBABEL := $(BIN)/pybabel
translations: $(STAMP)
	$(PYBABEL) extract -F babel.cfg -k say:2 -k N_ -k default_texts --no-location \
	  --sort-output --no-wrap --project="Support Desk" -o translations/messages.pot \
	  attachments bot core handoff satisfaction tickets
	$(PYBABEL) update -i translations/messages.pot -d translations --no-wrap \
	  --ignore-obsolete --no-fuzzy-matching
	$(PYBABEL) compile --statistics -d translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
