# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make run    - the product (console chat on the demo company unless TELEGRAM_BOT_TOKEN is set)
#   make test   - the test suite
# Both are idempotent; the second run skips what is already installed.
SHELL := /bin/bash
PY := .venv/bin/python
STAMP := .venv/.installed
DEB_PACKAGES := tesseract-ocr tesseract-ocr-chi-sim fonts-wqy-microhei
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup deb run test lint bench clean-db

setup: deb $(STAMP)

deb:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

$(STAMP): pyproject.toml
	[ -x $(PY) ] || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: setup
	$(PY) main.py db upgrade
	$(PY) main.py demo --if-empty
	$(PY) main.py

test: setup
	OMP_THREAD_LIMIT=1 $(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench: setup
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
