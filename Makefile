# Two entry points: `make book` (execute the notebooks, build the HTML report) and `make test`.
# Both create .venv and install everything first, so they work on a fresh Debian machine with Python 3.11.
PYTHON ?= python3
PROFILE ?= cpu
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup book test bench clean

$(STAMP): requirements.txt pyproject.toml scripts/system-deps.sh
	./scripts/system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

book: setup
	$(BIN)/python -m ticketkit book --profile $(PROFILE)

test: setup
	$(BIN)/python -m pytest -q -ra

bench: setup
	$(BIN)/python bench/masked_training.py
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/scoring_cost.py
	$(BIN)/python bench/precision.py
	$(BIN)/python bench/eval_batch.py

clean:
	rm -rf _build book/generated
