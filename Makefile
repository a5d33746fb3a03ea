# Demeu — local operations. See README.md and deploy/README.md.
#
#   make up      install, migrate, start everything under supervisord, wait for /health
#   make down    stop everything `make up` started
#   make test    the whole test suite (what .ci/run runs)
#
# Every setting below can be overridden from the environment or the command line
# (`GATEWAY_PORT=8100 DEMEU_VAR_DIR=/tmp/demeu2 make up`), so several independent
# platforms can run side by side: each keeps its supervisord socket, pidfile, logs,
# SQLite files and scale settings in its own DEMEU_VAR_DIR.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

DEMEU_VAR_DIR ?= $(CURDIR)/var
GATEWAY_PORT  ?= 8000
AMQP_URI      ?= amqp://guest:guest@127.0.0.1:5672/
DEMEU_DEV     ?= 1
PYTHON        ?= python3
PYTEST_ARGS   ?=

# supervisord's control socket. A unix socket path may be at most 107 bytes and a deep
# DEMEU_VAR_DIR (pytest's tmp_path) can exceed that, so then it goes under /tmp instead,
# named after the var dir. Derived, never taken from the environment.
DEMEU_SUPERVISOR_SOCK := $(shell s='$(DEMEU_VAR_DIR)/supervisor.sock'; \
	if [ $${#s} -le 100 ]; then echo "$$s"; \
	else echo "/tmp/demeu-supervisor-$$(printf %s '$(DEMEU_VAR_DIR)' | md5sum | cut -c1-12).sock"; fi)

DEMEU_ENV_VARS := DEMEU_VAR_DIR GATEWAY_PORT AMQP_URI DEMEU_DEV
export $(DEMEU_ENV_VARS) DEMEU_SUPERVISOR_SOCK

VENV         := .venv
BIN          := $(VENV)/bin
SERVICES     := campaigns payments notifications talent
PROGRAMS     := $(SERVICES) gateway
PACKAGES     := libs/common $(addprefix services/,$(SERVICES)) gateway
STAMP        := $(VENV)/.demeu-installed
SUPERVISORCTL = $(BIN)/supervisorctl -c deploy/supervisord.conf
SCALE_DIR     = $(DEMEU_VAR_DIR)/supervisor

.PHONY: help install up down restart status logs migrate declare-queues stop-service start-service \
        scale test test-sqlite bench reconcile clean check-name

help:
	@echo "make up | down | restart | status | logs | migrate | test | test-sqlite | bench | reconcile | clean"
	@echo "make stop-service name=S | start-service name=S | scale name=S n=N   (S: $(PROGRAMS))"
	@echo "settings: DEMEU_VAR_DIR=$(DEMEU_VAR_DIR) GATEWAY_PORT=$(GATEWAY_PORT) AMQP_URI=$(AMQP_URI) DEMEU_DEV=$(DEMEU_DEV)"

# ---------------------------------------------------------------------------- install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a pin, the dev requirements or a package's metadata changes;
# code changes need no reinstall (the packages are editable).
$(STAMP): $(BIN)/python constraints.txt requirements-dev.txt $(addsuffix /pyproject.toml,$(PACKAGES))
	$(BIN)/pip install --disable-pip-version-check -c constraints.txt -r requirements-dev.txt \
		setuptools supervisor $(addprefix -e ,$(PACKAGES))
	touch $@

install: $(STAMP)

# ---------------------------------------------------------------------------- run

migrate: install
	mkdir -p "$(DEMEU_VAR_DIR)"
	$(BIN)/demeu-migrate $(SERVICES)

# Durable queues of known subscribers and of every service's event handlers, before anything
# publishes (deploy/subscribers.yaml; see demeu_common/declare.py).
declare-queues: install
	$(BIN)/demeu-declare-queues --config deploy/subscribers.yaml

up: install
	deploy/ensure_rabbitmq.sh
	mkdir -p "$(DEMEU_VAR_DIR)/log" "$(SCALE_DIR)"
	$(BIN)/demeu-migrate $(SERVICES)
	$(BIN)/demeu-declare-queues --config deploy/subscribers.yaml
	@if $(SUPERVISORCTL) pid >/dev/null 2>&1; then \
		echo "supervisord already running: applying config changes, starting anything stopped"; \
		$(SUPERVISORCTL) update; \
		$(SUPERVISORCTL) start all >/dev/null || true; \
	else \
		echo "starting supervisord (logs in $(DEMEU_VAR_DIR)/log)"; \
		$(BIN)/supervisord -c deploy/supervisord.conf; \
	fi
	@if ! $(BIN)/python deploy/wait_health.py --url http://127.0.0.1:$(GATEWAY_PORT)/health --timeout 60; then \
		$(SUPERVISORCTL) status || true; \
		for f in "$(DEMEU_VAR_DIR)"/log/*.log; do echo "== $$f"; tail -n 15 "$$f"; done; \
		exit 1; \
	fi
	@echo "Demeu is up: http://127.0.0.1:$(GATEWAY_PORT)  (API docs: http://127.0.0.1:$(GATEWAY_PORT)/docs)"

# Harmless when nothing runs. `stop all` first because it signals every process at once,
# whereas `shutdown` alone stops the groups one after another. Then waits for supervisord
# to exit, i.e. for every service to finish its in-flight work (stopwaitsecs).
down:
	@pidfile="$(DEMEU_VAR_DIR)/supervisord.pid"; \
	if ! $(SUPERVISORCTL) pid >/dev/null 2>&1; then echo "not running"; exit 0; fi; \
	pid=$$(cat "$$pidfile" 2>/dev/null || true); \
	$(SUPERVISORCTL) stop all >/dev/null || true; \
	$(SUPERVISORCTL) shutdown; \
	for i in $$(seq 120); do \
		if [ -z "$$pid" ] || ! kill -0 "$$pid" 2>/dev/null; then echo "stopped"; exit 0; fi; \
		sleep 0.5; \
	done; \
	echo "supervisord (pid $$pid) did not exit within 60 s" >&2; exit 1

# Restart every program, e.g. after changing code.
restart: install
	$(SUPERVISORCTL) restart all

status:
	@$(SUPERVISORCTL) status || true

logs:
	tail -n 50 -F "$(DEMEU_VAR_DIR)"/log/*.log

check-name:
	@if [ -z "$(filter $(name),$(PROGRAMS))" ] || [ "$(words $(name))" != 1 ]; then \
		echo "unknown service '$(name)': use name=S with S one of: $(PROGRAMS)" >&2; exit 2; fi

stop-service: check-name
	$(SUPERVISORCTL) stop '$(name):*'

start-service: check-name
	$(SUPERVISORCTL) start '$(name):*'

# The chosen count is kept in $(SCALE_DIR)/scale-<S>.conf, which deploy/supervisord.conf
# includes and which overrides that program's numprocs; so a later `make up` keeps it.
# Supervisor applies a new numprocs by restarting the program's processes (a few seconds;
# queued messages wait in RabbitMQ meanwhile). The gateway may be scaled too: eventlet
# binds with SO_REUSEPORT, so the kernel spreads connections over the instances.
scale: check-name
	@if ! [[ "$(n)" =~ ^[0-9]+$$ ]] || [ "$(n)" -lt 1 ] || [ "$(n)" -gt 32 ]; then \
		echo "n must be a whole number from 1 to 32 (got '$(n)'); to stop a service use make stop-service" >&2; exit 2; fi
	mkdir -p "$(SCALE_DIR)"
	printf '# written by make scale\n[program:%s]\nnumprocs=%s\n' '$(name)' '$(n)' > "$(SCALE_DIR)/scale-$(name).conf"
	@if $(SUPERVISORCTL) pid >/dev/null 2>&1; then \
		$(SUPERVISORCTL) update '$(name)'; \
		$(SUPERVISORCTL) status '$(name):*' || true; \
	else \
		echo "$(name) will run $(n) instance(s) from the next make up"; \
	fi

# ---------------------------------------------------------------------------- test

# pytest runs with the caller's environment: settings this Makefile merely defaulted are
# removed, and so is MAKEFLAGS, lest an end-to-end test's own `make up` inherit them.
TEST_ENV = env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u DEMEU_SUPERVISOR_SOCK \
	$(foreach v,$(DEMEU_ENV_VARS),$(if $(filter file,$(origin $(v))),-u $(v)))

test: install
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

test-sqlite: install
	$(TEST_ENV) DEMEU_TEST_DATABASE=sqlite $(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python deploy/bench.py

reconcile: install
	$(BIN)/python -m payments.reconcile

clean: down
	@case "$(DEMEU_VAR_DIR)" in ""|"/"|"$(HOME)"|"$(CURDIR)") echo "refusing to remove '$(DEMEU_VAR_DIR)'" >&2; exit 2;; esac
	rm -rf "$(DEMEU_VAR_DIR)"
