"""The briefing products of a run: map, charts, KML and a one-page brief.

Products draw the results they are given and run nothing: the run and the
altitude curve (:func:`sim.analysis.altitude_sweep`) come from the caller.
:func:`write_brief` writes into a folder (normally the staging folder of
:func:`sim.pipeline.write_run`):

- ``map.png`` (``dpi``, 200 by default), ``map.pdf``, ``map.svg``: the route map;
- ``detections.png``: flights detected per campaign;
- ``altitude.png``: P(detect) against the cruise level (the curve given);
- ``routes.kml``: routes, radars, coverage and first detections;
- ``brief.pdf``: one A4 landscape page with the map, the charts, the key
  numbers and the assumptions behind them.

Files are byte-reproducible for the same inputs and date: the date comes from
``SOURCE_DATE_EPOCH`` when set (else today), and no creation time is written
into the PNG/PDF/SVG metadata.
"""
import dataclasses
import textwrap
import time
from pathlib import Path

import matplotlib
import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg

from geo.airports import load_airports
from geo.coverage import load_borders, project_geometry
from geo.earth import ground_distance_m
from geo.geodesy import leg_geometry, positions_along_route
from geo.terrain import elevation_m, load_terrain
from geo.units import FL_M, KMH_MPS
from sim.flights import positions_at, to_lat_lon
from sim.labels import metric_short_label
from sim.platforms import Orbit
from sim.products.coverage import availability_text, radar_coverages
from sim.products.charts import (detections_per_campaign, draw_altitude_curve, draw_compare, draw_detections_histogram,
                                 draw_sweep, draw_tornado, tornado_labels, COMPARE_LABEL_CHARS, altitude_key_text,
                                 histogram_key_text)
from sim.products.kml import write_kml
from sim.products.maps import MapLayers, draw_route_map, legend_handles
from sim.products.style import (COLORS, FIGSIZE_IN, FONT_SIZE, PALETTE, new_figure, product_date, save_figure,
                                save_pages, use_style)
from sim.results import ASSUMPTIONS_NOTE, format_ci, format_p, headline, overrides_text, shown_title
from sim.sample import FlightSample
from sim.scenario import ScenarioError, read_key

__all__ = [
    "BRIEF_FILES",
    "TORNADO_FILES",
    "flight_sample",
    "sample_tracks",
    "first_detection_sample",
    "intercept_sample",
    "coverage_level",
    "coverage_polygons",
    "map_layers",
    "map_figure",
    "detections_figure",
    "altitude_figure",
    "route_ground_max_m",
    "brief_figure",
    "record_figure",
    "record_verdict_words",
    "sweep_figure",
    "compare_figure",
    "tornado_figure",
    "headline_point",
    "legend_fitting",
    "wrap_to_width",
    "write_brief",
]

#: What the brief adds to an output folder (for its README.txt).
BRIEF_FILES = """map.png/.pdf/.svg the route map (routes, coverage at cruise level, sampled flights, first detections)
detections.png   flights detected per campaign
altitude.png     P(detect) against the cruise level (same seed; the diamond: this run's key number)
routes.kml       routes, radars, coverage and first detections for Google Earth
brief.pdf        one page: map, charts, key numbers and the assumptions behind them
tornado.png      which declared assumption moves P(detect) most (when the scenario declares [uncertainty]; its
                 base: this run's key number)
tornado_p_stopped.png  the same for P(stopped) (when the scenario also has a [response] or interceptors)
"""
#: The brief's tornado chart of each metric (the runs are shared; summary.json's ``sensitivity`` has both).
TORNADO_FILES = {"p_detect": "tornado.png", "response.p_stopped": "tornado_p_stopped.png"}
#: A radar within this distance of an airport is labelled with the airport [m].
_SITE_MATCH_M = 3_000.0


# --- map data ---------------------------------------------------------------------------------
def flight_sample(result):
    """The run's fixed sample of flights (:class:`sim.sample.FlightSample`): the one the run kept, or the
    same flights drawn from its per-flight arrays. Everything the brief draws per flight comes from it."""
    if result.sample is not None:
        return result.sample
    return FlightSample.of_flights(result, result.seed)


def _first(flights, n):
    """The ``n`` lowest-ranked of sampled flights, in campaign and flight order."""
    order = np.lexsort((flights["flight"][:n], flights["campaign"][:n]))
    return {k: v[:n][order] for k, v in flights.items()}


def sample_tracks(sim, result, n=100, step_s=60.0, min_undetected=10):
    """Positions of a sample of Monte Carlo flights on a ``step_s`` grid.

    The flights come from the run's fixed sample (:func:`flight_sample`),
    detected and undetected in the run's proportion, with at least
    ``min(min_undetected, all undetected)`` undetected flights so that rare
    misses still show.

    Returns
    -------
    flights : dict of ndarray, shape (S,)
        The sampled flights' arrays (``campaign``, ``flight``, ``detected``,
        ``route_index``, ``cross_track_m``, ...), in campaign and flight order.
    lat_deg, lon_deg : list of ndarray
        One array per flight, from departure to arrival.
    """
    pool = flight_sample(result)
    total, det_total = result.totals.flights, result.totals.detected
    und_total = total - det_total
    det, und = pool.flights("detected"), pool.flights("undetected")
    n = min(n, total)
    n_und = min(len(und["rank"]), max(int(round(n * und_total / max(total, 1))), min(min_undetected, und_total)))
    picked = {k: np.concatenate([und[k][:n_und], det[k][:max(n - n_und, 0)]]) for k in det}
    picked = _first(picked, len(picked["rank"]))
    route = picked["route_index"]
    dur = sim.packed.duration_s[route]
    k = int(np.ceil(dur.max() / step_s)) + 1 if len(route) else 1
    t = np.minimum(np.arange(k)[None, :] * step_s, dur[:, None])
    xyz, _, _ = positions_at(sim.packed, route, picked["cross_track_m"], t)
    lat, lon = to_lat_lon(xyz)
    keep = np.ceil(dur / step_s).astype(np.int64) + 1
    return picked, [lat[i, :keep[i]] for i in range(len(route))], [lon[i, :keep[i]] for i in range(len(route))]


def first_detection_sample(sim, result, n=200):
    """Where and when a sample of detected flights (the run's fixed sample) was first tracked.

    Returns a dict of arrays, shape (P,): ``campaign``, ``flight``,
    ``lat_deg``, ``lon_deg``, ``alt_m``, ``t_s`` and ``radar`` (names),
    in campaign and flight order.
    """
    f = _first(flight_sample(result).flights("detected"), n)
    t = f["first_detection_s"]
    xyz, alt, _ = positions_at(sim.packed, f["route_index"], f["cross_track_m"], t[:, None])
    lat, lon = to_lat_lon(xyz[:, 0])
    names = [r.name for r in sim.radars]
    return {"campaign": f["campaign"], "flight": f["flight"], "lat_deg": lat, "lon_deg": lon, "alt_m": alt[:, 0],
            "t_s": t, "radar": [names[j] for j in f["first_radar"]]}


def intercept_sample(sim, result, n=50):
    """Where and when a sample of flights (the run's fixed sample) meets its earliest interceptor (the
    flights the map marks).

    Returns a dict of arrays, shape (I,): ``campaign``, ``flight``,
    ``lat_deg``, ``lon_deg`` (the meeting point), ``alt_m`` (the flight's
    altitude there) and ``t_s`` (when, after departure); empty when the run
    has no interceptors.
    """
    f = _first(flight_sample(result).flights("interceptable"), n)
    if not len(f["campaign"]):
        empty = np.zeros(0)
        return {"campaign": empty, "flight": empty, "lat_deg": empty, "lon_deg": empty, "alt_m": empty, "t_s": empty}
    t = f["intercept_t_s"]
    _, alt, _ = positions_at(sim.packed, f["route_index"], f["cross_track_m"], t[:, None])
    return {"campaign": f["campaign"], "flight": f["flight"], "lat_deg": f["intercept_lat_deg"],
            "lon_deg": f["intercept_lon_deg"], "alt_m": alt[:, 0], "t_s": t}


def coverage_level(sim):
    """Level of the map's coverage: the cruise of the most probable route.

    Returns ``(altitude_m, agl_m, label)``: one of the first two is None
    (``agl_m`` for a terrain-following route).
    """
    r = sim.routes[int(np.argmax(sim.route_p))]
    if r.cruise_agl_m is not None:
        return None, float(r.cruise_agl_m), f"{r.cruise_agl_m:,.0f} m above ground"
    alt = float(r.cruise_altitude_m)
    return alt, None, f"{alt:,.0f} m (FL{alt / FL_M:.0f})"


def coverage_polygons(sim, transformer, altitude_m=None, agl_m=None):
    """Coverage of each radar at one level in region metres (with terrain holes when masked;
    an orbit's is the union over its loop)."""
    return tuple(g for _, g in radar_coverages(sim, transformer, altitude_m=altitude_m, agl_m=agl_m))


def _short_name(name):
    words = [w for w in name.split() if w not in ("International", "Air", "Base", "Airport")]
    if len(words) > 2 and words[-1] == words[0]:   # "Najaf Al Najaf" -> "Najaf"
        words = words[:1]
    return " ".join(words)


def _site_radar_name(radar_name, site_label):
    """A radar's name under its site's label, without the site's first word (``Kirkuk PSR`` at ``Kirkuk
    (ORKK)``: ``PSR``).

    >>> _site_radar_name("Kirkuk PSR", "Kirkuk (ORKK)"), _site_radar_name("Ali long-range", "Ali (Tallil) (ORTL)")
    ('PSR', 'long-range')
    >>> _site_radar_name("Mode S", "Erbil (ORER)")
    'Mode S'
    """
    first = site_label.split()[0]
    return radar_name[len(first) + 1:] if radar_name.startswith(first + " ") and len(radar_name) > len(first) + 1 \
        else radar_name


def _availability_line(radars, site_label):
    """The line under a site's label naming its radars that are not always up, those with the same
    availability together (``PSR off, SSR up 90%``; "" when all are always up)."""
    by = {}
    for r in radars:
        text = availability_text(r.availability)
        if text:
            by.setdefault("off" if r.availability <= 0 else text, []).append(_site_radar_name(r.name, site_label))
    return ", ".join(f"{' & '.join(names)} {text}" for text, names in by.items())


def _sites(sim, transformer, airports):
    """Labelled points ``(label, x, y, priority)`` and the airports drawn as circles.

    A site's radars that are not always up are named under its label with
    their availability as run (``PSR off, SSR up 90%``, :func:`_availability_line`).
    """
    entries = {}   # label -> (priority, lat, lon, is_radar)
    radars_at = {}  # label -> the radars it stands for

    def add(label, lat, lon, prio, radar):
        old = entries.get(label)
        if old is None or prio < old[0]:
            entries[label] = (prio, lat, lon, radar or (old is not None and old[3]))
        elif radar:
            entries[label] = (old[0], old[1], old[2], True)

    def airport_label(a):
        return f"{_short_name(a.name)} ({a.icao})"

    for spec in sim.scenario.routes:
        for w in (spec.waypoints[0], spec.waypoints[-1]):
            if w.icao is not None and w.icao in airports:
                add(airport_label(airports[w.icao]), w.lat_deg, w.lon_deg, 0, False)
    for r in sim.radars:
        if isinstance(r.platform, Orbit):   # labelled at its track, not at an airport
            add(r.name, r.lat_deg, r.lon_deg, 1, True)
            radars_at.setdefault(r.name, []).append(r)
            continue
        near = [a for a in airports.values()
                if ground_distance_m(r.lat_deg, r.lon_deg, a.lat_deg, a.lon_deg) <= _SITE_MATCH_M]
        if near:
            a = min(near, key=lambda a: ground_distance_m(r.lat_deg, r.lon_deg, a.lat_deg, a.lon_deg))
            add(airport_label(a), a.lat_deg, a.lon_deg, 1, True)
            radars_at.setdefault(airport_label(a), []).append(r)
        else:
            add(r.name, r.lat_deg, r.lon_deg, 1, True)
            radars_at.setdefault(r.name, []).append(r)
    for itc in sim.scenario.interceptors:   # an interceptor base: its name, unless a site label stands there
        if not any(ground_distance_m(itc.lat_deg, itc.lon_deg, e[1], e[2]) <= _SITE_MATCH_M for e in entries.values()):
            add(itc.name, itc.lat_deg, itc.lon_deg, 1, True)
    for a in airports.values():   # the airspace's international airports
        if a.country_iso_a3 == sim.airspace.iso_a3 and "International" in a.name:
            add(airport_label(a), a.lat_deg, a.lon_deg, 2, False)
    labels = sorted(entries)
    lat = np.array([entries[k][1] for k in labels])
    lon = np.array([entries[k][2] for k in labels])
    x, y = transformer.transform(lon, lat)
    shown = {k: "\n".join(filter(None, (k, _availability_line(radars_at.get(k, ()), k)))) for k in labels}
    sites = tuple((shown[k], float(xi), float(yi), entries[k][0]) for k, xi, yi in zip(labels, x, y))
    circles = np.array([[xi, yi] for k, xi, yi in zip(labels, x, y) if not entries[k][3]]).reshape(-1, 2)
    return sites, circles


def map_layers(sim, result, *, transformer=None, n_tracks=100, n_points=200, track_step_s=60.0,
               coverage=None, first=None):
    """Project everything the route map shows; returns a :class:`~sim.products.maps.MapLayers`.

    ``coverage`` (per-radar polygons in metres) and ``first`` (from
    :func:`first_detection_sample`) may be passed to reuse them.
    """
    tr = sim.airspace.transformer if transformer is None else transformer
    alt, agl, label = coverage_level(sim)
    countries = tuple((name, iso, project_geometry(g, tr)) for name, iso, g in load_borders())
    route_xy = tuple(np.column_stack(tr.transform(r.lon_deg, r.lat_deg)) for r in sim.routes)
    radar_xy = np.array([(np.nan, np.nan) if isinstance(r.platform, Orbit) else tr.transform(r.lon_deg, r.lat_deg)
                         for r in sim.radars], dtype=float).reshape(-1, 2)
    cov = coverage_polygons(sim, tr, alt, agl) if coverage is None else tuple(coverage)
    tracks, lat, lon = sample_tracks(sim, result, n_tracks, track_step_s)
    track_xy = tuple(np.column_stack(tr.transform(lo, la)) for la, lo in zip(lat, lon))
    fd = first_detection_sample(sim, result, n_points) if first is None else first
    first_xy = np.column_stack(tr.transform(fd["lon_deg"], fd["lat_deg"])).reshape(-1, 2)
    sites, circles = _sites(sim, tr, load_airports())
    focus = [g for _n, iso, g in countries if iso == sim.airspace.iso_a3]
    focus_xy = np.array(focus[0].bounds).reshape(2, 2) if focus else np.zeros((0, 2))
    orbit_xy = tuple(np.column_stack(tr.transform(np.append(r.platform.waypoint_lon_deg, r.platform.waypoint_lon_deg[0]),
                                                  np.append(r.platform.waypoint_lat_deg, r.platform.waypoint_lat_deg[0])))
                     if isinstance(r.platform, Orbit) else np.zeros((0, 2)) for r in sim.radars)
    hidden = tuple(r.kind.needs_transponder and sim.scenario.aircraft.transponder_on_probability == 0
                   for r in sim.radars)
    availability = tuple(float(r.availability) for r in sim.radars)       # as run: a radar off is drawn off
    # the whole coverage drawn too, so that no coverage circle is cut at the frame (a radar off covers nothing)
    cov_xy = [np.array(g.bounds).reshape(2, 2) for g, h, a in zip(cov, hidden, availability)
              if not g.is_empty and not h and a > 0]
    must = np.vstack([radar_xy[np.isfinite(radar_xy[:, 0])], *orbit_xy, *route_xy,
                      np.array([[s[1], s[2]] for s in sites]).reshape(-1, 2), focus_xy, *cov_xy])
    itc = sim.scenario.interceptors
    interceptor_xy = np.array([tr.transform(i.lon_deg, i.lat_deg) for i in itc], dtype=float).reshape(-1, 2)
    hit = intercept_sample(sim, result, 50)
    intercept_xy = np.column_stack(tr.transform(hit["lon_deg"], hit["lat_deg"])).reshape(-1, 2)
    must = np.vstack([must, interceptor_xy])
    return MapLayers(
        interceptor_xy=interceptor_xy, intercept_xy=intercept_xy.reshape(-1, 2),
        transformer=tr, countries=countries, focus_iso_a3=sim.airspace.iso_a3, airspace_name=sim.airspace.name,
        radar_orbit_xy=orbit_xy,
        route_names=tuple(r.name for r in sim.routes), route_xy=route_xy,
        route_waypoint_xy=tuple(np.column_stack(tr.transform(r.waypoint_lon_deg[1:-1], r.waypoint_lat_deg[1:-1]))
                                .reshape(-1, 2) for r in sim.routes),
        radar_names=tuple(r.name for r in sim.radars), radar_kinds=tuple(r.kind.name for r in sim.radars),
        radar_kind_labels=tuple(r.kind.label for r in sim.radars),
        radar_hidden=hidden, radar_availability=availability,
        radar_xy=radar_xy, coverage=cov, coverage_alt_m=alt, coverage_label=label,
        terrain=bool(sim.scenario.detection.terrain),
        track_xy=track_xy, track_detected=np.asarray(tracks["detected"], dtype=bool),
        flights_total=int(result.totals.flights), flights_detected=int(result.totals.detected),
        first_xy=first_xy, sites=sites, airport_xy=circles, must_show_xy=must,
    )


# --- figures ------------------------------------------------------------------------------------
def _footer(summary, date, airspace):
    """Two lines: the open-source note with the run, and the map's projection."""
    exact = ", exact geometry (no detection tables)" if summary.get("exact") else ""
    return (f"{ASSUMPTIONS_NOTE}\nRun: seed {summary['seed']}, {summary['campaigns']:,} campaigns × "
            f"{summary['flights_per_campaign']} flights{exact}; produced {date} by airpicture.  Map: Lambert azimuthal "
            f"equal-area centred {airspace.centre_lat_deg:g}°N {airspace.centre_lon_deg:g}°E (scale bar true at "
            f"the centre); borders Natural Earth; airports OpenFlights.")


#: Widest the overrides line under a page's headline may be (fraction of the page width); a longer
#: list keeps its first overrides whole and ends "… (+N more)" (the full list is in summary.json).
_WHAT_IF_LINE_WIDTH = 0.9


def _what_if_line(summary, max_chars=None):
    """The line under a what-if's headline: its overrides ("" when the scenario runs as its file says)."""
    changes = overrides_text(summary, max_chars)
    return f"What-if, changed from the scenario file: {changes}" if changes else ""


#: The most lines a page's title takes: a longer one (a title may have 200 characters) ends in "…"; the
#: whole title is in the file's metadata (:func:`~sim.products.style.save_figure`) and README.txt.
_TITLE_LINES_MAX = 2


def _fit_title(artist, text, width_px, renderer):
    """Set ``artist`` (a centred title) to ``text``, wrapped at spaces into lines at most ``width_px`` wide
    when it is wider, at most :data:`_TITLE_LINES_MAX` of them, the last ending in "…" when the text is
    longer still (a word wider than a line is cut)."""
    artist.set_text(text)
    width = artist.get_window_extent(renderer).width
    if width <= width_px:
        return
    per_line = max(int(len(text) * width_px / width), 2)       # characters a line holds, about
    while True:
        lines = textwrap.wrap(text, per_line, break_on_hyphens=False)
        if len(lines) > _TITLE_LINES_MAX:
            rest = " ".join(lines[_TITLE_LINES_MAX - 1:])
            lines = lines[:_TITLE_LINES_MAX - 1] + [rest[:per_line - 1].rstrip() + "…"]
        artist.set_text("\n".join(lines))
        if artist.get_window_extent(renderer).width <= width_px or per_line <= 2:
            return
        per_line -= 1


def _title(fig, summary, y_title, y_head, size=FONT_SIZE["title"] + 3):
    """Title, headline and, for a what-if, the line of its overrides; returns the texts and the
    bottom of the block (figure fraction). A title wider than the page is wrapped, and shortened past
    :data:`_TITLE_LINES_MAX` lines (:func:`_fit_title`); the headline follows under it."""
    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)   # text extents
    a = fig.text(0.5, y_title, "", ha="center", va="top", fontsize=size, fontweight="bold")
    _fit_title(a, shown_title(summary), _WHAT_IF_LINE_WIDTH * fig.bbox.width, canvas.get_renderer())
    added = a.get_text().count("\n")
    if added:       # a wrapped title: the headline moves down by the lines it added
        y_head -= a.get_window_extent(canvas.get_renderer()).height / fig.bbox.height * added / (added + 1)
    text = headline(summary)
    b = fig.text(0.5, y_head, text, ha="center", va="top", fontsize=size - 3.5, color=COLORS["text"])
    out = [a, b]
    width = b.get_window_extent(canvas.get_renderer()).width / fig.bbox.width
    if width > _WHAT_IF_LINE_WIDTH:      # too wide for the page: two lines, at its clause, else evenly
        first, sep, rest = text.partition("; ")
        two = f"{first};\n{rest}" if sep and max(len(first), len(rest)) < 0.75 * len(text) else \
            textwrap.fill(text, width=int(len(text) / max(2, int(np.ceil(width / _WHAT_IF_LINE_WIDTH)))) + 1)
        b.set_text(two)
    line = _what_if_line(summary)
    if line:
        y = b.get_window_extent(canvas.get_renderer()).y0 / fig.bbox.height - 0.004
        c = fig.text(0.5, y, line, ha="center", va="top", fontsize=size - 4.5, color=COLORS["text"], style="italic")
        chars = len(overrides_text(summary))
        while c.get_window_extent(canvas.get_renderer()).width > _WHAT_IF_LINE_WIDTH * fig.bbox.width and chars > 20:
            chars -= 5                                  # too wide for the page: fewer overrides shown whole
            c.set_text(_what_if_line(summary, chars))
        out.append(c)
    bottom = min(t.get_window_extent(canvas.get_renderer()).y0 for t in out) / fig.bbox.height
    return out, bottom


def map_figure(layers, summary, date, airspace):
    """The stand-alone map page: title, map, legend, footer; returns ``(figure, map_axes)``."""
    fig = new_figure("map")
    # the legend and the title first, then the map in the room between them (its labels placed for that room)
    handles, labels = legend_handles(layers)
    leg = legend_fitting(fig, handles, labels, center_x=0.5, bottom_y=0.042, width=0.97, fontsize=FONT_SIZE["small"],
                         ncols=(4, 3, 2), handlelength=2.8, columnspacing=1.6)
    renderer = fig.canvas.get_renderer()
    y0 = max(0.16, leg.get_window_extent(renderer).y1 / fig.bbox.height + 0.012)
    _, bottom = _title(fig, summary, 0.985, 0.952)
    ax = fig.add_axes([0.025, y0, 0.95, min(0.91, bottom - 0.008) - y0])   # a what-if's line: the map gives way
    draw_route_map(ax, layers)
    fig.text(0.5, 0.008, _footer(summary, date, airspace), ha="center", va="bottom", fontsize=FONT_SIZE["tiny"],
             color=COLORS["muted"], linespacing=1.4)
    return fig, ax


def _sharing(summary):
    """What the flights of a campaign share, in words (the band depends on it)."""
    st = summary["settings"]
    days = sorted({r["mean_outage_days"] for r in summary["radars"].values() if "mean_outage_days" in r})
    parts = [f"outages of {'/'.join(f'{d:g}' for d in days)} days" if days else "radar states drawn per flight"]
    parts += [f"{what} per campaign" for what, key in (("transponder", "transponder_policy"),
                                                        ("route", "route_choice")) if st[key] == "per_campaign"]
    return ", ".join(parts)


def _run_text(summary):
    """Which scenario and run a product comes from (its overrides in full, exact geometry), with the note."""
    changes = overrides_text(summary)
    what_if = f"; what-if, changed from the scenario file: {changes}" if changes else ""
    exact = "; exact geometry (no detection tables)" if summary.get("exact") else ""
    return (f"{shown_title(summary)} ({summary['scenario']}): seed {summary['seed']}, {summary['campaigns']:,} "
            f"campaigns x {summary['flights_per_campaign']} flights{what_if}{exact}. {ASSUMPTIONS_NOTE}")


def _chart_axes(fig, title, caption, *, left=0.11, right=0.97, above_in=0.0, below_in=0.48,
                title_size=FONT_SIZE["title"] - 1):
    """A stand-alone chart's title (top left) and caption (the run and the note, bottom left), each
    wrapped to the page (:func:`wrap_to_width`: never cut), and its axes in the room between them;
    ``above_in``/``below_in``: room kept above and below the axes for a secondary axis or the tick labels
    and axis label [inch]. Returns the Axes."""
    renderer = (fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)).get_renderer()
    w_in, h_in = fig.get_size_inches()
    width_px = 0.98 * w_in * fig.dpi
    head = wrap_to_width(fig.text(0.01, 1.0 - 0.08 / h_in, "", ha="left", va="top", fontsize=title_size), title,
                         width_px, renderer)
    cap = wrap_to_width(fig.text(0.01, 0.012, "", ha="left", va="bottom", fontsize=FONT_SIZE["tiny"] - 1.0,
                                 color=COLORS["muted"]), caption, width_px, renderer)
    top = 1.0 - (0.08 + _height_in(head, renderer) + 0.1 + above_in) / h_in
    bottom = 0.012 + (_height_in(cap, renderer) + below_in) / h_in
    return fig.add_axes([left, bottom, right - left, max(top - bottom, 0.2)])


def _caption_text(summary):
    """The run and the note under a stand-alone chart."""
    return _run_text(summary)


def sweep_figure(key, points, title, run_text):
    """The sweep chart (sweep.png): P(detect) against the key's values, captioned with the run and the note."""
    fig = new_figure("chart")
    ax = _chart_axes(fig, title, f"{run_text}. {ASSUMPTIONS_NOTE}")
    draw_sweep(ax, key, points)
    return fig, ax


def left_out_text(left_out, reasons=False):
    """What a tornado leaves out: ``left_out`` is ``[(key, why), ...]`` (:func:`sim.analysis.sweeps.applicable_inputs`);
    the keys, and with ``reasons`` one line per input with its reason (README.txt). "" when none.

    >>> left_out_text([('radar["Kirkuk No. 2"].availability', "no radar named ...")])
    'Left out of the tornado (the range does not apply to the scenario as run): radar["Kirkuk No. 2"].availability'
    """
    if not left_out:
        return ""
    n = len(left_out)
    head = f"Left out of the tornado (the range{'s do' if n > 1 else ' does'} not apply to the scenario as run)"
    if reasons:
        return head + ":\n" + "".join(f"  {key}: {why}\n" for key, why in left_out)
    return f"{head}: {', '.join(key for key, _ in left_out)}"


#: Share of a line's width that wrapped text fills, as measured at the figure's own resolution.
WRAP_SLACK = 0.93


def wrap_to_width(artist, text, width_px, renderer):
    """Set ``artist`` to ``text`` wrapped at spaces into lines at most ``width_px`` wide (measured; a word
    wider than a line is broken), so that its extent is what is drawn (matplotlib's ``wrap=True`` wraps
    only when drawing). Measured with :data:`WRAP_SLACK` to spare: small text is relatively wider at a
    higher resolution (font hinting), and a file may be saved at any dpi. Returns the artist."""
    width_px = WRAP_SLACK * width_px
    artist.set_text(text)
    width = artist.get_window_extent(renderer).width
    if width <= width_px or not text:
        return artist
    per_line = max(int(len(text) * width_px / width), 8)
    while True:
        artist.set_text("\n".join(textwrap.fill(p, per_line, break_on_hyphens=False) for p in text.split("\n")))
        if artist.get_window_extent(renderer).width <= width_px or per_line <= 8:
            return artist
        per_line -= 2


def _height_in(artist, renderer):
    """A text's height [inch]."""
    return artist.get_window_extent(renderer).height / artist.figure.dpi


def tornado_figure(base, rows, metric, title, run_text, left_out=(), base_ci95=None, runs_text=""):
    """The sensitivity chart (tornado.png/.pdf): swings ranked, captioned with the run and the note, and
    with lines saying how the runs compare with the base (``runs_text``: their campaigns and interval when
    the base is the headline's) and naming the declared inputs left out (``[(key, why), ...]``,
    :func:`left_out_text`). Every text is wrapped to the page (never cut); the figure is as tall as its
    rows and texts need."""
    width_in = 8.0
    fig = new_figure("chart", (width_in, 4.0))
    renderer = (fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)).get_renderer()
    line_px = 0.98 * width_in * fig.dpi
    head = wrap_to_width(fig.text(0.01, 0, "", ha="left", va="top", fontsize=FONT_SIZE["title"] - 1), title,
                         line_px, renderer)
    cap = wrap_to_width(fig.text(0.01, 0, "", ha="left", va="bottom", fontsize=FONT_SIZE["tiny"] - 1.0,
                                 color=COLORS["muted"]), f"{run_text}. {ASSUMPTIONS_NOTE}", line_px, renderer)
    note_text = "\n".join(t for t in (runs_text, left_out_text(left_out)) if t)
    note = wrap_to_width(fig.text(0.01, 0, "", ha="left", va="bottom", fontsize=FONT_SIZE["tiny"] - 0.5,
                                  color=COLORS["text"]), note_text, line_px, renderer) if note_text else None
    labels = tornado_labels(rows)
    probe = fig.text(0, 0, "", fontsize=matplotlib.rcParams["ytick.labelsize"])     # the tick labels' size
    widths = []
    for t in labels:
        probe.set_text(t)
        widths.append(probe.get_window_extent(renderer).width / fig.dpi)
    probe.remove()
    label_in = max(widths, default=0.5)
    rows_in = sum(0.16 + 0.13 * (t.count("\n") + 1) for t in labels) if labels else 0.3
    left_in = min(label_in + 0.2, 0.55 * width_in)
    top_in = 0.15 + _height_in(head, renderer) + 0.15
    bottom_in = 0.5 + (_height_in(note, renderer) + 0.08 if note is not None else 0.0) + _height_in(cap, renderer) + 0.12
    h_in = top_in + max(rows_in, 0.5) + bottom_in
    fig.set_size_inches(width_in, h_in)
    head.set_position((0.01, 1.0 - 0.12 / h_in))
    cap.set_position((0.01, 0.06 / h_in))
    if note is not None:
        note.set_position((0.01, (0.06 + _height_in(cap, renderer) + 0.08) / h_in))
    ax = fig.add_axes([left_in / width_in, bottom_in / h_in, 1.0 - (left_in + 0.25) / width_in,
                       max(rows_in, 0.5) / h_in])
    draw_tornado(ax, base, rows, metric, base_ci95=base_ci95)
    return fig, ax


def compare_figure(names, p, ci95, flights, run_text, *, reference=0, metric="p_detect", reference_why=""):
    """The comparison chart (compare.png): one bar per scenario, differences from the reference flagged
    (:func:`~sim.products.charts.draw_compare`); the title names the metric and the reference (and
    ``reference_why``, how it was chosen: "the baseline, by default"). Names wrap, texts wrap to the page."""
    labels = [max(t.split("\n"), key=len) for t in
              (textwrap.fill(f"{n} (reference)" if i == reference else n, COMPARE_LABEL_CHARS) for i, n in
               enumerate(names))]
    lines = sum(textwrap.fill(f"{n} (reference)" if i == reference else n, COMPARE_LABEL_CHARS).count("\n") + 1
                for i, n in enumerate(names))
    h_in = 1.75 + 0.42 * len(names) + 0.12 * (lines - len(names))
    fig = new_figure("chart", (7.5, h_in))
    renderer = (fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)).get_renderer()
    probe = fig.text(0, 0, "", fontsize=matplotlib.rcParams["ytick.labelsize"])
    widths = []
    for t in labels:
        probe.set_text(t)
        widths.append(probe.get_window_extent(renderer).width / fig.dpi)
    probe.remove()
    left = min(max(widths, default=1.0) + 0.2, 0.5 * 7.5) / 7.5
    title = wrap_to_width(fig.text(0.01, 1.0 - 0.08 / h_in, "", ha="left", va="top", fontsize=FONT_SIZE["title"] - 2),
                          f"{metric_short_label(metric)}: each scenario against the reference, {names[reference]}"
                          + (f" ({reference_why})" if reference_why else ""), 0.98 * fig.bbox.width, renderer)
    cap = wrap_to_width(fig.text(0.01, 0.012, "", ha="left", va="bottom", fontsize=FONT_SIZE["tiny"] - 1.0,
                                 color=COLORS["muted"]), f"{run_text}. {ASSUMPTIONS_NOTE}", 0.98 * fig.bbox.width,
                        renderer)
    top_in = 0.08 + _height_in(title, renderer) + 0.12
    bottom_in = 0.012 * h_in + _height_in(cap, renderer) + 0.62     # tick labels and a two-line axis label
    ax = fig.add_axes([left, bottom_in / h_in, 0.96 - left, 1.0 - (bottom_in + top_in) / h_in])
    art = draw_compare(ax, names, p, ci95, flights, reference=reference, metric=metric)
    return fig, art


def detections_figure(per_campaign, summary):
    """Histogram chart figure, captioned with the scenario and run; returns ``(figure, axes)``."""
    fig = new_figure("chart")
    ax = _chart_axes(fig, f"Flights detected per campaign ({_sharing(summary)})", _caption_text(summary),
                     title_size=FONT_SIZE["title"])
    draw_detections_histogram(ax, per_campaign, summary["flights_per_campaign"])
    return fig, ax


def route_ground_max_m(sim):
    """Highest ground under the nominal routes [m AMSL] (GLOBE terrain: the run's, or the packaged one)."""
    terrain = sim.terrain if sim.terrain is not None else load_terrain()
    return float(max(np.max(elevation_m(terrain, r.lat_deg, r.lon_deg)) for r in sim.routes))


def _altitude_title(points, run_text):
    c = points[0]["campaigns"] if points else 0
    what = "height above ground" if points and points[0]["mode"] == "agl" else "cruise altitude"
    return f"P(detect) vs {what} ({c:,} campaigns per level, {run_text})"


def headline_point(summary):
    """The run's own P(detect), interval and campaigns (its key numbers): the altitude chart's "this
    scenario" (:func:`~sim.products.charts.draw_altitude_curve`)."""
    return {"p_detect": summary["p_detect"], "p_detect_ci95": summary["p_detect_ci95"],
            "campaigns": summary["campaigns"]}


def altitude_figure(points, summary, ground_max_m=None):
    """Altitude chart figure, captioned with the scenario and run, "this scenario" at the run's key number;
    returns ``(figure, axes)``."""
    fig = new_figure("chart")
    ax = _chart_axes(fig, _altitude_title(points, f"seed {summary['seed']}"), _caption_text(summary), above_in=0.42)
    draw_altitude_curve(ax, points, ground_max_m, headline=headline_point(summary))
    return fig, ax


def _km(x):
    """A distance [km] to three significant figures at most (``0.5 km``, ``24 km``, ``199 km``)."""
    return f"{x:.1f} km" if x < 10 else f"{x:,.0f} km"


def _key_rows(summary):
    lo, hi = summary["p_detect_ci95"]
    d = summary["detected_per_campaign"]
    rows = [("P(detect) per flight", format_p(summary["p_detect"], lo, hi)),
            ("  95% CI", format_ci(lo, hi, p=summary["p_detect"])),
            ("Detected, mean", f"{d['mean']:.2f} of {summary['flights_per_campaign']}"),
            ("  p05 / p50 / p95", f"{d['p05']:.0f} / {d['p50']:.0f} / {d['p95']:.0f}")]
    fm = summary.get("first_detection_min", {}).get("mean")
    if fm is not None:
        rows += [("First track, mean", f"{fm:.0f} min"), ("  since departure", "")]
    if "response" in summary:
        r = summary["response"]
        s = r["stopped_per_campaign"]
        w = r["reaction_window_min"]["p50"]
        rows += [("Stopped, mean", f"{s['mean']:.1f} of {summary['flights_per_campaign']}"),
                 ("  90% of campaigns", f"{s['p05']:.0f}-{s['p95']:.0f}"),
                 ("  P(stopped)", format_p(r["p_stopped"], *r["p_stopped_ci95"])),
                 ("  P(stopped) 95% CI", r["p_stopped_ci95_text"]),
                 ("  window, median", "-" if w is None else f"{w:.0f} min")]
        if r.get("will", 1.0) < 1.0:      # what the state could have stopped had it acted on every flight held
            rows.insert(len(rows) - 3, ("  if ordered, mean", f"{r['stopped_if_acted_per_campaign']['mean']:.1f} of "
                                                              f"{summary['flights_per_campaign']}"))
        # what happened to the flights, by outcome code (the names of flights.csv and summary.json)
        rows += [(f"  {code.replace('_', ' ')}", f"{share:.3f}") for code, share in r["outcomes"].items() if share]
    if "evade" in summary:
        e = summary["evade"]
        # the headline is as flown (the scenario's sideways spread); the planned line exactly, secondary
        rows += [("Least detectable, as flown", f"{e['p_detect']:.3f}"),
                 ("  95% CI", format_ci(*e["p_detect_ci95"])),
                 ("  P(stopped), as flown", "-" if e["p_stopped"] is None else f"{e['p_stopped']:.3f}"),
                 ("  extra distance", f"+{_km(e['extra_km'])}"),
                 ("  flight time", f"{e['flight_time_min']:.0f} min"),
                 ("  spread flown", f"{e['spread_km']:g} km" if e["spread_km"] else "none")]
        if e["spread_km"]:
            rows.append(("  planned track, exactly", f"{e['p_detect_planned_track']:.3f}"))
    if "record" in summary:          # brief --record: what the public record supports (airpicture infer)
        rec = summary["record"]
        rows += [("Public record", "page 2"), ("  could stop if willing", f"{rec['p_could_stop_if_willing']:.2f}")]
        for p in rec["periods"]:
            rows += [(f"  {p['name']}", p["verdict"] + (f", {p['verdict_strength']}" if p["verdict_strength"] else "")),
                     ("    will", f"{p['will']:.2f} [{p['will_ci90'][0]:.2f}-{p['will_ci90'][1]:.2f}]"),
                     ("    stopped", f"{p['p_did_stop']:.3f}")]
    rows.append(("P(track) by radar", ""))
    for name, r in summary["radars"].items():
        rows.append((f"  {name}", f"{r['p_detect']:.3f}"))
    return rows


#: Declared inputs the brief lists per metric, by the tornado's ranking (largest swing first).
BRIEF_TOP_INPUTS = 3


#: Words for declared inputs in the brief's table (any other key: its path, underscores as spaces).
_INPUT_WORDS = {
    "aircraft.transponder_on_probability": "transponder on",
    "aircraft.rcs_m2": "RCS [m²]",
    "aircraft.cruise_altitude_m": "cruise [m]",
    "aircraft.cruise_altitude_agl_m": "height above ground [m]",
    "detection.track_m": "track hits",
    "detection.mean_outage_days": "outage [days]",
    "response.order_to_land.compliance": "order obeyed",
    "response.intercept_compliance": "escort obeyed",
    "response.decision_delay_min": "decision delay [min]",
    "response.will": "will to act",
    "response.track_coast_min": "track coast [min]",
}
#: Words for the fields of a named table's key (``radar[NAME].FIELD``, ``interceptor[NAME].FIELD``).
_FIELD_WORDS = {"availability": "availability", "ready_min": "ready [min]", "speed_kmh": "speed [km/h]",
                "range_km": "range [km]", "range_nm": "range [NM]", "pd": "Pd", "mean_outage_days": "outage [days]"}


def _input_label(key):
    """A declared input's key in words for the brief's table: ``radar[Kirkuk PSR].availability`` ->
    ``Kirkuk PSR availability``, ``response.decision_delay_min`` -> ``decision delay [min]``.

    >>> _input_label("interceptor[F-16IQ Balad].ready_min"), _input_label("detection.refraction_k")
    ('F-16IQ Balad ready [min]', 'refraction k')
    >>> _input_label('radar["Kirkuk No. 2"].availability')
    'Kirkuk No. 2 availability'
    """
    if key in _INPUT_WORDS:
        return _INPUT_WORDS[key]
    try:
        head, *rest = read_key(key)          # the key as --set reads it (a quoted name may hold "." or "=")
    except ScenarioError:                    # a key no range applies to (left out, README.txt says why)
        return key
    if head.selector is not None and rest:
        words = [s.field.replace("_", " ") for s in rest[:-1]]
        return " ".join([head.selector, *words, _FIELD_WORDS.get(rest[-1].field, rest[-1].field.replace("_", " "))])
    return (key.split(".", 1)[1] if "." in key else key).replace("_", " ")


def _driver_rows(summary, metric):
    """The top declared inputs of one metric by the tornado's ranking (:data:`BRIEF_TOP_INPUTS`, those that
    move it): each input's value as written, its range and the metric's swing over it."""
    sens = summary.get("sensitivity", {}).get("metrics", {}).get(metric)
    if not sens:
        return []
    top = [r for r in sens["inputs"] if r["swing"] == r["swing"] and r["swing"] != 0][:BRIEF_TOP_INPUTS]
    out = [(f"Drivers of {metric_short_label(metric)}", "value (range) Δ" if top else "none moves it")]
    for r in top:
        own = "default" if r.get("value") is None else _g(r["value"])
        out.append((f"  {_input_label(r['key'])}", f"{own} ({_g(r['low'])}-{_g(r['high'])}) {r['swing']:+.3f}"))
    return out


def _left_out_rows(summary):
    """The declared inputs the tornadoes leave out (their ranges do not apply; README.txt says why)."""
    left = summary.get("sensitivity", {}).get("left_out", ())
    if not left:
        return []
    shown = [(f"  {_input_label(r['key'])}", "") for r in left[:BRIEF_TOP_INPUTS]]
    more = [(f"  +{len(left) - len(shown)} more", "")] if len(left) > len(shown) else []
    return [("Left out of the tornado", "range n/a: README.txt"), *shown, *more]


def _g(v):
    """A declared input's value as a short text (numbers without trailing zeros)."""
    return f"{v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def _response_rows(summary):
    """What the airspace's owner does once a flight is tracked (summary.json's ``response``), briefly."""
    r = summary.get("response")
    if r is None:
        return []
    order = r.get("order_to_land")
    rows = [("Decision delay", f"{r['decision_delay_min']:g} min"),
            *((("Will to act", f"{r['will']:.0%} of flights held in time"),) if r.get("will", 1.0) < 1.0 else ()),
            ("Order to land", "none" if not order else f"{', '.join(order['airports'])}, {order['compliance']:.0%} obey")]
    if r.get("interceptors"):
        rows.append(("Interceptors", "ready, speed"))
        rows += [(f"  {i['name']}", f"{i['ready_min']:g} min, {i['speed_kmh']:,.0f} km/h") for i in r["interceptors"]]
        if r.get("intercept_compliance") is not None:
            rows.append(("  escorted crews obey", f"{r['intercept_compliance']:.0%}"))
    if r.get("track_coast_min") is not None:
        rows.append(("Track coast", f"{r['track_coast_min']:g} min"))
    return rows


def _assumption_rows(summary, sim):
    """The assumptions behind the numbers: the aircraft, detection and radars, the top declared inputs by the
    tornadoes' ranking (P(detect), and P(stopped) with a response) and the response's own assumptions."""
    s = summary["settings"]
    a = sim.scenario.aircraft
    levels = sorted({(r.cruise_agl_m is not None, round(r.cruise_agl_m if r.cruise_agl_m is not None
                                                        else r.cruise_altitude_m)) for r in sim.routes})
    alt_text = ", ".join(f"{v:,} m above ground" if agl else f"{v:,} m (FL{v / FL_M:.0f})" for agl, v in levels)
    return [("Aircraft", f"{a.model}, {a.cruise_speed_mps / KMH_MPS:.0f} km/h"),
            ("RCS", f"{s['rcs_m2']:g} m²"),
            ("Transponder on", f"{s['transponder_on_probability']:.0%} of flights"),
            ("Cruise altitude", alt_text),
            ("Track rule", f"{s['track_m']} hits in {s['track_n']} scans"),
            ("Terrain masking", f"on, k {s['refraction_k']:.4g}" if s["terrain"] else "off (smooth)"),
            ("Routes (share of flights)", ""),
            *((f"  {r.name}", f"{p:.0%}, spread {r.cross_track_sigma_m / 1000:g} km")
              for r, p in zip(sim.routes, sim.route_p)),
            ("Radars", f"{len(sim.radars)} ({sum(r.kind.skin_return for r in sim.radars)} primary)"),
            *((f"  {r.name}", f"flies a {r.platform.length_m / 1000:.0f} km loop")
              for r in sim.radars if isinstance(r.platform, Orbit)),
            *_response_rows(summary),
            *_driver_rows(summary, "p_detect"),
            *_driver_rows(summary, "response.p_stopped"),
            *_left_out_rows(summary),
            ("Monte Carlo", f"{summary['campaigns']:,} × {summary['flights_per_campaign']} flights")]   # seed: footer


#: The narrowest the label column of a brief table gets (axes fraction): values take the rest, whole and
#: at full size; only a value wider than that rest (none of the key numbers) would be shortened.
_TABLE_LABEL_MIN = 0.3


def _middle_ellipsis(text, keep):
    """``text`` with all but ``keep`` characters replaced by one "…" in the middle (start and end kept)."""
    if keep >= len(text):
        return text
    head = (keep + 1) // 2
    return text[:head].rstrip() + "…" + text[len(text) - (keep - head):].lstrip()


def _shorten_to(t, fits):
    """Shorten the text of artist ``t`` in the middle (its size unchanged) until ``fits()``: the most
    characters that fit, found by bisection."""
    text = t.get_text()
    if fits():
        return
    lo, hi = 0, len(text) - 1          # lo characters fit (none: "…" alone), hi + 1 do not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        t.set_text(_middle_ellipsis(text, mid))
        if fits():
            lo = mid
        else:
            hi = mid - 1
    t.set_text(_middle_ellipsis(text, lo))


def _split_to_fit(t, text, fits):
    """The longest start of ``text`` that fits (``fits()`` with ``t`` set to it), broken at its last space
    where there is one, and the rest: ``(first, rest)`` (``rest`` "" when all of it fits)."""
    t.set_text(text)
    if fits():
        return text, ""
    lo, hi = 1, len(text) - 1          # lo characters fit (at least one is kept), hi + 1 do not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        t.set_text(text[:mid])
        if fits():
            lo = mid
        else:
            hi = mid - 1
    cut = text.rfind(" ", 0, lo + 1)
    cut = cut if cut > 0 else lo         # no space: the word breaks
    return text[:cut].rstrip(), text[cut:].strip()


#: The indent of a label's second line (axes fraction).
_TABLE_WRAP_INDENT = 0.03


def _draw_table(ax, title, rows, max_size=FONT_SIZE["tiny"] + 0.5):
    """A two-column table drawn as text rows (label, value) with thin rules; returns the artists.

    The text is set at the brief's small size (``max_size`` [pt]), or smaller when many lines
    share the table's height (at most 80% of the line pitch, so that lines
    never overlap); labels and values keep that size. Values stay whole,
    right-aligned at the table's right edge; each label has the room left of
    its own value, and a label too wide for it wraps onto a second line,
    indented (the row takes two lines: never cut); only a label longer than
    two lines (a name of a hundred characters) is shortened in the middle of
    its second line with an ellipsis, keeping its start and its end.
    """
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    renderer = ax.figure.canvas.get_renderer()
    out = [ax.text(0.0, 1.0, title, ha="left", va="bottom", fontweight="bold", fontsize=FONT_SIZE["label"])]
    height_pt = ax.get_window_extent(renderer).height * 72.0 / ax.figure.dpi

    def x_span(t):
        box = ax.transAxes.inverted().transform(t.get_window_extent(renderer))
        return box[0, 0], box[1, 0]

    def layout(size):
        """Per row: its label's lines (one or two) at ``size``, and where its value starts."""
        lines = []
        for label, value in rows:
            sub = label.startswith("  ")
            x = 0.03 if sub else 0.0
            v = ax.text(1.0, 0.5, value, ha="right", va="center", fontsize=size, fontweight="normal" if sub else "bold")
            start = x_span(v)[0] if value else 1.0
            v.remove()
            t = ax.text(x, 0.5, "", ha="left", va="center", fontsize=size)
            room = max(start - 0.06, _TABLE_LABEL_MIN)                   # a clear gap before the value
            first, rest = _split_to_fit(t, label.strip(), lambda t=t, room=room: x_span(t)[1] <= room)
            if rest:              # the second line has the whole width (the value sits on the first)
                t.set_position((x + _TABLE_WRAP_INDENT, 0.5))
                t.set_text(rest)
                if x_span(t)[1] > 1.0:
                    _shorten_to(t, lambda t=t: x_span(t)[1] <= 1.0)
                rest = t.get_text()
            t.remove()
            lines.append((first, rest))
        return lines

    n_lines, size, lines = len(rows), None, None
    for _ in range(3):          # the size follows the number of lines, which follows the size
        dy = min(0.075, 0.97 / max(n_lines, 1))
        size = min(max_size, 0.8 * dy * height_pt)
        lines = layout(size)
        wanted = len(rows) + sum(1 for _, rest in lines if rest)
        if wanted == n_lines:
            break
        n_lines = wanted
    dy = min(0.075, 0.97 / max(n_lines, 1))
    top = 0.97
    for (label, value), (first, rest) in zip(rows, lines):
        y = top - 0.5 * dy
        sub = label.startswith("  ")
        x = 0.03 if sub else 0.0
        color = COLORS["muted"] if sub else COLORS["text"]
        v = ax.text(1.0, y, value, ha="right", va="center", fontsize=size, fontweight="normal" if sub else "bold")
        out += [ax.text(x, y, first, ha="left", va="center", fontsize=size, color=color), v]
        if rest:
            out.append(ax.text(x + _TABLE_WRAP_INDENT, y - dy, rest, ha="left", va="center", fontsize=size,
                               color=color))
        top -= dy * (2 if rest else 1)
        out += ax.plot([0, 1], [top] * 2, color="#D0D0D0", linewidth=0.4)
    return out


#: The brief's map legend [pt]: never smaller (a long legend takes more rows, the map gives way).
BRIEF_LEGEND_PT = FONT_SIZE["tiny"] - 0.3


def legend_fitting(fig, handles, labels, *, center_x, bottom_y, width, fontsize, ncols=(4, 3, 2), **kw):
    """A figure legend centred at ``center_x`` above ``bottom_y`` (figure fractions) at most ``width`` wide,
    at ``fontsize`` whatever its length: the most columns of ``ncols`` that fit, else labels wrapped at
    spaces into narrower lines (never a smaller font, never clipped)."""
    renderer = (fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)).get_renderer()
    longest = max((len(t) for t in labels), default=1)
    leg = None
    for wrap in (None, *(w for w in (70, 56, 44, 34, 26) if w < longest)):
        texts = labels if wrap is None else [textwrap.fill(t, wrap, break_on_hyphens=False) for t in labels]
        for ncol in ncols:
            if leg is not None:
                leg.remove()
            leg = fig.legend(handles, texts, loc="lower center", bbox_to_anchor=(center_x, bottom_y), ncol=ncol,
                             fontsize=fontsize, **kw)
            if leg.get_window_extent(renderer).width <= width * fig.bbox.width:
                return leg
    return leg


#: The brief's printable margin on its A4 page [mm]: 10 mm or more on A4 and, printed to fit, on US Letter
#: (which scales the page by 0.94). Everything drawn stays inside (tested on the PDF's text boxes).
BRIEF_MARGIN_MM = 12.0


def _brief_charts(fig, per_campaign, points, summary, ground_max_m, left, right, top, bottom):
    """The brief's two charts between ``top`` and ``bottom`` (figure fractions): each titled above its
    axes, what its marks are said in the title (no legend: a small chart has no room for one that hides
    nothing, :func:`~sim.products.charts.histogram_key_text`, :func:`~sim.products.charts.altitude_key_text`),
    the titles wrapped to the column and the axes given the room the texts leave."""
    renderer = (fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)).get_renderer()
    h_in = fig.get_size_inches()[1]
    width_px = (right - left) * fig.bbox.width
    title_kw = dict(ha="left", va="top", fontsize=FONT_SIZE["label"] - 0.5)
    key_kw = dict(ha="left", va="top", fontsize=FONT_SIZE["tiny"], color=COLORS["muted"])

    def titled(y, title, key):
        """The title and its key line at ``y`` (figure fraction, their top); returns where they end."""
        a = wrap_to_width(fig.text(left, y, "", **title_kw), title, width_px, renderer)
        y -= (_height_in(a, renderer) + 0.03) / h_in
        b = wrap_to_width(fig.text(left, y, "", **key_kw), key, width_px, renderer)
        return y - (_height_in(b, renderer) + 0.05) / h_in

    x_in, fl_in = 0.42, 0.36          # tick labels and an axis label under an axes; the flight-level axis above
    head = titled(top, f"Flights detected per campaign ({_sharing(summary)})", histogram_key_text(per_campaign))
    alt_title = _altitude_title(points, "same seed")
    alt_key = altitude_key_text(points, headline_point(summary), ground_max_m)
    probe = titled(0.5, alt_title, alt_key)           # measured, then placed
    for t in fig.texts[-2:]:
        t.remove()
    alt_head_in = (0.5 - probe) * h_in
    room_in = (head - bottom) * h_in - x_in - alt_head_in - fl_in - x_in
    hist_in, alt_in = 0.4 * room_in, 0.6 * room_in     # the curve: more room
    ax_h = fig.add_axes([left, head - hist_in / h_in, right - left, hist_in / h_in])
    draw_detections_histogram(ax_h, per_campaign, summary["flights_per_campaign"], legend=False)
    y = head - (hist_in + x_in) / h_in
    y = titled(y, alt_title, alt_key) - fl_in / h_in
    ax_a = fig.add_axes([left, y - alt_in / h_in, right - left, alt_in / h_in])
    draw_altitude_curve(ax_a, points, ground_max_m, headline=headline_point(summary), compact=True)
    return ax_h, ax_a


def brief_figure(layers, per_campaign, points, summary, sim, date, ground_max_m=None):
    """The one-page brief (A4 landscape: map | charts and tables); returns the figure."""
    fig = new_figure("brief", FIGSIZE_IN["brief"])
    w_mm, h_mm = (25.4 * v for v in FIGSIZE_IN["brief"])
    mx, my = BRIEF_MARGIN_MM / w_mm, BRIEF_MARGIN_MM / h_mm      # margins as figure fractions
    _, title_bottom = _title(fig, summary, 1 - my, 1 - my - 0.033, size=FONT_SIZE["title"] + 2)
    left, right, top, bottom = mx, 0.605, min(0.865, title_bottom - 0.006), my + 0.045
    # the legend first, at a readable size (wrapped into more rows rather than shrunk), then the map above it
    handles, labels = legend_handles(layers)
    leg = legend_fitting(fig, handles, labels, center_x=(left + right) / 2, bottom_y=bottom, width=right - left,
                         fontsize=BRIEF_LEGEND_PT, ncols=(3, 2), handlelength=2.0, columnspacing=0.8, frameon=False)
    leg_top = leg.get_window_extent(fig.canvas.get_renderer()).y1 / fig.bbox.height
    ax_map = fig.add_axes([left, leg_top + 0.006, right - left, top - leg_top - 0.006])
    draw_route_map(ax_map, layers)

    key_rows, assumption_rows = _key_rows(summary), _assumption_rows(summary, sim)
    n_rows = max(len(key_rows), len(assumption_rows))
    # the tables take the height their rows need (a legible pitch), the two charts share the rest
    tables = min(max(0.3, 0.021 * n_rows), 0.55)
    c_left, c_right = 0.66, 1 - mx
    c_top, c_bottom = min(0.84, title_bottom - 0.03), my + 0.05
    t_top = c_bottom + tables * (c_top - c_bottom) / 1.3          # the tables' top (a gap of 0.3 of them above)
    gt = fig.add_gridspec(1, 2, left=c_left, right=c_right, top=t_top, bottom=c_bottom, wspace=0.12,
                          width_ratios=[1.0, 1.35])
    _draw_table(fig.add_subplot(gt[0]), "Key numbers", key_rows)
    _draw_table(fig.add_subplot(gt[1]), "Assumptions that drive them", assumption_rows)
    _brief_charts(fig, per_campaign, points, summary, ground_max_m, c_left, c_right, c_top, t_top + 0.045)
    fig.text(0.5, my, _footer(summary, date, sim.airspace), ha="center", va="bottom", fontsize=FONT_SIZE["tiny"],
             color=COLORS["muted"], linespacing=1.4)
    return fig


# --- brief --record: the second page ----------------------------------------------------------
#: Colours of the answers on the record's page: "unwilling" as the chart's "did stop", "unable" as its
#: "could stop if willing" (the gap, and the reach).
_VERDICT_COLORS = {"unwilling": PALETTE["vermillion"], "unable": PALETTE["blue"], "neither": COLORS["text"]}


def _interval_text(s, d=3):
    """A posterior's mean and 90% interval: ``0.047 [0.007-0.130]``."""
    return f"{s['mean']:.{d}f} [{s['ci90'][0]:.{d}f}-{s['ci90'][1]:.{d}f}]"


def _bayes_text(bf, prior):
    """A Bayes factor as the page says it: ``> 1000`` past a thousand or where it is unbounded (the posterior
    certain), ``none`` where the prior alone decides (its range excludes the other hypothesis)."""
    if bf is None:
        return "> 1000" if 0.0 < prior < 1.0 else "none (the prior alone decides)"
    return "> 1000" if bf >= 1000 else f"{bf:.3g}"


def record_verdict_words(period):
    """A period's answer in plain words: ``Unwilling, very strongly``, ``Unable, barely`` or ``Neither:
    willing and able`` (infer.json's ``verdict`` and ``verdict_strength``, Kass and Raftery's words)."""
    if period["verdict"] == "neither":
        return "Neither: willing and able"
    strength = period.get("verdict_strength")
    return period["verdict"].capitalize() + (f", {strength}" if strength else "")


def _record_lines(period, record):
    """The numbers under a period's answer: will, the hypothesis's probability and Bayes factor, the shares."""
    w, cap = period["will"], record["capability"]
    if period["verdict"] == "unable":
        odds = (f"P(mostly unable: could act on fewer than half) {cap['p_unable']:.3f}, prior "
                f"{cap['p_unable_prior']:.3f}; Bayes factor {_bayes_text(cap['bayes_factor_unable'], cap['p_unable_prior'])}")
    else:
        odds = (f"P(mostly unwilling: will < 0.5) {w['p_below_half']:.3f}, prior {w['p_below_half_prior']:.3f}; "
                f"Bayes factor {_bayes_text(w['bayes_factor_unwilling'], w['p_below_half_prior'])}")
    return [f"will {_interval_text(w)} (posterior mean, 90% interval)", odds,
            f"stopped {_interval_text(period['p_did_stop'])} of the flights; could have stopped "
            f"{_interval_text(cap['p_could_stop_if_willing'])} if willing"]


def _points(n, what=""):
    """``64 points``, ``1 point`` (``what``: a word before, ``capability ``)."""
    return f"{n:,} {what}point{'' if n == 1 else 's'}"


def _record_tables(record):
    """The record page's two tables: the capability if willing, and the checks of the answer."""
    cap = record["capability"]
    capability = [(label, _interval_text(cap[key])) for label, key in (
        ("P(detect)", "p_detect"), ("P(held in track in time)", "p_held_in_time"),
        ("P(could order to land or intercept)", "p_could_act_if_willing"), ("P(could stop)", "p_could_stop_if_willing"))]
    capability.append(("P(mostly unable: < half)", f"{cap['p_unable']:.3f} (prior {cap['p_unable_prior']:.3f})"))
    for i in record["capability_inputs"]:
        capability.append((_input_label(i["key"]), f"{i['mean']:.3g} [{i['ci90'][0]:.3g}-{i['ci90'][1]:.3g}] "
                                                   f"(prior {i['prior'][0]:g}-{i['prior'][1]:g})"))
    checks = []
    if record["will_changes"]:
        checks.append(("Will between the periods", ""))
        for c in record["will_changes"]:
            checks.append((f"  {c['from']} to {c['to']}", f"{c['mean']:+.3f} [{c['ci90'][0]:+.3f} to "
                                                          f"{c['ci90'][1]:+.3f}], P(up) {c['p_increase']:.3f}"))
    checks.append(("Predictive check", "predicted [90%], p"))
    for p in record["periods"]:
        for kind, v in p["predictive_check"].items():
            checks.append((f"  {p['name']}: {kind.replace('_', ' ')} {v['observed']}",
                           f"{v['predicted_mean']:.1f} [{v['predicted_ci90'][0]}-{v['predicted_ci90'][1]}], "
                           f"p {v['p_value']:.2f}"))
    d = record["diagnostics"]
    khat = "n/a (too few particles)" if d["psis_khat"] is None else f"{d['psis_khat']:.2f}"
    checks += [("Diagnostics", ""), ("  PSIS k-hat (reliable below 0.7)", khat),
               ("  importance ESS", f"{d['importance_ess']:,.0f} of {d['particles']:,} particles"),
               ("Inferred on", f"{_points(record['samples'])} x {record['flights_per_sample']:,} flights"),
               ("  seed", f"{record['seed']}")]
    return capability, checks


def record_figure(record, summary, date):
    """The brief's second page with ``brief --record`` (A4 landscape): what the scenario's public record
    supports. Per period the answer in words, will and the shares stopped; the commander's chart (infer.png's,
    :func:`sim.products.infer.draw_could_did`); the capability if willing and the checks of the answer; the
    verdicts as ``airpicture infer`` prints them. ``record`` is infer.json of the run (its seed, its prepared
    parts); returns the figure.

    The record's panel has a page of its own: page one's map, charts and two tables already fill it at the
    smallest size a briefing reads, and a chart whose gap is the answer has to be read at a glance."""
    from sim.products.infer import draw_could_did       # the record's chart: loaded with a record only
    fig = new_figure("brief", FIGSIZE_IN["brief"])
    renderer = (fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)).get_renderer()
    w_mm, h_mm = (25.4 * v for v in FIGSIZE_IN["brief"])
    mx, my = BRIEF_MARGIN_MM / w_mm, BRIEF_MARGIN_MM / h_mm
    h_in = FIGSIZE_IN["brief"][1]
    width_px = fig.bbox.width

    def below(artist, gap_in=0.05):
        return artist.get_window_extent(renderer).y0 / fig.bbox.height - gap_in / h_in

    t = fig.text(0.5, 1 - my, "Unwilling or unable: what the public record says", ha="center", va="top",
                 fontsize=FONT_SIZE["title"] + 3, fontweight="bold")
    sub = wrap_to_width(fig.text(0.5, below(t), "", ha="center", va="top", fontsize=FONT_SIZE["label"],
                                 color=COLORS["text"]),
                        f"{shown_title(summary)}: its record against the simulator, period by period "
                        "(airpicture infer, the run's seed)",
                        0.9 * width_px, renderer)
    top = below(sub, 0.18)
    periods = record["periods"]
    n = len(periods)

    # the chart, left: its period labels left of the axes, will and the verdict right of them
    chart_h = min(0.56, (0.5 + 0.72 * n) / h_in)
    head = wrap_to_width(fig.text(mx, top, "", ha="left", va="top", fontsize=FONT_SIZE["label"] + 1,
                                  fontweight="bold"),
                         "Could stop if willing, against did stop: the gap is will", 0.55 * width_px, renderer)
    ax_top = below(head, 0.12)
    ax = fig.add_axes([mx + 0.16, ax_top - chart_h, 0.3, chart_h])
    draw_could_did(ax, record)
    chart_bottom = ax_top - chart_h - 0.42 / h_in         # its x tick labels and axis label

    # the answers, right: one block per period, at a size that fits the column
    x0, col_px = 0.655, (1 - mx - 0.655) * width_px
    for shrink in (1.0, 0.9, 0.8, 0.7, 0.6):
        made, y = [], top
        for p in periods:
            name = fig.text(x0, y, p["name"], ha="left", va="top", fontsize=(FONT_SIZE["label"] + 1) * shrink,
                            fontweight="bold")
            answer = fig.text(x0, below(name, 0.03), record_verdict_words(p), ha="left", va="top",
                              fontsize=(FONT_SIZE["title"] + 4) * shrink, fontweight="bold",
                              color=_VERDICT_COLORS.get(p["verdict"], COLORS["text"]))
            lines = wrap_to_width(fig.text(x0, below(answer, 0.04), "", ha="left", va="top",
                                           fontsize=FONT_SIZE["base"] * shrink, color=COLORS["text"],
                                           linespacing=1.35), "\n".join(_record_lines(p, record)), col_px, renderer)
            made += [name, answer, lines]
            y = below(lines, 0.16)
        if y >= chart_bottom - 0.02 or shrink == 0.6:
            break
        for a in made:
            a.remove()
    row2_top = min(chart_bottom, y) - 0.02

    # the verdicts in the command line's words, over the footer; the two tables between
    footer = fig.text(0.5, my, f"{ASSUMPTIONS_NOTE}\nInferred by airpicture infer on the scenario's [[record]] with the "
                               f"run's seed {record['seed']} ({_points(record['samples'], 'capability ')} x "
                               f"{record['flights_per_sample']:,} flights each, uniform priors on the declared "
                               f"ranges); the method and what it cannot tell apart: docs/infer.md; produced {date} "
                               "by airpicture.", ha="center", va="bottom", fontsize=FONT_SIZE["tiny"],
                      color=COLORS["muted"], linespacing=1.4)
    words_bottom = footer.get_window_extent(renderer).y1 / fig.bbox.height + 0.1 / h_in
    words = wrap_to_width(fig.text(mx, words_bottom, "", ha="left", va="bottom", fontsize=FONT_SIZE["small"],
                                   color=COLORS["text"], linespacing=1.3),
                          "\n".join(p["verdict_text"] for p in periods), (1 - 2 * mx) * width_px, renderer)
    words_head = fig.text(mx, words.get_window_extent(renderer).y1 / fig.bbox.height + 0.04 / h_in,
                          "In the words of airpicture infer", ha="left", va="bottom", fontsize=FONT_SIZE["label"],
                          fontweight="bold")
    tables_bottom = words_head.get_window_extent(renderer).y1 / fig.bbox.height + 0.22 / h_in
    capability, checks = _record_tables(record)
    tables_top = row2_top - 0.2 / h_in                 # room for the tables' titles above them
    if tables_top - tables_bottom > 0.08:
        _draw_table(fig.add_axes([mx, tables_bottom, 0.43 - mx, tables_top - tables_bottom]),
                    "Capability if willing (shared by the periods)", capability, max_size=FONT_SIZE["base"])
        _draw_table(fig.add_axes([0.5, tables_bottom, 0.5 - mx, tables_top - tables_bottom]),
                    "Checks of the answer", checks, max_size=FONT_SIZE["base"])
    return fig


# --- the whole set ------------------------------------------------------------------------------
def write_brief(stage_dir, sim, result, summary, altitude_points, *, dpi=200, n_tracks=100, n_points=200,
                progress=None, record=None):
    """Write map.png/.pdf/.svg, detections.png, altitude.png, routes.kml and brief.pdf.

    Parameters
    ----------
    stage_dir : path
        Existing folder to write into.
    sim, result : Simulation, RunResult
        The run (:func:`sim.pipeline.simulate`).
    summary : dict
        :func:`sim.results.summarize` of the run.
    altitude_points : list of dict
        The altitude curve (:func:`sim.analysis.altitude_sweep`).
    dpi : int
        Resolution of the PNG files (the map's at least as given).
    n_tracks, n_points : int
        Sampled flight tracks (map) and first-detection points (map and KML).
    progress : callable, optional
        ``progress(1)`` after each group of files: the map, the charts, brief.pdf, the KML
        (:data:`sim.pipeline.BRIEF_DRAW_STEPS`).
    record : dict, optional
        infer.json of the run (``brief --record``): brief.pdf gets a second page, what the public record
        supports (:func:`record_figure`).

    Returns
    -------
    dict
        ``files`` (names written) and ``timings_s`` (by step).
    """
    out = Path(stage_dir)
    timings = {}
    t0 = time.perf_counter()
    date = product_date()
    t = time.perf_counter()
    tr = sim.airspace.transformer
    alt, agl, label = coverage_level(sim)
    cov = coverage_polygons(sim, tr, alt, agl)
    first = first_detection_sample(sim, result, n_points)
    layers = map_layers(sim, result, transformer=tr, n_tracks=n_tracks, coverage=cov,
                        first=first)
    if "evade" in summary:             # brief --evade: the least-detectable route on the map
        e = summary["evade"]
        lat, lon = np.array(e["waypoints"]).T
        s_m = np.linspace(0.0, float(leg_geometry(lat, lon)[1].sum()), 400)     # its geodesic legs, drawn
        plat, plon, _ = positions_along_route(lat, lon, s_m)
        xy = np.column_stack(tr.transform(plon, plat))
        layers = dataclasses.replace(layers, evade_xy=xy, evade_label=(
            f"least-detectable route within {e['budget_km']:g} km extra: +{_km(e['extra_km'])}, "
            f"{e['level']}, P(detect) {e['p_detect']:.3f} as flown"
            + (f" ({e['spread_km']:g} km spread; {e['p_detect_planned_track']:.3f} on its planned track)"
               if e["spread_km"] else "")))
    per_campaign = detections_per_campaign(result)
    ground_max = route_ground_max_m(sim)
    timings["layers"] = time.perf_counter() - t
    step = progress if progress is not None else (lambda n: None)

    files = []
    with use_style():
        t = time.perf_counter()
        fig, _ = map_figure(layers, summary, date, sim.airspace)
        for name in ("map.png", "map.pdf", "map.svg"):
            save_figure(fig, out / name, dpi=max(dpi, 1), title=f"Route map: {shown_title(summary)}",
                        description=_run_text(summary))
            files.append(name)
        timings["map"] = time.perf_counter() - t
        step(1)

        t = time.perf_counter()
        fig, _ = detections_figure(per_campaign, summary)
        save_figure(fig, out / "detections.png", dpi=dpi, title=f"Flights detected per campaign: {shown_title(summary)}",
                    description=_run_text(summary))
        fig, _ = altitude_figure(altitude_points, summary, ground_max)     # "this scenario": the key number
        save_figure(fig, out / "altitude.png", dpi=dpi, title=f"P(detect) vs cruise level: {shown_title(summary)}",
                    description=_run_text(summary))
        files += ["detections.png", "altitude.png"]
        timings["charts"] = time.perf_counter() - t
        step(1)

        t = time.perf_counter()
        fig = brief_figure(layers, per_campaign, altitude_points, summary, sim, date, ground_max)
        meta = dict(dpi=max(dpi, 150), title=f"Brief: {shown_title(summary)}", description=_run_text(summary))
        if record is None:
            save_figure(fig, out / "brief.pdf", **meta)
        else:               # brief --record: what the public record supports, on a page of its own
            save_pages([fig, record_figure(record, summary, date)], out / "brief.pdf", **meta)
        files.append("brief.pdf")
        timings["brief_pdf"] = time.perf_counter() - t
        step(1)

    t = time.perf_counter()
    simplify_m = 100.0
    changes = overrides_text(summary)
    what_if = f"What-if, changed from the scenario file: {changes}. " if changes else ""
    write_kml(out / "routes.kml", title=shown_title(summary),
              description=f"{headline(summary)}. {what_if}{ASSUMPTIONS_NOTE} Seed {summary['seed']}, {date}.",
              routes=sim.routes, radars=sim.radars,
              coverage_lonlat=[project_geometry(shapely.simplify(g, simplify_m), tr, direction="INVERSE") for g in cov],
              coverage_alt_m=alt, coverage_label=label, first_detections=first,
              interceptors=sim.scenario.interceptors, intercepts=intercept_sample(sim, result))
    files.append("routes.kml")
    timings["kml"] = time.perf_counter() - t
    step(1)
    timings["total"] = time.perf_counter() - t0
    return {"files": files, "timings_s": {k: round(v, 3) for k, v in timings.items()}}
