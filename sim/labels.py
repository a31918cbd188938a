"""Words for the scalars of ``summary.json``: a chart's axis, a table's heading, whether it is a share.

The products name the metrics they are given with these (a chart of a sweep,
a compare or a tornado; the brief's tables); the analysis commands that choose
a metric (:mod:`sim.analysis.metrics`) re-export them. They sit with the
results, below both: a product draws what it is given and never imports the
analysis.

>>> metric_short_label("response.p_stopped"), metric_label("response.p_stopped")
('P(stopped)', 'P(stopped) per flight')
>>> metric_label("radars.Kirkuk PSR.p_detect")
'radars.Kirkuk PSR.p_detect'
"""

__all__ = ["METRIC_LABELS", "metric_label", "metric_short_label", "is_probability"]

#: Words for the metrics charts name most, ``path: (short, long)``; any other metric is labelled by its path.
METRIC_LABELS = {
    "p_detect": ("P(detect)", "P(detect) per flight"),
    "p_detect_in_airspace": ("P(detect in airspace)", "P(detect) per flight, held in track in the airspace"),
    "detected_per_campaign.mean": ("detected/campaign", "flights detected per campaign, mean"),
    "response.p_stopped": ("P(stopped)", "P(stopped) per flight"),
    "response.stopped_per_campaign.mean": ("stopped/campaign", "flights stopped per campaign, mean"),
    "response.p_held_in_time": ("P(held in time)", "P(held in track in the airspace, decision in time) per flight"),
    "response.p_ordered": ("P(ordered)", "P(ordered to land) per flight"),
    "response.p_stopped_if_acted": ("P(stopped if acted)", "P(stopped) per flight had the state acted on every "
                                                           "flight held in time"),
}


def metric_label(metric):
    """Words for a chart's axis (``P(stopped) per flight``); the path itself for other metrics."""
    return METRIC_LABELS.get(metric, (metric, metric))[1]


def metric_short_label(metric):
    """A table column's heading (``P(stopped)``); the path itself for other metrics."""
    return METRIC_LABELS.get(metric, (metric, metric))[0]


def is_probability(metric):
    """Whether a metric is a share of flights in [0, 1]: ``p_...`` (not a percentile ``p05``) or an outcome's share.

    >>> [is_probability(m) for m in ("p_detect", "radars.R.p_up", "response.outcomes.refused", "detected_per_campaign.p05")]
    [True, True, True, False]
    """
    parts = metric.split(".")
    return parts[-1].startswith("p_") or (len(parts) >= 2 and parts[-2] == "outcomes")
