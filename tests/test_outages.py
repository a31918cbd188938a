"""Campaigns whose flights share their fate: outages that last, policies that hold.

References: the two-state Markov chain's closed form (S. M. Ross, Introduction to Probability
Models, 10th ed., 6.5) for a campaign wholly missed; statistical bounds from the sample sizes.
"""
import math

import numpy as np
import pytest

from conftest import SCENARIOS
from sim.outages import p_all_down, up_states
from sim.pipeline import load, simulate
from sim.scenario import parse_scenario

OFF = SCENARIOS / "iraq_2012_transponder_off.toml"


def _one_radar(campaigns, flights, radar, run=None, aircraft=None, seed=9):
    """A level route straight over one radar (Pd 1 inside 50 km): detected iff the radar is up."""
    return parse_scenario({
        "scenario": {"name": "campaign", "title": "campaign correlation"},
        "run": {"campaigns": campaigns, "flights": flights, "seed": seed, **(run or {})},
        "aircraft": {"cruise_altitude_m": 10_000.0, "cruise_speed_kmh": 720.0, **(aircraft or {})},
        "route": [{"name": "east", "waypoints": [{"lat": 33.0, "lon": 44.0}, {"lat": 33.0, "lon": 46.0}]}],
        "radar": [{"name": "R", "lat": 33.0, "lon": 45.0, "elevation_m": 0.0, "antenna_height_m": 20.0,
                   "range_km": 50.0, "scan_period_s": 10.0, "pd": 1.0, **radar}],
        "detection": {"track_m": 1, "track_n": 1},
    })


def _per_campaign(result):
    return result.detected.reshape(result.campaigns, result.flights_per_campaign).sum(axis=1)


def test_outages_tending_to_zero_give_todays_outputs_byte_for_byte(run_cli, tmp_path):
    files = {}
    for name, extra in (("absent", []), ("zero", ["--set", "detection.mean_outage_days=1e-9"])):
        code, _, err = run_cli("run", OFF, "--campaigns", 40, "--out", tmp_path / name, "-q", *extra)
        assert code == 0, err
        files[name] = tmp_path / name
    assert (files["absent"] / "flights.csv").read_bytes() == (files["zero"] / "flights.csv").read_bytes()
    import json
    a, b = (json.loads((files[k] / "summary.json").read_text()) for k in ("absent", "zero"))
    assert a["settings"]["radar_outages"] == "independent per flight"
    for k in ("p_detect", "p_detect_ci95", "detected_per_campaign", "p_detect_in_airspace"):
        assert a[k] == b[k], k


@pytest.mark.slow
def test_longer_outages_widen_the_band_not_the_mean():
    # transponders off (Kirkuk's and Baghdad's primary radars carry it), 1,000 campaigns x 15
    p, var = [], []
    for days in (None, 3.0, 20.0):
        sc = load(OFF, [] if days is None else [f"detection.mean_outage_days={days}"])
        _, res = simulate(sc, campaigns=1000, with_fences=False)
        per = _per_campaign(res)
        p.append(res.detected.mean())
        var.append(per.var())
    assert var[0] < var[1] < var[2], var
    # P(detect) per flight unchanged: within 3 standard errors of the campaign means (clustered flights)
    for v, q in zip(var[1:], p[1:]):
        se = math.sqrt((var[0] + v) / 1000) / 15
        assert abs(q - p[0]) < 3 * se, (q, p[0], se)


@pytest.mark.parametrize("availability, days", [(0.6, 2.0), (0.8, 5.0)])
def test_whole_campaign_missed_matches_the_two_state_closed_form(availability, days):
    n, campaigns = 6, 4000
    sc = _one_radar(campaigns, n, {"kind": "primary", "availability": availability, "mean_outage_days": days})
    _, res = simulate(sc, with_fences=False)
    missed = np.mean(_per_campaign(res) == 0)
    ref = p_all_down(availability, days * 86400.0, 86400.0, n)
    independent = (1 - availability) ** n
    assert abs(missed - ref) < 4 * math.sqrt(ref * (1 - ref) / campaigns), (missed, ref)
    assert ref > 3 * independent          # the correlation matters here
    assert res.detected.mean() == pytest.approx(availability, abs=4 * math.sqrt(0.25 / (campaigns * n / 3)))


def test_up_states_follow_the_transition_probabilities():
    # the chain's empirical transitions against transition_up, 200,000 steps
    rng = np.random.default_rng(2)
    u = rng.random((20_000, 11))
    up = up_states(u, 0.7, 3 * 86400.0, 86400.0)
    prev, nxt = up[:, :-1].ravel(), up[:, 1:].ravel()
    rho = math.exp(-1 / (0.7 * 3))
    assert nxt[prev].mean() == pytest.approx(0.7 + 0.3 * rho, abs=0.01)
    assert nxt[~prev].mean() == pytest.approx(0.7 * (1 - rho), abs=0.01)
    assert up[:, 0].mean() == pytest.approx(0.7, abs=0.015)


def test_transponder_policy_per_campaign_all_or_nothing_in_halves():
    # a secondary radar only: with one transponder decision per campaign (p = 0.5), every campaign
    # is detected whole or missed whole, about half and half
    sc = _one_radar(2000, 8, {"kind": "secondary", "availability": 1.0},
                    aircraft={"transponder_on_probability": 0.5, "transponder_policy": "per_campaign"})
    _, res = simulate(sc, with_fences=False)
    per = _per_campaign(res)
    assert set(np.unique(per)) == {0, 8}
    assert np.mean(per == 8) == pytest.approx(0.5, abs=4 * math.sqrt(0.25 / 2000))


def test_route_choice_per_campaign_shares_the_route():
    sc = load(OFF, ["run.route_choice=per_campaign"])
    _, res = simulate(sc, campaigns=300, with_fences=False)
    routes = res.batch.route_index.reshape(300, 15)
    assert np.all(routes == routes[:, :1])
    assert np.mean(routes[:, 0] == 0) == pytest.approx(0.7, abs=4 * math.sqrt(0.21 / 300))   # route weights 0.7/0.3


def test_interval_over_campaigns_when_flights_share_their_fate():
    # with one transponder decision per campaign the flights are not independent: the summary's
    # interval is over campaigns, contains the true 0.5 and is far wider than Wilson's would be
    from sim.results import summarize, wilson_interval
    sc = _one_radar(400, 10, {"kind": "secondary", "availability": 1.0},
                    aircraft={"transponder_on_probability": 0.5, "transponder_policy": "per_campaign"})
    sim, res = simulate(sc, with_fences=False)
    s = summarize(sim, res)
    lo, hi = s["p_detect_ci95"]
    assert "over campaigns" in s["p_detect_ci95_method"]
    assert lo < 0.5 < hi
    # independent reference: a campaign is all or nothing, so the campaign fractions are 0/1 with
    # variance p(1 - p): the half-width is 1.96 sqrt(p(1 - p) / 400)
    p = s["p_detect"]
    assert hi - lo == pytest.approx(2 * 1.96 * math.sqrt(p * (1 - p) / 399), rel=0.02)
    w_lo, w_hi = wilson_interval(int(res.detected.sum()), len(res.detected))
    assert hi - lo > 2.5 * (w_hi - w_lo)
