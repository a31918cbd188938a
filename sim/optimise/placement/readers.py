"""The candidates' CSV files: sites (``lat, lon[, name, mast_m]``) and racetracks (``lat1, lon1, lat2,
lon2[, name]``), checked line by line; an error names the file, the line and the column."""
import csv
import difflib
import io
import math
from pathlib import Path

from sim.optimise.placement.candidates import (CANDIDATES_MAX, Candidate, _check_track, _site_elevation, site_name,
                                               track_name)
from sim.platforms import Racetrack
from sim.scenario import ScenarioError, text_refusal

__all__ = ["read_candidates", "read_racetracks", "CSV_COLUMNS", "RACETRACK_COLUMNS", "CSV_MAX_BYTES"]

#: Columns of a candidates CSV (lat and lon required).
CSV_COLUMNS = ("lat", "lon", "name", "mast_m")
#: Largest candidates CSV [bytes].
CSV_MAX_BYTES = 1 << 20


def read_candidates(path, scenario, antenna_height_m, terrain=None):
    """Candidate sites from a CSV file: a header naming the columns ``lat, lon[, name, mast_m]`` (any order),
    then one site per line (degrees; ``mast_m`` the antenna above the ground [m], default the ``like``
    radar's). Raises :class:`~sim.scenario.ScenarioError` naming the file, the line and the column."""
    src = str(path)
    header = "lat,lon[,name,mast_m]"

    def wrong_kind(cols):
        return set(RACETRACK_COLUMNS[:4]) <= set(cols) and (
            "racetracks (lat1,lon1,lat2,lon2) are candidates for a --like radar that flies an orbit; this one stands "
            f"on a fixed site: give sites {header}")

    out, names = [], set()
    for where, v in _csv_records(path, "a CSV of sites lat, lon[, name, mast_m]", "sites", header, CSV_COLUMNS, 2,
                                 wrong_kind):
        lat, lon = _csv_number(src, where, v, "lat", -90.0, 90.0), _csv_number(src, where, v, "lon", -180.0, 180.0)
        mast = _csv_number(src, where, v, "mast_m", 0.0, 1000.0, " m") if v.get("mast_m") else float(antenna_height_m)
        name = _csv_name(src, where, v.get("name") or site_name(lat, lon), names)
        out.append(Candidate(name, lat, lon, mast, _site_elevation(scenario, terrain, lat, lon, (src, where))))
        if len(out) > CANDIDATES_MAX:
            raise ScenarioError(src, where, f"more than {CANDIDATES_MAX:,} sites")
    return tuple(out)


def _csv_records(path, what, kind, header, columns, n_required, wrong_kind):
    """The rows of a candidates CSV (:func:`_csv_rows`) checked against its header: ``(where, values)`` each,
    ``where`` its line ("line N") and ``values`` a dict of its cells by column. ``columns`` are those the
    header may name, the first ``n_required`` of them required; ``wrong_kind(cols)`` says why a header
    belongs to the other kind of candidates (else False)."""
    src = str(path)
    rows = _csv_rows(path, what)
    if not rows:
        raise ScenarioError(src, None, f"no header and no {kind}: give a header line {header}")
    n0, head = rows[0]
    cols = [c.strip().lower() for c in head]
    other = wrong_kind(cols)
    if other:
        raise ScenarioError(src, f"line {n0}", other)
    for c in cols:
        if c not in columns:
            near = difflib.get_close_matches(c, columns, n=1)
            raise ScenarioError(src, f"line {n0}", f"unknown column {c!r}" + (
                f" (did you mean {near[0]}?)" if near else f" (columns: {', '.join(columns)})"))
    for c in columns[:n_required]:
        if c not in cols:
            raise ScenarioError(src, f"line {n0}", f"the header has no column {c!r} (header: {header})")
    if len(set(cols)) != len(cols):
        raise ScenarioError(src, f"line {n0}", "a column is named twice")
    if len(rows) == 1:
        raise ScenarioError(src, None, f"no {kind} after the header")
    for n, r in rows[1:]:        # one at a time: a row's errors are found before the next row's
        if len(r) != len(cols):
            raise ScenarioError(src, f"line {n}", f"{len(r)} values for {len(cols)} columns")
        yield f"line {n}", dict(zip(cols, (c.strip() for c in r)))


def _csv_number(src, where, values, key, lo, hi, unit=""):
    """The cell ``key`` of a candidates CSV row as a number within ``[lo, hi]`` (else a ScenarioError)."""
    try:
        x = float(values[key])
    except ValueError:
        raise ScenarioError(src, where, f"{key}: must be a number, got {values[key]!r}") from None
    if not (math.isfinite(x) and lo <= x <= hi):
        raise ScenarioError(src, where, f"{key}: must be between {lo:g} and {hi:g}{unit}, got {values[key]}")
    return x


def _csv_name(src, where, name, names):
    """A candidate's name, checked (at most 80 characters, no brackets, no character a scenario string may not
    hold: :func:`~sim.scenario.text_refusal`, not given twice) and added to ``names``. Its errors name the CSV
    file, the line and the column (the name becomes a radar's, whose own check would name the scenario)."""
    why = text_refusal(name)
    if why:
        raise ScenarioError(src, where, f"name: {why}")
    if len(name) > 80 or "]" in name or "[" in name:
        raise ScenarioError(src, where, f"name: at most 80 characters, no brackets, got {name!r}")
    if name in names:
        raise ScenarioError(src, where, f"name: {name!r} is given twice")
    names.add(name)
    return name


def _csv_rows(path, what):
    """The non-blank, non-comment rows of a small UTF-8 CSV file, ``[(line number, cells)]``."""
    p = Path(path)
    src = str(path)
    try:
        if not p.is_file():
            raise ScenarioError(src, None, f"no such file (--candidates takes {what})")
        if p.stat().st_size > CSV_MAX_BYTES:
            raise ScenarioError(src, None, f"larger than {CSV_MAX_BYTES // 1024} KiB")
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(src, None, "not UTF-8 text") from None
    except OSError as e:
        raise ScenarioError(src, None, f"cannot read it ({e.strerror or e})") from None
    return [(n, r) for n, r in enumerate(csv.reader(io.StringIO(text)), start=1)
            if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]


#: Columns of a racetracks CSV (the four waypoint coordinates required).
RACETRACK_COLUMNS = ("lat1", "lon1", "lat2", "lon2", "name")


def read_racetracks(path):
    """Candidate orbits from a CSV file: a header naming the columns ``lat1, lon1, lat2, lon2[, name]`` (any
    order), then one racetrack per line: the two waypoints [deg] the platform flies out and back between (the
    same point twice: it holds there). Raises :class:`~sim.scenario.ScenarioError` naming the file, the line and
    the column."""
    src = str(path)
    header = "lat1,lon1,lat2,lon2[,name]"

    def wrong_kind(cols):
        return "lat" in cols and "lat1" not in cols and (
            f"sites (lat,lon) are candidates for a --like radar on a fixed site; this one flies an orbit: give "
            f"racetracks {header}")

    out, names = [], set()
    for where, v in _csv_records(path, "racetracks lat1, lon1, lat2, lon2[, name] for an orbiting --like radar",
                                 "racetracks", header, RACETRACK_COLUMNS, 4, wrong_kind):
        la1, lo1 = _csv_number(src, where, v, "lat1", -90.0, 90.0), _csv_number(src, where, v, "lon1", -180.0, 180.0)
        la2, lo2 = _csv_number(src, where, v, "lat2", -90.0, 90.0), _csv_number(src, where, v, "lon2", -180.0, 180.0)
        name = _csv_name(src, where, v.get("name") or track_name(la1, lo1, la2, lo2), names)
        out.append(_check_track(Racetrack(name, la1, lo1, la2, lo2), (src, where)))
        if len(out) > CANDIDATES_MAX:
            raise ScenarioError(src, where, f"more than {CANDIDATES_MAX:,} racetracks")
    return tuple(out)
