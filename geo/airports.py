"""Built-in airport table (ICAO code, name, position, elevation).

Positions and elevations from OpenFlights ``airports.dat`` (itself from
OurAirports); see ``geo/data/PROVENANCE.md``. Elevations are converted from
feet to metres at load time.
"""
import csv
from dataclasses import dataclass
from importlib.resources import files

from geo.units import FT_M

__all__ = ["Airport", "load_airports"]


@dataclass(frozen=True)
class Airport:
    """One airport: ``lat_deg``, ``lon_deg`` (WGS84), ``elevation_m`` above mean sea level."""

    icao: str
    name: str
    country_iso_a3: str
    lat_deg: float
    lon_deg: float
    elevation_m: float


def load_airports():
    """Return the built-in airport table as ``{ICAO: Airport}``, in file order."""
    text = files("geo.data").joinpath("airports.csv").read_text(encoding="utf-8")
    table = {}
    for row in csv.DictReader(text.splitlines()):
        table[row["icao"]] = Airport(
            icao=row["icao"],
            name=row["name"],
            country_iso_a3=row["country"],
            lat_deg=float(row["lat_deg"]),
            lon_deg=float(row["lon_deg"]),
            elevation_m=float(row["elevation_ft"]) * FT_M,
        )
    return table
