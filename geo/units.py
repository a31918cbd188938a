"""Unit conversions at the boundary (scenario files, CLI, plot labels).

Everything inside airpicture is SI: metres, seconds, metres per second.
Aviation units exist only in scenario files and on labels; they are
converted here, once.
"""
__all__ = ["FT_M", "NM_M", "KT_MPS", "KMH_MPS", "FL_M", "UNITS", "to_si"]

FT_M = 0.3048                 # international foot [m]
NM_M = 1852.0                 # international nautical mile [m]
KT_MPS = NM_M / 3600.0        # knot [m/s]
KMH_MPS = 1000.0 / 3600.0     # km/h [m/s]
FL_M = 100.0 * FT_M           # one flight level = 100 ft [m]

#: quantity -> {unit suffix of a scenario key: factor to SI}
UNITS = {
    "length": {"m": 1.0, "km": 1000.0, "ft": FT_M, "nm": NM_M},
    "altitude": {"m": 1.0, "km": 1000.0, "ft": FT_M, "fl": FL_M},
    "speed": {"mps": 1.0, "kmh": KMH_MPS, "kt": KT_MPS},
    "rate": {"mps": 1.0, "fpm": FT_M / 60.0},
    "time": {"s": 1.0, "min": 60.0, "h": 3600.0, "days": 86400.0},
    "area": {"m2": 1.0},
    "angle": {"deg": 1.0},
}


def to_si(value, quantity, suffix):
    """Convert ``value`` of a ``quantity`` given in unit ``suffix`` to SI.

    >>> round(to_si(100.0, "speed", "kt"), 6)
    51.444444
    >>> to_si(330, "altitude", "fl")
    10058.4
    """
    return value * UNITS[quantity][suffix]
