"""Charts of a run: flights detected per campaign, and P(detect) against cruise altitude.

Each function draws on a given ``Axes`` and returns its artists (a dict by
role); none shows or saves a figure. The look comes from
:mod:`sim.products.style`.
"""
import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.container import BarContainer, Container

from geo.units import FL_M
from sim.labels import is_probability, metric_label, metric_short_label
from sim.products.style import COLORS, FONT_SIZE, LINES, MARKERS
from sim.results import differences_z, format_p_ci

__all__ = ["detections_per_campaign", "draw_detections_histogram", "draw_altitude_curve", "draw_sweep", "draw_compare",
           "draw_tornado", "tornado_labels", "histogram_key_text", "altitude_key_text", "TORNADO_LABEL_CHARS", "data_points_px", "data_boxes_px", "place_legend", "LEGEND_LOCATIONS"]

#: Where a chart's legend may go inside its axes, in order of preference; when each covers data, the legend
#: goes below the axes (:func:`place_legend`).
LEGEND_LOCATIONS = ("upper right", "upper left", "lower right", "lower left", "center right", "center left",
                    "upper center", "lower center", "center")
#: Spacing of the sample points taken along a drawn line [px].
_SAMPLE_PX = 2.0


def _renderer(fig):
    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    return canvas.get_renderer()


def _densify(xy, spacing_px=_SAMPLE_PX):
    """Points at most ``spacing_px`` apart along a polyline given in display coordinates, (N, 2)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    if len(xy) < 2:
        return xy
    seg = np.hypot(*np.diff(xy, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.unique(np.concatenate([np.arange(0.0, s[-1], spacing_px), s]))
    return np.column_stack([np.interp(t, s, xy[:, 0]), np.interp(t, s, xy[:, 1])])


def data_points_px(ax, secondary=False):
    """The points an axes' data is drawn through, in display coordinates (N, 2): along every line (the
    markers and the segments between them), error bars and scattered markers. ``secondary``: instead,
    the reference lines drawn across the whole axes (``axvline``, ``axhline``: a level marked, a band's
    edges), which a legend should also keep clear of where it can."""
    out = [np.zeros((0, 2))]
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = line.get_transform().transform(line.get_xydata())
        across = line.get_transform() is not ax.transData      # axvline/axhline: a blended transform
        if across != secondary:
            continue
        joined = line.get_linestyle() not in ("None", "none", "", " ")
        out.append(_densify(xy) if joined else xy)
    if not secondary:
        for c in ax.collections:
            if not c.get_visible():
                continue
            if isinstance(c, LineCollection):
                tr = c.get_transform()
                out += [_densify(tr.transform(seg)) for seg in c.get_segments() if len(seg)]
            elif isinstance(c, PathCollection):
                out.append(c.get_offset_transform().transform(c.get_offsets()))
    return np.vstack(out)


def data_boxes_px(ax):
    """The display boxes of an axes' bars (histograms, tornado and comparison bars)."""
    renderer = _renderer(ax.figure)
    return [p.get_window_extent(renderer) for c in ax.containers if isinstance(c, BarContainer) for p in c.patches
            if p.get_visible() and p.get_width() != 0 and p.get_height() != 0]


def _probability_axis(set_lim, *artists):
    """A probability's axis from 0 to 1 exactly; the data drawn unclipped, so that a point at 0 or 1 shows
    whole on the axis' edge."""
    set_lim(0.0, 1.0)
    for a in artists:
        for child in [c for c in a.get_children() if c is not None] if isinstance(a, Container) else \
                [] if a is None else [a]:
            child.set_clip_on(False)


def _cost(bb, points, boxes):
    inside = (points[:, 0] >= bb.x0) & (points[:, 0] <= bb.x1) & (points[:, 1] >= bb.y0) & (points[:, 1] <= bb.y1)
    area = sum(max(0.0, min(bb.x1, b.x1) - max(bb.x0, b.x0)) * max(0.0, min(bb.y1, b.y1) - max(bb.y0, b.y0))
               for b in boxes)
    return float(np.count_nonzero(inside)) + area


def place_legend(ax, handles=None, labels=None, *, pad_px=3.0, wrap_chars=48, ncols=(1, 2), **kw):
    """A legend that hides no data: the first of :data:`LEGEND_LOCATIONS` (in one column, then in each of
    ``ncols``) whose box (from the legend's own extent) covers none of the data's points or bars
    (:func:`data_points_px`, :func:`data_boxes_px`) nor the texts drawn on the axes, preferring one that also keeps clear of the reference
    lines; when every place inside covers data, below the axes, which give up the room it takes (their
    footprint on the figure is unchanged). Long labels are wrapped (at ``wrap_chars``, narrower in more
    columns), never cut. Returns the Legend.
    """
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    renderer = _renderer(ax.figure)
    ax.apply_aspect()
    points, lines, boxes = data_points_px(ax), data_points_px(ax, secondary=True), data_boxes_px(ax)
    boxes += [t.get_window_extent(renderer) for t in ax.texts if t.get_visible() and t.get_text()]   # its labels
    axbox = ax.get_window_extent(renderer).padded(2 * pad_px)
    best = None
    for ncol in ncols:
        chars = max(int(wrap_chars * (1.0 if ncol == 1 else 0.75)), 16)
        texts = [textwrap.fill(t, chars, break_on_hyphens=False) if len(t) > chars else t for t in labels]
        for loc in LEGEND_LOCATIONS:
            leg = ax.legend(handles, texts, loc=loc, ncol=ncol, **kw)
            bb = leg.get_window_extent(renderer).padded(pad_px)
            if bb.width > axbox.width or bb.height > axbox.height:     # wider than the axes: it would cover
                continue                                               # their labels; no place inside fits
            cost = (_cost(bb, points, boxes), _cost(bb, lines, []))
            if best is None or cost < best[0]:
                best = (cost, loc, ncol, texts)
            if cost == (0.0, 0.0):
                break
        if best is not None and best[0] == (0.0, 0.0):
            break
    if best is not None and best[0][0] == 0.0:
        _, loc, ncol, texts = best
        return ax.legend(handles, texts, loc=loc, ncol=ncol, **kw)
    texts = [textwrap.fill(t, wrap_chars, break_on_hyphens=False) if len(t) > wrap_chars else t for t in labels]
    return _legend_below(ax, handles, texts, **kw)


def _legend_below(ax, handles, labels, **kw):
    """The legend under the axes' x label, the axes raised by its height (the same room on the figure)."""
    fig = ax.figure
    renderer = _renderer(fig)
    kw = {k: v for k, v in kw.items() if k not in ("loc", "bbox_to_anchor", "bbox_transform")}
    width = ax.get_window_extent(renderer).width
    for ncol in (2, 1):
        leg = ax.legend(handles, labels, loc="upper center", ncol=ncol, **kw)
        if leg.get_window_extent(renderer).width <= width or ncol == 1:
            break
    h = leg.get_window_extent(renderer).height + 4.0        # [px], a small gap
    pos = ax.get_position()
    height = max(pos.height - h / fig.bbox.height, 0.25 * pos.height)     # the top stays where it was
    ax.set_position([pos.x0, pos.y1 - height, pos.width, height])
    box = ax.get_window_extent(renderer)
    below = (ax.xaxis.get_tightbbox(renderer).y0 - 2.0 - box.y0) / box.height   # under the x label [axes fraction]
    leg.set_bbox_to_anchor((0.5, below), transform=ax.transAxes)     # in the axes' units: any dpi
    return leg


def detections_per_campaign(result):
    """Flights detected per campaign of a run, shape (campaigns,), int, in increasing order (from the run's
    totals, :attr:`sim.results.RunTotals.per_campaign`: no per-flight arrays needed)."""
    per = np.asarray(result.totals.per_campaign)
    return np.repeat(np.arange(len(per), dtype=np.int64), per)


def draw_detections_histogram(ax, per_campaign, flights_per_campaign, legend=True):
    """Histogram of flights detected per campaign, integer bins ``0..N``.

    Bar heights are campaign counts (they sum to the number of campaigns).
    The mean is a solid line; the band between the 5th and 95th percentiles
    (90% of campaigns) is shaded and edged with dashed lines.

    Returns
    -------
    dict
        ``bars`` (BarContainer), ``mean`` (Line2D), ``band`` (list of artists), ``legend`` (clear of the
        bars, :func:`place_legend`; None with ``legend=False``: a small chart says it in its title,
        :func:`histogram_key_text`).
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
    legend = place_legend(ax, [mline, band[0], bars], [mline.get_label(), band[0].get_label(), bars.get_label()],
                          fontsize=FONT_SIZE["tiny"] + 0.5) if legend else None
    return {"bars": bars, "mean": mline, "band": band, "legend": legend}


def histogram_key_text(per_campaign):
    """What the histogram's legend says, in words for a title (a small chart has no room for a legend).

    >>> histogram_key_text([3, 4, 4, 5])
    'solid line: mean 4.00; shaded: 90% of campaigns, 3 to 5'
    """
    counts = np.asarray(per_campaign, dtype=np.int64)
    p05, p95 = (float(v) for v in np.percentile(counts, [5, 95]))
    return f"solid line: mean {float(counts.mean()):.2f}; shaded: 90% of campaigns, {p05:.0f} to {p95:.0f}"


def draw_altitude_curve(ax, points, ground_max_m=None, headline=None, compact=False):
    """P(detect) per flight against the cruise level with 95% confidence intervals.

    Parameters
    ----------
    points : sequence of dict
        As returned by :func:`sim.analysis.altitude_sweep`: ``mode``
        (``"amsl"`` or ``"agl"``), ``level_m``, ``p_detect``,
        ``p_detect_ci95`` ``[low, high]``, ``campaigns``, ``scenario_level``
        (the scenario's own level, marked) and ``below_ground_fraction``
        (points whose routes run partly below the ground are drawn hollow
        grey and named in the legend: not flyable as modelled).
    ground_max_m : float, optional
        AMSL curves: the highest ground under the routes [m AMSL]; levels
        below it are shaded.
    headline : dict, optional
        The run's own figures (``p_detect``, ``p_detect_ci95``,
        ``campaigns``: its key numbers): "this scenario" is drawn at them,
        with their interval, whatever the curve's campaigns; without it, at
        the curve's point.
    compact : bool
        A small chart (the brief's): no legend, its caller says what the
        marks are in the title (:func:`altitude_key_text`).

    Returns
    -------
    dict
        ``curve`` (ErrorbarContainer), ``cruise`` (Line2D or None), ``own``
        (the scenario's point, an ErrorbarContainer, or None),
        ``underground`` (PathCollection or None), ``ground`` (the shaded span
        or None), ``secondary`` (the flight-level axis, AMSL only, else
        None), ``legend``.

    Notes
    -----
    The legend goes where it covers no point, interval or the scenario's
    level (:func:`place_legend`), else under the axes.
    """
    pts = sorted(points, key=lambda p: p["level_m"])
    agl = bool(pts) and pts[0]["mode"] == "agl"
    x = np.array([p["level_m"] for p in pts], dtype=float)
    p = np.array([p["p_detect"] for p in pts], dtype=float)
    lo = np.array([q["p_detect_ci95"][0] for q in pts], dtype=float)
    hi = np.array([q["p_detect_ci95"][1] for q in pts], dtype=float)
    counts = sorted({q.get("campaigns") for q in pts if q.get("campaigns")})
    per = f" ({counts[0]:,} campaigns per level)" if len(counts) == 1 else ""
    curve = ax.errorbar(x, p, yerr=np.vstack([p - lo, hi - p]), color=COLORS["detected"],
                        markerfacecolor="white", markeredgecolor=COLORS["detected"], ecolor="#333333",
                        elinewidth=0.8, capsize=2.5, zorder=3, label=f"P(detect), 95% CI{per}", **MARKERS["sweep"],
                        **LINES["mean"])
    bad = np.array([(q.get("below_ground_fraction") or 0.0) > 0 for q in pts], dtype=bool)
    underground = None
    if bad.any():
        worst = max(q["below_ground_fraction"] for q, b in zip(pts, bad) if b)
        underground = ax.scatter(x[bad], p[bad], s=42, facecolors="#d9d9d9", edgecolors="#7f7f7f", zorder=4,
                                 label=f"partly below ground (up to {worst:.0%}): not flyable as modelled")
    own_i = [i for i, q in enumerate(pts) if q.get("scenario_level")]
    cruise = own = None
    if own_i:
        i = own_i[0]
        text = f"{x[i]:,.0f} m above ground" if agl else f"{x[i]:,.0f} m (FL{x[i] / FL_M:.0f})"
        if headline is not None:      # the key number itself, with its own interval and campaigns
            hp, (hlo, hhi) = headline["p_detect"], headline["p_detect_ci95"]
            label = f"this scenario ({text}): the key number, {headline['campaigns']:,} campaigns"
        else:
            hp, hlo, hhi = p[i], lo[i], hi[i]
            label = f"this scenario: {text}"
        cruise = ax.axvline(x[i], color=COLORS["cruise"], zorder=2, **LINES["cruise"])
        own = ax.errorbar([x[i]], [hp], yerr=[[hp - hlo], [hhi - hp]], marker="D", markersize=5.5, linestyle="none",
                          color=COLORS["cruise"], ecolor=COLORS["cruise"], elinewidth=1.0, capsize=3.0, zorder=5,
                          label=label)
    ground = None
    if ground_max_m is not None and not agl:
        ground = ax.axvspan(0.0, ground_max_m, facecolor="#d9d9d9", edgecolor="#7f7f7f", hatch="///",
                            linewidth=0.0, zorder=1, label=f"below the routes' highest ground ({ground_max_m:,.0f} m)")
    _probability_axis(ax.set_ylim, curve, own, underground)
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
    legend = None if compact else place_legend(ax, fontsize=FONT_SIZE["tiny"] + 0.5)
    return {"curve": curve, "cruise": cruise, "own": own, "underground": underground, "ground": ground,
            "secondary": sec, "legend": legend}


def altitude_key_text(points, headline=None, ground_max_m=None):
    """What the altitude chart's legend says, in words for a title (a small chart has no room for one): the
    marks by their shapes.

    >>> print(altitude_key_text([{"campaigns": 100, "below_ground_fraction": 0.2}], {"campaigns": 2000}, 3108.0))
    circles: 95% CI, 100 campaigns per level (grey: partly below ground, not flyable as modelled); diamond: this scenario, the key number (2,000 campaigns); hatched: below the routes' highest ground (3,108 m)
    """
    counts = sorted({q.get("campaigns") for q in points if q.get("campaigns")})
    per = f", {counts[0]:,} campaigns per level" if len(counts) == 1 else ""
    grey = " (grey: partly below ground, not flyable as modelled)" if any(
        (q.get("below_ground_fraction") or 0) > 0 for q in points) else ""
    parts = [f"circles: 95% CI{per}{grey}"]
    if headline is not None:
        parts.append(f"diamond: this scenario, the key number ({headline['campaigns']:,} campaigns)")
    if ground_max_m is not None and not (points and points[0].get("mode") == "agl"):
        parts.append(f"hatched: below the routes' highest ground ({ground_max_m:,.0f} m)")
    return "; ".join(parts)


def draw_sweep(ax, key, points):
    """The swept metric, with its 95% interval where it has one, against the values of one swept key.

    ``points`` as :func:`sim.analysis.sweep` returns them (``metric``,
    ``metric_value``, ``metric_ci95``; points without ``metric`` are read as
    P(detect)). Numeric values are placed on a numeric axis; other values
    (text, booleans) at equal steps. A probability's axis runs from 0 to 1.
    Returns ``{"curve": ErrorbarContainer, "legend": Legend}`` (the legend clear of the data,
    :func:`place_legend`).
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
        _probability_axis(ax.set_ylim, curve)
    ax.grid(True, zorder=0)
    legend = place_legend(ax, fontsize=FONT_SIZE["tiny"] + 0.5)
    return {"curve": curve, "legend": legend}


#: A comparison's scenario name longer than this many characters takes more lines.
COMPARE_LABEL_CHARS = 40


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
        The metric's dotted path (its label; a probability's axis is 0-1, a flag with no room right of its
        bar written inside it).

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
    right = 1.0 if probability else 1.25 * max(top, 1e-9)       # a probability's axis: 0 to 1, no further
    ax.set_xlim(0, right)
    renderer = _renderer(ax.figure)
    flagged = []
    for i in np.flatnonzero(z > 3):
        flagged.append(names[i])
        at = p[i] if ci is None or not np.isfinite(ci[i, 1]) else ci[i, 1]
        t = ax.text(at + 0.02 * right, y[i], f"{p[i] - p[ref]:+.3f} (z {z[i]:.0f})", va="center",
                    fontsize=FONT_SIZE["tiny"] + 0.5, color=COLORS["cruise"])
        if t.get_window_extent(renderer).x1 > ax.get_window_extent(renderer).x1:    # no room right of it:
            inner = p[i] if ci is None or not np.isfinite(ci[i, 0]) else ci[i, 0]        # inside its bar,
            t.set_position((inner - 0.02 * right, y[i]))                                  # left of its interval
            t.set_horizontalalignment("right")
            t.set_bbox(dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none", alpha=0.85))
    for i in np.flatnonzero(np.isnan(p)):
        ax.text(0.01 * right, y[i], "none (not in this scenario's summary)", va="center",
                fontsize=FONT_SIZE["tiny"] + 0.5, color=COLORS["muted"])
    ax.set_yticks(y, [textwrap.fill(f"{s} (reference)" if i == ref else s, COMPARE_LABEL_CHARS, break_on_hyphens=False)
                      for i, s in enumerate(names)])     # a long name on more lines, never cut
    tested = ("with its 95% CI; " if ci is not None else "") + (
        "differences from the reference beyond sampling noise (z > 3) marked"
        if ci is not None or (probability and n is not None) else "no interval: differences not tested")
    ax.set_xlabel(f"{metric_label(metric)}\n{tested}", fontsize=FONT_SIZE["small"])
    ax.grid(axis="x", zorder=0)
    ax.set_axisbelow(True)
    return {"bars": bars, "flagged": flagged, "z": z}


#: A tornado's input label longer than this many characters takes more lines: its key wrapped (a long
#: name broken inside, never cut), its range on a line of its own.
TORNADO_LABEL_CHARS = 60


def tornado_labels(rows):
    """The tornado's label of each input, ``KEY  [low, high]``, on more lines when longer than
    :data:`TORNADO_LABEL_CHARS` (the range kept whole on the last).

    >>> tornado_labels([{"key": "aircraft.rcs_m2", "low": 10, "high": 100}])
    ['aircraft.rcs_m2  [10, 100]']
    """
    out = []
    for r in rows:
        rng = f"[{r['low']}, {r['high']}]"
        one = f"{r['key']}  {rng}"
        out.append(one if len(one) <= TORNADO_LABEL_CHARS else
                   "\n".join(textwrap.wrap(r["key"], TORNADO_LABEL_CHARS, break_on_hyphens=False) + [rng]))
    return out


def draw_tornado(ax, base, rows, metric, base_ci95=None):
    """A tornado chart: per uncertain input, the metric at its low and high values around the base.

    ``rows`` as :func:`sim.analysis.sensitivity` returns them (ranked, largest swing on top). Each bar runs
    from ``base`` by the input's effect (``effect_low``/``effect_high``: its run minus the base run on the
    same draws) when the rows have it, else to ``metric_low``/``metric_high``; so the base may be the
    headline's own number (``base_ci95``: its interval, shaded) while the runs use fewer campaigns, and an
    input with no effect has no bar. A probability's bars and axis stay within [0, 1].
    Returns ``{"low": BarContainer, "high": BarContainer, "legend": Legend}``.
    """
    y = np.arange(len(rows))[::-1]
    probability = is_probability(metric)

    def end(r, side):
        v = base + r[f"effect_{side}"] if f"effect_{side}" in r else r[f"metric_{side}"]
        return float(np.clip(v, 0.0, 1.0)) if probability and v == v else v
    lo = np.array([end(r, "low") for r in rows], dtype=float) - base
    hi = np.array([end(r, "high") for r in rows], dtype=float) - base
    band = None
    if base_ci95 is not None and None not in base_ci95:
        band = ax.axvspan(*base_ci95, facecolor="#BBBBBB", alpha=0.45, zorder=1, linewidth=0,
                          label="the base's 95% CI")
    low = ax.barh(y, lo, left=base, color=COLORS["undetected"], alpha=0.75, label="input at its low value", zorder=2)
    high = ax.barh(y, hi, left=base, color=COLORS["detected"], alpha=0.75, label="input at its high value", zorder=2)
    ax.axvline(base, color="#333333", linewidth=0.9, zorder=3)
    ax.set_yticks(y, tornado_labels(rows))
    base_text = format_p_ci(base, *base_ci95) if band is not None and probability else f"{base:.3f}"
    ax.set_xlabel(f"{metric_label(metric)} (base {base_text}; same draws in every run)")
    if probability:
        x0, x1 = ax.get_xlim()
        ax.set_xlim(max(0.0, x0), min(1.0, x1))
    ax.grid(axis="x", zorder=0)
    ax.set_axisbelow(True)
    handles = [low, high] + ([band] if band is not None else [])
    legend = place_legend(ax, handles, [h.get_label() for h in handles], fontsize=FONT_SIZE["tiny"] + 0.5)
    return {"low": low, "high": high, "legend": legend}
