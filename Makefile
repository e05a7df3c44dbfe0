# gongzhi: two commands on a fresh machine.
#   make demo   set up, load the demo district, serve it on http://127.0.0.1:8000
#   make test   set up and run every test on SQLite and on PostgreSQL
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo run test install install-dev serve bench messages clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("gongzhi needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	@bash scripts/system-packages.sh  # pango and a Chinese font for the monthly report's PDF, when root
	$(BIN)/gongzhi migrate --noinput
	$(BIN)/gongzhi demo
	$(BIN)/gongzhi collectstatic --noinput -v 0
	@echo "Serving gongzhi on http://$(HOST):$(PORT)/  (Ctrl-C to stop); submissions filed as they come, deadlines swept every minute"
	@$(MAKE) --no-print-directory run

# The server and the workers, in the foreground, on what is set up (scripts/run.sh says which and how they
# stop: Ctrl-C stops all and waits for each; demands/tests/test_stopping.py checks it).
run:
	@BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) scripts/run.sh

# Production on this machine (configuration: README): migrate, collect the static files, run.
serve: install
	$(BIN)/gongzhi migrate --noinput
	$(BIN)/gongzhi collectstatic --noinput -v 0
	@$(MAKE) --no-print-directory run

test: install-dev
	bash scripts/test.sh

bench: install-dev
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

messages: install
	cd gongzhi && ../$(BIN)/gongzhi makemessages -l zh_Hans --no-obsolete -i "*/tests/*"
	msgfmt --check -o gongzhi/locale/zh_Hans/LC_MESSAGES/django.mo gongzhi/locale/zh_Hans/LC_MESSAGES/django.po

clean:
	rm -rf $(VENV) var .pytest_cache
