"""Scenario files: TOML in, validated frozen dataclasses in SI out.

Everything a scenario file can say is checked here, once: unknown keys,
missing keys, units, ranges, airport codes. Errors raise
:class:`ScenarioError` naming the file and the key path
(``radar[Baghdad PSR].scan_period_s: must be > 0``; by index when a table has no name). The format is specified in
``docs/scenario-format.md`` and explained in ``scenarios/README.md``.
"""
import copy
import dataclasses
import difflib
import json
import math
import os
import re
import stat
import sys
import tomllib
import unicodedata
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np

from geo.airports import load_airports
from geo.coverage import country_names
from geo.geodesy import leg_geometry
from geo.units import FT_M, KMH_MPS, UNITS, to_si
from sim.aircraft import IL76TD_FUEL, IL76TD_LOW_LEVEL_SPEED_MPS, FuelModel, fuel_per_m_ratio
from sim.radar import pd_from_reference, required_snr_db
from sim.record import RecordError, parse_record
from sim.routes import route_profile, route_time_and_fuel
from sim.sensors import RADAR_KINDS, RadarKind

__all__ = [
    "ScenarioError",
    "SHIPPED_PACKAGE",
    "shipped_dir",
    "shown_source",
    "ScenarioInfo",
    "RunConfig",
    "Aircraft",
    "Waypoint",
    "RouteSpec",
    "PdReference",
    "OrbitSpec",
    "ResponseSpec",
    "InterceptorSpec",
    "RadarSpec",
    "DetectionConfig",
    "AirspaceConfig",
    "Scenario",
    "AIRCRAFT_MODELS",
    "DEFAULT_AIRSPACE",
    "load_scenario",
    "parse_scenario",
    "apply_override",
    "parse_override_value",
    "override_text",
    "override_key_value",
    "KeySegment",
    "read_key",
    "split_override",
    "table_key",
    "with_overrides",
    "with_cruise_level",
    "uncertainty_variants",
    "SEED_MAX",
    "CAMPAIGNS_MAX",
    "FLIGHTS_MAX",
    "shown_text",
    "text_refusal",
]


#: The largest seed (run.seed, --seed): seeds are 0 to 2^63-1, a signed 64-bit integer's range.
SEED_MAX = 2**63 - 1
#: The largest route weight: weights are relative (a route's share is its weight over the sum), and bounded
#: so that the sum of any number of them stays finite.
ROUTE_WEIGHT_MAX = 1e6
#: The largest radar cross-section accepted (aircraft and a radar's reference) [m2]: a large ship is about
#: 1e4 m2; bounded so that the radar equation's ratios stay finite.
RCS_MAX_M2 = 1e6

# --- limits (docs/scenario-format.md, "Limits"): from the physics first, then from the machine -------------
#: The smallest radar cross-section accepted [m2]: an insect (Skolnik, Introduction to Radar Systems, 3rd ed.,
#: table 2.1: 1e-5 m2); with :data:`RCS_MAX_M2` every RCS ratio of the radar equation is within 1e11.
RCS_MIN_M2 = 1e-5
#: The Il-76TD's range with a typical payload [m]: "28-60 t over 3,600-4,200 km, depending on the version"
#: (the Il-76 article of the Russian-language encyclopedias); the top of that span, so that no flight an
#: Il-76TD can make is refused. A route longer than ``[aircraft] range_km`` is refused.
IL76TD_RANGE_M = 4_200_000.0
#: The longest ``[aircraft] range_km`` [m]: half the Earth's circumference (no non-stop route is longer).
AIRCRAFT_RANGE_MAX_M = 20_000_000.0
#: The longest flight time of a route [s]: no transport flies a day without refuelling; a route is sampled
#: every second (:data:`sim.routes.ROUTE_STEP_S`), so this also bounds its arrays.
FLIGHT_TIME_MAX_S = 86_400.0
#: Fewest metres between consecutive waypoints (routes and orbits): closer points are a typing slip or a
#: generated zig-zag, never a flight plan (a route's time grid is 217 m per second at cruise).
WAYPOINT_SPACING_MIN_M = 1_000.0
#: Most waypoints of one route (a flight plan across a region has tens; a zig-zag of thousands is refused).
ROUTE_WAYPOINTS_MAX = 100
#: Most routes of a scenario: each route's tables are built against every radar.
ROUTES_MAX = 50
#: Most radars of a scenario: each radar's tables are built along every route.
RADARS_MAX = 200
#: Most interceptors of a scenario: each is tried for every tracked flight.
INTERCEPTORS_MAX = 50
#: Most waypoints of an orbit (an airborne radar's racetrack has two to four).
ORBIT_WAYPOINTS_MAX = 20
#: The longest orbit loop [m]: an airborne radar flies its loop for hours around one station (three hours at
#: 650 km/h); its coverage is evaluated from points every few km around it.
ORBIT_LOOP_MAX_M = 2_000_000.0
#: Most airports of an order to land.
LAND_AIRPORTS_MAX = 20
#: Most ``[uncertainty]`` entries: each is checked as two scenarios and run twice by a sensitivity analysis.
UNCERTAIN_MAX = 30
#: Most ``[scenario] sources``.
SOURCES_MAX = 50
#: Longest names [characters]: scenario, route, radar and interceptor names are labels on maps, in tables
#: and in ``--set`` keys.
NAME_MAX_CHARS = 80
#: Longest ``[scenario] title`` [characters]: a heading on every product.
TITLE_MAX_CHARS = 200
#: Longest free text [characters]: ``[scenario] description``, each of ``sources``, a radar's ``notes``.
TEXT_MAX_CHARS = 2_000
#: The shortest scan period [s]: the fastest surveillance radars turn at 60 rpm, and the detection tables
#: are sampled every second (:data:`sim.tables.TABLE_STEP_S`).
SCAN_PERIOD_MIN_S = 1.0
#: The shortest reference range [m]: inside a radar's blind zone (a 1 us pulse blinds it to 150 m).
REFERENCE_RANGE_MIN_M = 100.0
#: The lowest aircraft speed [m/s] (36 km/h): slower than any aeroplane flies.
SPEED_MIN_MPS = 10.0
#: The lowest climb or descent rate [m/s] (19.685 ft/min): slower than any aircraft climbs. A ``_fpm`` key's
#: message states it as ``>= 19.6851 fpm`` (bounds are stated rounded inwards: :func:`_bound_text`).
RATE_MIN_MPS = 0.1
#: The most campaigns of a run (``run.campaigns``, and ``--campaigns`` of every command).
CAMPAIGNS_MAX = 10_000_000
#: The most flights of a campaign (``run.flights``, and ``--flights`` of every command): a campaign runs in
#: one chunk, never split, so this also bounds a chunk's memory (about 0.1 GB at this limit, sim/cost.py).
FLIGHTS_MAX = 100_000


#: The data package that holds the shipped scenario files (:mod:`sim.catalog` finds them by name).
SHIPPED_PACKAGE = "scenarios"


def shipped_dir():
    """The folder of the shipped scenario files (a real folder: the package is installed on disk)."""
    return Path(str(files(SHIPPED_PACKAGE)))


def shown_source(source):
    """How a message names a scenario file: a shipped one as ``scenarios/<file>``, never by the folder it is
    installed in (``.../site-packages/scenarios/iraq_2012_baseline.toml``); anything else as given.

    >>> shown_source(shipped_dir() / "iraq_2012_baseline.toml"), shown_source("mine.toml")
    ('scenarios/iraq_2012_baseline.toml', 'mine.toml')
    """
    text = str(source)
    path = Path(text)
    if path.is_absolute() and path.suffix == ".toml":
        try:
            if path.parent.resolve() == shipped_dir().resolve():
                return f"{SHIPPED_PACKAGE}/{path.name}"
        except (OSError, RuntimeError, ValueError):      # a path that cannot be resolved is no shipped one
            pass
    return text


class ScenarioError(ValueError):
    """A scenario file or override is invalid; ``str()`` is the one-line message (a shipped scenario named as
    :func:`shown_source` names it)."""

    def __init__(self, source, key, message):
        self.source = shown_text(shown_source(source))
        self.key = None if key is None else shown_text(key)
        self.message = shown_text(message)
        super().__init__(f"{self.source}: {self.key}: {self.message}" if key else f"{self.source}: {self.message}")


# --- units -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Field:
    """One scenario key: base name (without unit), quantity kind or python type, rules."""

    base: str
    kind: str  # a key of geo.units.UNITS, or "int", "float", "bool", "str", "strlist", "raw"
    required: bool = False
    default: float | int | bool | str | tuple | None = None
    lo: float | None = None      # inclusive lower bound
    hi: float | None = None      # inclusive upper bound
    gt: float | None = None      # strict lower bound
    choices: tuple = ()


def _spellings(f):
    """All accepted key spellings of a field -> unit suffix (None for unitless)."""
    if f.kind in UNITS:
        out = {f"{f.base}_{u}": u for u in UNITS[f.kind]}
        if f.kind == "altitude" and f.base.endswith("altitude"):
            out[f.base[: -len("altitude")] + "flight_level"] = "fl"
        return out
    return {f.base: None}


def _check_number(value, f, key, unit=None):
    """Check an SI value against the field's bounds; a message states the bound in the key's ``unit``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Err(key, f"must be a number, got {value!r}")
    value = _float(value, key)
    if not math.isfinite(value):
        raise _Err(key, "must be finite")
    scale = 1.0 if unit is None else UNITS[f.kind][unit]
    suffix = "" if unit is None else f" {unit}"
    for bound, ok, op in ((f.gt, lambda b: value > b, ">"), (f.lo, lambda b: value >= b, ">="),
                          (f.hi, lambda b: value <= b, "<=")):
        if bound is not None and not ok(bound):
            raise _Err(key, f"must be {op} {_bound_text(bound, scale, op)}{suffix}")
    return value


def _bound_text(bound, scale, op):
    """A bound [SI] in the key's unit (``bound / scale``), at 6 significant digits rounded inwards: the
    number stated is itself accepted and every value refused is beyond it (0.1 m/s is 19.68504 ft/min:
    stated ``>= 19.6851``, not 19.685, which is refused)."""
    x = bound / scale
    shown = float(f"{x:.6g}")
    if x:
        step = 10.0 ** (math.floor(math.log10(abs(x))) - 5)
        up = op != "<="
        while (shown * scale < bound) if up else (shown * scale > bound):
            shown = float(f"{shown + (step if up else -step):.6g}")
    return f"{shown:,.6g}"


class _Err(Exception):
    """Internal: a key-path error, turned into ScenarioError with the file name."""

    def __init__(self, key, message):
        super().__init__(key, message)
        self.key = key
        self.message = message


def _read_table(table, fields, path, extra_ok=()):
    """Validate one TOML table against its fields; return {base: SI value}."""
    if not isinstance(table, dict):
        raise _Err(path, "must be a table")
    spell = {}
    for f in fields:
        for k, u in _spellings(f).items():
            spell[k] = (f, u)
    for k in table:
        if k not in spell and k not in extra_ok:
            raise _Err(f"{path}.{k}", "unknown key" + _suggest(k, list(spell) + list(extra_ok)))
    out = {}
    for f in fields:
        given = [k for k in _spellings(f) if k in table]
        if len(given) > 1:
            raise _Err(f"{path}.{given[1]}", f"give only one of {', '.join(given)}")
        if not given:
            if f.required:
                names = list(_spellings(f))
                raise _Err(f"{path}.{names[0]}", "missing" + (
                    f" (or {', '.join(names[1:])})" if len(names) > 1 else ""))
            out[f.base] = f.default
            continue
        key = given[0]
        unit = spell[key][1]
        value = table[key]
        kp = f"{path}.{key}"
        if f.kind in UNITS:
            out[f.base] = _check_number(_scale(value, unit, f, kp), f, kp, unit)
        elif f.kind in ("int",):
            out[f.base] = _check_int(value, f, kp)
        elif f.kind == "float":
            out[f.base] = _check_number(value, f, kp)
        elif f.kind == "bool":
            if not isinstance(value, bool):
                raise _Err(kp, f"must be true or false, got {value!r}")
            out[f.base] = value
        elif f.kind == "str":
            if not isinstance(value, str) or not value.strip():
                raise _Err(kp, "must be a non-empty string")
            _check_text(value, kp)
            if f.choices and value not in f.choices:
                raise _Err(kp, f"must be one of {', '.join(map(repr, f.choices))}, got {value!r}")
            out[f.base] = value
        elif f.kind == "strlist":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _Err(kp, "must be a list of strings")
            for i, v in enumerate(value):
                _check_text(v, f"{kp}[{i}]")
            out[f.base] = tuple(value)
        else:  # raw
            out[f.base] = value
    return out


def _scale(value, unit, f, key):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Err(key, f"must be a number, got {value!r}")
    return to_si(_float(value, key), f.kind, unit)


def _float(value, key):
    """``float(value)``; an integer beyond a float's range is an error of ``key``, not an OverflowError."""
    try:
        return float(value)
    except OverflowError:
        raise _Err(key, "must be finite (the number is beyond a float's range)") from None


def _check_int(value, f, key):
    """An integer within the field's bounds, compared exactly (a seed near 2^63 is beyond a float's
    exact integers); returned as it is."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Err(key, f"must be an integer, got {value!r}")
    for bound, ok, op in ((f.gt, lambda b: value > b, ">"), (f.lo, lambda b: value >= b, ">="),
                          (f.hi, lambda b: value <= b, "<=")):
        if bound is not None and not ok(int(bound)):
            raise _Err(key, f"must be {op} {int(bound):,}")
    return value


#: Unicode's format characters (category Cf, as of Unicode 15.1; tested against :mod:`unicodedata`): they
#: draw nothing, so two names that look the same can differ by one (a zero-width space U+200B, the joiners
#: U+200C/D, the direction marks U+200E/F and U+061C, the byte-order mark U+FEFF, the soft hyphen U+00AD),
#: and the bidirectional embedding, override and isolate characters (U+202A-U+202E, U+2066-U+2069) make a
#: name read differently from what it is.
_FORMAT_CHARS = ("\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
                 "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
                 "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
#: The code points XML 1.0 cannot carry or discourages (its ``Char`` production; KML, SVG and the PDF's
#: metadata are XML): the surrogates (a command line's undecodable bytes arrive as lone ones) and the 66
#: noncharacters, U+FDD0-U+FDEF and U+nFFFE, U+nFFFF of each of the 17 planes.
_NOT_XML = "\ud800-\udfff\ufdd0-\ufdef" + "".join(f"{chr(p * 0x10000 + 0xfffe)}{chr(p * 0x10000 + 0xffff)}"
                                                  for p in range(17))
#: Characters refused in every string of a scenario (names, titles, sources, notes), at load (exit 2, the
#: key named): the control characters (category Cc: C0 and C1, DEL; newlines, tab, ESC and so terminal
#: escape sequences), the line and paragraph separators (Zl, Zp), the format characters (Cf, above:
#: invisible, or reordering), and what XML 1.0 cannot carry (surrogates Cs, noncharacters). Every output
#: (terminal, CSV, KML, SVG, PDF, the page) then shows a string as it is, and no string fails one of them
#: late. (Persian's zero-width non-joiner is a format character too: write such a name without it.)
#: Strings are shown, never run.
_UNSAFE_TEXT = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_FORMAT_CHARS}{_NOT_XML}]")


def text_refusal(text):
    """Why ``text`` cannot be a scenario string: its first refused character (:data:`_UNSAFE_TEXT`) named
    by its code point, or None when it has none.

    >>> text_refusal("Kirkuk") is None
    True
    >>> text_refusal("Kir\\u200bkuk").split(" at ")[0]
    'holds the invisible format character U+200B (ZERO WIDTH SPACE)'
    """
    m = _UNSAFE_TEXT.search(text)
    if m is None:
        return None
    c = m.group()
    cp = ord(c)
    category = unicodedata.category(c)
    if 0xFDD0 <= cp <= 0xFDEF or cp & 0xFFFE == 0xFFFE:
        what = "the noncharacter"
    else:
        what = {"Cc": "the control character", "Cs": "the surrogate", "Zl": "the line separator",
                "Zp": "the paragraph separator"}.get(category, "the invisible format character")
    name = unicodedata.name(c, "")
    return (f"holds {what} U+{cp:04X}{f' ({name})' if name else ''} at position {m.start()} (no control, "
            "line-break or invisible format characters, and no code point XML 1.0 cannot carry: strings are "
            "shown as they are)")


def _check_text(value, key):
    why = text_refusal(value)
    if why:
        raise _Err(key, why)


def shown_text(text):
    """``text`` safe to print on a terminal: each character a scenario string may not hold (control,
    line-break, format, surrogate, noncharacter: :data:`_UNSAFE_TEXT`) escaped as Python's ``repr`` writes
    it (``\\x1b``, ``\\n``, ``\\u202e``, ``\\u200b``); other text unchanged."""
    return _UNSAFE_TEXT.sub(lambda m: repr(m.group())[1:-1], str(text))


#: The most spellings a "did you mean" names.
SUGGESTIONS_MAX = 3
#: How alike a known key must be to a mistyped one to be suggested (:func:`difflib.get_close_matches`' ratio).
SUGGESTION_CUTOFF = 0.6


def closest_spellings(word, known, n=SUGGESTIONS_MAX, cutoff=SUGGESTION_CUTOFF):
    """At most ``n`` of ``known`` closest to a mistyped ``word``, closest first.

    >>> closest_spellings("cruise_altitude_mm", ["cruise_altitude_m", "cruise_altitude_km", "cruise_altitude_ft",
    ...                                          "cruise_altitude_fl", "rcs_m2"])
    ['cruise_altitude_m', 'cruise_altitude_km', 'cruise_altitude_ft']
    """
    return difflib.get_close_matches(word, list(known), n=n, cutoff=cutoff)


def _suggest(key, known):
    stem = _quantity(key) or (key.rsplit("_", 1)[0] if "_" in key else key)   # drop a (mistyped) unit
    same = sorted({k for k in known if k.startswith(stem + "_") or k == stem})
    # the spellings of the same quantity first (a mistyped unit), the closest three of them; else any key
    near = closest_spellings(key, same, cutoff=0.0) if same else closest_spellings(key, known)
    if near:
        return f" (did you mean {' or '.join(near)}?)"
    return f" (known keys: {', '.join(sorted(known))})"


# --- the validated scenario --------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    title: str
    sources: tuple


@dataclass(frozen=True)
class RunConfig:
    campaigns: int
    flights: int
    seed: int
    flights_per_day: float = 1.0        # the campaign's cadence: flight k flies k / flights_per_day days in
    route_choice: str = "per_flight"    # or "per_campaign": one route for a whole campaign


@dataclass(frozen=True)
class Aircraft:
    """Aircraft profile in SI; see :data:`AIRCRAFT_MODELS` for the built-in values."""

    model: str
    cruise_speed_mps: float
    cruise_altitude_m: float
    climb_speed_mps: float
    climb_rate_sea_level_mps: float
    climb_rate_top_mps: float
    descent_speed_mps: float
    descent_rate_mps: float
    rcs_m2: float
    transponder_on_probability: float
    terrain_climb_gradient: float       # terrain following: steepest climb [m per m along track]
    terrain_descent_gradient: float     # terrain following: steepest descent [m per m along track]
    cruise_altitude_agl_m: float | None = None  # terrain following: cruise this high above the ground
    transponder_policy: str = "per_flight"      # or "per_campaign": one decision for a whole campaign
    range_m: float = IL76TD_RANGE_M             # the longest route it can fly (ground distance)
    low_level_speed_mps: float = IL76TD_LOW_LEVEL_SPEED_MPS  # terrain following: the cruise's ground speed
    fuel: FuelModel = IL76TD_FUEL               # fuel flows per phase and capacity (sim.aircraft.flight_time_and_fuel)


@dataclass(frozen=True)
class Waypoint:
    lat_deg: float
    lon_deg: float
    icao: str | None = None          # airport code when given by code
    elevation_m: float | None = None  # airport elevation; None for a {lat, lon} point


@dataclass(frozen=True)
class RouteSpec:
    name: str
    weight: float
    waypoints: tuple
    cross_track_sigma_m: float
    cruise_altitude_m: float | None  # overrides the aircraft's, for this route
    cruise_altitude_agl_m: float | None = None  # or: terrain following at this height, for this route


@dataclass(frozen=True)
class PdReference:
    range_m: float
    rcs_m2: float
    pd: float


@dataclass(frozen=True)
class ResponseSpec:
    """From a track inside the airspace to a decision, then an order to land (obeyed or not)."""

    decision_delay_s: float
    land_airports: tuple        # Waypoints (airports) where an ordered flight may land; () without an order
    compliance: float           # probability that an ordered flight obeys
    intercept_compliance: float = 0.75   # probability that an intercepted crew obeys its escort and lands
    track_coast_s: float = 300.0         # a track lost from coverage is still held (coasted) this long
    airspace_gap_s: float = 300.0        # exits from the airspace shorter than this count as inside
    will: float = 1.0                    # probability that the state acts on a flight held in track in time


@dataclass(frozen=True)
class InterceptorSpec:
    """An interceptor: airborne ``ready_s`` after the decision, then straight to the meeting point."""

    name: str
    lat_deg: float
    lon_deg: float
    ready_s: float
    speed_mps: float


@dataclass(frozen=True)
class OrbitSpec:
    """An airborne platform: the closed loop of its waypoints at constant speed and altitude."""

    waypoints: tuple          # ((lat_deg, lon_deg), ...)
    altitude_m: float         # AMSL
    speed_mps: float          # ground speed


@dataclass(frozen=True)
class RadarSpec:
    """A radar: a sensor of a kind on a platform (a fixed site, or ``orbit``).

    A fixed site has ``lat_deg``, ``lon_deg``, ``antenna_height_m`` (and
    optionally ``elevation_m``); an orbiting radar has ``orbit`` and None
    for those four.
    """

    name: str
    lat_deg: float | None
    lon_deg: float | None
    antenna_height_m: float | None
    elevation_m: float | None  # site ground elevation AMSL; None: from terrain (or 0)
    kind: RadarKind
    range_m: float
    scan_period_s: float
    availability: float
    pd: float | None
    reference: PdReference | None
    pfa: float
    swerling: int
    orbit: OrbitSpec | None = None
    mean_outage_s: float | None = None   # outages last this long on average (None: up or down per flight)


@dataclass(frozen=True)
class DetectionConfig:
    track_m: int
    track_n: int
    terrain: bool
    refraction_k: float
    mean_outage_s: float | None = None   # every radar's, unless the radar gives its own


#: The airspace of a scenario without an ``[airspace]`` table (ISO 3166-1 alpha-3).
DEFAULT_AIRSPACE = "IRQ"


@dataclass(frozen=True)
class AirspaceConfig:
    """The country whose airspace the in-airspace figures are about."""

    country: str     # ISO 3166-1 alpha-3, one of the packaged borders
    name: str        # its name in the packaged borders


@dataclass(frozen=True)
class Scenario:
    path: str
    info: ScenarioInfo
    run: RunConfig
    aircraft: Aircraft
    routes: tuple
    radars: tuple
    detection: DetectionConfig
    airspace: AirspaceConfig
    uncertainty: tuple = ()   # ((KEY, low, high), ...): the inputs a sensitivity analysis varies
    response: "ResponseSpec | None" = None   # what the airspace's owner does once a flight is tracked
    interceptors: tuple = ()  # InterceptorSpec per interceptor
    record: tuple = ()        # sim.record.RecordPeriod per period of the public record ([[record]])
    raw: dict | None = field(repr=False, compare=False, default=None)
    # the ``--set KEY=VALUE`` texts applied to the file, as given and in order (a what-if when any): where the
    # scenario comes from, not what it is, so two scenarios that validate alike compare equal
    overrides: tuple = field(compare=False, default=())


#: Built-in aircraft profiles (SI). Sources in scenarios/README.md; values
#: marked "assumption" there have no citable source.
AIRCRAFT_MODELS = {
    "Il-76TD": dict(
        cruise_speed_mps=780 * KMH_MPS,          # 750-800 km/h reported
        cruise_altitude_m=10_100.0,               # 9-12 km reported
        climb_speed_mps=550 * KMH_MPS,            # assumption
        climb_rate_sea_level_mps=1800 * FT_M / 60,  # assumption, ~1,500-2,000 ft/min low
        climb_rate_top_mps=500 * FT_M / 60,       # assumption, ~500 ft/min near top
        descent_speed_mps=600 * KMH_MPS,          # assumption
        descent_rate_mps=1500 * FT_M / 60,        # assumption, ~3 deg path
        rcs_m2=40.0,                              # assumption, large airliners 10-100 m2
        transponder_on_probability=1.0,
        range_m=IL76TD_RANGE_M,                   # reported 3,600-4,200 km with payload: the top
        low_level_speed_mps=IL76TD_LOW_LEVEL_SPEED_MPS,  # assumption, 580 km/h (sim.aircraft)
        fuel=IL76TD_FUEL,                         # assumptions: 90 t; 8 t/h cruise, 9 t/h low level (sim.aircraft)
        # terrain following: the low-level climb rate at the climb speed (9.1 m/s at 153 m/s, 6.0%) and
        # the descent rate at the descent speed (7.6 m/s at 167 m/s, 4.6%): assumptions, as those rates
        terrain_climb_gradient=(1800 * FT_M / 60) / (550 * KMH_MPS),
        terrain_descent_gradient=(1500 * FT_M / 60) / (600 * KMH_MPS),
    ),
}

#: How a random choice is shared within a campaign (transponder policy, route choice).
POLICIES = ("per_flight", "per_campaign")

_SCENARIO_FIELDS = (
    _Field("name", "str", required=True),
    _Field("title", "str", required=True),
    _Field("sources", "strlist", default=()),
    _Field("description", "str"),
)
_RUN_FIELDS = (
    _Field("campaigns", "int", required=True, lo=1, hi=CAMPAIGNS_MAX),
    _Field("flights", "int", required=True, lo=1, hi=FLIGHTS_MAX),
    _Field("seed", "int", required=True, lo=0, hi=SEED_MAX),
    _Field("flights_per_day", "float", default=1.0, gt=0, hi=1000),
    _Field("route_choice", "str", default="per_flight", choices=POLICIES),
)
_AIRCRAFT_FIELDS = (
    _Field("model", "str", default="Il-76TD", choices=tuple(AIRCRAFT_MODELS)),
    _Field("cruise_speed", "speed", gt=0, lo=SPEED_MIN_MPS, hi=400),
    _Field("cruise_altitude", "altitude", gt=0, hi=20_000),
    _Field("cruise_altitude_agl", "length", gt=0, hi=20_000),
    _Field("climb_speed", "speed", gt=0, lo=SPEED_MIN_MPS, hi=400),
    _Field("climb_rate_sea_level", "rate", gt=0, lo=RATE_MIN_MPS, hi=100),
    _Field("climb_rate_top", "rate", gt=0, lo=RATE_MIN_MPS, hi=100),
    _Field("descent_speed", "speed", gt=0, lo=SPEED_MIN_MPS, hi=400),
    _Field("descent_rate", "rate", gt=0, lo=RATE_MIN_MPS, hi=100),
    _Field("rcs", "area", gt=0, lo=RCS_MIN_M2, hi=RCS_MAX_M2),
    _Field("transponder_on_probability", "float", lo=0, hi=1),
    _Field("terrain_climb_gradient", "float", gt=0, hi=0.5),
    _Field("terrain_descent_gradient", "float", gt=0, hi=0.5),
    _Field("range", "length", gt=0, hi=AIRCRAFT_RANGE_MAX_M),
    _Field("low_level_speed", "speed", gt=0, lo=SPEED_MIN_MPS, hi=400),
    _Field("transponder_policy", "str", default="per_flight", choices=POLICIES),
)
_ROUTE_FIELDS = (
    _Field("name", "str", required=True),
    _Field("weight", "float", default=1.0, lo=0, hi=ROUTE_WEIGHT_MAX),
    _Field("waypoints", "raw", required=True),
    _Field("cross_track_sigma", "length", default=0.0, lo=0, hi=100_000),
    _Field("cruise_altitude", "altitude", gt=0, hi=20_000),
    _Field("cruise_altitude_agl", "length", gt=0, hi=20_000),
)
_RADAR_FIELDS = (
    _Field("name", "str", required=True),
    _Field("lat", "float", lo=-90, hi=90),
    _Field("lon", "float", lo=-180, hi=180),
    _Field("antenna_height", "length", lo=0, hi=20_000),
    _Field("elevation", "length", lo=-500, hi=9000),
    _Field("orbit", "raw"),
    _Field("kind", "str", required=True, choices=tuple(RADAR_KINDS)),
    _Field("range", "length", required=True, gt=0, hi=2_000_000),
    _Field("scan_period", "time", required=True, gt=0, lo=SCAN_PERIOD_MIN_S, hi=600),
    _Field("availability", "float", default=1.0, lo=0, hi=1),
    _Field("pd", "float", lo=0, hi=1),
    _Field("reference", "raw"),
    _Field("pfa", "float", gt=0, hi=0.1),
    _Field("swerling", "int", lo=0, hi=4),
    _Field("notes", "str"),
    _Field("mean_outage", "time", gt=0, hi=3.2e7),
)
_REFERENCE_FIELDS = (
    _Field("range", "length", required=True, gt=0, lo=REFERENCE_RANGE_MIN_M, hi=2_000_000),
    _Field("rcs", "area", required=True, gt=0, lo=RCS_MIN_M2, hi=RCS_MAX_M2),
    _Field("pd", "float", required=True, gt=0, hi=1),
)
_ORBIT_FIELDS = (
    _Field("waypoints", "raw", required=True),
    _Field("altitude", "altitude", required=True, gt=0, hi=25_000),
    _Field("speed", "speed", required=True, gt=0, lo=SPEED_MIN_MPS, hi=400),
)
_AIRSPACE_FIELDS = (
    _Field("country", "str", default=DEFAULT_AIRSPACE),
)
#: Antenna height above the site's ground when a fixed radar does not say [m].
DEFAULT_ANTENNA_HEIGHT_M = 10.0
_DETECTION_FIELDS = (
    _Field("track_m", "int", default=1, lo=1, hi=1000),
    _Field("track_n", "int", default=1, lo=1, hi=1000),
    _Field("terrain", "bool", default=False),
    _Field("refraction_k", "float", default=4.0 / 3.0, gt=0, hi=10),
    _Field("mean_outage", "time", gt=0, hi=3.2e7),
)
_LATLON_FIELDS = (_Field("lat", "float", required=True, lo=-90, hi=90),
                  _Field("lon", "float", required=True, lo=-180, hi=180))
_TOP = ("scenario", "run", "aircraft", "route", "radar", "detection", "airspace", "uncertainty", "response",
        "interceptor", "record")
_RESPONSE_FIELDS = (
    _Field("decision_delay", "time", default=0.0, lo=0, hi=86_400),
    _Field("order_to_land", "raw"),
    _Field("intercept_compliance", "float", default=0.75, lo=0, hi=1),
    _Field("track_coast", "time", default=300.0, lo=0, hi=86_400),
    _Field("airspace_gap", "time", default=300.0, lo=0, hi=86_400),
    _Field("will", "float", default=1.0, lo=0, hi=1),
)
_ORDER_FIELDS = (
    _Field("airports", "raw", required=True),
    _Field("compliance", "float", required=True, lo=0, hi=1),
)
_INTERCEPTOR_FIELDS = (
    _Field("name", "str", required=True),
    _Field("base", "raw", required=True),
    _Field("ready", "time", default=0.0, lo=0, hi=86_400),
    _Field("speed", "speed", required=True, gt=0, lo=SPEED_MIN_MPS, hi=1_000),
)


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


def _check_spacing(points, key):
    """Consecutive ``(lat, lon)`` points at least :data:`WAYPOINT_SPACING_MIN_M` apart; returns the legs [m]."""
    lat, lon = (np.array(v, dtype=float) for v in zip(*points))
    legs = leg_geometry(lat, lon)[1]
    for j in np.flatnonzero(legs < WAYPOINT_SPACING_MIN_M):
        raise _Err(f"{key}[{j + 1}]", f"{legs[j]:,.0f} m from the previous waypoint: waypoints are at least "
                                      f"{WAYPOINT_SPACING_MIN_M / 1000:g} km apart")
    return legs


def _check_route_reach(route, aircraft, key):
    """A route the aircraft can fly: no longer than its range, in at most :data:`FLIGHT_TIME_MAX_S`.

    At low level (a terrain-following cruise) the aircraft burns more fuel per km than at cruise, so
    its range there is shorter: the route's cruise-equivalent distance (each low-level km counted
    :func:`sim.aircraft.fuel_per_m_ratio` times) must be within the range."""
    length_m, profile = route_profile(route, aircraft)
    if length_m > aircraft.range_m:
        raise _Err(f"{key}.waypoints", f"the route is {length_m / 1000:,.0f} km long, beyond the aircraft's range "
                                       f"of {aircraft.range_m / 1000:,.0f} km (aircraft.range_km)")
    if profile.low_level:
        cost = route_time_and_fuel(profile, aircraft)
        if not cost.within_range(aircraft.range_m):
            ratio = float(fuel_per_m_ratio(aircraft.cruise_speed_mps, aircraft.low_level_speed_mps, aircraft.fuel))
            raise _Err(f"{key}.waypoints", (
                f"the route is {length_m / 1000:,.0f} km long, {cost.low_level_m / 1000:,.0f} km of it at low level, "
                f"where the aircraft burns {ratio:.2f} times its cruise's fuel per km (at "
                f"{aircraft.low_level_speed_mps / KMH_MPS:,.0f} km/h, aircraft.low_level_speed_kmh): as much fuel as "
                f"{cost.cruise_equivalent_m / 1000:,.0f} km at cruise, beyond the aircraft's range of "
                f"{aircraft.range_m / 1000:,.0f} km (aircraft.range_km; "
                f"{aircraft.range_m / ratio / 1000:,.0f} km all at low level)"))
    if not profile.duration_s <= FLIGHT_TIME_MAX_S:
        raise _Err(f"{key}.waypoints", f"the flight takes {profile.duration_s / 3600:,.1f} h: at most "
                                       f"{FLIGHT_TIME_MAX_S / 3600:g} h (check the aircraft's speeds and rates)")


def _check_radar_equation(spec, rcs_m2, key):
    """The Pd of a reference-target radar from its reference, finite at its reference, at its instrumented
    range and at 1 m for the aircraft's RCS: every derived quantity of the radar equation checked here,
    once, so that a run never warns of an overflow."""
    ref = spec.reference
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            required_snr_db(ref.pd, spec.pfa, spec.swerling)
            pd = pd_from_reference(np.array([1.0, ref.range_m, spec.range_m]), rcs_m2, ref.range_m, ref.rcs_m2,
                                   ref.pd, spec.pfa, spec.swerling)
    except ValueError as e:   # pd at or above 1, or too close to pfa for the Swerling case
        why = ("must be < 1 (a target detected for certain gives no signal-to-noise ratio)" if ref.pd >= 1.0 else
               f"too close to pfa ({spec.pfa:g}) for Swerling {spec.swerling}: {e}")
        raise _Err(f"{key}.reference.pd", why) from None
    except FloatingPointError as e:
        raise _Err(f"{key}.reference", f"the radar equation overflows ({e})") from None
    if not np.all(np.isfinite(pd) & (pd >= 0.0) & (pd <= 1.0)):
        raise _Err(f"{key}.reference", "the radar equation gives no finite Pd")


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


_CRUISE_AMSL_SPELLINGS = _spellings(_Field("cruise_altitude", "altitude"))
_CRUISE_AGL_SPELLINGS = _spellings(_Field("cruise_altitude_agl", "length"))


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


def uncertainty_variants(scenario, applicable_only=False):
    """The scenario at each end of each declared ``[uncertainty]`` range, checked against it now.

    Returns one ``(key, low, high, scenario at low, scenario at high)`` per
    input, in the file's order; each variant is ``scenario`` (its what-if
    overrides included) with ``--set KEY=VALUE``. A range that does not
    apply to the scenario (a key it does not have, a value it refuses)
    raises :class:`ScenarioError` naming ``[uncertainty]``, or with
    ``applicable_only`` is left out (the brief's tornado of a what-if).
    """
    out = []
    for key, low, high in scenario.uncertainty:
        variants = []
        for value in (low, high):
            try:
                variants.append(with_overrides(scenario, [override_text(key, value)]))
            except ScenarioError as e:
                if applicable_only:
                    break
                why = f"{e.key}: {e.message}" if e.key and e.key != key else e.message
                raise ScenarioError(scenario.path, f"uncertainty.{key}",
                                    f"the [uncertainty] range [{low!r}, {high!r}] does not apply to this scenario"
                                    f"{' with its --set overrides' if scenario.overrides else ''} at {value!r}: "
                                    f"{why}") from None
        if len(variants) == 2:
            out.append((key, low, high, *variants))
    return tuple(out)


#: The largest scenario file read [bytes] (the shipped ones are under 10 kB).
SCENARIO_MAX_BYTES = 1 << 20


def _regular_file(path, st):
    """Refuse anything but a regular file of at most :data:`SCENARIO_MAX_BYTES` (given its ``os.stat``)."""
    if stat.S_ISDIR(st.st_mode):
        raise ScenarioError(path, None, "is a directory, not a scenario file")
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(path, None, "is not a regular file (a pipe, a device or a socket): give a scenario file")
    if st.st_size > SCENARIO_MAX_BYTES:
        raise ScenarioError(path, None, f"is {st.st_size:,} bytes: a scenario file is at most "
                                        f"{SCENARIO_MAX_BYTES:,} bytes (1 MiB)")


def _toml_loads(text, source, key=None):
    """:func:`tomllib.loads`, with what it cannot take said as bad input: a document nested deeper than
    Python's recursion allows, an integer of more digits than Python converts (4,300)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except RecursionError:
        raise ScenarioError(source, key, "nested too deeply (arrays or tables inside one another)") from None
    except ValueError:               # int("1" * 5000): Python's limit on integer digits
        raise ScenarioError(source, key, f"holds an integer of more than {sys.get_int_max_str_digits():,} digits "
                                         "(no scenario value is that long)") from None


def read_toml(path):
    """Read a TOML file; errors become :class:`ScenarioError`.

    Only a regular file of at most :data:`SCENARIO_MAX_BYTES` is read (checked before opening and again on
    the open file, which is opened without blocking: a pipe, ``/dev/zero`` or a symlink loop is refused at
    once), and at most that many bytes are read.
    """
    path = Path(path)
    try:
        _regular_file(path, os.stat(path))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            _regular_file(path, os.fstat(fd))      # the same file that was checked
            data = fh.read(SCENARIO_MAX_BYTES + 1)
        if len(data) > SCENARIO_MAX_BYTES:
            raise ScenarioError(path, None, f"is over {SCENARIO_MAX_BYTES:,} bytes: a scenario file is at most 1 MiB")
        return _toml_loads(data.decode("utf-8"), path)
    except FileNotFoundError:
        raise ScenarioError(path, None, "no such file") from None
    except OSError as e:      # a symlink loop, no permission, a name too long
        raise ScenarioError(path, None, f"cannot be read ({e.strerror or type(e).__name__})") from None
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(path, None, f"not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise ScenarioError(path, None, "not valid UTF-8 text") from None


def load_scenario(path, overrides=()):
    """Load, override (``["aircraft.rcs_m2=10", ...]``) and validate a scenario file."""
    doc = read_toml(path)
    for text in overrides:
        apply_override(doc, text, source=path)
    return parse_scenario(doc, source=path, overrides=overrides)


# --- --set KEY=VALUE overrides -----------------------------------------------------------------
# A key is dotted segments, ``field`` or ``field[SELECTOR]``; a selector is a quoted name (a TOML basic
# string: ``radar["Kirkuk No. 2"]``), or bare text up to the first ``]`` (a name, trimmed; or an index).
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDEX = re.compile(r"-?\d+")
#: Characters a name is quoted for in a key (:func:`table_key`); the bare form reads any but ``[]"``.
_QUOTED_CHARS = frozenset('.=[]"')


@dataclass(frozen=True)
class KeySegment:
    """One segment of an override key: ``field``, or ``field[selector]`` (``quoted``: a quoted name, never
    an index; bare: a name, else an index)."""
    field: str
    selector: str | None = None
    quoted: bool = False


def table_key(table, name, *fields):
    """The override key of a named table's field, as ``--set``, ``[uncertainty]`` and the page write it.

    The name is quoted (a TOML basic string) only when it holds a ``.``,
    ``=``, ``[``, ``]`` or ``"``, has space at either end, is empty or reads
    as an index (``"0"`` is a name, ``0`` a position).

    >>> table_key("radar", "Kirkuk PSR", "availability"), table_key("radar", "Kirkuk No. 2", "availability")
    ('radar[Kirkuk PSR].availability', 'radar["Kirkuk No. 2"].availability')
    >>> table_key("route", '"0"'), table_key("radar", "AEW orbit", "orbit", "altitude_m")
    ('route["\\\\"0\\\\""]', 'radar[AEW orbit].orbit.altitude_m')
    """
    bare = (name and name == name.strip() and not _INDEX.fullmatch(name) and not _QUOTED_CHARS.intersection(name))
    sel = name if bare else json.dumps(name, ensure_ascii=False)
    return ".".join((f"{table}[{sel}]", *fields))


def _read_key(text, source, stop_at_equals):
    """The one reader of override keys: ``(segments, key_text, rest)``.

    Reads ``text`` from its start up to its end, or (``stop_at_equals``) up
    to the first ``=`` outside brackets and quotes, which ``rest`` then
    starts with (``rest`` is "" when there is none). Raises
    :class:`ScenarioError` naming the key for anything it cannot read.
    """
    n = len(text)
    segments = []
    i = 0

    def fail(message):
        key = text.split("=", 1)[0].strip() if stop_at_equals else text.strip()
        raise ScenarioError(source, key or text, message)

    def skip_space(j):
        while j < n and text[j].isspace():
            j += 1
        return j

    while True:
        i = skip_space(i)
        m = _FIELD.match(text, i)
        if m is None:
            what = f"{text[i]!r}" if i < n else "the end"
            fail(f"cannot read key segment at position {i} ({what}): expected a name such as radar or "
                 "availability (keys look like aircraft.rcs_m2, radar[NAME].pd, radar[0].pd or "
                 'radar["NAME WITH . OR ="].pd)')
        field_name, i = m.group(), m.end()
        selector, quoted = None, False
        if i < n and text[i] == "[":
            j = skip_space(i + 1)
            if j < n and text[j] == '"':
                k = j + 1
                while k < n and text[k] != '"':
                    k += 2 if text[k] == "\\" else 1
                if k >= n:
                    fail(f'unterminated quoted name in {field_name}[...]: the " at position {j} has no closing " '
                         '(write a quote inside a name as \\" and a backslash as \\\\)')
                try:
                    selector = tomllib.loads(f"v = {text[j:k + 1]}")["v"]
                except tomllib.TOMLDecodeError:
                    fail(f"cannot read the quoted name {text[j:k + 1]} in {field_name}[...]: "
                         'only \\" \\\\ and TOML\'s other escapes (\\n, \\uXXXX) may follow a backslash')
                quoted, j = True, skip_space(k + 1)
                if j >= n or text[j] != "]":
                    fail(f"expected ] right after the quoted name: {field_name}[{text[skip_space(i + 1):k + 1]}]")
            else:
                k = j
                while k < n and text[k] not in '[]"':
                    k += 1
                if k >= n:
                    fail(f"unterminated {field_name}[...]: no closing ]")
                if text[k] != "]":
                    fail(f"a name holding {text[k]!r} must be quoted in {field_name}[...] (a TOML basic string: "
                         f'{field_name}["A [B] \\"C\\""])')
                selector, j = text[i + 1:k].strip(), k
                if not selector:
                    fail(f"{field_name}[]: give a name or an index between the brackets")
            i = j + 1
        segments.append(KeySegment(field_name, selector, quoted))
        i = skip_space(i)
        if i < n and text[i] == ".":
            i += 1
            continue
        if i >= n or (stop_at_equals and text[i] == "="):
            return tuple(segments), text[:i].strip(), text[i:]
        fail(f"unexpected {text[i]!r} at position {i} (after a key segment comes . or =)")


def read_key(key, source="<key>"):
    """An override key's segments (:class:`KeySegment`), read by the same code ``--set`` uses.

    >>> [(s.field, s.selector, s.quoted) for s in read_key('radar["Kirkuk No. 2"].availability')]
    [('radar', 'Kirkuk No. 2', True), ('availability', None, False)]
    """
    return _read_key(str(key), source, stop_at_equals=False)[0]


def split_override(text, source="<scenario>"):
    """A ``KEY=VALUE`` text split at the first ``=`` outside brackets and quotes: ``(key, value text)``, both
    trimmed; the key is read (:func:`read_key`), a bad one raises :class:`ScenarioError` naming it.

    >>> split_override('radar["A=B"].pd = 0.9')
    ('radar["A=B"].pd', '0.9')
    """
    text = str(text)
    if "=" not in text:
        raise ScenarioError(source, text, "override must look like KEY=VALUE")
    _, key, rest = _read_key(text, source, stop_at_equals=True)
    if not rest:
        raise ScenarioError(source, key, "override must look like KEY=VALUE")
    return key, rest[1:].strip()


def parse_override_value(text, source="--set", key=None):
    """A ``--set`` value: TOML (``3000``, ``true``, ``"text"``, ``[1, 2]``), else the bare word as a string.
    A value no scenario holds and the TOML reader cannot take (brackets nested a thousand deep, an integer
    of over 4,300 digits) is a :class:`ScenarioError` naming ``key``."""
    try:
        return _toml_loads(f"v = {text}", source, key)["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_override(doc, text, source="<scenario>"):
    """Apply one ``KEY=VALUE`` override to a parsed scenario dict, in place.

    ``KEY`` is a dotted path: ``aircraft.cruise_altitude_m``, ``run.seed``,
    ``radar[Baghdad PSR].range_km`` (by name), ``radar[0].pd`` (by index),
    ``radar["Kirkuk No. 2"].availability`` (a quoted name: a TOML basic
    string, ``\\"`` and ``\\\\`` inside; never an index),
    ``route[direct].cross_track_sigma_km``. KEY ends at the first ``=``
    outside brackets and quotes. ``VALUE`` is a TOML value (``3000``,
    ``true``, ``"text"``, ``[1, 2]``); a bare word is a string. Setting a
    quantity in another unit (``cruise_altitude_ft``) replaces the file's
    spelling of it.
    """
    key, value_text = split_override(text, source)
    segments = read_key(key, source)
    node = doc
    trail = []
    for depth, seg in enumerate(segments):
        name = seg.field
        trail.append(name)
        last = depth == len(segments) - 1
        if seg.selector is not None:
            items = node.get(name)
            if not isinstance(items, list):
                raise ScenarioError(source, key, f"no [[{name}]] tables to select from")
            idx = _select(items, seg)
            if idx is None:
                names = [str(t.get("name")) for t in items if isinstance(t, dict)]
                raise ScenarioError(source, key, f"no {name} named {seg.selector!r} (have: {', '.join(names)})")
            if last:
                raise ScenarioError(source, key, "set a key inside the table, e.g. radar[NAME].pd=0.9")
            node = items[idx]
        elif last:
            _drop_other_spellings(node, name)
            node[name] = parse_override_value(value_text, source, key)
        else:
            if name not in node:
                node[name] = {}
            node = node[name]
            if isinstance(node, list):
                raise ScenarioError(source, key, f"select one table: {name}[NAME] or {name}[INDEX]")
            if not isinstance(node, dict):
                raise ScenarioError(source, key, f"{'.'.join(trail)} is not a table")
    return doc


def override_key_value(scenario, key):
    """The value a scenario's file (with its overrides) gives an override key, as written: ``(spelling, value)``.

    ``key`` as ``--set`` writes it (``radar[Kirkuk PSR].availability``,
    ``radar["Kirkuk No. 2"].availability``). When the file spells the
    quantity in another unit (``range_nm`` for ``range_km``), that spelling
    and its value are returned; ``None`` when the file leaves the key at its
    default. A key that cannot be read raises :class:`ScenarioError`.

    >>> sc = load_scenario("scenarios/iraq_2012_baseline.toml")
    >>> override_key_value(sc, "radar[Kirkuk PSR].availability"), override_key_value(sc, "radar[Kirkuk PSR].range_km")
    (('availability', 0.9), ('range_nm', 60))
    """
    node = scenario.raw
    segments = read_key(key, scenario.path)
    for depth, seg in enumerate(segments):
        if not isinstance(node, dict):
            return None
        name = seg.field
        if seg.selector is not None:
            items = node.get(name)
            idx = _select(items, seg) if isinstance(items, list) else None
            if idx is None:
                return None
            node = items[idx]
        elif depth < len(segments) - 1:
            node = node.get(name)
        else:
            if name in node:
                return name, node[name]
            q = _quantity(name)
            other = [k for k in node if q is not None and _quantity(k) == q]
            return (other[0], node[other[0]]) if other else None
    return None


def _select(items, seg):
    """The index of the table ``seg`` selects: by exact name; a bare integer that names no table, by position."""
    for i, t in enumerate(items):
        if isinstance(t, dict) and t.get("name") == seg.selector:
            return i
    if not seg.quoted and _INDEX.fullmatch(seg.selector):
        i = int(seg.selector)
        if -len(items) <= i < len(items):
            return i % len(items)
    return None


_ALL_UNITS = tuple(sorted({u for units in UNITS.values() for u in units}, key=len, reverse=True))


def _quantity(key):
    """The quantity a key spells: its name without the unit (``flight_level`` is an altitude)."""
    if key.endswith("flight_level"):
        return key[: -len("flight_level")] + "altitude"
    m = re.fullmatch(rf"(.+?)_({'|'.join(_ALL_UNITS)})", key)
    return m.group(1) if m else None


def _drop_other_spellings(table, key):
    """Remove the other spellings of the quantity ``key`` sets (other units; a cruise level
    above mean sea level replaces one above ground, and the other way round)."""
    q = _quantity(key)
    if q is None:
        return
    same = {q}
    level = q[: -len("_agl")] if q.endswith("_agl") else q
    if level.endswith("altitude"):
        same |= {level, level + "_agl"}
    for k in list(table):
        if k != key and _quantity(k) in same:
            del table[k]


def override_text(key, value):
    """``KEY=VALUE`` with the value written as TOML (``true``, ``"text"``, ``3000``)."""
    return f"{key}={json.dumps(value)}"


def with_overrides(scenario, overrides):
    """A new validated scenario: ``scenario`` with ``KEY=VALUE`` overrides applied (and added to its
    :attr:`~Scenario.overrides`)."""
    doc = copy.deepcopy(scenario.raw)
    for text in overrides:
        apply_override(doc, text, source=scenario.path)
    return parse_scenario(doc, source=scenario.path, overrides=(*scenario.overrides, *overrides))


def with_cruise_level(scenario, altitude_m=None, agl_m=None):
    """The scenario with every route cruising at one level, validated.

    Give ``altitude_m`` (above mean sea level) or ``agl_m`` (above the
    ground: terrain following). The routes' own cruise levels are dropped,
    so the aircraft's applies to all. The scenario's overrides are kept and
    this change is not added to them: a point of the altitude curve is not
    a what-if of the user's.
    """
    if (altitude_m is None) == (agl_m is None):
        raise ValueError("give exactly one of altitude_m and agl_m")
    doc = copy.deepcopy(scenario.raw)
    for table in doc.get("route", []):
        for k in (*_CRUISE_AMSL_SPELLINGS, *_CRUISE_AGL_SPELLINGS):
            table.pop(k, None)
    aircraft = doc.setdefault("aircraft", {})
    key, value = ("cruise_altitude_m", altitude_m) if agl_m is None else ("cruise_altitude_agl_m", agl_m)
    _drop_other_spellings(aircraft, key)
    aircraft[key] = float(value)
    return parse_scenario(doc, source=scenario.path, overrides=scenario.overrides)
