# Charla. `make run` starts the local stack; `make test` runs everything CI runs.
# Both install what they need on a fresh Debian machine (venv, npm packages, Chromium as root).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
CHROMIUM := /usr/bin/chromium
STAGE ?= dev

.PHONY: run test check lint typecheck unit js assets package bench soak screenshots clean deploy status destroy create-admin template

run: $(VENV_STAMP) assets
	$(PY) -m infra.local $(if $(FRESH),--fresh)

# pytest-xdist: one worker per core (TEST_WORKERS=0 runs in one process). --dist loadfile keeps each
# file on one worker, so a module's local stack and browser start once and its tests keep their order.
TEST_WORKERS ?= auto
PYTEST := $(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadfile

# The REST fuzz (marker `fuzz`) counts, in its last test, the requests its generated tests made in the
# same process; under xdist that count came out at 10 of 5,000, so it runs in one process after the rest.
test: $(VENV_STAMP) assets $(CHROMIUM) lint typecheck js
	$(PYTEST) -m "not fuzz"
	$(VENV)/bin/pytest -q -p no:xdist -m fuzz

check: $(VENV_STAMP) lint typecheck js unit

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck: $(VENV_STAMP)
	$(VENV)/bin/mypy

# Specs of the pure JavaScript modules (node's own test runner).
js: $(NPM_STAMP)
	node --test --test-reporter=dot tests/js/

# The fast tests: no local stack, no browser, no packaging.
unit: $(VENV_STAMP)
	$(PYTEST) -m "not stack and not browser and not slow"

assets: $(NPM_STAMP)
	npm run --silent build

package: $(VENV_STAMP)
	rm -rf build
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(VENV)/bin/chalice package --stage $(STAGE) build/

bench: $(VENV_STAMP) assets $(CHROMIUM)
	$(PY) -m tests.bench

# Not part of make test: 100 chats and 10 agents on the local stack for 60 s with random drops; then
# 30 chats for 30 s in fault mode (infra/local/faults.py): conflicts at 10%, throttling and failed posts.
SOAK_FAULTS := ddb_conflict=0.1,ddb_throttle=0.05,post_429=0.05,post_500=0.05,ses_throttle=0.05
soak: $(VENV_STAMP) assets
	$(PY) -m tests.soak
	$(PY) -m tests.soak --chats 30 --agents 5 --seconds 30 --faults "$(SOAK_FAULTS)"

# The README's pictures: a scripted scenario (visitors, a queue, a transfer, a ticket) on a fresh local
# stack, photographed in Chromium at desktop, tablet and phone sizes into docs/screenshots/.
screenshots: $(VENV_STAMP) assets $(CHROMIUM)
	$(PY) -m tests.screenshots

clean:
	rm -rf build .local widget/dist agent-ui/dist

# Deploying to AWS (docs/operations.md): make deploy STAGE=prod ADMIN_EMAIL=you@example.com
deploy: $(VENV_STAMP) assets
	$(PY) -m infra.aws deploy --stage $(STAGE) $(if $(ADMIN_EMAIL),--admin-email $(ADMIN_EMAIL)) $(foreach p,$(PARAMS),--param $(p))

status: $(VENV_STAMP)
	$(PY) -m infra.aws status --stage $(STAGE)

destroy: $(VENV_STAMP)
	$(PY) -m infra.aws destroy --stage $(STAGE) $(if $(DELETE_DATA),--delete-data)

create-admin: $(VENV_STAMP)
	$(PY) -m infra.aws create-admin --stage $(STAGE) --email $(ADMIN_EMAIL)

# Builds and lints the CloudFormation template without an AWS account.
template: $(VENV_STAMP)
	$(PY) -m infra.aws template --stage $(STAGE)

$(VENV_STAMP): requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Playwright's own browser download does not work here; the tests drive Debian's Chromium.
$(CHROMIUM):
	@if [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "The browser tests need Debian's Chromium. Install it with: sudo apt-get install chromium" >&2; \
		exit 1; \
	fi
