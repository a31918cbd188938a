"""Analysis: runs of the core on validated scenarios (sweeps, altitude curves, comparisons).

Everything here takes :class:`~sim.scenario.Scenario` objects and returns
plain data; products draw that data, front doors write it.
"""
from sim.analysis.sweeps import (DEFAULT_SENSITIVITY_CAMPAIGNS, DEFAULT_SWEEP_AGL_M, DEFAULT_SWEEP_ALTITUDES_M,
                                 DEFAULT_SWEEP_CAMPAIGNS, altitude_levels, altitude_mode, altitude_sweep, compare,
                                 metric_value, sensitivity, sweep)

__all__ = ["sweep", "altitude_sweep", "altitude_levels", "altitude_mode", "compare", "sensitivity", "metric_value",
           "DEFAULT_SENSITIVITY_CAMPAIGNS", "DEFAULT_SWEEP_ALTITUDES_M",
           "DEFAULT_SWEEP_AGL_M", "DEFAULT_SWEEP_CAMPAIGNS"]
