"""The command line a planner uses: help, what-ifs, sweeps, comparisons, Dask."""
import csv
import time
import tomllib

import pytest

from conftest import SCENARIOS, read_summary, straight
from sim.cli import build_parser
from sim.scenario import CAMPAIGNS_MAX, FLIGHTS_MAX, ScenarioError, parse_scenario


def test_help_is_readable(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0
    for word in ("run", "brief", "coverage", "sweep", "compare", "open-source"):
        assert word in out
    code, out, _ = run_cli("run", "--help")
    assert code == 0 and "--set KEY=VALUE" in out and "--campaigns" in out


def test_set_override_is_a_what_if_without_editing_files(write_scenario, run_cli, tmp_path):
    path = write_scenario(straight(range_km=50))
    code, _, err = run_cli("run", path, "--set", "radar[R].availability=0", "--out", tmp_path / "o", "-q")
    assert code == 0, err
    assert read_summary(tmp_path / "o")["p_detect"] == 0.0
    code, _, err = run_cli("run", path, "--set", "aircraft.cruise_altitude_m=60000", "-q")
    assert code == 2 and "aircraft.cruise_altitude_m: must be <= 20,000 m" in err


def test_sweep_altitude_monotone_for_cookie_cutter_radar(write_scenario, run_cli, tmp_path):
    # smooth Earth, Pd 1: a higher aircraft sees farther past the horizon; radar 1.5 deg north of
    # the route (167 km) with a 400 km instrumented range: horizon-limited at low altitude
    path = write_scenario(straight(range_km=400, radar_lat=34.5, campaigns=30, flights=5))
    code, out, err = run_cli("sweep", path, "--key", "aircraft.cruise_altitude_m", "--values",
                             "300,1000,2000,5000", "--out", tmp_path / "s")
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "s" / "sweep.csv").read_text(encoding="utf-8").splitlines()))
    p = [float(r["p_detect"]) for r in rows]
    assert p == sorted(p) and p[0] == 0.0 and p[-1] == 1.0
    code, _, err = run_cli("sweep", path, "--key", "aircraft.cruise_altitude_m", "--values", "300,-5", "-q")
    assert code == 2 and "must be > 0" in err


def test_compare_prints_one_row_per_scenario(run_cli, tmp_path):
    code, out, err = run_cli("compare", SCENARIOS / "iraq_2012_baseline.toml",
                             SCENARIOS / "iraq_2012_transponder_off.toml", "--campaigns", 10, "--out", tmp_path / "c")
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "c" / "compare.csv").read_text(encoding="utf-8").splitlines()))
    assert [r["scenario"] for r in rows] == ["iraq-2012-baseline", "iraq-2012-transponder-off"]
    # transponders off can only lose the secondary radars' detections
    assert float(rows[1]["p_detect"]) <= float(rows[0]["p_detect"])


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_files(run_cli, tmp_path):
    pytest.importorskip("distributed")
    sc = SCENARIOS / "iraq_2012_transponder_off.toml"
    code, _, err = run_cli("run", sc, "--campaigns", 12, "--chunk", 3, "--dask", "local", "--out", tmp_path / "d", "-q")
    assert code == 0, err
    code, _, err = run_cli("run", sc, "--campaigns", 12, "--out", tmp_path / "l", "-q")
    assert code == 0, err
    for name in ("summary.json", "flights.csv"):
        assert (tmp_path / "d" / name).read_bytes() == (tmp_path / "l" / name).read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_worker_processes_give_identical_files(run_cli, tmp_path, fmt):
    # --workers N: chunks on N processes of this machine, results in campaign order: the same files as in
    # this process (Parquet: the same rows, written by the workers themselves)
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    sc = SCENARIOS / "iraq_2012_f16_balad.toml"
    outs = {}
    for w in (1, 2):
        outs[w] = tmp_path / f"w{w}"
        code, _, err = run_cli("run", sc, "--campaigns", 12, "--chunk", 2, "--workers", w, "--flights-format", fmt,
                               "--out", outs[w], "-q")
        assert code == 0, err
    assert (outs[1] / "summary.json").read_bytes() == (outs[2] / "summary.json").read_bytes()
    if fmt == "csv":
        assert (outs[1] / "flights.csv").read_bytes() == (outs[2] / "flights.csv").read_bytes()
    else:
        import pandas as pd
        a, b = (pd.read_parquet(outs[w] / "flights.parquet").sort_values(["campaign", "flight"], ignore_index=True)
                for w in (1, 2))
        assert len(a) == 12 * 15 and a.equals(b)


def test_workers_and_dask_together_exit_2(run_cli, tmp_path):
    code, _, err = run_cli("run", SCENARIOS / "iraq_2012_baseline.toml", "--campaigns", 2, "--workers", 2,
                           "--dask", "local", "--out", tmp_path / "o")
    assert code == 2 and "--workers" in err and len(err.strip().splitlines()) == 1


def test_existing_scheduler_address_gives_identical_files(run_cli, tmp_path):
    # Dask for users who outgrow one machine: any scheduler address works as "local" does
    distributed = pytest.importorskip("distributed")
    sc = SCENARIOS / "iraq_2012_transponder_off.toml"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        code, _, err = run_cli("run", sc, "--campaigns", 12, "--chunk", 5, "--dask", cluster.scheduler_address,
                               "--out", tmp_path / "a", "-q")
    assert code == 0, err
    code, _, err = run_cli("run", sc, "--campaigns", 12, "--out", tmp_path / "l", "-q")
    assert code == 0, err
    for name in ("summary.json", "flights.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "l" / name).read_bytes()


def test_long_run_announces_flights_time_and_size(run_cli, tmp_path, monkeypatch):
    # any run above the threshold says, once the rate is measured: flights, estimated time, size
    import sim.cli
    monkeypatch.setattr(sim.cli.common, "ANNOUNCE_AFTER_S", 0.0)
    code, _, err = run_cli("run", SCENARIOS / "iraq_2012_transponder_off.toml", "--campaigns", 300, "--chunk", 20,
                           "--set", "detection.terrain=false", "--out", tmp_path / "o", "-q")
    assert code == 0
    line = [x for x in err.splitlines() if "flights, about" in x]
    assert len(line) == 1 and "4,500 flights" in line[0] and "flights/s (measured)" in line[0] and "MB" in line[0]


def test_outputs_that_cannot_fit_the_disk_are_refused_before_any_work(run_cli, tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 1000, 1000))
    code, _, err = run_cli("run", SCENARIOS / "iraq_2012_baseline.toml", "--out", tmp_path / "o")
    assert code == 2 and "--out" in err and "free" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_sweep_over_outage_duration(run_cli, tmp_path):
    code, out, err = run_cli("sweep", SCENARIOS / "iraq_2012_transponder_off.toml", "--key",
                             "detection.mean_outage_days", "--values", "1,30", "--campaigns", 40,
                             "--set", "detection.terrain=false", "--out", tmp_path / "s")
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "s" / "sweep.csv").read_text(encoding="utf-8").splitlines()))
    assert [r["detection.mean_outage_days"] for r in rows] == ["1", "30"]
    # the folder says which scenario and run it comes from, and carries the note
    readme = (tmp_path / "s" / "README.txt").read_text()
    assert "iraq-2012-transponder-off" in readme and "40 campaigns" in readme and "Illustrative" in readme


@pytest.mark.slow
def test_validate_reports_clearance_shares_and_warnings(run_cli):
    code, out, err = run_cli("validate", SCENARIOS / "iraq_2012_low_level.toml")
    assert code == 0 and err == ""
    assert "achieved: at least 300 m" in out and "min in Iraq's airspace" in out and "to prepare and run" in out
    assert out.count("%") == 8          # one coverage share per radar
    code, out, err = run_cli("validate", SCENARIOS / "iraq_2012_transponder_off.toml",
                             "--set", "aircraft.cruise_altitude_m=1000")
    lines = err.strip().splitlines()
    assert code == 0 and len(lines) == 2 and all("flies below the terrain on" in x for x in lines)
    code, _, err = run_cli("validate", SCENARIOS / "iraq_2012_baseline.toml", "--set", "radar[0].range_km=-1")
    assert code == 2 and "radar[Baghdad PSR].range_km" in err


def test_out_under_a_file_is_a_bad_argument_before_any_work(run_cli, tmp_path):
    import time
    f = tmp_path / "file"
    f.write_text("x")
    t0 = time.perf_counter()
    code, _, err = run_cli("run", SCENARIOS / "iraq_2012_baseline.toml", "--out", f / "sub")
    assert code == 2 and "is not a folder" in err and len(err.strip().splitlines()) == 1
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.slow   # CI only (.ci/run): about 15-20 s
def test_readme_results_table_is_what_the_committed_code_prints(run_cli):
    # the README's table is `airpicture compare scenarios/*.toml --markdown` (make readme-results)
    import re
    from conftest import ROOT
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- results:start -->\n(.*?)<!-- results:end -->", readme, flags=re.S).group(1)
    files = sorted(str(p) for p in SCENARIOS.glob("*.toml"))
    code, out, err = run_cli("compare", *files, "--markdown")
    assert code == 0, err
    assert block == out


def test_every_command_helps_with_its_own_examples_and_the_format_doc(run_cli):
    # every example names shipped scenarios (they run from any folder once installed) and parses
    import shlex

    from sim.catalog import resolve_scenario
    from sim.cli import build_parser
    for command in ("run", "brief", "coverage", "sweep", "compare", "sensitivity", "validate", "scenarios"):
        code, out, _ = run_cli(command, "--help")
        assert code == 0 and "docs/scenario-format.md" in out and "airpicture scenarios --format" in out, command
        joined = out.replace("\\\n", " ")                              # continued example lines
        examples = [line.strip() for line in joined.splitlines() if line.strip().startswith(f"airpicture {command}")]
        assert examples, command
        for line in examples:
            args = build_parser().parse_args(shlex.split(line)[1:])
            names = getattr(args, "scenarios", None) or [getattr(args, "scenario", None)]
            for name in names:
                if name is not None and name != "my_scenario.toml":      # the user's own file
                    assert "/" not in name and resolve_scenario(name).is_file(), line


def test_ctrl_c_exits_130(run_cli, monkeypatch):
    import sim.cli

    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr(sim.cli.validate, "command", interrupted)
    code, _, err = run_cli("validate", SCENARIOS / "iraq_2012_baseline.toml")
    assert code == 130 and err.strip() == "airpicture: interrupted"


@pytest.mark.parametrize("command", [
    ("sweep", SCENARIOS / "iraq_2012_transponder_off.toml", "--key", "aircraft.rcs_m2", "--values", "10,40,100",
     "--campaigns", 200, "--set", "detection.terrain=false"),
    ("sensitivity", SCENARIOS / "iraq_2012_transponder_off.toml", "--campaigns", 150, "--set", "detection.terrain=false"),
    ("compare", SCENARIOS / "iraq_2012_baseline.toml", SCENARIOS / "iraq_2012_transponder_off.toml",
     "--campaigns", 200, "--set", "detection.terrain=false"),
])
def test_every_monte_carlo_command_announces_long_work(run_cli, monkeypatch, command):
    # sweep, sensitivity and compare say, as run does, how many flights in how many runs and how long
    import sim.cli
    monkeypatch.setattr(sim.cli.common, "ANNOUNCE_AFTER_S", 0.0)
    code, _, err = run_cli(*command, "-q")
    assert code == 0, err
    line = [x for x in err.splitlines() if "flights in" in x and "about" in x]
    assert len(line) == 1 and "flights/s (measured)" in line[0], err
    n_runs = {"sweep": "3 runs", "compare": "2 scenarios"}.get(command[0])
    assert n_runs is None or n_runs in line[0]


def test_coverage_above_ground_needs_terrain_and_transponders_off_headlines_primary_only(run_cli, tmp_path):
    code, out, err = run_cli("coverage", SCENARIOS / "iraq_2012_baseline.toml", "--agl-m", 300, "--set",
                             "detection.terrain=false", "--out", tmp_path / "a")
    assert code == 2 and "detection.terrain" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "a").exists()
    code, out, err = run_cli("coverage", SCENARIOS / "iraq_2012_transponder_off.toml", "--altitude-m", 3000,
                             "--set", "detection.terrain=false", "--out", tmp_path / "b")
    assert code == 0, err
    assert "air_picture_primary" in out and not any(x.strip().startswith("air_picture_all") for x in out.splitlines())


# --- the options have the file format's limits (issue 26) ----------------------------------------------------
_SC = SCENARIOS / "iraq_2012_baseline.toml"
#: Every command with --campaigns or --flights, its other required arguments given.
_MC_COMMANDS = {
    "run": ("run", _SC), "brief": ("brief", _SC),
    "sweep": ("sweep", _SC, "--key", "aircraft.rcs_m2", "--values", "10,40"),
    "compare": ("compare", _SC, _SC), "sensitivity": ("sensitivity", _SC),
    "evade": ("evade", _SC), "place": ("place", _SC, "--add", 1, "--like", "Kirkuk PSR"),
}
_LIMITED = ([(c, "--campaigns") for c in _MC_COMMANDS] + [(c, "--flights") for c in _MC_COMMANDS if c != "sensitivity"]
            + [("place", "--select-campaigns")])


@pytest.mark.parametrize("command, option", _LIMITED)
def test_campaigns_and_flights_options_have_the_file_formats_limits(run_cli, tmp_path, command, option):
    key = "run.flights" if option == "--flights" else "run.campaigns"
    hi = {"run.flights": FLIGHTS_MAX, "run.campaigns": CAMPAIGNS_MAX}[key]
    # the file format refuses the same value with the same limit: an option asks nothing a file may not
    doc = tomllib.loads(_SC.read_text(encoding="utf-8"))
    doc["run"][key.split(".")[1]] = hi + 1
    with pytest.raises(ScenarioError, match=f"{key}: must be <= {hi:,}"):
        parse_scenario(doc, str(_SC))
    for text in (str(hi + 1), "0", "1e9", "1.5"):    # beyond, below, and not integers (1e9 is a float)
        t0 = time.perf_counter()
        code, out, err = run_cli(*_MC_COMMANDS[command], option, text, "--out", tmp_path / "o", "-q")
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
        assert f"argument {option}: must be an integer from 1 to {hi:,} (the limit of {key}), got '{text}'" in err
        assert time.perf_counter() - t0 < 2.0 and not (tmp_path / "o").exists()      # refused before any work
    args = build_parser().parse_args([str(a) for a in _MC_COMMANDS[command]] + [option, str(hi)])   # the limit: taken
    assert getattr(args, option[2:].replace("-", "_")) == hi
