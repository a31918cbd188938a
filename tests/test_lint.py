"""`make lint` passes on the tree: ruff (pyflakes and bugbear, pyproject.toml's [tool.ruff]) on the packages,
the tests and the benchmarks, and mypy on sim/ and geo/ ([tool.mypy]), as .ci/run runs them."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent


def _tool(name):
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (the test extra has it: pip install -e '.[test]')")
    return path


def test_ruff_finds_nothing():
    proc = subprocess.run([_tool("ruff"), "check", "sim", "geo", "tests", "benchmarks"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_ruff_would_find_a_closure_over_a_loop_variable(tmp_path):
    # the rules are on: bugbear's B023 (the closures the issue counted) and pyflakes' unused import
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\nfs = []\nfor i in range(3):\n    fs.append(lambda: i)\n", encoding="utf-8")
    proc = subprocess.run([_tool("ruff"), "check", "--config", str(ROOT / "pyproject.toml"), str(bad)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "B023" in proc.stdout and "F401" in proc.stdout, proc.stdout


@pytest.mark.slow
def test_mypy_finds_nothing():
    proc = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
