# The two commands: `make run` (set up and start the hub) and `make test` (set up and test).
# Everything is installed by these targets on a machine that has only Python, Node/npm, apt.

# as root, users' servers run as accounts of their own that must be able to run this Python:
# scripts/pick_python.py takes the system's when python3 lives in a closed directory
PYTHON ?= $(shell python3 scripts/pick_python.py python3)
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM ?= /usr/bin/chromium
CERTUTIL ?= /usr/bin/certutil
PYTEST_ARGS ?=

.PHONY: run test setup setup-test lint docs clean sim reliability

run: setup
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" $(BIN)/jupyterhub -f jupyterhub_config.py

test: setup-test lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/python -m reliability

# the reliability campaign (reliability/): CI's short mode, or the full figures with FULL=1
reliability: setup-test
	$(BIN)/python -m reliability $(if $(FULL),--full)

setup: $(VENV)/.installed-run node_modules/.installed

setup-test: $(VENV)/.installed-test node_modules/.installed $(CHROMIUM) $(CERTUTIL)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: $(VENV)/bin/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[local]'
	touch $@

# the cluster simulator (sim/, a distribution of its own) is installed for the tests only
$(VENV)/.installed-test: $(VENV)/bin/python setup.cfg pyproject.toml sim/pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[local,test]' -e ./sim
	touch $@ $(VENV)/.installed-run $(VENV)/.installed-sim

$(VENV)/.installed-sim: $(VENV)/bin/python sim/pyproject.toml
	$(BIN)/python -m pip install --quiet -e ./sim
	touch $@

# "Trying it without a cluster" (README): the simulator in .venv, started; SIM_ARGS adds options
SIM_ARGS ?= --state-dir data/sim
sim: $(VENV)/.installed-sim
	$(BIN)/jupyterhub-ov-sim $(SIM_ARGS)

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads one)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

# NSS's certutil: the browser tests make Chromium trust the cluster simulator's router CA
$(CERTUTIL):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libnss3-tools

lint: setup-test
	$(BIN)/ruff check jupyterhub_ov sim tests scripts reliability jupyterhub_config.py
	$(BIN)/ruff format --check jupyterhub_ov sim tests scripts reliability jupyterhub_config.py
	$(BIN)/mypy jupyterhub_ov sim/jupyterhub_ov_sim reliability
	$(BIN)/lint-imports --no-cache

# docs/configuration.md is generated from the traits' help (tests/test_config_reference.py
# fails when it is stale)
docs: setup
	$(BIN)/python scripts/config_reference.py --write

clean:
	rm -rf $(VENV) node_modules data test-artifacts .cache
