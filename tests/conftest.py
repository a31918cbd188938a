"""Shared helpers for the tests: small scenario files and CLI runs in-process."""
import json
import os
import tempfile
import textwrap
from pathlib import Path

import pytest

from sim.cli import main

# the prepared-parts cache of the commands run by the tests: a folder of this test session's own
os.environ["AIRPICTURE_CACHE_DIR"] = tempfile.mkdtemp(prefix="airpicture-test-cache-")
# and the secret that authenticates its files, outside it (made by the first command that writes a part)
os.environ["AIRPICTURE_CACHE_KEY_FILE"] = os.path.join(tempfile.mkdtemp(prefix="airpicture-test-key-"), "cache-key")

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


@pytest.fixture
def write_scenario(tmp_path):
    """Write a scenario TOML (text is dedented) and return its path."""
    def _write(text, name="s.toml"):
        p = tmp_path / name
        p.write_text(textwrap.dedent(text), encoding="utf-8")
        return p
    return _write


@pytest.fixture
def run_cli(capsys):
    """Run ``airpicture`` in-process; return (exit status, stdout, stderr)."""
    def _run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err
    return _run


def read_summary(out_dir):
    return json.loads((Path(out_dir) / "summary.json").read_text())


#: A straight east-west route at constant altitude (no climb: {lat, lon} endpoints),
#: 44E -> 46E along 33N, and a single radar; fill in the radar and detection tables.
STRAIGHT = """
[scenario]
name = "analytic"
title = "analytic test"

[run]
campaigns = {campaigns}
flights = {flights}
seed = {seed}

[aircraft]
cruise_speed_kmh = 720
cruise_altitude_m = {alt_m}
transponder_on_probability = {xpdr}

[[route]]
name = "east"
waypoints = [{{lat = 33.0, lon = 44.0}}, {{lat = 33.0, lon = 46.0}}]

[[radar]]
name = "R"
lat = {radar_lat}
lon = 45.0
elevation_m = 0
antenna_height_m = 20
kind = "{kind}"
range_km = {range_km}
scan_period_s = {period_s}
availability = {avail}
pd = {pd}

[detection]
track_m = {m}
track_n = {n}
"""


def straight(**kw):
    d = dict(campaigns=200, flights=10, seed=1, alt_m=10000, xpdr=1.0, radar_lat=33.0, kind="primary",
             range_km=50, period_s=10, avail=1.0, pd=1.0, m=1, n=1)
    d.update(kw)
    return STRAIGHT.format(**d)


def ogc_kml22_schema():
    """The OGC KML 2.2 schema (tests/data/ogc-kml22) as an lxml XMLSchema, offline: its import of xAL by URL
    is served from the local copy. Skips the test when lxml (the test extra) is missing."""
    etree = pytest.importorskip("lxml.etree")
    xsd = ROOT / "tests" / "data" / "ogc-kml22"

    class Local(etree.Resolver):
        def resolve(self, url, public_id, context):
            if url == "http://docs.oasis-open.org/election/external/xAL.xsd":
                return self.resolve_filename(str(xsd / "xAL.xsd"), context)
            return None

    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(Local())
    return etree.XMLSchema(etree.parse(str(xsd / "ogckml22.xsd"), parser))
