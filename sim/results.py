"""Results: per-flight records and the aggregates of the run contract.

The aggregates come from :class:`RunTotals`, accumulators that one chunk of
flights fills and that merge across chunks in any order with the same
result (integer counts, histograms, sums in fixed point), so a run of any
size keeps only them in memory and ``summary.json`` never depends on the
chunking. Pure functions; no I/O here.
"""
import csv
import io
from dataclasses import dataclass
from functools import partial

import numpy as np

from geo.units import KMH_MPS
from sim.cells import safe_cell
from sim.fences import nominal_route_fences
from sim.outages import transition_up
from sim.response import OUTCOME_LABELS, OUTCOMES, STOPPED
from sim.platforms import Orbit
from sim.routes import below_ground_shares, route_time_and_fuel

__all__ = ["FLIGHT_COLUMNS", "flight_dtypes", "wilson_interval", "campaign_interval", "flight_interval", "campaigns_share_fate", "summarize", "flight_rows", "flight_header", "flight_csv_text", "RunTotals",
           "hist_percentile", "ASSUMPTIONS_NOTE", "headline", "format_ci", "format_p", "format_p_ci", "ci_digits",
           "FIRST_DETECTION_BIN_S", "differences_z",
           "shown_title", "overrides_text"]

#: Resolution of the histogram behind the median first-detection time [s].
FIRST_DETECTION_BIN_S = 0.1
#: Resolution of the histogram behind the reaction windows' percentiles [min].
WINDOW_BIN_MIN = 0.1
#: The outcome codes (indices into OUTCOMES) of a stopped flight.
_STOPPED_CODES = [OUTCOMES.index(name) for name in STOPPED]
#: The outcome codes of a flight not held in track in time (not tracked, or the decision too late).
_NOT_HELD_CODES = [OUTCOMES.index("not_tracked"), OUTCOMES.index("too_late")]
_NO_ORDER_CODE = OUTCOMES.index("no_order")
#: Fixed-point scale of summed per-flight minutes (millionths of a minute: sums exact in integers).
_MICRO = 1_000_000


def _column_counts(mask):
    """The True cells of each column of a (F, R) mask, int64 (R,): as ``mask.sum(axis=0)``, a column at a
    time (a reduction across rows of a few bytes each is about six times slower)."""
    return np.array([np.count_nonzero(mask[:, j]) for j in range(mask.shape[1])], dtype=np.int64)


@dataclass(frozen=True)
class RunTotals:
    """Mergeable accumulators of a run: all integers, so merging in any order gives the same totals.

    Counts per campaign size (``per_campaign[k]``: campaigns with ``k``
    flights detected), per radar and per route; the first-detection times
    as a histogram of :data:`FIRST_DETECTION_BIN_S` bins and a sum in
    milliseconds; per-flight minutes as sums in millionths of a minute.
    """

    flights: int
    detected: int
    per_campaign: np.ndarray        # (flights_per_campaign + 1,) campaigns by flights detected
    radar_tracked: np.ndarray       # (R,)
    radar_first: np.ndarray         # (R,)
    radar_up: np.ndarray            # (R,)
    route_flights: np.ndarray       # (n_routes,)
    route_detected: np.ndarray      # (n_routes,)
    first_ms_sum: int
    first_hist: np.ndarray          # first-detection times by FIRST_DETECTION_BIN_S bin
    in_airspace_detected: int | None
    minutes_airspace_micro: int | None
    minutes_coverage_micro: int | None
    outcomes: np.ndarray | None = None          # flights by response outcome (sim.response.OUTCOMES)
    stopped_per_campaign: np.ndarray | None = None   # (flights_per_campaign + 1,) campaigns by flights stopped
    window_hist: np.ndarray | None = None       # reaction windows by WINDOW_BIN_MIN bin
    window_micro: int | None = None             # sum of reaction windows [millionths of a minute]
    held_per_campaign: np.ndarray | None = None      # campaigns by flights held in track in time (decision in it)
    ordered_per_campaign: np.ndarray | None = None   # campaigns by flights ordered to land (acted on, feasible)
    stopped_if_acted_per_campaign: np.ndarray | None = None   # campaigns by flights stopped were the state to act

    @classmethod
    def of_chunk(cls, part, flights_per_campaign, n_radars, n_routes):
        """The totals of one chunk (a dict of per-flight arrays from ``simulate_chunk``)."""
        det = part["detected"]
        first_s = part["first_detection_s"][det]
        bins = np.floor(first_s / FIRST_DETECTION_BIN_S).astype(np.int64)
        fences = part["minutes_in_airspace"] is not None
        route = part["batch"].route_index
        return cls(
            flights=len(det), detected=int(det.sum()),
            per_campaign=np.bincount(det.reshape(-1, flights_per_campaign).sum(axis=1),
                                     minlength=flights_per_campaign + 1),
            radar_tracked=_column_counts(part["tracked_by"]), radar_up=_column_counts(part["radar_up"]),
            radar_first=np.bincount(part["first_radar"][det], minlength=n_radars),
            route_flights=np.bincount(route, minlength=n_routes),
            route_detected=np.bincount(route[det], minlength=n_routes),
            first_ms_sum=int(np.rint(first_s * 1000.0).astype(np.int64).sum()),
            first_hist=np.bincount(bins, minlength=1) if len(bins) else np.zeros(1, dtype=np.int64),
            in_airspace_detected=int(part["detected_in_airspace"].sum()) if fences else None,
            minutes_airspace_micro=int(np.rint(part["minutes_in_airspace"] * _MICRO).astype(np.int64).sum())
            if fences else None,
            minutes_coverage_micro=int(np.rint(part["minutes_in_coverage"] * _MICRO).astype(np.int64).sum())
            if fences else None,
            **(cls._response_totals(part, flights_per_campaign) if part.get("outcome") is not None else {}),
        )

    @staticmethod
    def _response_totals(part, flights_per_campaign):
        outcome = part["outcome"]

        def per_campaign(mask):
            return np.bincount(mask.reshape(-1, flights_per_campaign).sum(axis=1), minlength=flights_per_campaign + 1)

        held = ~np.isin(outcome, _NOT_HELD_CODES)
        ordered = part["order_feasible"] & (outcome != _NO_ORDER_CODE)
        w = part["reaction_window_min"]
        w = w[np.isfinite(w)]
        return dict(outcomes=np.bincount(outcome, minlength=len(OUTCOMES)),
                    stopped_per_campaign=per_campaign(np.isin(outcome, _STOPPED_CODES)),
                    window_hist=np.bincount(np.floor(w / WINDOW_BIN_MIN).astype(np.int64), minlength=1)
                    if len(w) else np.zeros(1, dtype=np.int64),
                    window_micro=int(np.rint(w * _MICRO).astype(np.int64).sum()),
                    held_per_campaign=per_campaign(held), ordered_per_campaign=per_campaign(ordered),
                    stopped_if_acted_per_campaign=per_campaign(part["stopped_if_acted"]))

    def merged(self, other):
        """The totals of both (commutative and associative)."""
        def add(a, b):
            return None if a is None else a + b

        n = max(len(self.first_hist), len(other.first_hist))
        resp = {}
        if self.outcomes is not None:
            m = max(len(self.window_hist), len(other.window_hist))
            resp = dict(outcomes=self.outcomes + other.outcomes,
                        stopped_per_campaign=self.stopped_per_campaign + other.stopped_per_campaign,
                        window_hist=np.pad(self.window_hist, (0, m - len(self.window_hist)))
                        + np.pad(other.window_hist, (0, m - len(other.window_hist))),
                        window_micro=self.window_micro + other.window_micro,
                        held_per_campaign=self.held_per_campaign + other.held_per_campaign,
                        ordered_per_campaign=self.ordered_per_campaign + other.ordered_per_campaign,
                        stopped_if_acted_per_campaign=self.stopped_if_acted_per_campaign
                        + other.stopped_if_acted_per_campaign)
        return RunTotals(
            self.flights + other.flights, self.detected + other.detected, self.per_campaign + other.per_campaign,
            self.radar_tracked + other.radar_tracked, self.radar_first + other.radar_first,
            self.radar_up + other.radar_up, self.route_flights + other.route_flights,
            self.route_detected + other.route_detected, self.first_ms_sum + other.first_ms_sum,
            np.pad(self.first_hist, (0, n - len(self.first_hist))) + np.pad(other.first_hist,
                                                                           (0, n - len(other.first_hist))),
            add(self.in_airspace_detected, other.in_airspace_detected),
            add(self.minutes_airspace_micro, other.minutes_airspace_micro),
            add(self.minutes_coverage_micro, other.minutes_coverage_micro),
            **resp,
        )


def hist_percentile(counts, values, q):
    """The ``q``-th percentile of data given as ``counts[i]`` copies of ``values[i]`` (sorted values).

    Linear interpolation between order statistics, as :func:`numpy.percentile`'s default.

    >>> bool(hist_percentile(np.array([1, 0, 2, 1]), np.array([0, 1, 2, 3]), 50) == np.percentile([0, 2, 2, 3], 50))
    True
    """
    counts = np.asarray(counts, dtype=np.int64)
    cum = np.cumsum(counts)
    h = (cum[-1] - 1) * q / 100.0
    lo = int(np.floor(h))
    v = np.asarray(values, dtype=float)
    a = v[np.searchsorted(cum, lo, side="right")]
    b = v[np.searchsorted(cum, min(lo + 1, cum[-1] - 1), side="right")]
    return a + (h - lo) * (b - a)


ASSUMPTIONS_NOTE = (
    "Illustrative model built on open-source reporting and stated assumptions "
    "(see scenarios/README.md); not an assessment of any real system."
)


def wilson_interval(k, n, z=1.959963984540054):
    """Wilson score interval for a binomial proportion ``k / n``.

    References
    ----------
    E. B. Wilson, "Probable inference, the law of succession, and statistical
    inference", J. Am. Stat. Assoc. 22 (1927) 209-212.
    """
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def campaigns_share_fate(scenario, negligible=1e-9):
    """Whether flights of a campaign are dependent: a campaign-wide policy, or outages that outlast
    the time between flights (consecutive flights' radar states correlated by more than ``negligible``)."""
    dt_s = 86_400.0 / scenario.run.flights_per_day
    lasting = False
    for r in scenario.radars:
        if r.mean_outage_s is not None:
            p_uu, p_du = transition_up(r.availability, r.mean_outage_s, dt_s)
            lasting |= p_uu - p_du > negligible    # the correlation of consecutive flights' states
    return lasting or scenario.aircraft.transponder_policy == "per_campaign" or scenario.run.route_choice == "per_campaign"


def campaign_interval(per_campaign, flights, z=1.959963984540054):
    """95% interval of P(detect) per flight when campaigns, not flights, are independent.

    ``per_campaign[k]`` campaigns detected ``k`` of their ``flights``: the
    mean of the campaigns' fractions plus or minus ``z`` standard errors of
    that mean (central limit theorem over campaigns), clipped to [0, 1].

    >>> [round(x, 3) for x in campaign_interval(np.array([0, 0, 50, 0, 50]), 4)]   # half 2 of 4, half 4 of 4
    [0.701, 0.799]
    """
    counts = np.asarray(per_campaign, dtype=float)
    c = counts.sum()
    frac = np.arange(len(counts)) / flights
    mean = float(np.sum(counts * frac) / c)
    var = float(np.sum(counts * (frac - mean) ** 2) / max(c - 1, 1))
    half = z * float(np.sqrt(var / c))
    return (max(0.0, mean - half), min(1.0, mean + half))


def flight_interval(scenario, per_campaign, k, n):
    """95% interval of a per-flight share (``k`` of ``n`` flights; ``per_campaign[c]`` campaigns with ``c``):
    over campaigns when flights of a campaign share their fate (:func:`campaigns_share_fate`), else Wilson's."""
    if campaigns_share_fate(scenario):
        return campaign_interval(per_campaign, n // int(np.sum(per_campaign)))
    return wilson_interval(k, n)


def differences_z(values, ci95=None, flights=None, reference=0, probability=True):
    """Each value's difference from the reference's, over its standard error: shape (N,), NaN where
    none can be stated (the reference itself, a missing value, no interval and no flight counts).

    From the 95% intervals when both have one (each standard error the
    half-width / 1.96, whatever method made the interval: over flights or
    over campaigns), else for a probability with flight counts the pooled
    two-proportion z.

    >>> [round(float(z), 2) for z in differences_z([0.90, 0.905, 0.80], flights=[3000, 3000, 3000])[1:]]
    [0.65, 10.85]
    """
    p = np.asarray(values, dtype=float)
    ci = None if ci95 is None else np.asarray(ci95, dtype=float).reshape(-1, 2)
    n = None if flights is None else np.asarray(flights, dtype=float)
    ref = int(reference)
    z = np.full(len(p), np.nan)
    for i in range(len(p)):
        if i == ref or np.isnan(p[i]) or np.isnan(p[ref]):
            continue
        if ci is not None and np.all(np.isfinite(ci[[i, ref]])):
            se = float(np.hypot(*((ci[[i, ref], 1] - ci[[i, ref], 0]) / (2 * 1.959963984540054))))
        elif probability and n is not None:
            pooled = (p[ref] * n[ref] + p[i] * n[i]) / (n[ref] + n[i])
            se = float(np.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n[ref] + 1 / n[i])))
        else:
            continue
        z[i] = abs(p[i] - p[ref]) / max(se, 1e-12)
    return z


def _r(x, nd=6):
    """Round for stable, readable JSON."""
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), nd)


def summarize(sim, result):
    """The ``summary.json`` content as a plain dict (deterministic order)."""
    sc = sim.scenario
    tot = result.totals
    n, k = tot.flights, tot.detected
    shared = campaigns_share_fate(sc)
    lo, hi = flight_interval(sc, tot.per_campaign, k, n)
    sizes = np.arange(len(tot.per_campaign))
    below, below_all = below_ground_shares(sim.routes, sim.terrain) if sim.terrain is not None else (None, None)
    first_bins = (np.arange(len(tot.first_hist)) + 0.5) * FIRST_DETECTION_BIN_S / 60.0
    costs = [route_time_and_fuel(r, sc.aircraft) for r in sim.routes]   # flight time and fuel of each route
    out = {
        "scenario": sc.info.name,
        "title": sc.info.title,
        "overrides": list(sc.overrides),       # the --set KEY=VALUE texts as given: a what-if when any
        "seed": result.seed,
        "campaigns": result.campaigns,
        "flights_per_campaign": result.flights_per_campaign,
        "exact": not sim.tables,               # every scan from its geometry, no detection tables (--exact)
        "airspace": sim.airspace.name,
        "airspace_iso_a3": sim.airspace.iso_a3,
        "flights_total": n,
        "flights_detected": k,
        "p_detect": _r(k / n),
        "p_detect_ci95": [_r(lo), _r(hi)],
        "p_detect_ci95_text": format_ci(_r(lo), _r(hi), p=_r(k / n)),
        "p_detect_ci95_method": ("normal interval over campaigns (flights of a campaign share outages or "
                                 "policies)" if shared else "Wilson score interval, flights independent"),
        "detected_per_campaign": {
            "mean": _r(k / result.campaigns),
            "p05": _r(hist_percentile(tot.per_campaign, sizes, 5)),
            "p50": _r(hist_percentile(tot.per_campaign, sizes, 50)),
            "p95": _r(hist_percentile(tot.per_campaign, sizes, 95)),
        },
        "first_detection_min": {
            "mean": _r(tot.first_ms_sum / k / 60_000.0, 3) if k else None,
            "p50": _r(hist_percentile(tot.first_hist, first_bins, 50), 3) if k else None,
        },
        "radars": {
            r.name: {
                "kind": r.kind.name,
                "platform": _platform_summary(r.platform),
                "p_detect": _r(tot.radar_tracked[j] / n),
                "p_first": _r(tot.radar_first[j] / n),
                "p_up": _r(tot.radar_up[j] / n),
                **({"mean_outage_days": _r(spec.mean_outage_s / 86_400.0, 3)} if spec.mean_outage_s else {}),
            }
            for j, (r, spec) in enumerate(zip(sim.radars, sc.radars))
        },
        "routes": {
            r.name: {
                "flights": int(tot.route_flights[i]),
                "p_detect": _r(tot.route_detected[i] / tot.route_flights[i]) if tot.route_flights[i] else None,
                "length_km": _r(r.length_m / 1000.0, 1),
                "duration_min": _r(r.duration_s / 60.0, 1),
                "cruise_speed_kmh": _r(r.profile.cruise_speed_mps / KMH_MPS, 1),
                "fuel_t": _r(costs[i].fuel_kg / 1000.0, 2),
                "cruise_altitude_m": _r(r.cruise_altitude_m, 1),
                "cruise_altitude_agl_m": _r(r.cruise_agl_m, 1),
                **({} if r.clearance_min_m is None else {"clearance_min_m": _r(r.clearance_min_m, 1),
                                                         "clearance_mean_m": _r(r.clearance_mean_m, 1)}),
                "below_ground_fraction": None if below is None else _r(below[i], 4),
                **(nominal_route_fences(sim.fences[i]) if sim.fences else {}),
            }
            for i, r in enumerate(sim.routes)
        },
        "settings": {
            "track_m": sc.detection.track_m,
            "track_n": sc.detection.track_n,
            "terrain": sc.detection.terrain,
            "refraction_k": sc.detection.refraction_k,
            "rcs_m2": sc.aircraft.rcs_m2,
            "transponder_on_probability": sc.aircraft.transponder_on_probability,
            # the aircraft's cruise level in the mode it flies (above ground when terrain following)
            "cruise_altitude_m": sc.aircraft.cruise_altitude_m if sc.aircraft.cruise_altitude_agl_m is None else None,
            "cruise_altitude_agl_m": sc.aircraft.cruise_altitude_agl_m,
            "flights_per_day": sc.run.flights_per_day,
            "route_choice": sc.run.route_choice,
            "transponder_policy": sc.aircraft.transponder_policy,
            "radar_outages": "independent per flight" if all(r.mean_outage_s is None for r in sc.radars)
            else "two-state process along the campaign's calendar (see radars' mean_outage_days)",
        },
        # share of the routes' samples below the ground (not flyable as modelled; None: no terrain model)
        "below_ground_fraction": None if below_all is None else _r(below_all, 4),
        "note": ASSUMPTIONS_NOTE,
    }
    if tot.in_airspace_detected is not None:
        fences = {
            "p_detect_in_airspace": _r(tot.in_airspace_detected / n),
            "minutes_in_airspace_mean": _r(tot.minutes_airspace_micro / _MICRO / n, 3),
            "minutes_in_coverage_mean": _r(tot.minutes_coverage_micro / _MICRO / n, 3),
        }
        keys = list(out)
        at = keys.index("first_detection_min")
        out = {**{k: out[k] for k in keys[:at]}, **fences, **{k: out[k] for k in keys[at:]}}
    if tot.outcomes is not None:
        out["response"] = _response_summary(sc, tot, result.campaigns, n)
    return out


def _response_summary(sc, tot, campaigns, n):
    """Could they be stopped: the settings, the reaction windows, P(stopped) and stopped per campaign."""
    sizes = np.arange(len(tot.stopped_per_campaign))
    w_bins = (np.arange(len(tot.window_hist)) + 0.5) * WINDOW_BIN_MIN
    n_w = int(tot.window_hist.sum())
    stopped = int(tot.outcomes[_STOPPED_CODES].sum())
    lo, hi = flight_interval(sc, tot.stopped_per_campaign, stopped, n)
    r = sc.response

    def share(name, per_campaign):
        """``p_NAME`` per flight with its 95% interval (as p_stopped's), from campaigns by flights."""
        k = int(np.sum(np.arange(len(per_campaign)) * per_campaign))
        a, b = flight_interval(sc, per_campaign, k, n)
        return {f"p_{name}": _r(k / n), f"p_{name}_ci95": [_r(a), _r(b)],
                f"p_{name}_ci95_text": format_ci(_r(a), _r(b), p=_r(k / n))}

    def per_campaign_figures(per_campaign, total):
        return {"mean": _r(total / campaigns),
                **{f"p{q:02d}": _r(hist_percentile(per_campaign, sizes, q)) for q in (5, 50, 95)}}

    stopped_if = int(np.sum(sizes * tot.stopped_if_acted_per_campaign))
    return {
        "decision_delay_min": _r(r.decision_delay_s / 60.0, 3),
        "will": r.will,
        "order_to_land": {"airports": [a.icao for a in r.land_airports], "compliance": r.compliance}
        if r.land_airports else None,
        "intercept_compliance": r.intercept_compliance if sc.interceptors else None,
        "track_coast_min": _r(r.track_coast_s / 60.0, 3),
        "airspace_gap_min": _r(r.airspace_gap_s / 60.0, 3),
        "interceptors": [{"name": i.name, "lat": i.lat_deg, "lon": i.lon_deg, "ready_min": _r(i.ready_s / 60.0, 3),
                          "speed_kmh": _r(i.speed_mps / KMH_MPS, 1)} for i in sc.interceptors],
        "reaction_window_min": {
            "flights": n_w,
            "mean": _r(tot.window_micro / _MICRO / n_w, 3) if n_w else None,
            **{f"p{q:02d}": _r(hist_percentile(tot.window_hist, w_bins, q), 2) if n_w else None for q in (5, 50, 95)},
        },
        "outcomes": {name: _r(c / n) for name, c in zip(OUTCOMES, tot.outcomes)},
        "outcome_labels": dict(OUTCOME_LABELS),
        "p_stopped": _r(stopped / n),
        "p_stopped_ci95": [_r(lo), _r(hi)],
        "p_stopped_ci95_text": format_ci(_r(lo), _r(hi), p=_r(stopped / n)),
        "stopped_per_campaign": {
            "mean": _r(stopped / campaigns),
            "p05": _r(hist_percentile(tot.stopped_per_campaign, sizes, 5)),
            "p50": _r(hist_percentile(tot.stopped_per_campaign, sizes, 50)),
            "p95": _r(hist_percentile(tot.stopped_per_campaign, sizes, 95)),
        },
        # the state's will apart: held in track in time (whatever the will), ordered to land (acted on and
        # feasible), stopped were the state to act on every flight held in time (the outcome at will 1)
        **share("held_in_time", tot.held_per_campaign),
        **share("ordered", tot.ordered_per_campaign),
        **share("stopped_if_acted", tot.stopped_if_acted_per_campaign),
        "stopped_if_acted_per_campaign": per_campaign_figures(tot.stopped_if_acted_per_campaign, stopped_if),
    }


def _platform_summary(p):
    if isinstance(p, Orbit):
        return {"type": "orbit", "altitude_m": _r(p.alt_m, 1), "speed_kmh": _r(p.speed_mps / KMH_MPS, 1),
                "loop_km": _r(p.length_m / 1000.0, 1), "period_min": _r(p.period_s / 60.0, 2),
                "waypoints": [[_r(a), _r(b)] for a, b in zip(p.waypoint_lat_deg, p.waypoint_lon_deg)]}
    return {"type": "fixed site", "lat": _r(p.lat_deg), "lon": _r(p.lon_deg), "antenna_alt_m": _r(p.alt_m, 1)}


def headline(summary):
    """One sentence a planner reads first."""
    d = summary["detected_per_campaign"]
    n = summary["flights_per_campaign"]
    stopped = ""
    if "response" in summary:
        r = summary["response"]
        s = r["stopped_per_campaign"]
        band = f"{s['p05']:.0f}-{s['p95']:.0f}"
        if r.get("will", 1.0) < 1.0:      # the state acts on only some flights: what it could do, what it did
            stopped = (f", of which {r['stopped_if_acted_per_campaign']['mean']:.1f} could have been stopped if "
                       f"ordered (will {r['will']:.4g}: {s['mean']:.1f} were, {band})")
        else:
            stopped = f", of which {s['mean']:.1f} could have been stopped ({band})"
    return (f"{d['mean']:.1f} of {n} flights detected on average "
            f"(90% of campaigns between {d['p05']:.0f} and {d['p95']:.0f}){stopped}; "
            f"P(detect) per flight {format_p(summary['p_detect'], *summary['p_detect_ci95'])} "
            f"[95% CI {format_ci(*summary['p_detect_ci95'], p=summary['p_detect'])}]")


def shown_title(summary):
    """The title products show: the scenario's, marked ``(what-if: N changes)`` when overrides changed it.

    >>> shown_title({"title": "Baseline", "overrides": ["aircraft.rcs_m2=10", "detection.terrain=false"]})
    'Baseline (what-if: 2 changes)'
    >>> shown_title({"title": "Baseline", "overrides": []})
    'Baseline'
    """
    n = len(summary.get("overrides", ()))
    return summary["title"] if n == 0 else f"{summary['title']} (what-if: {n} change{'s' if n > 1 else ''})"


def overrides_text(summary, max_chars=None):
    """The run's overrides in one line, ``"KEY=VALUE; KEY=VALUE"`` ("" when none).

    ``max_chars`` shortens a long list: whole overrides are kept while they
    fit, then ``… (+N more)`` (the full list is in summary.json).

    >>> overrides_text({"overrides": ["aircraft.rcs_m2=10", "detection.terrain=false"]}, max_chars=35)
    'aircraft.rcs_m2=10; … (+1 more)'
    """
    items = list(summary.get("overrides", ()))
    text = "; ".join(items)
    if max_chars is None or len(text) <= max_chars:
        return text
    for k in range(len(items) - 1, 0, -1):       # the first k whole, then how many more
        short = "; ".join(items[:k]) + f"; … (+{len(items) - k} more)"
        if len(short) <= max_chars:
            return short
    more = f" (+{len(items) - 1} more)" if len(items) > 1 else ""   # even the first is too long: cut it
    return items[0][: max(max_chars - len(more) - 1, 8)] + "…" + more


#: Decimals of a probability and its interval: three, more only where three would hide the data.
CI_DIGITS, CI_DIGITS_MAX = 3, 6


def _outward(x, digits, up):
    """``x`` rounded to ``digits`` decimals down (``up`` False) or up: an interval's ends, never narrower
    than computed (a value already on the grid, to within a millionth of a step, stays)."""
    s = 10.0 ** digits
    return (np.ceil(x * s - 1e-6) if up else np.floor(x * s + 1e-6)) / s


def ci_digits(lo, hi, p=None):
    """Decimals that show a probability ``p`` (optional) and its interval ``[lo, hi]`` without hiding them:
    :data:`CI_DIGITS`, more (at most :data:`CI_DIGITS_MAX`) while the interval, rounded outwards, would
    print with no width though it has one, or while ``p`` strictly between 0 and 1 would print as 0 or 1.

    >>> ci_digits(0.262587, 0.294647, 0.278333), ci_digits(0.9997, 0.9999, 0.9999), ci_digits(0.0, 0.00004, 0.00002)
    (3, 4, 5)
    """
    for d in range(CI_DIGITS, CI_DIGITS_MAX + 1):
        flat = lo < hi and _outward(lo, d, False) == _outward(hi, d, True)
        edge = p is not None and 0.0 < p < 1.0 and round(p, d) in (0.0, 1.0)
        if not (flat or edge):
            return d
    return CI_DIGITS_MAX


def format_ci(lo, hi, p=None):
    """An interval ``lo-hi`` rounded outwards (never narrower than computed), with three decimals or, where
    three would hide it, more (:func:`ci_digits`; ``p``: the value it belongs to, shown with it).

    >>> format_ci(0.262587, 0.294647), format_ci(0.9997, 0.9999, p=0.9999)
    ('0.262-0.295', '0.9997-0.9999')
    """
    d = ci_digits(lo, hi, p)
    return f"{_outward(lo, d, False):.{d}f}-{_outward(hi, d, True):.{d}f}"


def format_p(p, lo, hi):
    """A probability with the decimals its interval needs (:func:`ci_digits`): what :func:`format_p_ci`
    prints before the interval, for a table that shows the two apart."""
    return f"{p:.{ci_digits(lo, hi, p)}f}"


def format_p_ci(p, lo, hi):
    """A probability and its 95% interval, ``0.278 [0.262-0.295]``: three decimals, more while fewer would
    print the interval with no width or the value (below 1, above 0) as 1 or 0. Every P with an interval
    on a chart, title or table is written by it.

    >>> format_p_ci(0.9999, 0.9997, 0.9999), format_p_ci(0.278333, 0.262587, 0.294647)
    ('0.9999 [0.9997-0.9999]', '0.278 [0.262-0.295]')
    """
    return f"{format_p(p, lo, hi)} [{format_ci(lo, hi, p)}]"


#: The columns of ``flights.csv`` and :meth:`sim.api.Run.to_pandas`: type (``int``; ``bool``: yes or no,
#: written 0/1; ``float``; ``str``), unit, meaning. An empty cell is a missing value (NaN, or None for text).
FLIGHT_COLUMNS = {
    "campaign": ("int", "", "campaign index, from 0"),
    "flight": ("int", "", "flight index within its campaign, from 0"),
    "route": ("str", "", "the route flown (its name in the scenario)"),
    "detected": ("bool", "0/1", "a track was formed by some radar"),
    "first_detection_s": ("float", "s", "time of the first track since departure (empty: none)"),
    "first_radar": ("str", "", "the radar that formed the first track (empty: none)"),
    "detected_in_airspace": ("bool", "0/1", "a track was held while the flight was inside the airspace"),
    "minutes_in_airspace": ("float", "min", "time inside the scenario's airspace"),
    "minutes_in_coverage": ("float", "min", "time in the geometric coverage of the radars that can see it"),
    "transponder_on": ("bool", "0/1", "the transponder was on"),
    "cross_track_m": ("float", "m", "sideways offset from the route's nominal track (right positive)"),
    "radars_tracking": ("int", "", "number of radars that formed a track"),
    "reaction_window_min": ("float", "min", "first track inside the airspace to the last moment held in track "
                                           "there (empty: never tracked inside)"),
    "order_feasible": ("bool", "0/1", "an order to land could be given in time and flown before leaving (given only "
                                     "when the state acts: outcome no_order otherwise)"),
    "obeyed": ("bool", "0/1", "the crew obeyed the order to land"),
    "interceptable": ("bool", "0/1", "an interceptor could meet the flight while its track was held (sent only "
                                    "when the state acts)"),
    "outcome": ("str", "", "what happened: one code of sim.response.OUTCOMES"),
}
#: pandas' type of each schema type ("str": pandas' default text type).
_PANDAS_TYPES = {"int": "int64", "bool": "bool", "float": "float64", "str": "str"}


def flight_dtypes(header):
    """pandas dtypes of ``flights.csv`` columns (``pd.read_csv(..., dtype=flight_dtypes(header),
    keep_default_na=False, na_values=[""])`` reads the file as :meth:`sim.api.Run.to_pandas` returns it)."""
    return {c: _PANDAS_TYPES[FLIGHT_COLUMNS[c][0]] for c in header}


#: Columns ``flights.csv`` adds when the scenario has a ``[response]`` or interceptors.
RESPONSE_COLUMNS = ("reaction_window_min", "order_feasible", "obeyed", "interceptable", "outcome")


def flight_header(sim, with_fences):
    """The columns of ``flights.csv``."""
    response = with_fences and sim.scenario.response is not None
    return ["campaign", "flight", "route", "detected", "first_detection_s", "first_radar",
            *(("detected_in_airspace", "minutes_in_airspace", "minutes_in_coverage") if with_fences else ()),
            "transponder_on", "cross_track_m", "radars_tracking", *(RESPONSE_COLUMNS if response else ())]


def flight_rows(sim, part):
    """Per-flight table rows (list of tuples), deterministic formatting.

    ``part`` is a run's per-flight results (:class:`~sim.montecarlo.RunResult`)
    or one chunk's (the dict of ``simulate_chunk``).
    """
    get = part.get if isinstance(part, dict) else lambda k: getattr(part, k)
    names = [safe_cell(r.name) for r in sim.radars]      # names are data: no spreadsheet formula (sim.cells)
    routes = [safe_cell(r.name) for r in sim.routes]
    b = get("batch")
    fences = get("minutes_in_airspace") is not None
    cols = [
        b.campaign.tolist(), b.flight.tolist(), [routes[i] for i in b.route_index],
        get("detected").astype(int).tolist(),
        ["" if np.isnan(x) else f"{x:.1f}" for x in get("first_detection_s")],
        ["" if i < 0 else names[i] for i in get("first_radar")],
        *((get("detected_in_airspace").astype(int).tolist(),
           [f"{x:.2f}" for x in get("minutes_in_airspace")],
           [f"{x:.2f}" for x in get("minutes_in_coverage")]) if fences else ()),
        b.transponder_on.astype(int).tolist(),
        [f"{x:.1f}" for x in b.cross_track_m],
        get("tracked_by").sum(axis=1).tolist(),
    ]
    if get("outcome") is not None:
        cols += [["" if np.isnan(x) else f"{x:.1f}" for x in get("reaction_window_min")],
                 get("order_feasible").astype(int).tolist(), get("obeyed").astype(int).tolist(),
                 get("interceptable").astype(int).tolist(), [OUTCOMES[k] for k in get("outcome")]]   # codes
    return list(zip(*cols))


#: Rows formatted at a time by :func:`flight_csv_text` (bounds its memory: about 300 bytes a row).
_CSV_BLOCK_ROWS = 32_768


def flight_csv_text(sim, part):
    """The rows of ``part`` as CSV text (no header), as ``flights.csv`` holds them.

    Byte for byte the text of ``csv.writer(buf, lineterminator="\\n").writerows(flight_rows(sim, part))``
    (the reference), built column by column by numpy with no Python loop over flights: each cell is
    a few pieces, a block of bytes per flight with a mask of the bytes it keeps (sign, digits, point
    and decimals, a name quoted once as ``csv`` quotes it), and the text is the kept bytes of all
    pieces side by side, row by row. Fixed decimals are the digits of the integer nearest to the
    scaled value; the few cells whose scaled value is a tie (or, as a margin, near one), and NaN,
    infinities and huge values, are formatted by Python itself, so every cell is what ``f"{x:.1f}"``
    writes: the correctly rounded decimal of the double, ties to even.
    """
    get = part.get if isinstance(part, dict) else lambda k: getattr(part, k)
    b = get("batch")
    n = len(b.campaign)
    names = [safe_cell(r.name) for r in sim.radars]      # as flight_rows: names are data (sim.cells)
    routes = [safe_cell(r.name) for r in sim.routes]
    first_radar = np.asarray(get("first_radar"))
    one_decimal = partial(_csv_fixed_pieces, decimals=1)
    one_decimal_or_empty = partial(_csv_fixed_pieces, decimals=1, nan_empty=True)
    columns = [(_csv_int_pieces, b.campaign), (_csv_int_pieces, b.flight),
               (_csv_text_column(routes), b.route_index), (_csv_bool_pieces, get("detected")),
               (one_decimal_or_empty, get("first_detection_s")),
               (_csv_text_column(names + [""]), np.where(first_radar < 0, len(names), first_radar))]
    if get("minutes_in_airspace") is not None:
        two_decimals = partial(_csv_fixed_pieces, decimals=2)
        columns += [(_csv_bool_pieces, get("detected_in_airspace")), (two_decimals, get("minutes_in_airspace")),
                    (two_decimals, get("minutes_in_coverage"))]
    columns += [(_csv_bool_pieces, b.transponder_on), (one_decimal, b.cross_track_m),
                (_csv_int_pieces, np.asarray(get("tracked_by")).sum(axis=1))]
    if get("outcome") is not None:
        columns += [(one_decimal_or_empty, get("reaction_window_min")), (_csv_bool_pieces, get("order_feasible")),
                    (_csv_bool_pieces, get("obeyed")), (_csv_bool_pieces, get("interceptable")),
                    (_csv_text_column(list(OUTCOMES)), get("outcome"))]
    columns = [(f, np.asarray(a)) for f, a in columns]
    return "".join(_csv_rows([f(a[i:i + _CSV_BLOCK_ROWS]) for f, a in columns])
                   for i in range(0, n, _CSV_BLOCK_ROWS))


def _csv_rows(cells):
    """CSV rows of cells given as pieces (a list per column): the kept bytes, a comma between cells."""
    n = len(cells[0][0][0])
    width = sum(m.shape[1] for cell in cells for m, _ in cell) + len(cells)     # a comma or newline after each
    data = np.empty((n, width), np.uint8)
    keep = np.empty((n, width), bool)
    col = 0
    for c, cell in enumerate(cells):
        for m, kept in cell:
            data[:, col:col + m.shape[1]] = m
            keep[:, col:col + m.shape[1]] = kept
            col += m.shape[1]
        data[:, col] = ord("\n" if c == len(cells) - 1 else ",")
        keep[:, col] = True
        col += 1
    return data[keep].tobytes().decode("utf-8", "surrogatepass")


def _csv_field(value):
    """One cell as ``csv.writer`` (the dialect of :func:`flight_csv_text`) writes it in a row of several."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["", value])
    return buf.getvalue()[1:-1]          # ",<cell>\n"


def _csv_left(lengths, width):
    """The mask keeping the first ``lengths`` bytes of each row of a (n, width) block."""
    return np.arange(width) < np.asarray(lengths)[:, None]


def _csv_text_column(values):
    """The formatter of cells ``values[index]`` (a few distinct texts, each quoted once as csv quotes
    it, then taken by index): a function of the indices giving the pieces."""
    texts = [_csv_field(v).encode("utf-8", "surrogatepass") for v in values]
    table = np.zeros((len(texts), max([1, *map(len, texts)])), np.uint8)
    for i, t in enumerate(texts):
        table[i, :len(t)] = np.frombuffer(t, np.uint8)
    lengths = np.array([len(t) for t in texts], np.int64)
    return lambda index: [(table[index], _csv_left(lengths[index], table.shape[1]))]


def _csv_bool_pieces(values):
    """0/1 cells (yes/no as ``astype(int)`` writes them): the pieces."""
    v = np.asarray(values).astype(bool)
    return [(np.where(v, ord("1"), ord("0")).astype(np.uint8)[:, None], np.ones((len(v), 1), bool))]


def _csv_digits(k, min_digits=1, point=None):
    """Decimal digits of non-negative integers ``k`` (at least ``min_digits``, no leading zeros
    beyond), right-aligned in a (n, w) block; with ``point`` a decimal point before the last
    ``point`` digits. A piece."""
    k = np.asarray(k, np.int64)
    n_digits = max(min_digits, len(str(int(k.max(initial=0)))))
    dot = 0 if point is None else 1
    w = n_digits + dot
    m = np.empty((len(k), w), np.uint8)
    q = k
    for p in range(n_digits):                 # the last digit first; a division by a scalar per digit
        col = w - 1 - p - (dot if point is not None and p >= point else 0)
        nq = q // 10
        m[:, col] = q - nq * 10 + ord("0")
        q = nq
    if dot:
        m[:, w - 1 - point] = ord(".")
    # digits of k: the powers of ten not above it (none for 0)
    used = np.searchsorted(10 ** np.arange(n_digits, dtype=np.int64), k, side="right")
    return m, np.arange(w) >= (w - np.maximum(min_digits, used) - dot)[:, None]


def _csv_sign(negative):
    """A ``-`` where ``negative``: a piece."""
    return np.full((len(negative), 1), ord("-"), np.uint8), np.asarray(negative, bool)[:, None]


def _csv_int_pieces(values):
    """Integer cells as ``str(int)`` writes them: pieces."""
    v = np.asarray(values).astype(np.int64)
    return [_csv_sign(v < 0), _csv_digits(np.abs(v))]


def _csv_fixed_pieces(values, decimals, nan_empty=False):
    """Cells ``f"{x:.{decimals}f}"`` (empty for NaN when ``nan_empty``), as pieces: the sign, the
    digits of the rounded scaled value with its point, and the cells Python formats itself (on or
    near a tie, not finite, or huge)."""
    x = np.asarray(values)
    v = np.abs(x.astype(np.float64))
    with np.errstate(invalid="ignore", over="ignore"):
        y = v * 10 ** decimals        # the exact scaled value, rounded once (within y * 2**-53)
        frac = y - np.floor(y)        # exact for y < 2**52
        # Rounding is monotonic and a tie m + 0.5 is a double here, so y is never on the other side of
        # a tie than the exact value: the integer nearest to y is the exact value's unless y is a tie.
        # Cells near one (by far more than the rounding error) go to Python all the same: a margin.
        sure = (y < 2.0 ** 50) & (np.abs(frac - 0.5) > np.maximum(1e-6, y * 2.0 ** -50))
        k = np.where(sure, np.rint(y), 0).astype(np.int64)
    m, kept = _csv_digits(k, decimals + 1, point=decimals)
    pieces = [_csv_sign(np.signbit(x) & sure), (m, kept & sure[:, None])]
    other = np.flatnonzero(~sure)
    if nan_empty:
        other = other[~np.isnan(x[other])]
    if other.size:
        texts = [f"{c:.{decimals}f}".encode() for c in x[other]]    # the reference's own formatting
        m = np.zeros((len(x), max(map(len, texts))), np.uint8)
        lengths = np.zeros(len(x), np.int64)
        for i, t in zip(other, texts):
            m[i, :len(t)] = np.frombuffer(t, np.uint8)
            lengths[i] = len(t)
        pieces.append((m, _csv_left(lengths, m.shape[1])))
    return pieces
