"""Scenario validation: every class of bad input gives exit 2 and one clear line."""
import pytest

from conftest import SCENARIOS, straight
from geo.units import FT_M, KT_MPS, NM_M
from sim.scenario import ScenarioError, apply_override, load_scenario


def _bad(write_scenario, run_cli, tmp_path, text, expect):
    path = write_scenario(text)
    out = tmp_path / "out"
    code, stdout, err = run_cli("run", path, "--out", out, "-q")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(path) in lines[0]
    assert expect in lines[0], lines[0]
    assert "Traceback" not in err
    assert not out.exists()   # no partial outputs
    return lines[0]


@pytest.mark.parametrize("edit, expect", [
    (lambda t: t.replace("scan_period_s = 10", "scan_period_s = 0"), "radar[R].scan_period_s: must be > 0"),
    (lambda t: t.replace("availability = 1.0", "availability = 1.5"), "radar[R].availability: must be <= 1"),
    (lambda t: t.replace("pd = 1.0", "pd = -0.1"), "radar[R].pd: must be >= 0"),
    (lambda t: t.replace("range_km = 50", "range_km = -5"), "radar[R].range_km: must be > 0"),
    (lambda t: t.replace("lat = 33.0\nlon = 45.0", "lat = 95.0\nlon = 45.0"), "radar[R].lat: must be <= 90"),
    (lambda t: t.replace("range_km = 50", "range_furlongs = 50"), "radar[R].range_furlongs: unknown key"),
    (lambda t: t.replace("range_km = 50\n", ""), "radar[R].range_m: missing"),
    (lambda t: t.replace("[{lat = 33.0, lon = 44.0}, {lat = 33.0, lon = 46.0}]", '["OIII", "XXXX"]'),
     "route[east].waypoints[1]: unknown ICAO code 'XXXX'"),
    (lambda t: t.replace("[{lat = 33.0, lon = 44.0}, {lat = 33.0, lon = 46.0}]", '["OIII"]'),
     "route[east].waypoints: needs at least two waypoints"),
    (lambda t: t.replace("cruise_speed_kmh = 720", "cruise_speed_kmh = \"fast\""), "aircraft.cruise_speed_kmh: must be a number"),
    (lambda t: t.replace("cruise_altitude_m = 10000", "cruise_altitude_m = 10000\ncruise_altitude_ft = 30000"),
     "give only one of"),
    (lambda t: t.replace("transponder_on_probability = 1.0", "transponder_on_probability = 2"),
     "aircraft.transponder_on_probability: must be <= 1"),
    (lambda t: t.replace("track_m = 1", "track_m = 4").replace("track_n = 1", "track_n = 3"),
     "detection.track_m: must be <= track_n"),
    (lambda t: t.replace("[run]", "[runn]"), "runn: unknown table"),
    (lambda t: t.replace("campaigns = 200", "campaigns = 0"), "run.campaigns: must be >= 1"),
    (lambda t: t.replace('kind = "primary"', 'kind = "tertiary"'), "radar[R].kind: must be one of"),
    (lambda t: t + "\n[[radar]]\nname = \"R\"\nlat = 1\nlon = 1\nkind = \"primary\"\nrange_km = 1\nscan_period_s = 1\npd = 1\n",
     "radar[1].name: duplicate name"),
    (lambda t: t.replace("pd = 1.0", "reference = {range_km = 90, rcs_m2 = 2.0, pd = 0.8}\npfa = 1e-6"),
     "radar[R].swerling: missing"),
    (lambda t: t + "\n[[[", "not valid TOML"),
])
def test_bad_input_exit_2_names_file_and_key(write_scenario, run_cli, tmp_path, edit, expect):
    _bad(write_scenario, run_cli, tmp_path, edit(straight()), expect)


def test_missing_file_and_bad_arguments_exit_2(run_cli, tmp_path, write_scenario):
    code, _, err = run_cli("run", tmp_path / "nope.toml", "-q")
    assert code == 2 and "nope.toml" in err and "no such file" in err
    path = write_scenario(straight())
    for args in (["--campaigns", "0"], ["--seed", "-1"], ["--flights", "x"], ["--bogus"]):
        code, _, err = run_cli("run", path, "--out", tmp_path / "o", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, (args, err)
    assert not (tmp_path / "o").exists()
    code, _, err = run_cli("run", path, "--set", "radar[Nope].pd=1", "--out", tmp_path / "o")
    assert code == 2 and "radar[Nope].pd" in err and "no radar named 'Nope'" in err
    code, _, err = run_cli("run", path, "--set", "aircraft.rcs_m2=-1", "--out", tmp_path / "o")
    assert code == 2 and "aircraft.rcs_m2: must be > 0" in err


def test_out_is_a_file_is_a_bad_argument_exit_2(run_cli, tmp_path, write_scenario):
    f = tmp_path / "file"
    f.write_text("x")
    code, _, err = run_cli("run", write_scenario(straight()), "--out", f, "-q")
    assert code == 2 and "not a folder" in err and len(err.strip().splitlines()) == 1
    assert f.read_text() == "x"


def test_aviation_units_convert_once(write_scenario):
    # 1 ft = 0.3048 m, 1 NM = 1852 m, 1 kt = 1852/3600 m/s (international definitions)
    t = straight().replace("cruise_altitude_m = 10000", "cruise_flight_level = 330")
    t = t.replace("cruise_speed_kmh = 720", "cruise_speed_kt = 420").replace("range_km = 50", "range_nm = 60")
    sc = load_scenario(write_scenario(t))
    assert sc.aircraft.cruise_altitude_m == pytest.approx(33_000 * FT_M)
    assert sc.aircraft.cruise_speed_mps == pytest.approx(420 * KT_MPS)
    assert sc.radars[0].range_m == pytest.approx(60 * NM_M)
    t2 = straight().replace("cruise_altitude_m = 10000", "cruise_altitude_ft = 1000")
    assert load_scenario(write_scenario(t2, "b.toml")).aircraft.cruise_altitude_m == pytest.approx(304.8)


def test_overrides_by_name_index_and_unit():
    sc = load_scenario(SCENARIOS / "iraq_2012_baseline.toml", [
        "aircraft.cruise_altitude_ft=5000",          # replaces cruise_altitude_m of the file
        "radar[Kirkuk PSR].range_km=200",
        "radar[0].availability=0.5",
        "route[direct].cross_track_sigma_km=0",
        "detection.terrain=false",
    ])
    assert sc.aircraft.cruise_altitude_m == pytest.approx(5000 * FT_M)
    kirkuk = [r for r in sc.radars if r.name == "Kirkuk PSR"][0]
    assert kirkuk.range_m == 200_000
    assert sc.radars[0].availability == 0.5
    assert sc.routes[0].cross_track_sigma_m == 0
    with pytest.raises(ScenarioError, match="KEY=VALUE"):
        apply_override({}, "nonsense")


def test_shipped_scenarios_all_validate():
    paths = sorted(SCENARIOS.glob("*.toml"))
    assert len(paths) >= 2
    for p in paths:
        sc = load_scenario(p)
        assert sc.routes and sc.run.campaigns >= 1
