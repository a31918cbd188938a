"""Terrain elevation and radar terrain masking on the effective (k-factor) Earth.

The terrain is the packaged GLOBE 30-arc-second clip (see
``geo/data/PROVENANCE.md``): int16 metres above mean sea level, rows running
north to south, **cell-area registration** (row ``i`` spans latitudes
``[lat_max - (i+1) c, lat_max - i c]``, its value stands for the cell and is
placed at the cell centre ``lat_max - (i + 0.5) c``).

Line of sight is computed on the effective-Earth sphere of radius
``Re = k * EARTH_RADIUS_M`` on which refracted rays are straight lines.
Ground distances are great-circle distances on the true sphere
(``EARTH_RADIUS_M``); a ground distance ``x`` is the central angle
``x / EARTH_RADIUS_M`` on the true sphere and ``x / Re`` on the effective one
(the surface is stretched, not the distances).

All functions are pure; :func:`load_terrain` is the only one that reads a file
and it caches nothing (callers keep the returned object).
"""
import math
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from geo.compiled import jit
from geo.earth import EARTH_RADIUS_M, destination_deg

__all__ = [
    "elevation_m_numpy",
    "cell_max_m_numpy",
    "azimuth_bin_count",
    "DEM_FILENAME",
    "Terrain",
    "load_terrain",
    "elevation_m",
    "MaskingTable",
    "masking_table",
    "min_visible_alt_m",
    "lowest_ray_alt_m",
    "neighbour_max",
    "cell_max_m",
    "ray_clears_terrain",
]

#: Side of the tiles whose highest cells bound the ground under a ray before it is sampled [deg].
TILE_DEG = 0.5
#: Largest spacing of the coarse ray samples checked against the tile bounds [m]; half of it
#: (10 km) is well inside one tile (0.5 deg of longitude is 42 km at 40N).
_COARSE_STEP_M = 20_000.0

#: Packaged DEM file inside ``geo.data`` (GLOBE G10G clip, 28-40N, 32-62E).
DEM_FILENAME = "globe_dem_28N40N_32E62E.npz"


def _readonly(a):
    """A read-only copy of an array."""
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Terrain:
    """A regular lat/lon elevation grid, cell-area registered.

    Attributes
    ----------
    elevation_m : ndarray, shape (n_lat, n_lon), int16 or float
        Heights above mean sea level [m]. Row 0 is the **north** edge, column 0
        the west edge. Stored as a read-only copy.
    lat_max_deg : float
        Latitude of the grid's north outer edge [deg].
    lon_min_deg : float
        Longitude of the grid's west outer edge [deg].
    cell_deg : float
        Cell size in latitude and longitude [deg].

    Notes
    -----
    Cell-area registration: the centre of cell ``(i, j)`` is at latitude
    ``lat_max_deg - (i + 0.5) * cell_deg`` and longitude
    ``lon_min_deg + (j + 0.5) * cell_deg``.
    """

    elevation_m: np.ndarray
    lat_max_deg: float
    lon_min_deg: float
    cell_deg: float
    #: Cells per side of the tiles of :attr:`tile_max_m`.
    tile_cells: int = field(init=False, repr=False)

    def __post_init__(self):
        z = np.asarray(self.elevation_m)
        if z.ndim != 2 or z.shape[0] < 2 or z.shape[1] < 2:
            raise ValueError(f"elevation_m must be 2-D with at least 2x2 cells, got shape {z.shape}")
        if not (np.issubdtype(z.dtype, np.integer) or np.issubdtype(z.dtype, np.floating)):
            raise ValueError(f"elevation_m must be numeric, got dtype {z.dtype}")
        if not (np.isfinite(self.cell_deg) and self.cell_deg > 0):
            raise ValueError(f"cell_deg must be positive, got {self.cell_deg}")
        lat_min = self.lat_max_deg - z.shape[0] * self.cell_deg
        if not (-90.0 <= lat_min < self.lat_max_deg <= 90.0):
            raise ValueError("grid latitudes must lie within [-90, 90]")
        object.__setattr__(self, "elevation_m", _readonly(z))
        object.__setattr__(self, "lat_max_deg", float(self.lat_max_deg))
        object.__setattr__(self, "lon_min_deg", float(self.lon_min_deg))
        object.__setattr__(self, "cell_deg", float(self.cell_deg))
        object.__setattr__(self, "tile_cells", max(1, int(round(TILE_DEG / self.cell_deg))))

    @property
    def tile_max_m(self):
        """Highest cell of each tile and its eight neighbours [m] (an upper bound of the interpolated
        ground within one tile of any point of the tile), shape (n_tile_rows, n_tile_cols). Computed on
        first use and kept (0.15 s for the packaged grid: a run whose masking tables are cached never
        asks for it)."""
        got = self.__dict__.get("_tile_max_m")
        if got is None:
            z, n = self.elevation_m, self.tile_cells
            rows, cols = -(-z.shape[0] // n), -(-z.shape[1] // n)
            padded = np.pad(z.astype(float), ((0, rows * n - z.shape[0]), (0, cols * n - z.shape[1])), mode="edge")
            dilated = neighbour_max(padded.reshape(rows, n, cols, n).max(axis=(1, 3)))
            got = _readonly(np.maximum(dilated, 0.0))        # off the grid: sea level
            object.__setattr__(self, "_tile_max_m", got)       # derived from the frozen fields: never stale
        return got

    @property
    def lat_min_deg(self):
        """Latitude of the south outer edge [deg]."""
        return self.lat_max_deg - self.elevation_m.shape[0] * self.cell_deg

    @property
    def lon_max_deg(self):
        """Longitude of the east outer edge [deg]."""
        return self.lon_min_deg + self.elevation_m.shape[1] * self.cell_deg


def load_terrain():
    """Load the packaged GLOBE 30" DEM clip (28-40N, 32-62E).

    Returns
    -------
    Terrain
        A new object on each call (nothing is cached at module level); keep it.

    References
    ----------
    GLOBE Task Team (D. A. Hastings et al.), *The Global Land One-kilometer
    Base Elevation (GLOBE) Digital Elevation Model, Version 1.0*, NOAA NGDC,
    Boulder, 1999. Provenance of the clip: ``geo/data/PROVENANCE.md``.
    """
    with resources.files("geo.data").joinpath(DEM_FILENAME).open("rb") as f:
        with np.load(f) as d:
            z = d["elevation_m"]
            lat_max = float(d["lat_max"])
            lon_min = float(d["lon_min"])
            cell = float(d["cell_deg"])
    return Terrain(elevation_m=z, lat_max_deg=lat_max, lon_min_deg=lon_min, cell_deg=cell)


def _grid_coordinates(terrain, lat_deg, lon_deg):
    """``(lat, lon, row, col, inside)``: points in fractional cell-centre coordinates (broadcast)."""
    lat, lon = np.broadcast_arrays(np.asarray(lat_deg, dtype=float), np.asarray(lon_deg, dtype=float))
    n_row, n_col = terrain.elevation_m.shape
    r = (terrain.lat_max_deg - lat) / terrain.cell_deg - 0.5
    q = (lon - terrain.lon_min_deg) / terrain.cell_deg - 0.5
    with np.errstate(invalid="ignore"):
        inside = (r >= -0.5) & (r <= n_row - 0.5) & (q >= -0.5) & (q <= n_col - 0.5)
    return lat, lon, r, q, inside


def elevation_m(terrain, lat_deg, lon_deg):
    """Terrain height by bilinear interpolation between cell centres [m].

    Parameters
    ----------
    terrain : Terrain
    lat_deg, lon_deg : array_like
        Point coordinates [deg]; any broadcastable shapes.

    Returns
    -------
    ndarray of float64, broadcast shape of the inputs
        Height above mean sea level [m]. Points outside the grid's outer
        edges return 0.0 (treated as sea level); NaN inputs return NaN.

    Notes
    -----
    Cell-area registration: cell values sit at cell centres. Between the
    outermost cell centres and the outer grid edge (half a cell) the
    interpolation is clamped, i.e. the edge cells' values are extended.
    A cell-centre point reproduces the cell value exactly; elsewhere the
    result lies within the range of the four surrounding cell values.

    Examples
    --------
    >>> ter = load_terrain()
    >>> round(float(elevation_m(ter, 35.955, 52.110)))  # Damavand, GLOBE-smoothed
    5252
    >>> elevation_m(ter, [29.0, 45.0], [50.0, 44.0])  # Persian Gulf; north of the grid
    array([0., 0.])
    """
    return _per_point(_elevation_kernel, elevation_m_numpy, terrain, lat_deg, lon_deg)


def _per_point(kernel, reference, terrain, lat_deg, lon_deg):
    """A compiled per-point terrain read (``kernel(z, lat_max, lon_min, cell, lat, lon, out)``) at points of
    any broadcast shape; fewer than :data:`SMALL_POINTS` (a radar site) go to its numpy ``reference``: the
    same values, no numba to load."""
    lat, lon = np.broadcast_arrays(np.asarray(lat_deg, dtype=float), np.asarray(lon_deg, dtype=float))
    if lat.size < SMALL_POINTS:
        return reference(terrain, lat, lon)
    out = np.empty(lat.shape)
    kernel(terrain.elevation_m, float(terrain.lat_max_deg), float(terrain.lon_min_deg), float(terrain.cell_deg),
           np.ascontiguousarray(lat).ravel(), np.ascontiguousarray(lon).ravel(), out.reshape(-1))
    return out


def elevation_m_numpy(terrain, lat_deg, lon_deg):
    """The numpy reference of :func:`elevation_m` (the same bits)."""
    lat, lon, r, q, inside = _grid_coordinates(terrain, lat_deg, lon_deg)
    z = terrain.elevation_m
    n_row, n_col = z.shape
    r = np.clip(np.where(inside, r, 0.0), 0.0, n_row - 1.0)
    q = np.clip(np.where(inside, q, 0.0), 0.0, n_col - 1.0)
    r0 = np.minimum(r.astype(np.intp), n_row - 2)
    q0 = np.minimum(q.astype(np.intp), n_col - 2)
    fr = r - r0
    fq = q - q0
    z00 = z[r0, q0].astype(float)
    z01 = z[r0, q0 + 1].astype(float)
    z10 = z[r0 + 1, q0].astype(float)
    z11 = z[r0 + 1, q0 + 1].astype(float)
    top = z00 + fq * (z01 - z00)
    bot = z10 + fq * (z11 - z10)
    out = np.where(inside, top + fr * (bot - top), 0.0)
    return np.where(np.isnan(lat) | np.isnan(lon), np.nan, out)


#: Fewer points than this are read by the numpy references (:func:`elevation_m_numpy`, :func:`cell_max_m_numpy`,
#: the same values): loading numba (about 0.4 s and 100 MB in a process that has not yet) costs more than the
#: kernel saves below a few million points (the reference takes about 50 ns a point, 13 ms at this size). A
#: radar site's height and a route's ground profile (the summary's below-ground share, some 7,000 points per
#: route) stay numpy, so a run's parent process never loads numba for them; terrain masking (millions of
#: points) is compiled.
SMALL_POINTS = 1 << 18


@jit(lazy=True)      # numba loads when terrain is first read, not when the command line starts
def _elevation_kernel(z, lat_max, lon_min, cell, lat, lon, out):
    """:func:`elevation_m_numpy`, point by point (the same float64 operations in the same order)."""
    n_row, n_col = z.shape
    for p in range(lat.shape[0]):
        la, lo = lat[p], lon[p]
        if np.isnan(la) or np.isnan(lo):
            out[p] = np.nan
            continue
        r = (lat_max - la) / cell - 0.5
        q = (lo - lon_min) / cell - 0.5
        if not (r >= -0.5 and r <= n_row - 0.5 and q >= -0.5 and q <= n_col - 0.5):
            out[p] = 0.0
            continue
        r = min(max(r, 0.0), n_row - 1.0)
        q = min(max(q, 0.0), n_col - 1.0)
        r0 = min(np.intp(r), n_row - 2)
        q0 = min(np.intp(q), n_col - 2)
        fr = r - r0
        fq = q - q0
        z00 = np.float64(z[r0, q0])
        z01 = np.float64(z[r0, q0 + 1])
        z10 = np.float64(z[r0 + 1, q0])
        z11 = np.float64(z[r0 + 1, q0 + 1])
        top = z00 + fq * (z01 - z00)
        bot = z10 + fq * (z11 - z10)
        out[p] = top + fr * (bot - top)


@dataclass(frozen=True)
class MaskingTable:
    """Lowest visible target altitude per polar bin around one radar.

    Attributes
    ----------
    lat_deg, lon_deg : float
        Radar site [deg].
    antenna_alt_m : float
        Antenna height above mean sea level [m].
    refraction_k : float
        Effective-Earth-radius factor (4/3 standard atmosphere) [-].
    azimuth_step_deg : float
        Azimuth bin width [deg]; ``360 / azimuth_step_deg`` is an integer.
    range_step_m : float
        Ground-range bin width [m].
    min_alt_m : ndarray, shape (n_azimuth, n_range), float64
        Lowest target altitude above mean sea level [m] that the radar sees.
        Read-only.

    Notes
    -----
    Bin convention. Azimuth bin ``a`` is centred on ``a * azimuth_step_deg``
    and spans half a step either side (bin 0 straddles north). Range bin ``j``
    spans ground distances ``[j * range_step_m, (j + 1) * range_step_m]``.
    ``min_alt_m[a, j]`` is the **largest**, over the profile samples along the
    bin-centre radial that lie in range bin ``j`` (both edges included), of the
    lowest altitude visible at that sample. So a target at or above
    ``min_alt_m[a, j]`` anywhere in the range bin on the bin-centre radial is
    seen (conservative within the bin, up to the profile sampling). It is
    never below the terrain sampled in the bin.
    """

    lat_deg: float
    lon_deg: float
    antenna_alt_m: float
    refraction_k: float
    azimuth_step_deg: float
    range_step_m: float
    min_alt_m: np.ndarray

    def __post_init__(self):
        m = np.asarray(self.min_alt_m, dtype=float)
        if m.ndim != 2:
            raise ValueError(f"min_alt_m must be 2-D (n_azimuth, n_range), got shape {m.shape}")
        n_az = 360.0 / self.azimuth_step_deg
        if abs(n_az - round(n_az)) > 1e-9 or round(n_az) != m.shape[0]:
            raise ValueError(
                f"min_alt_m has {m.shape[0]} azimuth rows; 360 / azimuth_step_deg = {n_az}"
            )
        if not self.range_step_m > 0:
            raise ValueError("range_step_m must be positive")
        object.__setattr__(self, "min_alt_m", _readonly(m))

    @property
    def n_azimuth(self):
        """Number of azimuth bins."""
        return self.min_alt_m.shape[0]

    @property
    def n_range(self):
        """Number of range bins."""
        return self.min_alt_m.shape[1]

    @property
    def max_range_m(self):
        """Outer edge of the last range bin [m]."""
        return self.n_range * self.range_step_m


def azimuth_bin_count(azimuth_step_deg):
    """Number of azimuth bins of a step that must divide 360 degrees."""
    n = 360.0 / azimuth_step_deg
    if not (azimuth_step_deg > 0 and abs(n - round(n)) < 1e-9):
        raise ValueError(f"azimuth_step_deg must divide 360, got {azimuth_step_deg}")
    return int(round(n))


def masking_table(
    terrain,
    lat_deg,
    lon_deg,
    antenna_alt_m,
    max_range_m,
    refraction_k,
    azimuth_step_deg=0.5,
    range_step_m=500.0,
    samples_per_bin=4,
):
    """Terrain masking table of one radar (vectorized radial profiles).

    Parameters
    ----------
    terrain : Terrain
    lat_deg, lon_deg : float
        Radar site [deg].
    antenna_alt_m : float
        Antenna height above mean sea level [m] (site elevation plus mast);
        it should be above the terrain at the site.
    max_range_m : float
        Ground range covered [m]; the table has ``ceil(max_range_m / range_step_m)``
        range bins.
    refraction_k : float
        Effective-Earth-radius factor [-] (4/3 for the standard atmosphere).
    azimuth_step_deg : float, default 0.5
        Azimuth bin width [deg]; must divide 360.
    range_step_m : float, default 500
        Range bin width [m].
    samples_per_bin : int, default 4
        Terrain profile samples per range bin (125 m spacing by default).

    Returns
    -------
    MaskingTable
        ``min_alt_m`` shape ``(360 / azimuth_step_deg, n_range)``; see
        :class:`MaskingTable` for the bin convention.

    Notes
    -----
    For each azimuth bin centre a terrain profile ``z(x)`` is sampled along
    the great circle (spherical direct formula, radius ``EARTH_RADIUS_M``)
    every ``range_step_m / samples_per_bin`` metres, by bilinear interpolation
    of the DEM (outside the DEM: sea level). On the effective Earth
    (``Re = k R``), with ``psi = x / Re``, the tangent of the elevation angle
    of a terrain point seen from the antenna (height ``h_r``) is

        tan(theta) = ((Re + z) cos(psi) - (Re + h_r)) / ((Re + z) sin(psi)).

    Its running maximum ``T(x)`` over all samples up to and including ``x``
    (``np.maximum.accumulate``) gives the lowest visible altitude at ``x``:

        h(x) = (Re + h_r) / (cos(psi) - T sin(psi)) - Re

    (infinite where the denominator is not positive). Because the sample at
    ``x`` itself is included, ``h(x) >= z(x)``. Over smooth sea-level terrain
    the running maximum is the tangent (horizon) ray and ``h`` reduces to the
    smooth effective-Earth result; before the horizon it is the ground.
    Each range bin then takes the maximum of ``h`` over its samples (both
    edges), see :class:`MaskingTable`.

    Errors from binning: the GLOBE cell is about 0.93 km north-south and
    0.77 km east-west at 33N, so 125 m samples over-resolve the DEM. Half an
    azimuth bin (0.25 deg) is 0.44 km across-track at 100 km and 1.96 km at
    450 km, i.e. beyond ~200 km the table's radial is up to 2 DEM cells away
    from the target's true radial. Within a range bin the table is the
    largest visible floor, so it is conservative by up to the variation of
    ``h`` across 500 m of range.

    The computation is vectorized over azimuths and samples; azimuths are
    processed in chunks of about one million samples to bound memory.

    References
    ----------
    M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., McGraw-Hill 2001,
    sec. 8.2 (effective Earth radius). L. V. Blake, *Radar Range-Performance
    Analysis*, Artech House 1986, ch. 6 (ray geometry on the 4/3 Earth).
    """
    n_az = azimuth_bin_count(azimuth_step_deg)
    if not (max_range_m > 0 and range_step_m > 0 and refraction_k > 0):
        raise ValueError("max_range_m, range_step_m and refraction_k must be positive")
    spb = int(samples_per_bin)
    if spb < 1 or spb != samples_per_bin:
        raise ValueError("samples_per_bin must be a positive integer")
    n_r = int(math.ceil(max_range_m / range_step_m - 1e-9))
    n_s = n_r * spb
    x_m = range_step_m * np.arange(1, n_s + 1) / spb
    re_m = refraction_k * EARTH_RADIUS_M
    psi = x_m / re_m
    cos_psi, sin_psi = np.cos(psi), np.sin(psi)
    rr_m = re_m + float(antenna_alt_m)

    min_alt = np.empty((n_az, n_r))
    chunk = max(1, 1_000_000 // n_s)
    for a0 in range(0, n_az, chunk):
        a1 = min(a0 + chunk, n_az)
        az = np.arange(a0, a1)[:, None] * azimuth_step_deg
        lat, lon = destination_deg(lat_deg, lon_deg, az, x_m[None, :])
        rz = re_m + elevation_m(terrain, lat, lon)
        tan_t = (rz * cos_psi - rr_m) / (rz * sin_psi)
        tan_max = np.maximum.accumulate(tan_t, axis=1)
        den = cos_psi - tan_max * sin_psi
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(den > 0.0, rr_m / den - re_m, np.inf)
        hb = h.reshape(a1 - a0, n_r, spb).max(axis=2)
        # include each bin's near edge (the previous bin's last sample)
        hb[:, 1:] = np.maximum(hb[:, 1:], h[:, spb - 1 :: spb][:, :-1])
        min_alt[a0:a1] = hb
    return MaskingTable(
        lat_deg=float(lat_deg),
        lon_deg=float(lon_deg),
        antenna_alt_m=float(antenna_alt_m),
        refraction_k=float(refraction_k),
        azimuth_step_deg=float(azimuth_step_deg),
        range_step_m=float(range_step_m),
        min_alt_m=min_alt,
    )


def min_visible_alt_m(table, azimuth_deg, ground_distance_m):
    """Look up the lowest visible target altitude [m] for targets around a radar.

    Parameters
    ----------
    table : MaskingTable
    azimuth_deg : array_like
        Bearing from the radar to the target [deg] (any real value; wrapped).
    ground_distance_m : array_like
        Great-circle ground distance from the radar [m].

    Returns
    -------
    ndarray of float64, broadcast shape of the inputs
        Altitude above mean sea level [m]; a target at or above it is seen.
        ``+inf`` at or beyond ``table.max_range_m``; NaN for NaN inputs.

    Notes
    -----
    Nearest azimuth bin (``round(azimuth / step) mod n_azimuth``) and the range
    bin ``floor(distance / range_step_m)`` that contains the distance.
    Negative distances are treated as 0.
    """
    az, d = np.broadcast_arrays(np.asarray(azimuth_deg, dtype=float), np.asarray(ground_distance_m, dtype=float))
    bad = np.isnan(az) | np.isnan(d)
    ia = np.round(np.where(bad, 0.0, az) / table.azimuth_step_deg).astype(np.int64) % table.n_azimuth
    jr = np.floor(np.maximum(np.where(bad, 0.0, d), 0.0) / table.range_step_m)
    beyond = jr >= table.n_range
    jr = np.where(beyond, 0, jr).astype(np.intp)
    out = np.where(beyond, np.inf, table.min_alt_m[ia, jr])
    return np.where(bad, np.nan, out)


def lowest_ray_alt_m(ground_distance_m, alt_a_m, alt_b_m, refraction_k):
    """Lowest altitude [m] of the straight ray between two points on the effective Earth.

    Parameters
    ----------
    ground_distance_m : array_like
        Great-circle ground distance between the points [m].
    alt_a_m, alt_b_m : array_like
        Altitudes of the two ends above mean sea level [m].
    refraction_k : float
        Effective-Earth-radius factor [-].

    Returns
    -------
    ndarray
        ``min(r) - Re`` over the segment, with ``Re = k R``: the distance from
        the Earth's centre to the chord is ``r1 r2 sin(Psi) / c`` where the
        foot of the perpendicular falls between the ends (``c`` the chord
        length, ``Psi = d / Re``), else the lower end.

    Examples
    --------
    >>> round(float(lowest_ray_alt_m(0.0, 100.0, 300.0, 4 / 3)), 6)
    100.0
    >>> round(float(lowest_ray_alt_m(200e3, 5000.0, 5000.0, 4 / 3)))   # sag 5000 - d^2 / (8 Re)
    4411
    """
    re_m = refraction_k * EARTH_RADIUS_M
    psi = np.asarray(ground_distance_m, dtype=float) / re_m
    r1 = re_m + np.asarray(alt_a_m, dtype=float)
    r2 = re_m + np.asarray(alt_b_m, dtype=float)
    c = np.sqrt(np.maximum(r1 * r1 + r2 * r2 - 2.0 * r1 * r2 * np.cos(psi), 0.0))
    # the perpendicular's foot is inside the segment when both end angles are acute
    inside = (r1 * r1 + c * c > r2 * r2) & (r2 * r2 + c * c > r1 * r1) & (c > 0)
    perp = r1 * r2 * np.sin(psi) / np.where(c > 0, c, 1.0)
    return np.where(inside, perp, np.minimum(r1, r2)) - re_m


def cell_max_m(terrain, lat_deg, lon_deg):
    """The highest of the four cell centres that :func:`elevation_m` interpolates between at each point [m].

    An upper bound of the interpolated ground anywhere in that interpolation
    cell (bilinear values never exceed their corners); 0 outside the grid.

    >>> ter = load_terrain()
    >>> bool(cell_max_m(ter, 35.955, 52.110) >= elevation_m(ter, 35.955, 52.110))
    True
    """
    return _per_point(_cell_max_kernel, cell_max_m_numpy, terrain, lat_deg, lon_deg)


def cell_max_m_numpy(terrain, lat_deg, lon_deg):
    """The numpy reference of :func:`cell_max_m` (the same values)."""
    _, _, r, q, inside = _grid_coordinates(terrain, lat_deg, lon_deg)
    z = terrain.elevation_m
    n_row, n_col = z.shape
    r0 = np.clip(np.floor(np.where(inside, r, 0.0)), 0, n_row - 2).astype(np.intp)
    q0 = np.clip(np.floor(np.where(inside, q, 0.0)), 0, n_col - 2).astype(np.intp)
    top = np.maximum.reduce([z[r0, q0], z[r0, q0 + 1], z[r0 + 1, q0], z[r0 + 1, q0 + 1]]).astype(float)
    return np.where(inside, np.maximum(top, 0.0), 0.0)


@jit(lazy=True)      # numba loads when terrain is first read, not when the command line starts
def _cell_max_kernel(z, lat_max, lon_min, cell, lat, lon, out):
    """:func:`cell_max_m_numpy`, point by point."""
    n_row, n_col = z.shape
    for p in range(lat.shape[0]):
        r = (lat_max - lat[p]) / cell - 0.5
        q = (lon[p] - lon_min) / cell - 0.5
        if not (r >= -0.5 and r <= n_row - 0.5 and q >= -0.5 and q <= n_col - 0.5):
            out[p] = 0.0
            continue
        r0 = np.intp(min(max(np.floor(r), 0.0), n_row - 2.0))
        q0 = np.intp(min(max(np.floor(q), 0.0), n_col - 2.0))
        top = max(max(z[r0, q0], z[r0, q0 + 1]), max(z[r0 + 1, q0], z[r0 + 1, q0 + 1]))
        out[p] = max(np.float64(top), 0.0)


def neighbour_max(a):
    """The largest of each element of a 2-D array and its 8 neighbours (edges repeated).

    >>> neighbour_max(np.array([[0, 0, 0], [0, 5, 0], [0, 0, 1]])).tolist()
    [[5, 5, 5], [5, 5, 5], [5, 5, 5]]
    """
    p = np.pad(a, 1, mode="edge")
    rows = np.maximum(np.maximum(p[:-2], p[1:-1]), p[2:])              # the 3 x 3 maximum is separable
    return np.maximum(np.maximum(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])


def _tile_bound_m(terrain, lat_deg, lon_deg):
    """Upper bound [m] of the interpolated ground within one tile of each point."""
    c = terrain.tile_cells * terrain.cell_deg
    rows, cols = terrain.tile_max_m.shape
    i = np.clip(np.floor((terrain.lat_max_deg - lat_deg) / c), 0, rows - 1).astype(np.intp)
    j = np.clip(np.floor((lon_deg - terrain.lon_min_deg) / c), 0, cols - 1).astype(np.intp)
    return terrain.tile_max_m[i, j]


def _along_rays(a, b, theta, f):
    """Lat/lon [deg] of the points at fractions ``f`` (n, k) of the great circles from ``a`` to ``b`` (n, 3)."""
    th = theta[:, None]
    sin_th = np.sin(th)
    small = sin_th < 1e-12
    wa = np.where(small, 1.0 - f, np.sin((1.0 - f) * th) / np.where(small, 1.0, sin_th))
    wb = np.where(small, f, np.sin(f * th) / np.where(small, 1.0, sin_th))
    p = wa[..., None] * a[:, None, :] + wb[..., None] * b[:, None, :]
    p /= np.linalg.norm(p, axis=-1, keepdims=True)
    return np.degrees(np.arcsin(np.clip(p[..., 2], -1.0, 1.0))), np.degrees(np.arctan2(p[..., 1], p[..., 0]))


def _ray_alt_m(d, ha, hb, f, re_m):
    """Altitude [m] of the straight effective-Earth ray at ground fractions ``f`` (n, k)."""
    big = (d / re_m)[:, None]
    psi = f * big
    r1 = re_m + ha[:, None]
    r2 = re_m + hb[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = r1 * r2 * np.sin(big) / (r2 * np.sin(big - psi) + r1 * np.sin(psi))
    return np.where(big > 0, r - re_m, ha[:, None] + f * (hb - ha)[:, None])


def ray_clears_terrain(terrain, xyz_a, alt_a_m, xyz_b, alt_b_m, refraction_k, step_m=500.0, block=4096):
    """Whether straight rays on the effective Earth clear the terrain (vectorized).

    Parameters
    ----------
    terrain : Terrain
    xyz_a, xyz_b : ndarray, shape (N, 3)
        Earth-centred unit vectors of the two ends (e.g. an airborne radar and a target).
    alt_a_m, alt_b_m : array_like, shape (N,)
        Altitudes above mean sea level [m].
    refraction_k : float
        Effective-Earth-radius factor [-].
    step_m : float, default 500
        Largest spacing of the checked points along each path [m] (the
        GLOBE cells are about 800-900 m wide here).
    block : int
        Rays checked per array operation (bounds memory).

    Returns
    -------
    ndarray of bool, shape (N,)
        True when at every checked point along the great-circle path (the
        far end included) the ray is at or above the terrain.

    Notes
    -----
    The ray's altitude at ground angle ``psi`` is
    ``r1 r2 sin(Psi) / (r2 sin(Psi - psi) + r1 sin(psi)) - Re``, the straight
    line on the effective-Earth sphere (as in the masking tables). Checking
    every ``step_m`` is the definition; two exact bounds skip most of it
    without changing any answer: a ray whose lowest point
    (:func:`lowest_ray_alt_m`) is above the highest cell of the terrain
    clears it; otherwise the ray is cut into pieces at most 20 km long, and a
    piece whose lowest point is above the highest cell of the tiles around it
    (:attr:`Terrain.tile_max_m`) clears them. Only the other pieces are
    sampled every ``step_m``. The slow reference is ``line_of_sight_brute``
    in the tests.
    """
    a = np.asarray(xyz_a, dtype=float).reshape(-1, 3)
    b = np.asarray(xyz_b, dtype=float).reshape(-1, 3)
    n = len(a)
    ha = np.broadcast_to(np.asarray(alt_a_m, dtype=float), (n,))
    hb = np.broadcast_to(np.asarray(alt_b_m, dtype=float), (n,))
    theta = 2.0 * np.arcsin(np.clip(np.linalg.norm(b - a, axis=1) / 2.0, 0.0, 1.0))
    d = EARTH_RADIUS_M * theta
    ok = lowest_ray_alt_m(d, ha, hb, refraction_k) >= float(terrain.tile_max_m.max())
    todo = np.flatnonzero(~ok)
    re_m = refraction_k * EARTH_RADIUS_M
    for s in range(0, len(todo), block):
        i = todo[s:s + block]
        m = max(1, int(np.ceil(d[i].max() / _COARSE_STEP_M)))            # pieces per ray
        fc = np.broadcast_to(np.arange(m + 1) / m, (len(i), m + 1))
        hc = _ray_alt_m(d[i], ha[i], hb[i], fc, re_m)
        low = lowest_ray_alt_m(d[i, None] / m, hc[:, :-1], hc[:, 1:], refraction_k)   # (n, m)
        lat, lon = _along_rays(a[i], b[i], theta[i], (fc[:, :-1] + fc[:, 1:]) / 2.0)
        ray, piece = np.nonzero(low < _tile_bound_m(terrain, lat, lon))            # pieces to sample
        clear = np.ones(len(i), dtype=bool)
        if len(ray):
            k = max(1, int(np.ceil(d[i].max() / m / step_m)))
            f = (piece[:, None] + np.arange(1, k + 1) / k) / m                       # (P, k), far end included
            j = i[ray]
            plat, plon = _along_rays(a[j], b[j], theta[j], f)
            above = np.all(_ray_alt_m(d[j], ha[j], hb[j], f, re_m) >= elevation_m(terrain, plat, plon), axis=1)
            np.logical_and.at(clear, ray, above)
        ok[i] = clear
    return ok
