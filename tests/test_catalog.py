"""Shipped scenarios by name (sim.catalog): resolution, `airpicture scenarios`, copies, the format doc."""
import tomllib

import pytest

from conftest import ROOT, SCENARIOS, read_summary
from sim.catalog import resolve_scenario, shipped_scenarios
from sim.scenario import ScenarioError


def test_shipped_scenarios_are_the_scenario_files_with_their_titles():
    files = sorted(SCENARIOS.glob("*.toml"))
    shipped = shipped_scenarios()
    assert [s.name for s in shipped] == [p.stem for p in files]
    for s, p in zip(shipped, files):
        with open(p, "rb") as fh:
            assert s.title == tomllib.load(fh)["scenario"]["title"]
        assert s.path.read_bytes() == p.read_bytes()


def test_a_name_resolves_from_any_folder_and_an_existing_path_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expected = (SCENARIOS / "iraq_2012_baseline.toml").read_bytes()
    for arg in ("iraq_2012_baseline", "iraq_2012_baseline.toml"):
        assert resolve_scenario(arg).read_bytes() == expected, arg
    mine = tmp_path / "iraq_2012_baseline.toml"
    mine.write_text("[scenario]\n", encoding="utf-8")
    assert resolve_scenario("iraq_2012_baseline.toml") == mine.relative_to(tmp_path)   # the file here wins
    assert resolve_scenario("iraq_2012_baseline").read_bytes() == expected             # no file of that name
    with pytest.raises(ScenarioError, match=r"^nope/iraq_2012_low_level.toml: no such file; the shipped "
                                            r"scenario of that name is 'iraq_2012_low_level'"):
        resolve_scenario("nope/iraq_2012_low_level.toml")


def test_an_unknown_name_exits_2_with_one_line_naming_the_closest(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in ("run", "validate", "compare", "sensitivity", "sweep"):
        extra = ("--key", "run.seed", "--values", "1") if command == "sweep" else ()
        code, out, err = run_cli(command, "iraq_2012_baselin", *extra)
        assert code == 2 and out == "", command
        assert err.count("\n") == 1 and err.startswith("airpicture: error: iraq_2012_baselin: no such file"), err
        assert "closest shipped names: iraq_2012_baseline" in err, err


def test_a_run_by_name_equals_the_run_by_file(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    small = ("--campaigns", 3, "--flights", 4, "--set", "detection.terrain=false", "-q")
    code, _, err = run_cli("run", "iraq_2012_transponder_off", "--out", tmp_path / "by-name", *small)
    assert code == 0, err
    code, _, err = run_cli("run", SCENARIOS / "iraq_2012_transponder_off.toml", "--out", tmp_path / "by-file", *small)
    assert code == 0, err
    for name in ("summary.json", "flights.csv", "routes.geojson"):
        assert (tmp_path / "by-name" / name).read_bytes() == (tmp_path / "by-file" / name).read_bytes(), name
    assert read_summary(tmp_path / "by-name")["flights_total"] == 12


def test_scenarios_command_lists_copies_and_prints_the_docs(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli("scenarios")
    assert code == 0
    listed = [line.split(None, 1) for line in out.splitlines()[:-1]]
    assert listed == [[s.name, s.title] for s in shipped_scenarios()]

    source = (SCENARIOS / "iraq_2012_low_level.toml").read_bytes()
    code, out, err = run_cli("scenarios", "--copy", "iraq_2012_low_level")
    assert code == 0, err
    assert (tmp_path / "iraq_2012_low_level.toml").read_bytes() == source
    (tmp_path / "edits").mkdir()
    code, _, err = run_cli("scenarios", "--copy", "iraq_2012_low_level.toml", "edits")
    assert code == 0 and (tmp_path / "edits" / "iraq_2012_low_level.toml").read_bytes() == source, err
    (tmp_path / "mine.toml").write_text("# mine\n", encoding="utf-8")
    code, _, err = run_cli("scenarios", "--copy", "iraq_2012_low_level", "mine.toml")    # never overwrites
    assert code == 2 and "mine.toml: exists already" in err and err.count("\n") == 1
    assert (tmp_path / "mine.toml").read_text(encoding="utf-8") == "# mine\n"
    code, _, err = run_cli("scenarios", "--copy", "nope")
    assert code == 2 and "nope: no such file" in err

    code, out, _ = run_cli("scenarios", "--format")
    assert code == 0 and out == (ROOT / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    code, out, _ = run_cli("scenarios", "--sources")
    assert code == 0 and out == (SCENARIOS / "README.md").read_text(encoding="utf-8")
