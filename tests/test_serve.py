"""The planner's page (``airpicture serve``): its HTTP API, and the page itself in headless Chromium.

HTTP-level tests drive the ASGI app with Starlette's TestClient (httpx) over one
:class:`~sim.serve.planner.Planner`; their references are the command line
(``airpicture run`` in-process: the same headline, the same one-line message),
the shipped files read with :mod:`tomllib`, and closed forms. The browser tests
(marked slow: CI runs them, ``.ci/run`` installs Debian's chromium) start the
server on a free loopback port and drive Debian's Chromium through Playwright;
they skip with the reason where either is absent.

Every request that computes carries the server's token (:data:`TOKEN_HEADER`), as the page sends it;
the tests of the token itself use a second client without it (``bare``).
"""
import hashlib
import io
import json
import os
import re
import shutil
import shlex
import signal
import subprocess
import sys
import threading
import tomllib
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import shapely

pytest.importorskip("starlette", reason="the page needs the serve extra: pip install 'airpicture[serve]'")
httpx = pytest.importorskip("httpx", reason="the page's HTTP tests need httpx (the test extra)")

from pyproj import Geod  # noqa: E402

from conftest import ROOT, SCENARIOS, straight  # noqa: E402
from sim.scenario import load_scenario, parse_scenario  # noqa: E402
from sim.serve import Planner, bind, create_app, is_loopback, make_server, url_of  # noqa: E402
import sim.serve.planner as planner_module  # noqa: E402
from sim.serve.app import JSON_MAX_DEPTH, JSON_MAX_NUMBER_CHARS, STATIC_DIR, TOKEN_HEADER, read_json  # noqa: E402
from sim.serve.planner import UPLOAD_MAX_BYTES, PageError  # noqa: E402

FAST = [["detection.terrain", "false"]]          # the HTTP tests' runs: a smooth Earth (no masking tables)


class _Serving:
    """The page's server on a free loopback port, in a thread (as ``airpicture serve`` runs it)."""

    def __init__(self, planner):
        self.sock = bind("127.0.0.1", 0)
        self.url = url_of(self.sock)
        self.server = make_server(planner)
        self.token = self.server.config.app.state.token
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def planner(tmp_path_factory):
    return Planner(tmp_path_factory.mktemp("page"))


def _client(serving):
    """An HTTP client of a server that sends the token as the page does: the one in the page it serves."""
    page = httpx.get(serving.url, timeout=30).text
    token = re.search(r'<meta name="airpicture-token" content="([^"]*)">', page).group(1)
    assert token == serving.token
    return httpx.Client(base_url=serving.url, timeout=120, headers={TOKEN_HEADER: token})


@pytest.fixture(scope="module")
def serving(planner):
    """A server of ``planner`` on a free loopback port (real HTTP)."""
    with _Serving(planner) as s:
        yield s


@pytest.fixture(scope="module")
def client(serving):
    """An HTTP client of ``serving`` that carries its token, as the page does."""
    with _client(serving) as c:
        yield c


@pytest.fixture(scope="module")
def bare(serving):
    """An HTTP client of ``serving`` without the token: what any other web page can send."""
    with httpx.Client(base_url=serving.url, timeout=120) as c:
        yield c


def _run(client, scenario="iraq_2012_transponder_off", overrides=(), campaigns=4, **kw):
    return client.post("/api/run", json={"scenario": scenario, "overrides": [*FAST, *overrides],
                                         "campaigns": campaigns, **kw})


def _cli_lines(run_cli, tmp_path, scenario, campaigns, overrides):
    args = ["run", scenario, "--campaigns", campaigns, "--out", tmp_path / "cli"]
    for k, v in overrides:
        args += ["--set", f"{k}={v}"]
    code, out, err = run_cli(*args)
    assert code == 0, err
    return out.splitlines()


# --- the page's files ----------------------------------------------------------------------------------
def test_page_assets_come_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    local = [r for r in refs if not r.startswith("data:")]
    assert {"/static/app.js", "/static/style.css", "/static/leaflet/leaflet.js", "/static/leaflet/leaflet.css"} <= set(local)
    for ref in local:
        got = client.get(ref)
        assert got.status_code == 200, ref
        assert got.content == (STATIC_DIR / ref.removeprefix("/static/")).read_bytes(), ref
    # the page's own files name no other host (the SVG namespace is a name, never fetched); the CSP
    # forbids loading from one
    for name in ("index.html", "app.js", "style.css"):
        text = (STATIC_DIR / name).read_text(encoding="utf-8").replace("http://www.w3.org/2000/svg", "")
        assert not re.search(r"https?://", text), name
    assert "default-src 'self'" in page.headers["content-security-policy"]
    # the vendored Leaflet is the npm package's file, byte for byte (hash recorded when it was vendored)
    recorded = re.search(r"leaflet\.js\s+\(sha256 ([0-9a-f]{64})\)", (STATIC_DIR / "leaflet" / "VENDORED.md").read_text())
    assert hashlib.sha256((STATIC_DIR / "leaflet" / "leaflet.js").read_bytes()).hexdigest() == recorded.group(1)
    assert "BSD 2-Clause" in (STATIC_DIR / "leaflet" / "LICENSE").read_text()
    assert client.get("/static/leaflet/images/layers.png").content[:8] == b"\x89PNG\r\n\x1a\n"


def test_info_lists_every_shipped_scenario(client):
    info = client.get("/api/info").json()
    shipped = sorted(p.stem for p in SCENARIOS.glob("*.toml"))
    assert [s["id"] for s in info["scenarios"] if s["source"] == "shipped"] == shipped
    assert info["default_scenario"] == "iraq_2012_baseline" and info["upload_max_bytes"] == 1 << 20


def test_borders_are_the_packaged_natural_earth_file(client):
    got = client.get("/api/borders")
    assert got.status_code == 200
    packaged = json.loads((ROOT / "geo" / "data" / "ne_admin0_middle_east.geojson").read_text(encoding="utf-8"))
    assert got.json() == packaged and len(packaged["features"]) == 22


def test_scenario_controls_show_the_files_values(client):
    doc = tomllib.loads((SCENARIOS / "iraq_2012_baseline.toml").read_text(encoding="utf-8"))
    desc = client.get("/api/scenario", params={"id": "iraq_2012_baseline"}).json()
    radars = [c for g in desc["controls"] for c in g["controls"] if c["type"] == "radar"]
    assert [r["name"] for r in radars] == [r["name"] for r in doc["radar"]]
    assert [float(r["availability"]["value"]) for r in radars] == [r["availability"] for r in doc["radar"]]
    flat = {c["key"]: c["value"] for g in desc["controls"] for c in g["controls"] if "key" in c}
    assert float(flat["aircraft.transponder_on_probability"]) == doc["aircraft"]["transponder_on_probability"]
    assert float(flat["response.decision_delay_min"]) == doc["response"]["decision_delay_min"]
    assert float(flat["aircraft.cruise_altitude_m"]) == doc["aircraft"]["cruise_altitude_m"]
    # the page's run size: the fewest campaigns with 2,000 flights, and never more than the file's
    assert desc["campaigns"] == -(-2000 // doc["run"]["flights"]) and desc["seed"] == doc["run"]["seed"]
    missing = client.get("/api/scenario", params={"id": "../scenarios/iraq_2012_baseline"})
    assert missing.status_code == 404 and missing.json()["field"] == "scenario"


# --- runs ----------------------------------------------------------------------------------------------
def test_run_headline_is_the_command_lines(client, run_cli, tmp_path):
    overrides = [["aircraft.transponder_on_probability", "0.5"]]
    got = _run(client, overrides=overrides, campaigns=6)
    assert got.status_code == 200, got.text
    r = got.json()
    lines = _cli_lines(run_cli, tmp_path, "iraq_2012_transponder_off", 6, [*FAST, *overrides])
    assert r["title"] == lines[0] and r["headline"] == lines[1]
    cli = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert r["summary"]["p_detect"] == cli["p_detect"] and r["summary"]["radars"] == cli["radars"]
    assert r["command"] == ("airpicture run iraq_2012_transponder_off --campaigns 6 --set detection.terrain=false "
                            "--set aircraft.transponder_on_probability=0.5")
    assert r["flights"] == 6 * 15 and r["layers"]["flights_total"] == 90


def test_bad_value_gives_the_command_lines_message_on_its_control(client, planner, run_cli):
    before = planner.runs_started
    got = _run(client, overrides=[["aircraft.transponder_on_probability", "1.5"], ["radar[Kirkuk PSR].availability", "x"]])
    assert got.status_code == 400
    body = got.json()
    code, _, err = run_cli("run", "iraq_2012_transponder_off", "--set", "aircraft.transponder_on_probability=1.5")
    assert code == 2 and err.strip() == f"airpicture: error: {body['error']}"
    assert body["field"] == "aircraft.transponder_on_probability"
    assert [e["field"] for e in body["errors"]] == ["aircraft.transponder_on_probability", "radar[Kirkuk PSR].availability"]
    assert "must be a number, got 'x'" in body["errors"][1]["error"]
    assert planner.runs_started == before            # no run started
    # two values each valid alone, refused together (3 of 5 scans: 4 of 3 is not), under the key refused
    got = _run(client, overrides=[["detection.track_m", "4"], ["detection.track_n", "3"]])
    assert got.status_code == 400 and got.json()["field"] == "detection.track_m"
    assert got.json()["error"].endswith("detection.track_m: must be <= track_n (3)")


def test_run_size_and_seed_limits(client, tmp_path):
    small = Planner(tmp_path / "p", max_flights=300)
    with _Serving(small) as srv, _client(srv) as c:
        got = _run(c, campaigns=21)                 # 21 x 15 = 315 flights > 300
        assert got.status_code == 400 and got.json()["field"] == "campaigns"
        assert "315 flights" in got.json()["error"] and "at most 300" in got.json()["error"]
        assert _run(c, campaigns=20).status_code == 200
        for bad in ("0", "ten", "1.5"):
            assert _run(c, campaigns=bad).json()["field"] == "campaigns", bad
        assert _run(c, seed="-1").json()["field"] == "seed"
        assert small.runs_started == 1


def test_bad_requests_never_stop_the_server(client):
    for body, ctype, status in ((b"{bad", "application/json", 400), (b"[1, 2]", "application/json", 400),
                                (b"\xff\xfe", "application/json", 400), (b'{"scenario": 1}', "text/plain", 415),
                                (b"{" + b" " * (70 * 1024) + b"}", "application/json", 413)):
        got = client.post("/api/run", content=body, headers={"content-type": ctype})
        assert got.status_code == status, (body[:10], got.text)
        assert got.json()["error"]
    assert client.post("/api/run", json={"scenario": "iraq_2012_transponder_off", "overrides": "x=1"}).status_code == 400
    assert client.post("/api/run", json={"scenario": "iraq_2012_transponder_off",
                                         "overrides": [["x", 1]]}).status_code == 400
    assert client.get("/api/run").status_code == 405
    assert client.get("/nowhere").status_code == 404
    assert client.get("/api/info").status_code == 200          # still serving


def test_requests_to_another_host_name_are_refused(client):
    assert client.get("/api/info", headers={"host": "evil.example:8765"}).status_code == 400
    assert client.get("/api/info", headers={"host": "localhost:8765"}).status_code == 200
    assert is_loopback("127.0.0.2") and is_loopback("::1") and not is_loopback("0.0.0.0")


# --- trust: the token, run ids, hostile JSON (issue 26) ------------------------------------------------
def _one_line(got, status, field):
    assert got.status_code == status, got.text
    body = got.json()
    assert body["field"] == field and body["error"] and "\n" not in body["error"], body
    return body["error"]


def test_page_carries_the_token_and_only_static_information_is_open(serving, bare, planner):
    page = bare.get("/")
    assert page.status_code == 200           # the page itself is open: another site can request it, never read it
    assert f'<meta name="airpicture-token" content="{serving.token}">' in page.text
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", serving.token)          # 256 random bits, URL-safe
    assert serving.token not in bare.get("/static/index.html").text    # the file as shipped holds none
    assert create_app(planner).state.token != create_app(planner).state.token      # one per server
    # open without it: what computes nothing and is the same for every visitor
    assert bare.get("/api/info").status_code == 200 and bare.get("/api/borders").status_code == 200


def test_brief_without_the_token_computes_nothing(client, bare, serving, planner, monkeypatch):
    built = []

    def fake_simulate_to(where, scenario, **kw):       # counts what would have taken ~50 s (the baseline's brief)
        built.append(kw.get("brief"))
        where.mkdir(parents=True, exist_ok=True)
        (where / "brief.pdf").write_bytes(b"%PDF-1.4 stand-in")
    monkeypatch.setattr(planner_module, "simulate_to", fake_simulate_to)
    r = _run(client).json()
    href = r["downloads"]["brief.pdf"]
    folder = planner.out_dir / r["run_id"] / "brief"
    # what an <img src="http://127.0.0.1:8765/api/download/RUN/brief.pdf"> on any web page sends: refused,
    # nothing built, nothing written
    _one_line(bare.get(href), 403, "token")
    for bad in ("", "x", serving.token[:-1], serving.token + "x", serving.token.upper(), "é" * 43):
        _one_line(bare.get(href, params={"token": bad}), 403, "token")
        _one_line(bare.get(href, headers={TOKEN_HEADER: bad.encode("utf-8")}), 403, "token")
    assert built == [] and not folder.exists()
    # with the token (the page's link carries it in the query; a fetch in the header): built once, served twice
    got = bare.get(href, params={"token": serving.token})
    assert got.status_code == 200 and got.content == b"%PDF-1.4 stand-in" and built == [True]
    assert client.get(href).content == b"%PDF-1.4 stand-in" and built == [True]


def test_nothing_computes_without_the_token(bare, serving, planner):
    runs, uploads = planner.runs_started, len(planner.scenario_list())
    sc = {"scenario": "iraq_2012_transponder_off", "overrides": FAST, "campaigns": 2}
    for path, body in (("/api/run", sc), ("/api/sweep", {**sc, "key": "detection.track_m", "values": "1"}),
                       ("/api/evade", {**sc, "budgets_km": "0"}), ("/api/place", {**sc, "like": "Kirkuk PSR"})):
        _one_line(bare.post(path, json=body), 403, "token")
        # the query parameter is for links only: a POST must carry the header
        _one_line(bare.post(path, json=body, params={"token": serving.token}), 403, "token")
        # a "simple" cross-site form post is refused before its body is read
        _one_line(bare.post(path, content=b"x=1", headers={"content-type": "text/plain"}), 403, "token")
    _one_line(bare.post("/api/upload", content=straight().encode(), headers={"x-filename": "a.toml"}), 403, "token")
    _one_line(bare.get("/api/scenario", params={"id": "iraq_2012_baseline"}), 403, "token")
    assert planner.runs_started == runs and len(planner.scenario_list()) == uploads
    # the Host check still comes first
    assert bare.get("/api/download/r1/brief.pdf", headers={"host": "evil.example:8765"}).status_code == 400


def test_run_ids_are_random_and_long(client):
    ids = [_run(client, campaigns=1).json()["run_id"] for _ in range(2)]
    for rid in ids:
        assert re.fullmatch(r"r[A-Za-z0-9_-]{16}", rid), rid          # 96 random bits
        assert not re.fullmatch(r"r[0-9]+", rid)
        assert client.get(f"/api/download/{rid}/summary.json").status_code == 200
    # two independent 16-character draws of 64 letters share a first 4 with probability 64**-4 = 6e-8
    assert len(os.path.commonprefix([i[1:] for i in ids])) < 4
    for guess in ("r1", "r2", f"{ids[0][:-1]}", f"{ids[0]}x", f"{ids[0][:-1]}/", "r" + "A" * 16):
        assert client.get(f"/api/download/{guess}/summary.json").status_code == 404, guess


def test_hostile_json_answers_400_in_one_line(client, planner):
    runs = planner.runs_started
    hostile = {"30,000 nested arrays": "[" * 30_000 + "]" * 30_000,
               "10,000 nested objects": '{"a":' * 10_000 + "1" + "}" * 10_000,
               "nesting inside a field": '{"scenario": "x", "overrides": ' + "[" * 40 + "]" * 40 + "}",
               "a 60,000-digit integer": '{"campaigns": ' + "9" * 60_000 + "}",
               "a 60,000-digit float": '{"campaigns": 0.' + "9" * 60_000 + "}",
               "NaN": '{"campaigns": NaN}', "Infinity": '{"seed": Infinity}', "-Infinity": '{"seed": -Infinity}',
               "1e999": '{"campaigns": 1e999}'}
    for text in hostile.values():
        got = client.post("/api/run", content=text.encode(), headers={"content-type": "application/json"})
        _one_line(got, 400, "request")
    assert planner.runs_started == runs
    assert client.get("/api/info").status_code == 200          # still serving


def test_read_json_bounds_against_the_standard_reader():
    # within the bounds it reads what json.loads reads (the reference), brackets inside strings not counted
    docs = ['{"a": [1, 2.5, -3e2, true, null], "b": "[[[{{{", "c": "q\\"[\\\\"}',
            "[" * JSON_MAX_DEPTH + "]" * JSON_MAX_DEPTH, '"' + "[" * 1000 + '"',
            '{"n": ' + "9" * JSON_MAX_NUMBER_CHARS + "}", '{"x": -' + "1" * (JSON_MAX_NUMBER_CHARS - 1) + "}",
            json.dumps({"scenario": "iraq_2012_baseline",
                        "overrides": [["radar[\"Kirkuk No. 2\"].availability", "0"]]})]
    for text in docs:
        assert read_json(text) == json.loads(text), text[:40]
    for text in ("[" * (JSON_MAX_DEPTH + 1) + "]" * (JSON_MAX_DEPTH + 1),
                 '{"n": ' + "9" * (JSON_MAX_NUMBER_CHARS + 1) + "}", "[NaN]", "[1e400]", "[-1e400]"):
        with pytest.raises(PageError) as e:
            read_json(text)
        assert e.value.status == 400 and "\n" not in str(e.value)


def test_hostile_values_in_controls_and_uploads_answer_400(client, planner):
    runs = planner.runs_started
    key = "aircraft.cruise_altitude_m"
    for text in ("9" * 60_000, "[" * 20_000 + "]" * 20_000, "1_" * 60 + "1"):
        _one_line(_run(client, overrides=[[key, text]]), 400, key)
        got = client.post("/api/sweep", json={"scenario": "iraq_2012_transponder_off", "key": key, "values": text})
        _one_line(got, 400, "sweep-values")
    _one_line(_run(client, overrides=[["radar[" + "9" * 60_000 + "].availability", "0"]]), 400, "run")
    assert planner.runs_started == runs
    for text in ("a = " + "[" * 30_000 + "]" * 30_000, "a = " + "9" * 60_000):
        got = client.post("/api/upload", content=text.encode(), headers={"x-filename": "hostile.toml"})
        assert "hostile.toml" in _one_line(got, 400, "upload")
    assert client.get("/api/info").status_code == 200          # still serving


# --- uploads -------------------------------------------------------------------------------------------
def test_upload_is_validated_and_run(client):
    # a straight route past one radar with Pd 1, availability 1 and a 1-of-1 track rule: every flight
    # within its 50 km is tracked (radar on the route), none when it is switched off
    got = client.post("/api/upload", content=straight(campaigns=3, flights=4).encode(),
                      headers={"x-filename": "../../mine.toml"})
    assert got.status_code == 200, got.text
    sid = got.json()["id"]
    assert "mine" in sid and ".." not in sid and sid in [s["id"] for s in got.json()["scenarios"]]
    on = client.post("/api/run", json={"scenario": sid, "overrides": [], "campaigns": 3}).json()
    off = client.post("/api/run", json={"scenario": sid, "overrides": [["radar[R].availability", "0"]]}).json()
    assert (on["summary"]["p_detect"], off["summary"]["p_detect"]) == (1.0, 0.0)
    assert on["command"].startswith("airpicture run mine.toml ")
    bad = client.post("/api/upload", content=straight().replace("pd = 1.0", "pd = 2.0").encode(),
                      headers={"x-filename": "bad.toml"})
    assert bad.status_code == 400 and bad.json()["error"] == "bad.toml: radar[R].pd: must be <= 1"
    assert client.post("/api/upload", content=b"a = [", headers={"x-filename": "x.toml"}).json()["error"].startswith(
        "x.toml: not valid TOML")
    assert client.post("/api/upload", content=b"x").status_code == 400          # no file name


def test_oversize_upload_is_refused(client):
    big = b"#" * (UPLOAD_MAX_BYTES + 1)
    got = client.post("/api/upload", content=big, headers={"x-filename": "big.toml"})
    assert got.status_code == 413 and got.json()["field"] == "upload"

    def chunks():           # no Content-Length: refused while streaming
        for _ in range(5):
            yield b"#" * (300 * 1024)
    got = client.post("/api/upload", content=chunks(), headers={"x-filename": "big.toml"})
    assert got.status_code == 413


# --- downloads -----------------------------------------------------------------------------------------
def test_whatif_toml_is_the_scenario_with_the_overrides(client):
    overrides = [["aircraft.transponder_on_probability", "0.25"], ["radar[Kirkuk PSR].availability", "0.5"],
                 ["aircraft.cruise_altitude_m", "6000"]]
    r = _run(client, overrides=overrides).json()
    got = client.get(r["downloads"]["whatif.toml"])
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    doc = tomllib.loads(got.text)
    expected = load_scenario(SCENARIOS / "iraq_2012_transponder_off.toml", [f"{k}={v}" for k, v in [*FAST, *overrides]])
    assert parse_scenario(doc, source=expected.path) == expected      # every validated value the same
    assert doc["aircraft"]["transponder_on_probability"] == 0.25
    assert [r_["availability"] for r_ in doc["radar"] if r_["name"] == "Kirkuk PSR"] == [0.5]


def test_run_files_are_the_runs(client, planner):
    r = _run(client, campaigns=3).json()
    summary = client.get(r["downloads"]["summary.json"]).json()
    assert summary["p_detect"] == r["summary"]["p_detect"] and summary["seed"] == r["seed"]
    rows = client.get(r["downloads"]["flights.csv"]).text.strip().splitlines()
    assert len(rows) == 1 + r["flights"]
    detected = sum(row.split(",")[rows[0].split(",").index("detected")] in ("1", "True", "true") for row in rows[1:])
    assert detected == r["summary"]["flights_detected"]
    z = zipfile.ZipFile(io.BytesIO(client.get(r["downloads"]["run.zip"]).content))
    assert sorted(Path(n).name for n in z.namelist()) == sorted(
        ["README.txt", "flights.csv", "routes.geojson", "summary.json", "whatif.toml"])
    # everything written lies inside the planner's own folder
    for p in planner.out_dir.rglob("*"):
        assert p.resolve().is_relative_to(planner.out_dir)


def test_download_names_cannot_leave_the_folder(client):
    r = _run(client).json()
    rid = r["run_id"]
    for path in (f"/api/download/{rid}/..%2F..%2Fetc%2Fpasswd", f"/api/download/{rid}/../../etc/passwd",
                 f"/api/download/{rid}/%2Fetc%2Fpasswd", f"/api/download/..%2F{rid}/summary.json",
                 f"/api/download/{rid}/flights.csv%00.toml", "/api/download/r999999/summary.json",
                 f"/api/download/{rid}/brief.PDF", "/api/download/..%2F..%2F/summary.json"):
        got = client.get(path)
        assert got.status_code == 404, path
        assert "root:" not in got.text


# --- sweep ---------------------------------------------------------------------------------------------
def test_sweep_points_are_single_runs(client):
    got = client.post("/api/sweep", json={"scenario": "iraq_2012_transponder_off", "overrides": FAST,
                                          "key": "aircraft.transponder_on_probability", "values": "0, 1",
                                          "metric": "p_detect", "campaigns": 4})
    assert got.status_code == 200, got.text
    points = got.json()["points"]
    for p in points:
        single = _run(client, overrides=[["aircraft.transponder_on_probability", str(p["value"])]]).json()
        assert p["p_detect"] == single["summary"]["p_detect"]
    assert points[0]["p_detect"] <= points[1]["p_detect"]      # transponders on can only add detections
    bad = client.post("/api/sweep", json={"scenario": "iraq_2012_transponder_off", "overrides": FAST,
                                          "key": "aircraft.transponder_on_probability", "values": "0,2"})
    assert bad.status_code == 400 and bad.json()["field"] == "sweep-values" and "must be <= 1" in bad.json()["error"]
    bad = client.post("/api/sweep", json={"scenario": "iraq_2012_transponder_off", "overrides": FAST,
                                          "key": "detection.track_m", "values": "1", "metric": "p_nothing",
                                          "campaigns": 2})
    assert bad.status_code == 400 and bad.json()["field"] == "sweep-metric"
    many = ",".join(["1"] * 13)
    assert client.post("/api/sweep", json={"scenario": "iraq_2012_transponder_off", "key": "detection.track_m",
                                           "values": many}).json()["field"] == "sweep-values"


# --- the map -------------------------------------------------------------------------------------------
def test_map_layers_against_the_geometry(client, planner):
    sid = client.post("/api/upload", content=straight(campaigns=2, flights=5, radar_lat=33.0).encode(),
                      headers={"x-filename": "map.toml"}).json()["id"]
    r = client.post("/api/run", json={"scenario": sid}).json()
    layers = r["layers"]
    route = layers["routes"]["features"][0]["geometry"]["coordinates"]
    assert np.allclose(route[0], [44.0, 33.0], atol=1e-4) and np.allclose(route[-1], [46.0, 33.0], atol=1e-4)
    assert np.allclose(layers["radars"]["features"][0]["geometry"]["coordinates"], [45.0, 33.0], atol=1e-4)
    # coverage at the level flown (10,000 m) of a 50 km radar on a 20 m mast: slant-range limited, a
    # circle of ground radius about sqrt(50^2 - 10^2) = 49.0 km (flat-Earth closed form; the Earth's
    # curvature with 4/3 refraction changes it by well under 1%)
    ring = np.array(layers["coverage"]["features"][0]["geometry"]["coordinates"][0])
    _, _, dist_m = Geod(ellps="WGS84").inv(np.full(len(ring), 45.0), np.full(len(ring), 33.0), ring[:, 0], ring[:, 1])
    expected_m = np.sqrt(50_000.0**2 - (10_000.0 - 20.0) ** 2)
    assert np.all(np.abs(dist_m / expected_m - 1) < 0.01), (dist_m.min(), dist_m.max(), expected_m)
    assert shapely.Polygon(ring).contains(shapely.Point(45.0, 33.0))
    assert layers["tracks_drawn"] == 10 and all(f["properties"]["detected"] for f in layers["tracks"]["features"])


def test_map_layers_say_a_radar_switched_off(client):
    # issue 28: a radar at availability 0 is drawn as off. The page's layer JSON carries each radar's state as
    # run; the references: the overrides sent and the scenario file read with tomllib (the radars left alone
    # keep the file's availability), and the run's own per-radar table (up for 0% of flights when off)
    doc = tomllib.loads((SCENARIOS / "iraq_2012_transponder_off.toml").read_text(encoding="utf-8"))
    set_to = {"Kirkuk PSR": 0.0, "Baghdad PSR": 0.5}
    r = _run(client, overrides=[[f"radar[{n}].availability", str(a)] for n, a in set_to.items()]).json()
    layers = r["layers"]
    want = {x["name"]: set_to.get(x["name"], x["availability"]) for x in doc["radar"]}
    coverage = {f["properties"]["name"]: f["properties"] for f in layers["coverage"]["features"]}
    sites = {f["properties"]["name"]: f["properties"] for f in layers["radars"]["features"]}
    assert set(coverage) == set(want) and set(sites) <= set(want)
    for name, a in want.items():
        for p in (coverage[name], *([sites[name]] if name in sites else [])):
            assert p["availability"] == a, name
            assert p["state"] == ("off" if a == 0 else "part-time" if a < 1 else "on"), name
    off = coverage["Kirkuk PSR"]
    assert off["label"] == "Kirkuk PSR (off)" and off["availability_text"] == "off (availability 0)"
    assert coverage["Baghdad PSR"]["label"] == "Baghdad PSR (up 50%)"
    # the legend's facts: which radars are off and how it says so
    assert layers["radars_off"] == ["Kirkuk PSR"] and layers["off_text"] == "off (availability 0)"
    assert r["summary"]["radars"]["Kirkuk PSR"]["p_up"] == 0.0          # the run had it off
    # with every radar as the file says, none is off
    assert _run(client).json()["layers"]["radars_off"] == []


def test_results_carry_the_inputs_they_were_computed_for(client):
    # the page marks a result stale against these; the Compare tab keeps one row per distinct inputs
    sha = hashlib.sha256((SCENARIOS / "iraq_2012_transponder_off.toml").read_bytes()).hexdigest()
    over = [["aircraft.transponder_on_probability", " 0.5 "]]
    a, b = (_run(client, overrides=over, campaigns=3, seed=7).json() for _ in range(2))
    assert a["inputs"] == {"scenario": "iraq_2012_transponder_off", "sha256": sha, "campaigns": 3, "seed": 7,
                           "overrides": ["detection.terrain=false", "aircraft.transponder_on_probability=0.5"]}
    assert b["inputs"] == a["inputs"] and b["summary"] == a["summary"] and b["run_id"] != a["run_id"]
    other = _run(client, overrides=over, campaigns=3, seed=8).json()
    assert other["inputs"] != a["inputs"]
    # the scenario's identity on the page: its name, its file's hash, the tool's version
    from sim import __version__
    assert (a["scenario_name"], a["sha256"], a["sha256_short"], a["version"]) == (
        "iraq_2012_transponder_off", sha, sha[:12], __version__)
    desc = client.get("/api/scenario", params={"id": "iraq_2012_transponder_off"}).json()
    assert (desc["sha256"], desc["sha256_short"], desc["version"]) == (sha, sha[:12], __version__)
    # an upload's hash is its bytes'
    text = straight(campaigns=2, flights=3).encode()
    sid = client.post("/api/upload", content=text, headers={"x-filename": "hash.toml"}).json()["id"]
    assert client.get("/api/scenario", params={"id": sid}).json()["sha256"] == hashlib.sha256(text).hexdigest()
    sweep = client.post("/api/sweep", json={"scenario": "iraq_2012_transponder_off", "overrides": FAST,
                                            "key": "detection.track_m", "values": "1", "campaigns": 2}).json()
    assert sweep["inputs"]["overrides"] == ["detection.terrain=false"] and sweep["inputs"]["campaigns"] == 2

def test_a_draws_only_what_if_prepares_nothing(client, planner):
    _run(client, scenario="iraq_2012_baseline", campaigns=2)
    before = {k: dict(v) for k, v in planner.cache.stats.items()}["computed"]
    r = _run(client, scenario="iraq_2012_baseline", campaigns=2,
             overrides=[["aircraft.transponder_on_probability", "0"], ["response.decision_delay_min", "20"]])
    assert r.status_code == 200
    assert dict(planner.cache.stats["computed"]) == before       # no table, fence or coverage computed again
    _run(client, scenario="iraq_2012_baseline", campaigns=2, overrides=[["aircraft.cruise_altitude_m", "3000"]])
    assert planner.cache.stats["computed"]["page-coverage"] > before.get("page-coverage", 0)


# --- red team and blue team ----------------------------------------------------------------------------
def test_evade_front_is_the_apis(client):
    from sim import api
    got = client.post("/api/evade", json={"scenario": "iraq_2012_transponder_off", "overrides": FAST,
                                          "budgets_km": "0,100", "levels": "cruise", "campaigns": 4})
    assert got.status_code == 200, got.text
    r = got.json()
    ref = api.evade("iraq_2012_transponder_off", "0,100", overrides={"detection.terrain": False}, levels="cruise",
                    campaigns=4)
    # one row per distinct route (the direct route, then the routes the budgets found), each budget once
    direct = ref.direct[False]
    routes = [direct] + [x for x, _ in ref.points(False) if not x.same_route(direct)]
    budgets = [[b / 1000.0 for x, bs in ref.points(False) if x.same_route(y) for b in bs] for y in routes]
    assert len(r["front"]) == len(routes) and r["front"][0]["label"] == "direct"
    assert [f["budgets_km"] for f in r["front"]] == budgets and sorted(sum(budgets, [])) == [0.0, 100.0]
    assert r["spread_km"] == ref.spread_m / 1000.0 == 10.0 and r["objective"] == "p_detect"
    for f, x in zip(r["front"], routes):
        assert f["extra_km"] == round(x.extra_m / 1000.0, 3) and f["level"] == x.level.label
        # as flown (the headline), then the planned track exactly (secondary)
        assert f["p_detect"] == x.p_detect and f["p_stopped"] == x.p_stopped
        assert f["p_detect_ci95"] == list(x.summary["p_detect_ci95"])
        assert f["p_detect_planned_track"] == x.p_detect_planned and f["p_surrogate"] == x.p_surrogate
        assert f["flight_time_min"] == round(x.flight_time_s / 60.0, 2)
        assert f["line"] == [[round(float(lo), 4), round(float(la), 4)] for la, lo in zip(x.lat_deg, x.lon_deg)]
    assert r["flights_per_route"] == 4 * 15 and r["command"].startswith(
        "airpicture evade iraq_2012_transponder_off --max-extra-km 0,100 --levels cruise --campaigns 4 ")


def test_place_site_is_the_apis(client):
    from sim import api
    got = client.post("/api/place", json={"scenario": "iraq_2012_transponder_off", "overrides": FAST, "add": "1",
                                          "like": "Kirkuk PSR", "grid_km": "50", "campaigns": 4})
    assert got.status_code == 200, got.text
    r = got.json()
    ref = api.place("iraq_2012_transponder_off", 1, "Kirkuk PSR", overrides={"detection.terrain": False}, grid_km=50,
                    campaigns=4)
    chosen = [ref.candidates[s.index] for s in ref.steps]
    assert [(s["name"], s["lat"], s["lon"]) for s in r["sites"]] == [(c.name, c.lat_deg, c.lon_deg) for c in chosen]
    assert [s["site"] for s in r["steps"]] == ["(existing radars)", chosen[0].name]
    assert r["steps"][1]["marginal_gain"] == round(ref.steps[0].gain, 6)
    assert r["p_detect"] == ref.rescore_layout.value and r["p_detect_before"] == ref.rescore_prefix[0].value
    assert r["candidates"] == len(ref.candidates)


def test_team_bad_inputs_give_the_command_lines_message(client, planner, run_cli, tmp_path):
    sc = "iraq_2012_transponder_off"
    cases = [("/api/evade", {"budgets_km": "0,x"}, "evade-budgets", ("evade", sc, "--max-extra-km", "0,x")),
             ("/api/evade", {"budgets_km": "-5"}, "evade-budgets", ("evade", sc, "--max-extra-km", "-5")),
             ("/api/place", {"add": "1", "like": "Nope"}, "place-like", ("place", sc, "--add", "1", "--like", "Nope")),
             ("/api/place", {"add": "1", "like": "Kirkuk PSR", "grid_km": "1"}, "place-grid",
              ("place", sc, "--add", "1", "--like", "Kirkuk PSR", "--grid-km", "1")),
             ("/api/place", {"add": "x", "like": "Kirkuk PSR"}, "place-add",
              ("place", sc, "--add", "x", "--like", "Kirkuk PSR"))]
    for path, body, field, argv in cases:
        got = client.post(path, json={"scenario": sc, "overrides": FAST, **body})
        assert got.status_code == 400 and got.json()["field"] == field, got.text
        code, _, err = run_cli(*argv, "--set", "detection.terrain=false", "--out", tmp_path / "cli")
        assert code == 2 and err.strip().split(": error: ", 1)[1] == got.json()["error"], (err, got.text)
    # beyond what the page starts: refused with the limit said, before any work; a bad what-if on its control
    xpdr = "aircraft.transponder_on_probability"
    for path, body, field in (("/api/evade", {"budgets_km": "0", "campaigns": 10**6}, "campaigns"),
                              ("/api/evade", {"budgets_km": "0,1,2,3,4,5,6"}, "evade-budgets"),
                              ("/api/evade", {"levels": "mid"}, "evade-levels"),
                              ("/api/place", {"add": "4", "like": "Kirkuk PSR"}, "place-add"),
                              ("/api/place", {"add": "1", "like": "Kirkuk PSR", "grid_km": "5"}, "place-grid"),
                              ("/api/place", {"like": "Kirkuk PSR", "against": "sometimes"}, "place-against"),
                              ("/api/place", {"like": "Kirkuk PSR", "overrides": [[xpdr, "2"]]}, xpdr)):
        got = client.post(path, json={"scenario": sc, "overrides": FAST, **body})
        assert 400 <= got.status_code < 500 and got.json()["field"] == field, got.text
        assert "\n" not in got.json()["error"]
    assert client.post("/api/evade", content=b"{bad", headers={"content-type": "application/json"}).status_code == 400
    assert client.get("/api/place").status_code == 405
    assert client.get("/api/info").status_code == 200          # still serving


# --- unwilling or unable: the public record --------------------------------------------------------------
@pytest.mark.slow
def test_infer_is_the_apis_and_the_command_lines(client, bare, run_cli, tmp_path):
    # the page's answer is sim.api.infer's for the same inputs, number for number; the command line it shows
    # prints the same verdicts and writes the same infer.json, byte for byte, as the page's download
    from sim import api
    got = client.post("/api/infer", json={"scenario": "iraq_2012_record", "overrides": FAST, "samples": "4",
                                          "campaigns": 4})
    assert got.status_code == 200, got.text
    r = got.json()
    ref = api.infer("iraq_2012_record", overrides={"detection.terrain": False}, samples=4, campaigns=4)
    assert r["summary"] == json.loads(json.dumps(ref.summary))
    assert r["verdicts"] == [p["verdict_text"] for p in ref.summary["periods"]]
    sha = hashlib.sha256((SCENARIOS / "iraq_2012_record.toml").read_bytes()).hexdigest()
    assert r["inputs"] == {"scenario": "iraq_2012_record", "sha256": sha, "overrides": ["detection.terrain=false"],
                           "campaigns": 4, "seed": 2012, "samples": 4}
    assert (r["samples"], r["campaigns"], r["flights_per_sample"]) == (4, 4, 60)
    assert r["command"] == ("airpicture infer iraq_2012_record --samples 4 --campaigns 4 "
                            "--set detection.terrain=false")
    code, out, err = run_cli(*shlex.split(r["command"])[1:], "--out", tmp_path / "cli")
    assert code == 0, err
    assert [line.strip() for line in out.splitlines() if "the record supports" in line] == r["verdicts"]
    # the answer's files: written when first asked for (sim.api.write_infer), the token needed
    href = r["downloads"]["infer.json"]
    assert client.get(href).content == (tmp_path / "cli" / "infer.json").read_bytes()
    assert client.get(r["downloads"]["infer.png"]).content[:8] == b"\x89PNG\r\n\x1a\n"
    assert bare.get(href).status_code == 403
    assert client.get(href.replace(r["infer_id"], "i" + "A" * 16)).status_code == 404
    assert client.get(href.replace("infer.json", "flights.csv")).status_code == 404


def test_infer_only_for_a_record_and_bad_inputs_give_the_command_lines_message(client, run_cli, tmp_path):
    # the page offers the answer only for a scenario with a [[record]]: its periods as the file says them
    assert client.get("/api/scenario", params={"id": "iraq_2012_baseline"}).json()["record"] is None
    rec = client.get("/api/scenario", params={"id": "iraq_2012_record"}).json()["record"]
    shipped = load_scenario(SCENARIOS / "iraq_2012_record.toml")
    assert [(p["name"], p["start"], p["days"]) for p in rec["periods"]] == [
        (p.name, p.start.isoformat(), p.days) for p in shipped.record]
    assert [[(o["kind"], o["count"]) for o in p["observed"]] for p in rec["periods"]] == [
        [(o.kind, o.count) for o in p.observations] for p in shipped.record]
    # the command line's 64 points, halved to fit the page's 100,000 flights: 32 x 134 campaigns x 15 flights
    assert (rec["samples_cli"], rec["samples"], rec["capability"]) == (64, 32, ["response.decision_delay_min"])
    sc, cli = "iraq_2012_record", ("--campaigns", "2", "--set", "detection.terrain=false")
    cases = [("iraq_2012_record", "x", "infer-samples"), ("iraq_2012_record", "0", "infer-samples"),
             ("iraq_2012_record", "12", "infer-samples"), ("iraq_2012_baseline", "4", "infer")]
    for name, samples, field in cases:
        got = client.post("/api/infer", json={"scenario": name, "overrides": FAST, "samples": samples, "campaigns": 2})
        assert got.status_code == 400 and got.json()["field"] == field, got.text
        code, _, err = run_cli("infer", name, "--samples", samples, *cli, "--out", tmp_path / "cli")
        assert code == 2 and err.strip().split(": error: ", 1)[1] == got.json()["error"], (err, got.text)
    # beyond what the page starts: refused with the limit said, before any work; a bad what-if on its control
    xpdr = "aircraft.transponder_on_probability"
    for body, field in (({"samples": "64", "campaigns": 200}, "infer-samples"),
                        ({"campaigns": 10**6}, "campaigns"), ({"overrides": [[xpdr, "2"]]}, xpdr)):
        got = client.post("/api/infer", json={"scenario": sc, "overrides": FAST, **body})
        assert got.status_code == 400 and got.json()["field"] == field, got.text
        assert "\n" not in got.json()["error"]
    assert "airpicture infer has no such limit" in client.post("/api/infer", json={
        "scenario": sc, "samples": "64", "campaigns": 200}).json()["error"]


# --- the command ---------------------------------------------------------------------------------------
def test_serve_refuses_bad_arguments_in_one_line(run_cli):
    code, _, err = run_cli("serve", "nosuch_scenario")
    assert code == 2 and err.count("\n") == 1 and "nosuch_scenario" in err
    code, _, err = run_cli("serve", "--port", "70000")
    assert code == 2 and "--port" in err
    # another address than loopback: said with a warning (192.0.2.1 is TEST-NET-1: never this machine's, so
    # the bind fails and nothing is served)
    code, _, err = run_cli("serve", "--host", "192.0.2.1", "--port", "0")
    lines = err.strip().splitlines()
    assert code == 2 and "warning" in lines[0] and "without any authentication" in lines[0]
    assert lines[1].startswith("airpicture: error: --host: cannot listen on 192.0.2.1")


def test_serve_stops_cleanly_on_ctrl_c(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "serve", "iraq_2012_transponder_off", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        folder = Path(re.search(r"files in (\S+),", line).group(1))
        assert folder.is_dir()
        info = httpx.get(url + "api/info", timeout=30).json()
        assert info["default_scenario"] == "iraq_2012_transponder_off"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert not folder.exists()                      # its own folder removed
    assert list(tmp_path.iterdir()) == []          # and nothing written where it was started


# --- the page in a real browser ------------------------------------------------------------------------
def _chromium():
    """Debian's chromium, or the reason the browser tests skip."""
    path = os.environ.get("AIRPICTURE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return path


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    """(page, planner, url, requests, console messages, expect, tokens sent): the page open in headless Chromium
    on a loopback server; ``tokens sent`` is ``(url, X-Airpicture-Token header or None)`` of every request."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (the test extra)")
    chromium = _chromium()
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)")
    planner = Planner(tmp_path_factory.mktemp("browser-page"))
    requests, console, sent = [], [], []
    with _Serving(planner) as srv, sync_api.sync_playwright() as p:
        url = srv.url
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})

        def route(r):                  # every request is intercepted: anything not on loopback is refused
            requests.append(r.request.url)
            sent.append((r.request.url, r.request.headers.get(TOKEN_HEADER.lower())))
            if urlparse(r.request.url).hostname == "127.0.0.1":
                r.continue_()
            else:
                r.abort()
        page.route("**/*", route)
        page.on("console", lambda m: console.append((m.type, m.text)))
        page.on("pageerror", lambda e: console.append(("pageerror", str(e))))
        page.goto(url)
        sync_api.expect(page.locator("#headline")).to_contain_text("P(detect)", timeout=90_000)
        yield page, planner, url, requests, console, sync_api.expect, sent
        browser.close()


@pytest.mark.slow   # CI only (.ci/run): a cold baseline in the page and on the command line, about 20 s
def test_page_in_chromium(browser_page, run_cli, tmp_path):
    page, planner, url, requests, console, expect, sent = browser_page
    # loaded offline: no console error, every request to this server
    assert not [m for m in console if m[0] in ("error", "pageerror")], console
    assert requests and all(urlparse(u).hostname == "127.0.0.1" for u in requests), requests
    assert any(u.endswith("/static/leaflet/leaflet.js") for u in requests)
    assert page.locator(".leaflet-overlay-pane path, .leaflet-coverage-pane path").count() > 0   # the map drew

    # transponders off: the headline is exactly what the command line prints for the same seed and size
    campaigns = page.input_value("#campaigns")
    page.fill('input[data-key="aircraft.transponder_on_probability"]', "0")
    page.click("#run")
    expect(page.locator("#run-title")).to_contain_text("what-if", timeout=60_000)
    lines = _cli_lines(run_cli, tmp_path, "iraq_2012_baseline", campaigns,
                       [("aircraft.transponder_on_probability", "0")])
    assert page.locator("#headline").text_content() == lines[1]
    assert page.locator("#run-title").text_content() == lines[0]
    assert not [m for m in console if m[0] in ("error", "pageerror")], console

    # a bad value: its message beside the control, the command line's, and no run starts
    shown = page.locator("#headline").text_content()
    runs = planner.runs_started
    page.fill('input[data-key="aircraft.transponder_on_probability"]', "1.5")
    page.click("#run")
    expect(page.locator("#status")).to_contain_text("Not run")
    code, _, err = run_cli("run", "iraq_2012_baseline", "--set", "aircraft.transponder_on_probability=1.5")
    message = err.strip().removeprefix("airpicture: error: ")
    assert code == 2
    row_error = page.locator('input[data-key="aircraft.transponder_on_probability"]').locator(
        "xpath=ancestor::div[contains(@class,'row')]/following-sibling::div[contains(@class,'err')][1]")
    assert row_error.text_content() == message
    assert page.locator("#headline").text_content() == shown and planner.runs_started == runs

    # the page got its server's token and sends it with every request of the API; its download links carry it
    # as ?token= (a link cannot send a header) and work; the same link without it is refused
    token = page.get_attribute('meta[name="airpicture-token"]', "content")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    api_sent = [(u, t) for u, t in sent if urlparse(u).path.startswith("/api/")]
    assert api_sent and all(t == token for _, t in api_sent), api_sent
    href = page.locator("#downloads a", has_text="summary.json").get_attribute("href")
    assert urlparse(href).query == f"token={token}"
    got = httpx.get(url + href.lstrip("/"), timeout=60)
    run_id = urlparse(href).path.split("/")[3]
    assert got.status_code == 200 and got.json()["p_detect"] == planner.record(run_id).summary["p_detect"]
    assert httpx.get(url + urlparse(href).path.lstrip("/"), timeout=60).status_code == 403

    # the page as a planner sees it, kept as a test artefact
    page.fill('input[data-key="aircraft.transponder_on_probability"]', "0")
    page.click("#run")
    expect(page.locator("#status")).to_contain_text("Done", timeout=60_000)
    out = ROOT / "build" / "test-artefacts"
    out.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(path=str(out / "serve-page.png"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == 1440
    assert all(urlparse(u).hostname == "127.0.0.1" for u in requests)


def _visible_labels(page):
    """The map's permanent labels as shown: [text, left, top, right, bottom] (page pixels)."""
    return page.evaluate("""() => [...state.map.getPane('labels').querySelectorAll('.leaflet-tooltip')]
        .filter((t) => t.style.visibility !== 'hidden' && t.style.opacity !== '0')
        .map((t) => { const r = t.getBoundingClientRect(); return [t.textContent, r.left, r.top, r.right, r.bottom]; })""")


@pytest.mark.slow   # CI only (.ci/run): after test_page_in_chromium (the same page), about 40 s
def test_page_never_shows_a_stale_answer_in_chromium(browser_page, monkeypatch, tmp_path):
    """Issue 28 on the page: stale markers, the teams' layers dropped, Compare one row per distinct run with
    its deltas, a CSV and deletion, a radar off drawn as off, the map's PNG, the brief's progress, and the
    page at 1280x720."""
    page, planner, url, requests, console, expect, sent = browser_page
    xpdr = 'input[data-key="aircraft.transponder_on_probability"]'
    stale = page.locator("#tab-whatif .stale-note")
    shown = page.locator("#headline").text_content()
    # an edited control marks the headline and the map "not run for these inputs" until Run; undone, unmarked
    before = page.input_value(xpdr)
    page.fill(xpdr, "0.5")
    expect(stale).to_be_visible()
    expect(stale).to_contain_text("Not run for these inputs")
    expect(page.locator("#map .map-stale")).to_be_visible()
    assert "stale" in page.get_attribute("#map", "class") and page.locator("#headline").text_content() == shown
    assert "stale" in page.get_attribute('.tabs button[data-tab="whatif"]', "class")
    page.fill(xpdr, before)
    expect(stale).to_be_hidden()
    expect(page.locator("#map .map-stale")).to_be_hidden()

    # Compare: the same inputs twice give one row, refreshed in place
    rows = page.locator("#compare-table tr[data-key]")
    page.fill(xpdr, "0.5")
    for _ in range(2):
        page.click("#run")
        expect(page.locator("#status")).to_contain_text("Done", timeout=60_000)
        expect(stale).to_be_hidden()
    n = rows.count()
    assert n == len(set(rows.evaluate_all("(rs) => rs.map((r) => r.dataset.key)")))
    assert page.evaluate("() => state.history.filter((h) => h.r.pageKey === state.run.pageKey).length") == 1

    # the red team on a small budget draws its routes; a changed input takes them off the map, said on its tab
    page.click('.tabs button[data-tab="red"]')
    page.fill("#evade-budgets", "50")
    page.fill("#evade-campaigns", "4")
    page.click("#evade-run")
    expect(page.locator("#status")).to_contain_text("Red team: done", timeout=120_000)
    page.click('.tabs button[data-tab="whatif"]')
    assert page.evaluate("() => state.map.hasLayer(state.teamLayers['Red team routes'])")
    assert page.locator("#map .team-label").count() > 0
    # Kirkuk PSR unticked from the keyboard (Enter on its checkbox, as Space)
    box = page.locator('input[data-radar="Kirkuk PSR"]')
    box.focus()
    page.keyboard.press("Enter")
    assert not box.is_checked()
    expect(page.locator("#map .team-label")).to_have_count(0)
    assert not page.evaluate("() => state.map.hasLayer(state.teamLayers['Red team routes'])")
    expect(page.locator("#tab-red .stale-note")).to_contain_text("Not run for these inputs")
    # run: Kirkuk PSR is drawn as off (outlined and dotted, never filled) and the legend says so
    page.click("#run")
    expect(page.locator("#status")).to_contain_text("Done", timeout=60_000)
    expect(stale).to_be_hidden()
    expect(page.locator(".legend")).to_contain_text("off (availability 0): Kirkuk PSR")
    style = page.evaluate("() => state.layers['coverage:Kirkuk PSR'].getLayers()[0].options")
    assert style["fill"] is False and style["dashArray"] and style["color"] != page.evaluate("state.info.colors.primary")
    assert "Coverage: Kirkuk PSR (off)" in page.locator(".leaflet-control-layers-overlays").text_content()
    assert page.locator("#map .team-label").count() == 0         # the routes were for Kirkuk on

    # Compare: deltas of P(detect) and P(stopped) against the chosen reference; CSV; delete a row
    page.click('.tabs button[data-tab="compare"]')
    assert page.locator("#compare-table tr[data-key]").count() == n + 1
    page.locator("#compare-table tr[data-key]").nth(n).locator('input[type="radio"]').check()
    with page.expect_download() as got:
        page.click("#compare-csv")
    import csv
    table = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8"))))
    history = page.evaluate("() => state.history.map((h) => h.r.summary)")
    assert len(table) == len(history) == n + 1 and [t["reference"] for t in table] == ["no"] * n + ["yes"]
    ref = history[n]
    for t, s in zip(table, history):
        assert float(t["p_detect"]) == s["p_detect"]
        d_detect = next(v for k, v in t.items() if k.startswith("delta_p_detect_vs_row_"))
        d_stopped = next(v for k, v in t.items() if k.startswith("delta_p_stopped_vs_row_"))
        if t["reference"] == "no":       # the differences by hand from the runs' own summaries
            assert float(d_detect) == pytest.approx(s["p_detect"] - ref["p_detect"], abs=1e-12)
            assert float(d_stopped) == pytest.approx(s["response"]["p_stopped"] - ref["response"]["p_stopped"], abs=1e-12)
        else:
            assert d_detect == d_stopped == ""
    first = page.locator("#compare-table tr[data-key]").first
    assert first.locator("td").nth(5).text_content().strip()          # Δ P(detect) shown
    assert first.locator("td").nth(7).text_content().strip()          # Δ P(stopped) shown
    first.get_by_role("button", name="delete row 1").click()
    assert page.locator("#compare-table tr[data-key]").count() == n
    # a message about another tab's action does not stay on this one
    page.click('.tabs button[data-tab="sweep"]')
    page.fill("#sweep-values", "0,x")
    page.click("#sweep-run")
    expect(page.locator("#status")).to_contain_text("Sweep not run")
    page.click('.tabs button[data-tab="compare"]')
    expect(page.locator("#status")).not_to_contain_text("Sweep not run")

    # the map as it stands, as a PNG drawn in the page (no request leaves it)
    page.click('.tabs button[data-tab="whatif"]')
    n_requests = len(requests)
    with page.expect_download() as got:
        page.click("#map .map-export")
    png = Path(got.value.path()).read_bytes()
    box_px = page.evaluate("() => { const r = state.map.getContainer().getBoundingClientRect(); return [r.width, r.height]; }")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == round(box_px[0])
    assert int.from_bytes(png[20:24], "big") > round(box_px[1])         # the view and the band naming its run
    assert len(requests) == n_requests

    # brief.pdf takes seconds: the page says it is building, then saves it
    def slow_brief(where, scenario, **kw):
        import time
        time.sleep(2.5)
        where.mkdir(parents=True, exist_ok=True)
        (where / "brief.pdf").write_bytes(b"%PDF-1.4 stand-in")
    monkeypatch.setattr(planner_module, "simulate_to", slow_brief)
    with page.expect_download(timeout=60_000) as got:
        page.locator("#downloads a", has_text="brief.pdf").click()
        expect(page.locator("#status")).to_contain_text("Building brief.pdf")
        assert "busy" in page.get_attribute("#status", "class")
    assert Path(got.value.path()).read_bytes() == b"%PDF-1.4 stand-in"
    expect(page.locator("#status")).to_contain_text("brief.pdf built")

    # the keyboard reaches every control: nothing shown is out of the tab order
    out_of_order = page.evaluate("""() => [...document.querySelectorAll('input, select, button, a[href], textarea')]
        .filter((e) => e.offsetParent !== null && e.tabIndex < 0).map((e) => e.outerHTML.slice(0, 80))""")
    assert out_of_order == []
    assert not [m for m in console if m[0] == "pageerror"], console

    # the page at 1280x720: Tehran and Damascus in the first view, the legend under a third of the map, no
    # two labels overlapping, and the scenario's name, file hash and the tool's version shown
    small = page.context.browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        small.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1" else r.abort())
        small.goto(url)
        expect(small.locator("#headline")).to_contain_text("P(detect)", timeout=90_000)
        small.wait_for_timeout(300)
        for name, lat, lon in (("Tehran Mehrabad", 35.6892, 51.3134), ("Damascus", 33.4114, 36.5156)):
            assert small.evaluate(f"() => state.map.getBounds().contains([{lat}, {lon}])"), name
        m = small.evaluate("() => { const r = state.map.getContainer().getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }")
        assert m[0] >= 0 and m[1] >= 0 and m[2] <= 1280 and m[3] <= 720          # the whole map on the screen
        lg = small.locator(".legend").bounding_box()
        assert lg["width"] * lg["height"] < (m[2] - m[0]) * (m[3] - m[1]) / 3
        labels = _visible_labels(small)
        assert any(t.startswith("Tehran") for t, *_ in labels) and any(t.startswith("Damascus") for t, *_ in labels)
        for i, (ta, *a) in enumerate(labels):
            assert m[0] <= a[0] and a[2] <= m[2] and m[1] <= a[1] and a[3] <= m[3], ta
            for tb, *b in labels[i + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (ta, tb)
        from sim import __version__
        sha = hashlib.sha256((SCENARIOS / "iraq_2012_baseline.toml").read_bytes()).hexdigest()
        assert small.locator("#run-identity").text_content() == (
            f"iraq_2012_baseline · file sha256 {sha[:12]} · airpicture {__version__}")
        assert small.locator(".leaflet-control-scale-line").text_content().strip().endswith("km")
        small.mouse.move(m[0] + 200, m[1] + 200)
        assert re.fullmatch(r"\d+\.\d{4}°N \d+\.\d{4}°E", small.locator("#map .coords").text_content())
        out = ROOT / "build" / "test-artefacts"
        out.mkdir(parents=True, exist_ok=True)
        small.screenshot(path=str(out / "serve-page-1280x720.png"))
    finally:
        small.close()


@pytest.mark.slow   # CI only (.ci/run): after the other browser tests (the same page), about 30 s
def test_unwilling_or_unable_in_chromium(browser_page, run_cli, monkeypatch, tmp_path):
    """Issue 29 on the page: the answer of the public record (airpicture infer) on its own tab, shown only for a
    scenario with a [[record]]: running, then the verdict per period as the command line it shows prints it,
    the chart, the stale marker on an edited input, and the files."""
    page, planner, url, requests, console, expect, sent = browser_page
    tab = page.locator('.tabs button[data-tab="infer"]')
    page.select_option("#scenario", "iraq_2012_baseline")
    expect(page.locator("#status")).to_contain_text("Done", timeout=120_000)
    expect(tab).to_be_hidden()                             # no record: no tab
    page.select_option("#scenario", "iraq_2012_record")
    expect(page.locator("#status")).to_contain_text("Done", timeout=120_000)
    expect(tab).to_be_visible()
    tab.click()
    assert page.locator("#infer-record tr").count() == 1 + 2          # the shipped record's two periods
    expect(page.locator("#infer-record")).to_contain_text("2 ordered to land, 2 searched")
    assert page.input_value("#infer-samples") == "32"

    # while it runs the page says so (the server held for a second to see it)
    infer = planner.infer

    def slow_infer(*args, **kw):
        import time
        time.sleep(1.5)
        return infer(*args, **kw)
    monkeypatch.setattr(planner, "infer", slow_infer)
    page.fill("#infer-samples", "4")
    page.click("#infer-run")
    expect(page.locator("#infer-running")).to_contain_text("Inferring from the record")
    assert "busy" in page.get_attribute("#status", "class")
    expect(page.locator("#status")).to_contain_text("Unwilling or unable: done", timeout=120_000)
    expect(page.locator("#infer-running")).to_be_hidden()

    # the verdict per period in words, and the line the command line it shows prints for it
    command = page.locator("#infer-command").text_content()
    assert command == f"airpicture infer iraq_2012_record --samples 4 --campaigns {page.input_value('#campaigns')}"
    code, out, err = run_cli(*shlex.split(command)[1:], "--out", tmp_path / "cli")
    assert code == 0, err
    printed = [line.strip() for line in out.splitlines() if "the record supports" in line]
    summary = json.loads((tmp_path / "cli" / "infer.json").read_text())
    cards = page.locator("#infer-periods .verdict")
    assert cards.count() == len(printed) == 2
    for i, p in enumerate(summary["periods"]):
        card = cards.nth(i)
        assert card.locator(".verdict-text").text_content() == printed[i]
        assert card.locator(".answer").text_content().lower().startswith(p["verdict"])
        assert f"will {p['will']['mean']:.3f} [{p['will']['ci90'][0]:.3f}-{p['will']['ci90'][1]:.3f}]" in \
            card.locator(".nums").first.text_content()
    # the chart: per period could stop (a circle) and did stop (a square), and the legend's one of each
    assert page.locator("#infer-chart svg circle").count() == 3 and page.locator("#infer-chart svg rect").count() == 3
    expect(page.locator("#infer-chart")).to_contain_text("the gap is will")
    out = ROOT / "build" / "test-artefacts"          # the answer as a planner sees it, kept as a test artefact
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "serve-infer.png"))

    # an edited input marks the answer "not run for these inputs"; undone, unmarked
    stale = page.locator("#tab-infer .stale-note")
    expect(stale).to_be_hidden()
    page.fill("#infer-samples", "8")
    expect(stale).to_be_visible()
    expect(stale).to_contain_text("Not run for these inputs")
    assert "stale" in tab.get_attribute("class")
    page.fill("#infer-samples", "4")
    expect(stale).to_be_hidden()
    xpdr = 'input[data-key="aircraft.transponder_on_probability"]'
    page.fill(xpdr, "0.5")
    expect(stale).to_be_visible()
    page.fill(xpdr, "1")
    expect(stale).to_be_hidden()
    # a bad value: the command line's message beside the points, nothing run
    page.fill("#infer-samples", "12")
    page.click("#infer-run")
    expect(page.locator('.err[data-for="infer-samples"]')).to_have_text(
        "--samples: must be a power of two (a balanced Sobol sample), got 12")
    page.fill("#infer-samples", "4")

    # the files, with the token on the link
    href = page.locator("#infer-downloads a", has_text="infer.png").get_attribute("href")
    assert httpx.get(url + href.lstrip("/"), timeout=60).content[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [m for m in console if m[0] == "pageerror"], console
    # another scenario: the tab and its answer go
    page.select_option("#scenario", "iraq_2012_baseline")
    expect(page.locator("#status")).to_contain_text("Done", timeout=120_000)
    expect(tab).to_be_hidden()
    assert page.evaluate("() => state.infer") is None and page.locator("#tab-whatif").is_visible()
