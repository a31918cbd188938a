"""What the route search is asked: its flight levels, extra-distance budgets, forbidden airspaces and
endpoints, from the command line's words (``--levels``, ``--max-extra-km``, ``--avoid``, ``--from``,
``--to``), validated."""
import difflib
import math
from dataclasses import dataclass

from geo.airports import load_airports
from geo.coverage import country_names
from sim.routes import cruise_level
from sim.scenario import ScenarioError

__all__ = ["Level", "parse_levels", "parse_budgets_km", "parse_avoid", "level_speed_mps", "DEFAULT_LOW_AGL_M"]

#: Terrain following height of the low level when the scenario states none [m] (the clearance of
#: scenarios/iraq_2012_low_level.toml; an assumption).
DEFAULT_LOW_AGL_M = 300.0


# --- inputs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Level:
    """A flight level of the search: above mean sea level (``altitude_m``) or above ground (``agl_m``)."""

    altitude_m: float | None = None
    agl_m: float | None = None

    def __post_init__(self):
        if (self.altitude_m is None) == (self.agl_m is None):
            raise ValueError("a level is either altitude_m or agl_m")

    @property
    def label(self):
        """``"10,100 m AMSL"`` or ``"300 m above ground"``."""
        if self.agl_m is None:
            return f"{self.altitude_m:,.0f} m AMSL"
        return f"{self.agl_m:,.0f} m above ground"

    @property
    def key(self):
        """A short name for files and tables: ``"10100m"`` or ``"300agl"``."""
        return f"{self.altitude_m:g}m" if self.agl_m is None else f"{self.agl_m:g}agl"


def _main_route(scenario):
    return max(scenario.routes, key=lambda r: r.weight)


def parse_levels(text, scenario):
    """The search's levels from ``--levels`` text (None: the default), validated; a tuple of :class:`Level`.

    Items, comma-separated: ``cruise`` (the scenario's cruise level, as its most
    probable route flies it), ``low`` (terrain following at the scenario's
    clearance, else :data:`DEFAULT_LOW_AGL_M`), ``3000`` (metres above mean sea
    level) or ``300agl`` (metres above ground). Default: ``cruise,low``.
    """
    amsl, agl = cruise_level(_main_route(scenario), scenario.aircraft)
    cruise = Level(altitude_m=amsl) if agl is None else Level(agl_m=agl)
    low = Level(agl_m=agl if agl is not None else (scenario.aircraft.cruise_altitude_agl_m or DEFAULT_LOW_AGL_M))
    if text is None:
        return (cruise,) if low == cruise else (cruise, low)
    out = []
    for item in (t.strip().lower() for t in str(text).split(",")):
        if not item:
            continue
        if item == "cruise":
            lv = cruise
        elif item == "low":
            lv = low
        else:
            above = item.endswith("agl")
            number = item[:-3] if above else item.removesuffix("m")
            try:
                value = float(number)
            except ValueError:
                raise ScenarioError("--levels", None, f"cannot read {item!r}: give cruise, low, metres above mean "
                                                      "sea level (3000) or above ground (300agl)") from None
            if not (math.isfinite(value) and 0 < value <= 20_000):
                raise ScenarioError("--levels", None, f"{item!r}: a level is above 0 and at most 20,000 m")
            lv = Level(agl_m=value) if above else Level(altitude_m=value)
        if lv not in out:
            out.append(lv)
    if not out:
        raise ScenarioError("--levels", None, "give at least one level")
    return tuple(out)


def parse_budgets_km(values):
    """Extra-distance budgets from ``--max-extra-km`` (text ``"0,100,200"`` or numbers) -> metres, sorted, unique."""
    items = str(values).split(",") if isinstance(values, str) else list(values)
    out = []
    for v in items:
        if isinstance(v, str) and not v.strip():
            continue
        try:
            km = float(v)
        except (TypeError, ValueError):
            raise ScenarioError("--max-extra-km", None, f"cannot read {v!r} as kilometres") from None
        if not math.isfinite(km) or km < 0:
            raise ScenarioError("--max-extra-km", None, f"a budget is a distance of at least 0 km, got {v}")
        out.append(km * 1000.0)
    if not out:
        raise ScenarioError("--max-extra-km", None, "give at least one budget in km, e.g. 0,100,200")
    return tuple(sorted(set(out)))


def parse_avoid(values):
    """Forbidden airspaces from ``--avoid`` (``"TUR,SYR"`` or a list): ISO 3166-1 alpha-3 codes of the packaged
    borders, validated, upper-case, in order."""
    items = str(values).split(",") if isinstance(values, str) else list(values or ())
    names = country_names()
    out = []
    for v in items:
        code = str(v).strip().upper()
        if not code:
            continue
        if code not in names:
            near = difflib.get_close_matches(code, list(names), n=3)
            raise ScenarioError("--avoid", None, f"unknown country {v!r}: give ISO 3166-1 alpha-3 codes of the "
                                                 f"packaged borders ({', '.join(sorted(names))})"
                                + (f"; did you mean {' or '.join(near)}?" if near else ""))
        if code not in out:
            out.append(code)
    return tuple(out)


@dataclass(frozen=True)
class _Place:
    """An endpoint: an airport (``icao``) or a point."""

    lat_deg: float
    lon_deg: float
    icao: str | None = None

    @property
    def label(self):
        return self.icao or f"{self.lat_deg:.3f}N {self.lon_deg:.3f}E"

    def toml_value(self):
        return self.icao if self.icao else {"lat": self.lat_deg, "lon": self.lon_deg}


def _endpoint(code, default_waypoint, what):
    if code is None:
        w = default_waypoint
        return _Place(w.lat_deg, w.lon_deg, w.icao)
    airports = load_airports()
    key = str(code).strip().upper()
    if key not in airports:
        near = difflib.get_close_matches(key, list(airports), n=3)
        raise ScenarioError(what, None, f"unknown ICAO code {code!r}" + (
            f" (did you mean {' or '.join(near)}?)" if near else f" (known: {', '.join(airports)})"))
    a = airports[key]
    return _Place(a.lat_deg, a.lon_deg, key)


def level_speed_mps(aircraft, level):
    """The speed a route at ``level`` flies its cruise at [m/s]: the aircraft's low-level speed for terrain
    following (where the aircraft has one), else its cruise speed."""
    low = getattr(aircraft, "low_level_speed_mps", None)
    return float(low) if (level.agl_m is not None and low) else float(aircraft.cruise_speed_mps)
