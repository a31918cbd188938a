"""The search grid: cell centres on the scenario's equal-area plane between two endpoints, the cells a route
may use, and reads of a cell-centre field at projected points (:mod:`sim.optimise.fieldread`)."""
import math
from dataclasses import dataclass

import numpy as np
import shapely

from geo.earth import unit_vectors
from geo.geodesy import leg_geometry
from sim.optimise.fieldread import bilinear_idx

__all__ = ["SearchGrid", "search_grid", "route_length_m", "DEFAULT_SPACING_M", "MAX_CELLS", "AVOID_BUFFER_CELLS"]

#: Grid spacing of the search [m] (a few km: the error bounds in docs/evade.md scale with it).
DEFAULT_SPACING_M = 5_000.0
#: Most cells of a search grid; a larger area gets a coarser grid (the spacing used is reported).
MAX_CELLS = 250_000
#: Forbidden airspaces are widened by this many grid spacings when cells are removed, so that no edge
#: between two allowed cells (at most sqrt(5) spacings long) can cut into them.
AVOID_BUFFER_CELLS = 1.2


# --- the grid ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchGrid:
    """Cell centres of the search on the projected plane; axis 0 = row (y), axis 1 = column (x).

    ``allowed`` marks the cells a route may use: inside the ellipse of points
    reachable within the largest budget, inside the terrain model when one is
    used, outside the forbidden airspaces (widened by
    :data:`AVOID_BUFFER_CELLS` spacings).
    """

    transformer: object             # lon/lat -> metres (always_xy)
    spacing_m: float
    x_m: np.ndarray                 # (nx,)
    y_m: np.ndarray                 # (ny,)
    lat_deg: np.ndarray             # (ny, nx)
    lon_deg: np.ndarray             # (ny, nx)
    xyz: np.ndarray                 # (ny, nx, 3)
    allowed: np.ndarray             # (ny, nx) bool
    origin_cell: tuple              # (row, col)
    dest_cell: tuple
    origin_xy: tuple                # exact endpoints [m]
    dest_xy: tuple
    avoid_polygons_m: tuple = ()    # the forbidden airspaces (not widened), projected

    @property
    def shape(self):
        return self.allowed.shape

    def node(self, cell):
        return int(cell[0]) * self.shape[1] + int(cell[1])

    def to_xy(self, lat_deg, lon_deg):
        x, y = self.transformer.transform(np.asarray(lon_deg, dtype=float), np.asarray(lat_deg, dtype=float))
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def to_lat_lon(self, x_m, y_m):
        lon, lat = self.transformer.transform(np.asarray(x_m, dtype=float), np.asarray(y_m, dtype=float),
                                              direction="INVERSE")
        return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)

    def describe(self):
        """What the grid is, for digests and outputs."""
        return {"spacing_m": self.spacing_m, "x0_m": float(self.x_m[0]), "y0_m": float(self.y_m[0]),
                "nx": int(len(self.x_m)), "ny": int(len(self.y_m)), "crs": self.transformer.target_crs.to_wkt()}


def search_grid(transformer, origin, dest, max_extra_m, spacing_m=DEFAULT_SPACING_M, terrain=None,
                avoid_polygons_m=(), margin_m=0.0):
    """The search grid between two endpoints (``(lat_deg, lon_deg)`` each) for budgets up to ``max_extra_m``.

    The cells are those of the ellipse with the endpoints as foci whose points
    can be reached within the largest budget (plus two spacings), on a square
    grid of ``spacing_m`` in the projection of ``transformer`` (made coarser when
    it would exceed :data:`MAX_CELLS`), restricted to the terrain model's area
    when ``terrain`` is given and outside ``avoid_polygons_m``. The grid reaches
    ``margin_m`` beyond the ellipse on every side (cells not allowed: a route
    never enters them, but a flight flown off its route's line does, so the
    hazard is known there).
    Raises :class:`~sim.scenario.ScenarioError` when an endpoint is not allowed.
    """
    ox, oy = (float(v) for v in transformer.transform(origin[1], origin[0]))
    dx, dy = (float(v) for v in transformer.transform(dest[1], dest[0]))
    d = math.hypot(dx - ox, dy - oy)
    a = (d + max_extra_m) / 2.0 + 2.0 * spacing_m
    c = d / 2.0
    b = math.sqrt(max(a * a - c * c, 0.0))
    theta = math.atan2(dy - oy, dx - ox)
    hx = math.sqrt((a * math.cos(theta)) ** 2 + (b * math.sin(theta)) ** 2) + margin_m
    hy = math.sqrt((a * math.sin(theta)) ** 2 + (b * math.cos(theta)) ** 2) + margin_m
    spacing = float(spacing_m)
    cells = (2 * hx / spacing + 1) * (2 * hy / spacing + 1)
    if cells > MAX_CELLS:
        spacing = float(np.ceil(spacing * math.sqrt(cells / MAX_CELLS) / 100.0) * 100.0)
    mx, my = (ox + dx) / 2.0, (oy + dy) / 2.0
    nx, ny = int(np.ceil(hx / spacing)), int(np.ceil(hy / spacing))
    x = mx + np.arange(-nx, nx + 1) * spacing
    y = my + np.arange(-ny, ny + 1) * spacing
    X, Y = np.meshgrid(x, y)
    lon, lat = transformer.transform(X, Y, direction="INVERSE")
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    allowed = np.hypot(X - ox, Y - oy) + np.hypot(X - dx, Y - dy) <= 2.0 * a
    if terrain is not None:
        allowed &= ((lat >= terrain.lat_min_deg) & (lat <= terrain.lat_max_deg)
                    & (lon >= terrain.lon_min_deg) & (lon <= terrain.lon_max_deg))
    for poly in avoid_polygons_m:
        wide = shapely.buffer(poly, AVOID_BUFFER_CELLS * spacing)
        allowed &= ~shapely.contains_xy(wide, X, Y)
    grid = SearchGrid(transformer, spacing, x, y, lat, lon, unit_vectors(lat, lon), allowed,
                      _nearest_cell(x, y, ox, oy), _nearest_cell(x, y, dx, dy), (ox, oy), (dx, dy),
                      tuple(avoid_polygons_m))
    return grid


def _nearest_cell(x, y, px, py):
    return (int(np.clip(np.rint((py - y[0]) / (y[1] - y[0])), 0, len(y) - 1)),
            int(np.clip(np.rint((px - x[0]) / (x[1] - x[0])), 0, len(x) - 1)))


def route_length_m(lat_deg, lon_deg):
    """Geodesic (WGS84) length of a polyline [m]."""
    return float(leg_geometry(lat_deg, lon_deg)[1].sum())


def _bilinear(grid, values, x_m, y_m):
    """Bilinear interpolation of a cell-centre field at projected points (:func:`sim.optimise.fieldread.bilinear_idx`)."""
    h = grid.spacing_m
    return bilinear_idx(values, (np.asarray(x_m) - grid.x_m[0]) / h, (np.asarray(y_m) - grid.y_m[0]) / h)
