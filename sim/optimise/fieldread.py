"""Bilinear reads of a cell-centre field, compiled (numba): the route search's innermost operation.

:func:`bilinear_idx` reads a field at fractional (column, row) indices with
the arithmetic of its numpy reference, :func:`bilinear_idx_numpy` (the same
float64 operations in the same order: the same bits, tested on random
fields with forbidden cells and points outside). A point outside the field,
or one whose corner with a positive weight is inf (a forbidden cell), reads
inf. The compiled code is cached on disk (:mod:`geo.compiled`).
"""
import numpy as np

from geo.compiled import jit

__all__ = ["bilinear_idx", "bilinear_many", "bilinear_idx_numpy", "bilinear_corners", "bilinear_at"]


def bilinear_corners(shape, u, v):
    """The four cell-centre neighbours of fractional (column ``u``, row ``v``) indices of a field of ``shape``:
    ``(inside, ((flat index, weight), ...))`` in the order (0, 0), (0, 1), (1, 0), (1, 1) (row, column), shared by
    every field of that shape that :func:`bilinear_at` reads at those points (``inside`` None: every point is)."""
    ny, nx = shape
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    inside = (u >= 0) & (u <= nx - 1) & (v >= 0) & (v <= ny - 1)
    if inside.all():
        uu, vv, inside = u, v, None
    else:
        uu, vv = np.where(inside, u, 0.0), np.where(inside, v, 0.0)
    j0 = np.floor(uu)
    np.clip(j0, 0, max(nx - 2, 0), out=j0)
    i0 = np.floor(vv)
    np.clip(i0, 0, max(ny - 2, 0), out=i0)
    fu, fv = uu - j0, vv - i0
    gu, gv = 1 - fu, 1 - fv
    k00 = i0.astype(np.intp)
    k00 *= nx
    k00 += j0.astype(np.intp)
    if nx >= 2 and ny >= 2:             # the next row and column are inside the field
        k01, k10 = k00 + 1, k00 + nx
        k11 = k10 + 1
    else:
        i0, j0 = k00 // nx, k00 % nx
        r1, j1 = np.minimum(i0 + 1, ny - 1) * nx, np.minimum(j0 + 1, nx - 1)
        k01, k10, k11 = i0 * nx + j1, r1 + j0, r1 + j1
    return inside, ((k00, gu * gv), (k01, fu * gv), (k10, gu * fv), (k11, fu * fv))


def bilinear_at(values, corners):
    """Bilinear interpolation of a cell-centre field at the points of :func:`bilinear_corners` (numpy).

    Outside the grid, or where a corner with a positive weight is inf (forbidden), the value is inf.
    """
    inside, pairs = corners
    flat = np.ravel(values)
    vals = [flat.take(k) for k, _ in pairs]
    total = np.zeros(np.shape(pairs[0][0]))
    with np.errstate(invalid="ignore"):
        for val, (_, w) in zip(vals, pairs):
            total += w * val
    if np.isfinite(total).all():        # no corner is inf (one with weight 0 makes a NaN): the weighted sum
        return total if inside is None else np.where(inside, total, np.inf)
    total[...] = 0.0                    # a forbidden corner: only those with a positive weight count
    bad = np.zeros(total.shape, dtype=bool) if inside is None else ~inside
    for val, (_, w) in zip(vals, pairs):
        used = w > 0
        fin = np.isfinite(val)
        bad |= used & ~fin
        total += np.where(used & fin, w * np.where(fin, val, 0.0), 0.0)
    return np.where(bad, np.inf, total)


def bilinear_idx_numpy(values, u, v):
    """The numpy reference of :func:`bilinear_idx`."""
    return bilinear_at(values, bilinear_corners(np.shape(values), u, v))


@jit()
def _bilinear_many_kernel(fields, which, u, v, out):
    """:func:`bilinear_at` of :func:`bilinear_corners` for the fields ``fields[which]`` (each ``(ny, nx)``, at
    least 2 x 2), point by point: the corners found once per point, each field's value the same bits as the
    numpy reference's."""
    ny, nx = fields.shape[1], fields.shape[2]
    jmax, imax = float(nx - 2), float(ny - 2)
    for p in range(u.shape[0]):
        uu, vv = u[p], v[p]
        if not (uu >= 0 and uu <= nx - 1 and vv >= 0 and vv <= ny - 1):
            for m in range(which.shape[0]):
                out[m, p] = np.inf
            continue
        j0 = min(max(np.floor(uu), 0.0), jmax)
        i0 = min(max(np.floor(vv), 0.0), imax)
        fu, fv = uu - j0, vv - i0
        gu, gv = 1 - fu, 1 - fv
        i, j = np.intp(i0), np.intp(j0)
        w00, w01, w10, w11 = gu * gv, fu * gv, gu * fv, fu * fv
        for m in range(which.shape[0]):
            f = fields[which[m]]
            a, b, c, d = f[i, j], f[i, j + 1], f[i + 1, j], f[i + 1, j + 1]
            total = 0.0
            total += w00 * a
            total += w01 * b
            total += w10 * c
            total += w11 * d
            if np.isfinite(total):
                out[m, p] = total
                continue
            bad = False
            total = 0.0
            for w, x in ((w00, a), (w01, b), (w10, c), (w11, d)):
                if w > 0:
                    if np.isfinite(x):
                        total += w * x
                    else:
                        bad = True
                        total += 0.0
                else:
                    total += 0.0
            out[m, p] = np.inf if bad else total


def bilinear_many(fields, which, u, v):
    """:func:`bilinear_idx` of each field ``fields[k]`` for ``k`` in ``which`` (``fields`` ``(R, ny, nx)``
    float64) at the same points, ``(len(which), *u.shape)``: the same bits, the corners found once."""
    fields = np.ascontiguousarray(fields, dtype=np.float64)
    which = np.asarray(which, dtype=np.intp)
    u, v = np.broadcast_arrays(np.asarray(u, dtype=float), np.asarray(v, dtype=float))
    if fields.shape[1] < 2 or fields.shape[2] < 2:
        return np.array([bilinear_idx_numpy(fields[k], u, v) for k in which]).reshape(len(which), *u.shape)
    out = np.empty((len(which), u.size))
    _bilinear_many_kernel(fields, which, np.ascontiguousarray(u).ravel(), np.ascontiguousarray(v).ravel(), out)
    return out.reshape(len(which), *u.shape)


def bilinear_idx(values, u, v):
    """Bilinear interpolation of a cell-centre field at fractional (column ``u``, row ``v``) indices
    (broadcast), compiled; the same bits as :func:`bilinear_idx_numpy`.

    Outside the grid, or where a corner with a positive weight is inf (forbidden), the value is inf.
    """
    values = np.asarray(values)
    if values.dtype != np.float64:
        return bilinear_idx_numpy(values, u, v)
    return bilinear_many(values[None], [0], u, v)[0]
