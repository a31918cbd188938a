"""Analysis: runs of the core on validated scenarios (sweeps, altitude curves, comparisons).

Everything here takes :class:`~sim.scenario.Scenario` objects and returns
plain data; products draw that data, front doors write it.
"""
from sim.analysis.metrics import (DEFAULT_METRIC, METRICS_HELP, MetricError, closest_metrics, is_probability,
                                  metric_interval, metric_label, metric_names, metric_short_label, metric_value)
from sim.analysis.sweeps import (DEFAULT_SENSITIVITY_CAMPAIGNS, DEFAULT_SWEEP_AGL_M, DEFAULT_SWEEP_ALTITUDES_M,
                                 DEFAULT_SWEEP_CAMPAIGNS, altitude_levels, altitude_mode, altitude_sweep, compare,
                                 probe_metric_names, sensitivity, sensitivity_metrics, sensitivity_runs, sweep)

__all__ = ["sweep", "altitude_sweep", "altitude_levels", "altitude_mode", "compare", "sensitivity",
           "sensitivity_metrics", "sensitivity_runs", "probe_metric_names", "metric_value", "metric_interval",
           "metric_names",
           "metric_label", "metric_short_label", "is_probability", "closest_metrics", "MetricError",
           "DEFAULT_METRIC", "METRICS_HELP", "DEFAULT_SENSITIVITY_CAMPAIGNS", "DEFAULT_SWEEP_ALTITUDES_M",
           "DEFAULT_SWEEP_AGL_M", "DEFAULT_SWEEP_CAMPAIGNS"]
