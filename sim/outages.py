"""Radar outages that last: a two-state (up/down) process sampled along a campaign's calendar.

A radar is up a long-run fraction ``a`` of the time (its availability) and
its outages last ``D`` on average. Up and down durations are exponential
(mean ``U = D a / (1 - a)`` up, ``D`` down): a two-state continuous-time
Markov chain, whose state at the flights' times (every ``dt``) is a
discrete Markov chain. Consecutive flights share the radar's fate when
``D`` is long against ``dt``; with ``D`` tending to 0 every flight draws
independently, as the scenario format's default says.

>>> p_uu, p_du = transition_up(0.9, 2 * 86400.0, 86400.0)
>>> round(float(p_uu), 4), round(float(p_du), 4)
(0.9574, 0.3836)
>>> up_states(np.array([[0.95, 0.5, 0.97]]), 0.9, 1e-9, 86400.0).tolist()   # D -> 0: u < a
[[False, True, False]]

References
----------
S. M. Ross, *Introduction to Probability Models*, 10th ed., Academic Press,
2010, section 6.5: for a two-state chain with rates ``lambda`` (up to down)
and ``mu`` (down to up), ``P_up,up(t) = mu / (lambda + mu) + lambda /
(lambda + mu) exp(-(lambda + mu) t)``.
"""
import numpy as np

__all__ = ["transition_up", "up_states", "p_all_down"]


def transition_up(availability, mean_down_s, dt_s):
    """Probabilities of being up ``dt_s`` later, from up and from down.

    Parameters
    ----------
    availability : float
        Long-run fraction of time up, ``a = mu / (lambda + mu)`` [-].
    mean_down_s : float
        Mean outage duration ``D = 1 / mu`` [s].
    dt_s : float
        Time between the samples [s].

    Returns
    -------
    p_up_up, p_down_up : float
        ``a + (1 - a) rho`` and ``a (1 - rho)`` with
        ``rho = exp(-(lambda + mu) dt) = exp(-dt / (a D))``.
    """
    a = float(availability)
    rho = 0.0 if a <= 0.0 else float(np.exp(-dt_s / (a * mean_down_s)))
    return a + (1.0 - a) * rho, a * (1.0 - rho)


def up_states(u, availability, mean_down_s, dt_s):
    """Up (True) or down at each flight of a calendar, from uniforms ``u`` (..., n_flights).

    The first flight is up with probability ``a`` (the chain is stationary);
    flight ``k`` is up when ``u[..., k]`` is below :func:`transition_up`'s
    probability given flight ``k - 1``. The same uniforms with ``D -> 0``
    give ``u < a`` at every flight. Vectorized over the leading axes; a
    loop runs along the calendar (the chain is sequential).
    """
    u = np.asarray(u, dtype=float)
    p_uu, p_du = transition_up(availability, mean_down_s, dt_s)
    up = np.empty(u.shape, dtype=bool)
    up[..., 0] = u[..., 0] < availability
    for k in range(1, u.shape[-1]):
        up[..., k] = u[..., k] < np.where(up[..., k - 1], p_uu, p_du)
    return up


def p_all_down(availability, mean_down_s, dt_s, n):
    """Probability that the radar is down at all ``n`` flights: ``(1 - a) P_down,down^(n - 1)``.

    >>> round(p_all_down(0.5, 1e-9, 86400.0, 3), 6)   # independent: 0.5^3
    0.125
    """
    p_uu, p_du = transition_up(availability, mean_down_s, dt_s)
    return (1.0 - availability) * (1.0 - p_du) ** (n - 1)
