"""The route map: drawing functions on an Axes in the region projection.

Everything is drawn in projected metres (``geo.projection.region_transformer``,
a Lambert azimuthal equal-area projection centred on the scenario's region) with
``aspect = 1``; no cartopy. The data come prepared in a :class:`MapLayers`
(built by :func:`sim.products.brief.map_layers`); the functions here only
draw. Each takes an ``Axes`` and returns the artists it added, and never
shows or saves a figure.
"""
from dataclasses import dataclass, field

import numpy as np
import pyproj
import shapely
from shapely.geometry.polygon import orient
from shapely.ops import polylabel
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Patch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.transforms import Bbox, offset_copy

from geo.units import NM_M
from sim.products.coverage import OFF_TEXT
from sim.products.style import COLORS, COVERAGE_FILL, FONT_SIZE, LINES, MARKERS

__all__ = [
    "MapLayers",
    "polygon_path",
    "set_map_extent",
    "draw_countries",
    "draw_graticule",
    "draw_coverage",
    "draw_routes",
    "draw_tracks",
    "draw_first_detections",
    "draw_sites",
    "draw_orbits",
    "draw_interceptors",
    "label_sites",
    "label_countries",
    "draw_scale_bar",
    "draw_north_arrow",
    "legend_handles",
    "draw_route_map",
]


@dataclass(frozen=True)
class MapLayers:
    """Projected map data (region metres); axis 0 = item.

    Attributes
    ----------
    transformer : pyproj.Transformer
        lon/lat -> region metres (``always_xy``).
    countries : tuple of (str, str, shapely geometry)
        ``(name, iso_a3, geometry in metres)``.
    focus_iso_a3 : str
        Country drawn emphasized: the scenario's airspace (e.g. ``"IRQ"``).
    airspace_name : str
        Its name, for the legend.
    route_names : tuple of str
    route_xy : tuple of ndarray, each shape (T, 2)
        Nominal ground tracks [m].
    route_waypoint_xy : tuple of ndarray, each shape (W, 2)
        Each route's intermediate waypoints (not its endpoints) [m].
    radar_names, radar_kinds : tuple of str
        Names, and kind spellings (keys of the style tables).
    radar_kind_labels : tuple of str
        The kinds' legend labels (:data:`sim.sensors.RADAR_KINDS`).
    radar_hidden : tuple of bool
        Radars that can see no flight of the run (they need the transponder
        and every flight has it off): drawn, their coverage not.
    radar_availability : tuple of float
        Each radar's availability as run (empty: all 1). A radar switched off
        (0) is drawn grey, its coverage dotted and unfilled, and the legend
        names it off (:data:`~sim.products.coverage.OFF_TEXT`); site labels
        say a lower availability (``PSR up 50%``).
    radar_xy : ndarray, shape (R, 2)
        Fixed sites; an orbit's first waypoint.
    radar_orbit_xy : tuple of ndarray, each shape (n_i, 2)
        An orbiting radar's waypoints, the first repeated at the end (its
        closed loop) [m]; empty for a fixed site.
    coverage : tuple of shapely geometries, one per radar [m]
    coverage_alt_m : float or None
        Target altitude of the coverage polygons [m AMSL]; None when they are
        at a height above ground.
    coverage_label : str
        The coverage level as the legend says it ("10,100 m (FL331)").
    terrain : bool
        Whether the coverage includes terrain masking.
    track_xy : tuple of ndarray, each shape (K_i, 2)
        Sampled Monte Carlo flights [m].
    track_detected : ndarray of bool, shape (S,)
    flights_total, flights_detected : int
        Counts of the whole run (for the legend).
    first_xy : ndarray, shape (P, 2)
        Sample of first-detection positions [m].
    sites : tuple of (str, float, float, int)
        Labelled points ``(label, x_m, y_m, priority)``; lower priority is
        placed first.
    airport_xy : ndarray, shape (A, 2)
        Airports drawn as circles (not radar sites) [m].
    must_show_xy : ndarray, shape (N, 2)
        Points the map extent must contain [m].
    """

    transformer: pyproj.Transformer
    countries: tuple
    focus_iso_a3: str
    airspace_name: str
    route_names: tuple
    route_xy: tuple
    route_waypoint_xy: tuple
    radar_names: tuple
    radar_kinds: tuple
    radar_kind_labels: tuple
    radar_hidden: tuple
    radar_xy: np.ndarray
    radar_orbit_xy: tuple
    coverage: tuple
    coverage_alt_m: float | None
    coverage_label: str
    terrain: bool
    track_xy: tuple
    track_detected: np.ndarray
    flights_total: int
    flights_detected: int
    first_xy: np.ndarray
    sites: tuple
    airport_xy: np.ndarray
    must_show_xy: np.ndarray
    interceptor_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))   # interceptor bases [m]
    intercept_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))     # sampled earliest intercepts [m]
    evade_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))   # the least-detectable route [m]
    evade_label: str = ""                                                   # its legend entry
    radar_availability: tuple = ()                                          # as run (empty: every radar 1)

    def radar_off(self):
        """Per radar, whether it is switched off (availability 0): it covers and sees nothing."""
        a = self.radar_availability or (1.0,) * len(self.radar_names)
        return tuple(v <= 0 for v in a)


# --- geometry helpers -------------------------------------------------------------------------
def polygon_path(geom):
    """A matplotlib Path of a shapely (Multi)Polygon, holes included (even-odd safe).

    Exterior rings are drawn counter-clockwise and holes clockwise, so the
    nonzero fill rule leaves the holes empty.
    """
    verts, codes = [], []
    for poly in shapely.get_parts(geom):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        poly = orient(poly, 1.0)
        for ring in (poly.exterior, *poly.interiors):
            c = np.asarray(ring.coords)[:, :2]
            if len(c) < 3:
                continue
            verts.append(c)
            k = np.full(len(c), MplPath.LINETO, dtype=np.uint8)
            k[0] = MplPath.MOVETO
            k[-1] = MplPath.CLOSEPOLY
            codes.append(k)
    if not verts:
        return MplPath(np.zeros((0, 2)))
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _axes_aspect(ax):
    """Height / width of the axes box in physical units."""
    fig_w, fig_h = ax.figure.get_size_inches()
    pos = ax.get_position()
    return (pos.height * fig_h) / (pos.width * fig_w)


def set_map_extent(ax, xy_m, margin_frac=0.06, min_margin_m=60_000.0):
    """Limits that contain ``xy_m`` (N, 2) plus a margin, matched to the axes' shape.

    Sets ``aspect = 1`` and returns ``(x0, x1, y0, y1)`` [m]. The box is only
    ever enlarged, so every point stays inside.
    """
    xy = np.asarray(xy_m, dtype=float).reshape(-1, 2)
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    m = max(margin_frac * max(x1 - x0, y1 - y0), min_margin_m)
    x0, x1, y0, y1 = x0 - m, x1 + m, y0 - m, y1 + m
    want = _axes_aspect(ax)
    w, h = x1 - x0, y1 - y0
    if h / w < want:
        pad = (want * w - h) / 2.0
        y0, y1 = y0 - pad, y1 + pad
    else:
        pad = (h / want - w) / 2.0
        x0, x1 = x0 - pad, x1 + pad
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor(COLORS["sea"])
    ax.apply_aspect()
    return x0, x1, y0, y1


def _view_box(ax):
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return shapely.box(x0, y0, x1, y1)


# --- layers -----------------------------------------------------------------------------------
def draw_countries(ax, countries, focus_iso_a3="IRQ"):
    """Land fill and borders; the focus country filled and outlined heavier."""
    view = _view_box(ax)
    artists = []
    focus = None
    for _name, iso, geom in countries:
        if not geom.intersects(view):
            continue
        if iso == focus_iso_a3:
            focus = geom
            continue
        p = PathPatch(polygon_path(geom), facecolor=COLORS["land"], edgecolor=COLORS["border"],
                      zorder=1, **LINES["border"])
        artists.append(ax.add_patch(p))
    if focus is not None:
        artists.append(ax.add_patch(PathPatch(polygon_path(focus), facecolor=COLORS["focus_land"],
                                              edgecolor="none", zorder=1.1)))
        # outline above the coverage fills so the airspace edge stays visible
        artists.append(ax.add_patch(PathPatch(polygon_path(focus), facecolor="none",
                                              edgecolor=COLORS["focus_border"], zorder=3.5,
                                              **LINES["focus_border"])))
    return artists


def draw_graticule(ax, transformer, step_deg=2.0):
    """Meridians and parallels every ``step_deg`` with degree labels on the left and bottom edges."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    xs, ys = np.meshgrid(np.linspace(x0, x1, 9), np.linspace(y0, y1, 9))
    lon, lat = transformer.transform(xs.ravel(), ys.ravel(), direction="INVERSE")
    lon_lo, lon_hi = np.floor(np.min(lon) / step_deg) * step_deg, np.ceil(np.max(lon) / step_deg) * step_deg
    lat_lo, lat_hi = np.floor(np.min(lat) / step_deg) * step_deg, np.ceil(np.max(lat) / step_deg) * step_deg
    kw = dict(color="#B8C4CE", linewidth=0.4, linestyle=(0, (2, 2)), zorder=1.5)
    text_kw = dict(fontsize=FONT_SIZE["tiny"], color=COLORS["muted"], zorder=9,
                   bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none", alpha=0.6))
    artists = []
    for lo in np.arange(lon_lo, lon_hi + 1e-9, step_deg):
        la = np.linspace(lat_lo - step_deg, lat_hi + step_deg, 200)
        x, y = transformer.transform(np.full_like(la, lo), la)
        artists += ax.plot(x, y, **kw)
        if y[0] < y0 < y[-1]:
            xb = float(np.interp(y0, y, x))
            if x0 < xb < x1:
                artists.append(ax.text(xb, y0 + 0.004 * (y1 - y0), f"{lo:g}°E", ha="center", va="bottom",
                                       **text_kw))
    for la in np.arange(lat_lo, lat_hi + 1e-9, step_deg):
        lo = np.linspace(lon_lo - step_deg, lon_hi + step_deg, 200)
        x, y = transformer.transform(lo, np.full_like(lo, la))
        artists += ax.plot(x, y, **kw)
        if x[0] < x0 < x[-1]:
            yl = float(np.interp(x0, x, y))
            if y0 < yl < y1:
                artists.append(ax.text(x0 + 0.003 * (x1 - x0), yl, f"{la:g}°N", ha="left", va="center",
                                       **text_kw))
    return artists


def draw_coverage(ax, coverage, kinds):
    """Coverage: the union per radar kind filled or hatched (:data:`COVERAGE_FILL`), each radar outlined.

    A kind ``"off"`` (a radar switched off) is outlined dotted grey without fill: it covers nothing; a
    kind without a fill (``"hidden"``) is not drawn.
    """
    artists = []
    for g, k in zip(coverage, kinds):
        if k == "off" and not g.is_empty:
            artists.append(ax.add_patch(PathPatch(polygon_path(g), facecolor="none", edgecolor=COLORS["off"],
                                                  zorder=2.1, **LINES["off"])))
    for kind, fill in COVERAGE_FILL.items():   # drawing order: wide secondary coverage below primary
        geoms = [g for g, k in zip(coverage, kinds) if k == kind and not g.is_empty]
        if not geoms:
            continue
        union = shapely.union_all(geoms)
        artists.append(ax.add_patch(PathPatch(polygon_path(union), **{"facecolor": COLORS[kind], **fill},
                                              edgecolor=COLORS[kind] if "hatch" in fill else "none",
                                              linewidth=0.0, zorder=2)))
        for g in geoms:
            artists.append(ax.add_patch(PathPatch(polygon_path(g), facecolor="none", edgecolor=COLORS[kind],
                                                  zorder=2.2, **LINES[kind])))
    return artists


def draw_routes(ax, route_xy, waypoint_xy=()):
    """Nominal routes (black dash-dot over a white halo) and their intermediate waypoints (small diamonds)."""
    artists = []
    for xy in route_xy:
        artists += ax.plot(xy[:, 0], xy[:, 1], color="white", linewidth=LINES["route"]["linewidth"] + 1.6,
                           solid_capstyle="round", zorder=5)
        artists += ax.plot(xy[:, 0], xy[:, 1], color=COLORS["route"], zorder=5.1, **LINES["route"])
    for xy in waypoint_xy:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        if len(xy):
            artists += ax.plot(xy[:, 0], xy[:, 1], linestyle="none", marker="D", markersize=3.5,
                               markerfacecolor="white", markeredgecolor=COLORS["route"], markeredgewidth=0.9,
                               zorder=5.2)
    return artists


def draw_tracks(ax, track_xy, detected):
    """Sampled Monte Carlo flights: detected solid blue; undetected dashed vermillion on top of the
    detected bundle (rare misses must show), under the nominal routes."""
    detected = np.asarray(detected, dtype=bool)
    artists = []
    for flag, key, z, alpha in ((True, "detected", 3.0, 0.35), (False, "undetected", 4.9, 0.9)):
        segs = [xy for xy, d in zip(track_xy, detected) if d == flag and len(xy) > 1]
        if segs:
            lc = LineCollection(segs, colors=COLORS[key], alpha=alpha, zorder=z, **LINES[key])
            artists.append(ax.add_collection(lc))
    return artists


def draw_first_detections(ax, xy):
    """First-detection positions (purple crosses)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        return []
    return ax.plot(xy[:, 0], xy[:, 1], linestyle="none", color=COLORS["first_detection"], zorder=4,
                   **MARKERS["first_detection"])


def draw_orbits(ax, orbit_xy, radar_kinds, radar_off=()):
    """Orbiting radars: the loop through the waypoints (dash-dot, the kind's colour; grey for a radar
    switched off, ``radar_off`` per radar), a diamond at each."""
    artists = []
    for j, (xy, kind) in enumerate(zip(orbit_xy, radar_kinds)):
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        if not len(xy):
            continue
        color = COLORS["off"] if j < len(radar_off) and radar_off[j] else COLORS[kind]
        artists += ax.plot(xy[:, 0], xy[:, 1], color=color, zorder=6.4, **LINES["orbit"])
        artists += ax.plot(xy[:, 0], xy[:, 1], linestyle="none", markerfacecolor=color,
                           markeredgecolor=COLORS["radar_edge"], zorder=6.5, **MARKERS["orbit"])
    return artists


def draw_interceptors(ax, base_xy, intercept_xy):
    """Interceptor bases (black stars) and a sample of earliest intercept points (small open stars)."""
    artists = []
    for xy, kw in ((np.asarray(intercept_xy, dtype=float).reshape(-1, 2), MARKERS["intercept"] | dict(
            markerfacecolor="white", markeredgecolor=COLORS["route"], zorder=6.2)),
                   (np.asarray(base_xy, dtype=float).reshape(-1, 2), MARKERS["interceptor"] | dict(
                       markerfacecolor=COLORS["route"], markeredgecolor="white", zorder=6.6))):
        if len(xy):
            artists += ax.plot(xy[:, 0], xy[:, 1], linestyle="none", **kw)
    return artists


def draw_sites(ax, radar_xy, radar_kinds, airport_xy, radar_off=()):
    """Fixed radar sites (marker by kind; co-located ones side by side) and airports.

    ``radar_xy`` rows that are NaN (orbiting radars, drawn by :func:`draw_orbits`) are skipped;
    ``radar_off`` (per radar, optional): a radar switched off is drawn grey.
    """
    artists = []
    airport_xy = np.asarray(airport_xy, dtype=float).reshape(-1, 2)
    if len(airport_xy):
        artists += ax.plot(airport_xy[:, 0], airport_xy[:, 1], linestyle="none",
                           markerfacecolor=COLORS["airport"], markeredgecolor=COLORS["radar_edge"],
                           zorder=6, **MARKERS["airport"])
    radar_xy = np.asarray(radar_xy, dtype=float).reshape(-1, 2)
    groups = {}
    for j, (x, y) in enumerate(radar_xy):
        if not np.isfinite(x):
            continue
        groups.setdefault((round(x / 1000.0), round(y / 1000.0)), []).append(j)
    for members in groups.values():
        n = len(members)
        for i, j in enumerate(members):
            dx_pt = (i - (n - 1) / 2.0) * 8.0
            tr = offset_copy(ax.transData, fig=ax.figure, x=dx_pt, y=0.0, units="points")
            kind = radar_kinds[j]
            off = j < len(radar_off) and radar_off[j]
            artists += ax.plot([radar_xy[j, 0]], [radar_xy[j, 1]], linestyle="none", transform=tr,
                               markerfacecolor=COLORS["off" if off else kind],
                               markeredgecolor=COLORS["radar_edge"], zorder=6.5, **MARKERS[kind])
    return artists


# --- labels -----------------------------------------------------------------------------------
#: Candidate label offsets [pt] and alignments, tried in order (near ones first).
_OFFSETS = [
    ((7, 5), "left", "bottom"), ((7, -5), "left", "top"), ((-7, 5), "right", "bottom"),
    ((-7, -5), "right", "top"), ((0, 9), "center", "bottom"), ((0, -9), "center", "top"),
    ((10, 0), "left", "center"), ((-10, 0), "right", "center"),
]
_FAR = 2.6
#: The farther candidates' distances (times the offset), each with a leader line, tried in this order.
_FAR_STEPS = (1.8, _FAR, 3.6)
#: Weight of a label's box over a marker or a placed label [per px^2]: far worse than covering a line
#: (a label over another reads as one; its point would read as the other's).
_OVERLAP_WEIGHT = 25.0


def _renderer(fig):
    canvas = fig.canvas
    if not hasattr(canvas, "get_renderer"):
        canvas = FigureCanvasAgg(fig)
    return canvas.get_renderer()


def _overlap(bb, others):
    total = 0.0
    for o in others:
        w = min(bb.x1, o.x1) - max(bb.x0, o.x0)
        h = min(bb.y1, o.y1) - max(bb.y0, o.y0)
        if w > 0 and h > 0:
            total += w * h
    return total


def _outside(bb, box):
    w = max(0.0, box.x0 - bb.x0) + max(0.0, bb.x1 - box.x1)
    h = max(0.0, box.y0 - bb.y0) + max(0.0, bb.y1 - box.y1)
    return (w + h) * 1e3


#: Cost of a label covering one sample point of a route or border [px^2].
_LINE_POINT_COST = 8.0


def _covers(bb, line_px):
    """How many route and border sample points (display coordinates, (N, 2)) a label box covers, as a cost."""
    if line_px is None or not len(line_px):
        return 0.0
    inside = (line_px[:, 0] > bb.x0) & (line_px[:, 0] < bb.x1) & (line_px[:, 1] > bb.y0) & (line_px[:, 1] < bb.y1)
    return _LINE_POINT_COST * float(np.count_nonzero(inside))


def line_points_px(ax, lines_xy, spacing_px=3.0):
    """Display-space sample points, at most ``spacing_px`` apart, along polylines given in metres."""
    out = []
    for xy in lines_xy:
        d = ax.transData.transform(np.asarray(xy, dtype=float).reshape(-1, 2))
        if len(d) < 2:
            out.append(d)
            continue
        seg = np.hypot(*np.diff(d, axis=0).T)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        t = np.arange(0.0, s[-1] + spacing_px, spacing_px)
        out.append(np.column_stack([np.interp(t, s, d[:, 0]), np.interp(t, s, d[:, 1])]))
    return np.vstack(out) if out else np.zeros((0, 2))


#: Cost of a label whose centre is nearer another marker than its own point [px^2] (it would read as
#: that marker's label).
_AMBIGUITY_COST = 2000.0


def _ambiguity(bb, own_px, markers_px):
    if markers_px is None or not len(markers_px):
        return 0.0
    c = np.array([(bb.x0 + bb.x1) / 2, (bb.y0 + bb.y1) / 2])
    d = np.hypot(*(markers_px - c).T)
    others = np.hypot(*(markers_px - own_px).T) > 2.0        # markers of other sites
    return _AMBIGUITY_COST if others.any() and d[others].min() < np.hypot(*(own_px - c)) else 0.0


def _place(ax, text, x, y, obstacles, offsets, renderer, text_kw, leader=True, line_px=None, markers_px=None):
    """Greedy placement of one label: the first candidate with no overlap, else the least bad.

    Overlaps are with ``obstacles`` (boxes of markers and placed labels,
    weighted :data:`_OVERLAP_WEIGHT`: measured from the texts' extents) and,
    when given, ``line_px`` (sample points of routes and borders); with
    ``markers_px`` a label nearer another marker than its own point is
    penalized (it would be read as that marker's). Farther candidates
    (:data:`_FAR_STEPS` times the offset) get a leader line. The chosen
    label's box is appended to ``obstacles``.
    """
    axbox = ax.get_window_extent(renderer)
    candidates = [(o, a, v, 1.0) for o, a, v in offsets]
    if leader:
        candidates += [(o, a, v, f) for f in _FAR_STEPS for o, a, v in offsets]
    best = None
    for (dx, dy), ha, va, f in candidates:
        t = ax.annotate(text, (x, y), xytext=(dx * f, dy * f), textcoords="offset points", ha=ha, va=va,
                        **text_kw)
        bb = t.get_window_extent(renderer).expanded(1.06, 1.15)
        t.remove()
        own = ax.transData.transform((x, y))
        cost = (_OVERLAP_WEIGHT * _overlap(bb, obstacles) + _outside(bb, axbox) + _covers(bb, line_px)
                + (0.0 if f > 1.0 else _ambiguity(bb, own, markers_px)))
        if best is None or cost < best[0]:
            best = (cost, (dx * f, dy * f), ha, va, f, bb)
        if cost == 0.0:
            break
    _, xytext, ha, va, f, bb = best
    extra = {}
    if f > 1.0:
        extra["arrowprops"] = dict(arrowstyle="-", color=COLORS["muted"], linewidth=0.5, shrinkA=0, shrinkB=2)
    t = ax.annotate(text, (x, y), xytext=xytext, textcoords="offset points", ha=ha, va=va, **text_kw, **extra)
    obstacles.append(bb)
    return t


def _point_boxes(ax, xy, renderer, half_pt=4.5):
    """Display-space boxes around points (markers) as label obstacles."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        return []
    d = ax.transData.transform(xy)
    h = half_pt * ax.figure.dpi / 72.0
    return [Bbox.from_extents(px - h, py - h, px + h, py + h) for px, py in d]


def label_sites(ax, sites, marker_xy=(), obstacles=None, line_px=None, text_kw_extra=None):
    """Label points without overlaps (greedy, by priority; leader lines for far labels).

    ``sites`` are ``(label, x_m, y_m, priority)``; ``marker_xy`` (N, 2) are
    markers the labels must not cover; ``text_kw_extra`` updates the labels' text
    style. Returns the Text artists; the boxes of placed labels are appended
    to ``obstacles`` when given.
    """
    renderer = _renderer(ax.figure)
    obstacles = [] if obstacles is None else obstacles
    obstacles.extend(_point_boxes(ax, marker_xy, renderer))
    markers_px = ax.transData.transform(np.asarray(marker_xy, dtype=float).reshape(-1, 2))
    text_kw = dict(fontsize=FONT_SIZE["small"], color=COLORS["text"], zorder=8,
                   bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.75))
    text_kw.update(text_kw_extra or {})
    out = []
    for label, x, y, _prio in sorted(sites, key=lambda s: (s[3], s[0])):
        out.append(_place(ax, label, x, y, obstacles, _OFFSETS, renderer, text_kw, line_px=line_px,
                          markers_px=markers_px))
    return out


def label_countries(ax, countries, obstacles=None, focus_iso_a3="IRQ", line_px=None):
    """Country names at a point inside each country's visible part, avoiding ``obstacles``."""
    renderer = _renderer(ax.figure)
    obstacles = [] if obstacles is None else obstacles
    view = _view_box(ax).buffer(-0.04 * (ax.get_xlim()[1] - ax.get_xlim()[0]))
    offsets = [((0, 0), "center", "center"), ((0, 14), "center", "center"), ((0, -14), "center", "center"),
               ((30, 0), "center", "center"), ((-30, 0), "center", "center"),
               ((0, 28), "center", "center"), ((0, -28), "center", "center")]
    out = []
    for name, iso, geom in countries:
        part = geom.intersection(view)
        if part.is_empty:
            continue
        biggest = max(shapely.get_parts(part), key=lambda p: p.area)
        if biggest.area < 0.004 * view.area:
            continue
        p = polylabel(biggest, tolerance=5_000.0) if biggest.geom_type == "Polygon" \
            else biggest.representative_point()
        kw = dict(fontsize=FONT_SIZE["country"] + (1.5 if iso == focus_iso_a3 else 0.0),
                  color=COLORS["focus_border"] if iso == focus_iso_a3 else COLORS["country_label"],
                  fontweight="bold" if iso == focus_iso_a3 else "normal",
                  zorder=7.5)
        out.append(_place(ax, name.upper(), p.x, p.y, obstacles, offsets, renderer, kw, leader=False,
                          line_px=line_px))
    return out


# --- furniture --------------------------------------------------------------------------------
def _nice(x):
    """Largest 1-2-2.5-5 x 10^k not above x."""
    k = 10.0 ** np.floor(np.log10(x))
    for m in (5.0, 2.5, 2.0, 1.0):
        if m * k <= x:
            return m * k
    return k


def draw_scale_bar(ax, loc="lower right", frac=0.18):
    """Two bars, km above and NM below, about ``frac`` of the map width (true at the projection centre)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    w, h = x1 - x0, y1 - y0
    km = _nice(frac * w / 1000.0)
    nm = _nice(km * 1000.0 / NM_M)
    bar_h = 0.010 * h
    right = x1 - 0.035 * w if loc == "lower right" else x0 + 0.035 * w + km * 1000.0
    base = y0 + 0.06 * h
    artists = []
    kw_text = dict(fontsize=FONT_SIZE["tiny"], color=COLORS["text"], zorder=9.2)
    length_max = max(km * 1000.0, nm * NM_M)
    artists.append(ax.add_patch(Rectangle((right - length_max - 0.012 * w, base - 0.045 * h),
                                          length_max + 0.035 * w, 0.095 * h, facecolor="white",
                                          edgecolor="#999999", linewidth=0.5, alpha=0.85, zorder=9)))
    for length_m, n_div, unit, value, yb, above in ((km * 1000.0, 4, "km", km, base + 0.004 * h, True),
                                                    (nm * NM_M, 2, "NM", nm, base - 0.016 * h, False)):
        left = right - length_m
        seg = length_m / n_div
        for i in range(n_div):
            artists.append(ax.add_patch(Rectangle((left + i * seg, yb), seg, bar_h, linewidth=0.6,
                                                  facecolor="black" if i % 2 == 0 else "white",
                                                  edgecolor="black", zorder=9.1)))
        ty = yb + bar_h + 0.003 * h if above else yb - 0.003 * h
        va = "bottom" if above else "top"
        for i, v in ((0, 0.0), (n_div, value)):
            label = f"{v:g} {unit}" if i == n_div else "0"
            artists.append(ax.text(left + i * seg, ty, label, ha="center", va=va, **kw_text))
    return artists


def draw_north_arrow(ax, transformer, loc=(0.955, 0.86)):
    """An arrow pointing to true north at ``loc`` (axes fraction), with an N."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    x = x0 + loc[0] * (x1 - x0)
    y = y0 + loc[1] * (y1 - y0)
    lon, lat = transformer.transform(x, y, direction="INVERSE")
    xn, yn = transformer.transform(lon, lat + 0.5)
    d = np.array([xn - x, yn - y])
    d = d / np.hypot(*d) * 0.07 * (y1 - y0)
    arrow = ax.annotate("", xy=(x + d[0], y + d[1]), xytext=(x, y), zorder=9,
                        arrowprops=dict(arrowstyle="-|>,head_width=0.35,head_length=0.8", color="black",
                                        linewidth=1.4, shrinkA=0, shrinkB=0))
    text = ax.text(x + 1.25 * d[0], y + 1.25 * d[1], "N", ha="center", va="bottom", zorder=9,
                   fontsize=FONT_SIZE["label"] + 1, fontweight="bold")
    return [arrow, text]


def _track_label(what, drawn, in_run, layers):
    """``undetected: 10 drawn of 165 (0.6% of 29,997 flights, over-sampled)``: the real rate, and
    whether the drawing over-samples this outcome (misses are drawn at least 10 when rare)."""
    total = max(layers.flights_total, 1)
    n_shown = max(len(layers.track_detected), 1)
    if in_run == 0:
        return f"flight {what}: none (0 of {layers.flights_total:,})"
    count = f"all {in_run:,} drawn" if drawn == in_run else f"{drawn} drawn of {in_run:,}"
    over = ", over-sampled" if drawn and drawn / n_shown > 1.5 * in_run / total else ""
    pct = 100 * in_run / total
    rate = f"{pct:.1f}%" if 0.1 <= pct <= 99.9 or pct in (0.0, 100.0) else f"{pct:.2g}%" if pct < 1 else f"{pct:.2f}%"
    return f"flight {what}: {count} ({rate} of {layers.flights_total:,}{over})"


def legend_handles(layers):
    """Proxy artists and labels for the map legend."""
    n_shown = len(layers.track_detected)
    n_det = int(np.sum(layers.track_detected))
    terrain = ", terrain masking" if layers.terrain else ", smooth Earth"
    h = [
        (Line2D([], [], color=COLORS["route"], **LINES["route"]), "nominal route"),
        (Line2D([], [], color=COLORS["detected"], **LINES["detected"]), _track_label("detected", n_det,
                                                                                 layers.flights_detected, layers)),
        (Line2D([], [], color=COLORS["undetected"], **LINES["undetected"]),
         _track_label("undetected", n_shown - n_det, layers.flights_total - layers.flights_detected, layers)),
        (Line2D([], [], linestyle="none", color=COLORS["first_detection"], **MARKERS["first_detection"]),
         f"first detection ({len(layers.first_xy)} sampled)"),
    ]
    seen = {}
    off = layers.radar_off()
    for kind, label, hidden, o in zip(layers.radar_kinds, layers.radar_kind_labels, layers.radar_hidden, off):
        if not o:                                # a radar switched off has an entry of its own
            seen.setdefault(kind, [label, True])[1] &= hidden
    for kind, (label, hidden) in seen.items():   # one marker and one coverage patch per kind, in file order
        h.append((Line2D([], [], linestyle="none", markerfacecolor=COLORS[kind],
                         markeredgecolor=COLORS["radar_edge"], **MARKERS[kind]),
                  f"{label}: sees nothing, transponders off" if hidden else label))
        if not hidden:
            h.append((Patch(**{"facecolor": COLORS[kind], **COVERAGE_FILL.get(kind, {})}, edgecolor=COLORS[kind],
                            **LINES[kind]),
                      f"{kind} coverage at {layers.coverage_label}{terrain}"))
    names_off = [n for n, o in zip(layers.radar_names, off) if o]
    if names_off:      # drawn grey, their coverage dotted: it covers nothing
        h.append(((Line2D([], [], linestyle="none", markerfacecolor=COLORS["off"], markeredgecolor=COLORS["radar_edge"],
                          **MARKERS[next(k for k, o in zip(layers.radar_kinds, off) if o)]),
                   Patch(facecolor="none", edgecolor=COLORS["off"], **LINES["off"])),
                  f"{', '.join(names_off)}: {OFF_TEXT}, no coverage (dotted: what it would cover)"))
    if any(len(xy) for xy in layers.radar_orbit_xy):
        h.append((Line2D([], [], color=COLORS["radar_edge"], markerfacecolor="white",
                         markeredgecolor=COLORS["radar_edge"], **LINES["orbit"], **MARKERS["orbit"]),
                  "airborne radar orbit (coverage: union over the loop)"))
    h.append((Line2D([], [], linestyle="none", markerfacecolor=COLORS["airport"],
                     markeredgecolor=COLORS["radar_edge"], **MARKERS["airport"]), "airport"))
    if len(layers.interceptor_xy):
        h.append((Line2D([], [], linestyle="none", markerfacecolor=COLORS["route"], markeredgecolor="white",
                         **MARKERS["interceptor"]), "interceptor base"))
        h.append((Line2D([], [], linestyle="none", markerfacecolor="white", markeredgecolor=COLORS["route"],
                         **MARKERS["intercept"]), f"earliest intercept ({len(layers.intercept_xy)} sampled)"))
    if len(layers.evade_xy):
        h.append((Line2D([], [], **LINES["evade"]), layers.evade_label))
    h.append((Patch(facecolor=COLORS["focus_land"], edgecolor=COLORS["focus_border"], **LINES["focus_border"]),
              f"{layers.airspace_name} airspace (territory)"))
    return [a for a, _ in h], [b for _, b in h]


def draw_route_map(ax, layers, *, graticule=True, furniture=True):
    """The whole route map on ``ax``; returns a dict of artist lists by layer.

    The extent contains every route sample, radar site and labelled airport.
    Labels are placed last (they need the final axes geometry).
    """
    must = np.vstack([layers.must_show_xy.reshape(-1, 2)] + [xy for xy in layers.route_xy])
    set_map_extent(ax, must)
    out = {}
    out["countries"] = draw_countries(ax, layers.countries, layers.focus_iso_a3)
    if graticule:
        out["graticule"] = draw_graticule(ax, layers.transformer)
    shown = ["off" if off else "hidden" if hidden else k
             for k, hidden, off in zip(layers.radar_kinds, layers.radar_hidden, layers.radar_off())]
    out["coverage"] = draw_coverage(ax, layers.coverage, shown)
    out["tracks"] = draw_tracks(ax, layers.track_xy, layers.track_detected)
    out["first_detections"] = draw_first_detections(ax, layers.first_xy)
    out["routes"] = draw_routes(ax, layers.route_xy, layers.route_waypoint_xy)
    out["sites"] = draw_sites(ax, layers.radar_xy, layers.radar_kinds, layers.airport_xy, layers.radar_off())
    out["orbits"] = draw_orbits(ax, layers.radar_orbit_xy, layers.radar_kinds, layers.radar_off())
    out["interceptors"] = draw_interceptors(ax, layers.interceptor_xy, layers.intercept_xy)
    if len(layers.evade_xy):
        out["evade"] = ax.plot(layers.evade_xy[:, 0], layers.evade_xy[:, 1], **LINES["evade"])
    if furniture:
        out["scale_bar"] = draw_scale_bar(ax)
        out["north_arrow"] = draw_north_arrow(ax, layers.transformer)
    renderer = _renderer(ax.figure)
    obstacles = [a.get_window_extent(renderer) for k in ("scale_bar", "north_arrow") for a in out.get(k, [])
                 if a.get_visible() and not (hasattr(a, "get_text") and a.get_text() == "")]
    site_xy = np.array([[s[1], s[2]] for s in layers.sites]).reshape(-1, 2)
    radar_xy = layers.radar_xy.reshape(-1, 2)
    markers = np.vstack([site_xy, radar_xy[np.isfinite(radar_xy[:, 0])], *layers.radar_orbit_xy,
                         layers.airport_xy.reshape(-1, 2)])
    # labels keep off the routes and the borders: their sample points are obstacles too
    view = _view_box(ax)
    borders = [np.asarray(ring.coords)[:, :2] for _n, _iso, g in layers.countries
               for poly in shapely.get_parts(g.intersection(view)) if poly.geom_type == "Polygon"
               for ring in (poly.exterior, *poly.interiors)]
    line_px = line_points_px(ax, [*layers.route_xy, *borders])
    out["site_labels"] = label_sites(ax, layers.sites, markers, obstacles, line_px)
    out["country_labels"] = label_countries(ax, layers.countries, obstacles, layers.focus_iso_a3, line_px)
    return out
