"""Products of ``airpicture evade``: the front (CSV, JSON, chart), the routes (map, GeoJSON, KML) and the
routes' scenario files.

Everything here draws or writes an :class:`sim.analysis.evade.EvadeResult`
it is given; nothing runs the search or the Monte Carlo. The scenario
files are written as TOML by :func:`toml_text` (the scenario format's value
types: tables, arrays of tables, inline tables, strings, numbers, booleans
and arrays), and read back before they are kept: each file parses to
exactly the document the route was re-scored with.
"""
import dataclasses
import json
import math
import re
import tomllib
from pathlib import Path

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, LogNorm
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Patch

from geo.coverage import load_borders, project_geometry
from sim.products.export import feature_collection, write_csv, write_json, write_sidecar
from sim.products.kml import build_kml
from sim.products.maps import (draw_countries, draw_graticule, draw_north_arrow, draw_scale_bar, draw_sites,
                               polygon_path, set_map_extent)
from sim.products.style import (COLORS, FONT_SIZE, LINES, MARKERS, PALETTE, figure_footnote, figure_heading, new_figure,
                                 save_figure, use_style)
from sim.results import ASSUMPTIONS_NOTE

__all__ = ["toml_text", "scenario_file_name", "front_rows", "run_text", "draw_front", "front_figure",
           "draw_hazard_panel", "map_figure", "routes_geojson", "routes_kml", "write_evade", "EVADE_FILES",
           "HAZARD_WINDOW_S"]

#: The hazard map shows the hazard per this much flight time [s] (per minute), on a log scale between
#: these bounds: 0.01 (a 1% chance of detection in a minute there) to 100.
HAZARD_WINDOW_S = 60.0
HAZARD_SCALE = (0.01, 100.0)
#: The files an evade output folder holds besides the routes' scenario files (``evade-*.toml``).
EVADE_FILES = ("README.txt", "front.csv", "front.json", "front.png", "map.png", "routes.geojson", "routes.kml")

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


# --- TOML ----------------------------------------------------------------------------------------------
def _toml_string(text):
    body = json.dumps(text, ensure_ascii=False)[1:-1]       # \" \\ \n \t \uXXXX: valid TOML basic-string escapes
    return '"' + body.replace("\x7f", "\\u007f") + '"'


def _toml_key(key):
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)                      # the shortest text that reads back as the same float
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"no TOML for {type(v).__name__}")


def toml_text(doc, header=()):
    """A scenario document (a dict as :func:`tomllib.loads` returns it) as TOML text.

    Top-level tables become ``[table]`` sections, top-level lists of tables
    ``[[table]]`` sections; tables inside them are written inline
    (``reference = {range_nm = 55, ...}``). ``header`` lines are written first
    as comments. ``tomllib.loads(toml_text(doc)) == doc``.

    >>> doc = {"run": {"seed": 1}, "route": [{"name": "a", "waypoints": ["OIII", {"lat": 33.5, "lon": 44.0}]}]}
    >>> print(toml_text(doc))
    [run]
    seed = 1
    <BLANKLINE>
    [[route]]
    name = "a"
    waypoints = ["OIII", {lat = 33.5, lon = 44.0}]
    <BLANKLINE>
    """
    lines = [f"# {h}" for h in header]
    scalars = {k: v for k, v in doc.items() if not isinstance(v, dict)
               and not (isinstance(v, list) and v and all(isinstance(x, dict) for x in v))}
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars.items()]
    for key, value in doc.items():
        if key in scalars:
            continue
        tables = [value] if isinstance(value, dict) else value
        for t in tables:
            if lines:
                lines.append("")
            lines.append(f"[{_toml_key(key)}]" if isinstance(value, dict) else f"[[{_toml_key(key)}]]")
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in t.items()]
    return "\n".join(lines) + "\n"


# --- the front as rows ----------------------------------------------------------------------------------
def scenario_file_name(route, result):
    """``evade-100km.toml`` (``evade-direct.toml``; ``-transponder-on``/``-off`` when both states were searched)."""
    both = len(result.transponder_states) > 1
    return (f"evade-{route.label}" + (f"-transponder-{'on' if route.transponder_on else 'off'}" if both else "")
            + ".toml")


def front_rows(result):
    """One record per route (the direct route first, then one per budget, per transponder state), with the
    name of the scenario file it is written to."""
    return [{**r.row(), "scenario_file": scenario_file_name(r, result)} for r in result.routes()]


def run_text(result):
    """The search and the run in one line, for captions and README.txt."""
    sc = result.scenario
    return (f"least-detectable routes of scenario {sc.info.name} ({sc.info.title}) from {result.origin.label} to "
            f"{result.dest.label}; budgets {', '.join(f'{b / 1000:g}' for b in result.budgets_m)} km over the "
            f"{result.great_circle_m / 1000:,.0f} km geodesic; levels {', '.join(lv.label for lv in result.levels)}; "
            f"transponder {'/'.join('on' if t else 'off' for t in result.transponder_states)}"
            + (f"; avoiding {', '.join(result.avoid)}" if result.avoid else "")
            + f"; {result.grid.spacing_m / 1000:g} km equal-area grid, 16 neighbours; each route re-scored by "
              f"{result.campaigns:,} campaigns x {result.flights} flights, seed {result.seed}")


# --- the chart ------------------------------------------------------------------------------------------
def draw_front(ax, result):
    """P(detect) and P(stopped) (Monte Carlo, 95% intervals) and the search's surrogate P(detect) against the
    extra-distance budget, one series per transponder state; the direct route at 0 is the reference (black
    diamond). Each point is labelled with the extra distance its route flies. Returns the artists by role."""
    out = {"detect": [], "surrogate": [], "stopped": [], "direct": [], "labels": []}
    styles = {False: dict(linestyle="-"), True: dict(linestyle=(0, (4, 2)))}
    both = len(result.transponder_states) > 1
    ci_kw = dict(ecolor="#333333", elinewidth=0.8, capsize=2.5)

    def err(summaries, value, ci):
        y = np.array([value(q) for q in summaries])
        c = np.array([ci(q) for q in summaries], dtype=float)
        return y, np.vstack([y - c[:, 0], c[:, 1] - y])

    for t in result.transponder_states:
        pts = result.front[t]
        tag = f" (transponder {'on' if t else 'off'})" if both else ""
        x = np.array([p.budget_m / 1000.0 for p in pts])
        s = [p.summary for p in pts]
        y, e = err(s, lambda q: q["p_detect"], lambda q: q["p_detect_ci95"])
        out["detect"].append(ax.errorbar(x, y, yerr=e, color=COLORS["detected"], markerfacecolor=COLORS["detected"],
                                         markeredgecolor=COLORS["detected"], linewidth=1.6,
                                         label="P(detect), Monte Carlo, 95% CI" + tag, **MARKERS["sweep"], **ci_kw,
                                         **styles[t]))
        out["surrogate"] += ax.plot(x, [p.p_surrogate for p in pts], color=COLORS["detected"], marker="o",
                                    markersize=4.5, markerfacecolor="white", linewidth=0.9, linestyle=(0, (1, 1.5)),
                                    label="P(detect), the search's surrogate (hazard along the flown track)" + tag)
        if all(q.get("response") for q in s):
            st, e = err(s, lambda q: q["response"]["p_stopped"], lambda q: q["response"]["p_stopped_ci95"])
            out["stopped"].append(ax.errorbar(x, st, yerr=e, color=COLORS["undetected"], marker="s", markersize=4.5,
                                              markerfacecolor=COLORS["undetected"], linewidth=1.4,
                                              label="P(stopped), Monte Carlo, 95% CI" + tag, **ci_kw, **styles[t]))
        d = result.direct[t]
        out["direct"] += ax.plot([0.0], [d.p_detect], linestyle="none", marker="D", markersize=6.5,
                                 markerfacecolor="none", markeredgecolor=COLORS["route"], markeredgewidth=1.2,
                                 label=f"the direct route ({d.level.label})" + tag, zorder=6)
        last = None
        for xi, p in zip(x, pts):
            text = f"+{p.extra_m / 1000:,.1f} km" + ("" if len(result.levels) == 1 else f"\n{p.level.label}")
            if text != last:
                out["labels"].append(ax.annotate(text, (xi, p.p_detect), xytext=(4, 7), textcoords="offset points",
                                                 fontsize=FONT_SIZE["tiny"], color=COLORS["muted"]))
            last = text
    xmax = max(max(result.budgets_m) / 1000.0, 1.0)
    ax.set_xlim(-0.05 * xmax, 1.08 * xmax)
    ax.set_ylim(-0.03, 1.08)
    ax.set_xlabel(f"extra-distance budget over the {result.great_circle_m / 1000:,.0f} km geodesic [km] "
                  "(labels: the extra distance the route found flies)")
    ax.set_ylabel("probability per flight")
    ax.grid(True, zorder=0)
    ax.legend(loc="center right", fontsize=FONT_SIZE["tiny"] + 0.5)
    return out


def front_figure(result):
    """The front chart as a Figure (call inside :func:`sim.products.style.use_style`)."""
    fig = new_figure("chart", figsize=(7.2, 4.8))
    ax = fig.add_axes([0.09, 0.25, 0.88, 0.62])
    draw_front(ax, result)
    sc = result.scenario
    figure_heading(fig, f"The least-detectable route ({sc.info.name})",
                   f"{result.origin.label} to {result.dest.label}: for each budget, the route that minimises the "
                   "search's P(detect), re-scored by the Monte Carlo")
    figure_footnote(fig, run_text(result) + ". " + ASSUMPTIONS_NOTE, 165)
    return fig


# --- the map --------------------------------------------------------------------------------------------
#: White to deep red: the chance of detection within a minute of flight.
_HAZARD_CMAP = LinearSegmentedColormap.from_list("hazard", ["#FFF5EB", "#FDAE6B", "#E6550D", "#7F2704"])
#: Colours of the budgets' routes, from the smallest budget to the largest (Okabe-Ito, not red or orange).
_ROUTE_COLORS = (PALETTE["blue"], PALETTE["green"], PALETTE["purple"], PALETTE["sky_blue"], "#555555",
                 PALETTE["yellow"])


def _panels(result):
    """The (level, transponder) fields the map shows: those the front's routes fly, the direct route's first."""
    seen = []
    for r in result.routes():
        k = (r.level, r.transponder_on)
        if k not in seen:
            seen.append(k)
    return seen[:4]


def _distinct(routes):
    """Routes with their labels merged where budgets found the same route: ``[(labels, route)]``."""
    out = []
    for r in routes:
        for labels, kept in out:
            if (kept.level, kept.transponder_on) == (r.level, r.transponder_on) and np.array_equal(
                    kept.lat_deg, r.lat_deg) and np.array_equal(kept.lon_deg, r.lon_deg):
                labels.append(r.label)
                break
        else:
            out.append(([r.label], r))
    return out


def _sites_xy(result, tr):
    radar_xy, kinds = [], []
    for r in result.scenario.radars:
        if r.orbit is None:
            radar_xy.append(tr.transform(r.lon_deg, r.lat_deg))
            kinds.append(r.kind.name)
    return np.array(radar_xy, dtype=float).reshape(-1, 2), kinds


def draw_hazard_panel(ax, result, level, transponder_on, countries):
    """One panel: the hazard field at a level (per :data:`HAZARD_WINDOW_S` of flight, log scale), the
    forbidden airspaces, the radar sites and the routes flown at that level; returns
    ``(image, legend handles)``."""
    g = result.grid
    tr = g.transformer
    routes = [(labels, r) for labels, r in _distinct(result.routes())
              if (r.level, r.transponder_on) == (level, transponder_on)]
    xy_routes = [np.column_stack(g.to_xy(r.lat_deg, r.lon_deg)) for _, r in routes]
    radar_xy, kinds = _sites_xy(result, tr)
    ends = np.array([g.origin_xy, g.dest_xy])
    lam = result.fields[(level, transponder_on)]
    covered = g.allowed & (lam > 0)
    rows, cols = np.nonzero(covered)
    hot = np.column_stack([g.x_m[cols], g.y_m[rows]]) if len(rows) else np.zeros((0, 2))
    # the frame: the routes, the endpoints and the radar sites near them, and the covered cells near the routes
    must = np.vstack([ends, *xy_routes])
    lo, hi = must.min(axis=0) - 250_000.0, must.max(axis=0) + 250_000.0
    near = lambda p: p[np.all((p >= lo) & (p <= hi), axis=1)]      # noqa: E731
    set_map_extent(ax, np.vstack([must, near(radar_xy), near(hot)]), min_margin_m=40_000.0)
    draw_countries(ax, countries, result.scenario.airspace.country)
    draw_graticule(ax, tr)
    h = g.spacing_m
    per_window = np.where(covered, np.clip(lam * HAZARD_WINDOW_S, *HAZARD_SCALE), np.nan)
    img = ax.pcolormesh(np.append(g.x_m - h / 2, g.x_m[-1] + h / 2), np.append(g.y_m - h / 2, g.y_m[-1] + h / 2),
                        np.ma.masked_invalid(per_window), cmap=_HAZARD_CMAP, norm=LogNorm(*HAZARD_SCALE), alpha=0.85,
                        shading="flat", zorder=2, rasterized=True)
    handles = []
    for poly in g.avoid_polygons_m:
        ax.add_patch(PathPatch(polygon_path(poly), facecolor="none", edgecolor="#444444", hatch="xxx",
                               linewidth=0.4, zorder=2.6))
    if g.avoid_polygons_m:
        handles.append((Patch(facecolor="none", edgecolor="#444444", hatch="xxx"),
                        f"forbidden: {', '.join(result.avoid)}"))
    draw_sites(ax, radar_xy, kinds, ends)
    for kind in dict.fromkeys(kinds):
        handles.append((Line2D([], [], linestyle="none", markerfacecolor=COLORS[kind],
                               markeredgecolor=COLORS["radar_edge"], **MARKERS[kind]), f"{kind} radar"))
    k = 0
    for (labels, r), xy in zip(routes, xy_routes):
        direct = len(r.lat_deg) == 2          # the geodesic: the direct route (or a budget that kept it)
        color = COLORS["route"] if direct else _ROUTE_COLORS[k % len(_ROUTE_COLORS)]
        k += 0 if direct else 1
        style = LINES["route"] if direct else dict(linestyle="-", linewidth=1.7)
        ax.plot(xy[:, 0], xy[:, 1], color="white", linewidth=style["linewidth"] + 1.6, zorder=5,
                solid_capstyle="round")
        ax.plot(xy[:, 0], xy[:, 1], color=color, zorder=5.1, **style)
        if len(xy) > 2:
            ax.plot(xy[1:-1, 0], xy[1:-1, 1], linestyle="none", marker="D", markersize=2.8, markerfacecolor="white",
                    markeredgecolor=color, markeredgewidth=0.8, zorder=5.2)
        names = ", ".join("direct" if lab == "direct" else f"budget {lab.removesuffix('km')} km"
                          for lab in labels) + (" (the direct route)" if direct and "direct" not in labels else "")
        handles.append((Line2D([], [], color=color, **style),
                        f"{names}: +{r.extra_m / 1000:,.1f} km, P(detect) {r.p_detect:.3f} "
                        f"(surrogate {r.p_surrogate:.3f})"))
    for (x, y), text in zip(ends, (result.origin.label, result.dest.label)):
        ax.annotate(text, (x, y), xytext=(5, 5), textcoords="offset points", fontsize=FONT_SIZE["small"],
                    zorder=8, bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.8))
    draw_scale_bar(ax)
    draw_north_arrow(ax, tr)
    ax.set_title(f"{level.label}, transponder {'on' if transponder_on else 'off'}", fontsize=FONT_SIZE["label"] + 1)
    return img, handles


def map_figure(result):
    """The map of the routes over the hazard field, one panel per level (and transponder state) flown; with
    one panel, the front's numbers beside it."""
    panels = _panels(result)
    n = len(panels)
    fig = new_figure("map", figsize=(11.0, 7.6) if n == 1 else (11.0, 6.0) if n == 2 else (11.0, 10.5))
    countries = tuple((name, iso, project_geometry(gm, result.grid.transformer)) for name, iso, gm in load_borders())
    if n == 1:
        boxes, cbar = [[0.02, 0.17, 0.66, 0.73]], [0.12, 0.115, 0.44, 0.014]
    elif n == 2:
        boxes, cbar = [[0.02, 0.22, 0.47, 0.66], [0.51, 0.22, 0.47, 0.66]], [0.30, 0.16, 0.40, 0.014]
    else:
        boxes = [[0.02 + 0.49 * (k % 2), 0.52 - 0.38 * (k // 2), 0.47, 0.36] for k in range(n)]
        cbar = [0.30, 0.09, 0.40, 0.010]
    img = None
    for box, (lv, t) in zip(boxes, panels):
        ax = fig.add_axes(box)
        img, handles = draw_hazard_panel(ax, result, lv, t, countries)
        ax.legend([a for a, _ in handles], [b for _, b in handles], loc="upper left",
                  fontsize=FONT_SIZE["tiny"], framealpha=0.95).set_zorder(20)
    cb = fig.colorbar(img, cax=fig.add_axes(cbar), orientation="horizontal")
    cb.set_label(f"detection hazard per {HAZARD_WINDOW_S / 60:g} min of flight here, -ln P(not detected) "
                 "(0.01: 1% in a minute; 1: 63%; 10: certain;\nradar availability as its expectation)",
                 fontsize=FONT_SIZE["small"])
    ticks = [v for v in (0.01, 0.1, 1.0, 10.0, 100.0) if HAZARD_SCALE[0] <= v <= HAZARD_SCALE[1]]
    cb.set_ticks(ticks, labels=[f"{v:g}" for v in ticks])
    cb.minorticks_off()
    cb.ax.tick_params(labelsize=FONT_SIZE["tiny"])
    sc = result.scenario
    figure_heading(fig, f"The least-detectable routes: {sc.info.title}",
                   f"{result.origin.label} to {result.dest.label}: the direct route (dash-dot) and the route found "
                   "for each budget, over the detection hazard of the scenario's radars at the level flown", "map")
    if n == 1:
        lines = ["Monte Carlo P(detect), P(stopped)", "and the search's surrogate P(detect)", "",
                 "point    extra km  P(detect)  P(stopped)  surrogate"]
        for row in front_rows(result):
            stopped = "-" if row["p_stopped"] is None else f"{row['p_stopped']:.3f}"
            lines.append(f"{row['point']:<8s} {row['extra_km']:8.1f}  {row['p_detect']:9.3f}  {stopped:>10s}  "
                         f"{row['p_surrogate']:9.3f}")
        fig.text(0.70, 0.88, "\n".join(lines), ha="left", va="top", fontsize=FONT_SIZE["tiny"] + 0.5,
                 family="monospace")
    figure_footnote(fig, run_text(result) + ". Map: Lambert azimuthal equal-area; borders Natural Earth. "
                    + ASSUMPTIONS_NOTE, 210)
    return fig


# --- GeoJSON and KML ----------------------------------------------------------------------------------------
def routes_geojson(result):
    """The routes as an RFC 7946 FeatureCollection (LineStrings of their waypoints, the front's numbers as
    properties); legs are geodesics between the waypoints."""
    feats = []
    for r, row in zip(result.routes(), front_rows(result)):
        feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
            [round(float(lo), 6), round(float(la), 6)] for la, lo in zip(r.lat_deg, r.lon_deg)]},
            "properties": {"kind": "evade route", **row}})
    return feature_collection(feats, result.scenario.info.name, result.scenario.overrides)


def routes_kml(result):
    """The routes as the simulator flies them (3-D, with their climb and descent) and the radars, as KML
    text for Google Earth (:func:`sim.products.kml.build_kml`; schema-valid, ids renumbered)."""
    routes = []
    for labels, r in _distinct(result.routes()):
        name = (", ".join("direct" if lab == "direct" else f"budget {lab.removesuffix('km')} km" for lab in labels)
                + f": +{r.extra_m / 1000:,.1f} km, P(detect) {r.p_detect:.3f} [{r.summary['p_detect_ci95_text']}]"
                + ("" if r.p_stopped is None else f", P(stopped) {r.p_stopped:.3f}")
                + f", transponder {'on' if r.transponder_on else 'off'}")
        routes.append(dataclasses.replace(r.track, name=name))
    none = {k: np.zeros(0) for k in ("lat_deg", "lon_deg", "alt_m", "t_s", "campaign", "flight")}
    return build_kml(title=f"Least-detectable routes: {result.scenario.info.title}",
                     description=run_text(result) + ". " + ASSUMPTIONS_NOTE, routes=routes, radars=result.radars,
                     coverage_lonlat=(), coverage_alt_m=None, coverage_label="the level flown (map.png)",
                     first_detections={**none, "radar": np.zeros(0, dtype=str)})


# --- the folder -----------------------------------------------------------------------------------------------
def write_evade(stage, result):
    """Write an evade output folder into ``stage`` (an empty folder): the front (front.csv, front.json,
    front.png), the map (map.png), the routes (routes.geojson, routes.kml), one scenario file per route
    (``evade-*.toml``, each read back and checked) and README.txt. Returns the rows of front.csv."""
    stage = Path(stage)
    sc = result.scenario
    rows = front_rows(result)
    for r, row in zip(result.routes(), rows):
        text = toml_text(r.doc, header=(
            f"Written by airpicture evade from scenario {sc.info.name}: {row['point']} "
            f"({r.level.label}, transponder {row['transponder']}).",
            f"The search's surrogate P(detect) {row['p_surrogate']:.3f}; this file's run: "
            f"P(detect) {row['p_detect']:.3f} "
            f"[{r.summary['p_detect_ci95_text']}]" + ("" if row["p_stopped"] is None
                                                     else f", P(stopped) {row['p_stopped']:.3f}") + ".",
            "Run it with: airpicture run " + row["scenario_file"],
            ASSUMPTIONS_NOTE))
        if tomllib.loads(text) != r.doc:
            raise RuntimeError(f"{row['scenario_file']}: the TOML written does not read back as the route's scenario")
        (stage / row["scenario_file"]).write_text(text, encoding="utf-8")
    header = list(rows[0])
    write_csv(stage / "front.csv", header, [[row[k] if row[k] is not None else "" for k in header] for row in rows])
    g = result.grid
    write_json(stage / "front.json", {
        "scenario": sc.info.name, "title": sc.info.title, "overrides": list(sc.overrides), "note": ASSUMPTIONS_NOTE,
        "search": {"from": result.origin.label, "to": result.dest.label,
                   "great_circle_km": round(result.great_circle_m / 1000.0, 3),
                   "budgets_km": [round(b / 1000.0, 3) for b in result.budgets_m],
                   "levels": [lv.label for lv in result.levels],
                   "transponder": ["on" if t else "off" for t in result.transponder_states],
                   "avoid": list(result.avoid), "grid_spacing_km": g.spacing_m / 1000.0,
                   "grid_cells": int(g.allowed.sum()), "neighbours": 16,
                   "cruise_speed_kmh": round(result.speed_mps * 3.6, 3),
                   "monte_carlo": {"campaigns": result.campaigns, "flights_per_campaign": result.flights,
                                   "seed": result.seed}},
        "notes": list(result.notes), "run": run_text(result), "points": rows})
    with use_style():
        title = f"The least-detectable route: {sc.info.title}"
        save_figure(front_figure(result), stage / "front.png", title=title,
                    description=f"{run_text(result)}. {ASSUMPTIONS_NOTE}")
        save_figure(map_figure(result), stage / "map.png", dpi=150, title=title,
                    description=f"{run_text(result)}. {ASSUMPTIONS_NOTE}")
    write_json(stage / "routes.geojson", routes_geojson(result))
    (stage / "routes.kml").write_text(routes_kml(result), encoding="utf-8")
    w = max(18, *(len(row["scenario_file"]) + 2 for row in rows))
    files = "".join(f"{name:<{w}s}{what}\n" for name, what in (
        ("front.csv", "one row per route: the budget, the extra km flown, the search's surrogate P(detect)"),
        ("", "(on the grid, on the flown track, with outages per flight), the Lagrangian path and bound"),
        ("", "with the duality gap, the Monte Carlo P(detect) and P(stopped) with their 95% intervals"),
        ("front.json", "the same, with the search's settings"),
        ("front.png", "P(detect) and P(stopped) against the budget"),
        ("map.png", "the routes over the detection hazard at the level flown"),
        ("routes.geojson", "the routes (WGS84 lon/lat; geodesic legs between the waypoints)"),
        ("routes.kml", "the routes as flown (3-D) and the radars, for Google Earth"),
        *((row["scenario_file"], f"route {row['point']}: airpicture run {row['scenario_file']} gives its numbers "
                                 "in front.csv") for row in rows)))
    write_sidecar(stage / "README.txt", run_text(result), files + "\n" + "".join(f"Note: {n}\n" for n in result.notes))
    return rows
