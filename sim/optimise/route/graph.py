"""The search graph and its constrained shortest paths: the 16-neighbour graph of a grid and a hazard field,
and the least hazard within a length budget by Lagrangian relaxation (Dijkstra on ``cost + mu * length``,
bisection on the price ``mu``), with its duality gap."""
import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo.earth import EARTH_RADIUS_M
from sim.optimise.fieldread import bilinear_idx

__all__ = ["GridGraph", "grid_graph", "ConstrainedPath", "LagrangianSearch", "MOVES_16"]

#: The 16 moves of the search graph: 4 rook, 4 bishop and 8 knight moves (row, column).
MOVES_16 = ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1),
            (1, 2), (2, 1), (-1, 2), (-2, 1), (1, -2), (2, -1), (-1, -2), (-2, -1))
#: The smallest price of length [1/m]: the hazard-first search (a tie-breaker among equally safe paths).
MU_MIN_PER_M = 1e-12
#: The largest price of length tried [1/m] before a budget is declared infeasible on the grid.
MU_MAX_PER_M = 1e3
#: The search for a budget's price stops when the duality gap is below this (cost units: about this change in P(detect)) ...
GAP_ABS = 1e-4
#: ... or below this fraction of the cost ...
GAP_REL = 1e-3
#: ... or after this many Dijkstra runs for one budget.
MAX_EVALUATIONS = 40


# --- the graph ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridGraph:
    """The 16-neighbour directed graph of a grid in CSR form; edges sorted by (source, target).

    ``cost`` is the hazard integral over each edge's flight time [-], ``length_m``
    its great-circle length between cell centres [m].
    """

    n_nodes: int
    indptr: np.ndarray     # (n_nodes + 1,)
    indices: np.ndarray    # (E,) target node
    source: np.ndarray     # (E,) source node
    length_m: np.ndarray   # (E,)
    cost: np.ndarray       # (E,)

    def edge_ids(self, nodes):
        """The edges along a node path."""
        out = np.empty(max(len(nodes) - 1, 0), dtype=np.int64)
        for k, (u, v) in enumerate(zip(nodes[:-1], nodes[1:])):
            lo, hi = self.indptr[u], self.indptr[u + 1]
            out[k] = lo + np.searchsorted(self.indices[lo:hi], v)
        return out

    def matrix(self, weights):
        return csr_matrix((weights, self.indices, self.indptr), shape=(self.n_nodes, self.n_nodes))


def _samples(length_cells):
    """Samples of a straight segment ``length_cells`` spacings long: at most half a spacing apart."""
    return max(int(np.ceil(length_cells / 0.5 - 1e-9)), 1) + 1


def grid_graph(grid, field_per_s, speed_mps):
    """The :class:`GridGraph` of a grid and a hazard field.

    An edge joins two allowed cells by one of :data:`MOVES_16`; its cost is
    the trapezoid rule on the field's bilinear values at samples at most half
    a spacing apart along it (the same rule as :func:`string_pull` and
    :func:`route_cost`) times its flight time; an edge any of whose samples
    needs a forbidden cell is left out.
    """
    ny, nx = grid.shape
    I, J = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    lam = np.where(grid.allowed, field_per_s, np.inf)
    src, dst, length, cost = [], [], [], []
    for di, dj in MOVES_16:
        ok = grid.allowed & (I + di >= 0) & (I + di < ny) & (J + dj >= 0) & (J + dj < nx)
        a_i, a_j = I[ok], J[ok]
        b_i, b_j = a_i + di, a_j + dj
        ok_b = grid.allowed[b_i, b_j]
        a_i, a_j, b_i, b_j = a_i[ok_b], a_j[ok_b], b_i[ok_b], b_j[ok_b]
        n = _samples(math.hypot(di, dj))
        t = np.linspace(0.0, 1.0, n)
        w = np.where((t == 0) | (t == 1), 0.5, 1.0)
        acc = np.zeros(len(a_i))
        for tk, wk in zip(t, w):
            acc += wk * bilinear_idx(lam, a_j + dj * tk, a_i + di * tk)
        keep = np.isfinite(acc)
        xa, xb = grid.xyz[a_i[keep], a_j[keep]], grid.xyz[b_i[keep], b_j[keep]]
        ell = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(np.linalg.norm(xa - xb, axis=-1) / 2.0, 1.0))
        src.append(a_i[keep] * nx + a_j[keep])
        dst.append(b_i[keep] * nx + b_j[keep])
        length.append(ell)
        cost.append(acc[keep] / (n - 1) * ell / speed_mps)
    src, dst = np.concatenate(src), np.concatenate(dst)
    order = np.lexsort((dst, src))
    n_nodes = ny * nx
    indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n_nodes))]).astype(np.int64)
    return GridGraph(n_nodes, indptr, dst[order].astype(np.int32), src[order].astype(np.int32),
                     np.concatenate(length)[order], np.concatenate(cost)[order])


# --- the constrained shortest path ---------------------------------------------------------------------
@dataclass(frozen=True)
class ConstrainedPath:
    """The best grid path found within a length budget, and the Lagrangian bound on any.

    ``cost`` is the path's hazard integral (the upper bound), ``lower_bound``
    the best dual value ``max over mu of min over paths (cost + mu (length -
    budget))``: no grid path within the budget costs less. ``gap = cost -
    lower_bound`` (0 when the hazard-first path fits the budget).
    """

    nodes: np.ndarray
    cost: float
    length_m: float
    budget_m: float
    lower_bound: float
    mu_per_m: float
    evaluations: int

    @property
    def gap(self):
        return max(self.cost - self.lower_bound, 0.0)


class LagrangianSearch:
    """Constrained shortest paths between two nodes of one graph, by Lagrangian relaxation.

    Every Dijkstra run (one per price of length ``mu``) is kept, so budgets
    solved one after another share them; each run gives a lower bound for
    every budget, and its path is a candidate for every budget it fits.
    """

    def __init__(self, graph, source, target):
        self.graph, self.source, self.target = graph, int(source), int(target)
        self._runs = {}        # mu -> (nodes, cost, length)

    @property
    def runs(self):
        """Dijkstra runs so far."""
        return len(self._runs)

    def at(self, mu):
        """The path minimising ``cost + mu * length`` (None when the target cannot be reached)."""
        mu = float(mu)
        if mu not in self._runs:
            g = self.graph
            dist, pred = dijkstra(g.matrix(g.cost + mu * g.length_m), directed=True, indices=self.source,
                                  return_predecessors=True)
            if not np.isfinite(dist[self.target]):
                self._runs[mu] = None
            else:
                nodes = [self.target]
                while nodes[-1] != self.source:
                    nodes.append(int(pred[nodes[-1]]))
                nodes = np.array(nodes[::-1], dtype=np.int64)
                e = g.edge_ids(nodes)
                self._runs[mu] = (nodes, float(g.cost[e].sum()), float(g.length_m[e].sum()))
        return self._runs[mu]

    def shortest_length_m(self):
        """The length of the shortest grid path (the least a budget can be); inf when unreachable."""
        run = self.at(MU_MAX_PER_M)
        return np.inf if run is None else run[2]

    def _bounds(self, budget_m):
        lower, best = -np.inf, None
        for mu, found in self._runs.items():
            if found is None:
                continue
            _, c, ell = found
            lower = max(lower, c + mu * (ell - budget_m))
            if ell <= budget_m and (best is None or (c, ell) < (best[1][1], best[1][2])):
                best = (mu, found)
        return lower, best

    def safer(self, budget_m, cost):
        """Paths found so far that are longer than ``budget_m`` but cost less than ``cost``: the nearest
        in length and the safest, as node arrays (the neighbours across the duality gap)."""
        runs = [r for r in self._runs.values() if r is not None and r[2] > budget_m and r[1] < cost]
        if not runs:
            return []
        near = min(runs, key=lambda r: (r[2], r[1]))
        safest = min(runs, key=lambda r: (r[1], r[2]))
        return [near[0]] if near is safest else [near[0], safest[0]]

    def solve(self, budget_m):
        """The best path within ``budget_m`` (a :class:`ConstrainedPath`), or None when none fits."""
        start = len(self._runs)
        if self.at(MU_MIN_PER_M) is None:
            return None
        feasible = {mu: r for mu, r in self._runs.items() if r is not None and r[2] <= budget_m}
        infeasible = [mu for mu, r in self._runs.items() if r is not None and r[2] > budget_m]
        hi = min(feasible) if feasible else None
        lo = max([m for m in infeasible if hi is None or m < hi], default=None)
        if hi is None:                       # raise the price until the path fits
            mu = max(lo * 10.0, 1e-9)
            while mu <= MU_MAX_PER_M:
                run = self.at(mu)
                if run[2] <= budget_m:
                    hi = mu
                    break
                lo = mu
                mu *= 10.0
            if hi is None:
                return None
        while lo is not None and len(self._runs) - start < MAX_EVALUATIONS:
            lower, (mu_best, run) = self._bounds(budget_m)
            if run[1] - lower <= GAP_ABS + GAP_REL * run[1] or hi / lo < 1.0 + 1e-9:
                break
            # the price at which the two bracketing paths tie (Eisner and Severance 1976): a path cheaper
            # there is a new vertex of the lower hull of (length, cost) between them; none proves the
            # bracket an edge of the hull, whose dual bound is then the best any price gives
            (_, c_lo, l_lo), (_, c_hi, l_hi) = self._runs[lo], self._runs[hi]
            mid = (c_hi - c_lo) / (l_lo - l_hi) if l_lo > l_hi else math.sqrt(lo * hi)
            if not lo < mid < hi:
                mid = math.sqrt(lo * hi)
            tie = c_lo + mid * l_lo
            found = self.at(mid)
            if found[1] + mid * found[2] >= tie - 1e-12 * max(abs(tie), 1.0):
                break
            if found[2] <= budget_m:
                hi = mid
            else:
                lo = mid
        lower, (mu_best, run) = self._bounds(budget_m)
        return ConstrainedPath(run[0], run[1], run[2], float(budget_m), float(np.clip(lower, 0.0, run[1])), mu_best,
                               len(self._runs) - start)
