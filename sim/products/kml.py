"""KML for Google Earth (through simplekml): routes, radar sites, coverage, first detections, interceptors.

Altitudes are absolute (above mean sea level), as everywhere in
airpicture. The document validates against the OGC KML 2.2 schema
(OGC 07-147r2, ``ogckml22.xsd``; tested): simplekml writes a container's
styles before its name and a point's ``altitudeMode`` after its
coordinates, and numbers ids with a process-wide counter, so the text is
put in the schema's element order and its ids renumbered ``id1``,
``id2``, ... in document order (an XML ID is an NCName: not a bare
number), which also makes the same inputs give the same bytes.

Names are text in every viewer. Google Earth shows a ``description`` as
HTML, so every description (and snippet) is HTML-escaped, then
XML-escaped, in one place (:func:`_descriptions_as_text`): a radar named
``<img src=x onerror=alert(1)>`` reads as those characters. A ``name``
stays plain text (the label in the 3-D view, the entry in the Places
panel: HTML-escaping it would show ``&amp;`` there), but a balloon
template's ``$[name]``, Google Earth's default balloon's among them, is
replaced inside the balloon's HTML, and nothing documents that the name
is escaped there (not checked in Google Earth itself); so no balloon
shows ``$[name]``: every feature's is ours (:data:`BALLOON_TEXT`:
``$[description]`` only), and a feature's description begins with its
name, escaped like the rest. Folders carry no description and only fixed
words and numbers in their names. simplekml's own escaping is off
(``parsetext``): it passes a ``<![CDATA[`` in a text through as markup
(an unclosed one fails the whole document, a closed one becomes live
HTML in a description); each name and description is XML-escaped here
(:func:`_xml_text`) instead.
"""
import html
from pathlib import Path
from xml.dom import minidom
from xml.sax.saxutils import escape as _xml_escape

import numpy as np
import shapely
import simplekml

from sim.platforms import Orbit
from sim.products.coverage import OFF_TEXT, availability_text, radar_state
from sim.products.export import ROUTE_EXPORT_STEP_S
from sim.products.style import COLORS, kml_color

__all__ = ["BALLOON_TEXT", "build_kml", "write_kml"]

#: Every feature's balloon (BalloonStyle text): its description only, never ``$[name]`` (which Google
#: Earth's default balloon puts into HTML as it is); the description begins with the name, as text.
BALLOON_TEXT = "$[description]"
#: The elements whose text Google Earth shows as HTML: HTML-escaped (:func:`_descriptions_as_text`).
_HTML_ELEMENTS = ("description", "Snippet", "snippet")

_ICONS = {
    "primary": "http://maps.google.com/mapfiles/kml/shapes/triangle.png",
    "secondary": "http://maps.google.com/mapfiles/kml/shapes/square.png",
    "detection": "http://maps.google.com/mapfiles/kml/shapes/cross-hairs.png",
    "interceptor": "http://maps.google.com/mapfiles/kml/shapes/airports.png",
    "intercept": "http://maps.google.com/mapfiles/kml/shapes/star.png",
}


def _xml_text(text):
    """``text`` as XML character data (simplekml writes names and descriptions as given: ``parsetext`` off)."""
    return _xml_escape(str(text))


def _describe(feature, name, text):
    """Name ``feature`` and describe it: the description (the balloon, :data:`BALLOON_TEXT`) begins with the
    name. Both as text (XML-escaped here; the description HTML-escaped by :func:`_descriptions_as_text`)."""
    feature.name = _xml_text(name)
    feature.description = _xml_text(f"{name}: {text}")


def _balloon(style):
    style.balloonstyle.text = BALLOON_TEXT
    return style


def _ll(lon, lat, alt):
    return (round(float(lon), 5), round(float(lat), 5), round(float(alt), 1))


def _line_style(color, width, alpha=1.0):
    s = _balloon(simplekml.Style())
    s.linestyle.color = kml_color(color, alpha)
    s.linestyle.width = width
    return s


def _poly_style(color, fill_alpha, width=1.5):
    s = _balloon(simplekml.Style())
    s.polystyle.color = kml_color(color, fill_alpha)
    s.linestyle.color = kml_color(color, 1.0)
    s.linestyle.width = width
    return s


def _icon_style(color, icon, scale):
    s = _balloon(simplekml.Style())
    s.iconstyle.color = kml_color(color)
    s.iconstyle.icon.href = icon
    s.iconstyle.scale = scale
    return s


#: Child elements in the order of ogckml22.xsd (AbstractFeatureType's sequence, then the container's
#: features or the placemark's geometry, which keep their order).
_FEATURE_ORDER = ("name", "visibility", "open", "atom:author", "atom:link", "address", "xal:AddressDetails",
                  "phoneNumber", "Snippet", "snippet", "description", "Camera", "LookAt", "TimeStamp", "TimeSpan",
                  "styleUrl", "Style", "StyleMap", "Region", "Metadata", "ExtendedData")
#: The geometries' sequences (PointType, LineStringType, LinearRingType, PolygonType).
_GEOMETRY_ORDER = ("extrude", "tessellate", "altitudeMode", "gx:altitudeMode", "coordinates", "outerBoundaryIs",
                   "innerBoundaryIs")
_CHILD_ORDER = {"Document": _FEATURE_ORDER, "Folder": _FEATURE_ORDER, "Placemark": _FEATURE_ORDER,
                "Point": _GEOMETRY_ORDER, "LineString": _GEOMETRY_ORDER, "LinearRing": _GEOMETRY_ORDER,
                "Polygon": _GEOMETRY_ORDER}


def _strip_blank_text(node):
    for child in list(node.childNodes):
        if child.nodeType == child.TEXT_NODE and not child.data.strip():
            node.removeChild(child)
        elif child.nodeType == child.ELEMENT_NODE:
            _strip_blank_text(child)


def _one_ring_per_boundary(doc):
    """A polygon's holes, one ``innerBoundaryIs`` each (the schema's BoundaryType holds one LinearRing;
    simplekml puts all of them in one)."""
    for inner in doc.getElementsByTagName("innerBoundaryIs"):
        rings = [c for c in inner.childNodes if c.nodeType == c.ELEMENT_NODE]
        after = inner.nextSibling
        for ring in rings[1:]:
            holder = doc.createElement("innerBoundaryIs")
            holder.appendChild(ring)                 # (moves it out of the first boundary)
            inner.parentNode.insertBefore(holder, after)


def _descriptions_as_text(doc):
    """Every description's and snippet's text HTML-escaped (``&``, ``<``, ``>``, both quotes), in place: what
    Google Earth renders as HTML shows the characters as they are (the XML writer escapes them once more)."""
    for tag in _HTML_ELEMENTS:
        for el in doc.getElementsByTagName(tag):
            for node in el.childNodes:
                if node.nodeType in (node.TEXT_NODE, node.CDATA_SECTION_NODE):
                    node.data = html.escape(node.data, quote=True)


def _schema_conform(doc):
    """A parsed KML document in the schema's element order, ids renumbered ``id1``, ``id2``, ... (``#idN``
    refs too), as text."""
    _strip_blank_text(doc.documentElement)
    _one_ring_per_boundary(doc)
    elements = doc.getElementsByTagName("*")            # document order
    ids = {}
    for el in elements:
        if el.hasAttribute("id"):
            el.setAttribute("id", ids.setdefault(el.getAttribute("id"), f"id{len(ids) + 1}"))
    for el in elements:
        if el.tagName == "styleUrl" and el.firstChild is not None and el.firstChild.data.startswith("#"):
            el.firstChild.data = "#" + ids.get(el.firstChild.data[1:], el.firstChild.data[1:])
        order = _CHILD_ORDER.get(el.tagName)
        if order is not None:
            children = [c for c in el.childNodes if c.nodeType == c.ELEMENT_NODE]
            rank = {c: order.index(c.tagName) if c.tagName in order else len(order) for c in children}
            for c in sorted(children, key=rank.__getitem__):      # stable: equal ranks keep their order
                el.appendChild(c)                               # (moves it to the end)
    return doc.toprettyxml(indent="  ", encoding="UTF-8").decode("utf-8")


def build_kml(*, title, description, routes, radars, coverage_lonlat, coverage_alt_m, coverage_label, first_detections,
              interceptors=(), intercepts=None, step_s=ROUTE_EXPORT_STEP_S):
    """The KML document as text.

    Parameters
    ----------
    title, description : str
    routes : sequence of sim.routes.RouteTrack
        Nominal tracks, drawn as 3-D LineStrings sampled every ``step_s``.
    radars : sequence of sim.detection.RadarModel
        As run: a radar switched off (availability 0) has its coverage in a
        folder of its own, hidden, grey and named off (it covers nothing); a
        radar up part of the time has its availability in its coverage's name.
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
    interceptors : sequence of sim.scenario.InterceptorSpec
        Interceptor bases (``name``, ``lat_deg``, ``lon_deg``, ``ready_s``,
        ``speed_mps``), drawn on the ground; none: no folder.
    intercepts : dict of arrays, shape (I,), or None
        Where a sample of flights meets its earliest interceptor: the keys
        of ``first_detections`` but ``radar`` (``alt_m``: the flight's
        altitude there; ``t_s``: when, after departure). None or empty: no
        folder.
    """
    kml = simplekml.Kml()
    kml.parsetext(parse=False)                  # names and descriptions are escaped here (see the module)
    _describe(kml.document, title, description)
    kml.document.style = _balloon(simplekml.Style())

    # folders: no description, names of fixed words and numbers (no balloon shows a scenario's text raw)
    fr = kml.newfolder(name="Nominal routes")
    route_style = _line_style(COLORS["route"], 3.0)
    for r in routes:
        step = max(int(round(step_s / r.step_s)), 1)
        idx = np.unique(np.concatenate([np.arange(0, len(r.t_s), step), [len(r.t_s) - 1]]))
        ls = fr.newlinestring(coords=[_ll(lo, la, al) for lo, la, al in
                                      zip(r.lon_deg[idx], r.lat_deg[idx], r.alt_m[idx])])
        ls.altitudemode = simplekml.AltitudeMode.absolute
        level = (f"cruise {r.cruise_altitude_m:.0f} m AMSL" if r.cruise_agl_m is None
                 else f"terrain following {r.cruise_agl_m:.0f} m above ground (achieved: at least "
                      f"{r.clearance_min_m:.0f} m, {r.clearance_mean_m:.0f} m on average)")
        _describe(ls, r.name, f"length {r.length_m / 1000:.0f} km, {r.duration_s / 60:.0f} min, {level}, "
                              f"weight {r.weight:g}")
        ls.style = route_style

    fs = kml.newfolder(name="Radars")
    kinds = sorted({rd.kind.name for rd in radars})
    site_styles = {k: _icon_style(COLORS[k], _ICONS[k], 1.1) for k in kinds}
    orbit_styles = {k: _line_style(COLORS[k], 2.5) for k in kinds}
    off_sites = {k: _icon_style(COLORS["off"], _ICONS[k], 0.9) for k in kinds}     # a radar switched off: grey
    off_coverage = _poly_style(COLORS["off"], 0.0, width=1.0)           # outlined only: it covers nothing
    for rd in radars:
        what = (f"{rd.kind.label}, instrumented range {rd.range_m / 1000:.0f} km, scan {rd.scan_period_s:g} s, "
                f"availability {rd.availability:g}")
        if isinstance(rd.platform, Orbit):   # the loop it flies, at its altitude
            lat, lon = rd.platform.loop_lat_lon()
            step = max(len(lat) // 200, 1)
            ls = fs.newlinestring(coords=[
                _ll(lo, la, rd.antenna_alt_m) for lo, la in zip(np.append(lon[::step], lon[-1]),
                                                                 np.append(lat[::step], lat[-1]))])
            ls.altitudemode = simplekml.AltitudeMode.absolute
            _describe(ls, f"{rd.name} (orbit)", f"{what}; airborne, orbit of {rd.platform.length_m / 1000:.0f} km at "
                                                f"{rd.antenna_alt_m:.0f} m AMSL, one loop in "
                                                f"{rd.platform.period_s / 60:.0f} min")
            ls.style = orbit_styles[rd.kind.name]
            continue
        p = fs.newpoint(coords=[_ll(rd.lon_deg, rd.lat_deg, rd.antenna_alt_m)])
        p.altitudemode = simplekml.AltitudeMode.absolute
        _describe(p, rd.name, f"{what}, antenna {rd.antenna_alt_m:.0f} m AMSL"
                              + (f"; {OFF_TEXT}: it sees nothing" if radar_state(rd.availability) == "off" else ""))
        p.style = (site_styles if radar_state(rd.availability) != "off" else off_sites)[rd.kind.name]

    fc = kml.newfolder(name=_xml_text(f"Coverage at {coverage_label}"))
    off = [i for i, rd in enumerate(radars) if radar_state(rd.availability) == "off"]
    # a radar switched off covers nothing: its coverage in a folder of its own, hidden, outlined grey
    fo = kml.newfolder(name=_xml_text(f"Radars {OFF_TEXT}: coverage they would have at {coverage_label}")) \
        if off else None
    if fo is not None:
        fo.visibility = 0
    # at a height above ground the polygons lie on the ground; otherwise at their altitude
    on_ground = coverage_alt_m is None
    cov_alt = 0.0 if on_ground else coverage_alt_m
    cov_styles = {k: _poly_style(COLORS[k], 0.25) for k in kinds}
    for j, (rd, geom) in enumerate(zip(radars, coverage_lonlat)):
        polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
        if not polys:
            continue
        if j in off:
            folder, style = fo, off_coverage
            name = f"{rd.name} coverage: {OFF_TEXT}"
            covers = f"switched off, it covers nothing; where it could detect the aircraft at {coverage_label}"
        else:
            folder, style = fc, cov_styles[rd.kind.name]
            up = availability_text(rd.availability)
            name = f"{rd.name} coverage" + (f" ({up})" if up else "")
            covers = f"where it can detect the aircraft at {coverage_label}" + (
                f", when up ({up} of the time)" if up else "")
        holder = folder.newmultigeometry() if len(polys) > 1 else folder
        if holder is not folder:
            _describe(holder, name, covers)
        for poly in polys:
            outer = [_ll(x, y, cov_alt) for x, y in np.asarray(poly.exterior.coords)[:, :2]]
            inner = [[_ll(x, y, cov_alt) for x, y in np.asarray(h.coords)[:, :2]] for h in poly.interiors]
            pg = holder.newpolygon(outerboundaryis=outer, innerboundaryis=inner)
            pg.altitudemode = simplekml.AltitudeMode.clamptoground if on_ground else simplekml.AltitudeMode.absolute
            if holder is folder:
                _describe(pg, name, covers)
                pg.style = style
        if holder is not folder:
            holder.style = style

    fd = kml.newfolder(name=f"First detections (sample of {len(first_detections['lat_deg'])})")
    det_style = _icon_style(COLORS["first_detection"], _ICONS["detection"], 0.6)
    det_style.labelstyle.scale = 0
    fdp = first_detections
    for i in range(len(fdp["lat_deg"])):
        p = fd.newpoint(coords=[_ll(fdp["lon_deg"][i], fdp["lat_deg"][i], fdp["alt_m"][i])])
        p.altitudemode = simplekml.AltitudeMode.absolute
        _describe(p, f"c{int(fdp['campaign'][i])} f{int(fdp['flight'][i])}",
                  f"first track by {fdp['radar'][i]} at t = {fdp['t_s'][i] / 60:.1f} min after departure, "
                  f"{fdp['alt_m'][i]:.0f} m AMSL")
        p.style = det_style

    if len(interceptors):
        fi = kml.newfolder(name="Interceptor bases")
        base_style = _icon_style(COLORS["route"], _ICONS["interceptor"], 1.2)
        for itc in interceptors:
            p = fi.newpoint(coords=[_ll(itc.lon_deg, itc.lat_deg, 0.0)])
            p.altitudemode = simplekml.AltitudeMode.clamptoground
            _describe(p, itc.name, f"interceptor base: airborne {itc.ready_s / 60:.0f} min after the decision, "
                                   f"then {itc.speed_mps * 3.6:.0f} km/h straight to the meeting point")
            p.style = base_style
    if intercepts is not None and len(intercepts["lat_deg"]):
        fx = kml.newfolder(name=f"Earliest intercepts (sample of {len(intercepts['lat_deg'])})")
        hit_style = _icon_style(COLORS["route"], _ICONS["intercept"], 0.6)
        hit_style.labelstyle.scale = 0
        for i in range(len(intercepts["lat_deg"])):
            p = fx.newpoint(coords=[_ll(intercepts["lon_deg"][i], intercepts["lat_deg"][i], intercepts["alt_m"][i])])
            p.altitudemode = simplekml.AltitudeMode.absolute
            _describe(p, f"c{int(intercepts['campaign'][i])} f{int(intercepts['flight'][i])}",
                      f"earliest interceptor meets the flight at t = {intercepts['t_s'][i] / 60:.1f} min after "
                      f"departure, {intercepts['alt_m'][i]:.0f} m AMSL")
            p.style = hit_style
    doc = minidom.parseString(kml.kml().encode("utf-8"))
    _descriptions_as_text(doc)
    return _schema_conform(doc)


def write_kml(path, **kwargs):
    """Write :func:`build_kml` output to ``path`` (UTF-8)."""
    Path(path).write_text(build_kml(**kwargs), encoding="utf-8")
