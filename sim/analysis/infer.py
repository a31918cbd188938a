"""Unwilling or unable: the posterior of the state's will and of declared capability inputs, given the record.

The scenario's ``[[record]]`` (:mod:`sim.record`) says, period by period,
how many flights there were (a range) and how many the state acted on
(``ordered_to_land``) or stopped (``searched``/``stopped``). The simulator
says, for given capability inputs theta (the declared ``[uncertainty]``
inputs other than ``response.will``), the per-flight probability that the
state *could* act were it willing, ``A(theta)`` (held in track in time with
an order to land feasible or an interceptor able to reach the flight), and
that the flight would then land, ``S(theta) = A(theta) r(theta)``. With the
state's will ``w_j`` in period ``j`` (the probability that it acts on a
flight it could act on; :attr:`sim.scenario.ResponseSpec.will`), the count
of actions among ``N_j`` flights is Binomial(N_j, w_j A) (or w_j S for
landings), and landings among orders Binomial(k, r). ``N_j`` is summed over
its range (:meth:`sim.record.FlightCount.pmf`).

The method (argued in ``docs/infer.md``):

1. a scrambled Sobol sample of theta from its prior (uniform on each
   declared range), each point one what-if run of the simulator at will 1
   (prepared parts reused: :class:`sim.prepcache.PrepCache`), giving counts
   of acted, stopped, held and detected flights;
2. the Monte Carlo noise of each simulated probability kept: ``A`` and
   ``r`` drawn from their Beta posteriors (Jeffreys prior) at
   :data:`BETA_POINTS` quasi-random quantiles per point (particles);
3. will enters analytically: per particle and period the likelihood is a
   function of ``w A`` only, read on a fine grid of ``x = w A`` summed over
   ``N`` once per period; will's posterior is computed on a grid of
   :data:`WILL_GRID` points, its evidence weights the particle
   (importance sampling from the prior);
4. posterior draws (systematic resampling of particles, then each period's
   will from its conditional grid posterior, ``N`` from its conditional)
   for ArviZ (HDI, ESS, PSIS k-hat of the weights) and the posterior
   predictive check.

Every random number comes from a generator addressed by the scenario's seed
and a purpose (:data:`STREAMS`): the same seed gives the same bytes.
"""
import dataclasses
import math
import time
import warnings

import numpy as np
from scipy.special import gammaln, xlog1py, xlogy
from scipy.stats import beta as beta_dist
from scipy.stats import qmc

from sim.montecarlo import prepare, run
from sim.prepcache import PrepCache
from sim.response import OUTCOMES, STOPPED
from sim.scenario import ScenarioError, override_text, with_overrides

__all__ = ["infer", "infer_plan", "InferPlan", "InferResult", "Unknown", "CapabilityPoints", "unknowns",
           "simulate_capability", "posterior_from_points", "count_likelihood", "flights_text", "kass_raftery_words",
           "arviz", "WILL_KEY", "DEFAULT_SAMPLES", "default_samples", "DEFAULT_FLIGHTS_PER_SAMPLE", "DEFAULT_DRAWS",
           "BETA_POINTS", "WILL_GRID", "CREDIBLE", "STREAMS"]

#: The scenario key of the state's will (its [uncertainty] range, when given, is will's prior range).
WILL_KEY = "response.will"
#: Capability points per capability input (the default is the power of two at or above this times the
#: inputs: a Sobol sample is balanced at powers of two; 64 for one input, 128 for two, 256 for three or four).
DEFAULT_SAMPLES = 64
#: Simulated flights per capability point unless given (about: whole campaigns of the scenario's flights).
DEFAULT_FLIGHTS_PER_SAMPLE = 2000
#: Posterior draws kept (ArviZ, the predictive check, the charts).
DEFAULT_DRAWS = 4000
#: Quasi-random Beta quantiles per capability point (the Monte Carlo noise of its simulated probabilities).
BETA_POINTS = 16
#: Points of the grid of will on its prior range.
WILL_GRID = 4001
#: The credible level of every interval [fraction] (central: 5% and 95% quantiles).
CREDIBLE = 0.90
#: Purposes of the inference's own random numbers (each a generator seeded by (seed, purpose)).
STREAMS = {"sobol": 1, "beta": 2, "resample": 3, "will": 4, "flights": 5, "predictive": 6, "prior": 7}
#: The acted-on outcomes at will 1: ordered to land, or intercepted (sim.response.OUTCOMES).
_ACTED = ("order_obeyed", "order_refused", "escort_obeyed", "escort_refused")
_NOT_HELD = ("not_tracked", "too_late")
#: The grid of x = will x capability on which a period's likelihood is read (dense near 0, where few
#: actions among many flights put it).
_X_GRID = np.unique(np.concatenate([[0.0], np.geomspace(1e-9, 1e-3, 2001), np.linspace(0.0, 1.0, 20001)]))
_CHUNK = 256


def default_samples(inputs):
    """Capability points for ``inputs`` capability inputs: the power of two at or above
    :data:`DEFAULT_SAMPLES` times the inputs (one point without any)."""
    return 1 if inputs == 0 else 1 << math.ceil(math.log2(DEFAULT_SAMPLES * inputs))


def _rng(seed, purpose):
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int(seed) >> 32, STREAMS[purpose]])


def arviz():
    """The ``arviz`` module, imported quietly (0.2x announces its refactor with a FutureWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az


@dataclasses.dataclass(frozen=True)
class Unknown:
    """A capability input inferred from the record: its key, prior range (uniform) and whether whole."""

    key: str
    low: float
    high: float
    integer: bool = False

    def values(self, u):
        """Prior quantiles ``u`` in [0, 1) as values of the input."""
        if self.integer:
            return np.minimum(np.floor(self.low + u * (self.high - self.low + 1)), self.high)
        return self.low + u * (self.high - self.low)


def unknowns(scenario):
    """``(will_range, capability)``: will's prior range (its ``[uncertainty]`` range, else [0, 1]) and the
    other declared inputs as :class:`Unknown` (uniform priors on their ranges).

    Raises :class:`~sim.scenario.ScenarioError` for a range that is not two numbers, or will's outside [0, 1].
    """
    will, out = (0.0, 1.0), []
    for key, low, high in scenario.uncertainty:
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)) or high < low:
            raise ScenarioError(scenario.path, f"uncertainty.{key}",
                                f"infer needs a range of two numbers, low <= high, got [{low!r}, {high!r}]")
        if key == WILL_KEY:
            if not 0.0 <= low < high <= 1.0:
                raise ScenarioError(scenario.path, f"uncertainty.{key}",
                                    f"will's range must lie in [0, 1] and not be one value, got [{low}, {high}]")
            will = (float(low), float(high))
            continue
        out.append(Unknown(key, float(low), float(high), _whole_only(scenario, key, low, high)))
    return will, tuple(out)


def _whole_only(scenario, key, low, high):
    """Whether an input takes whole numbers only (``detection.track_m``): the scenario refuses a value
    between its ends (the scenario code is the one place that knows each key)."""
    if not (isinstance(low, int) and isinstance(high, int)) or high == low:
        return False
    try:
        with_overrides(scenario, [override_text(key, low + 0.5)])
    except ScenarioError:
        return True
    return False


@dataclasses.dataclass(frozen=True)
class CapabilityPoints:
    """The simulator at each capability point (axis 0 = point), at will 1.

    ``values`` (n, d) the inputs; integer counts of the ``flights`` simulated at each point: ``detected``
    (a track formed), ``held`` (held in track inside the airspace with the decision in time), ``acted``
    (held in time, and an order to land feasible or an interceptor able to reach it: the state could act),
    ``stopped`` (it would have landed).
    """

    values: np.ndarray
    flights: np.ndarray
    detected: np.ndarray
    held: np.ndarray
    acted: np.ndarray
    stopped: np.ndarray

    def __post_init__(self):
        n = len(self.flights)
        assert self.values.shape[0] == n and all(len(a) == n for a in (self.detected, self.held, self.acted,
                                                                         self.stopped))


def _at_will_one(scenario):
    """The scenario with the state acting on every flight it can (will 1): the capability alone."""
    r = scenario.response
    if r is None or not hasattr(r, "will") or r.will == 1.0:
        return scenario
    return dataclasses.replace(scenario, response=dataclasses.replace(r, will=1.0))


def _response_only(scenario, base):
    """Whether ``scenario`` differs from ``base`` in its response and interceptors at most: then the prepared
    simulation of one serves the other (:func:`sim.montecarlo.prepare` reads neither; the run reads them)."""
    return dataclasses.replace(scenario, response=base.response, interceptors=base.interceptors) == base


def _override_value(u, v):
    return int(v) if u.integer else float(v)


def simulate_capability(scenario, capability, samples, campaigns, flights, seed, cache=None, progress=None):
    """Run the simulator at a scrambled Sobol sample of the capability inputs (will 1); a :class:`CapabilityPoints`.

    ``samples`` points (one when there is no capability input), each ``campaigns`` x ``flights`` flights
    with the same ``seed`` (common random numbers: the points differ by their inputs, not their draws).
    ``progress(1)`` after each point.
    """
    d = len(capability)
    if d:
        u = qmc.Sobol(d, scramble=True, seed=_rng(seed, "sobol")).random(samples)
        values = np.column_stack([c.values(u[:, i]) for i, c in enumerate(capability)])
    else:
        values = np.zeros((1, 0))
    cache = cache if cache is not None else PrepCache()
    base = _at_will_one(scenario)
    base_sim, terrain = None, None
    codes = {name: i for i, name in enumerate(OUTCOMES)}
    rows = []
    for point in values:
        texts = [override_text(c.key, _override_value(c, v)) for c, v in zip(capability, point)]
        sc = _at_will_one(with_overrides(scenario, texts) if texts else scenario)
        if base_sim is not None and _response_only(sc, base):
            sim = dataclasses.replace(base_sim, scenario=sc)     # the response is read at run time only
        else:
            sim = prepare(sc, terrain, cache)
            terrain = terrain if terrain is not None else sim.terrain
            if base_sim is None and _response_only(sc, base):
                base_sim = dataclasses.replace(sim, scenario=base)
        tot = run(sim, campaigns, flights, seed, keep_flights=False).totals
        oc = tot.outcomes
        n = int(tot.flights)
        rows.append((n, int(tot.detected), n - int(sum(oc[codes[k]] for k in _NOT_HELD)),
                     int(sum(oc[codes[k]] for k in _ACTED)), int(sum(oc[codes[k]] for k in STOPPED))))
        if progress is not None:
            progress(1)
    a = np.array(rows, dtype=np.int64).reshape(-1, 5)
    return CapabilityPoints(values, a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4])


def count_likelihood(k, support, pmf, x):
    """``sum_N pmf(N) Binomial(k; N, x)``: the chance of ``k`` events among an uncertain number of flights.

    ``support``, ``pmf`` (M,): the number of flights and its probabilities; ``x`` any shape, per-flight
    probabilities in [0, 1]. Returns ``(log_scale, f)`` with ``f`` of ``x``'s shape scaled so that its
    largest value is 1 (the true value is ``f * exp(log_scale)``).
    """
    n = np.asarray(support, dtype=float)[:, None]
    xs = np.asarray(x, dtype=float).reshape(1, -1)
    ok = n >= k
    logc = gammaln(n + 1) - gammaln(k + 1) - gammaln(np.where(ok, n - k, 0) + 1)
    with np.errstate(divide="ignore"):
        log_terms = np.log(np.asarray(pmf, dtype=float))[:, None] + logc + xlogy(k, xs) + xlog1py(np.where(ok, n - k, 0), -xs)
    log_terms = np.where(ok, log_terms, -np.inf)
    top = np.max(log_terms)
    f = np.exp(log_terms - top).sum(axis=0)
    return float(top), f.reshape(np.shape(x))


@dataclasses.dataclass(frozen=True)
class _Period:
    """A record period as the likelihood sees it."""

    name: str
    support: np.ndarray          # flights
    pmf: np.ndarray
    lead_kind: str               # "ordered_to_land", or the landed kind when no order count is given
    lead: int                    # its count
    landed: int | None           # landed among the ordered, when both are given
    table_log: float             # the log scale of f
    table: np.ndarray            # f on _X_GRID (largest 1)


def _periods(record):
    out = []
    for p in record:
        support, pmf = p.flights.pmf(p.days)
        ordered, landed = p.observed("ordered_to_land"), p.landed
        lead = ordered or landed
        scale, f = count_likelihood(lead.count, support, pmf, _X_GRID)
        out.append(_Period(p.name, support, pmf, lead.kind, lead.count,
                           landed.count if ordered is not None and landed is not None else None, scale, f))
    return tuple(out)


def _central(cdf, grid, q):
    """Quantiles ``q`` of a distribution given by its CDF on a grid (linear between points)."""
    cdf = np.maximum.accumulate(cdf)
    return np.interp(q, cdf, grid)


@dataclasses.dataclass(frozen=True)
class InferResult:
    """The posterior of a record (:func:`infer`); ``summary`` is infer.json as a dict.

    ``draws`` and ``prior_draws`` map names to arrays of posterior and prior draws (axis 0 = draw; will,
    flights and the predictive counts have a second axis, the period); ``will_grid`` and ``will_density``
    (periods, grid) the exact posterior densities of will; ``points`` the simulator's capability points,
    ``weights`` their posterior weights (summed over their Beta quantiles).
    """

    scenario: object
    periods: tuple
    will_range: tuple
    capability: tuple
    points: CapabilityPoints
    weights: np.ndarray
    will_grid: np.ndarray
    will_density: np.ndarray
    draws: dict
    prior_draws: dict
    predictive: dict
    summary: dict
    campaigns: int
    flights: int
    seed: int
    samples: int
    timings_s: dict

    @property
    def headline(self):
        """The answer in plain words, one line per period (as the command line prints it)."""
        return "\n".join(p["verdict_text"] for p in self.summary["periods"])


def kass_raftery_words(bayes_factor):
    """How strongly a Bayes factor supports a hypothesis, in the words of Kass and Raftery (1995), table:
    1-3 "barely", 3-20 "positively", 20-150 "strongly", over 150 "very strongly" (below 1: "not")."""
    if not bayes_factor >= 1.0:
        return "not"
    return "barely" if bayes_factor < 3 else "positively" if bayes_factor < 20 else \
        "strongly" if bayes_factor < 150 else "very strongly"


def _bayes_factor(post, prior):
    """Posterior odds over prior odds of a hypothesis (inf or 0 at the ends; None when the prior excludes it)."""
    if prior <= 0.0 or prior >= 1.0:
        return None
    if post >= 1.0:
        return math.inf
    return (post / (1.0 - post)) / (prior / (1.0 - prior))


def _stats(x, az):
    """Mean, central interval, HDI (ArviZ) and ESS (ArviZ) of one variable's draws (1-D)."""
    x = np.asarray(x, dtype=float)
    lo, hi = np.quantile(x, [(1 - CREDIBLE) / 2, (1 + CREDIBLE) / 2])
    h = np.asarray(az.hdi(x, hdi_prob=CREDIBLE))
    ess = float(az.ess(x[None, :])) if np.ptp(x) > 0 else float(len(x))
    return {"mean": _r(x.mean()), "ci90": [_r(lo), _r(hi)], "hdi90": [_r(h[0]), _r(h[1])], "ess": _r(ess, 1)}


def _r(x, nd=6):
    x = float(x)
    if math.isinf(x):
        return None
    return round(x, nd)


def _cumulative(x, y):
    """Cumulative trapezoid integral of ``y`` over ``x`` (0 at the first point)."""
    return np.concatenate([[0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(x))])


def posterior_from_points(record, points, will_range, seed, draws=DEFAULT_DRAWS, density_points=1001):
    """The posterior given the simulator's capability points: the analytic part of :func:`infer` (no
    simulation: the simulation-based calibration calls it once per simulated record).

    Returns ``(weights, grid, density, draws, predictive, particles, period_stats)``: the particles'
    weights; will's posterior density per period ``density`` (periods, points) on ``grid``; a dict of
    posterior draws; the replicated counts; the particles; per period will's exact mean, central interval
    and P(will < 0.5).

    Notes
    -----
    With a uniform prior on [lo, hi] and a period's likelihood ``f(w c)`` (``c`` the particle's per-flight
    probability of the counted event at will 1), everything about will is read from the cumulative
    integrals ``F(x) = int_0^x f`` and ``G(x) = int_0^x t f(t) dt`` on the x grid: the evidence
    ``(F(c hi) - F(c lo)) / (c (hi - lo))``, the conditional CDF ``(F(c t) - F(c lo)) / (F(c hi) - F(c lo))``
    and mean ``(G(c hi) - G(c lo)) / (c (F(c hi) - F(c lo)))``; a draw inverts the CDF on F.
    """
    periods = _periods(record)
    n_pts = len(points.flights)
    # particles: each point's simulated probabilities at BETA_POINTS quasi-random quantiles of their Beta posteriors
    u = qmc.Sobol(4, scramble=True, seed=_rng(seed, "beta")).random(BETA_POINTS)
    rep = lambda a: np.repeat(a, BETA_POINTS)          # noqa: E731
    tile = lambda a: np.tile(a, n_pts)                 # noqa: E731
    M, acted, stopped = rep(points.flights), rep(points.acted), rep(points.stopped)
    A = beta_dist.ppf(tile(u[:, 0]), acted + 0.5, M - acted + 0.5)
    r = beta_dist.ppf(tile(u[:, 1]), stopped + 0.5, acted - stopped + 0.5)
    p_detect = beta_dist.ppf(tile(u[:, 2]), rep(points.detected) + 0.5, M - rep(points.detected) + 0.5)
    p_held = beta_dist.ppf(tile(u[:, 3]), rep(points.held) + 0.5, M - rep(points.held) + 0.5)
    point_of = rep(np.arange(n_pts))
    P = len(A)
    lo, hi = will_range
    F = [_cumulative(_X_GRID, per.table) for per in periods]
    Gm = [_cumulative(_X_GRID, _X_GRID * per.table) for per in periods]
    c = [A if per.lead_kind == "ordered_to_land" else A * r for per in periods]
    tiny = 1e-12

    def integrals(j):
        """Per particle: F(c lo), F(c hi) - F(c lo) (the evidence times c (hi - lo)) and the conditional mean."""
        cj = c[j]
        f_lo = np.interp(cj * lo, _X_GRID, F[j])
        mass = np.interp(cj * hi, _X_GRID, F[j]) - f_lo
        g = np.interp(cj * hi, _X_GRID, Gm[j]) - np.interp(cj * lo, _X_GRID, Gm[j])
        flat = cj < tiny               # no capability: the count says nothing of will
        f0 = periods[j].table[0]
        z = np.where(flat, f0, mass / np.where(flat, 1.0, cj) / (hi - lo))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(flat, 0.5 * (lo + hi), g / np.where(flat, 1.0, cj) / mass)
        return f_lo, mass, z, mean

    log_w = np.zeros(P)
    parts = []
    for j, per in enumerate(periods):
        f_lo, mass, z, mean = integrals(j)
        parts.append((f_lo, mass, z, mean))
        with np.errstate(divide="ignore"):
            log_w += np.log(z)
        if per.landed is not None:          # landings among the orders: Binomial(landed; ordered, r)
            logc = gammaln(per.lead + 1) - gammaln(per.landed + 1) - gammaln(per.lead - per.landed + 1)
            log_w += logc + xlogy(per.landed, r) + xlog1py(per.lead - per.landed, -r)
    if not np.isfinite(log_w).any():
        raise ValueError("no capability point can reproduce the record (every likelihood is 0)")
    wts = np.exp(log_w - np.max(log_w))
    wts /= wts.sum()

    def cdf(j, t):
        """Will's conditional CDF at ``t`` per particle."""
        f_lo, mass, _, _ = parts[j]
        flat = c[j] < tiny
        with np.errstate(invalid="ignore", divide="ignore"):
            x = (np.interp(c[j] * t, _X_GRID, F[j]) - f_lo) / mass
        return np.where(flat | ~(mass > 0), (t - lo) / (hi - lo), x)

    stats = []
    for j in range(len(periods)):
        mean = float(np.sum(wts * np.nan_to_num(parts[j][3], nan=0.5 * (lo + hi))))
        qs = []
        for q in ((1 - CREDIBLE) / 2, (1 + CREDIBLE) / 2):
            a, b = lo, hi
            for _ in range(60):                 # bisection on the mixture's CDF
                m = 0.5 * (a + b)
                a, b = (m, b) if np.sum(wts * cdf(j, m)) < q else (a, m)
            qs.append(0.5 * (a + b))
        below = float(np.sum(wts * cdf(j, 0.5))) if lo < 0.5 < hi else (1.0 if hi <= 0.5 else 0.0)
        stats.append({"mean": mean, "ci90": qs, "p_below_half": below})
    # will's posterior density per period on a grid (for the charts): the weighted mixture
    grid = np.linspace(lo, hi, density_points)
    density = np.zeros((len(periods), len(grid)))
    live = np.flatnonzero(wts > 1e-12 * wts.max())
    for j, per in enumerate(periods):
        z = parts[j][2]
        for b in range(0, len(live), _CHUNK):
            sel = live[b:b + _CHUNK]
            f = np.interp(c[j][sel, None] * grid[None, :], _X_GRID, per.table) / (hi - lo)
            density[j] += (wts[sel] / z[sel]) @ f
    # draws: systematic resampling of the particles, in a random order
    rng = _rng(seed, "resample")
    cum = np.cumsum(wts)
    cum[-1] = 1.0
    idx = np.searchsorted(cum, (rng.random() + np.arange(draws)) / draws, side="right")
    idx = np.minimum(idx, P - 1)[rng.permutation(draws)]
    will = np.zeros((draws, len(periods)))
    flights = np.zeros((draws, len(periods)), dtype=np.int64)
    lead_rep = np.zeros((draws, len(periods)), dtype=np.int64)
    landed_rep = np.full((draws, len(periods)), -1, dtype=np.int64)
    rw, rf, rp = _rng(seed, "will"), _rng(seed, "flights"), _rng(seed, "predictive")
    uw = rw.random((draws, len(periods)))
    uf = rf.random((draws, len(periods)))
    for j, per in enumerate(periods):
        f_lo, mass, _, _ = parts[j]
        cj = c[j][idx]
        target = f_lo[idx] + uw[:, j] * mass[idx]
        x = np.interp(target, F[j], _X_GRID)
        flat = (cj < tiny) | ~(mass[idx] > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(flat, lo + uw[:, j] * (hi - lo), x / np.where(flat, 1.0, cj))
        will[:, j] = np.clip(w, lo, hi)
        x = will[:, j] * cj
        # the number of flights given will and capability: pmf(N) Binomial(lead; N, x), normalised per draw
        n = per.support.astype(float)[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            logp = (np.log(per.pmf)[None, :] + gammaln(n + 1) - gammaln(np.maximum(n - per.lead, 0) + 1)
                    + xlog1py(n - per.lead, -x[:, None]))
        logp = np.where(n >= per.lead, logp, -np.inf)
        pn = np.exp(logp - logp.max(axis=1, keepdims=True))
        cn = np.cumsum(pn, axis=1)
        pick = np.minimum((cn < uf[:, j, None] * cn[:, -1:]).sum(axis=1), len(per.support) - 1)
        flights[:, j] = per.support[pick]
        lead_rep[:, j] = rp.binomial(flights[:, j], np.clip(x, 0.0, 1.0))
        if per.landed is not None:
            landed_rep[:, j] = rp.binomial(lead_rep[:, j], np.clip(r[idx], 0.0, 1.0))
    out_draws = {"will": will, "flights": flights, "could_act": A[idx], "could_stop": (A * r)[idx],
                 "p_detect": p_detect[idx], "p_held_in_time": p_held[idx], "landed_if_acted": r[idx],
                 "point": point_of[idx]}
    predictive = {"lead": lead_rep, "landed": landed_rep}
    particles = {"A": A, "r": r, "p_detect": p_detect, "p_held": p_held, "point": point_of, "weight": wts,
                 "log_weight": log_w}
    return wts, grid, density, out_draws, predictive, particles, stats


def _prior_draws(points, particles, capability, will_range, seed, draws, n_periods):
    """Draws from the prior: a capability point and its Beta quantile uniformly, will uniform per period."""
    rng = _rng(seed, "prior")
    pick = rng.integers(0, len(particles["A"]), draws)
    lo, hi = will_range
    out = {"will": lo + (hi - lo) * rng.random((draws, n_periods)),
           "could_act": particles["A"][pick], "could_stop": (particles["A"] * particles["r"])[pick],
           "p_detect": particles["p_detect"][pick], "p_held_in_time": particles["p_held"][pick]}
    for i, c in enumerate(capability):
        out[c.key] = points.values[particles["point"][pick], i]
    return out


def _predictive_check(observed, replicated):
    """Predictive p-value of an observed count: twice the smaller tail, P(rep >= obs) or P(rep <= obs), at most 1."""
    rep = np.asarray(replicated)
    upper, lower = float(np.mean(rep >= observed)), float(np.mean(rep <= observed))
    lo, hi = np.quantile(rep, [(1 - CREDIBLE) / 2, (1 + CREDIBLE) / 2])
    return {"observed": int(observed), "predicted_mean": _r(rep.mean(), 3), "predicted_ci90": [int(lo), int(hi)],
            "p_value": _r(min(1.0, 2.0 * min(upper, lower)), 4)}


def _verdict(name, state, will_stats, p_unwilling, bf_unwilling, p_unable, bf_unable, could, did, counts_text):
    """The answer for one period in plain words (``state``: the airspace's country, who could act)."""
    if p_unwilling >= 0.5 and p_unwilling >= p_unable:
        which, bf, p = "unwilling", bf_unwilling, p_unwilling
    elif p_unable >= 0.5:
        which, bf, p = "unable", bf_unable, p_unable
    else:
        which, bf, p = "neither (willing and able)", None, 1.0 - max(p_unwilling, p_unable)
    strength = "" if bf is None else f" {kass_raftery_words(bf)}"
    bf_text = "" if bf is None else f", Bayes factor {_bf_text(bf)}"
    m, (a, b) = will_stats["mean"], will_stats["ci90"]
    return (f"{name} ({counts_text}): the record supports '{which}'{strength} (P {p:.3f}{bf_text}): "
            f"will {m:.3f} [{a:.3f}-{b:.3f}]; if willing {state} could have stopped {could['mean']:.3f} "
            f"[{could['ci90'][0]:.3f}-{could['ci90'][1]:.3f}] of the flights, it stopped {did['mean']:.3f} "
            f"[{did['ci90'][0]:.3f}-{did['ci90'][1]:.3f}]; P(mostly unwilling: will < 0.5) {p_unwilling:.3f}, "
            f"P(mostly unable: could act on < half) {p_unable:.3f}")


def _bf_text(bf):
    if bf is None:
        return "-"
    if math.isinf(bf) or bf >= 1000:
        return "> 1000"
    if bf < 0.001:
        return "< 0.001"
    return f"{bf:.3g}"


def flights_text(period):
    """A period's flights in words: ``0.5-1 flights a day over 242 days`` or ``120-240 flights``."""
    f = period.flights
    if f.per_day:
        rate = f"{f.low:g}" if f.low == f.high else f"{f.low:g}-{f.high:g}"
        return f"{rate} flights a day over {period.days} days"
    return f"{int(f.low)} flights" if f.low == f.high else f"{int(f.low)}-{int(f.high)} flights"


def _counts_text(period):
    seen = ", ".join(f"{o.count} {o.kind.replace('_', ' ')}" for o in period.observations)
    return f"{seen}; {flights_text(period)}"


@dataclasses.dataclass(frozen=True)
class InferPlan:
    """What :func:`infer` simulates for a scenario, checked as it checks before any simulation: ``samples``
    capability points, each ``campaigns`` x ``flights`` flights; ``will_range`` (will's prior range) and
    ``capability`` (the :class:`Unknown` capability inputs)."""

    samples: int
    campaigns: int
    flights: int
    will_range: tuple
    capability: tuple

    @property
    def flights_total(self):
        """Flights simulated in all: points x campaigns x flights."""
        return self.samples * self.campaigns * self.flights


def infer_plan(scenario, samples=None, campaigns=None, flights=None):
    """The size of :func:`infer` on ``scenario`` with these options, and its unknowns: an :class:`InferPlan`.

    Raises the :class:`~sim.scenario.ScenarioError` that :func:`infer` would raise before simulating
    anything: no ``[[record]]``, no ``[response]``, an ``[uncertainty]`` range infer cannot use, ``samples``
    not a power of two. A front door that limits what it starts (the planner's page) asks this first.
    """
    if not scenario.record:
        raise ScenarioError(scenario.path, "record", "the scenario has no [[record]]: nothing to infer from "
                                                     "(docs/scenario-format.md, \"The public record\")")
    if scenario.response is None:
        raise ScenarioError(scenario.path, "response", "the scenario has no [response]: the state has no means "
                                                       "to act, so its will cannot be inferred")
    will_range, capability = unknowns(scenario)
    flights = scenario.run.flights if flights is None else int(flights)
    campaigns = max(1, math.ceil(DEFAULT_FLIGHTS_PER_SAMPLE / flights)) if campaigns is None else int(campaigns)
    samples = (default_samples(len(capability)) if samples is None else int(samples)) if capability else 1
    if samples < 1 or samples & (samples - 1):
        raise ScenarioError("--samples", None, f"must be a power of two (a balanced Sobol sample), got {samples}")
    return InferPlan(samples, campaigns, flights, will_range, capability)


def infer(scenario, samples=None, campaigns=None, flights=None, seed=None, draws=None, cache=None, progress=None):
    """The posterior of the state's will per period of the scenario's record, and of its capability inputs.

    Parameters
    ----------
    scenario : sim.scenario.Scenario
        With a ``[[record]]``, a ``[response]`` (what the state could do) and, optionally, ``[uncertainty]``
        ranges: ``response.will``'s is will's prior range (default [0, 1]); every other is a capability
        input with a uniform prior on its range.
    samples : int, optional
        Capability points, a power of two (default :func:`default_samples`: 64 for one capability input, 128
        for two; one without capability inputs).
    campaigns, flights : int, optional
        Simulated per point: campaigns (default: about :data:`DEFAULT_FLIGHTS_PER_SAMPLE` flights) of
        ``flights`` (default the scenario's).
    seed : int, optional
        Default the scenario's: the simulations' and the inference's random numbers.
    draws : int, optional
        Posterior draws (default :data:`DEFAULT_DRAWS`).
    cache : sim.prepcache.PrepCache, optional
        Prepared parts shared between the points (and with other commands, on disk).
    progress : callable, optional
        ``progress(1)`` after each capability point.

    Returns
    -------
    InferResult
    """
    t0 = time.perf_counter()
    plan = infer_plan(scenario, samples, campaigns, flights)
    will_range, capability = plan.will_range, plan.capability
    samples, campaigns, flights = plan.samples, plan.campaigns, plan.flights
    seed = scenario.run.seed if seed is None else int(seed)
    draws = DEFAULT_DRAWS if draws is None else int(draws)
    points = simulate_capability(scenario, capability, samples, campaigns, flights, seed, cache, progress)
    t1 = time.perf_counter()
    wts, grid, density, post, predictive, particles, stats = posterior_from_points(
        scenario.record, points, will_range, seed, draws)
    prior = _prior_draws(points, particles, capability, will_range, seed, draws, len(scenario.record))
    for i, c in enumerate(capability):
        post[c.key] = points.values[post["point"], i]
    point_weights = np.bincount(particles["point"], weights=wts, minlength=len(points.flights))
    summary = _summary(scenario, capability, will_range, points, particles, stats, post, prior, predictive,
                       campaigns, flights, seed, samples, draws)
    t2 = time.perf_counter()
    timings = {"simulate_s": round(t1 - t0, 3), "posterior_s": round(t2 - t1, 3)}
    return InferResult(scenario, scenario.record, will_range, capability, points, point_weights, grid, density,
                       post, prior, predictive, summary, campaigns, flights, seed, samples, timings)


def _summary(scenario, capability, will_range, points, particles, stats, post, prior, predictive, campaigns,
             flights, seed, samples, draws):
    az = arviz()
    wts = particles["weight"]
    unable = float(np.sum(wts * (particles["A"] < 0.5)))
    unable_prior = float(np.mean(particles["A"] < 0.5))
    lo, hi = will_range
    will_prior_below = min(1.0, max(0.0, (0.5 - lo) / (hi - lo)))
    capability_stats = {
        "p_detect": _stats(post["p_detect"], az),
        "p_held_in_time": _stats(post["p_held_in_time"], az),
        "p_could_act_if_willing": _stats(post["could_act"], az),
        "p_could_stop_if_willing": _stats(post["could_stop"], az),
        "p_unable": _r(unable, 4), "p_unable_prior": _r(unable_prior, 4),
        "bayes_factor_unable": _r(_bayes_factor(unable, unable_prior), 4)
        if _bayes_factor(unable, unable_prior) is not None else None,
    }
    periods = []
    for j, period in enumerate(scenario.record):
        will = post["will"][:, j]
        s = stats[j]
        bf_w = _bayes_factor(s["p_below_half"], will_prior_below)
        bf_u = _bayes_factor(unable, unable_prior)
        did = _stats(will * post["could_stop"], az)
        did_act = _stats(will * post["could_act"], az)
        checks = {}
        per_lead = period.observed("ordered_to_land") or period.landed
        checks[per_lead.kind] = _predictive_check(per_lead.count, predictive["lead"][:, j])
        if period.observed("ordered_to_land") is not None and period.landed is not None:
            checks[period.landed.kind] = _predictive_check(period.landed.count, predictive["landed"][:, j])
        ws = _stats(will, az)
        will_stats = {"mean": _r(s["mean"]), "ci90": [_r(s["ci90"][0]), _r(s["ci90"][1])],
                      "hdi90": ws["hdi90"], "ess": ws["ess"], "prior": [lo, hi],
                      "p_below_half": _r(s["p_below_half"], 4), "p_below_half_prior": _r(will_prior_below, 4),
                      "bayes_factor_unwilling": None if bf_w is None else (_r(bf_w, 4) if math.isfinite(bf_w) else None)}
        entry = {
            "name": period.name, "start": period.start.isoformat(), "end": period.end.isoformat(),
            "days": period.days, "flights_text": flights_text(period),
            "observed": {o.kind: o.count for o in period.observations},
            "sources": {**{o.kind: o.source for o in period.observations}, "flights": period.flights.source},
            "assumed": sorted([o.kind for o in period.observations if o.assumed]
                              + (["flights"] if period.flights.assumed else [])),
            "flights": {**_stats(post["flights"][:, j], az),
                        "prior_range": [int(period.flights.pmf(period.days)[0][0]),
                                        int(period.flights.pmf(period.days)[0][-1])]},
            "will": will_stats,
            "p_did_act": did_act, "p_did_stop": did,
            "predictive_check": checks,
        }
        entry["verdict"] = ("unwilling" if s["p_below_half"] >= 0.5 and s["p_below_half"] >= unable else
                            "unable" if unable >= 0.5 else "neither")
        entry["verdict_strength"] = kass_raftery_words(
            bf_w if entry["verdict"] == "unwilling" else bf_u) if entry["verdict"] != "neither" and (
            bf_w if entry["verdict"] == "unwilling" else bf_u) is not None else None
        entry["verdict_text"] = _verdict(period.name, scenario.airspace.name, entry["will"], s["p_below_half"], bf_w,
                                         unable, bf_u,
                                         capability_stats["p_could_stop_if_willing"], did, _counts_text(period))
        periods.append(entry)
    changes = []
    for j in range(1, len(scenario.record)):
        d = post["will"][:, j] - post["will"][:, j - 1]
        changes.append({"from": scenario.record[j - 1].name, "to": scenario.record[j].name,
                        **{k: v for k, v in _stats(d, az).items()}, "p_increase": _r(np.mean(d > 0), 4)})
    inputs = []
    for c in capability:
        inputs.append({"key": c.key, "prior": [c.low, c.high], "integer": c.integer, **_stats(post[c.key], az)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, khat = az.psislw(particles["log_weight"] - particles["log_weight"].max())
    w = particles["weight"]
    return {
        "scenario": scenario.info.name, "title": scenario.info.title, "overrides": list(scenario.overrides),
        "seed": seed, "samples": samples, "campaigns_per_sample": campaigns, "flights_per_campaign": flights,
        "flights_per_sample": int(points.flights[0]), "beta_points": BETA_POINTS, "draws": draws,
        "credible": CREDIBLE, "will_key": WILL_KEY,
        "unknowns": [{"key": WILL_KEY, "prior": [lo, hi], "per_period": True}]
        + [{"key": c.key, "prior": [c.low, c.high], "per_period": False} for c in capability],
        "periods": periods, "capability": capability_stats, "capability_inputs": inputs,
        "will_changes": changes,
        "diagnostics": {"psis_khat": _r(float(np.asarray(khat)), 4),
                        "importance_ess": _r(1.0 / float(np.sum(w ** 2)), 1), "particles": int(len(w))},
    }
