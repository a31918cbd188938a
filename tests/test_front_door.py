"""A newcomer's way in: the Python front door fast by default, overrides as --set takes them, the README's
quick start and examples as written, messages that name a shipped scenario as the user does."""
import ast
import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, SCENARIOS
from sim.api import load, run, session_cache
from sim.montecarlo import prepare
from sim.prepcache import PrepCache, default_cache, default_cache_dir
from sim.scenario import SUGGESTIONS_MAX, ScenarioError, override_text, shipped_dir

FAST = {"detection.terrain": False}


def _computed(cache):
    return sum(cache.stats["computed"].values())


# --- one way in, fast by default ---------------------------------------------------------------------------
def test_run_keeps_its_parts_in_the_command_lines_cache_and_a_second_what_if_prepares_nothing():
    cache = session_cache()
    assert cache is session_cache() and cache.folder == default_cache_dir()   # the command line's folder
    # a cruise altitude no other test flies: its routes and tables are prepared afresh here
    own = {**FAST, "aircraft.cruise_altitude_m": 7321}
    before = _computed(cache)
    first = run(SCENARIOS / "iraq_2012_baseline.toml", own, campaigns=5)
    assert _computed(cache) > before
    after_first = _computed(cache)
    second = run(SCENARIOS / "iraq_2012_baseline.toml", {**own, "aircraft.transponder_on_probability": 0.5},
                 campaigns=5)
    assert _computed(cache) == after_first            # a draws-only what-if prepares nothing
    assert second.p_detect != first.p_detect or second.summary != first.summary
    # the parts are on the command line's disk cache: a fresh command's cache (sim.prepcache.default_cache,
    # as airpicture builds it) finds every one of them there and computes none
    command = default_cache()
    prepare(load(SCENARIOS / "iraq_2012_baseline.toml", [override_text(k, v) for k, v in own.items()]), cache=command)
    assert _computed(command) == 0 and sum(command.stats["disk"].values()) > 0


@pytest.mark.slow
def test_cache_false_prepares_afresh_and_gives_the_same_numbers():
    own = {**FAST, "aircraft.cruise_altitude_m": 6987}
    cache = session_cache()
    before = dict(cache.stats["computed"]), dict(cache.stats["memory"]), dict(cache.stats["disk"])
    alone = run(SCENARIOS / "iraq_2012_baseline.toml", own, campaigns=4, cache=False)
    assert (dict(cache.stats["computed"]), dict(cache.stats["memory"]), dict(cache.stats["disk"])) == before
    mine = PrepCache()
    assert run(SCENARIOS / "iraq_2012_baseline.toml", own, campaigns=4, cache=mine).summary == alone.summary
    assert _computed(mine) > 0
    assert run(SCENARIOS / "iraq_2012_baseline.toml", own, campaigns=4).summary == alone.summary
    assert run(SCENARIOS / "iraq_2012_baseline.toml", own, campaigns=4, cache=None).summary == alone.summary


def test_overrides_as_a_list_of_set_texts_are_the_dict():
    as_dict = run("iraq_2012_baseline", {**FAST, "radar[Kirkuk PSR].availability": 0.5}, campaigns=4, flights=3)
    as_list = run("iraq_2012_baseline", ["detection.terrain=false", "radar[Kirkuk PSR].availability=0.5"],
                  campaigns=4, flights=3)
    assert as_list.summary == as_dict.summary and as_list.overrides == as_dict.overrides
    # one validation path: a bad text is refused with load()'s message
    with pytest.raises(ScenarioError) as by_load:
        load("iraq_2012_baseline", ["aircraft.transponder_on_probability=2"])
    with pytest.raises(ScenarioError) as by_run:
        run("iraq_2012_baseline", ["aircraft.transponder_on_probability=2"])
    assert str(by_run.value) == str(by_load.value)
    # the same for a Scenario given with texts, and for evade's and place's overrides (the same reader)
    sc = load("iraq_2012_baseline", ["detection.terrain=false"])
    assert run(sc, ["radar[Kirkuk PSR].availability=0.5"], campaigns=4, flights=3).summary == as_dict.summary
    with pytest.raises(TypeError, match="a list of 'KEY=VALUE' texts"):
        run("iraq_2012_baseline", "detection.terrain=false")          # a bare text: put it in a list
    with pytest.raises(TypeError, match="a list of 'KEY=VALUE' texts"):
        run("iraq_2012_baseline", [("detection.terrain", False)])


def _readme_blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)


def _rebound(code):
    """Names a block of Python binds other than by ``import a.b`` (which binds the package ``a`` itself):
    assignments, loop and ``with`` targets, definitions, ``from ... import`` names and aliases."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            names |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.asname for a in node.names if a.asname}
    return names


def test_readme_and_docs_python_never_rebinds_the_sim_package():
    # `sim, result = simulate(...)` hid the package: a later `sim.prepcache...` then read the Simulation
    blocks = [("README.md", code) for code in _readme_blocks("python")]
    assert len(blocks) >= 1
    for page in sorted((ROOT / "docs").glob("*.md")):
        blocks += [(page.name, code) for code in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"),
                                                          flags=re.S)]
    blocks += [(p.name, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "docs" / "examples").glob("*.py"))]
    bad = [where for where, code in blocks if "sim" in _rebound(code)]
    assert not bad, f"these bind the name sim, hiding the package: {bad}"


def test_the_checker_sees_the_package_rebound():
    assert "sim" in _rebound("from sim.api import simulate\nsim, result = simulate(1)\n")
    assert "sim" in _rebound("def f():\n    for sim in range(3):\n        pass\n")
    assert "sim" not in _rebound("import sim.prepcache\nfrom sim.api import run\nr = run('x')\n")


# --- the quick start, as written -------------------------------------------------------------------------------
def test_readme_quick_start_puts_airpicture_on_path_after_make_demo():
    # the README's block after `make demo`, run by bash as written, from a PATH without the venv on it
    block = next(b for b in _readme_blocks("sh") if "source .venv/bin/activate" in b)
    venv = ROOT / ".venv"
    if not (venv / "bin" / "activate").is_file() or not (venv / "bin" / "airpicture").is_file():
        pytest.skip("no .venv made by `make demo` / `make install` here")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and not p.startswith(str(venv)))
    before = shutil.which("airpicture", path=env["PATH"])
    assert before is None or not before.startswith(str(venv))
    proc = subprocess.run(["bash", "-e", "-c", block + "command -v airpicture\n"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "iraq_2012_baseline" in proc.stdout
    assert proc.stdout.splitlines()[-1] == str(venv / "bin" / "airpicture")      # the venv's, on PATH
    # and the other way the README gives: the command by its path
    by_path = subprocess.run([str(venv / "bin" / "airpicture"), "--version"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert by_path.returncode == 0 and by_path.stdout.strip()


# --- messages in a user's words ----------------------------------------------------------------------------
def test_a_shipped_scenario_is_named_by_its_file_in_the_package_not_where_it_is_installed(run_cli, tmp_path):
    code, _, err = run_cli("validate", "iraq_2012_baseline", "--set", "aircraft.cruise_altitude_mm=3000")
    assert code == 2
    assert err.startswith("airpicture: error: scenarios/iraq_2012_baseline.toml: aircraft.cruise_altitude_mm: "
                          "unknown key (did you mean "), err
    assert str(shipped_dir()) not in err
    with pytest.raises(ScenarioError) as e:
        load("iraq_2012_baseline", ["aircraft.transponder_on_probability=2"])
    assert str(e.value) == "scenarios/iraq_2012_baseline.toml: aircraft.transponder_on_probability: must be <= 1"
    # a file of the user's is named as given
    path = tmp_path / "mine.toml"
    path.write_text((SCENARIOS / "iraq_2012_baseline.toml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"^{re.escape(str(path))}: aircraft.transponder_on_probability"):
        load(path, ["aircraft.transponder_on_probability=2"])


def test_the_page_names_a_shipped_scenario_as_the_command_line_does(tmp_path):
    pytest.importorskip("starlette")
    from sim.serve.planner import PageError, Planner
    planner = Planner(tmp_path / "page")
    with pytest.raises(PageError) as e:
        planner.what_if(planner.base("iraq_2012_baseline"), [["aircraft.cruise_altitude_mm", "3000"]])
    message = str(e.value)
    assert message.startswith("scenarios/iraq_2012_baseline.toml: aircraft.cruise_altitude_mm: unknown key"), message
    assert str(shipped_dir()) not in message


@pytest.mark.parametrize("key", ["aircraft.cruise_altitude_mm", "aircraft.cruise_altitud_m", "aircraft.range_x",
                                 "radar[Kirkuk PSR].range_kmm", "aircraft.climb_sped_kmh", "detection.trak_m"])
def test_did_you_mean_names_at_most_three_spellings(key):
    with pytest.raises(ScenarioError) as e:
        load("iraq_2012_baseline", [f"{key}=3"])
    hint = re.search(r"\(did you mean (.*)\?\)$", str(e.value))
    assert hint, str(e.value)
    named = hint.group(1).split(" or ")
    assert 1 <= len(named) <= SUGGESTIONS_MAX == 3, named
    leaf = key.rsplit(".", 1)[1]
    # the closest first: the key meant (one letter off) leads
    meant = {"cruise_altitude_mm": "cruise_altitude_m", "cruise_altitud_m": "cruise_altitude_m",
             "range_x": None, "range_kmm": "range_km", "climb_sped_kmh": "climb_speed_kmh", "trak_m": "track_m"}
    if meant[leaf]:
        assert named[0] == meant[leaf], named
    else:
        assert all(n.startswith("range_") for n in named), named
