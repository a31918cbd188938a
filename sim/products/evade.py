"""Products of ``airpicture evade``: the front (CSV, JSON, chart), the routes (map, GeoJSON, KML) and the
routes' scenario files.

Everything here draws or writes an :class:`sim.optimise.route.EvadeResult`
it is given; nothing runs the search or the Monte Carlo. The scenario
files are written as TOML by :func:`toml_text` (the scenario format's value
types: tables, arrays of tables, inline tables, strings, numbers, booleans
and arrays), and read back before they are kept: each file parses to
exactly the document the route was re-scored with.
"""
import dataclasses
import datetime
import json
import math
import re
import textwrap
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

__all__ = ["toml_text", "budgets_text", "front_points", "scenario_file_name", "front_rows", "FRONT_COLUMNS",
           "run_text", "draw_front", "front_figure", "draw_hazard_panel", "map_figure", "routes_geojson",
           "routes_kml", "write_evade", "EVADE_FILES", "HAZARD_WINDOW_S"]

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
    if isinstance(v, datetime.date) and not isinstance(v, datetime.datetime):
        return v.isoformat()                # a TOML local date ([[record]] start and end)
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
def budgets_text(budgets_m, unit=" km"):
    """``"100, 200, 400 km"``: the budgets a route answers, in words (``""`` for none)."""
    return ", ".join(f"{b / 1000:g}" for b in budgets_m) + unit if budgets_m else ""


def front_points(result):
    """The routes of the front once each: per transponder state, the direct route (the reference) and then
    every distinct route the budgets found, ``[(route, budgets_m), ...]``, each with every budget it
    answers (:meth:`sim.optimise.route.EvadeResult.points`). A budget whose route is the direct route
    (the geodesic at the scenario's level) is listed with the direct route."""
    out = []
    for t in result.transponder_states:
        d = result.direct[t]
        pts = result.points(t)
        out.append((d, tuple(b for r, bs in pts if r.same_route(d) for b in bs)))
        out += [(r, bs) for r, bs in pts if not r.same_route(d)]
    return out


def _point_names(result):
    """Each of :func:`front_points`'s routes' short name: ``direct``, or its extra distance and level
    (``3.5km-10100m``); ``-transponder-on``/``-off`` when both states were searched; ``-2``, ``-3`` where two
    routes would share a name."""
    both = len(result.transponder_states) > 1
    names, seen = [], set()
    for r, _ in front_points(result):
        base = "direct" if r.budget_m is None else f"{r.extra_m / 1000:.1f}km-{r.level.key}"
        base += f"-transponder-{'on' if r.transponder_on else 'off'}" if both else ""
        name, k = base, 1
        while name in seen:
            k += 1
            name = f"{base}-{k}"
        seen.add(name)
        names.append(name)
    return names


def scenario_file_name(point):
    """``evade-3.5km-10100m.toml`` (``evade-direct.toml``): the scenario file of a route, by its name
    (:func:`front_rows`' ``point``)."""
    return f"evade-{point}.toml"


def front_rows(result):
    """One record per distinct route (the direct route first, then each route the budgets found, per
    transponder state), the as-flown figures first: ``point`` (its name), ``budgets_km`` (every budget it
    answers, a list; empty for the direct route unless a budget kept it), then
    :meth:`sim.optimise.route.EvadeRoute.row` and the name of the scenario file it is written to."""
    rows = []
    for (r, budgets), name in zip(front_points(result), _point_names(result)):
        row = r.row()
        del row["point"], row["budget_km"]
        rows.append({"point": name, "budgets_km": [round(b / 1000.0, 3) for b in budgets], **row,
                     "scenario_file": scenario_file_name(name)})
    return rows


#: Every column of front.csv, in words (README.txt; a test checks that each column has its words).
FRONT_COLUMNS = {
    "point": "the route's name: direct (the geodesic at the scenario's level, the reference), or the extra "
             "distance it flies and its level (3.5km-10100m)",
    "budgets_km": "every extra-distance budget [km] this route is the answer for, separated by ';' (empty: "
                  "the direct route, when no budget kept it)",
    "level": "the level flown: metres above mean sea level (AMSL) or above ground (terrain following)",
    "transponder": "the transponder state searched (on or off)",
    "length_km": "the route's length, geodesic legs between its waypoints [km]",
    "extra_km": "the extra distance it flies over the geodesic between the airports [km]",
    "flight_time_min": "its flight time, climb and descent included [min]",
    "fuel_t": "the fuel it burns [t] (empty: the aircraft model states no fuel flow)",
    "waypoints": "its number of waypoints, the airports included",
    "spread_km": "the sideways spread it is flown with (standard deviation) [km]: the figures below are as flown",
    "p_detect": "P(detect) as flown (the headline): the Monte Carlo of its scenario file, with the sideways "
                "spread, each radar's availability and outages",
    "p_detect_ci95_low": "the low end of that P(detect)'s 95% interval",
    "p_detect_ci95_high": "the high end of that P(detect)'s 95% interval",
    "p_stopped": "P(stopped) as flown (empty: the scenario has no response)",
    "p_stopped_ci95_low": "the low end of that P(stopped)'s 95% interval",
    "p_stopped_ci95_high": "the high end of that P(stopped)'s 95% interval",
    "p_detect_planned_track": "P(detect) of the same route flown exactly on its planned line, no spread "
                              "(secondary; the same draws)",
    "p_stopped_planned_track": "P(stopped) of the route flown exactly on its planned line (secondary)",
    "p_search_as_flown": "the search's own P(detect) as flown, which chose the route: its exposure to each radar at "
                         "sideways offsets standing for the spread, radars combined through their availability",
    "p_surrogate_grid": "the search's surrogate on the planned track: 1 - exp(-hazard) of its legs on the grid's "
                        "expected hazard field",
    "p_surrogate": "the same hazard along the planned track flown (every second, climb and descent), no grid",
    "p_surrogate_outages": "that, with each radar's availability drawn once per flight",
    "p_lagrangian_lower": "the Lagrangian lower bound of the grid problem the route came from (empty: none)",
    "p_grid_path": "the Lagrangian grid path's surrogate P(detect), before smoothing",
    "duality_gap": "the duality gap of that grid search (hazard)",
    "mu_per_km": "the Lagrange multiplier of the length budget [1/km]",
    "dijkstra_runs": "the Dijkstra runs of that grid search",
    "method": "how the search found the route",
    "grid_budget_km": "the length budget of the grid search behind it [km] (the grid's paths are longer than "
                      "the routes they stand for)",
    "scenario_file": "its scenario file in this folder: airpicture run on it gives p_detect and p_stopped exactly",
}


def _flown_text(result):
    """How every route is flown, in words (captions, README.txt, the command line)."""
    spread = (f"with a {result.spread_m / 1000:g} km sideways spread (standard deviation)" if result.spread_m > 0
              else "exactly on its planned line (no sideways spread)")
    what = "P(stopped)" if result.objective == "p_stopped" else "P(detect)"
    return (f"every figure as flown: each route flown {spread}, each radar's availability and outages; the "
            f"front minimises {what} as flown")


def run_text(result):
    """The search and the run in one line, for captions and README.txt."""
    sc = result.scenario
    return (f"least-detectable routes of scenario {sc.info.name} ({sc.info.title}) from {result.origin.label} to "
            f"{result.dest.label}; budgets {', '.join(f'{b / 1000:g}' for b in result.budgets_m)} km over the "
            f"{result.great_circle_m / 1000:,.0f} km geodesic; levels {', '.join(lv.label for lv in result.levels)}; "
            f"transponder {'/'.join('on' if t else 'off' for t in result.transponder_states)}"
            + (f"; avoiding {', '.join(result.avoid)}" if result.avoid else "")
            + f"; {result.grid.spacing_m / 1000:g} km equal-area grid, 16 neighbours; {_flown_text(result)}; "
              f"each route re-scored by {result.campaigns:,} campaigns x {result.flights} flights, seed {result.seed}")


# --- the chart ------------------------------------------------------------------------------------------
def draw_front(ax, result):
    """The front as flown: P(detect) and P(stopped) as flown (Monte Carlo, 95% intervals) against the extra
    distance each route flies, one point per distinct route (:meth:`EvadeResult.points`) labelled with every
    budget it answers; P(detect) of the same routes flown exactly on their planned line, lighter, as the
    secondary series (drawn when the routes are flown with a spread); the direct route at 0 the reference
    (black diamond). One series per transponder
    state. Returns the artists by role (``detect``, ``stopped``: errorbar containers; ``planned``, ``direct``:
    lines; ``labels``: annotations)."""
    out = {"detect": [], "planned": [], "stopped": [], "direct": [], "labels": []}
    styles = {False: dict(linestyle="-"), True: dict(linestyle=(0, (4, 2)))}
    both = len(result.transponder_states) > 1
    ci_kw = dict(ecolor="#333333", elinewidth=0.8, capsize=2.5)
    spread = f"{result.spread_m / 1000:g} km spread" if result.spread_m > 0 else "no spread"

    def err(summaries, value, ci):
        y = np.array([value(q) for q in summaries])
        c = np.array([ci(q) for q in summaries], dtype=float)
        return y, np.vstack([y - c[:, 0], c[:, 1] - y])

    xmax = 1.0
    for t in result.transponder_states:
        pts = result.points(t)
        routes = [r for r, _ in pts]
        tag = f" (transponder {'on' if t else 'off'})" if both else ""
        x = np.array([r.extra_m / 1000.0 for r in routes])
        xmax = max(xmax, *x) if len(x) else xmax
        s = [r.summary for r in routes]
        d = result.direct[t]
        out["direct"] += ax.plot([0.0], [d.p_detect], linestyle="none", marker="D", markersize=6.5,
                                 markerfacecolor="none", markeredgecolor=COLORS["route"], markeredgewidth=1.2,
                                 label=f"the direct route ({d.level.label}), as flown" + tag, zorder=6)
        if not routes:                    # no budget found a route (the notes say why)
            continue
        if result.spread_m > 0:           # with no spread the planned track is the route as flown
            out["planned"] += ax.plot(x, [r.p_detect_planned for r in routes], color=COLORS["detected"],
                                      alpha=0.55, marker="o", markersize=4.5, markerfacecolor="white", linewidth=0.9,
                                      linestyle=(0, (1, 1.5)),
                                      label="P(detect), planned track exactly (no spread; secondary)" + tag)
        y, e = err(s, lambda q: q["p_detect"], lambda q: q["p_detect_ci95"])
        out["detect"].append(ax.errorbar(x, y, yerr=e, color=COLORS["detected"], markerfacecolor=COLORS["detected"],
                                         markeredgecolor=COLORS["detected"], linewidth=1.6,
                                         label=f"P(detect) as flown ({spread}), 95% CI" + tag, **MARKERS["sweep"],
                                         **ci_kw, **styles[t]))
        if all(q.get("response") for q in s):
            st, e = err(s, lambda q: q["response"]["p_stopped"], lambda q: q["response"]["p_stopped_ci95"])
            out["stopped"].append(ax.errorbar(x, st, yerr=e, color=COLORS["undetected"], marker="s", markersize=4.5,
                                              markerfacecolor=COLORS["undetected"], linewidth=1.4,
                                              label=f"P(stopped) as flown ({spread}), 95% CI" + tag, **ci_kw,
                                              **styles[t]))
        for k, (xi, (r, budgets)) in enumerate(zip(x, pts)):
            text = (("budget " if len(budgets) == 1 else "budgets ") + budgets_text(budgets)
                    + ("" if len(result.levels) == 1 else f"\n{r.level.label}"))
            out["labels"].append(ax.annotate(text, (xi, r.p_detect), xytext=(4, 7 if k % 2 == 0 else -16),
                                             textcoords="offset points", fontsize=FONT_SIZE["tiny"],
                                             color=COLORS["muted"]))
    for a in out["labels"]:               # a label near the right edge reads leftwards
        if a.xy[0] > 0.8 * xmax:
            a.set_horizontalalignment("right")
            a.xyann = (-4, 9)
    ax.set_xlim(-0.05 * xmax, 1.08 * xmax)
    ax.set_ylim(-0.03, 1.08)
    ax.set_xlabel(f"extra distance flown over the {result.great_circle_m / 1000:,.0f} km geodesic [km] "
                  "(labels: the budgets each route answers)")
    ax.set_ylabel("probability per flight, as flown")
    ax.grid(True, zorder=0)
    handles = [*out["detect"], *out["stopped"], *out["direct"], *out["planned"]]      # as flown first
    ax.legend(handles=handles, labels=[h.get_label() for h in handles], loc="center right",
              fontsize=FONT_SIZE["tiny"] + 0.5)
    return out


def front_figure(result):
    """The front chart as a Figure (call inside :func:`sim.products.style.use_style`)."""
    fig = new_figure("chart", figsize=(7.2, 4.8))
    ax = fig.add_axes([0.09, 0.25, 0.88, 0.62])
    draw_front(ax, result)
    sc = result.scenario
    spread = (f"with the {result.spread_m / 1000:g} km sideways spread" if result.spread_m > 0
              else "exactly as planned (no spread)")
    what = "P(stopped)" if result.objective == "p_stopped" else "P(detect)"
    figure_heading(fig, f"The least-detectable route as flown ({sc.info.name})",
                   f"{result.origin.label} to {result.dest.label}: for each budget, the route of least {what} flown "
                   f"{spread}, re-scored by the Monte Carlo")
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


def _route_name(route, budgets):
    """A route's name in legends: ``direct`` or the budgets it answers (``budgets 100, 200 km``)."""
    if route.budget_m is None:
        return "direct" + (f" (and budget{'s' if len(budgets) > 1 else ''} {budgets_text(budgets)})"
                           if budgets else "")
    return ("budget " if len(budgets) == 1 else "budgets ") + budgets_text(budgets)


def _figures_text(route):
    """A route's figures in words, as flown first: ``P(detect) 0.324 as flown, 0.000 planned track exactly``."""
    text = f"P(detect) {route.p_detect:.3f} as flown"
    if route.spread_m > 0:
        text += f", {route.p_detect_planned:.3f} planned track exactly"
    return text


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
    routes = [(budgets, r) for r, budgets in front_points(result)
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
    for (budgets, r), xy in zip(routes, xy_routes):
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
        name = _route_name(r, budgets) + (" (the geodesic)" if direct and r.budget_m is not None else "")
        handles.append((Line2D([], [], color=color, **style),
                        f"{name}: +{r.extra_m / 1000:,.1f} km, {_figures_text(r)}"))
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
        boxes, cbar = [[0.02, 0.19, 0.66, 0.71]], [0.12, 0.135, 0.44, 0.014]
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
                   "for each budget, over the detection hazard of the scenario's radars at the level flown; "
                   "P as flown" + (f" ({result.spread_m / 1000:g} km sideways spread)" if result.spread_m > 0 else ""),
                   "map")
    if n == 1:
        spread = (f"with a {result.spread_m / 1000:g} km sideways spread" if result.spread_m > 0
                  else "exactly on the line (no spread)")
        planned = result.spread_m > 0
        table = []
        for row in front_rows(result):
            budgets = budgets_text([b * 1000.0 for b in row["budgets_km"]], unit="")
            name = ("direct" + (f", {budgets}" if budgets else "")) if row["point"] == "direct" else budgets
            stopped = "-" if row["p_stopped"] is None else f"{row['p_stopped']:.3f}"
            table.append(f"{row['extra_km']:6.1f}  {row['p_detect']:6.3f}  {stopped:>7s}"
                         + (f"  {row['p_detect_planned_track']:7.3f}" if planned else ""))
            table[-1] = (name, table[-1])
        w = max(len("budgets km"), *(len(name) for name, _ in table))
        lines = ["As flown (Monte Carlo): each route", f"flown {spread},", "each radar's availability and outages", "",
                 f"{'budgets km':<{w}s}  {'extra':>6s}  {'P(det)':>6s}  {'P(stop)':>7s}"
                 + ("  planned" if planned else ""),
                 *(f"{name:<{w}s}  {text}" for name, text in table), "",
                 "extra: km flown over the geodesic", "P(det), P(stop): P(detect), P(stopped)", "  as flown"]
        if planned:
            lines += ["planned: P(detect) of the route flown", "  exactly on its planned line"]
        fig.text(0.70, 0.88, "\n".join(lines), ha="left", va="top", fontsize=FONT_SIZE["tiny"] + 0.5,
                 family="monospace")
    figure_footnote(fig, run_text(result) + ". Map: Lambert azimuthal equal-area; borders Natural Earth. "
                    + ASSUMPTIONS_NOTE, 210)
    return fig


# --- GeoJSON and KML ----------------------------------------------------------------------------------------
def routes_geojson(result):
    """The routes as an RFC 7946 FeatureCollection, one Feature per distinct route (LineStrings of their
    waypoints; legs are geodesics between them), the front's row (:func:`front_rows`, the as-flown figures
    first) as properties."""
    feats = []
    for (r, _), row in zip(front_points(result), front_rows(result)):
        feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
            [round(float(lo), 6), round(float(la), 6)] for la, lo in zip(r.lat_deg, r.lon_deg)]},
            "properties": {"kind": "evade route", **row}})
    return feature_collection(feats, result.scenario.info.name, result.scenario.overrides)


def _kml_name(route, budgets):
    """A route's name in KML: the budgets it answers, its extra distance, the figures as flown first."""
    r = route
    text = (f"{_route_name(r, budgets)}: +{r.extra_m / 1000:,.1f} km, {r.level.label}; as flown"
            + (f" ({r.spread_m / 1000:g} km spread)" if r.spread_m > 0 else "")
            + f": P(detect) {r.p_detect:.3f} [{r.summary['p_detect_ci95_text']}]"
            + ("" if r.p_stopped is None else f", P(stopped) {r.p_stopped:.3f}"))
    if r.spread_m > 0:
        text += f"; planned track exactly: P(detect) {r.p_detect_planned:.3f}"
    return text + f"; transponder {'on' if r.transponder_on else 'off'}"


def routes_kml(result):
    """The routes as the simulator flies them (3-D, with their climb and descent) and the radars, as KML
    text for Google Earth (:func:`sim.products.kml.build_kml`; schema-valid, ids renumbered); each route once,
    named by the budgets it answers with its figures as flown first."""
    routes = [dataclasses.replace(r.track, name=_kml_name(r, budgets)) for r, budgets in front_points(result)]
    none = {k: np.zeros(0) for k in ("lat_deg", "lon_deg", "alt_m", "t_s", "campaign", "flight")}
    return build_kml(title=f"Least-detectable routes: {result.scenario.info.title}",
                     description=run_text(result) + ". " + ASSUMPTIONS_NOTE, routes=routes, radars=result.radars,
                     coverage_lonlat=(), coverage_alt_m=None, coverage_label="the level flown (map.png)",
                     first_detections={**none, "radar": np.zeros(0, dtype=str)})


# --- the folder -----------------------------------------------------------------------------------------------
def _csv_cell(v):
    if v is None:
        return ""
    if isinstance(v, list):
        return ";".join(f"{x:g}" for x in v)
    return v


def _file_header(result, route, budgets, row):
    """The comment lines at the head of a route's scenario file."""
    sc = result.scenario
    what = ("the direct route (the geodesic)" if route.budget_m is None else
            f"a least-detectable route, +{route.extra_m / 1000:,.1f} km extra")
    answers = (f"; the least-detectable route found for {'budget' if len(budgets) == 1 else 'budgets'} "
               f"{budgets_text(budgets)}" if budgets else "")
    flown = (f"flown with a {route.spread_m / 1000:g} km sideways spread" if route.spread_m > 0
             else "flown exactly on its line (no sideways spread)")
    stopped = "" if row["p_stopped"] is None else f", P(stopped) {row['p_stopped']:.3f}"
    lines = [f"Written by airpicture evade from scenario {sc.info.name}: {what} at {route.level.label}, "
             f"transponder {row['transponder']}{answers}.",
             f"This file's run, {flown} (as flown, the headline): P(detect) {row['p_detect']:.3f} "
             f"[{route.summary['p_detect_ci95_text']}]{stopped}."]
    if route.spread_m > 0:
        ps = row["p_stopped_planned_track"]
        lines.append(f"The same route flown exactly on its planned line (secondary): P(detect) "
                     f"{row['p_detect_planned_track']:.3f}" + ("" if ps is None else f", P(stopped) {ps:.3f}") + ".")
    return (*lines, "Run it with: airpicture run " + row["scenario_file"], ASSUMPTIONS_NOTE)


def write_evade(stage, result):
    """Write an evade output folder into ``stage`` (an empty folder): the front (front.csv, front.json,
    front.png), the map (map.png), the routes (routes.geojson, routes.kml), one scenario file per distinct
    route (``evade-*.toml``, each read back and checked) and README.txt. Returns the rows of front.csv
    (:func:`front_rows`)."""
    stage = Path(stage)
    sc = result.scenario
    rows = front_rows(result)
    for (r, budgets), row in zip(front_points(result), rows):
        text = toml_text(r.doc, header=_file_header(result, r, budgets, row))
        if tomllib.loads(text) != r.doc:
            raise RuntimeError(f"{row['scenario_file']}: the TOML written does not read back as the route's scenario")
        (stage / row["scenario_file"]).write_text(text, encoding="utf-8")
    header = list(rows[0])
    write_csv(stage / "front.csv", header, [[_csv_cell(row[k]) for k in header] for row in rows])
    g = result.grid
    write_json(stage / "front.json", {
        "scenario": sc.info.name, "title": sc.info.title, "overrides": list(sc.overrides), "note": ASSUMPTIONS_NOTE,
        "search": {"from": result.origin.label, "to": result.dest.label,
                   "great_circle_km": round(result.great_circle_m / 1000.0, 3),
                   "budgets_km": [round(b / 1000.0, 3) for b in result.budgets_m],
                   "levels": [lv.label for lv in result.levels],
                   "transponder": ["on" if t else "off" for t in result.transponder_states],
                   "avoid": list(result.avoid), "spread_km": round(result.spread_m / 1000.0, 3),
                   "objective": result.objective, "grid_spacing_km": g.spacing_m / 1000.0,
                   "grid_cells": int(g.allowed.sum()), "neighbours": 16,
                   "speed_kmh": {lv.label: round(v * 3.6, 3) for lv, v in result.speeds_mps.items()},
                   "monte_carlo": {"campaigns": result.campaigns, "flights_per_campaign": result.flights,
                                   "seed": result.seed}},
        "figures": _flown_text(result), "columns": {k: FRONT_COLUMNS.get(k, "") for k in header},
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
        ("front.csv", "one row per distinct route (the direct route first), with every budget it answers;"),
        ("", "figures as flown first (columns below)"),
        ("front.json", "the same rows (budgets_km a list), the columns in words and the search's settings"),
        ("front.png", "P(detect) and P(stopped) as flown against the extra distance each route flies,"),
        ("", "each point labelled with the budgets it answers; P(detect) on the planned track, lighter"),
        ("map.png", "the routes over the detection hazard at the level flown, their figures as flown"),
        ("routes.geojson", "the routes (WGS84 lon/lat; geodesic legs between the waypoints), front.csv's row each"),
        ("routes.kml", "the routes as flown (3-D) and the radars, for Google Earth"),
        *((row["scenario_file"], f"route {row['point']}: airpicture run {row['scenario_file']} gives its "
                                 "p_detect and p_stopped in front.csv exactly") for row in rows)))
    columns = "".join(textwrap.fill(FRONT_COLUMNS.get(k, ""), 104, initial_indent=f"  {k:<25s}",
                                    subsequent_indent=" " * 27) + "\n" for k in header)
    write_sidecar(stage / "README.txt", run_text(result),
                  files + "\nFigures: " + _flown_text(result) + ".\n\nfront.csv's columns:\n" + columns + "\n"
                  + "".join(f"Note: {n}\n" for n in result.notes))
    return rows
