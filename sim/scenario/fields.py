"""The scenario's keys: each table's fields with their spellings (one per unit: ``range_km``, ``range_nm``, ...),
kinds, defaults and bounds, and the reading of one TOML table against them into SI values.

One place knows each key's spellings and units; a message states a bound in the key's own unit.
"""
import math
from dataclasses import dataclass

from geo.units import UNITS, to_si
from sim.scenario.keys import _quantity
from sim.scenario.limits import (AIRCRAFT_RANGE_MAX_M, CAMPAIGNS_MAX, FLIGHTS_MAX, RATE_MIN_MPS, RCS_MAX_M2, RCS_MIN_M2,
                                 REFERENCE_RANGE_MIN_M, ROUTE_WEIGHT_MAX, SCAN_PERIOD_MIN_S, SEED_MAX, SPEED_MIN_MPS)
from sim.scenario.messages import _check_text, _Err, closest_spellings
from sim.scenario.types import AIRCRAFT_MODELS, DEFAULT_AIRSPACE
from sim.sensors import RADAR_KINDS

__all__ = ["POLICIES", "DEFAULT_ANTENNA_HEIGHT_M"]


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


def _suggest(key, known):
    stem = _quantity(key) or (key.rsplit("_", 1)[0] if "_" in key else key)   # drop a (mistyped) unit
    same = sorted({k for k in known if k.startswith(stem + "_") or k == stem})
    # the spellings of the same quantity first (a mistyped unit), the closest three of them; else any key
    near = closest_spellings(key, same, cutoff=0.0) if same else closest_spellings(key, known)
    if near:
        return f" (did you mean {' or '.join(near)}?)"
    return f" (known keys: {', '.join(sorted(known))})"


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


_CRUISE_AMSL_SPELLINGS = _spellings(_Field("cruise_altitude", "altitude"))
_CRUISE_AGL_SPELLINGS = _spellings(_Field("cruise_altitude_agl", "length"))
