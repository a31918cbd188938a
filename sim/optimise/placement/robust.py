"""The robust layout: the best layout against the worst route of a set, ``max_{|S| = k} min_r F_r(S)``, by
branch and bound (exact on the sample unless its node limit is reached, then with its bound)."""
from dataclasses import dataclass

import numpy as np

from sim.optimise.placement.selection import _hazard

__all__ = ["RobustLayout", "robust_layout", "NODE_LIMIT"]

#: Branch and bound of the robust step: most nodes before it stops with its bound (a count, not a time: the
#: same inputs give the same layout on any machine).
NODE_LIMIT = 20_000


# --- the robust layout --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RobustLayout:
    """The best layout against the worst route of a set: ``max_{|S| = k} min_r F_r(S)`` on the sample."""

    layout: tuple           # candidate indices, increasing
    value: float            # min over routes of F_r(layout)
    bound: float            # no layout of k candidates does better than this (on the sample)
    proven: bool            # the search finished: the layout is the best (bound == value)
    nodes: int
    method: str


def robust_layout(covs, k, incumbents=(), node_limit=NODE_LIMIT):
    """``max over |S| = k of min_r F_r(S)`` over the :class:`Coverage` objects ``covs`` (one per route).

    Branch and bound over layouts in increasing index order (depth first, the most promising child
    first), from the best of ``incumbents`` (layouts) and greedy on the minimum. A node's children are
    bounded by the per-route submodular bound ``min_r [F_r(S) + g_r(j) + the k - |S| - 1 largest other
    marginal gains on route r]`` and dropped unless it beats the incumbent; the last pick is evaluated for
    every candidate at once (a single addition's gain is exact). Every node is also bounded by each
    flight taking its own best remaining candidates (:meth:`Coverage.flight_bound`), which proves a
    layout that gives every flight of the worst route all it could get. Stops after ``node_limit`` nodes;
    the bound is then the largest of the open nodes'.

    Columns are computed only where they can decide: a node is bounded with the columns as they stand
    (exact where computed, the upper bounds elsewhere: raising a hazard never lowers a coverage, so every
    bound stays a bound), and a leaf's value is made exact only on the routes that could set it, those
    whose value with the computed columns alone (a lower bound) is below it.
    """
    M = covs[0].n_candidates
    k = min(int(k), M)

    def state(S, exact=True):
        """The hazards and values of layout ``S`` on every route: exact, or with the columns as they stand (upper
        bounds)."""
        S = list(S)
        H = [c.hazard(S) if exact else (_hazard(c.P[:, S]).sum(axis=1) if S else np.zeros(len(c.w)))
             for c in covs]
        return H, np.array([c.value_at(h) for c, h in zip(covs, H)])

    def value(S):
        return float(np.min(state(tuple(sorted(S)))[1]))

    def lower(c, T):
        """``F`` of layout ``T`` on one route from its computed columns only (a lower bound)."""
        known = [j for j in T if c.exact[j]]
        return c.value_at(_hazard(c.P[:, known]).sum(axis=1)) if known else c.base

    def best_addition(S, start, exclude=(), floor=-np.inf):
        """The candidate ``j >= start`` (not in ``exclude``) with the largest ``min_r F_r(S + j)``, exactly;
        ``(None, -inf)`` when none can exceed ``floor``."""
        while True:
            H, F = state(S, exact=False)
            g = np.array([c.gains(h, start) for c, h in zip(covs, H)])
            v = np.min(F[:, None] + g, axis=0)          # upper bounds, exact where every column is
            v[[e - start for e in exclude if e >= start]] = -np.inf
            j = int(np.argmax(v))
            if not np.isfinite(v[j]) or v[j] <= floor:
                return None, -np.inf
            T = list(S) + [start + j]
            need = [c for c in covs if not c.exact[T].all() and lower(c, T) < v[j]]
            if not need:
                return start + j, float(v[j])
            for c in need:
                c.ensure(T)

    if k <= 0:
        v = value(())
        return RobustLayout((), v, v, True, 0, "empty")
    S = []
    for _ in range(k):        # greedy on the minimum: the first incumbent
        j, _ = best_addition(tuple(S), 0, exclude=S)
        S.append(j)
    cands = [tuple(sorted(S))] + [tuple(sorted(int(j) for j in s)) for s in incumbents if len(set(s)) == k]
    scored = [(value(s), s) for s in cands]
    best, best_S = max(scored, key=lambda x: (x[0], [-j for j in x[1]]))
    eps = 1e-12
    stack = [(np.inf, ())]
    nodes = 0
    open_bound = -np.inf
    while stack:
        ub, S = stack.pop()
        if ub <= best + eps:
            continue
        if nodes >= node_limit:
            open_bound = max([ub] + [u for u, _ in stack])
            break
        nodes += 1
        start = S[-1] + 1 if S else 0
        left = k - len(S)
        if M - start < left:
            continue
        if left == 1:
            j, v = best_addition(S, start, floor=best + eps)
            if j is not None and v > best + eps:
                best, best_S = v, tuple(S) + (j,)
            continue
        H, F = state(S, exact=False)
        flights = min(c.flight_bound(h, left, start) for c, h in zip(covs, H))
        if flights <= best + eps:
            continue
        g = np.array([c.gains(h, start) for c, h in zip(covs, H)])          # (R, M - start)
        rest = -np.sort(-g, axis=1)[:, :left - 1].sum(axis=1)
        child = np.minimum(np.min(F[:, None] + g + rest[:, None], axis=0), flights)[: M - start - (left - 1)]
        keep = np.flatnonzero(child > best + eps)
        for j in keep[np.argsort(child[keep], kind="stable")]:      # ascending: the most promising popped first
            stack.append((float(child[j]), tuple(S) + (start + int(j),)))
    proven = open_bound == -np.inf
    bound = best if proven else max(best, float(open_bound))
    return RobustLayout(tuple(best_S), float(best), float(bound), proven, nodes,
                        "branch and bound (exact on the sample)" if proven else
                        f"branch and bound stopped after {nodes:,} nodes (the best found, with its bound)")
