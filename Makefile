# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint audit clean system-packages

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

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

## test: the whole suite, with the throwaway Redis it starts itself
test: $(STAMP) system-packages
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

## audit: known vulnerabilities with a fix available in requirements.txt and what it pulls in
## (exit 1); packages no vulnerability database could be asked about are listed, loudly
audit: $(STAMP)
	$(BIN)/python .ci/audit.py requirements.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
