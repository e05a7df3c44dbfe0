# gongzhi: two commands on a fresh machine.
#   make demo   set up, load the demo district, serve it on http://127.0.0.1:8000
#   make test   set up and run every test on SQLite and on PostgreSQL
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo serve-demo test install install-dev serve bench messages clean

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
	$(BIN)/gongzhi migrate --noinput
	$(BIN)/gongzhi demo
	$(BIN)/gongzhi collectstatic --noinput -v 0
	@$(MAKE) --no-print-directory serve-demo

# The demo's server and worker alone, on what `make demo` set up (demands/tests/test_stopping.py stops it as Ctrl-C does).
serve-demo:
	@echo "Serving gongzhi on http://$(HOST):$(PORT)/  (Ctrl-C to stop); submissions filed as they come, deadlines swept every minute"
# Both run in the background so that the shell's `wait` (unlike a foreground child) lets the trap run at
# once. Ctrl-C: the terminal signals all of them; the trap passes INT to gunicorn and TERM to the worker
# once more (harmless, see core/stopping.py) and waits for both, so a new `make demo` finds no lock.
	$(BIN)/gongzhi demands work --forever --sweep-interval 60 & worker=$$!; \
	$(BIN)/gunicorn gongzhi.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile - --log-level warning & server=$$!; \
	trap 'trap "" INT TERM; kill -INT $$server 2>/dev/null; kill -TERM $$worker 2>/dev/null; wait $$server; wait $$worker; exit 130' INT TERM; \
	wait $$server; status=$$?; kill -TERM $$worker 2>/dev/null; wait $$worker; exit $$status

serve: install
	$(BIN)/gunicorn gongzhi.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile -

test: install-dev
	bash scripts/test.sh

bench: install-dev
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

messages: install
	cd gongzhi && ../$(BIN)/gongzhi makemessages -l zh_Hans --no-obsolete -i "*/tests/*"
	msgfmt --check -o gongzhi/locale/zh_Hans/LC_MESSAGES/django.mo gongzhi/locale/zh_Hans/LC_MESSAGES/django.po

clean:
	rm -rf $(VENV) var .pytest_cache
