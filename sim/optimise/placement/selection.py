"""The objective of a set of flights and its lazy greedy: ``F(S)``, monotone and submodular in the layout
``S``, with exact gains where a column is computed and bounds elsewhere; greedy picks with the online bound on
the best layout of each size."""
import heapq
from dataclasses import dataclass

import numpy as np

from sim.optimise.placement.columns import P_MAX

__all__ = ["Coverage", "GreedyStep", "lazy_greedy", "TIE_TOLERANCE"]


# --- the objective of a set of flights ----------------------------------------------------------------
def _hazard(P):
    return -np.log1p(-np.minimum(P, P_MAX))


class Coverage:
    """``F(S) = base + sum_i w_i (1 - exp(-sum_{j in S} a_ij))``, ``a_ij = -ln(1 - P_ij)``: the objective
    of one set of flights (a route, or the scenario's mix), monotone and submodular in the layout ``S``.

    ``column(j)`` gives ``P_:j`` (shape (N,)); it is called at most once per candidate, only when needed;
    until then ``upper[:, j]`` (shape (N, M), ``>= P_:j``) stands for it, so every gain computed from
    :attr:`P` is exact for an evaluated candidate and an upper bound for the others.
    """

    def __init__(self, w, base, column, upper, name=""):
        self.w = np.asarray(w, dtype=float)
        self.base = float(base)
        self._column = column
        self.P = np.array(upper, dtype=float, copy=True)
        if self.P.ndim != 2 or self.P.shape[0] != len(self.w):
            raise ValueError("upper must have shape (N, M), N the length of w")
        self.exact = ~np.any(self.P > 0, axis=0)     # a column bounded by 0 is 0: known without computing it
        self.name = name
        self.evaluations = 0
        self._tops = {}             # (start, m) -> each flight's m largest hazards among candidates start.. (cols now)

    @property
    def n_candidates(self):
        return self.P.shape[1]

    def ensure(self, js):
        """Compute the exact columns of candidates ``js`` (those not computed yet)."""
        for j in np.atleast_1d(np.asarray(js, dtype=np.int64)):
            if not self.exact[j]:
                col = np.asarray(self._column(int(j)), dtype=float)
                if np.any(col > self.P[:, j] + 1e-9):
                    raise RuntimeError(f"{self.name}: candidate {int(j)}'s upper bound is below its P (a bug)")
                self.P[:, j] = col
                self.exact[j] = True
                self.evaluations += 1
                self._tops = {k: v for k, v in self._tops.items() if k[0] > j}   # those that read column j go

    def hazard(self, S):
        """``H_i = sum_{j in S} a_ij`` (exact columns), shape (N,)."""
        S = list(S)
        if not S:
            return np.zeros(len(self.w))
        self.ensure(S)
        return _hazard(self.P[:, S]).sum(axis=1)

    def value_at(self, H):
        return self.base + float(np.dot(self.w, -np.expm1(-H)))

    def value(self, S):
        return self.value_at(self.hazard(S))

    def gains(self, H, start=0):
        """Marginal gains at hazards ``H`` of candidates ``start..M-1``: exact where evaluated, bounds elsewhere."""
        return (self.w * np.exp(-H)) @ self.P[:, start:]

    def flight_bound(self, H, m, start=0, exclude=()):
        """An upper bound on ``F`` after adding any ``m`` of the candidates ``start..M-1`` (not ``exclude``) to a
        layout of hazards ``H``: each flight takes its own ``m`` largest hazards (a layout gives every flight
        the same ``m``, so it can do no better)."""
        if m <= 0:
            return self.value_at(H)
        m = min(m, self.P.shape[1] - start)
        if m <= 0:
            return self.value_at(H)
        top = None if len(exclude) else self._tops.get((start, m))
        if top is None:
            A = _hazard(self.P[:, start:])
            if len(exclude):
                A[:, [e - start for e in exclude if e >= start]] = 0.0
            top = -np.partition(-A, m - 1, axis=1)[:, :m].sum(axis=1)
            if not len(exclude):
                self._tops[(start, m)] = top
        return self.value_at(H + top)


# --- lazy greedy --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GreedyStep:
    """One pick of the lazy greedy: candidate ``index``, its marginal gain, the objective after it, and the
    upper bound on the best objective of any layout of ``k`` candidates (on the sample)."""

    k: int
    index: int
    gain: float
    value: float
    bound: float
    evaluations: int            # exact columns computed so far


#: A computed gain within this of the next upper bound is taken (ties need no further columns).
TIE_TOLERANCE = 1e-12


def lazy_greedy(k, cov):
    """Pick ``k`` candidates maximising a :class:`Coverage` by greedy, lazily in the columns.

    At each step the queue holds every candidate's marginal gain at the current layout: exact for a
    candidate whose column has been computed, an upper bound (from ``cov``'s bounds) for the others. The
    top is taken when exact; otherwise its column is computed and its exact gain taken if it is still the
    largest (within :data:`TIE_TOLERANCE`), else put back (Minoux's accelerated greedy; CELF). Ties: the
    first exact one, then the lowest index. When nothing gains, the lowest unpicked index is taken with
    gain 0.

    Returns
    -------
    steps : list of GreedyStep
    bounds : ndarray, shape (k + 1,)
        ``bounds[m]``, an upper bound on ``max_{|T| = m} F(T)``, the least of: over the layouts ``S_i``
        of the run, ``F(S_i)`` plus the ``m`` largest marginal-gain bounds at ``S_i`` (Nemhauser, Wolsey &
        Fisher 1978); greedy's ``F(S_0) + (F(S_m) - F(S_0)) / (1 - (1 - 1/m)^m)``; and each flight with
        its own ``m`` best candidates (:meth:`Coverage.flight_bound`).
    """
    M = cov.n_candidates
    k = min(int(k), M)
    picked, steps, snapshots = [], [], []
    H = np.zeros(len(cov.w))
    base_value = cov.value_at(H)
    value = base_value
    for step in range(1, k + 1):
        g_all = cov.gains(H)
        g_all[picked] = -np.inf
        snapshots.append((value, np.sort(g_all[np.isfinite(g_all)])[::-1][:k]))
        heap = [(-float(g), 0 if cov.exact[j] else 1, j) for j, g in enumerate(g_all) if g > 0]
        heapq.heapify(heap)
        top = None
        while heap:
            neg, inexact, j = heapq.heappop(heap)
            if not inexact:
                top = (-neg, j)
                break
            cov.ensure([j])
            g = float(np.dot(cov.w * np.exp(-H), cov.P[:, j]))
            if not heap or g >= -heap[0][0] - TIE_TOLERANCE:
                top = (g, j)
                break
            heapq.heappush(heap, (-g, 0, j))
        if top is None:
            top = (0.0, next(i for i in range(M) if i not in picked))
        g, j = top
        picked.append(j)
        if g > 0:
            H = H + cov.hazard([j])
        new = cov.value_at(H)
        steps.append((step, j, new - value, new))
        value = new
    g_all = cov.gains(H)
    g_all[picked] = -np.inf
    snapshots.append((value, np.sort(g_all[np.isfinite(g_all)])[::-1][:k]))
    bounds = np.full(k + 1, np.inf)
    bounds[0] = base_value
    zero = np.zeros(len(cov.w))
    for m in range(1, k + 1):
        online = min(v + float(np.sum(np.maximum(keys[:m], 0.0))) for v, keys in snapshots)
        greedy = base_value + (steps[m - 1][3] - base_value) / (1.0 - (1.0 - 1.0 / m) ** m)
        bounds[m] = max(min(online, greedy, cov.flight_bound(zero, m)), steps[m - 1][3])
    out = [GreedyStep(s, j, float(g), float(v), float(bounds[s]), int(cov.evaluations)) for s, j, g, v in steps]
    return out, bounds
