"""Analysis: runs of the core on validated scenarios (sweeps, altitude curves, comparisons).

Everything here takes :class:`~sim.scenario.Scenario` objects and returns
plain data; products draw that data, front doors write it.
"""
from sim.analysis.sweeps import (DEFAULT_SWEEP_AGL_M, DEFAULT_SWEEP_ALTITUDES_M, DEFAULT_SWEEP_CAMPAIGNS,
                                 altitude_levels, altitude_mode, altitude_sweep, compare, sweep)

__all__ = ["sweep", "altitude_sweep", "altitude_levels", "altitude_mode", "compare", "DEFAULT_SWEEP_ALTITUDES_M",
           "DEFAULT_SWEEP_AGL_M", "DEFAULT_SWEEP_CAMPAIGNS"]
