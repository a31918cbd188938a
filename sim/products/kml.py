"""KML for Google Earth (through simplekml): routes, radar sites, coverage, first detections.

Altitudes are absolute (above mean sea level), as everywhere in
airpicture. Element ids are renumbered from 1 so the same inputs give the
same bytes (simplekml numbers ids with a process-wide counter).
"""
import re
from pathlib import Path

import numpy as np
import shapely
import simplekml

from sim.platforms import Orbit
from sim.products.export import ROUTE_EXPORT_STEP_S
from sim.products.style import COLORS, kml_color

__all__ = ["build_kml", "write_kml"]

_ICONS = {
    "primary": "http://maps.google.com/mapfiles/kml/shapes/triangle.png",
    "secondary": "http://maps.google.com/mapfiles/kml/shapes/square.png",
    "detection": "http://maps.google.com/mapfiles/kml/shapes/cross-hairs.png",
}


def _ll(lon, lat, alt):
    return (round(float(lon), 5), round(float(lat), 5), round(float(alt), 1))


def _line_style(color, width, alpha=1.0):
    s = simplekml.Style()
    s.linestyle.color = kml_color(color, alpha)
    s.linestyle.width = width
    return s


def _poly_style(color, fill_alpha, width=1.5):
    s = simplekml.Style()
    s.polystyle.color = kml_color(color, fill_alpha)
    s.linestyle.color = kml_color(color, 1.0)
    s.linestyle.width = width
    return s


def _icon_style(color, icon, scale):
    s = simplekml.Style()
    s.iconstyle.color = kml_color(color)
    s.iconstyle.icon.href = icon
    s.iconstyle.scale = scale
    return s


def _renumber_ids(text):
    """Renumber ``id="N"`` and ``#N`` references from 1, in order of appearance."""
    order = {}
    for m in re.finditer(r' id="(\d+)"', text):
        order.setdefault(m.group(1), str(len(order) + 1))
    text = re.sub(r' id="(\d+)"', lambda m: f' id="{order[m.group(1)]}"', text)
    return re.sub(r"<styleUrl>#(\d+)</styleUrl>",
                  lambda m: f"<styleUrl>#{order.get(m.group(1), m.group(1))}</styleUrl>", text)


def build_kml(*, title, description, routes, radars, coverage_lonlat, coverage_alt_m, coverage_label, first_detections,
              step_s=ROUTE_EXPORT_STEP_S):
    """The KML document as text.

    Parameters
    ----------
    title, description : str
    routes : sequence of sim.routes.RouteTrack
        Nominal tracks, drawn as 3-D LineStrings sampled every ``step_s``.
    radars : sequence of sim.detection.RadarModel
    coverage_lonlat : sequence of shapely geometries, one per radar
        Coverage polygons in WGS84 lon/lat [deg] (empty geometries skipped).
    coverage_alt_m : float or None
        Altitude the coverage polygons are drawn at [m AMSL]; None: on the
        ground (coverage at a height above ground).
    coverage_label : str
        The coverage level in words, for the folder name.
    first_detections : dict of arrays, shape (P,)
        ``lat_deg``, ``lon_deg``, ``alt_m``, ``t_s``, ``radar`` (names),
        ``campaign``, ``flight``.
    """
    kml = simplekml.Kml(name=title)
    kml.document.description = description

    fr = kml.newfolder(name="Nominal routes")
    route_style = _line_style(COLORS["route"], 3.0)
    for r in routes:
        step = max(int(round(step_s / r.step_s)), 1)
        idx = np.unique(np.concatenate([np.arange(0, len(r.t_s), step), [len(r.t_s) - 1]]))
        ls = fr.newlinestring(name=r.name, coords=[_ll(lo, la, al) for lo, la, al in
                                                   zip(r.lon_deg[idx], r.lat_deg[idx], r.alt_m[idx])])
        ls.altitudemode = simplekml.AltitudeMode.absolute
        level = (f"cruise {r.cruise_altitude_m:.0f} m AMSL" if r.cruise_agl_m is None
                 else f"terrain following {r.cruise_agl_m:.0f} m above ground (achieved: at least "
                      f"{r.clearance_min_m:.0f} m, {r.clearance_mean_m:.0f} m on average)")
        ls.description = f"length {r.length_m / 1000:.0f} km, {r.duration_s / 60:.0f} min, {level}, weight {r.weight:g}"
        ls.style = route_style

    fs = kml.newfolder(name="Radars")
    kinds = sorted({rd.kind.name for rd in radars})
    site_styles = {k: _icon_style(COLORS[k], _ICONS[k], 1.1) for k in kinds}
    orbit_styles = {k: _line_style(COLORS[k], 2.5) for k in kinds}
    for rd in radars:
        what = (f"{rd.kind.label}, instrumented range {rd.range_m / 1000:.0f} km, scan {rd.scan_period_s:g} s, "
                f"availability {rd.availability:g}")
        if isinstance(rd.platform, Orbit):   # the loop it flies, at its altitude
            lat, lon = rd.platform.loop_lat_lon()
            step = max(len(lat) // 200, 1)
            ls = fs.newlinestring(name=f"{rd.name} (orbit)", coords=[
                _ll(lo, la, rd.antenna_alt_m) for lo, la in zip(np.append(lon[::step], lon[-1]),
                                                                 np.append(lat[::step], lat[-1]))])
            ls.altitudemode = simplekml.AltitudeMode.absolute
            ls.description = (f"{what}; airborne, orbit of {rd.platform.length_m / 1000:.0f} km at "
                              f"{rd.antenna_alt_m:.0f} m AMSL, one loop in {rd.platform.period_s / 60:.0f} min")
            ls.style = orbit_styles[rd.kind.name]
            continue
        p = fs.newpoint(name=rd.name, coords=[_ll(rd.lon_deg, rd.lat_deg, rd.antenna_alt_m)])
        p.altitudemode = simplekml.AltitudeMode.absolute
        p.description = f"{what}, antenna {rd.antenna_alt_m:.0f} m AMSL"
        p.style = site_styles[rd.kind.name]

    fc = kml.newfolder(name=f"Coverage at {coverage_label}")
    # at a height above ground the polygons lie on the ground; otherwise at their altitude
    on_ground = coverage_alt_m is None
    cov_alt = 0.0 if on_ground else coverage_alt_m
    cov_styles = {k: _poly_style(COLORS[k], 0.25) for k in kinds}
    for rd, geom in zip(radars, coverage_lonlat):
        polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
        if not polys:
            continue
        holder = fc.newmultigeometry(name=f"{rd.name} coverage") if len(polys) > 1 else fc
        for poly in polys:
            outer = [_ll(x, y, cov_alt) for x, y in np.asarray(poly.exterior.coords)[:, :2]]
            inner = [[_ll(x, y, cov_alt) for x, y in np.asarray(h.coords)[:, :2]] for h in poly.interiors]
            pg = holder.newpolygon(outerboundaryis=outer, innerboundaryis=inner)
            pg.altitudemode = simplekml.AltitudeMode.clamptoground if on_ground else simplekml.AltitudeMode.absolute
            if holder is fc:
                pg.name = f"{rd.name} coverage"
                pg.style = cov_styles[rd.kind.name]
        if holder is not fc:
            holder.style = cov_styles[rd.kind.name]

    fd = kml.newfolder(name=f"First detections (sample of {len(first_detections['lat_deg'])})")
    det_style = _icon_style(COLORS["first_detection"], _ICONS["detection"], 0.6)
    det_style.labelstyle.scale = 0
    fdp = first_detections
    for i in range(len(fdp["lat_deg"])):
        p = fd.newpoint(name=f"c{int(fdp['campaign'][i])} f{int(fdp['flight'][i])}",
                        coords=[_ll(fdp["lon_deg"][i], fdp["lat_deg"][i], fdp["alt_m"][i])])
        p.altitudemode = simplekml.AltitudeMode.absolute
        p.description = (f"first track by {fdp['radar'][i]} at t = {fdp['t_s'][i] / 60:.1f} min after departure, "
                         f"{fdp['alt_m'][i]:.0f} m AMSL")
        p.style = det_style
    return _renumber_ids(kml.kml())


def write_kml(path, **kwargs):
    """Write :func:`build_kml` output to ``path`` (UTF-8)."""
    Path(path).write_text(build_kml(**kwargs), encoding="utf-8")
