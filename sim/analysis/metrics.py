"""Metrics: the scalars of ``summary.json`` by dotted path, with their intervals, labels and names.

Every analysis command (sweep, compare, sensitivity, the brief's tornado)
asks a question of one scalar of a run's summary: ``p_detect``,
``response.p_stopped``, ``detected_per_campaign.mean``, ... This module is
the one place that reads such a scalar (:func:`metric_value`), its 95%
interval when the summary has one (the sibling ``<name>_ci95``:
``p_detect_ci95``, ``response.p_stopped_ci95``), the names a summary holds
(:func:`metric_names`, read from the summary itself, so outcome and radar
names are never spelt here) and the closest spellings of a mistyped name.

>>> s = {"p_detect": 0.9, "p_detect_ci95": [0.88, 0.92], "response": {"p_stopped": 0.5, "exact": False}}
>>> metric_value(s, "response.p_stopped"), metric_interval(s, "p_detect"), metric_interval(s, "response.p_stopped")
(0.5, (0.88, 0.92), None)
>>> metric_names(s)
['p_detect', 'response.p_stopped']
>>> closest_metrics("p_stopped", metric_names(s))
['response.p_stopped']
"""
import difflib
import math

import numpy as np

__all__ = ["MetricError", "metric_value", "metric_interval", "metric_names", "closest_metrics", "check_metric",
           "metric_label", "metric_short_label", "is_probability", "differences_z", "METRIC_EXAMPLES", "METRICS_HELP",
           "DEFAULT_METRIC"]

#: The metric of every analysis command unless one is asked for.
DEFAULT_METRIC = "p_detect"

#: The metrics a planner asks for most, as ``--help`` lists them (``NAME``: a radar's or route's name,
#: ``OUTCOME``: an outcome code of summary.json's ``response.outcomes``); every summary.json holds the
#: first group, a scenario with a ``[response]`` or interceptors the second (a test checks both).
METRIC_EXAMPLES = (
    ("p_detect", "p_detect_in_airspace", "detected_per_campaign.mean", "detected_per_campaign.p05",
     "detected_per_campaign.p95", "first_detection_min.mean", "minutes_in_coverage_mean",
     "radars.NAME.p_detect", "routes.NAME.p_detect"),
    ("response.p_stopped", "response.stopped_per_campaign.mean", "response.stopped_per_campaign.p05",
     "response.reaction_window_min.p50", "response.outcomes.OUTCOME"),
)

#: The ``--metric`` help of sweep, compare and sensitivity.
METRICS_HELP = (f"a scalar of summary.json by its dotted path (default {DEFAULT_METRIC}): "
                + ", ".join(METRIC_EXAMPLES[0]) + "; with a [response]: " + ", ".join(METRIC_EXAMPLES[1])
                + ". Intervals where summary.json has them (p_detect, response.p_stopped)")

#: Words for the metrics charts name most; any other metric is labelled by its path.
_LABELS = {
    "p_detect": ("P(detect)", "P(detect) per flight"),
    "p_detect_in_airspace": ("P(detect in airspace)", "P(detect) per flight, held in track in the airspace"),
    "detected_per_campaign.mean": ("detected/campaign", "flights detected per campaign, mean"),
    "response.p_stopped": ("P(stopped)", "P(stopped) per flight"),
    "response.stopped_per_campaign.mean": ("stopped/campaign", "flights stopped per campaign, mean"),
}


class MetricError(KeyError):
    """A metric that is not a scalar of the summary (its message says which, and the closest spellings)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _lookup(summary, path):
    value = summary
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def metric_value(summary, metric):
    """A scalar of a summary by its dotted path (``p_detect``, ``response.p_stopped``), as a float.

    A scalar this run left empty (``null`` in summary.json, e.g. the mean
    first detection of a run that detected nothing) is NaN. Raises
    :class:`MetricError` (a ``KeyError``) when the path holds no number.
    """
    found, value = _lookup(summary, metric)
    if not found:
        raise MetricError(f"no scalar {metric!r} in the summary")
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MetricError(f"{metric!r} is not a scalar of the summary")
    return float(value)


def metric_interval(summary, metric):
    """The 95% interval ``(low, high)`` of a metric: the summary's ``<metric>_ci95``, else None."""
    found, value = _lookup(summary, metric + "_ci95")
    if (not found or not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        return None
    return float(value[0]), float(value[1])


def metric_names(summary):
    """Every scalar's dotted path in a summary, in the summary's order (numbers and empty scalars;
    not flags, texts or lists)."""
    out = []

    def walk(node, prefix):
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(value, path + ".")
            elif value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
                out.append(path)
    walk(summary, "")
    return out


def closest_metrics(metric, names, n=3):
    """Up to ``n`` names closest to a mistyped ``metric``: those ending in it first
    (``p_stopped`` -> ``response.p_stopped``), then :func:`difflib.get_close_matches`."""
    names = list(names)
    tail = [x for x in names if x.endswith("." + metric)]
    leaf = [x for x in names if difflib.get_close_matches(metric, [x.rsplit(".", 1)[-1]], n=1, cutoff=0.8)]
    near = difflib.get_close_matches(metric, names, n=n, cutoff=0.6)
    return list(dict.fromkeys(tail + near + leaf))[:n]


def check_metric(metric, names, where):
    """Raise :class:`MetricError` (one line: where, the name, the closest spellings) unless ``metric`` is in ``names``."""
    if metric in names:
        return
    near = closest_metrics(metric, names)
    hint = f" (did you mean {' or '.join(near)}?)" if near else f" (e.g. {', '.join(list(names)[:6])})"
    raise MetricError(f"{where}: no scalar {metric!r} in its summary.json{hint}")


def metric_label(metric):
    """Words for a chart's axis (``P(stopped) per flight``); the path itself for other metrics."""
    return _LABELS.get(metric, (metric, metric))[1]


def metric_short_label(metric):
    """A table column's heading (``P(stopped)``); the path itself for other metrics."""
    return _LABELS.get(metric, (metric, metric))[0]


def is_probability(metric):
    """Whether a metric is a share of flights in [0, 1]: ``p_...`` (not a percentile ``p05``) or an outcome's share.

    >>> [is_probability(m) for m in ("p_detect", "radars.R.p_up", "response.outcomes.refused", "detected_per_campaign.p05")]
    [True, True, True, False]
    """
    parts = metric.split(".")
    return parts[-1].startswith("p_") or (len(parts) >= 2 and parts[-2] == "outcomes")


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
