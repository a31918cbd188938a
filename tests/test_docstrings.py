"""The docstring examples of every module of ``geo`` and ``sim`` run and pass.

One test per module: the module is imported by name and
``doctest.testmod(module, optionflags=ELLIPSIS | NORMALIZE_WHITESPACE)`` runs
with the repository root as the working directory, so examples may name
``scenarios/...``. A module whose import needs a missing optional extra
(:data:`OPTIONAL_EXTRAS`) is skipped; any other import error fails.
"""
import json
import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "sim")
OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

#: Top-level distributions of the optional extras (pyproject ``[project.optional-dependencies]``):
#: a module whose import fails only for want of one of these is skipped, not failed.
OPTIONAL_EXTRAS = frozenset({"dask", "distributed", "starlette", "uvicorn"})


def module_names(root=ROOT, packages=PACKAGES):
    """Dotted names of every ``*.py`` under the packages, ``__main__`` modules left out.

    (Importing a ``__main__`` module would run the program.)
    """
    names = []
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__main__":
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join(parts))
    return sorted(names)


MODULES = module_names()


def import_or_skip(name):
    """Import a module by name; skip (importorskip-style) only for a missing optional extra."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        missing = (e.name or "").split(".")[0]
        if missing in OPTIONAL_EXTRAS:
            pytest.skip(f"{name} needs the optional extra {missing!r}, which is not installed")
        raise


def _examples(module):
    """The doctest examples of a module: (all, those not marked +SKIP)."""
    finder = doctest.DocTestFinder()
    tests = finder.find(module, module.__name__)
    examples = [ex for t in tests for ex in t.examples]
    runnable = [ex for ex in examples if not ex.options.get(doctest.SKIP, False)]
    return examples, runnable


def test_there_are_modules():
    assert {"geo.terrain", "sim.radar"} <= set(MODULES), MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, monkeypatch):
    module = import_or_skip(name)
    monkeypatch.chdir(ROOT)
    result = doctest.testmod(module, optionflags=OPTIONFLAGS, verbose=False, report=True)
    assert result.failed == 0, (
        f"{name}: {result.failed} of {result.attempted} docstring examples failed (see captured stdout)"
    )


def test_docstring_examples_exist():
    # Not vacuous: across all modules there are examples that actually run (not +SKIP).
    total, runnable, per_module = 0, 0, {}
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - its own test_docstring_examples[name] reports it
            continue
        examples, run = _examples(module)
        total += len(examples)
        runnable += len(run)
        if examples:
            per_module[name] = (len(run), len(examples))
    print("docstring examples (runnable, total) per module:", per_module)
    assert runnable > 0, f"no runnable docstring examples in {MODULES} ({total} in all, every one +SKIP)"


def test_performance_page_tables_are_what_make_bench_measured():
    # every number of the performance tables (docs/performance.md) is one benchmarks/results.json holds
    # (make bench; make readme-bench renders them there)
    import importlib.util
    from conftest import ROOT
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "benchmarks" / "readme_tables.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    page = (ROOT / "docs" / "performance.md").read_text()
    start, end = mod.MARKERS
    held = page[page.index(start) + len(start):page.index(end)]
    assert held == mod.render(json.loads((ROOT / "benchmarks" / "results.json").read_text()))
