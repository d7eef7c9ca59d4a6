# Everything a developer or CI runs. The virtualenv is made (or refreshed) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CLIENT := clients/typescript
CLIENT_INSTALLED := $(CLIENT)/node_modules/.installed

WEB := web
WEB_INSTALLED := $(WEB)/node_modules/.installed
# Debian's Chromium for the browser tests (Playwright's own browser download cannot work here).
CHROMIUM := command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

.PHONY: run test test-future test-pooler fuzz token migrate purge lint lock bench bench-quick bench-list bench-replicas bench-scale soak client release-contract web web-build vapid-keys

$(INSTALLED): backend/pyproject.toml backend/requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c backend/requirements.lock -e 'backend[dev,bench]'
	touch $@

## Serve on http://127.0.0.1:8000 (HOST, PORT, WEB_CONCURRENCY); embedded Postgres if DATABASE_URL is unset.
run: $(INSTALLED)
	cd backend && ../$(BIN)/python -m taskapi.cli run

$(CLIENT_INSTALLED): $(CLIENT)/package.json $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_INSTALLED): $(WEB)/package.json $(WEB)/package-lock.json $(CLIENT_INSTALLED)
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Every test, against a real Postgres (embedded unless TEST_DATABASE_URL is set): pytest, then the
## TypeScript client (fresh against the contract, type-checked), the contract lint, and the end-to-end
## test with a real Better Auth; then the reference app, built and driven in Chromium (web/tests).
test: $(INSTALLED) $(CLIENT_INSTALLED) web-build
	cd backend && ../$(BIN)/python -m pytest
	cd $(CLIENT) && npm run -s check
	$(CHROMIUM)
	cd $(WEB) && npm run -s test

## The reference app, type-checked and built for production (next build).
web-build: $(INSTALLED) $(WEB_INSTALLED)
	cd $(WEB) && npm run -s typecheck && npm run -s build

## The reference app on http://127.0.0.1:3000, with the API on :8000 (embedded Postgres, JWKS mode trusting the
## app's Better Auth): everything a fresh machine needs, started and stopped together (Ctrl-C).
web: web-build
	cd $(WEB) && node scripts/stack.mjs

## The API and fuzz tests again, with the service connecting through a real PgBouncer in transaction mode
## (what Neon's pooled endpoint is); migrations and assertions go straight to Postgres.
test-pooler: $(INSTALLED)
	command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || { apt-get update -qq && apt-get install -y -qq pgbouncer; }
	cd backend && TEST_VIA_PGBOUNCER=1 ../$(BIN)/python -m pytest tests/api tests/fuzz

## The Python suite once more with the clock 400 days ahead, for the tests and every Postgres and service they start
## (libfaketime; the monotonic clock stays true): a test that depends on the day it runs fails here.
FAKETIME_LIBRARY = $$(../$(BIN)/python -c 'import libfaketime; print(libfaketime._get_shared_lib("libfaketime.so.1"))')
test-future: $(INSTALLED)
	cd backend && TEST_REAL_EPOCH=$$(date +%s) TEST_CLUSTER_PREFIX=future FAKETIME=+400d FAKETIME_DONT_FAKE_MONOTONIC=1 \
	  LD_PRELOAD=$(FAKETIME_LIBRARY) ../$(BIN)/python -m pytest

## A new VAPID key pair for Web Push: set VAPID_PRIVATE_KEY (a secret, the same on every replica) and VAPID_SUBJECT.
vapid-keys: $(INSTALLED)
	@cd backend && ../$(BIN)/python -m taskapi.cli vapid-keys

## Release the contract: copy openapi/openapi.yaml to openapi/released/<info.version>.yaml, which the breaking-change
## check (make test) then compares every later contract with. Refuses a version released already.
release-contract:
	@version=$$(sed -n '/^info:/,/^[^ ]/s/^  version: *//p' openapi/openapi.yaml | tr -d '"'"'"'"'); \
	  test -n "$$version" || { echo "openapi/openapi.yaml has no info.version"; exit 1; }; \
	  test ! -e openapi/released/$$version.yaml || { echo "$$version is released already: raise info.version"; exit 1; }; \
	  cp openapi/openapi.yaml openapi/released/$$version.yaml && echo "released openapi/released/$$version.yaml"

## Regenerate the TypeScript client's types from openapi/openapi.yaml.
client: $(CLIENT_INSTALLED)
	cd $(CLIENT) && npm run -s generate

## Schemathesis CLI, all checks and phases (stateful included), against a live local server.
fuzz: $(INSTALLED)
	mkdir -p .data && backend/scripts/fuzz.sh

## A local-mode token: make token USER=alice
token: $(INSTALLED)
	@cd backend && ../$(BIN)/python -m taskapi.cli token --user "$(USER)"

## Apply migrations (DATABASE_URL_DIRECT, else DATABASE_URL, else the embedded database).
migrate: $(INSTALLED)
	cd backend && ../$(BIN)/python -m taskapi.cli migrate

## Sweep now: expired trash, a trash over its limit, Idempotency-Key records older than 24 hours.
## APPLY_LOWER_TRASH_LIMIT=1: a lowered MAX_TASKS_PER_USER applies to trash too, destroying recent trash beyond it.
purge: $(INSTALLED)
	cd backend && ../$(BIN)/python -m taskapi.cli purge $(if $(APPLY_LOWER_TRASH_LIMIT),--apply-lower-trash-limit)

lint: $(INSTALLED)
	cd backend && ../$(BIN)/ruff check . && ../$(BIN)/ruff format --check .

## Re-pin every dependency after changing backend/pyproject.toml.
lock: $(INSTALLED)
	{ echo '# Every package, pinned: `make` installs with `pip install -c` this file. Regenerate with `make lock`.'; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^taskapi'; } > backend/requirements.lock

## List latency at 100 and 100,000 tasks for one user, and the ratio (bench/results/list-scaling.md); then one
## request over a whole 10,000-task list: delete, restore, rebalance (bench/results/list-bulk.md).
bench-list: $(INSTALLED)
	$(BIN)/python bench/list_scaling.py

WRK := command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

## Load test (wrk) of every operation at 1/16/64/256 connections, with CPU per request, next to two reference
## stacks and pgbench: bench/results/load.{md,png}. BENCH_WORKERS (2), BENCH_SECONDS (10), BENCH_CONNECTIONS,
## BENCH_OPS tune it. Then the list with no read replica and with one (bench-replicas), and a 5,000-task
## account's calendar feed against its limits (bench/results/calendar-feed.md).
bench: $(INSTALLED)
	$(WRK)
	$(BIN)/python bench/load.py
	$(BIN)/python bench/replicas.py
	$(BIN)/python bench/calendar_feed.py

## The list of 20 with no read replica and with one streaming replica, and a read-mostly mix with it: requests a
## second, CPU per request of the service, the primary and the replica, and the reads the replica served
## (bench/results/replicas.md).
bench-replicas: $(INSTALLED)
	$(WRK)
	$(BIN)/python bench/replicas.py

## Ten minutes of mixed load with ever-new tokens and churned tasks; each worker's memory over time:
## bench/results/soak.{md,png}. SOAK_SECONDS (600), BENCH_WORKERS (2).
soak: $(INSTALLED)
	$(BIN)/python bench/soak.py

## The load of a todo app in use, every writer's stream open on another replica, at 1, 2 and 4 replicas, beside the
## same writes with no stream open and pgbench; then 5 minutes with a replica killed halfway, every write's event
## counted (bench/results/scale.{md,png}). SCALE_USERS (200), SCALE_SECONDS (20), SCALE_KILL_SECONDS (300).
bench-scale: $(INSTALLED)
	$(BIN)/python bench/scale.py

## About 30 s: list and create at 64 connections next to the minimal-Connexion reference; nothing written.
bench-quick: $(INSTALLED)
	$(WRK)
	$(BIN)/python bench/load.py --quick
