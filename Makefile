# Two commands on a fresh machine: `make run` (the service with demo data) and `make test` (every test).
# Every target creates the virtualenv and installs the pinned requirements first if needed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ADDR ?= 127.0.0.1:8000
# Extra pytest arguments for `make test`, e.g. make test ARGS="-k marker -x"
ARGS ?=
# Arguments of seed_demo for `make run` (first start) and `make demo`, e.g. DEMO_ARGS="--items 100000"
DEMO_ARGS ?=
# Re-installs when a requirements file changes, not on every run.
STAMP := $(VENV)/.requirements-installed

.PHONY: run test install migrate demo lint clean

run: migrate
	@$(MAKE) --no-print-directory seed-if-empty
	$(PY) manage.py runserver $(ADDR)

test: $(STAMP)
	scripts/test $(ARGS)

install:
	@rm -f $(STAMP)
	@$(MAKE) --no-print-directory $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --clear $(DEMO_ARGS)

# The performance benchmark (bench/run.py): its own PostgreSQL under bench/data/, the dataset built once.
# Extra arguments, e.g. make bench BENCH_ARGS="--quick"
BENCH_ARGS ?=
.PHONY: bench bench-quick profile
bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

# Issue 14's table alone, in a few minutes: 40,000 items, ours beside the json_agg floor (= bench/run.py --quick).
bench-quick: $(STAMP)
	$(PY) bench/run.py --quick $(BENCH_ARGS)

# Where a request's time goes: cProfile of a limit=10 list, a count and a detail, in-process.
PROFILE_ARGS ?=
profile: $(STAMP)
	$(PY) bench/profile_requests.py $(PROFILE_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Everything `make run` recreates: the virtualenv, the local SQLite database, caches, collected static files.
clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

$(PY):
	$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): install python3.11 and python3-venv (see README)"; exit 1; }

$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# Seeds only a database without items, so that `make run` keeps what an earlier run or import left.
.PHONY: seed-if-empty
seed-if-empty:
	@if ! $(PY) manage.py help seed_demo >/dev/null 2>&1; then \
		echo "NOTE: the seed_demo command is not available yet; starting with no demo data."; exit 0; \
	fi; \
	has_items=$$($(PY) manage.py shell -v 0 -c \
		'from backups.models import CheckpointItem; print(CheckpointItem.objects.exists())') || exit 1; \
	if [ "$$has_items" = False ]; then \
		$(PY) manage.py seed_demo $(DEMO_ARGS); \
	else \
		echo "The database already has items: not seeding (make demo re-seeds and prints the demo logins)."; \
	fi
