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

# the words for a metric and its test of difference sit below the products, which draw with them:
# re-exported here, where the analysis commands choose a metric
from sim.labels import is_probability, metric_label, metric_short_label
from sim.results import differences_z

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
