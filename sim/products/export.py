"""Contract files of a run, written atomically.

Files are first written to a hidden staging folder next to the output
folder and moved into place only when every file is complete, so a failed
run leaves no partial outputs.
"""
import contextlib
import csv
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from geo.units import KMH_MPS
from sim.platforms import Orbit
from sim.results import ASSUMPTIONS_NOTE

__all__ = ["staged_output", "write_json", "write_csv", "routes_feature_collection", "feature_collection",
           "write_readme", "write_sidecar",
           "radar_features", "ROUTE_EXPORT_STEP_S"]

#: Time step of route ground tracks in GeoJSON/KML exports [s] (about 6.5 km at cruise).
ROUTE_EXPORT_STEP_S = 30.0


@contextlib.contextmanager
def staged_output(out_dir):
    """Yield a staging folder; on success move its files into ``out_dir``.

    On any exception the staging folder is removed, and ``out_dir`` too if
    this call created it, so nothing partial is left behind.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out}: exists and is not a folder")
    created = not out.exists()
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".airpicture-", dir=out.parent))
    try:
        yield stage
        out.mkdir(parents=True, exist_ok=True)
        for f in sorted(stage.iterdir()):
            os.replace(f, out / f.name)
    except BaseException:
        if created and out.exists():
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_json(path, obj):
    """Deterministic JSON (sorted by construction order, fixed float repr, final newline)."""
    Path(path).write_text(json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                          encoding="utf-8")


def write_csv(path, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    Path(path).write_text(buf.getvalue(), encoding="utf-8")


def _round(a, nd=5):
    return np.round(np.asarray(a, dtype=float), nd).tolist()


def feature_collection(features, scenario_name, overrides=()):
    """A GeoJSON FeatureCollection carrying the scenario, its overrides (a what-if, when any) and the
    open-source note (an RFC 7946 foreign member, ignored by GIS tools that do not know it)."""
    about = {"scenario": scenario_name, **({"overrides": list(overrides)} if overrides else {}),
             "note": ASSUMPTIONS_NOTE}
    return {"type": "FeatureCollection", "airpicture": about, "features": list(features)}


_README = """airpicture outputs of scenario {name} (seed {seed})

{note}

summary.json     the headline numbers (P(detect) with its 95% interval, detected per campaign,
                 per radar and per route figures, the settings used)
flights.csv      one row per simulated flight (detected, first detection time and radar,
                 minutes in the airspace and in radar coverage, ...)
routes.geojson   the nominal routes' ground tracks and the radar sites (WGS84 lon/lat)
{extra}
The same scenario and seed give byte-identical summary.json and flights.csv.
"""


def write_sidecar(path, what, files):
    """A README.txt for an output folder other than a run's: what it is (scenario, run), the files, the note.

    ``what`` says which scenarios and run the files come from; ``files`` lists them, one per line.
    """
    Path(path).write_text(f"airpicture outputs: {what}\n\n{ASSUMPTIONS_NOTE}\n\n{files}", encoding="utf-8")


def _run_settings_text(summary):
    """The README's section on how this run differs from the scenario file ("" when it does not)."""
    lines = []
    if summary.get("overrides"):
        n = len(summary["overrides"])
        lines += [f"What-if: {n} change{'s' if n > 1 else ''} to the scenario file (--set), applied in this order:",
                  *(f"  {text}" for text in summary["overrides"])]
    if summary.get("exact"):
        lines.append("Exact geometry: every scan evaluated from its geometry, no detection tables (--exact).")
    return "\n".join(lines) + "\n\n" if lines else ""


def write_readme(path, summary, extra=""):
    """A plain-text README for an output folder: what each file is, the run's overrides (a what-if) and
    exact geometry when used, and the open-source note."""
    text = _README.format(name=summary["scenario"], seed=summary["seed"], note=summary["note"], extra=extra)
    head, rest = text.split("\n\n", 1)
    Path(path).write_text(f"{head}\n\n{_run_settings_text(summary)}{rest}", encoding="utf-8")


def routes_feature_collection(routes, step_s=ROUTE_EXPORT_STEP_S, extra_features=(), scenario_name="", overrides=()):
    """GeoJSON FeatureCollection (RFC 7946, lon/lat) of the nominal routes' ground tracks (``overrides``:
    the run's ``--set`` texts, recorded beside the scenario's name)."""
    features = []
    for r in routes:
        idx = np.unique(np.concatenate([np.arange(0, len(r.t_s), max(int(step_s / r.step_s), 1)),
                                        [len(r.t_s) - 1]]))
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString",
                         "coordinates": [list(p) for p in zip(_round(r.lon_deg[idx]), _round(r.lat_deg[idx]))]},
            "properties": {
                "kind": "route",
                "name": r.name,
                "weight": r.weight,
                "length_km": round(r.length_m / 1000.0, 1),
                "duration_min": round(r.duration_s / 60.0, 1),
                "cruise_altitude_m": round(r.cruise_altitude_m, 1),
                "cruise_altitude_agl_m": None if r.cruise_agl_m is None else round(r.cruise_agl_m, 1),
                **({} if r.clearance_min_m is None else {
                    "clearance_min_m": round(r.clearance_min_m, 1), "clearance_mean_m": round(r.clearance_mean_m, 1)}),
                "cross_track_sigma_km": round(r.cross_track_sigma_m / 1000.0, 3),
                "sample_step_s": step_s,
                "altitude_m": _round(r.alt_m[idx], 1),
                "time_s": _round(r.t_s[idx], 1),
            },
        })
    features.extend(extra_features)
    return feature_collection(features, scenario_name, overrides)


def _platform_geometry(p):
    """A fixed site as a Point; an orbit as the LineString of its closed loop."""
    if isinstance(p, Orbit) and p.period_s > 0:
        lat = np.append(p.waypoint_lat_deg, p.waypoint_lat_deg[0])
        lon = np.append(p.waypoint_lon_deg, p.waypoint_lon_deg[0])
        return {"type": "LineString", "coordinates": [list(q) for q in zip(_round(lon), _round(lat))]}
    lat, lon = p.loop_lat_lon()
    return {"type": "Point", "coordinates": [round(float(lon[0]), 5), round(float(lat[0]), 5)]}


def radar_features(radars):
    """GeoJSON features of the radars: a Point per fixed site, the loop (LineString) of an orbit."""
    return [{
        "type": "Feature",
        "geometry": _platform_geometry(r.platform),
        "properties": {"kind": "radar", "name": r.name, "radar_kind": r.kind.name,
                       "platform": "orbit" if isinstance(r.platform, Orbit) else "fixed site",
                       "range_km": round(r.range_m / 1000.0, 1),
                       "antenna_alt_m": round(r.antenna_alt_m, 1),
                       **({"speed_kmh": round(r.platform.speed_mps / KMH_MPS, 1)} if isinstance(r.platform, Orbit) else {}),
                       "scan_period_s": r.scan_period_s, "availability": r.availability},
    } for r in radars]
