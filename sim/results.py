"""Results: per-flight records and the aggregates of the run contract.

Pure functions of a :class:`~sim.montecarlo.RunResult`; no I/O here.
"""
import numpy as np

from geo.units import KMH_MPS
from sim.fences import nominal_route_fences
from sim.platforms import Orbit

__all__ = ["wilson_interval", "summarize", "flight_rows", "ASSUMPTIONS_NOTE", "headline", "format_ci"]

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


def _r(x, nd=6):
    """Round for stable, readable JSON."""
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), nd)


def summarize(sim, result):
    """The ``summary.json`` content as a plain dict (deterministic order)."""
    sc = sim.scenario
    n = len(result.detected)
    k = int(result.detected.sum())
    per_campaign = result.detected.reshape(result.campaigns, result.flights_per_campaign).sum(axis=1)
    lo, hi = wilson_interval(k, n)
    first_min = result.first_detection_s[result.detected] / 60.0
    out = {
        "scenario": sc.info.name,
        "title": sc.info.title,
        "seed": result.seed,
        "campaigns": result.campaigns,
        "flights_per_campaign": result.flights_per_campaign,
        "airspace": sim.airspace.name,
        "airspace_iso_a3": sim.airspace.iso_a3,
        "flights_total": n,
        "flights_detected": k,
        "p_detect": _r(k / n),
        "p_detect_ci95": [_r(lo), _r(hi)],
        "p_detect_ci95_method": "Wilson score interval, flights independent",
        "detected_per_campaign": {
            "mean": _r(per_campaign.mean()),
            "p05": _r(np.percentile(per_campaign, 5)),
            "p50": _r(np.percentile(per_campaign, 50)),
            "p95": _r(np.percentile(per_campaign, 95)),
        },
        "first_detection_min": {
            "mean": _r(first_min.mean()) if k else None,
            "p50": _r(np.percentile(first_min, 50)) if k else None,
        },
        "radars": {
            r.name: {
                "kind": r.kind.name,
                "platform": _platform_summary(r.platform),
                "p_detect": _r(result.tracked_by[:, j].mean()),
                "p_first": _r(np.mean(result.first_radar == j)),
                "p_up": _r(result.radar_up[:, j].mean()),
            }
            for j, r in enumerate(sim.radars)
        },
        "routes": {
            r.name: {
                "flights": int(np.sum(result.batch.route_index == i)),
                "p_detect": _r(result.detected[result.batch.route_index == i].mean())
                if np.any(result.batch.route_index == i) else None,
                "length_km": _r(r.length_m / 1000.0, 1),
                "duration_min": _r(r.duration_s / 60.0, 1),
                "cruise_altitude_m": _r(r.cruise_altitude_m, 1),
                "cruise_altitude_agl_m": _r(r.cruise_agl_m, 1),
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
            "cruise_altitude_m": sc.aircraft.cruise_altitude_m,
            "cruise_altitude_agl_m": sc.aircraft.cruise_altitude_agl_m,
        },
        "note": ASSUMPTIONS_NOTE,
    }
    if result.minutes_in_airspace is not None:
        fences = {
            "p_detect_in_airspace": _r(result.detected_in_airspace.mean()),
            "minutes_in_airspace_mean": _r(result.minutes_in_airspace.mean(), 3),
            "minutes_in_coverage_mean": _r(result.minutes_in_coverage.mean(), 3),
        }
        keys = list(out)
        at = keys.index("first_detection_min")
        out = {**{k: out[k] for k in keys[:at]}, **fences, **{k: out[k] for k in keys[at:]}}
    return out


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
    return (f"{d['mean']:.1f} of {n} flights detected on average "
            f"(90% of campaigns between {d['p05']:.0f} and {d['p95']:.0f}); "
            f"P(detect) per flight {summary['p_detect']:.3f} [95% CI {format_ci(*summary['p_detect_ci95'])}]")


def format_ci(lo, hi):
    """An interval with three decimals, rounded outwards (never narrower than computed)."""
    return f"{np.floor(lo * 1000) / 1000:.3f}-{np.ceil(hi * 1000) / 1000:.3f}"


def flight_rows(sim, result):
    """Per-flight table: (header, list of row tuples), deterministic formatting."""
    names = [r.name for r in sim.radars]
    routes = [r.name for r in sim.routes]
    b = result.batch
    fences = result.minutes_in_airspace is not None
    header = ["campaign", "flight", "route", "detected", "first_detection_s", "first_radar",
              *(("detected_in_airspace", "minutes_in_airspace", "minutes_in_coverage") if fences else ()),
              "transponder_on", "cross_track_m", "radars_tracking"]
    n_tracking = result.tracked_by.sum(axis=1)
    cols = [
        b.campaign.tolist(), b.flight.tolist(), [routes[i] for i in b.route_index],
        [int(x) for x in result.detected],
        ["" if np.isnan(x) else f"{x:.1f}" for x in result.first_detection_s],
        ["" if i < 0 else names[i] for i in result.first_radar],
        *(([int(x) for x in result.detected_in_airspace],
           [f"{x:.2f}" for x in result.minutes_in_airspace],
           [f"{x:.2f}" for x in result.minutes_in_coverage]) if fences else ()),
        [int(x) for x in b.transponder_on],
        [f"{x:.1f}" for x in b.cross_track_m],
        n_tracking.tolist(),
    ]
    return header, list(zip(*cols))
