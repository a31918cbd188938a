"""Products of ``airpicture place``: the steps (CSV), the objective against K (chart), the map of the chosen
sites (or orbits: racetracks) and their coverage over the existing layout, the augmented scenario files and
README.txt.

Everything here draws or writes a :class:`sim.optimise.placement.PlaceResult` it is given; nothing runs the
placement or the Monte Carlo. The scenario files are written by :func:`sim.products.evade.toml_text` and
read back before they are kept: each parses to exactly the document that was re-scored.
"""
import tomllib
from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Patch

from geo.coverage import load_borders, project_geometry
from geo.geodesy import leg_geometry, positions_along_route
from sim.products.brief import coverage_level
from sim.products.charts import place_legend
from sim.products.coverage import radar_coverages
from sim.products.evade import toml_text
from sim.products.export import staged_output, write_csv, write_json, write_sidecar
from sim.products.maps import (draw_countries, draw_coverage, draw_graticule, draw_north_arrow, draw_orbits,
                               draw_routes, draw_scale_bar, draw_sites, label_sites, polygon_path, set_map_extent)
from sim.products.style import (COLORS, FONT_SIZE, LINES, MARKERS, PALETTE, figure_footnote, figure_heading, new_figure,
                                 save_figure, use_style)
from sim.platforms import Orbit, Racetrack
from sim.results import ASSUMPTIONS_NOTE, format_p_ci

__all__ = ["objective_label", "run_text", "steps_rows", "rounds_rows", "candidate_rows", "place_json",
           "draw_objective", "objective_figure", "draw_layout_panel", "map_figure", "write_place_files",
           "write_place", "PLACE_FILES"]

#: The files of a place output folder (adaptive adds rounds.csv, placed-fixed.toml and flyer.toml).
PLACE_FILES = ("README.txt", "steps.csv", "candidates.csv", "place.json", "objective.png", "map.png", "placed.toml")

#: The new radars' colour (Okabe-Ito blue: not the primary orange or the secondary green).
NEW_COLOR = PALETTE["blue"]
#: The flyer's routes, in the order found.
FLYER_COLORS = (PALETTE["vermillion"], PALETTE["purple"], PALETTE["sky_blue"], "#555555", PALETTE["yellow"],
                PALETTE["green"])


def _copies(result):
    """"1 more copy of X" / "3 more copies of X": what a placement adds."""
    return f"{result.add} more {'copy' if result.add == 1 else 'copies'} of {result.like}"


def is_orbit(result):
    """Whether the candidates are orbits (racetracks of an airborne ``like`` radar) rather than sites."""
    return bool(result.candidates) and isinstance(result.candidates[0], Racetrack)


def _orbit_note(result):
    """The like orbit's altitude and speed, as README.txt and the captions say them."""
    o = next(r for r in result.scenario.radars if r.name == result.like).orbit
    return f"at {o.altitude_m:,.0f} m and {o.speed_mps * 3.6:,.0f} km/h"


def _where_columns(result, c):
    """A candidate's position columns: a site's lat, lon, elevation and mast, or a racetrack's waypoints and
    altitude."""
    if isinstance(c, Racetrack):
        o = next(r for r in result.scenario.radars if r.name == result.like).orbit
        return {"lat1": c.lat1_deg, "lon1": c.lon1_deg, "lat2": c.lat2_deg, "lon2": c.lon2_deg,
                "altitude_m": o.altitude_m}
    return {"lat": c.lat_deg, "lon": c.lon_deg, "elevation_m": c.elevation_m, "mast_m": c.antenna_height_m}


def objective_label(objective):
    """The objective as a chart's axis says it."""
    return {"detect": "P(detect) per flight", "track-in-airspace": "P(held in track inside the airspace) per flight",
            "stopped": "P(stopped) per flight"}[objective]


def _short(objective):
    return {"detect": "P(detect)", "track-in-airspace": "P(track in airspace)", "stopped": "P(stopped)"}[objective]


def _and(items):
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def flyer_text(result):
    """How the adaptive flyer flies, in words: ``"at 10,100 m AMSL and 300 m above ground, within 25-100 km
    extra, flown with a 10 km sideways spread"``."""
    b = result.flyer_budgets_km
    within = f"within {b[0]:g} km extra" if len(b) == 1 else f"within {b[0]:g}-{b[-1]:g} km extra"
    spread = result.flyer_spread_m or 0.0
    flown = (f"flown with a {spread / 1000:g} km sideways spread" if spread > 0
             else "flown exactly as planned (no sideways spread)")
    return f"at {_and(lv.label for lv in result.levels)}, {within}, {flown}"


def converged_text(result):
    """Whether the adaptive loop converged, and for what, in words."""
    n = len(result.flyer_routes)
    if result.converged:
        return (f"converged: of every route the flyer can find {flyer_text(result)}, none does better against "
                f"this layout than the {n} routes found")
    return (f"not converged: after {len(result.rounds)} rounds the flyer still found better routes "
            f"({flyer_text(result)}); the layout is the best found against the {n} routes found")


def headline_text(result):
    """The answer in one line: ``"today's radars: 0.000 against a flyer who adapts; with 3 more: 0.901"``
    (the Monte Carlo against the flyer's best route; None against the fixed flyer)."""
    today, lay = result.robust_value("today"), result.robust_value("layout")
    if today is None or lay is None:
        return None
    what = _short(result.objective)
    return (f"{what}: today's radars {today[0]:.3f} against a flyer who adapts; with {result.add} more placed for "
            f"it: {lay[0]:.3f}")


def route_words(result, name, short=False):
    """A route of the robust values in words: the scenario's own (``"the scenario's route 'direct'"``) or one
    the flyer found (:meth:`sim.optimise.placement.FlyerRoute.words`; ``short``: its extra distance and level)."""
    for f in result.flyer_routes:
        if f.name == name:
            return f"+{f.extra_m / 1000:,.0f} km at {f.level}" if short else f"the flyer's route {f.words()}"
    return f"the scenario's route {name!r}"


def run_text(result):
    """What was asked and how it was answered, in one line (captions, README.txt)."""
    sc = result.scenario
    flyer = ("a fixed flyer (the scenario's routes)" if result.against == "fixed" else
             f"a flyer who adapts (its least-detectable route as flown, {flyer_text(result)})")
    cands = (f"{len(result.candidates):,} racetracks (orbits {_orbit_note(result)}; P per flight averaged over "
             f"{result.loop_phases} loop phases x {result.scan_phases} scan phases)" if is_orbit(result)
             else f"{len(result.candidates):,} sites")
    return (f"placement of {_copies(result)} in scenario {sc.info.name} ({sc.info.title}); "
            f"objective {result.objective}, against {flyer}; candidates: {cands} from "
            f"{result.candidate_source}; chosen on a selection sample of {result.select_flights_total:,} flights "
            f"(seed {result.select_seed}); re-scored by {result.campaigns:,} campaigns x {result.flights} flights, "
            f"seed {result.seed}" + (f"; what-if: {'; '.join(sc.overrides)}" if sc.overrides else ""))


def _ci(rs):
    return rs.ci95 if rs.ci95 is not None else (np.nan, np.nan)


# --- tables -------------------------------------------------------------------------------------------
def steps_rows(result):
    """One row per step of the greedy against the fixed flyer (k = 0: the existing radars): the site, its
    marginal gain, the objective and the bound on the selection sample, and the Monte Carlo re-score."""
    rows = []
    pre = result.rescore_prefix
    rs = pre[0]
    rows.append({"k": 0, "site": "(existing radars)",
                 **dict.fromkeys(_where_columns(result, result.candidates[0]) if result.candidates else
                                 ("lat", "lon", "elevation_m", "mast_m")),
                 "marginal_gain": None, "objective_sample": round(result.base_value, 6),
                 "bound_sample": round(result.base_value, 6), "columns_computed": 0,
                 "objective_mc": rs.value, "mc_ci95_low": _ci(rs)[0], "mc_ci95_high": _ci(rs)[1]})
    for s in result.steps:
        c = result.candidates[s.index]
        rs = pre[s.k]
        rows.append({"k": s.k, "site": c.name, **_where_columns(result, c), "marginal_gain": round(s.gain, 6),
                     "objective_sample": round(s.value, 6), "bound_sample": round(s.bound, 6),
                     "columns_computed": s.evaluations, "objective_mc": rs.value, "mc_ci95_low": _ci(rs)[0],
                     "mc_ci95_high": _ci(rs)[1]})
    return rows


def rounds_rows(result):
    """One row per route the adaptive flyer found, by round: the layout it answered, the route, its objective
    for that layout and the worst of the set's (selection sample), and the defender's re-placement."""
    out = []
    for r in result.rounds:
        for f, v in zip(r.flyers, r.flyer_values):
            out.append({"round": r.round, "layout": "; ".join(result.candidates[j].name for j in r.layout)
                        or "(today's radars, none added)",
                        "flyer_route": f.name, "route": f.words(), "budget_km": round(f.budget_m / 1000.0, 3),
                        "extra_km": round(f.extra_m / 1000.0, 3), "level": f.level,
                        "transponder": "on" if f.transponder_on else "off",
                        "spread_km": round(f.spread_m / 1000.0, 3), "p_search_as_flown": round(f.p_search, 6),
                        "waypoints": " ".join(f"{a:.4f},{b:.4f}" for a, b in zip(f.lat_deg, f.lon_deg)),
                        "objective_sample": round(v, 6), "worst_route_of_set": r.worst_name,
                        "worst_objective_sample": round(r.worst_value, 6), "joins_set": f.name in r.added,
                        "new_layout": "" if r.new_layout is None else "; ".join(result.candidates[j].name
                                                                                 for j in r.new_layout),
                        "new_layout_objective_sample": None if r.robust is None else round(r.robust.value, 6),
                        "new_layout_bound_sample": None if r.robust is None else round(r.robust.bound, 6),
                        "new_layout_proven": None if r.robust is None else r.robust.proven,
                        "branch_and_bound_nodes": None if r.robust is None else r.robust.nodes})
    return out


def candidate_rows(result):
    """Every candidate: its site, whether its column was computed, and its gain alone against the fixed flyer
    (exact when computed, else the geometric bound), and whether (and when) it was chosen."""
    chosen = {j: s.k for s in result.steps for j in [s.index]}
    robust = set(result.layout) if result.against == "adaptive" else set()
    return [{"site": c.name, **_where_columns(result, c), "evaluated": bool(result.evaluated[j]),
             "gain_alone": round(float(result.singleton[j]), 6),
             "gain_alone_is": "exact" if result.singleton_exact[j] else "upper bound",
             "chosen_step": chosen.get(j), "in_robust_layout": (j in robust) if robust else None}
            for j, c in enumerate(result.candidates)]


def _layout_block(result, rs, label):
    out = {"label": label, "scenario": rs.doc["scenario"]["name"],
           "sites": [n for n in rs.doc["radar"][len(result.scenario.radars):]],
           "objective_mc": rs.value, "objective_mc_ci95": list(rs.ci95),
           "per_route": {k: {"value": v[0], "flights": v[1], "ci95": [round(v[2][0], 6), round(v[2][1], 6)]}
                         for k, v in rs.route_values.items()},
           "summary": rs.summary}
    out["sites"] = [{"name": t["name"], "orbit": [[w["lat"], w["lon"]] for w in t["orbit"]["waypoints"]]}
                    if "orbit" in t else {"name": t["name"], "lat": t["lat"], "lon": t["lon"]} for t in out["sites"]]
    return out


def _against_flyer(result, which, rs):
    """A layout against the adaptive flyer (the Monte Carlo): its value on the scenario's routes, against the
    flyer's best route, that route in words, and what the flyer's re-routing takes from it."""
    rob = result.robust_value(which)
    return {"on_the_scenario_routes_mc": rs.value, "on_the_scenario_routes_mc_ci95": list(rs.ci95),
            "against_the_flyer_mc": None if rob is None else rob[0],
            "its_best_route": None if rob is None else rob[1],
            "its_best_route_words": None if rob is None else route_words(result, rob[1]),
            "lost_to_re_routing": None if rob is None else round(rs.value - rob[0], 6)}


def place_json(result):
    """place.json: the question, the settings, (against the adaptive flyer, its answer first: today's radars and
    the layouts against it), the steps, the rounds, every re-score (summaries included)."""
    sc = result.scenario
    adaptive = result.against == "adaptive"
    out = {
        "scenario": sc.info.name, "title": sc.info.title, "overrides": list(sc.overrides), "note": ASSUMPTIONS_NOTE,
        "question": {"add": result.add, "like": result.like, "objective": result.objective,
                     "against": result.against, "max_extra_km": result.max_extra_km,
                     "levels": None if result.levels is None else [lv.label for lv in result.levels],
                     "candidates": len(result.candidates), "candidate_source": result.candidate_source,
                     "platform": "orbit" if is_orbit(result) else "fixed site",
                     "phases_averaged": ({"loop": result.loop_phases, "scan": result.scan_phases}
                                         if is_orbit(result) else {"scan": result.scan_phases})},
    }
    if adaptive:
        out["answer"] = headline_text(result)
        out["adaptive"] = {
            "flyer": {"in_words": flyer_text(result), "levels": [lv.label for lv in result.levels],
                      "budgets_km": list(result.flyer_budgets_km),
                      "spread_km": None if result.flyer_spread_m is None else round(result.flyer_spread_m / 1000, 6),
                      "chooses_by": "the route search's P(detect) as flown (docs/evade.md), each budget at every "
                                    "level and transponder state"},
            "converged": result.converged, "converged_words": converged_text(result),
            "rounds_played": len(result.rounds), "routes_found": len(result.flyer_routes),
            "note": "against the flyer: the least, over the scenario's routes and every route the flyer found, of "
                    "the Monte Carlo per route; lost_to_re_routing: the scenario's routes minus that",
            "today": _against_flyer(result, "today", result.rescore_prefix[0]),
            "placed_for_the_flyer": _against_flyer(result, "layout", result.rescore_layout),
            "placed_for_the_scenario_routes": _against_flyer(result, "fixed", result.rescore_fixed),
            "selection_sample": {"placed_for_the_flyer": result.robust_sample, "its_best_route": result.best_response,
                                 "no_layout_does_better_than": result.robust_bound},
            "fixed_layout": _layout_block(result, result.rescore_fixed, "placed for the scenario's routes"),
            "flyer_routes": [{"name": f.name, "route": f.words(), "round": f.round,
                              "budget_km": round(f.budget_m / 1000.0, 3), "extra_km": round(f.extra_m / 1000.0, 3),
                              "level": f.level, "transponder": "on" if f.transponder_on else "off",
                              "spread_km": round(f.spread_m / 1000.0, 3), "p_search_as_flown": round(f.p_search, 6),
                              "waypoints": [[round(float(a), 6), round(float(b), 6)] for a, b in
                                            zip(f.lat_deg, f.lon_deg)],
                              **{f"objective_mc_{key}": (result.rescore_flyer[(which, f.name)].value
                                                         if (which, f.name) in result.rescore_flyer else None)
                                 for key, which in (("today", "today"), ("placed_for_the_flyer", "layout"),
                                                    ("placed_for_the_scenario_routes", "fixed"))}}
                             for f in result.flyer_routes],
            "rounds": rounds_rows(result),
            "flyer_file": "flyer.toml" if _worst_flyer(result, "layout") else None,
        }
    out.update({
        "selection": {"seed": result.select_seed, "campaigns": result.select_campaigns,
                      "flights_per_campaign": result.select_flights, "flights": result.select_flights_total,
                      "objective_without_new_radars": round(result.base_value, 6),
                      "columns_computed": int(np.sum(result.evaluated))},
        "monte_carlo": {"seed": result.seed, "campaigns": result.campaigns, "flights_per_campaign": result.flights},
        "steps": steps_rows(result),
        "layout": _layout_block(result, result.rescore_layout, "reported"),
        "run": run_text(result), "notes": list(result.notes),
    })
    return out


# --- the chart ------------------------------------------------------------------------------------------
def draw_objective(ax, result):
    """The objective against the number of radars added: the greedy's value and the upper bound on the
    selection sample, the Monte Carlo re-score (95% intervals) and, against the adaptive flyer, the value of
    the reported layout when the flyer answers it. Returns the artists by role."""
    out = {}
    ks = np.arange(len(result.steps) + 1)
    sample = np.array([result.base_value] + [s.value for s in result.steps])
    bound = np.array([result.base_value] + [s.bound for s in result.steps])
    mc = np.array([r.value for r in result.rescore_prefix])
    ci = np.array([_ci(r) for r in result.rescore_prefix], dtype=float)
    out["bound"] = ax.fill_between(ks, sample, bound, color=COLORS["band"], alpha=0.25, linewidth=0,
                                   label="room left by the bound: no layout of k does better (selection sample)")
    out["sample"] = ax.plot(ks, sample, color=COLORS["detected"], marker="o", markersize=4.5, markerfacecolor="white",
                            linewidth=1.0, linestyle=(0, (1, 1.5)),
                            label="sites chosen one by one for the scenario's routes (greedy), on the selection "
                                  "sample")
    out["mc"] = ax.errorbar(ks, mc, yerr=np.vstack([mc - ci[:, 0], ci[:, 1] - mc]), color=COLORS["detected"],
                            marker="o", markersize=5, linewidth=1.6, ecolor="#333333", elinewidth=0.8, capsize=2.5,
                            label="the same sites on the scenario's routes, Monte Carlo on a fresh sample (95% CI)")
    out["labels"] = []
    for s in result.steps:
        out["labels"].append(ax.annotate(f"{s.k}. {result.candidates[s.index].name}", (s.k, mc[s.k]), xytext=(0, -11),
                                         textcoords="offset points", fontsize=FONT_SIZE["tiny"], ha="center",
                                         va="top", color=COLORS["muted"]))
    if result.against == "adaptive":
        k = len(result.steps)
        rob, fix, today = (result.robust_value(w) for w in ("layout", "fixed", "today"))
        lay = result.rescore_layout
        xr, xg, x0 = k + 0.35, k - 0.2, 0.2
        arrow = dict(arrowstyle="->", linewidth=1.0)
        text = dict(textcoords="offset points", fontsize=FONT_SIZE["tiny"], va="center")
        red = PALETTE["vermillion"]
        out["robust"] = []
        if rob is not None and today is not None:      # the answer: today's radars and the layout placed for the flyer
            out["robust"] += ax.plot([x0, xr], [today[0], rob[0]], color=red, linewidth=1.2, linestyle=(0, (4, 2)),
                                     marker="v", markersize=7, markerfacecolor=red, markeredgecolor="black",
                                     label=f"against a flyer who adapts: today's radars, then {result.add} more "
                                           "placed for it (its best route against each)")
            ax.annotate(f"today's radars\n{today[0]:.3f}", (x0, today[0]), xytext=(7, 0), color=red, **text)
        out["robust"] += ax.plot([xr], [lay.value], linestyle="none", marker="s", markersize=6, markerfacecolor=red,
                                 markeredgecolor="black",
                                 label=f"the {result.add} placed for the flyer who adapts, on the scenario's routes")
        if rob is not None:
            ax.annotate("", (xr, rob[0]), (xr, lay.value), arrowprops=dict(color=red, **arrow))
            ax.annotate(f"with {result.add} more\n{rob[0]:.3f}\n(lost to\nre-routing\n{lay.value - rob[0]:.3f})",
                        (xr, rob[0]), xytext=(8, 0), color=red, **text)
        if fix is not None:
            out["robust"] += ax.plot([xg], [fix[0]], linestyle="none", marker="v", markersize=6,
                                     markerfacecolor="white", markeredgecolor=COLORS["detected"],
                                     label="the sites chosen for the scenario's routes, against a flyer who adapts")
            ax.annotate("", (xg, fix[0]), (xg, mc[k]), arrowprops=dict(color=COLORS["detected"], linestyle=":",
                                                                       **arrow))
            ax.annotate(f"lost to\nre-routing\n{mc[k] - fix[0]:.3f}", (xg, 0.5 * (mc[k] + fix[0])), xytext=(-6, 0),
                        ha="right", color=COLORS["detected"], **text)
    lo = min(np.nanmin(ci[:, 0]), np.nanmin(sample),
             *(v[0] for v in (result.robust_value(w) for w in ("layout", "fixed", "today")) if v is not None))
    ax.set_ylim(max(-0.03, lo - 0.08 * max(1.0 - lo, 0.05)), 1.0 + 0.04 * max(1.0 - lo, 0.05))
    ax.set_xlim(-0.45, len(result.steps) + (1.35 if result.against == "adaptive" else 0.6))
    ax.set_xticks(ks)
    ax.set_xlabel(f"radars added (copies of {result.like}, in the order chosen)")
    ax.set_ylabel(objective_label(result.objective))
    ax.grid(True, zorder=0)
    y0, y1 = ax.get_ylim()
    high = np.nanmax(ci[:, 1]) > 0.5 * (y0 + y1)          # the curves in the upper half: the legend below them
    if result.against == "adaptive":        # many marks, low and high: a legend that covers none of them
        place_legend(ax, fontsize=FONT_SIZE["tiny"] + 0.5, wrap_chars=70)
    else:
        ax.legend(loc="lower right" if high else "upper right", fontsize=FONT_SIZE["tiny"] + 0.5)
    return out


def objective_figure(result):
    """The chart of the objective against K as a Figure (call inside :func:`sim.products.style.use_style`)."""
    fig = new_figure("chart", figsize=(7.2, 4.8))
    ax = fig.add_axes([0.1, 0.25, 0.86, 0.62])
    draw_objective(ax, result)
    sc = result.scenario
    figure_heading(fig, f"Where {_copies(result)} go ({sc.info.name})",
                   headline_text(result) if result.against == "adaptive" else
                   f"{_short(result.objective)} as radars are added by lazy greedy")
    figure_footnote(fig, run_text(result) + ". " + ASSUMPTIONS_NOTE, 165)
    return fig


# --- the map ------------------------------------------------------------------------------------------------
def _worst_flyer(result, which, flyers=None):
    """The flyer's route with the least Monte Carlo objective against a layout (``which``: "layout" or
    "fixed"), among ``flyers`` (default all); None when there is none."""
    flyers = result.flyer_routes if flyers is None else flyers
    got = [(result.rescore_flyer[(which, f.name)].value, f.round, f.name, f) for f in flyers
           if (which, f.name) in result.rescore_flyer]
    return min(got, key=lambda x: x[:3])[3] if got else None


def draw_layout_panel(ax, result, rs, countries, flyers=(), title=""):
    """One panel: the existing radars' coverage at the cruise level, the candidate sites, the chosen sites
    (numbered, their coverage outlined in blue), the scenario's routes and the flyer's routes. Orbits (existing
    or new) are drawn as their loops through the waypoints (:func:`sim.products.maps.draw_orbits`), their
    coverage the union over the loop (:func:`sim.products.coverage.radar_coverages`); orbit candidates as thin
    racetrack lines. Returns the legend handles ``[(artist, label)]``."""
    sim = rs.sim
    tr = sim.airspace.transformer
    alt, agl, level = coverage_level(sim)
    covs = radar_coverages(sim, tr, altitude_m=alt, agl_m=agl)
    n_old = len(result.scenario.radars)
    old, new = covs[:n_old], covs[n_old:]
    xpdr_off = result.scenario.aircraft.transponder_on_probability == 0.0
    hidden = [r.kind.needs_transponder and xpdr_off for r, _ in old]
    orbit = is_orbit(result)
    if orbit:
        cand_lines = [np.column_stack(tr.transform([c.lon1_deg, c.lon2_deg], [c.lat1_deg, c.lat2_deg]))
                      for c in result.candidates]
        cand_xy = np.vstack(cand_lines)
    else:
        cand_xy = np.array([tr.transform(c.lon_deg, c.lat_deg) for c in result.candidates]).reshape(-1, 2)
    route_xy = []
    for route in sim.routes:
        lat = np.degrees(np.arcsin(np.clip(route.xyz[::30, 2], -1, 1)))
        lon = np.degrees(np.arctan2(route.xyz[::30, 1], route.xyz[::30, 0]))
        route_xy.append(np.column_stack(tr.transform(lon, lat)))
    flyer_xy = [np.column_stack(tr.transform(*_geodesic_lon_lat(f.lat_deg, f.lon_deg))) for f in flyers]
    old_xy = np.array([(np.nan, np.nan) if isinstance(r.platform, Orbit) else tr.transform(r.lon_deg, r.lat_deg)
                       for r, _ in old], dtype=float).reshape(-1, 2)
    old_loops = [_loop_xy(tr, r) for r, _ in old]
    new_loops = [_loop_xy(tr, r) for r, _ in new]
    new_xy = np.array([np.mean(xy[:-1], axis=0) if len(xy) else tr.transform(r.lon_deg, r.lat_deg)
                       for (r, _), xy in zip(new, new_loops)], dtype=float).reshape(-1, 2)
    must = np.vstack([cand_xy, old_xy[np.isfinite(old_xy[:, 0])], *old_loops, new_xy, *new_loops, *route_xy,
                      *flyer_xy])
    set_map_extent(ax, must, min_margin_m=40_000.0)
    draw_countries(ax, countries, result.scenario.airspace.country)
    draw_graticule(ax, tr)
    shown = ["hidden" if h else r.kind.name for (r, _), h in zip(old, hidden)]
    draw_coverage(ax, [g for _, g in old], shown)
    handles = []
    for kind in dict.fromkeys(r.kind.name for (r, _), h in zip(old, hidden) if not h):
        handles.append((Patch(facecolor=COLORS[kind], alpha=0.24 if kind == "primary" else 0.0,
                              hatch=None if kind == "primary" else "////", edgecolor=COLORS[kind], **LINES[kind]),
                        f"existing {kind} coverage at {level}"))
    if orbit:
        for xy in cand_lines:
            ax.plot(xy[:, 0], xy[:, 1], color="#8A8A8A", linewidth=0.9, alpha=0.85, zorder=2.5, marker=".",
                    markersize=2.5)
        handles.append((Line2D([], [], color="#8A8A8A", linewidth=0.8),
                        f"candidate racetrack ({len(result.candidates):,})"))
    else:
        ax.plot(cand_xy[:, 0], cand_xy[:, 1], linestyle="none", marker=".", markersize=1.6, color="#9A9A9A",
                zorder=2.5)
        handles.append((Line2D([], [], linestyle="none", marker=".", markersize=4, color="#9A9A9A"),
                        f"candidate site ({len(result.candidates):,})"))
    for _, g in new:
        if g.is_empty:
            continue
        ax.add_patch(PathPatch(polygon_path(g), facecolor=NEW_COLOR, alpha=0.18, edgecolor="none", zorder=2.6))
        ax.add_patch(PathPatch(polygon_path(g), facecolor="none", edgecolor=NEW_COLOR, linewidth=1.4, zorder=3.6))
    handles.append((Patch(facecolor=NEW_COLOR, alpha=0.3, edgecolor=NEW_COLOR, linewidth=1.4),
                    f"new radars' coverage at {level}"))
    draw_routes(ax, route_xy)
    handles.append((Line2D([], [], color=COLORS["route"], **LINES["route"]), "the scenario's routes"))
    which = "layout" if rs is result.rescore_layout else "fixed"
    worst = _worst_flyer(result, which, flyers)
    for f, xy in zip(flyers, flyer_xy):
        if worst is not None and f.name == worst.name:
            continue
        ax.plot(xy[:, 0], xy[:, 1], color="#7A7A7A", linewidth=0.7, alpha=0.7, zorder=5.2)
    if len(flyers) > (worst is not None):
        handles.append((Line2D([], [], color="#7A7A7A", linewidth=0.7),
                        f"the flyer's other routes ({len(flyers) - (worst is not None)}, within "
                        f"{result.max_extra_km:g} km extra)"))
    if worst is not None:
        xy = flyer_xy[[f.name for f in flyers].index(worst.name)]
        ax.plot(xy[:, 0], xy[:, 1], color="white", linewidth=3.0, zorder=5.3)
        ax.plot(xy[:, 0], xy[:, 1], color=PALETTE["vermillion"], linewidth=1.7, zorder=5.4)
        v = result.rescore_flyer[(which, worst.name)]
        handles.append((Line2D([], [], color=PALETTE["vermillion"], linewidth=1.7),
                        f"the flyer's best route against these sites: +{worst.extra_m / 1000:,.0f} km at "
                        f"{worst.level}; {_short(result.objective)} {v.value:.3f}"))
    draw_sites(ax, old_xy, [r.kind.name for r, _ in old], np.zeros((0, 2)))
    draw_orbits(ax, old_loops, [r.kind.name for r, _ in old])
    if any(len(xy) for xy in old_loops):
        handles.append((Line2D([], [], color=COLORS["radar_edge"], markerfacecolor="white",
                               markeredgecolor=COLORS["radar_edge"], **LINES["orbit"], **MARKERS["orbit"]),
                        "existing airborne radar orbit (coverage: union over the loop)"))
    for xy in new_loops:
        if len(xy):
            ax.plot(xy[:, 0], xy[:, 1], color="white", linewidth=3.2, zorder=6.8)
            ax.plot(xy[:, 0], xy[:, 1], color=NEW_COLOR, zorder=6.9, **LINES["orbit"])
            ax.plot(xy[:, 0], xy[:, 1], linestyle="none", markerfacecolor=NEW_COLOR, markeredgecolor="white",
                    zorder=6.95, **MARKERS["orbit"])
    for kind in dict.fromkeys(r.kind.name for r, _ in old if not isinstance(r.platform, Orbit)):
        blind = all(h for (r, _), h in zip(old, hidden) if r.kind.name == kind)
        handles.append((Line2D([], [], linestyle="none", markerfacecolor=COLORS[kind],
                               markeredgecolor=COLORS["radar_edge"], **MARKERS[kind]),
                        f"existing {kind} radar" + (": sees nothing, transponders off" if blind else "")))
    if len(new_xy):
        ax.plot(new_xy[:, 0], new_xy[:, 1], linestyle="none", marker="o", markersize=8, markerfacecolor=NEW_COLOR,
                markeredgecolor="white", markeredgewidth=1.2, zorder=7)
        # numbers beside their sites, placed so that none covers another or a site (sites can be 20 km apart)
        label_sites(ax, [(str(n), x, y, n) for n, (x, y) in enumerate(new_xy, start=1)],
                    marker_xy=np.vstack([new_xy, old_xy[np.isfinite(old_xy).all(axis=1)]]),
                    text_kw_extra=dict(color=NEW_COLOR, fontweight="bold", fontsize=FONT_SIZE["label"], gid="site-number"))
    numbering = "order chosen" if rs is result.rescore_fixed else "layout"
    if orbit:
        handles.append((Line2D([], [], color=NEW_COLOR, marker="o", markersize=8, markerfacecolor=NEW_COLOR,
                               markeredgecolor="white", **LINES["orbit"]),
                        f"new {result.like} orbit: its racetrack, numbered at the middle ({numbering}); coverage "
                        "the union over the loop"))
    else:
        handles.append((Line2D([], [], linestyle="none", marker="o", markersize=8, markerfacecolor=NEW_COLOR,
                               markeredgecolor="white"), f"new {result.like} copy (number: {numbering})"))
    draw_scale_bar(ax)
    draw_north_arrow(ax, tr)
    ax.set_title(title, fontsize=FONT_SIZE["label"] + 1)
    return handles


def _loop_xy(tr, radar):
    """An orbiting radar's loop through its waypoints, the first repeated at the end (projected metres, as
    :func:`sim.products.brief.map_layers` draws it); ``(0, 2)`` for a fixed site."""
    p = radar.platform
    if not isinstance(p, Orbit):
        return np.zeros((0, 2))
    return np.column_stack(tr.transform(np.append(p.waypoint_lon_deg, p.waypoint_lon_deg[0]),
                                        np.append(p.waypoint_lat_deg, p.waypoint_lat_deg[0])))


def _geodesic_lon_lat(lat_deg, lon_deg, step_m=5_000.0):
    """Points along a route's geodesic legs (WGS84) at most about ``step_m`` apart: ``(lon, lat)``."""
    length = float(leg_geometry(lat_deg, lon_deg)[1].sum())
    s = np.linspace(0.0, length, max(int(np.ceil(length / step_m)), 1) + 1)
    la, lo, _ = positions_along_route(lat_deg, lon_deg, s)
    return lo, la


def _panel_title(result, rs, which):
    sites = rs.doc["radar"][len(result.scenario.radars):]
    rob = result.robust_value(which) if result.against == "adaptive" else None
    what = f"{len(sites)} {'orbit' if is_orbit(result) else 'site'}{'s' if len(sites) != 1 else ''}"
    head = (f"{what} placed for the scenario's routes (greedy)" if which == "fixed" else
            f"{what} placed for a flyer who adapts" if result.against == "adaptive" else f"{what} placed (greedy)")
    lines = [head, f"on the scenario's routes: {_short(result.objective)} {format_p_ci(rs.value, *rs.ci95)}"]
    if rob is not None:
        lines.append(f"against a flyer who adapts: {rob[0]:.3f} (its best route: {route_words(result, rob[1], True)})")
    return "\n".join(lines)


def map_figure(result):
    """The map: one panel against the fixed flyer; against the adaptive flyer, the greedy layout beside the
    flyer-aware one with the flyer's routes."""
    adaptive = result.against == "adaptive"
    fig = new_figure("map", figsize=(11.0, 8.0) if not adaptive else (13.0, 7.6))
    tr = result.rescore_layout.sim.airspace.transformer
    countries = tuple((name, iso, project_geometry(gm, tr)) for name, iso, gm in load_borders())
    panels = [("fixed", result.rescore_fixed, ())] if not adaptive else [
        ("fixed", result.rescore_fixed, result.flyer_routes), ("layout", result.rescore_layout, result.flyer_routes)]
    bottom, top = 0.07, 0.84
    for p, (which, rs, flyers) in enumerate(panels):
        if adaptive:
            ax = fig.add_axes([0.01 + 0.5 * p, bottom, 0.48, top - bottom])
        else:
            ax = fig.add_axes([0.02, bottom, 0.63, top - bottom])
        handles = draw_layout_panel(ax, result, rs, countries, flyers, _panel_title(result, rs, which))
        ax.legend([a for a, _ in handles], [b for _, b in handles], loc="lower left", fontsize=FONT_SIZE["tiny"],
                  framealpha=0.92)
    sc = result.scenario
    figure_heading(fig, f"Where {_copies(result)} go: {sc.info.title}", (
        f"{headline_text(result)}; " if adaptive else f"objective {result.objective}; ") + (
        "numbered: the chosen orbits (blue racetracks); grey lines: the candidate racetracks" if is_orbit(result)
        else "blue dots, numbered: the chosen sites; grey dots: the candidates"), "map")
    if not adaptive:
        lines = [f"{_short(result.objective)}: the selection sample (its bound), then the Monte Carlo", "",
                 "k  site                    gain    sample  bound   Monte Carlo [95% CI]"]
        for row in steps_rows(result):
            gain = "" if row["marginal_gain"] is None else f"{row['marginal_gain']:+.4f}"
            lines.append(f"{row['k']:<2d} {row['site'][:22]:<22s} {gain:>7s}  {row['objective_sample']:.4f}  "
                         f"{row['bound_sample']:.4f}  {row['objective_mc']:.4f} [{row['mc_ci95_low']:.4f}-"
                         f"{row['mc_ci95_high']:.4f}]")
        fig.text(0.665, 0.84, "\n".join(lines), ha="left", va="top", fontsize=FONT_SIZE["tiny"] - 0.3,
                 family="monospace")
    figure_footnote(fig, run_text(result) + ". Map: Lambert azimuthal equal-area; borders Natural Earth. "
                    + ASSUMPTIONS_NOTE, 230)
    return fig


# --- the folder ------------------------------------------------------------------------------------------------
def _write_toml(path, doc, header):
    text = toml_text(doc, header=header)
    if tomllib.loads(text) != doc:
        raise RuntimeError(f"{path.name}: the TOML written does not read back as the re-scored scenario")
    path.write_text(text, encoding="utf-8")


def write_place_files(stage, result):
    """Write a place output folder into ``stage`` (an empty folder); returns the steps' rows."""
    stage = Path(stage)
    sc = result.scenario
    rows = steps_rows(result)
    header = list(rows[0])
    write_csv(stage / "steps.csv", header, [[("" if r[k] is None else r[k]) for k in header] for r in rows])
    crow = candidate_rows(result)
    ch = list(crow[0])
    write_csv(stage / "candidates.csv", ch, [[("" if r[k] is None else r[k]) for k in ch] for r in crow])
    write_json(stage / "place.json", place_json(result))
    lay = result.rescore_layout
    note = ASSUMPTIONS_NOTE
    _write_toml(stage / "placed.toml", lay.doc, (
        f"Written by airpicture place from scenario {sc.info.name}: {_copies(result)}, objective "
        f"{result.objective}, against {'a flyer who adapts' if result.against == 'adaptive' else 'a fixed flyer'}.",
        f"This file's run: {_short(result.objective)} {lay.value:.4f} [{lay.ci95[0]:.4f}-{lay.ci95[1]:.4f}]; "
        "run it with: airpicture run placed.toml", note))
    files = ("steps.csv       the greedy's steps for the scenario's routes: the site, its marginal gain,\n"
             "                the objective"
             " and the upper bound on the best layout of k (selection sample), the Monte Carlo\n"
             "                re-score\n"
             "candidates.csv  every candidate site: whether its column was computed, its gain alone (exact, or a bound)\n"
             "place.json      all of it, with the settings and every re-score's summary\n"
             "objective.png   the objective against the number of radars added (against a flyer who adapts: today's\n"
             "                radars and the layout placed for it, each against the flyer's best route)\n"
             "map.png         the chosen sites and their coverage over the existing layout\n"
             "placed.toml     the scenario with the new radars: airpicture run placed.toml gives the numbers above\n")
    if is_orbit(result):
        files += (f"\nThe candidates are orbits: copies of the airborne {result.like} flying out and back between the\n"
                  f"two waypoints of each racetrack (lat1,lon1 - lat2,lon2 in the CSVs) {_orbit_note(result)}. A\n"
                  f"candidate's probability per flight is averaged over {result.loop_phases} phases of its loop times "
                  f"{result.scan_phases} "
                  "scan phases\n(the Monte Carlo draws both per flight); the map draws each chosen orbit's racetrack "
                  "and its\ncoverage, the union over the loop (docs/place.md).\n")
    if result.against == "adaptive":
        rr = rounds_rows(result)
        write_csv(stage / "rounds.csv", list(rr[0]), [[("" if r[k] is None else r[k]) for k in rr[0]] for r in rr])
        fx = result.rescore_fixed
        _write_toml(stage / "placed-fixed.toml", fx.doc, (
            f"Written by airpicture place from scenario {sc.info.name}: the greedy layout, placed for the "
            f"scenario's routes (for comparison); {_short(result.objective)} {fx.value:.4f}.",
            "Run it with: airpicture run placed-fixed.toml", note))
        worst = _worst_flyer(result, "layout")
        if worst is not None:
            r = result.rescore_flyer[("layout", worst.name)]
            _write_toml(stage / "flyer.toml", r.doc, (
                f"Written by airpicture place from scenario {sc.info.name}: the flyer's best route against the "
                f"reported layout ({worst.words()}).",
                f"This file's run: {_short(result.objective)} {r.value:.4f}; run it with: airpicture run flyer.toml",
                note))
        files = (f"Against a flyer who adapts ({_short(result.objective)}, Monte Carlo, each layout against the "
                 f"flyer's best route):\n  {headline_text(result)}\n  the flyer flies {flyer_text(result)},\n"
                 "  choosing each route by the route search's P(detect) as flown\n"
                 f"  {converged_text(result)}\n\n" + files)
        files += ("rounds.csv      the adaptive loop: each route the flyer found (waypoints), the layout it answered\n"
                  "                (round 0: today's radars; round 1: the greedy layout; then each re-placement), its\n"
                  "                objective and the worst of the set's, the re-placement and its bound\n"
                  "placed-fixed.toml  the greedy layout, placed for the scenario's routes (for comparison)\n"
                  + ("flyer.toml      the flyer's best route against the reported layout, with it\n"
                     if worst is not None else ""))
    with use_style():
        title = f"Where {_copies(result)} go: {sc.info.title}"
        save_figure(objective_figure(result), stage / "objective.png", title=title,
                    description=f"{run_text(result)}. {ASSUMPTIONS_NOTE}")
        save_figure(map_figure(result), stage / "map.png", dpi=150, title=title,
                    description=f"{run_text(result)}. {ASSUMPTIONS_NOTE}")
    write_sidecar(stage / "README.txt", run_text(result), files + "".join(f"\nNote: {n}" for n in result.notes)
                  + ("\n" if result.notes else ""))
    return rows


def write_place(out_dir, result):
    """Write a place output folder (staged: the folder is replaced as a whole when every file is complete,
    :func:`sim.products.export.staged_output`); returns the steps' rows."""
    with staged_output(Path(out_dir)) as stage:
        return write_place_files(stage, result)
