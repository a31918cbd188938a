"""Reading and validation: a scenario file (TOML) in, a validated :class:`~sim.scenario.Scenario` out.

Everything a scenario file can say is checked here, once: unknown keys,
missing keys, units, ranges, airport codes. Errors raise
:class:`~sim.scenario.ScenarioError` naming the file and the key path
(``radar[Baghdad PSR].scan_period_s: must be > 0``; by index when a table has no name). The format is specified in
``docs/scenario-format.md`` and explained in ``scenarios/README.md``.
"""
import dataclasses
import re

from geo.airports import load_airports
from geo.coverage import country_names
from sim.record import RecordError, parse_record
from sim.scenario.fields import (_AIRCRAFT_FIELDS, _AIRSPACE_FIELDS, _CRUISE_AGL_SPELLINGS, _CRUISE_AMSL_SPELLINGS,
                                 _DETECTION_FIELDS, _INTERCEPTOR_FIELDS, _LATLON_FIELDS, _ORBIT_FIELDS, _ORDER_FIELDS,
                                 _RADAR_FIELDS, _REFERENCE_FIELDS, _RESPONSE_FIELDS, _ROUTE_FIELDS, _RUN_FIELDS,
                                 _SCENARIO_FIELDS, _TOP, DEFAULT_ANTENNA_HEIGHT_M, _read_table, _suggest)
from sim.scenario.tomlfile import read_toml
from sim.scenario.keys import _quantity, apply_override, table_key
from sim.scenario.limits import (INTERCEPTORS_MAX, LAND_AIRPORTS_MAX, NAME_MAX_CHARS, ORBIT_LOOP_MAX_M,
                                 ORBIT_WAYPOINTS_MAX, RADARS_MAX, ROUTE_WAYPOINTS_MAX, ROUTES_MAX, SOURCES_MAX,
                                 TEXT_MAX_CHARS, TITLE_MAX_CHARS, UNCERTAIN_MAX, _check_radar_equation,
                                 _check_route_reach, _check_spacing)
from sim.scenario.messages import _UNSAFE_TEXT, ScenarioError, _Err
from sim.scenario.types import (AIRCRAFT_MODELS, Aircraft, AirspaceConfig, DetectionConfig, InterceptorSpec, OrbitSpec,
                                PdReference, RadarSpec, ResponseSpec, RouteSpec, RunConfig, Scenario, ScenarioInfo,
                                Waypoint)
from sim.sensors import RADAR_KINDS

__all__ = ["parse_scenario", "load_scenario"]


def _waypoint(value, key, airports):
    if isinstance(value, str):
        code = value.strip().upper()
        if code not in airports:
            raise _Err(key, f"unknown ICAO code {value!r} (known: {', '.join(airports)})")
        a = airports[code]
        return Waypoint(a.lat_deg, a.lon_deg, icao=code, elevation_m=a.elevation_m)
    if isinstance(value, dict):
        v = _read_table(value, _LATLON_FIELDS, key)
        return Waypoint(v["lat"], v["lon"])
    raise _Err(key, "must be an ICAO code or {lat = ..., lon = ...}")


def _table_path(table, t, i):
    """How messages name one of a list of tables: by its name (as ``--set`` selects it, :func:`table_key`),
    else its index."""
    name = t.get("name") if isinstance(t, dict) else None
    ok = isinstance(name, str) and name.strip() and not _UNSAFE_TEXT.search(name) and len(name) <= NAME_MAX_CHARS
    return table_key(table, name) if ok else f"{table}[{i}]"


def _list_of_tables(doc, name):
    value = doc.get(name, [])
    if isinstance(value, dict):
        raise _Err(name, f"must be an array of tables: write [[{name}]]")
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _Err(name, f"must be an array of tables: write [[{name}]]")
    return value


def _check_sizes(doc):
    """The counts and lengths of :data:`ROUTES_MAX` and its siblings, checked on the raw document before
    any of it is read further (no waypoint looked up, no table built): a file of 50,000 waypoints or 5,000
    routes is refused at once. A value of the wrong type is left to the checks that follow."""
    def count(value, limit, key, what):
        if isinstance(value, (list, dict)) and len(value) > limit:
            raise _Err(key, f"{len(value):,} {what}: at most {limit:,} (a limit of the format, "
                            "docs/scenario-format.md)")

    def text(value, limit, key):
        if isinstance(value, str) and len(value) > limit:
            raise _Err(key, f"{len(value):,} characters: at most {limit:,}")

    sc = doc.get("scenario")
    if isinstance(sc, dict):
        text(sc.get("name"), NAME_MAX_CHARS, "scenario.name")
        text(sc.get("title"), TITLE_MAX_CHARS, "scenario.title")
        text(sc.get("description"), TEXT_MAX_CHARS, "scenario.description")
        sources = sc.get("sources")
        count(sources, SOURCES_MAX, "scenario.sources", "sources")
        for i, v in enumerate(sources if isinstance(sources, list) else ()):
            text(v, TEXT_MAX_CHARS, f"scenario.sources[{i}]")
    for table, limit, what in (("route", ROUTES_MAX, "routes"), ("radar", RADARS_MAX, "radars"),
                               ("interceptor", INTERCEPTORS_MAX, "interceptors")):
        tables = doc.get(table)
        count(tables, limit, table, what)
        for i, t in enumerate(tables if isinstance(tables, list) else ()):
            if not isinstance(t, dict):
                continue
            p = _table_path(table, t, i)
            text(t.get("name"), NAME_MAX_CHARS, f"{p}.name")
            text(t.get("notes"), TEXT_MAX_CHARS, f"{p}.notes")
            count(t.get("waypoints"), ROUTE_WAYPOINTS_MAX, f"{p}.waypoints", "waypoints")
            if isinstance(t.get("orbit"), dict):
                count(t["orbit"].get("waypoints"), ORBIT_WAYPOINTS_MAX, f"{p}.orbit.waypoints", "waypoints")
    response = doc.get("response")
    if isinstance(response, dict) and isinstance(response.get("order_to_land"), dict):
        count(response["order_to_land"].get("airports"), LAND_AIRPORTS_MAX, "response.order_to_land.airports",
              "airports")
    count(doc.get("uncertainty"), UNCERTAIN_MAX, "uncertainty", "uncertain inputs")


def _build(doc):
    if not isinstance(doc, dict):
        raise _Err("", "not a TOML table")
    for k in doc:
        if k not in _TOP:
            raise _Err(k, "unknown table" + _suggest(k, list(_TOP)))
    _check_sizes(doc)
    for name in ("scenario", "run"):
        if name not in doc:
            raise _Err(name, f"missing table [{name}]")
    s = _read_table(doc["scenario"], _SCENARIO_FIELDS, "scenario")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", s["name"]):
        raise _Err("scenario.name", "use letters, digits, '.', '_' and '-' only (it names output files)")
    info = ScenarioInfo(s["name"], s["title"], s["sources"])
    r = _read_table(doc["run"], _RUN_FIELDS, "run")
    run = RunConfig(r["campaigns"], r["flights"], r["seed"], r["flights_per_day"], r["route_choice"])

    a = _read_table(doc.get("aircraft", {}), _AIRCRAFT_FIELDS, "aircraft")
    base = dict(AIRCRAFT_MODELS[a["model"]])
    _one_cruise_level(doc.get("aircraft", {}), "aircraft")
    si_suffix = {"speed": "_mps", "altitude": "_m", "length": "_m", "rate": "_mps", "area": "_m2", "float": ""}
    for f in _AIRCRAFT_FIELDS[1:-1]:    # the keys given override the model's values
        if a[f.base] is not None:
            base[f.base + si_suffix[f.kind]] = a[f.base]
    aircraft = Aircraft(model=a["model"], transponder_policy=a["transponder_policy"], **base)

    airports = load_airports()
    routes = []
    route_tables = _list_of_tables(doc, "route")
    if not route_tables:
        raise _Err("route", "at least one [[route]] is required")
    for i, t in enumerate(route_tables):
        p = _table_path("route", t, i)
        v = _read_table(t, _ROUTE_FIELDS, p)
        wps = v["waypoints"]
        if not isinstance(wps, list):
            raise _Err(f"{p}.waypoints", "must be a list")
        if len(wps) < 2:
            raise _Err(f"{p}.waypoints", f"needs at least two waypoints, got {len(wps)}")
        points = tuple(_waypoint(w, f"{p}.waypoints[{j}]", airports) for j, w in enumerate(wps))
        for j in range(1, len(points)):
            if (points[j].lat_deg, points[j].lon_deg) == (points[j - 1].lat_deg, points[j - 1].lon_deg):
                raise _Err(f"{p}.waypoints[{j}]", "repeats the previous waypoint")
        _check_spacing([(w.lat_deg, w.lon_deg) for w in points], f"{p}.waypoints")
        _one_cruise_level(t, p)
        routes.append(RouteSpec(v["name"], v["weight"], points, v["cross_track_sigma"], v["cruise_altitude"],
                                v["cruise_altitude_agl"]))
        _check_route_reach(routes[-1], aircraft, p)
    _unique([r.name for r in routes], "route")
    if sum(r.weight for r in routes) <= 0:
        raise _Err("route[0].weight", "the route weights must not all be 0")

    radars = []
    for i, t in enumerate(_list_of_tables(doc, "radar")):
        p = _table_path("radar", t, i)
        v = _read_table(t, _RADAR_FIELDS, p)
        orbit = _platform(t, v, p)
        kind = RADAR_KINDS[v["kind"]]
        ref = None
        if not kind.skin_return:
            for k in ("reference", "swerling"):
                if v[k] is not None:
                    raise _Err(f"{p}.{k}", "applies to primary radars only (a secondary radar takes pd)")
            if v["pd"] is None:
                raise _Err(f"{p}.pd", "missing (the per-scan reply probability of a secondary radar)")
        elif (v["pd"] is None) == (v["reference"] is None):
            raise _Err(f"{p}.pd", "give either pd or reference = {range_km, rcs_m2, pd}, not both or neither")
        if v["reference"] is not None:
            rv = _read_table(v["reference"], _REFERENCE_FIELDS, f"{p}.reference")
            ref = PdReference(rv["range"], rv["rcs"], rv["pd"])
            if v["pfa"] is None:
                raise _Err(f"{p}.pfa", "missing (required with reference)")
            if v["swerling"] is None:
                raise _Err(f"{p}.swerling", "missing (required with reference)")
            if not ref.pd > v["pfa"]:
                raise _Err(f"{p}.reference.pd", "must be greater than pfa")
        else:
            for k in ("pfa", "swerling"):
                if v[k] is not None:
                    raise _Err(f"{p}.{k}", "only meaningful with reference")
        site = orbit is None
        radars.append(RadarSpec(
            name=v["name"], lat_deg=v["lat"], lon_deg=v["lon"],
            antenna_height_m=(DEFAULT_ANTENNA_HEIGHT_M if v["antenna_height"] is None else v["antenna_height"])
            if site else None,
            elevation_m=v["elevation"], kind=kind, range_m=v["range"],
            scan_period_s=v["scan_period"], availability=v["availability"], pd=v["pd"],
            reference=ref, pfa=v["pfa"] if v["pfa"] is not None else 1e-6,
            swerling=v["swerling"] if v["swerling"] is not None else 1, orbit=orbit,
            mean_outage_s=v["mean_outage"],
        ))
        if ref is not None:
            _check_radar_equation(radars[-1], aircraft.rcs_m2, p)
    _unique([r.name for r in radars], "radar")

    d = _read_table(doc.get("detection", {}), _DETECTION_FIELDS, "detection")
    if d["track_m"] > d["track_n"]:
        raise _Err("detection.track_m", f"must be <= track_n ({d['track_n']})")
    det = DetectionConfig(d["track_m"], d["track_n"], d["terrain"], d["refraction_k"], d["mean_outage"])
    radars = [r if r.mean_outage_s is not None else dataclasses.replace(r, mean_outage_s=det.mean_outage_s)
              for r in radars]

    sp = _read_table(doc.get("airspace", {}), _AIRSPACE_FIELDS, "airspace")
    countries = country_names()
    code = sp["country"].strip().upper()
    if code not in countries:
        raise _Err("airspace.country", f"unknown country {sp['country']!r}: give an ISO 3166-1 alpha-3 code "
                                       f"of the packaged borders ({', '.join(sorted(countries))})")
    airspace = AirspaceConfig(code, countries[code])
    response, interceptors = _response(doc, airports)
    return info, run, aircraft, tuple(routes), tuple(radars), det, airspace, response, interceptors


def _response(doc, airports):
    """``[response]`` and ``[[interceptor]]`` (both optional)."""
    response = None
    if "response" in doc:
        r = _read_table(doc["response"], _RESPONSE_FIELDS, "response")
        land, compliance = (), 0.0
        if r["order_to_land"] is not None:
            o = _read_table(r["order_to_land"], _ORDER_FIELDS, "response.order_to_land")
            codes = o["airports"]
            if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
                raise _Err("response.order_to_land.airports", "must be a non-empty list of ICAO codes")
            land = tuple(_waypoint(c, f"response.order_to_land.airports[{i}]", airports) for i, c in enumerate(codes))
            compliance = o["compliance"]
        response = ResponseSpec(r["decision_delay"], land, compliance, r["intercept_compliance"], r["track_coast"],
                                r["airspace_gap"], r["will"])
    interceptors = []
    for i, t in enumerate(_list_of_tables(doc, "interceptor")):
        p = _table_path("interceptor", t, i)
        v = _read_table(t, _INTERCEPTOR_FIELDS, p)
        base = _waypoint(v["base"], f"{p}.base", airports)
        interceptors.append(InterceptorSpec(v["name"], base.lat_deg, base.lon_deg, v["ready"], v["speed"]))
    _unique([x.name for x in interceptors], "interceptor")
    if interceptors and response is None:
        response = ResponseSpec(0.0, (), 0.0)        # interceptors act on a decision taken at once (defaults)
    return response, tuple(interceptors)


def _platform(table, v, path):
    """A radar's platform: a fixed site (lat, lon) or an orbit; returns the OrbitSpec or None."""
    if v["orbit"] is None:
        for k in ("lat", "lon"):
            if v[k] is None:
                raise _Err(f"{path}.{k}", "missing (a radar needs lat and lon, or an orbit = {...})")
        return None
    for k in table:
        if _quantity(k) in ("antenna_height", "elevation") or k in ("lat", "lon"):
            raise _Err(f"{path}.{k}", "not with orbit: an orbiting radar's position is its orbit's "
                                      "(waypoints, altitude)")
    o = _read_table(v["orbit"], _ORBIT_FIELDS, f"{path}.orbit")
    wps = o["waypoints"]
    if not isinstance(wps, list) or not wps:
        raise _Err(f"{path}.orbit.waypoints", "must be a non-empty list of {lat = ..., lon = ...}")
    points = []
    for j, w in enumerate(wps):
        key = f"{path}.orbit.waypoints[{j}]"
        if not isinstance(w, dict):
            raise _Err(key, "must be {lat = ..., lon = ...}")
        pv = _read_table(w, _LATLON_FIELDS, key)
        if points and (pv["lat"], pv["lon"]) == points[-1]:
            raise _Err(key, "repeats the previous waypoint")
        points.append((pv["lat"], pv["lon"]))
    if len(points) > 1 and points[0] == points[-1]:
        raise _Err(f"{path}.orbit.waypoints[{len(points) - 1}]",
                   "repeats the first waypoint (the loop closes by itself)")
    if len(points) > 1:
        loop_m = float(_check_spacing([*points, points[0]], f"{path}.orbit.waypoints").sum())
        if loop_m > ORBIT_LOOP_MAX_M:
            raise _Err(f"{path}.orbit.waypoints", f"the loop is {loop_m / 1000:,.0f} km long: at most "
                                                  f"{ORBIT_LOOP_MAX_M / 1000:,.0f} km")
    return OrbitSpec(tuple(points), o["altitude"], o["speed"])


def _one_cruise_level(table, path):
    """A cruise level is either above mean sea level or above ground, not both."""
    amsl = [k for k in table if k in _CRUISE_AMSL_SPELLINGS]
    agl = [k for k in table if k in _CRUISE_AGL_SPELLINGS]
    if amsl and agl:
        raise _Err(f"{path}.{agl[0]}", f"give either {amsl[0]} (above mean sea level) or {agl[0]} "
                                       "(above ground), not both")


def _unique(names, table):
    seen = set()
    for i, n in enumerate(names):
        if n in seen:
            raise _Err(f"{table}[{i}].name", f"duplicate name {n!r}")
        seen.add(n)


def parse_scenario(doc, source="<scenario>", overrides=()):
    """Validate a scenario given as a parsed TOML dict; return a :class:`Scenario`.

    ``overrides`` are the ``KEY=VALUE`` texts already applied to ``doc``,
    recorded in :attr:`Scenario.overrides` (the products state them).
    """
    try:
        info, run, aircraft, routes, radars, det, airspace, response, interceptors = _build(doc)
        record = parse_record(doc.get("record"))
    except (_Err, RecordError) as e:
        raise ScenarioError(source, e.key, e.message) from None
    return Scenario(str(source), info, run, aircraft, routes, radars, det, airspace, _uncertainty(doc, source),
                    response, interceptors, record=record, raw=doc, overrides=tuple(str(t) for t in overrides))


def _uncertainty(doc, source):
    """``[uncertainty] "KEY" = [low, high]``: the table's form only.

    The ranges themselves are checked where they are used, against the
    scenario as it then is (:func:`uncertainty_variants`, called by a
    sensitivity analysis): a what-if such as ``--set detection.track_n=3``
    is never refused because of a range (``track_m`` up to 4) that only a
    sensitivity analysis would use.
    """
    table = doc.get("uncertainty", {})
    if not isinstance(table, dict):
        raise ScenarioError(source, "uncertainty", 'must be a table of "KEY" = [low, high]')
    out = []
    for key, pair in table.items():
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in pair)):
            raise ScenarioError(source, f"uncertainty.{key}", "must be [low, high]")
        out.append((key, pair[0], pair[1]))
    return tuple(out)


def load_scenario(path, overrides=()):
    """Load, override (``["aircraft.rcs_m2=10", ...]``) and validate a scenario file."""
    doc = read_toml(path)
    for text in overrides:
        apply_override(doc, text, source=path)
    return parse_scenario(doc, source=path, overrides=overrides)
