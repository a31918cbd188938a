# airpicture: the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo brief test lint docs bench readme-bench readme-map readme-results architecture clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

DOCS_STAMP := $(VENV)/.installed-docs

$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $(DOCS_STAMP)

## Run the default scenario: headline on stdout, files in out/iraq-2012-baseline/
demo: $(STAMP)
	$(BIN)/airpicture run iraq_2012_baseline --out out/iraq-2012-baseline

## Briefing products for the default scenario into brief/
brief: $(STAMP)
	$(BIN)/airpicture brief iraq_2012_baseline --out brief/

## The test suite on 2 workers (under 3 minutes on 2 cores); CI (.ci/run) also runs the tests marked slow
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

## The linter (ruff: pyflakes and bugbear) and the type checker (mypy on sim/ and geo/), as CI runs them
lint: $(STAMP)
	$(BIN)/ruff check sim geo tests benchmarks
	$(BIN)/mypy

## The documentation site into build/docs/ (open build/docs/index.html), offline, warnings as errors; every
## example of docs/examples/ runs afresh (a failing one fails the build)
docs: $(DOCS_STAMP)
	rm -rf build/docs build/docs-doctrees docs/gallery docs/_generated
	$(BIN)/python -m sphinx -b html -E -W --keep-going -d build/docs-doctrees docs build/docs

## Benchmarks (separate from the tests): print what they measure
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_whatif.py
	$(BIN)/python benchmarks/bench_api.py
	$(BIN)/python benchmarks/bench_evade.py
	$(BIN)/python benchmarks/bench_place.py
	$(BIN)/python benchmarks/bench_infer.py

## Put the tables of benchmarks/results.json (make bench) into docs/performance.md, between its bench markers
readme-bench: $(STAMP)
	$(BIN)/python benchmarks/readme_tables.py --write

## Regenerate the map shown in the README
readme-map: $(STAMP)
	SOURCE_DATE_EPOCH=1330560000 $(BIN)/airpicture brief scenarios/iraq_2012_baseline.toml --out build/readme-brief --quiet
	cp build/readme-brief/map.png docs/map.png

## Regenerate the README's results table (between its results markers) from `airpicture compare`
readme-results: $(STAMP)
	mkdir -p build
	$(BIN)/airpicture compare scenarios/*.toml --markdown > build/results.md
	$(BIN)/python -c "import pathlib, re; p = pathlib.Path('README.md'); t = pathlib.Path('build/results.md').read_text(); p.write_text(re.sub(r'(<!-- results:start -->\n).*?(<!-- results:end -->)', lambda m: m.group(1) + t + m.group(2), p.read_text(), flags=re.S))"

## Regenerate docs/architecture.md (the import graph by layer)
architecture: $(STAMP)
	$(BIN)/python tests/test_layers.py > docs/architecture.md

clean:
	rm -rf $(VENV) out brief build .pytest_cache
