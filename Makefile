# Mon Compte — every routine is a make target. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The address `make run` listens on: this machine only. With DEBUG on, the outbox page shows every code sent and the
# debug pages show settings: set HOST=0.0.0.0 (and ALLOWED_HOSTS, SITE_URL) only on a network you trust.
HOST ?= 127.0.0.1
WORKERS ?= 2
# The local FranceConnect stand-in `make run` starts (scripts/franceconnect/provider.mjs), unless FRANCECONNECT_ISSUER
# names a real provider.
FRANCECONNECT_PORT ?= 9311
# The partner simulator `make run` starts (scripts/partners/simulator.py: DGFiP, France Travail, Insee, Caf), for
# every partner whose PARTNER_*_URL is not set.
PARTNERS_PORT ?= 9321
export VAR_DIR ?= $(CURDIR)/var

.PHONY: run test test-fast test-browser lint format messages bench drill call demo-data install browser system-packages worker clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## npm packages, pinned with their checksums: the INSEE places data read at run time (moncompte/identity/places.py)
## and axe-core for the browser tests. Without npm, `make run` still serves (birth places then show as codes).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the INSEE place names and the axe-core checks need it (make system-packages installs it)"; fi

install: $(VENV)/.installed node_modules/.installed

## Serve the app on the embedded defaults (SQLite, local outbox, demo data) at http://$(HOST):$(PORT)/
run: export DEBUG ?= true
run: export SITE_URL ?= http://$(HOST):$(PORT)
# « Parler à un conseiller » on the voice server transfers to this number, one the ARCEP reserves for fiction
run: export PHONE_AGENT_NUMBER ?= +33199000000
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py generate_demo_data --import
	$(BIN)/python manage.py partners_dataset $(VAR_DIR)/partners.json
	$(BIN)/python manage.py demo_agents
	@if [ -z "$$FRANCECONNECT_ISSUER" ] && command -v node >/dev/null && [ -d node_modules/oidc-provider ]; then \
	  test -s $(VAR_DIR)/franceconnect-dev-secret || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(32))" > $(VAR_DIR)/franceconnect-dev-secret; \
	  export FRANCECONNECT_ISSUER=http://127.0.0.1:$(FRANCECONNECT_PORT) FRANCECONNECT_CLIENT_ID=moncompte-dev \
	    FRANCECONNECT_CLIENT_SECRET=$$(cat $(VAR_DIR)/franceconnect-dev-secret); \
	  $(BIN)/python manage.py franceconnect_standin $(VAR_DIR)/franceconnect-standin.json --port $(FRANCECONNECT_PORT) || exit 1; \
	  node scripts/franceconnect/provider.mjs $(VAR_DIR)/franceconnect-standin.json & standin=$$!; \
	  trap 'kill $$standin 2>/dev/null' EXIT INT TERM; \
	elif [ -z "$$FRANCECONNECT_ISSUER" ]; then echo "No Node or npm packages: no local FranceConnect (no button)"; fi; \
	if [ -z "$$PARTNER_DGFIP_URL" ] || [ -z "$$PARTNER_FRANCE_TRAVAIL_URL" ] || [ -z "$$PARTNER_REGISTRY_URL" ] || \
	  [ -z "$$PARTNER_CASE_SYSTEM_URL" ]; then \
	  $(BIN)/python scripts/partners/simulator.py $(VAR_DIR)/partners.json --port $(PARTNERS_PORT) & simulator=$$!; \
	  partners=http://127.0.0.1:$(PARTNERS_PORT); \
	  export PARTNER_DGFIP_URL=$${PARTNER_DGFIP_URL:-$$partners/dgfip} \
	    PARTNER_FRANCE_TRAVAIL_URL=$${PARTNER_FRANCE_TRAVAIL_URL:-$$partners/france-travail} \
	    PARTNER_REGISTRY_URL=$${PARTNER_REGISTRY_URL:-$$partners/insee} \
	    PARTNER_CASE_SYSTEM_URL=$${PARTNER_CASE_SYSTEM_URL:-$$partners/caf}; \
	  echo "Partner simulator: $$partners (DGFiP, France Travail, Insee, Caf)"; \
	fi; \
	trap 'kill $${standin:-} $${simulator:-} 2>/dev/null' EXIT INT TERM; \
	echo "Mon Compte: http://$(HOST):$(PORT)/  (codes sent by e-mail/SMS: http://$(HOST):$(PORT)/dev/boite-d-envoi/)"; \
	echo "Voice server: in another terminal, make call (PORT=$(PORT) if you changed it)"; \
	$(BIN)/gunicorn moncompte.wsgi -c python:moncompte.gunicorn_conf --bind $(HOST):$(PORT) --workers $(WORKERS) --access-logfile - --forwarded-allow-ips=127.0.0.1

## Install Debian's Chromium for the browser tests (Playwright cannot download its own browser here)
browser: system-packages

## Debian packages the suite needs: Chromium (browser tests), GNU gettext (the catalogue check, `make messages`), npm,
## nginx (the shared-cache proxy of tests/incidents/test_caching_proxy.py, started by the test itself)
system-packages:
	@test -x /usr/bin/chromium && command -v xgettext >/dev/null && command -v npm >/dev/null && test -x /usr/sbin/nginx || { \
	  packages="chromium gettext nginx $$(command -v npm >/dev/null || echo npm)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$packages >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$packages >/dev/null; fi; }

## The whole suite: unit, integration (HTTP) and browser tests
test: browser install
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: install
	$(BIN)/python -m pytest -m "not browser and not slow"

test-browser: browser install
	$(BIN)/python -m pytest -m browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=moncompte.settings_test $(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Update the English catalogue from the code and templates (translate what is new in the .po), then compile it;
## the .mo is committed. Needs GNU gettext (Debian's `gettext`); the virtualenv's own catalogues are left out.
messages: install system-packages
	DJANGO_SETTINGS_MODULE=moncompte.settings_test $(BIN)/python manage.py makemessages -l en --ignore=$(VENV) --ignore=var --ignore=tests --ignore=bench
	DJANGO_SETTINGS_MODULE=moncompte.settings_test $(BIN)/python manage.py compilemessages --ignore=$(VENV) --ignore=var

## Benchmarks: login throughput vs raw argon2 (P1), import hashing vs raw × cores (P3); report in bench-report.md
bench: export SITE_URL ?= http://$(HOST):$(PORT)
bench: install
	$(BIN)/python bench/run.py --report bench-report.md

## The incident of 10 October 2021 replayed on generated data, in a scratch SQLite database (DRILL_DATABASE_URL to
## use another, empty one): close, count, dry run, cancel, notify, report, reopen, with the time of each step.
DRILL_DATABASE_URL ?= sqlite:///$(VAR_DIR)/drill.sqlite3
drill: export SITE_URL ?= http://$(HOST):$(PORT)
drill: export DEBUG ?= true
drill: export DATABASE_URL = $(DRILL_DATABASE_URL)
drill: install
	mkdir -p $(VAR_DIR) && rm -f $(VAR_DIR)/drill.sqlite3 $(VAR_DIR)/drill.sqlite3-wal $(VAR_DIR)/drill.sqlite3-shm
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BIN)/python manage.py incident_drill $(DRILL_ARGS)

## Call the voice server of the site `make run` serves, as the telephony provider would: its prompts are printed, the
## keys typed are sent (CALL_ARGS="--from +33612345678"); the demo's case numbers, PINs and birth dates are in the table
## `make run` printed
call: export DEBUG ?= true
call: export SITE_URL ?= http://$(HOST):$(PORT)
call: install
	$(BIN)/python manage.py call $(CALL_ARGS)

demo-data: export SITE_URL ?= http://$(HOST):$(PORT)
demo-data: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py generate_demo_data --import

worker: export SITE_URL ?= http://$(HOST):$(PORT)
worker: install
	$(BIN)/celery -A moncompte worker --loglevel INFO

clean:
	rm -rf $(VENV) var
