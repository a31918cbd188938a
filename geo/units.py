"""Unit conversions at the boundary (scenario files, CLI, plot labels).

Everything inside airpicture is SI: metres, seconds, metres per second.
Aviation units exist only in scenario files and on labels; they are
converted here, once.
"""
__all__ = ["FT_M", "NM_M", "KT_MPS", "KMH_MPS", "FL_M", "to_si"]

FT_M = 0.3048                 # international foot [m]
NM_M = 1852.0                 # international nautical mile [m]
KT_MPS = NM_M / 3600.0        # knot [m/s]
KMH_MPS = 1000.0 / 3600.0     # km/h [m/s]
FL_M = 100.0 * FT_M           # one flight level = 100 ft [m]

#: suffix -> (SI quantity suffix, factor to SI)
_FACTORS = {
    "m": ("m", 1.0),
    "km": ("m", 1000.0),
    "ft": ("m", FT_M),
    "nm": ("m", NM_M),
    "kmh": ("mps", KMH_MPS),
    "kt": ("mps", KT_MPS),
    "mps": ("mps", 1.0),
    "s": ("s", 1.0),
    "min": ("s", 60.0),
    "deg": ("deg", 1.0),
    "m2": ("m2", 1.0),
}


def to_si(value, suffix):
    """Convert ``value`` given in unit ``suffix`` (e.g. ``"kt"``) to SI.

    Returns ``(value_si, si_suffix)``.

    >>> to_si(100.0, "kt")[0]
    51.44444444444444
    """
    si, factor = _FACTORS[suffix]
    return value * factor, si
