"""Charts of a run: flights detected per campaign, and P(detect) against cruise altitude.

Each function draws on a given ``Axes`` and returns its artists (a dict by
role); none shows or saves a figure. The look comes from
:mod:`sim.products.style`.
"""
import numpy as np

from geo.units import FL_M
from sim.analysis.metrics import differences_z, is_probability, metric_label, metric_short_label
from sim.products.style import COLORS, FONT_SIZE, LINES, MARKERS

__all__ = ["detections_per_campaign", "draw_detections_histogram", "draw_altitude_curve", "draw_sweep", "draw_compare",
           "draw_tornado"]


def detections_per_campaign(result):
    """Flights detected per campaign of a run, shape (campaigns,), int, in increasing order (from the run's
    totals, :attr:`sim.results.RunTotals.per_campaign`: no per-flight arrays needed)."""
    per = np.asarray(result.totals.per_campaign)
    return np.repeat(np.arange(len(per), dtype=np.int64), per)


def draw_detections_histogram(ax, per_campaign, flights_per_campaign):
    """Histogram of flights detected per campaign, integer bins ``0..N``.

    Bar heights are campaign counts (they sum to the number of campaigns).
    The mean is a solid line; the band between the 5th and 95th percentiles
    (90% of campaigns) is shaded and edged with dashed lines.

    Returns
    -------
    dict
        ``bars`` (BarContainer), ``mean`` (Line2D), ``band`` (list of artists).
    """
    counts_per = np.asarray(per_campaign, dtype=np.int64)
    n = int(flights_per_campaign)
    heights = np.bincount(counts_per, minlength=n + 1)[: n + 1]
    k = np.arange(n + 1)
    bars = ax.bar(k, heights, width=0.8, color=COLORS["bar"], edgecolor="#333333", linewidth=0.5, zorder=2,
                  label="campaigns")
    mean = float(counts_per.mean())
    p05, p95 = (float(v) for v in np.percentile(counts_per, [5, 95]))
    band = [ax.axvspan(p05 - 0.45, p95 + 0.45, facecolor=COLORS["band"], alpha=0.18, zorder=1,
                       label=f"90% of campaigns: {p05:.0f} to {p95:.0f}")]
    band += [ax.axvline(v, color="#333333", zorder=3, **LINES["band"]) for v in (p05 - 0.45, p95 + 0.45)]
    mline = ax.axvline(mean, color=COLORS["detected"], zorder=4, label=f"mean {mean:.2f}", **LINES["mean"])
    ax.set_xlim(-0.7, n + 0.7)
    ax.set_ylim(0, max(1, heights.max()) * 1.12)
    step = max(1, int(np.ceil((n + 1) / 16)))
    ax.set_xticks(k[::step])
    ax.set_xlabel(f"flights detected per campaign (of {n})")
    ax.set_ylabel(f"campaigns (of {len(counts_per)})")
    ax.grid(axis="y", zorder=0)
    ax.set_axisbelow(True)
    ax.legend(handles=[mline, band[0], bars], loc="best", fontsize=FONT_SIZE["tiny"] + 0.5)
    return {"bars": bars, "mean": mline, "band": band}


def draw_altitude_curve(ax, points, ground_max_m=None):
    """P(detect) per flight against the cruise level with 95% confidence intervals.

    Parameters
    ----------
    points : sequence of dict
        As returned by :func:`sim.analysis.altitude_sweep`: ``mode``
        (``"amsl"`` or ``"agl"``), ``level_m``, ``p_detect``,
        ``p_detect_ci95`` ``[low, high]``, ``scenario_level`` (the
        scenario's own level, marked) and ``below_ground_fraction`` (points
        whose routes run partly below the ground are drawn hollow grey and
        named in the legend: not flyable as modelled).
    ground_max_m : float, optional
        AMSL curves: the highest ground under the routes [m AMSL]; levels
        below it are shaded.

    Returns
    -------
    dict
        ``curve`` (ErrorbarContainer), ``cruise`` (Line2D or None), ``own``
        (the scenario's point or None), ``underground`` (PathCollection or
        None), ``ground`` (the shaded span or None), ``secondary`` (the
        flight-level axis, AMSL only, else None).
    """
    pts = sorted(points, key=lambda p: p["level_m"])
    agl = bool(pts) and pts[0]["mode"] == "agl"
    x = np.array([p["level_m"] for p in pts], dtype=float)
    p = np.array([p["p_detect"] for p in pts], dtype=float)
    lo = np.array([q["p_detect_ci95"][0] for q in pts], dtype=float)
    hi = np.array([q["p_detect_ci95"][1] for q in pts], dtype=float)
    curve = ax.errorbar(x, p, yerr=np.vstack([p - lo, hi - p]), color=COLORS["detected"],
                        markerfacecolor="white", markeredgecolor=COLORS["detected"], ecolor="#333333",
                        elinewidth=0.8, capsize=2.5, zorder=3, label="P(detect), 95% CI", **MARKERS["sweep"],
                        **LINES["mean"])
    bad = np.array([(q.get("below_ground_fraction") or 0.0) > 0 for q in pts], dtype=bool)
    underground = None
    if bad.any():
        worst = max(q["below_ground_fraction"] for q, b in zip(pts, bad) if b)
        underground = ax.scatter(x[bad], p[bad], s=42, facecolors="#d9d9d9", edgecolors="#7f7f7f", zorder=4,
                                 label=f"route partly below ground (up to {worst:.0%}): not flyable as modelled")
    own_i = [i for i, q in enumerate(pts) if q.get("scenario_level")]
    cruise = own = None
    if own_i:
        i = own_i[0]
        text = f"{x[i]:,.0f} m above ground" if agl else f"{x[i]:,.0f} m (FL{x[i] / FL_M:.0f})"
        cruise = ax.axvline(x[i], color=COLORS["cruise"], zorder=2, label=f"this scenario: {text}",
                            **LINES["cruise"])
        own = ax.scatter([x[i]], [p[i]], marker="D", s=38, color=COLORS["cruise"], zorder=5)
    ground = None
    if ground_max_m is not None and not agl:
        ground = ax.axvspan(0.0, ground_max_m, facecolor="#d9d9d9", edgecolor="#7f7f7f", hatch="///",
                            linewidth=0.0, zorder=1, label=f"below the highest ground under the routes "
                                                          f"({ground_max_m:,.0f} m)")
    ax.set_ylim(-0.02, 1.04)
    top = 6_500.0 if agl else 12_500.0
    ax.set_xlim(0, max(top, float(x.max()) * 1.04) if len(x) else top)
    ax.set_ylabel("P(detect) per flight")
    ax.grid(True, zorder=0)
    ax.set_axisbelow(True)
    sec = None
    if agl:
        ax.set_xlabel("cruise height above ground [m] (terrain following)")
    else:
        ax.set_xlabel("cruise altitude [m AMSL]")
        sec = ax.secondary_xaxis("top", functions=(lambda m: np.asarray(m) / FL_M, lambda fl: np.asarray(fl) * FL_M))
        sec.set_xlabel("flight level [FL = 100 ft]", fontsize=FONT_SIZE["small"])
        sec.tick_params(labelsize=FONT_SIZE["tiny"] + 0.5)
    ax.legend(loc="lower right", fontsize=FONT_SIZE["tiny"] + 0.5)
    return {"curve": curve, "cruise": cruise, "own": own, "underground": underground, "ground": ground,
            "secondary": sec}


def draw_sweep(ax, key, points):
    """The swept metric, with its 95% interval where it has one, against the values of one swept key.

    ``points`` as :func:`sim.analysis.sweep` returns them (``metric``,
    ``metric_value``, ``metric_ci95``; points without ``metric`` are read as
    P(detect)). Numeric values are placed on a numeric axis; other values
    (text, booleans) at equal steps. A probability's axis runs from 0 to 1.
    Returns ``{"curve": ErrorbarContainer}``.
    """
    metric = points[0].get("metric", "p_detect") if points else "p_detect"
    values = [p["value"] for p in points]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    x = np.array(values, dtype=float) if numeric else np.arange(len(values), dtype=float)
    y = np.array([np.nan if q.get("metric_value", q.get("p_detect")) is None else q.get("metric_value", q.get("p_detect"))
                  for q in points], dtype=float)
    cis = [q.get("metric_ci95", q.get("p_detect_ci95")) for q in points]
    with_ci = bool(points) and all(c is not None for c in cis)
    yerr = None
    if with_ci:
        ci = np.array(cis, dtype=float).reshape(-1, 2)
        yerr = np.vstack([y - ci[:, 0], ci[:, 1] - y])
    label = f"{metric_short_label(metric)}, 95% CI" if with_ci else metric_short_label(metric)
    curve = ax.errorbar(x, y, yerr=yerr, color=COLORS["detected"], markerfacecolor="white",
                        markeredgecolor=COLORS["detected"], ecolor="#333333", elinewidth=0.8, capsize=2.5,
                        label=label, **MARKERS["sweep"], **LINES["mean"])
    if not numeric:
        ax.set_xticks(x, [str(v) for v in values])
    ax.set_xlabel(key)
    ax.set_ylabel(metric_label(metric))
    if is_probability(metric):
        ax.set_ylim(-0.02, 1.04)
    ax.grid(True, zorder=0)
    ax.legend(loc="best", fontsize=FONT_SIZE["tiny"] + 0.5)
    return {"curve": curve}


def draw_compare(ax, names, p, ci95, flights=None, *, reference=0, metric="p_detect"):
    """Bars of a metric with their 95% intervals, one per scenario; a scenario whose value differs
    from the reference's beyond sampling noise (z > 3) is flagged.

    Parameters
    ----------
    names : sequence of str
    p : sequence of float
        The metric per scenario (NaN: none; drawn as an empty row).
    ci95 : sequence of (float, float) or None
        95% intervals (a row of NaN, or None for all: no interval).
    flights : sequence of int, optional
        Flights per scenario: the pooled two-proportion z of a probability
        without intervals.
    reference : int
        The bar the others are compared with (hatched, named on the axis).
    metric : str
        The metric's dotted path (its label; a probability's axis is 0-1).

    Returns ``{"bars": BarContainer, "flagged": [names], "z": ndarray}``.
    """
    p = np.asarray(p, dtype=float)
    ci = None if ci95 is None else np.asarray(ci95, dtype=float).reshape(-1, 2)
    n = None if flights is None else np.asarray(flights, dtype=float)
    ref = int(reference)
    y = np.arange(len(p))[::-1]
    xerr = None if ci is None else np.nan_to_num(np.vstack([p - ci[:, 0], ci[:, 1] - p]))
    bars = ax.barh(y, np.nan_to_num(p), xerr=xerr, color=COLORS["bar"], edgecolor="#333333", linewidth=0.6,
                   error_kw=dict(ecolor="#333333", elinewidth=0.8, capsize=2.5), zorder=2)
    bars[ref].set_hatch("///")
    probability = is_probability(metric)
    z = differences_z(p, ci, n, ref, probability)
    top = float(np.nanmax(np.concatenate([p, ci[:, 1] if ci is not None else p]))) if np.isfinite(p).any() else 1.0
    right = 1.0 if probability else max(top, 1e-9)
    flagged = []
    for i in np.flatnonzero(z > 3):
        flagged.append(names[i])
        at = p[i] if ci is None or not np.isfinite(ci[i, 1]) else ci[i, 1]
        ax.text(at + 0.02 * right, y[i], f"{p[i] - p[ref]:+.3f} (z {z[i]:.0f})", va="center",
                fontsize=FONT_SIZE["tiny"] + 0.5, color=COLORS["cruise"])
    for i in np.flatnonzero(np.isnan(p)):
        ax.text(0.01 * right, y[i], "none (not in this scenario's summary)", va="center",
                fontsize=FONT_SIZE["tiny"] + 0.5, color=COLORS["muted"])
    ax.set_yticks(y, [f"{s} (reference)" if i == ref else s for i, s in enumerate(names)])
    ax.set_xlim(0, 1.25 * right)
    tested = ("with its 95% CI; " if ci is not None else "") + (
        "differences from the reference beyond sampling noise (z > 3) marked"
        if ci is not None or (probability and n is not None) else "no interval: differences not tested")
    ax.set_xlabel(f"{metric_label(metric)}\n{tested}", fontsize=FONT_SIZE["small"])
    ax.grid(axis="x", zorder=0)
    ax.set_axisbelow(True)
    return {"bars": bars, "flagged": flagged, "z": z}


def draw_tornado(ax, base, rows, metric):
    """A tornado chart: per uncertain input, the metric at its low and high values around the base.

    ``rows`` as :func:`sim.analysis.sensitivity` returns them (ranked, largest swing on top).
    Returns ``{"low": BarContainer, "high": BarContainer}``.
    """
    y = np.arange(len(rows))[::-1]
    lo = np.array([r["metric_low"] for r in rows], dtype=float) - base
    hi = np.array([r["metric_high"] for r in rows], dtype=float) - base
    low = ax.barh(y, lo, left=base, color=COLORS["undetected"], alpha=0.75, label="input at its low value", zorder=2)
    high = ax.barh(y, hi, left=base, color=COLORS["detected"], alpha=0.75, label="input at its high value", zorder=2)
    ax.axvline(base, color="#333333", linewidth=0.9, zorder=3)
    ax.set_yticks(y, [f"{r['key']}  [{r['low']}, {r['high']}]" for r in rows])
    ax.set_xlabel(f"{metric_label(metric)} (base {base:.3f}; same draws in every run)")
    ax.grid(axis="x", zorder=0)
    ax.set_axisbelow(True)
    ax.legend(loc="best", fontsize=FONT_SIZE["tiny"] + 0.5)
    return {"low": low, "high": high}
